//! The network poller (Go's `netpoll.go` + `netpoll_epoll.go`): a goroutine that waits for a
//! descriptor to become readable or writable parks here, and its thread runs other goroutines.
//!
//! # How it works
//!
//! One epoll instance for the process, made on first use, with an eventfd in it that
//! interrupts a blocked wait (`netpoll_break`). A descriptor is registered once, on its first
//! use by `grt_read` & co. (`acquire`): made non-blocking and added edge-triggered for
//! `EPOLLIN|EPOLLOUT|EPOLLRDHUP`. Descriptors epoll refuses (regular files: EPERM) are marked
//! blocking, and their calls run as blocking system calls inside `grt_entersyscall` (as Go
//! does for files).
//!
//! Each descriptor number has a poll descriptor (`PollDesc`, in a table indexed by number,
//! never freed) with, per direction (read, write): a count of the edges seen, and a list of
//! waiting goroutines. A call notes the count (`Desc::mark`) before its system call; on
//! EAGAIN it waits (`wait`) and parks only if no edge came since, so an edge that came
//! between the call and the park is never lost, whoever else it woke. An edge (`netpoll`)
//! counts and wakes every waiter of its direction.
//! A woken goroutine retries its call, and parks again on EAGAIN; edge triggering makes that
//! correct: the next byte makes a new edge. Many goroutines may wait on one descriptor.
//!
//! The epoll event carries the descriptor number and its sequence number `seq`, bumped when
//! the number is given up (`close`): an event harvested before the close but processed after
//! it names an old `seq` and is dropped, so it never wakes the next user of the number.
//!
//! Deadlines: a waiting goroutine with a deadline arms its own timer (`G::timer`, time.rs)
//! before it parks. The timer's function (`deadline_fire`) takes the descriptor's lock and
//! times the wait out only if the goroutine is still parked in the same wait: every wait has
//! a process-unique number (`G::pollseq`), and the goroutine's wait record (`G::pollwait`)
//! is cleared by whoever wakes it, under the same lock. After waking, the goroutine deletes
//! its timer; a timer function already running sees a different number and does nothing.
//!
//! Close (`close`): marks the descriptor closing and bumps `seq` (new calls and waits return
//! `GRT_ECLOSED`), wakes every waiter with `GRT_ECLOSED`, then waits until every call that
//! acquired the descriptor has released it (`refs`), and only then removes it from epoll and
//! closes the number. So the number is not released while a call on the old descriptor could
//! still read or write it.
//!
//! The scheduler (proc/schedule.rs, proc/sysmon.rs) polls: without blocking in
//! `findrunnable` before it steals, and every `POLL_FAIR_NS` while a P keeps finding local
//! work; blocking, instead of sleeping, by one idle M at a time (`BLOCKED`) until the earliest
//! timer; and from sysmon when nobody has polled for `SYSMON_POLL_NS`.
//!
//! # Invariants
//! - A waiter is on a descriptor's list exactly while its goroutine's `pollwait` points at
//!   it; both change under that descriptor's lock. `NWAITERS` counts such goroutines.
//! - A goroutine is readied by exactly one of: an edge, its deadline, a close.
//! - Lock order: a descriptor's lock, then the timers' lock, then the scheduler's lock.
//!   `netpoll` takes descriptor locks with no other lock held.
//! - Nothing here runs in a signal handler.

use core::ptr::{self, null_mut};
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use grt_arch::EpollEvent;

use crate::errors::{report, GRT_ECLOSED, GRT_EINVAL, GRT_ENOMEM, GRT_ESYS, GRT_ETIMEDOUT, GRT_OK};
use crate::lock::Lock;
use crate::proc;
use crate::runtime2::{WaitReason, G};
use crate::sys::{self, Errno};
use crate::sysnet::{self, *};
use crate::{rtalloc, time};

/// `GRT_POLLIN` / `GRT_POLLOUT` of grt.h.
pub const POLLIN: i32 = 1;
pub const POLLOUT: i32 = 2;
const READ: usize = 0;
const WRITE: usize = 1;

