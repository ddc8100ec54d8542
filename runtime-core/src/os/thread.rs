//! OS threads for grt: real pthreads in the libc build (so code on them may call libc),
//! raw `clone` threads with grt's own stack and TLS in the freestanding build.
//! Either way the thread gets an alternate signal stack for grt's handlers.

use core::ffi::c_void;

use grt_arch::{MapFlags, ProtFlags};

use crate::{signals, sys};

/// A running thread, in a page of its own (no allocator needed).
#[repr(C)]
pub struct Thread {
    f: unsafe extern "C" fn(*mut c_void),
    arg: *mut c_void,
    /// libc build: the pthread_t.
    #[cfg(not(feature = "freestanding"))]
    pthread: usize,
    /// Freestanding: the kernel's tid, cleared (and futex-woken) by the kernel at exit.
    #[cfg(feature = "freestanding")]
    tid: core::sync::atomic::AtomicU32,
    #[cfg(feature = "freestanding")]
    stack: crate::stack::Stack,
    #[cfg(feature = "freestanding")]
    tls: crate::freestanding::TlsBlock,
}

const RECORD_SIZE: usize = 4096;

/// Runs on the new thread: an alternate signal stack, then the body.
unsafe extern "C" fn thread_main(t: *mut c_void) {
    let t = t as *mut Thread;
    let alt = match signals::ensure_altstack() {
        Ok(a) => a,
        Err(e) => crate::throw!(
            "cannot make an alternate signal stack for a new thread: errno {}",
            e.0
        ),
    };
    // SAFETY: the record stays mapped until join, which waits for this thread to end.
    unsafe { ((*t).f)((*t).arg) };
    if let Some(a) = alt {
        signals::drop_altstack(a);
    }
}

/// Starts a thread running `f(arg)`.
pub fn start(f: unsafe extern "C" fn(*mut c_void), arg: *mut c_void) -> sys::Result<*mut Thread> {
    let mem = sys::mmap_anon(
        RECORD_SIZE,
        ProtFlags::READ | ProtFlags::WRITE,
        MapFlags::empty(),
    )?;
    let t = mem as *mut Thread;
    // SAFETY: fresh, zeroed, page-sized mapping; fields written before the thread starts.
    unsafe {
        core::ptr::addr_of_mut!((*t).f).write(f);
        core::ptr::addr_of_mut!((*t).arg).write(arg);
    }
    // SAFETY: t is a valid record.
    match unsafe { spawn(t) } {
        Ok(()) => Ok(t),
        Err(e) => {
            // SAFETY: no thread uses the record.
            unsafe { sys::munmap(mem, RECORD_SIZE).ok() };
            Err(e)
        }
    }
}

/// Waits for the thread to end and releases it.
///
/// # Safety
/// `t` must come from [`start`] and not have been joined.
pub unsafe fn join(t: *mut Thread) -> sys::Result<()> {
    // SAFETY: per the contract.
    unsafe { wait(t)? };
    // SAFETY: the thread has ended; nobody uses the record.
    unsafe { sys::munmap(t as usize, RECORD_SIZE).ok() };
    Ok(())
}

#[cfg(not(feature = "freestanding"))]
mod imp {
    use super::*;

    extern "C" {
        fn pthread_create(
            t: *mut usize,
            attr: *const c_void,
            f: extern "C" fn(*mut c_void) -> *mut c_void,
            arg: *mut c_void,
        ) -> i32;
        fn pthread_join(t: usize, ret: *mut *mut c_void) -> i32;
    }

    extern "C" fn trampoline(t: *mut c_void) -> *mut c_void {
        // SAFETY: t is the record passed to pthread_create.
        unsafe { thread_main(t) };
        core::ptr::null_mut()
    }

    pub(super) unsafe fn spawn(t: *mut Thread) -> sys::Result<()> {
        // SAFETY: t is valid; pthread_create writes the pthread_t into it.
        let r = unsafe {
            pthread_create(
                core::ptr::addr_of_mut!((*t).pthread),
                core::ptr::null(),
                trampoline,
                t as *mut c_void,
            )
        };
        if r != 0 {
            return Err(sys::Errno(r));
        }
        Ok(())
    }

    pub(super) unsafe fn wait(t: *mut Thread) -> sys::Result<()> {
        // SAFETY: a started, unjoined pthread.
        let r = unsafe { pthread_join((*t).pthread, core::ptr::null_mut()) };
        if r != 0 {
            return Err(sys::Errno(r));
        }
        Ok(())
    }
}

#[cfg(feature = "freestanding")]
mod imp {
    use super::*;
    use crate::{freestanding, stack};
    use core::sync::atomic::Ordering;
    use grt_arch::{self as arch, CloneFlags};

    /// Stack of a freestanding thread, in bytes.
    const THREAD_STACK_SIZE: usize = 1 << 20;

    pub(super) unsafe fn spawn(t: *mut Thread) -> sys::Result<()> {
        let stk = stack::alloc(THREAD_STACK_SIZE).map_err(|_| sys::ENOMEM)?;
        let tls = match freestanding::TlsBlock::new() {
            Some(b) => b,
            None => {
                // SAFETY: unused.
                unsafe { stack::free(&stk).ok() };
                return Err(sys::ENOMEM);
            }
        };
        // SAFETY: t is valid; the child sees these fields (clone is a full barrier).
        unsafe {
            (*t).stack = stk;
            (*t).tls = tls;
        }
        let tid = unsafe { core::ptr::addr_of_mut!((*t).tid) } as *mut i32;
        // SAFETY: a fresh stack and TLS block owned by the child; tid stays mapped until join.
        let r = unsafe {
            arch::grt_clone(
                CloneFlags::NEW_THREAD.bits(),
                stk.hi as *mut u8,
                tid,
                tid,
                tls.tp as *mut u8,
                thread_main,
                t as *mut c_void,
            )
        };
        if r < 0 {
            // SAFETY: no child exists.
            unsafe {
                stack::free(&stk).ok();
                (*t).tls.free();
            }
            return Err(sys::Errno(-r as i32));
        }
        Ok(())
    }

    pub(super) unsafe fn wait(t: *mut Thread) -> sys::Result<()> {
        // SAFETY: the record outlives the thread.
        let tid = unsafe { &(*t).tid };
        loop {
            let v = tid.load(Ordering::Acquire);
            if v == 0 {
                break;
            }
            match sys::futex_wait(tid, v) {
                Ok(()) | Err(sys::EAGAIN) | Err(sys::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        // SAFETY: the kernel cleared tid: the thread no longer runs on its stack or TLS.
        unsafe {
            stack::free(&(*t).stack).ok();
            (*t).tls.free();
        }
        Ok(())
    }
}

use imp::{spawn, wait};
