/* gc_regthread_regs_signal.c shares gc_regthread_regs.c's helper. */
#include "gc_regthread_regs_aarch64.S"