/// Poll descriptors per table chunk, and chunks: descriptor numbers below 2^20.
const CHUNK: usize = 1024;
const NCHUNKS: usize = 1024;
pub const MAX_FD: i32 = (CHUNK * NCHUNKS) as i32;
/// Events taken per epoll_pwait.
const NEVENTS: usize = 128;
/// A P that keeps finding local work still polls this often while goroutines wait.
const POLL_FAIR_NS: u64 = 20_000;
/// sysmon polls when nobody has for this long (Go: 10 ms).
pub const SYSMON_POLL_NS: u64 = 10_000_000;
/// epoll data of the eventfd (no descriptor event has all bits set: numbers are < 2^20).
const BREAK_TAG: u64 = u64::MAX;

/// Registration state of a descriptor number.
const UNREG: u8 = 0;
const POLLED: u8 = 1;
const BLOCKING: u8 = 2;

/// One goroutine's wait, on its own stack while it is parked: a link per direction (the
/// goroutine may wait for both), and the outcome set by whoever wakes it.
struct Wait {
    g: *mut G,
    result: i32,
    link: [Link; 2],
}

#[derive(Clone, Copy)]
struct Link {
    on: bool,
    prev: *mut Wait,
    next: *mut Wait,
}

const NOLINK: Link = Link {
    on: false,
    prev: null_mut(),
    next: null_mut(),
};

/// Everything grt knows about one descriptor number. Zero is a valid unregistered state.
#[repr(C)]
pub struct PollDesc {
    lock: Lock,
    state: u8,
    closing: bool,
    /// Edges seen per direction (written under the lock, read by `Desc::mark` without it).
    edges: [AtomicU32; 2],
    /// Bumped when the number is given up; events carry it.
    seq: u32,
    /// Calls between `acquire` and `release`.
    refs: u32,
    /// The goroutine in `close` waiting for `refs` to drain.
    closer: *mut G,
    head: [*mut Wait; 2],
    /// send(2) said ENOTSOCK: writes use write(2).
    notsock: AtomicBool,
}

static CHUNKS: [AtomicPtr<PollDesc>; NCHUNKS] = [const { AtomicPtr::new(null_mut()) }; NCHUNKS];

/// Where the chunk table lies: it points at grt's own memory, never into the heap, so the
/// collector's scan of the program's data skips it (mgc.rs `NOSCAN`).
pub fn static_range() -> (usize, usize) {
    (CHUNKS.as_ptr() as usize, core::mem::size_of_val(&CHUNKS))
}
static INIT_LOCK: Lock = Lock::new();
static EPFD: AtomicI32 = AtomicI32::new(-1);
static EVFD: AtomicI32 = AtomicI32::new(-1);
/// Goroutines parked on a descriptor.
static NWAITERS: AtomicUsize = AtomicUsize::new(0);
/// When someone last polled (nanotime).
static LAST_POLL: AtomicU64 = AtomicU64::new(0);
/// An M is blocked in `netpoll` (at most one), until `POLL_UNTIL` (u64::MAX: no timeout).
static BLOCKED: AtomicBool = AtomicBool::new(false);
static POLL_UNTIL: AtomicU64 = AtomicU64::new(0);
/// A wakeup is written to the eventfd and not yet read.
static BREAK_PENDING: AtomicBool = AtomicBool::new(false);
/// epoll_pwait2 is missing (old kernel, or qemu-user): fall back to millisecond timeouts.
static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
static WAITSEQ: AtomicU64 = AtomicU64::new(0);

/// Test-only build, `GRTDEBUG=netpollnoclosewait=1`: `close` releases the number at once,
/// without waiting for calls in flight (the close test's teeth).
fn no_close_wait() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().netpollnoclosewait
}

/// The poller exists (some descriptor was used).
pub fn inited() -> bool {
    EPFD.load(Ordering::Acquire) >= 0
}

/// Goroutines parked on descriptors: they may be woken from outside, so they are not a
/// deadlock.
pub fn waiters() -> usize {
    NWAITERS.load(Ordering::Acquire)
}

fn init() -> Result<(), i32> {
    if inited() {
        return Ok(());
    }
    INIT_LOCK.lock();
    let r = (|| {
        if inited() {
            return Ok(());
        }
        let ep = sysnet::epoll_create().map_err(|e| sys_err("epoll_create1", e))?;
        let ev = match sysnet::eventfd() {
            Ok(fd) => fd,
            Err(e) => {
                let _ = sysnet::close(ep);
                return Err(sys_err("eventfd", e));
            }
        };
        let e = EpollEvent {
            events: EPOLLIN,
            data: BREAK_TAG,
        };
        if let Err(e) = sysnet::epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) {
            let _ = sysnet::close(ep);
            let _ = sysnet::close(ev);
            return Err(sys_err("epoll_ctl", e));
        }
        LAST_POLL.store(sys::nanotime(), Ordering::Relaxed);
        EVFD.store(ev, Ordering::Release);
        EPFD.store(ep, Ordering::Release);
        Ok(())
    })();
    INIT_LOCK.unlock();
    r
}

