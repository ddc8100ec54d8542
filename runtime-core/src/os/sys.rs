//! Typed system calls over `grt_arch::syscallN`. No libc: both builds of grt talk to the
//! kernel directly, so the same code runs inside signal handlers and without libc.

use core::sync::atomic::AtomicU32;

use grt_arch::{self as arch, nr, MapFlags, ProtFlags};

/// A kernel error number (positive, as in errno.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

pub const EINTR: Errno = Errno(4);
pub const EAGAIN: Errno = Errno(11);
pub const EFAULT: Errno = Errno(14);
pub const ENOMEM: Errno = Errno(12);
pub const EINVAL: Errno = Errno(22);
pub const ETIMEDOUT: Errno = Errno(110);

pub type Result<T> = core::result::Result<T, Errno>;

/// A raw system call's result: the value, or the errno it encodes (-4095..0).
#[inline(always)]
pub(crate) fn check(r: isize) -> Result<usize> {
    if (-4095..0).contains(&r) {
        Err(Errno(-r as i32))
    } else {
        Ok(r as usize)
    }
}

/// write(2): may write fewer bytes than asked.
pub fn write(fd: i32, buf: &[u8]) -> Result<usize> {
    // SAFETY: the buffer is a valid slice for its length.
    check(unsafe {
        arch::syscall3(
            nr::__NR_write,
            fd as usize,
            buf.as_ptr() as usize,
            buf.len(),
        )
    })
}

/// Writes all of `buf`, retrying on EINTR and short writes (at most 64 tries: bounded, so
/// it is safe in a signal handler).
pub fn write_all(fd: i32, mut buf: &[u8]) {
    for _ in 0..64 {
        if buf.is_empty() {
            return;
        }
        match write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(EINTR) => {}
            Err(_) => return,
        }
    }
}

