//! Typed system calls for descriptors and sockets: epoll, eventfd, fcntl, and the socket calls
//! the network poller retries (`netpoll.rs`, `capi_net.rs`). Raw syscalls, as `sys.rs`: the
//! same code in the libc and freestanding builds. aarch64 has no `epoll_wait`, `epoll_create`
//! or `accept`: only their newer forms are used, on both architectures.

use grt_arch::{self as arch, nr, EpollEvent};

use crate::sys::{check, Errno, Result, Timespec};

pub const EPERM: Errno = Errno(1);
pub const EBADF: Errno = Errno(9);
pub const EEXIST: Errno = Errno(17);
pub const ENOSYS: Errno = Errno(38);
pub const ENOTSOCK: Errno = Errno(88);
pub const EINPROGRESS: Errno = Errno(115);
pub const EALREADY: Errno = Errno(114);

pub const EPOLLIN: u32 = 0x1;
pub const EPOLLOUT: u32 = 0x4;
pub const EPOLLERR: u32 = 0x8;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLET: u32 = 1 << 31;
pub const EPOLL_CTL_ADD: usize = 1;
pub const EPOLL_CTL_DEL: usize = 2;
pub const EPOLL_CTL_MOD: usize = 3;

/// O_NONBLOCK and O_CLOEXEC: the same on x86_64 and aarch64 (asm-generic values).
pub const O_NONBLOCK: usize = 0o4000;
pub const O_CLOEXEC: usize = 0o2000000;
const F_GETFL: usize = 3;
const F_SETFL: usize = 4;
const SOL_SOCKET: usize = 1;
const SO_ERROR: usize = 4;
/// send(2) flag: EPIPE instead of SIGPIPE on a socket whose peer has gone.
const MSG_NOSIGNAL: usize = 0x4000;

pub fn epoll_create() -> Result<i32> {
    // SAFETY: no memory arguments.
    check(unsafe { arch::syscall1(nr::__NR_epoll_create1, O_CLOEXEC) }).map(|fd| fd as i32)
}

pub fn epoll_ctl(epfd: i32, op: usize, fd: i32, ev: &EpollEvent) -> Result<()> {
    // SAFETY: ev is a valid epoll_event for the call (read only).
    check(unsafe {
        arch::syscall4(
            nr::__NR_epoll_ctl,
            epfd as usize,
            op,
            fd as usize,
            ev as *const EpollEvent as usize,
        )
    })
    .map(drop)
}

/// epoll_pwait with a millisecond timeout (-1: none), no signal mask change.
pub fn epoll_pwait(epfd: i32, evs: &mut [EpollEvent], timeout_ms: i32) -> Result<usize> {
    // SAFETY: evs is writable for its length; a null sigmask leaves the mask alone.
    check(unsafe {
        arch::syscall6(
            nr::__NR_epoll_pwait,
            epfd as usize,
            evs.as_mut_ptr() as usize,
            evs.len(),
            timeout_ms as isize as usize,
            0,
            8,
        )
    })
}

/// epoll_pwait2 (Linux 5.11): a nanosecond timeout (`None`: none). ENOSYS on older kernels and
/// emulators that do not know it.
pub fn epoll_pwait2(epfd: i32, evs: &mut [EpollEvent], timeout_ns: Option<u64>) -> Result<usize> {
    let ts = timeout_ns.map(Timespec::from_ns);
    let tsp = ts.as_ref().map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: evs is writable for its length; tsp is 0 or a valid timespec.
    check(unsafe {
        arch::syscall6(
            nr::__NR_epoll_pwait2,
            epfd as usize,
            evs.as_mut_ptr() as usize,
            evs.len(),
            tsp,
            0,
            8,
        )
    })
}

/// A non-blocking, close-on-exec eventfd.
pub fn eventfd() -> Result<i32> {
    // SAFETY: no memory arguments.
    check(unsafe { arch::syscall2(nr::__NR_eventfd2, 0, O_CLOEXEC | O_NONBLOCK) })
        .map(|fd| fd as i32)
}