fn sys_err(what: &str, e: Errno) -> i32 {
    report(
        GRT_ESYS,
        "netpoll",
        format_args!("{} failed: errno {}", what, e.0),
    )
}

/// The poll descriptor of `fd` (made on first use), or null when out of memory.
fn lookup(fd: i32, make: bool) -> *mut PollDesc {
    let (c, i) = (fd as usize / CHUNK, fd as usize % CHUNK);
    let mut chunk = CHUNKS[c].load(Ordering::Acquire);
    if chunk.is_null() {
        if !make {
            return null_mut();
        }
        let size = CHUNK * core::mem::size_of::<PollDesc>();
        // Zeroed, never freed: a poll descriptor outlives every use of its number.
        let fresh = rtalloc::persistentalloc(size, 64) as *mut PollDesc;
        if fresh.is_null() {
            return null_mut();
        }
        chunk = match CHUNKS[c].compare_exchange(
            null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(other) => other, // lost the race; the fresh chunk stays unused (persistent)
        };
    }
    // SAFETY: i < CHUNK entries.
    unsafe { chunk.add(i) }
}

fn pd_of(p: *mut PollDesc) -> &'static mut PollDesc {
    // SAFETY: poll descriptors are never freed; fields other than the lock are touched
    // with the lock held.
    unsafe { &mut *p }
}

/// A descriptor acquired by a call: released by `release` (drop).
pub struct Desc {
    pd: *mut PollDesc,
    pub fd: i32,
    /// The descriptor's `seq` when acquired: a wait on a descriptor closed since fails.
    seq: u32,
    pub blocking: bool,
}

/// The edge counts a call noted before its system call (`Desc::mark`).
#[derive(Clone, Copy)]
pub struct Mark([u32; 2]);

impl Desc {
    fn pd(&self) -> &'static mut PollDesc {
        pd_of(self.pd)
    }

    /// The edge counts now: take them before the system call whose EAGAIN leads to `wait`.
    pub fn mark(&self) -> Mark {
        let pd = self.pd();
        Mark([
            pd.edges[READ].load(Ordering::Acquire),
            pd.edges[WRITE].load(Ordering::Acquire),
        ])
    }
}

impl Drop for Desc {
    fn drop(&mut self) {
        let pd = self.pd();
        pd.lock.lock();
        pd.refs -= 1;
        let closer = if pd.refs == 0 && pd.closing {
            core::mem::replace(&mut pd.closer, null_mut())
        } else {
            null_mut()
        };
        pd.lock.unlock();
        if !closer.is_null() {
            proc::goready(closer);
        }
    }
}

/// Registers `fd` on first use and holds it for one call. Errors are reported (`func`).
pub fn acquire(fd: i32, func: &str) -> Result<Desc, i32> {
    if fd < 0 || fd >= MAX_FD {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("bad descriptor {}", fd),
        ));
    }
    init()?;
    let p = lookup(fd, true);
    if p.is_null() {
        return Err(report(
            GRT_ENOMEM,
            func,
            format_args!("out of memory for a poll descriptor"),
        ));
    }
    let pd = pd_of(p);
    pd.lock.lock();
    if pd.closing {
        pd.lock.unlock();
        return Err(GRT_ECLOSED);
    }
    if pd.state == UNREG {
        if let Err(e) = register(pd, fd) {
            pd.lock.unlock();
            return Err(if e == EBADF {
                report(
                    GRT_EINVAL,
                    func,
                    format_args!("descriptor {} is not open", fd),
                )
            } else {
                report(
                    GRT_ESYS,
                    func,
                    format_args!("cannot register descriptor {}: errno {}", fd, e.0),
                )
            });
        }
    }
    pd.refs += 1;
    let d = Desc {
        pd: p,
        fd,
        seq: pd.seq,
        blocking: pd.state == BLOCKING,
    };
    pd.lock.unlock();
    Ok(d)
}

