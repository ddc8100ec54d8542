/* bdwgc's API over grt: see gc/gc.h (bdwgc programs include either name). */
#include "gc/gc.h"
