//! Fatal runtime errors: say what went wrong, print the stack, abort (SIGABRT).

use core::ffi::c_void;
use core::fmt;

use grt_arch as arch;

use crate::stackreg::Guard;
use crate::{maps, printerr, signals, traceback};

fn signal_name(sig: i32) -> &'static str {
    match sig {
        signals::SIGSEGV => "SIGSEGV: segmentation violation",
        signals::SIGBUS => "SIGBUS: bus error",
        _ => "signal",
    }
}

/// A fault in the guard region below a stack: the code running on it overflowed it.
///
/// # Safety
/// `uc` must be the ucontext of the handler that caught the fault.
pub unsafe fn stack_overflow(sig: i32, addr: usize, g: Guard, uc: *mut c_void) -> ! {
    // SAFETY: uc is the kernel's ucontext for this signal.
    let (pc, sp, fp, lr) = unsafe {
        (
            arch::uc_pc(uc),
            arch::uc_sp(uc),
            arch::uc_fp(uc),
            arch::uc_lr(uc),
        )
    };
    let (lo, hi) = g.stack_bounds();
    printerr!(
        "fatal error: goroutine stack overflow\n\n[{} addr={:#x} pc={:#x} sp={:#x}]\n\
         stack=[{:#x}, {:#x}) size={} guard=[{:#x}, {:#x})\n\nstack:\n",
        signal_name(sig),
        addr,
        pc,
        sp,
        lo,
        hi,
        hi - lo,
        g.lo,
        lo
    );
    traceback::print_from(pc, sp, fp, lr, lo, hi, traceback::TRACE_FROM_SIGNAL);
    signals::abort()
}

/// Ends the program with `fatal error: <msg>` and the calling thread's stack.
#[inline(never)]
pub fn throw(args: fmt::Arguments<'_>) -> ! {
    printerr!("fatal error: {}\n\nstack:\n", args);
    let fp = arch::frame_pointer();
    // The walk stays inside the mapping that holds the current stack.
    match maps::find(fp) {
        Some(m) if m.readable => traceback::print(0, fp, m.start, m.end),
        _ => printerr!("  (stack bounds unknown)\n"),
    }
    signals::abort()
}

/// `throw!("...", args)`: fatal error with a formatted message.
#[macro_export]
macro_rules! throw {
    ($($arg:tt)*) => { $crate::fatal::throw(format_args!($($arg)*)) };
}