/// With the descriptor's lock held: non-blocking, and in the epoll set (or BLOCKING).
fn register(pd: &mut PollDesc, fd: i32) -> Result<(), Errno> {
    let flags = sysnet::get_flags(fd)?;
    let ev = EpollEvent {
        events: EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        data: ((pd.seq as u64) << 32) | fd as u64,
    };
    let ep = EPFD.load(Ordering::Acquire);
    let r = match sysnet::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) {
        // Still in the set from an earlier life of the number (a dup of it kept the file
        // open after a plain close(2)): take it over with our data.
        Err(EEXIST) => sysnet::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev),
        r => r,
    };
    match r {
        Ok(()) => {
            if flags & O_NONBLOCK == 0 {
                sysnet::set_flags(fd, flags | O_NONBLOCK)?;
            }
            pd.state = POLLED;
        }
        // Regular files and directories: always "ready"; calls block in the kernel.
        Err(EPERM) => pd.state = BLOCKING,
        Err(e) => return Err(e),
    }
    pd.notsock.store(false, Ordering::Relaxed);
    Ok(())
}

/// The descriptor is known not to be a socket.
pub fn not_socket(d: &Desc) -> bool {
    d.pd().notsock.load(Ordering::Relaxed)
}

pub fn set_not_socket(d: &Desc) {
    d.pd().notsock.store(true, Ordering::Relaxed);
}

// ---- waiting ------------------------------------------------------------------------------

/// Links `w` at the head of `pd`'s list for `dir`. Lock held.
fn link(pd: &mut PollDesc, w: *mut Wait, dir: usize) {
    // SAFETY: w is a live wait record (its goroutine is parked or parking); the list is
    // under pd's lock.
    unsafe {
        let head = pd.head[dir];
        (*w).link[dir] = Link {
            on: true,
            prev: null_mut(),
            next: head,
        };
        if !head.is_null() {
            (*head).link[dir].prev = w;
        }
        pd.head[dir] = w;
    }
}

fn unlink(pd: &mut PollDesc, w: *mut Wait, dir: usize) {
    // SAFETY: as in `link`.
    unsafe {
        let l = (*w).link[dir];
        if !l.on {
            return;
        }
        if l.prev.is_null() {
            pd.head[dir] = l.next;
        } else {
            (*l.prev).link[dir].next = l.next;
        }
        if !l.next.is_null() {
            (*l.next).link[dir].prev = l.prev;
        }
        (*w).link[dir] = NOLINK;
    }
}

/// Takes `w` off every list, records `result` and clears its goroutine's wait record; the
/// caller readies the goroutine (returned). Lock held.
fn finish(pd: &mut PollDesc, w: *mut Wait, result: i32) -> *mut G {
    unlink(pd, w, READ);
    unlink(pd, w, WRITE);
    // SAFETY: as in `link`; the goroutine reads result only after it is readied.
    unsafe {
        (*w).result = result;
        let g = (*w).g;
        (*g).pollwait.store(0, Ordering::Release);
        NWAITERS.fetch_sub(1, Ordering::AcqRel);
        g
    }
}

/// Wakes every waiter of `dir` with `result`, chaining their Gs onto `list` (through
/// `schedlink`). Lock held.
fn wake_all(pd: &mut PollDesc, dir: usize, result: i32, list: &mut GList) {
    // Bounded: each round takes one waiter off the list.
    while !pd.head[dir].is_null() {
        let g = finish(pd, pd.head[dir], result);
        list.push(g);
    }
}

/// Park's unlock step: the goroutine is waiting; arm its deadline, drop the lock.
fn wait_commit(_gp: *mut G, arg: usize) -> bool {
    let pd = pd_of(arg as *mut PollDesc);
    pd.lock.unlock();
    true
}

