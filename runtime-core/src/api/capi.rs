//! The C API (`include/grt.h`): argument checking and error reporting around the modules.
//! Every function that can fail returns `GRT_OK` (0) or a negative `GRT_E*` code and prints
//! `grt: <function>: <what was wrong>` on stderr.

use core::ffi::{c_char, c_void};

use grt_arch::{Context, EntryFn};

use crate::errors::{report, GRT_EINVAL, GRT_ENOMEM, GRT_ESYS, GRT_OK};
use crate::stack::{self, Stack, StackError};
use crate::{context, signals, sys, thread};

/// Process-wide set-up, once: grt's SIGSEGV/SIGBUS handlers (stack overflow detection).
fn init() -> Result<(), sys::Errno> {
    static INIT: spin::Once<Result<(), sys::Errno>> = spin::Once::new();
    *INIT.call_once(signals::install_fault_handlers)
}

/// `int grt_stack_alloc(grt_stack *out, size_t size)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_stack_alloc(out: *mut Stack, size: usize) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_stack_alloc";
    if out.is_null() {
        return report(GRT_EINVAL, F, format_args!("out is NULL"));
    }
    if let Err(e) = init() {
        return report(
            GRT_ESYS,
            F,
            format_args!("cannot install the fault handlers: errno {}", e.0),
        );
    }
    match stack::alloc(size) {
        Ok(s) => {
            // SAFETY: out is non-NULL and points to a grt_stack per the API.
            unsafe { out.write(s) };
            GRT_OK
        }
        Err(StackError::TooSmall(n)) => report(
            GRT_EINVAL,
            F,
            format_args!(
                "size {} is below the minimum of {} bytes (0 selects the default, {})",
                n,
                stack::MIN_STACK_SIZE,
                stack::DEFAULT_STACK_SIZE
            ),
        ),
        Err(StackError::TooLarge(n)) => report(
            GRT_EINVAL,
            F,
            format_args!(
                "size {} is above the maximum of {} bytes (a negative size passed as size_t?)",
                n,
                stack::MAX_STACK_SIZE
            ),
        ),
        Err(StackError::NoMemory(e)) => report(
            GRT_ENOMEM,
            F,
            format_args!("cannot map {} bytes: errno {}", size, e.0),
        ),
        Err(StackError::RegistryFull) => report(
            GRT_ENOMEM,
            F,
            format_args!("more than {} live stacks", crate::stackreg::CAPACITY),
        ),
        Err(StackError::NotAStack) => report(GRT_EINVAL, F, format_args!("internal error")),
    }
}

/// `int grt_stack_free(grt_stack *s)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_stack_free(s: *mut Stack) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_stack_free";
    if s.is_null() {
        return report(GRT_EINVAL, F, format_args!("stack is NULL"));
    }
    // SAFETY: non-NULL per the check; the API says it points to a grt_stack.
    let st = unsafe { *s };
    // SAFETY: the caller promises no context still uses the stack; the registry check below
    // rejects anything grt_stack_alloc did not return.
    match unsafe { stack::free(&st) } {
        Ok(()) => {
            // SAFETY: as above.
            unsafe { s.write(Stack::default()) };
            GRT_OK
        }
        Err(_) => report(
            GRT_EINVAL,
            F,
            format_args!("not a stack from grt_stack_alloc, or already freed"),
        ),
    }
}

/// `int grt_context_make(grt_context *ctx, const grt_stack *stack, void (*fn)(void *), void *arg, grt_context *link)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_context_make(
    ctx: *mut Context,
    stack: *const Stack,
    f: Option<EntryFn>,
    arg: *mut c_void,
    link: *const Context,
) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_context_make";
    if ctx.is_null() {
        return report(GRT_EINVAL, F, format_args!("ctx is NULL"));
    }
    if stack.is_null() {
        return report(GRT_EINVAL, F, format_args!("stack is NULL"));
    }
    let Some(f) = f else {
        return report(GRT_EINVAL, F, format_args!("fn is NULL"));
    };
    // The thread that makes contexts runs them (the usual case): give it an alternate signal
    // stack so a stack overflow can still be reported.
    if let Err(e) = init().and_then(|_| signals::ensure_altstack().map(core::mem::forget)) {
        return report(
            GRT_ESYS,
            F,
            format_args!("cannot set up signal handling: errno {}", e.0),
        );
    }
    // SAFETY: stack is non-NULL; make() checks it is a live grt stack.
    match unsafe { context::make(&*stack, f, arg, link) } {
        Ok(c) => {
            // SAFETY: ctx is non-NULL and points to a grt_context per the API.
            unsafe { ctx.write(c) };
            GRT_OK
        }
        Err(context::MakeError::NotAStack) => report(
            GRT_EINVAL,
            F,
            format_args!("stack was not made by grt_stack_alloc, or was freed"),
        ),
    }
}

