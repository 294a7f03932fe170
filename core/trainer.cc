#include "core/trainer.h"