/// Waits until `fd` may be ready for `events` (POLLIN/POLLOUT): an edge since `mark`, taken
/// before the call that failed; or the deadline passes (`GRT_ETIMEDOUT`), or the descriptor
/// is closed (`GRT_ECLOSED`). On the calling goroutine.
pub fn wait(g: &G, d: &Desc, events: i32, deadline: u64, mark: Mark) -> i32 {
    let pd = d.pd();
    pd.lock.lock();
    if pd.closing || pd.seq != d.seq {
        pd.lock.unlock();
        return GRT_ECLOSED;
    }
    for (dir, bit) in [(READ, POLLIN), (WRITE, POLLOUT)] {
        if events & bit != 0 && pd.edges[dir].load(Ordering::Relaxed) != mark.0[dir] {
            pd.lock.unlock();
            return GRT_OK; // an edge since the call: retry it
        }
    }
    if deadline != 0 && sys::nanotime() >= deadline {
        pd.lock.unlock();
        return GRT_ETIMEDOUT;
    }
    let gp = g as *const G as *mut G;
    let mut w = Wait {
        g: gp,
        result: GRT_OK,
        link: [NOLINK; 2],
    };
    let wp = ptr::addr_of_mut!(w);
    for (dir, bit) in [(READ, POLLIN), (WRITE, POLLOUT)] {
        if events & bit != 0 {
            link(pd, wp, dir);
        }
    }
    let seq = WAITSEQ.fetch_add(1, Ordering::Relaxed) + 1;
    g.pollseq.store(seq, Ordering::Release);
    g.pollwait.store(wp as usize, Ordering::Release);
    NWAITERS.fetch_add(1, Ordering::AcqRel);
    if deadline != 0 {
        // SAFETY: the running G's own timer (off the heap: a sleep or an earlier deadline
        // has fired or been deleted); deadline_fire checks pollseq before touching anything.
        unsafe {
            let t = ptr::addr_of_mut!((*gp).timer);
            (*t).when = deadline;
            (*t).f = Some(deadline_fire);
            (*t).arg = d.pd as usize;
            (*t).arg2 = gp as usize;
            (*t).seq = seq;
            time::add(t);
        }
    }
    proc::gopark(wait_commit, d.pd as usize, WaitReason::IoWait);
    if deadline != 0 {
        // SAFETY: our own timer; if it already fired, its function saw the wait finished.
        time::del(unsafe { ptr::addr_of_mut!((*gp).timer) });
    }
    // SAFETY: w was written under pd's lock by whoever readied us, before the wakeup.
    unsafe { ptr::read_volatile(ptr::addr_of!(w.result)) }
}

/// A wait's deadline passed: time it out if the goroutine is still in that wait.
fn deadline_fire(pdp: usize, gp: usize, seq: u64) {
    let pd = pd_of(pdp as *mut PollDesc);
    // SAFETY: Gs are never freed.
    let g = unsafe { &*(gp as *const G) };
    pd.lock.lock();
    let w = g.pollwait.load(Ordering::Acquire) as *mut Wait;
    if g.pollseq.load(Ordering::Acquire) != seq || w.is_null() {
        pd.lock.unlock();
        return; // woken otherwise, maybe waiting again elsewhere
    }
    let g = finish(pd, w, GRT_ETIMEDOUT);
    pd.lock.unlock();
    proc::ready(g, false);
}

// ---- close --------------------------------------------------------------------------------

/// `grt_fd_close`: wakes every waiter with `GRT_ECLOSED`, waits for calls in flight, then
/// closes the number. On a goroutine.
pub fn close(fd: i32, func: &str) -> i32 {
    if fd < 0 || fd >= MAX_FD {
        return report(GRT_EINVAL, func, format_args!("bad descriptor {}", fd));
    }
    // The poll descriptor even of a number never used here: a call may register it right
    // now, and closing it under the descriptor's lock keeps that from leaving a registration
    // behind for the number's next user.
    let p = if init().is_ok() {
        lookup(fd, true)
    } else {
        null_mut()
    };
    if p.is_null() {
        return close_number(fd, func);
    }
    let pd = pd_of(p);
    pd.lock.lock();
    if pd.closing {
        pd.lock.unlock();
        return report(
            GRT_ECLOSED,
            func,
            format_args!("descriptor {} is already being closed", fd),
        );
    }
    if pd.state == UNREG && pd.refs == 0 {
        let r = close_number(fd, func);
        pd.lock.unlock();
        return r;
    }
    pd.closing = true;
    pd.seq = pd.seq.wrapping_add(1);
    let mut woken = GList::new();
    wake_all(pd, READ, GRT_ECLOSED, &mut woken);
    wake_all(pd, WRITE, GRT_ECLOSED, &mut woken);
    woken.ready_all();
    if pd.refs > 0 && !no_close_wait() {
        pd.closer = proc::getg();
        // Parked until the last call releases the descriptor (Desc::drop readies us).
        proc::gopark(wait_commit, p as usize, WaitReason::IoWait);
        pd.lock.lock();
    }
    let ep = EPFD.load(Ordering::Acquire);
    if pd.state == POLLED {
        let _ = sysnet::epoll_ctl(ep, EPOLL_CTL_DEL, fd, &EpollEvent::default());
    }
    let r = sysnet::close(fd);
    pd.state = UNREG;
    pd.closing = false;
    pd.lock.unlock();
    match r {
        Ok(()) => GRT_OK,
        Err(e) => close_error(fd, func, e),
    }
}

