#include "core/evaluate.h"