/// read(2).
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: the buffer is a valid, writable slice for its length.
    check(unsafe {
        arch::syscall3(
            nr::__NR_read,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

const AT_FDCWD: isize = -100;
const O_WRONLY: usize = 0o1;
const O_CREAT: usize = 0o100;
const O_TRUNC: usize = 0o1000;
const O_CLOEXEC: usize = 0o2000000;

/// openat(AT_FDCWD, path, flags | O_CLOEXEC, mode). `path` must end with a NUL byte.
fn openat(path: &[u8], flags: usize, mode: usize) -> Result<i32> {
    if path.last() != Some(&0) {
        return Err(EINVAL);
    }
    // SAFETY: the path is NUL-terminated and lives across the call.
    check(unsafe {
        arch::syscall4(
            nr::__NR_openat,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            flags | O_CLOEXEC,
            mode,
        )
    })
    .map(|fd| fd as i32)
}

/// openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC). `path` must end with a NUL byte.
pub fn open_readonly(path: &[u8]) -> Result<i32> {
    openat(path, 0, 0)
}

/// userfaultfd(2) with `flags` (O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY).
pub fn userfaultfd(flags: u32) -> Result<i32> {
    // SAFETY: creates a descriptor; touches no memory.
    check(unsafe { arch::syscall1(nr::__NR_userfaultfd, flags as usize) }).map(|fd| fd as i32)
}

/// ioctl(2) with a pointer argument.
///
/// # Safety
/// `arg` must point to what request `req` reads and writes on `fd`, for the whole call.
pub unsafe fn ioctl(fd: i32, req: u32, arg: usize) -> Result<usize> {
    // SAFETY: the caller's contract.
    check(unsafe { arch::syscall3(nr::__NR_ioctl, fd as usize, req as usize, arg) })
}

/// close(2).
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor we opened.
    unsafe { arch::syscall1(nr::__NR_close, fd as usize) };
}

/// Anonymous private mapping of `len` bytes.
pub fn mmap_anon(len: usize, prot: ProtFlags, extra: MapFlags) -> Result<usize> {
    let flags = MapFlags::PRIVATE | MapFlags::ANONYMOUS | extra;
    // SAFETY: a new anonymous mapping at an address of the kernel's choice touches nothing else.
    check(unsafe {
        arch::syscall6(
            nr::__NR_mmap,
            0,
            len,
            prot.bits(),
            flags.bits(),
            usize::MAX,
            0,
        )
    })
}

/// munmap(2).
///
/// # Safety
/// Nothing may use the range afterwards.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<()> {
    // SAFETY: the caller owns the range.
    check(unsafe { arch::syscall2(nr::__NR_munmap, addr, len) }).map(drop)
}

/// madvise(addr, len, MADV_DONTNEED): the kernel takes the pages back; a private anonymous
/// mapping reads as zeros afterwards.
///
/// # Safety
/// The caller owns the range and nothing in it is needed any more.
pub unsafe fn madvise_dontneed(addr: usize, len: usize) -> Result<()> {
    /// MADV_DONTNEED (the same on every Linux architecture).
    const MADV_DONTNEED: usize = 4;
    // SAFETY: the caller owns the range.
    check(unsafe { arch::syscall3(nr::__NR_madvise, addr, len, MADV_DONTNEED) }).map(drop)
}

/// mprotect(2).
///
/// # Safety
/// The caller owns the range and nothing relies on its old protection.
pub unsafe fn mprotect(addr: usize, len: usize, prot: ProtFlags) -> Result<()> {
    // SAFETY: the caller owns the range.
    check(unsafe { arch::syscall3(nr::__NR_mprotect, addr, len, prot.bits()) }).map(drop)
}

/// Ends the process.
pub fn exit_group(code: i32) -> ! {
    loop {
        // SAFETY: exit_group does not return.
        unsafe { arch::syscall1(nr::__NR_exit_group, code as usize) };
    }
}

pub fn getpid() -> i32 {
    // SAFETY: no arguments.
    unsafe { arch::syscall0(nr::__NR_getpid) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: no arguments.
    unsafe { arch::syscall0(nr::__NR_gettid) as i32 }
}

/// Sends `sig` to thread `tid` of process `pid`.
pub fn tgkill(pid: i32, tid: i32, sig: i32) -> Result<()> {
    // SAFETY: plain integers.
    check(unsafe { arch::syscall3(nr::__NR_tgkill, pid as usize, tid as usize, sig as usize) })
        .map(drop)
}

pub fn sched_yield() {
    // SAFETY: no arguments.
    unsafe { arch::syscall0(nr::__NR_sched_yield) };
}

/// The kernel's `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    /// `ns` nanoseconds as a relative timespec.
    pub fn from_ns(ns: u64) -> Timespec {
        Timespec {
            sec: (ns / 1_000_000_000) as i64,
            nsec: (ns % 1_000_000_000) as i64,
        }
    }
}

pub const CLOCK_MONOTONIC: usize = 1;

/// Nanoseconds of `clock`.
pub fn clock_ns(clock: usize) -> u64 {
    let mut ts = Timespec::default();
    // SAFETY: ts is a valid out-parameter.
    unsafe {
        arch::syscall2(
            nr::__NR_clock_gettime,
            clock,
            &mut ts as *mut Timespec as usize,
        )
    };
    ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
}

/// CLOCK_MONOTONIC in nanoseconds, as cheaply as this build can: glibc's `clock_gettime`
/// goes through the vDSO (tens of ns, async-signal-safe); the freestanding build makes the
/// system call.
#[inline]
pub fn nanotime() -> u64 {
    #[cfg(all(not(feature = "freestanding"), not(test)))]
    {
        extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        let mut ts = Timespec::default();
        // SAFETY: ts is a valid out-parameter; glibc's clock_gettime is async-signal-safe.
        unsafe { clock_gettime(CLOCK_MONOTONIC as i32, &mut ts) };
        ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
    }
    #[cfg(any(feature = "freestanding", test))]
    {
        clock_ns(CLOCK_MONOTONIC)
    }
}

const FUTEX_WAIT: usize = 0;
const FUTEX_WAKE: usize = 1;
const FUTEX_PRIVATE_FLAG: usize = 128;

/// Sleeps while `*word == val` (shared futex: the kernel's CHILD_CLEARTID wake is not private).
pub fn futex_wait(word: &AtomicU32, val: u32) -> Result<()> {
    // SAFETY: word is a live 4-byte aligned atomic.
    check(unsafe {
        arch::syscall4(
            nr::__NR_futex,
            word.as_ptr() as usize,
            FUTEX_WAIT,
            val as usize,
            0,
        )
    })
    .map(drop)
}

/// A futex wake count that wakes every waiter. The kernel reads FUTEX_WAKE's count as a C
/// `int`: `u32::MAX` would be -1, which wakes exactly one waiter (a lost wake-up for the
/// rest). [`futex_wake`] and [`futex_wake_private`] clamp any larger count to this.
pub const FUTEX_WAKE_ALL: u32 = i32::MAX as u32;

/// Wakes up to `n` waiters on `word` (`n` above [`FUTEX_WAKE_ALL`]: all of them).
pub fn futex_wake(word: &AtomicU32, n: u32) {
    // SAFETY: word is a live 4-byte aligned atomic.
    unsafe {
        arch::syscall3(
            nr::__NR_futex,
            word.as_ptr() as usize,
            FUTEX_WAKE,
            n.min(FUTEX_WAKE_ALL) as usize,
        )
    };
}

/// Sleeps while `*word == val`, for at most `ns` nanoseconds (`None`: no limit). A private
/// futex: for words only this process's threads wait on (locks, notes). May return early
/// (EINTR, EAGAIN, ETIMEDOUT, or a spurious wake); callers re-check their condition.
pub fn futex_wait_private(word: &AtomicU32, val: u32, ns: Option<u64>) -> Result<()> {
    let ts = ns.map(Timespec::from_ns);
    let tsp = ts.as_ref().map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: word is a live 4-byte aligned atomic; tsp is 0 or a valid relative timeout.
    check(unsafe {
        arch::syscall4(
            nr::__NR_futex,
            word.as_ptr() as usize,
            FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
            val as usize,
            tsp,
        )
    })
    .map(drop)
}

/// Wakes up to `n` waiters of a private futex word (`n` above [`FUTEX_WAKE_ALL`]: all).
pub fn futex_wake_private(word: &AtomicU32, n: u32) {
    // SAFETY: word is a live 4-byte aligned atomic.
    unsafe {
        arch::syscall3(
            nr::__NR_futex,
            word.as_ptr() as usize,
            FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
            n.min(FUTEX_WAKE_ALL) as usize,
        )
    };
}

/// Sleeps for `ns` nanoseconds (relative; an interrupted sleep just returns early).
pub fn nanosleep(ns: u64) {
    let ts = Timespec {
        sec: (ns / 1_000_000_000) as i64,
        nsec: (ns % 1_000_000_000) as i64,
    };
    // SAFETY: ts is valid; no remainder wanted.
    unsafe { arch::syscall2(nr::__NR_nanosleep, &ts as *const Timespec as usize, 0) };
}

/// Number of CPUs this thread may run on (sched_getaffinity), at least 1.
pub fn ncpu() -> usize {
    let mut mask: CpuMask = [0; 16];
    if sched_getaffinity(0, &mut mask).is_err() {
        return 1;
    }
    (mask.iter().map(|w| w.count_ones() as usize).sum::<usize>()).max(1)
}

/// A CPU set as the kernel takes it: 1,024 CPUs.
pub type CpuMask = [u64; 16];

/// The CPUs thread `tid` (0: this one) may run on (the kernel fills as many words as it
/// has CPUs; the rest stay zero).
pub fn sched_getaffinity(tid: i32, mask: &mut CpuMask) -> Result<()> {
    *mask = [0; 16];
    // SAFETY: mask is a valid out-buffer of the size passed.
    check(unsafe {
        arch::syscall3(
            nr::__NR_sched_getaffinity,
            tid as usize,
            core::mem::size_of_val(mask),
            mask.as_mut_ptr() as usize,
        )
    })
    .map(drop)
}

/// Lets thread `tid` run only on the CPUs of `mask`.
pub fn sched_setaffinity(tid: i32, mask: &CpuMask) -> Result<()> {
    // SAFETY: mask is a valid buffer of the size passed.
    check(unsafe {
        arch::syscall3(
            nr::__NR_sched_setaffinity,
            tid as usize,
            core::mem::size_of_val(mask),
            mask.as_ptr() as usize,
        )
    })
    .map(drop)
}

/// The CPU this thread runs on (it may move at once).
pub fn getcpu() -> Result<usize> {
    let mut cpu = 0u32;
    // SAFETY: cpu is a valid out-word; the other two may be null.
    check(unsafe { arch::syscall3(nr::__NR_getcpu, &mut cpu as *mut u32 as usize, 0, 0) })
        .map(|_| cpu as usize)
}

// ---- files, for the profiler's output ---------------------------------------------------------

/// openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644). `path` must end
/// with a NUL byte.
pub fn create_file(path: &[u8]) -> Result<i32> {
    openat(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
}

/// Writes all of `buf` (retrying short writes and EINTR), or says why it could not.
pub fn write_fully(fd: i32, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(Errno(5)), // EIO: no progress
            Ok(n) => buf = &buf[n..],
            Err(EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// readlinkat(AT_FDCWD, path, buf): the length of the target. `path` must end with NUL.
pub fn readlink(path: &[u8], buf: &mut [u8]) -> Result<usize> {
    if path.last() != Some(&0) {
        return Err(EINVAL);
    }
    // SAFETY: the path is NUL-terminated; buf is writable for its length.
    check(unsafe {
        arch::syscall4(
            nr::__NR_readlinkat,
            AT_FDCWD as usize,
            path.as_ptr() as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

/// Copies `[addr, addr + buf.len())` of this process's own memory with process_vm_readv:
/// false (EFAULT, ENOSYS under some emulators, ...) instead of a fault when it is not mapped.
pub fn read_own_memory(addr: usize, buf: &mut [u8]) -> bool {
    #[repr(C)]
    struct IoVec {
        base: usize,
        len: usize,
    }
    let local = IoVec {
        base: buf.as_mut_ptr() as usize,
        len: buf.len(),
    };
    let remote = IoVec {
        base: addr,
        len: buf.len(),
    };
    // SAFETY: the kernel checks the remote range; the local one is our buffer.
    let r = unsafe {
        arch::syscall6(
            nr::__NR_process_vm_readv,
            getpid() as usize,
            &local as *const IoVec as usize,
            1,
            &remote as *const IoVec as usize,
            1,
            0,
        )
    };
    r == buf.len() as isize
}

// ---- timers, for the profiler ---------------------------------------------------------------

pub const CLOCK_REALTIME: usize = 0;
/// `SIGEV_THREAD_ID`: deliver the timer's signal to one thread.
pub const SIGEV_THREAD_ID: i32 = 4;
pub const ITIMER_PROF: usize = 2;

/// The CPU-time clock of thread `tid` (what glibc's pthread_getcpuclockid computes:
/// `MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)`).
pub fn thread_cpu_clock(tid: i32) -> i32 {
    const CPUCLOCK_PERTHREAD: i32 = 4;
    const CPUCLOCK_SCHED: i32 = 2;
    (!tid << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED
}

/// timer_create(clock, ev): the timer id.
pub fn timer_create(clock: i32, ev: &arch::SigEvent) -> Result<i32> {
    let mut id: i32 = 0;
    // SAFETY: ev and id are valid for the call.
    check(unsafe {
        arch::syscall3(
            nr::__NR_timer_create,
            clock as isize as usize,
            ev as *const arch::SigEvent as usize,
            &mut id as *mut i32 as usize,
        )
    })?;
    Ok(id)
}

/// timer_settime(id, 0, spec) (relative; nanoseconds in the `_sub` fields).
pub fn timer_settime(id: i32, spec: &arch::ITimerSpec) -> Result<()> {
    // SAFETY: spec is valid for the call; no old value asked for.
    check(unsafe {
        arch::syscall4(
            nr::__NR_timer_settime,
            id as usize,
            0,
            spec as *const arch::ITimerSpec as usize,
            0,
        )
    })
    .map(|_| ())
}

/// timer_delete(id).
pub fn timer_delete(id: i32) -> Result<()> {
    // SAFETY: deleting a timer we created.
    check(unsafe { arch::syscall1(nr::__NR_timer_delete, id as usize) }).map(|_| ())
}

/// setitimer(which, spec), returning the timer that was armed before.
pub fn swap_itimer(which: usize, spec: &arch::ITimerSpec) -> Result<arch::ITimerSpec> {
    let mut old = arch::ITimerSpec::default();
    // SAFETY: spec and old are valid for the call.
    check(unsafe {
        arch::syscall3(
            nr::__NR_setitimer,
            which,
            spec as *const arch::ITimerSpec as usize,
            &mut old as *mut arch::ITimerSpec as usize,
        )
    })?;
    Ok(old)
}

/// setitimer(which, spec) (microseconds in the `_sub` fields).
pub fn setitimer(which: usize, spec: &arch::ITimerSpec) -> Result<()> {
    // SAFETY: spec is valid for the call; no old value asked for.
    check(unsafe {
        arch::syscall3(
            nr::__NR_setitimer,
            which,
            spec as *const arch::ITimerSpec as usize,
            0,
        )
    })
    .map(|_| ())
}
