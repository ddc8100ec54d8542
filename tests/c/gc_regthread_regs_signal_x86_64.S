/* gc_regthread_regs_signal.c shares gc_regthread_regs.c's helper. */
#include "gc_regthread_regs_x86_64.S"
