#include "core/batch_schedule.h"
