/*
 * Offsets into the runtime's G and M structs (runtime-core/src/sched/runtime2.rs) for assembly:
 * the same on both architectures (LP64, #[repr(C)]). arch/build.rs turns these into Rust
 * constants and runtime2.rs asserts them at compile time, so a change to the structs that
 * forgets this file does not build.
 */
#ifndef GRT_GOFFSETS_H
#define GRT_GOFFSETS_H

#define G_STACK_LO_OFF          0
#define G_STACK_HI_OFF          8
#define G_SCHED_SP_OFF          16
#define G_SYSCALLSP_OFF         24
#define G_SYSCALLPC_OFF         32
#define G_SYSCALLBP_OFF         40
#define G_STKBAR_OFF            48
#define G_STKBAR_LEN_OFF        56
#define G_STKBAR_POS_OFF        72
#define G_ATOMICSTATUS_OFF      80
#define G_STACK_LOCK_OFF        84
/* Callee-saved registers (and grt_cgocall's arg) at grt_entersyscall / grt_cgocall: GC roots. */
#define G_SYSCALLREGS_OFF       88
#define NSYSCALLREGS            12
/* Jumps the trampoline found (a longjmp skipped barriers), counted by the goroutine. */
#define G_STKBAR_JUMPS_OFF      184

#define STKBAR_SIZE             32
#define STKBAR_SAVED_LR_PTR_OFF 0
#define STKBAR_SAVED_LR_VAL_OFF 8
#define STKBAR_SAVED_FP_OFF     16

#define M_G0_OFF                0
#define M_CURG_OFF              8

#endif