/// Opaque thread handle for C.
pub type ThreadHandle = *mut thread::Thread;

/// `int grt_thread_start(grt_thread **out, void (*fn)(void *), void *arg)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_thread_start(
    out: *mut ThreadHandle,
    f: Option<EntryFn>,
    arg: *mut c_void,
) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_thread_start";
    if out.is_null() {
        return report(GRT_EINVAL, F, format_args!("out is NULL"));
    }
    let Some(f) = f else {
        return report(GRT_EINVAL, F, format_args!("fn is NULL"));
    };
    if let Err(e) = init() {
        return report(
            GRT_ESYS,
            F,
            format_args!("cannot install the fault handlers: errno {}", e.0),
        );
    }
    match thread::start(f, arg) {
        Ok(t) => {
            // SAFETY: out is non-NULL.
            unsafe { out.write(t) };
            GRT_OK
        }
        Err(e) => report(
            if e == sys::ENOMEM {
                GRT_ENOMEM
            } else {
                GRT_ESYS
            },
            F,
            format_args!("cannot start a thread: errno {}", e.0),
        ),
    }
}

/// `int grt_thread_join(grt_thread *t)`
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_thread_join(t: ThreadHandle) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    const F: &str = "grt_thread_join";
    if t.is_null() {
        return report(GRT_EINVAL, F, format_args!("thread is NULL"));
    }
    // SAFETY: the API requires a handle from grt_thread_start, joined once.
    match unsafe { thread::join(t) } {
        Ok(()) => GRT_OK,
        Err(e) => report(GRT_ESYS, F, format_args!("join failed: errno {}", e.0)),
    }
}

/// `int grt_register_thread(const void *stack_hi)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_register_thread(stack_hi: *const c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    crate::regthreads::register(stack_hi as usize)
}

/// `int grt_unregister_thread(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_unregister_thread() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    crate::regthreads::unregister()
}

/// `int grt_thread_registered(void)`: 2 on a goroutine, 1 on a registered thread, else 0.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_thread_registered() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    // SAFETY: the TLS g slot holds null or a live G.
    if unsafe { crate::proc::getg().as_ref() }
        .is_some_and(|g| g.kind == crate::runtime2::GKind::User)
    {
        2
    } else {
        crate::regthreads::is_registered() as i32
    }
}

/// `long grt_sys_write(int fd, const void *buf, size_t len)`: raw write(2), for programs
/// without libc (it blocks its thread; `grt_write` parks the goroutine instead).
#[no_mangle]
#[link_section = "grt_text"]
pub unsafe extern "C" fn grt_sys_write(fd: i32, buf: *const c_void, len: usize) -> isize {
    let _np = crate::preempt::NoPreempt::enter();
    if buf.is_null() && len != 0 {
        return report(GRT_EINVAL, "grt_sys_write", format_args!("buf is NULL")) as isize;
    }
    if len == 0 {
        return 0;
    }
    // SAFETY: the caller passes a readable buffer of len bytes.
    let s = unsafe { core::slice::from_raw_parts(buf as *const u8, len) };
    match sys::write(fd, s) {
        Ok(n) => n as isize,
        Err(e) => -(e.0 as isize),
    }
}

/// `void grt_exit(int code)`: ends the process (exit_group), without running atexit handlers
/// (a running CPU profile is written first).
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_exit(code: i32) -> ! {
    crate::cpuprof::stop_at_exit();
    sys::exit_group(code)
}

/// `uint64_t grt_nanotime(void)`: CLOCK_MONOTONIC in nanoseconds.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_nanotime() -> u64 {
    let _np = crate::preempt::NoPreempt::enter();
    // A system call made from grt's own code, in both builds (not glibc's vDSO): a goroutine
    // that loops on the clock is then interrupted in frames the collector and the profiler
    // can walk (gc_unwind_scan relies on it). The same clock as the runtime's deadlines.
    sys::clock_ns(sys::CLOCK_MONOTONIC)
}

/// `const char *grt_strerror(int code)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_strerror(code: i32) -> *const c_char {
    let _np = crate::preempt::NoPreempt::enter();
    crate::errors::c_str(crate::errors::describe(code))
}