pub fn get_flags(fd: i32) -> Result<usize> {
    // SAFETY: no memory arguments.
    check(unsafe { arch::syscall2(nr::__NR_fcntl, fd as usize, F_GETFL) })
}

pub fn set_flags(fd: i32, flags: usize) -> Result<()> {
    // SAFETY: no memory arguments.
    check(unsafe { arch::syscall3(nr::__NR_fcntl, fd as usize, F_SETFL, flags) }).map(drop)
}

/// close(2), with its error.
pub fn close(fd: i32) -> Result<()> {
    // SAFETY: the caller owns the descriptor.
    check(unsafe { arch::syscall1(nr::__NR_close, fd as usize) }).map(drop)
}

/// read(2) into raw memory the caller vouches for.
///
/// # Safety
/// `buf` is writable for `len` bytes.
pub unsafe fn read_raw(fd: i32, buf: *mut u8, len: usize) -> Result<usize> {
    // SAFETY: as the caller promises.
    check(unsafe { arch::syscall3(nr::__NR_read, fd as usize, buf as usize, len) })
}

/// write(2) from raw memory the caller vouches for.
///
/// # Safety
/// `buf` is readable for `len` bytes.
pub unsafe fn write_raw(fd: i32, buf: *const u8, len: usize) -> Result<usize> {
    // SAFETY: as the caller promises.
    check(unsafe { arch::syscall3(nr::__NR_write, fd as usize, buf as usize, len) })
}

/// send(2) with MSG_NOSIGNAL (sockets only: ENOTSOCK otherwise).
///
/// # Safety
/// `buf` is readable for `len` bytes.
pub unsafe fn send_nosignal(fd: i32, buf: *const u8, len: usize) -> Result<usize> {
    // SAFETY: as the caller promises; no destination address.
    check(unsafe {
        arch::syscall6(
            nr::__NR_sendto,
            fd as usize,
            buf as usize,
            len,
            MSG_NOSIGNAL,
            0,
            0,
        )
    })
}

/// accept4(2) with SOCK_CLOEXEC.
///
/// # Safety
/// `addr`/`addrlen` are null or what accept4 expects.
pub unsafe fn accept(fd: i32, addr: usize, addrlen: usize) -> Result<i32> {
    // SAFETY: as the caller promises.
    check(unsafe { arch::syscall4(nr::__NR_accept4, fd as usize, addr, addrlen, O_CLOEXEC) })
        .map(|fd| fd as i32)
}

/// connect(2).
///
/// # Safety
/// `addr` is readable for `len` bytes.
pub unsafe fn connect(fd: i32, addr: usize, len: usize) -> Result<()> {
    // SAFETY: as the caller promises.
    check(unsafe { arch::syscall3(nr::__NR_connect, fd as usize, addr, len) }).map(drop)
}

/// getsockopt(SOL_SOCKET, SO_ERROR): the pending error of a socket (0: none).
pub fn socket_error(fd: i32) -> Result<i32> {
    let mut v: i32 = 0;
    let mut len: u32 = 4;
    // SAFETY: v and len are live locals of the sizes the kernel expects.
    check(unsafe {
        arch::syscall5(
            nr::__NR_getsockopt,
            fd as usize,
            SOL_SOCKET,
            SO_ERROR,
            &mut v as *mut i32 as usize,
            &mut len as *mut u32 as usize,
        )
    })
    .map(|_| v)
}

/// Whether `fd` is ready now for `events` (POLLIN 0x1 / POLLOUT 0x4 bits of poll(2)), or in
/// error or hung up: ppoll with a zero timeout (aarch64 has no poll(2)).
pub fn ready_now(fd: i32, events: i16) -> bool {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    let mut p = PollFd {
        fd,
        events,
        revents: 0,
    };
    let ts = Timespec::from_ns(0);
    // SAFETY: one pollfd and a zero timeout, both live locals; no signal mask change.
    let r = check(unsafe {
        arch::syscall5(
            nr::__NR_ppoll,
            &mut p as *mut PollFd as usize,
            1,
            &ts as *const Timespec as usize,
            0,
            8,
        )
    });
    matches!(r, Ok(1)) && p.revents != 0
}
