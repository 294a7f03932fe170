#include "core/model_config.h"
