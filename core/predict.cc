#include "core/predict.h"
