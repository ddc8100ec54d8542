//! The descriptor half of the C API (`include/grt.h`: `grt_fd_wait`, `grt_read`, `grt_write`,
//! `grt_accept`, `grt_connect`, `grt_fd_close`, `grt_errno`): argument checks, and the system
//! call retried around netpoll.rs's waits. Each call tries the non-blocking system call
//! first and parks in the poller only on EAGAIN (Go's `internal/poll`). Descriptors epoll
//! refuses (regular files) are called blocking, between `grt_entersyscall` and
//! `grt_exitsyscall`.

use core::ffi::c_void;

use crate::errors::*;
use crate::netpoll::{self, Desc, POLLIN, POLLOUT};
use crate::runtime2::G;
use crate::sys::{Errno, EAGAIN, EINTR};
use crate::sysnet::{self, EALREADY, EINPROGRESS, ENOTSOCK};
use crate::{dirty, proc};

extern "C" {
    fn grt_entersyscall() -> i32;
    fn grt_exitsyscall() -> i32;
}

/// ECONNABORTED: a connection was reset while queued; accept the next one (as Go does).
const ECONNABORTED: Errno = Errno(103);
const EISCONN: Errno = Errno(106);

macro_rules! on_goroutine {
    ($f:expr) => {
        match proc::current_user_g($f) {
            Ok(g) => g,
            Err(e) => return e as _,
        }
    };
}

fn check_deadline(func: &str, deadline: i64) -> Result<u64, i32> {
    if deadline < 0 {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!(
                "deadline_ns is negative ({}): an absolute grt_nanotime() time, or 0 for none",
                deadline
            ),
        ));
    }
    Ok(deadline as u64)
}

/// What every call does first: checks the deadline (one that passed before the call gives
/// `GRT_ETIMEDOUT` at once, even if the descriptor is ready, as Go's deadlines) and takes
/// the descriptor (registering it on first use). Errors are reported.
fn begin(func: &str, fd: i32, deadline_ns: i64) -> Result<(u64, Desc), i32> {
    let deadline = check_deadline(func, deadline_ns)?;
    if deadline != 0 && crate::sys::nanotime() >= deadline {
        return Err(GRT_ETIMEDOUT);
    }
    Ok((deadline, netpoll::acquire(fd, func)?))
}

fn check_buf(func: &str, buf: *const c_void, len: usize) -> Result<(), i32> {
    if len > isize::MAX as usize {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("len {} is too large (a negative length?)", len as isize),
        ));
    }
    if buf.is_null() && len != 0 {
        return Err(report(GRT_EINVAL, func, format_args!("buf is NULL")));
    }
    Ok(())
}

/// A system error: recorded for `grt_errno`, `GRT_ESYS` returned (no message: a peer that
/// resets its connection is not bad input).
fn syserr(e: Errno) -> i32 {
    netpoll::set_errno(e);
    GRT_ESYS
}

/// Runs `f` as a blocking system call (a descriptor epoll refuses).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: on a goroutine (checked by every caller); the pair brackets only `f`.
    unsafe { grt_entersyscall() };
    let r = f();
    // SAFETY: as above.
    unsafe { grt_exitsyscall() };
    r
}

/// `int grt_fd_wait(int fd, int events, int64_t deadline_ns)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_fd_wait(fd: i32, events: i32, deadline_ns: i64) -> i32 {
    const F: &str = "grt_fd_wait";
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!(F);
    if events & !(POLLIN | POLLOUT) != 0 || events == 0 {
        return report(
            GRT_EINVAL,
            F,
            format_args!(
                "events {:#x} is not GRT_POLLIN, GRT_POLLOUT or both",
                events
            ),
        );
    }
    let (deadline, d) = match begin(F, fd, deadline_ns) {
        Ok(x) => x,
        Err(e) => return e,
    };
    if d.blocking {
        return GRT_OK; // a regular file is always ready
    }
    // Ready already? Edge-triggered, the poller would only say so at the next change.
    let mark = d.mark();
    let mut pev = 0i16;
    if events & POLLIN != 0 {
        pev |= 0x1;
    }
    if events & POLLOUT != 0 {
        pev |= 0x4;
    }
    if sysnet::ready_now(fd, pev) {
        return GRT_OK;
    }
    netpoll::wait(g, &d, events, deadline, mark)
}

/// `long grt_read(int fd, void *buf, size_t len, int64_t deadline_ns)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_read(fd: i32, buf: *mut c_void, len: usize, deadline_ns: i64) -> isize {
    const F: &str = "grt_read";
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!(F);
    if let Err(e) = check_buf(F, buf, len) {
        return e as isize;
    }
    let (deadline, d) = match begin(F, fd, deadline_ns) {
        Ok(x) => x,
        Err(e) => return e as isize,
    };
    // SAFETY (both calls): the caller passes a writable buffer of len bytes.
    // In plain-store mode the buffer may be write-protected: made writable first.
    let read = || {
        dirty::syscall_into(buf as usize, len, || unsafe {
            sysnet::read_raw(fd, buf as *mut u8, len)
        })
    };
    if d.blocking {
        return match blocking(read) {
            Ok(n) => n as isize,
            Err(e) => syserr(e) as isize,
        };
    }
    // Bounded by the caller's deadline or by data: each round parks until an edge.
    loop {
        let mark = d.mark();
        match read() {
            Ok(n) => return n as isize,
            Err(EINTR) => {}
            Err(EAGAIN) => match netpoll::wait(g, &d, POLLIN, deadline, mark) {
                GRT_OK => {}
                e => return e as isize,
            },
            Err(e) => return syserr(e) as isize,
        }
    }
}

