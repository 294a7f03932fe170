#include "core/training_pass.h"
