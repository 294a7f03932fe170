#include "core/compute_threads.h"
