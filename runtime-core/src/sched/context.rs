//! Execution contexts on grt stacks: making them and what happens when their entry function
//! returns. The switch itself is `grt_context_switch` in asm/<arch>/context.S.

use core::ffi::c_void;

use grt_arch::{self as arch, Context, EntryFn};

use crate::stack::Stack;

/// Why a context could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MakeError {
    NotAStack,
}

/// Makes `ctx` start `f(arg)` on `stack` at its first switch; if `f` returns, the context
/// switches to `link` and never runs again (`link` NULL: a fatal error).
///
/// # Safety
/// Nothing else may run on or be parked on `stack` while this context lives.
pub unsafe fn make(
    stack: &Stack,
    f: EntryFn,
    arg: *mut c_void,
    link: *const Context,
) -> Result<Context, MakeError> {
    if !stack.is_live() {
        return Err(MakeError::NotAStack);
    }
    // SAFETY: the stack is live and the caller gives it to this context alone; hi is page
    // aligned, so 16-byte aligned.
    Ok(unsafe { arch::init_context(stack.hi, f, arg, link) })
}

/// Called by `grt_context_entry` when a context's entry function returns.
#[no_mangle]
#[link_section = "grt_text"]
unsafe extern "C" fn grt_context_exit(link: *const Context) -> ! {
    if link.is_null() {
        crate::throw!("context entry function returned and the context has no link to return to");
    }
    let mut dead = Context::default();
    // SAFETY: link was given to grt_context_make as a context to resume; this context is done
    // and is never resumed (its saved sp goes to a local nobody reads).
    unsafe { arch::grt_context_switch(&mut dead, link) };
    crate::throw!("a finished context was resumed")
}