fn close_number(fd: i32, func: &str) -> i32 {
    match sysnet::close(fd) {
        Ok(()) => GRT_OK,
        Err(e) => close_error(fd, func, e),
    }
}

fn close_error(fd: i32, func: &str, e: Errno) -> i32 {
    if e == EBADF {
        return report(
            GRT_EINVAL,
            func,
            format_args!("descriptor {} is not open", fd),
        );
    }
    // EINTR, EIO: the number is released all the same (Linux).
    set_errno(e);
    GRT_ESYS
}

/// Records `e` as the calling goroutine's last system error (`grt_errno`).
pub fn set_errno(e: Errno) {
    let gp = proc::getg();
    // SAFETY: the running goroutine writes its own field.
    if let Some(g) = unsafe { gp.as_mut() } {
        g.syserr = e.0;
    }
}

// ---- polling ------------------------------------------------------------------------------

/// Goroutines made ready by one poll, chained through `schedlink`.
pub struct GList {
    pub head: *mut G,
    tail: *mut G,
    pub n: usize,
}

impl GList {
    pub const fn new() -> GList {
        GList {
            head: null_mut(),
            tail: null_mut(),
            n: 0,
        }
    }

    fn push(&mut self, g: *mut G) {
        // SAFETY: a parked G just taken off a wait list: its schedlink is free.
        unsafe {
            (*g).schedlink = null_mut();
            if self.tail.is_null() {
                self.head = g;
            } else {
                (*self.tail).schedlink = g;
            }
        }
        self.tail = g;
        self.n += 1;
    }

    /// Takes the first goroutine off the list.
    pub fn pop(&mut self) -> *mut G {
        let g = self.head;
        if !g.is_null() {
            // SAFETY: a G of this list.
            self.head = unsafe { (*g).schedlink };
            if self.head.is_null() {
                self.tail = null_mut();
            }
            self.n -= 1;
        }
        g
    }

    /// Readies every goroutine on the caller's P (the caller holds one).
    pub fn ready_all(&mut self) {
        loop {
            let g = self.pop();
            if g.is_null() {
                return;
            }
            proc::ready(g, false);
        }
    }
}