/// One write (send with MSG_NOSIGNAL on a socket, so a gone peer is EPIPE, not SIGPIPE).
fn write_once(d: &Desc, p: *const u8, n: usize) -> Result<usize, Errno> {
    if !netpoll::not_socket(d) {
        // SAFETY: the caller's buffer, readable for n bytes.
        match unsafe { sysnet::send_nosignal(d.fd, p, n) } {
            Err(ENOTSOCK) => netpoll::set_not_socket(d),
            r => return r,
        }
    }
    // SAFETY: as above.
    unsafe { sysnet::write_raw(d.fd, p, n) }
}

/// `long grt_write(int fd, const void *buf, size_t len, int64_t deadline_ns)`: all of it.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_write(fd: i32, buf: *const c_void, len: usize, deadline_ns: i64) -> isize {
    const F: &str = "grt_write";
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!(F);
    if let Err(e) = check_buf(F, buf, len) {
        return e as isize;
    }
    let (deadline, d) = match begin(F, fd, deadline_ns) {
        Ok(x) => x,
        Err(e) => return e as isize,
    };
    if len == 0 {
        return 0;
    }
    let mut done = 0usize;
    // Bounded by the caller's deadline or by progress: each round writes or parks until an
    // edge.
    while done < len {
        // SAFETY: within the caller's buffer.
        let p = unsafe { (buf as *const u8).add(done) };
        let mark = d.mark();
        let r = if d.blocking {
            blocking(|| write_once(&d, p, len - done))
        } else {
            write_once(&d, p, len - done)
        };
        let stop = match r {
            Ok(n) => {
                done += n;
                continue;
            }
            Err(EINTR) => continue,
            Err(EAGAIN) if !d.blocking => match netpoll::wait(g, &d, POLLOUT, deadline, mark) {
                GRT_OK => continue,
                e => e,
            },
            Err(e) => syserr(e),
        };
        // Some bytes went out: report them, as write(2) does; the next call meets the error.
        return if done > 0 {
            done as isize
        } else {
            stop as isize
        };
    }
    done as isize
}

/// `int grt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int64_t deadline_ns)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_accept(
    fd: i32,
    addr: *mut c_void,
    addrlen: *mut u32,
    deadline_ns: i64,
) -> i32 {
    const F: &str = "grt_accept";
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!(F);
    if !addr.is_null() && addrlen.is_null() {
        return report(
            GRT_EINVAL,
            F,
            format_args!("addr given but addrlen is NULL"),
        );
    }
    let (deadline, d) = match begin(F, fd, deadline_ns) {
        Ok(x) => x,
        Err(e) => return e,
    };
    // Bounded by the deadline or by a connection arriving.
    loop {
        let mark = d.mark();
        // Plain-store mode: the kernel's writes into addr/addrlen must not fault (a connection
        // accepted and then EFAULT would be lost): their pages made writable first.
        if !addr.is_null() {
            // SAFETY: addrlen is the caller's valid pointer (checked non-NULL above).
            dirty::touch(addr as usize, unsafe { *addrlen } as usize);
            dirty::touch(addrlen as usize, 4);
        }
        // SAFETY: addr/addrlen are null or the caller's sockaddr buffer and its length.
        let r = unsafe { sysnet::accept(fd, addr as usize, addrlen as usize) };
        match r {
            Ok(nfd) => return nfd,
            Err(EINTR) | Err(ECONNABORTED) => {}
            Err(EAGAIN) if !d.blocking => match netpoll::wait(g, &d, POLLIN, deadline, mark) {
                GRT_OK => {}
                e => return e,
            },
            Err(e) => return syserr(e),
        }
    }
}

/// `int grt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen, int64_t deadline_ns)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_connect(fd: i32, addr: *const c_void, addrlen: u32, deadline_ns: i64) -> i32 {
    const F: &str = "grt_connect";
    let _np = crate::preempt::NoPreempt::enter();
    let g = on_goroutine!(F);
    if addr.is_null() {
        return report(GRT_EINVAL, F, format_args!("addr is NULL"));
    }
    let (deadline, d) = match begin(F, fd, deadline_ns) {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: the caller's sockaddr of addrlen bytes.
    let connect = || unsafe { sysnet::connect(fd, addr as usize, addrlen as usize) };
    let mut mark = d.mark();
    match connect() {
        Ok(()) => return GRT_OK,
        Err(EINPROGRESS) | Err(EINTR) | Err(EALREADY) if !d.blocking => {}
        Err(e) => return syserr(e),
    }
    // In progress: writable once it connected or failed. A wakeup can be early (an edge from
    // before the call): ask connect again, which says EALREADY until it is done.
    loop {
        match netpoll::wait(g, &d, POLLOUT, deadline, mark) {
            GRT_OK => {}
            e => return e,
        }
        mark = d.mark();
        match sysnet::socket_error(fd) {
            Ok(0) => {}
            Ok(e) => return syserr(Errno(e)),
            Err(e) => return syserr(e),
        }
        match connect() {
            Ok(()) | Err(EISCONN) => return GRT_OK,
            Err(EALREADY) | Err(EINPROGRESS) | Err(EINTR) => {}
            Err(e) => return syserr(e),
        }
    }
}

/// `int grt_fd_close(int fd)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_fd_close(fd: i32) -> i32 {
    const F: &str = "grt_fd_close";
    let _np = crate::preempt::NoPreempt::enter();
    on_goroutine!(F);
    netpoll::close(fd, F)
}

/// `int grt_errno(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_errno() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    let gp = proc::getg();
    // SAFETY: null or a live G.
    match unsafe { (gp as *const G).as_ref() } {
        Some(g) => g.syserr,
        None => 0,
    }
}