/// Polls once, waiting at most `delay_ns` (0: not at all; `None`: until an event or
/// `netpoll_break`). Returns the goroutines made ready; the caller queues them.
pub fn netpoll(delay_ns: Option<u64>) -> GList {
    let mut list = GList::new();
    let ep = EPFD.load(Ordering::Acquire);
    if ep < 0 {
        return list;
    }
    let mut evs = [EpollEvent::default(); NEVENTS];
    let r = if NO_PWAIT2.load(Ordering::Relaxed) {
        Err(ENOSYS)
    } else {
        sysnet::epoll_pwait2(ep, &mut evs, delay_ns)
    };
    let r = match r {
        Err(ENOSYS) => {
            NO_PWAIT2.store(true, Ordering::Relaxed);
            // Millisecond granularity: round a short wait up to 1 ms (a timer may fire up to
            // a millisecond late; Go does the same).
            let ms = match delay_ns {
                None => -1,
                Some(0) => 0,
                Some(ns) => ns.div_ceil(1_000_000).min(i32::MAX as u64) as i32,
            };
            sysnet::epoll_pwait(ep, &mut evs, ms)
        }
        r => r,
    };
    LAST_POLL.store(sys::nanotime(), Ordering::Relaxed);
    let Ok(n) = r else {
        return list; // EINTR (a signal: the profiler's, a stop of the world)
    };
    for ev in &evs[..n] {
        let (bits, data) = (ev.events, ev.data);
        if data == BREAK_TAG {
            // Only the poller that may block reads the break: a non-blocking poll that took
            // it would swallow a wakeup meant for the blocked M (the eventfd is
            // level-triggered, so it stays reported until read).
            if delay_ns != Some(0) {
                let mut buf = [0u8; 8];
                let _ = sys::read(EVFD.load(Ordering::Acquire), &mut buf);
                BREAK_PENDING.store(false, Ordering::Release);
            }
            continue;
        }
        let (fd, seq) = ((data & 0xffff_ffff) as i32, (data >> 32) as u32);
        let p = lookup(fd, false);
        if p.is_null() {
            continue;
        }
        let pd = pd_of(p);
        pd.lock.lock();
        if pd.seq != seq || pd.state != POLLED {
            pd.lock.unlock();
            continue; // an event for a number since given up
        }
        // Every waiter is woken, and the edge is counted: a goroutine whose call got EAGAIN
        // just before this edge, and is not parked yet, sees the count move in `wait` (two
        // connections in one edge, one acceptor woken: the other does not sleep).
        let err = bits & (EPOLLERR | EPOLLHUP) != 0;
        for (dir, hit) in [
            (READ, bits & (EPOLLIN | EPOLLRDHUP) != 0 || err),
            (WRITE, bits & EPOLLOUT != 0 || err),
        ] {
            if hit {
                pd.edges[dir].fetch_add(1, Ordering::AcqRel);
                wake_all(pd, dir, GRT_OK, &mut list);
            }
        }
        pd.lock.unlock();
    }
    list
}

/// Interrupts an M blocked in `netpoll` (a timer earlier than its deadline was added).
pub fn netpoll_break() {
    if !BLOCKED.load(Ordering::Acquire) {
        return;
    }
    if BREAK_PENDING.swap(true, Ordering::AcqRel) {
        return;
    }
    let one = 1u64.to_ne_bytes();
    let _ = sys::write(EVFD.load(Ordering::Acquire), &one);
}

/// A P should poll now although it has work: goroutines wait, nobody blocks in the poller,
/// and the last poll is `POLL_FAIR_NS` old.
pub fn poll_due(now: u64) -> bool {
    waiters() > 0
        && !BLOCKED.load(Ordering::Acquire)
        && now.saturating_sub(LAST_POLL.load(Ordering::Relaxed)) >= POLL_FAIR_NS
}

/// Nobody has polled for `ns` and nobody is blocked polling (sysmon).
pub fn poll_stale(now: u64, ns: u64) -> bool {
    waiters() > 0
        && !BLOCKED.load(Ordering::Acquire)
        && now.saturating_sub(LAST_POLL.load(Ordering::Relaxed)) >= ns
}

/// Someone should poll without blocking: goroutines wait and nobody blocks in the poller.
pub fn poll_useful() -> bool {
    waiters() > 0 && !BLOCKED.load(Ordering::Acquire)
}

/// Becomes the M blocked in the poller, if there is none and something to wait for (an fd
/// waiter or a timer): `Some(deadline)` (u64::MAX: none) if this M now owns that role (it
/// must call `unblock` after). The deadline is read after the role was taken: a timer added
/// before it is published breaks the poller (`timer_added` sees 0), one added after
/// compares itself with it.
pub fn try_block() -> Option<u64> {
    if !inited() || (waiters() == 0 && !time::pending()) {
        return None;
    }
    if BLOCKED
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return None;
    }
    let until = time::next_when().unwrap_or(u64::MAX);
    POLL_UNTIL.store(until, Ordering::Release);
    Some(until)
}

pub fn unblock() {
    POLL_UNTIL.store(0, Ordering::Release);
    BLOCKED.store(false, Ordering::Release);
}

/// An M is blocked in the poller (it watches the timers too).
pub fn blocked() -> bool {
    BLOCKED.load(Ordering::Acquire)
}

/// A timer at `when` was added: break the blocked poller if it sleeps past it. True if a
/// blocked poller watches the timers (then no other M need be woken).
pub fn timer_added(when: u64) -> bool {
    if !BLOCKED.load(Ordering::Acquire) {
        return false;
    }
    // 0: the blocker has not published its deadline yet; break it to be safe (Go does too).
    let until = POLL_UNTIL.load(Ordering::Acquire);
    if until == 0 || when < until {
        netpoll_break();
    }
    true
}
