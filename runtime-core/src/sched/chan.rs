//! Channels and select: Go's `chan.go` and `select.go`, for elements that are plain bytes.
//!
//! A channel is a lock, a ring buffer of `dataqsiz` elements, and two queues of waiting
//! goroutines (`recvq`, `sendq`) as sudogs. Invariants, all under `c.lock`:
//! - at most one of `recvq` / `sendq` is non-empty (once a waiter exists, the other side
//!   hands its value straight to it);
//! - a buffered channel has waiting receivers only when empty, waiting senders only when full;
//! - a sudog's `elem` is memory of the waiting goroutine (its stack or its caller's buffer),
//!   valid until it is woken.
//!
//! The goroutine that completes an operation for a waiter copies the value directly to or
//! from the waiter's `elem`, marks `success`, sets the waiter's `param` to the sudog that won,
//! and readies it after dropping the lock.
//!
//! Every copy of a value is a store the collector must hear about: the destination may be a
//! heap object or a stack frame that was already scanned (a receiver may receive straight
//! into a heap object, or into a frame of another goroutine). So [`copy_elem`] is a write
//! barrier, as Go's sendDirect is (typeBitsBulkBarrier): while a cycle marks it shades every
//! aligned word it copied. It copies first and tests `grt_gc_wbenabled` after, the order of
//! `GRT_STORE` (grt.h says why), and, as `GRT_STORE` keeps the value it stored in a register
//! until its test, `copy_elem` keeps its source pointer live until after the test
//! (`black_box`): mark termination stops a thread at any instruction, and one stopped
//! between the copy and the test has the source in its registers or frame, which are
//! scanned (the thread's goroutine is running: rescanned), and through it (an interior
//! pointer keeps its object, whose words are marked with it) the words it copied, wherever
//! they went: into a buffer, or into a parked receiver's frame, which is not rescanned until
//! it runs.
//!
//! So buffers are read by the collector once per cycle, concurrently, after the barrier is
//! on, and not again at mark termination: a word in a buffer at mark termination was there
//! at that read (it stayed in its slot since), or a send put it there after the read and
//! shaded it, or that send was stopped by mark termination between its copy and its test,
//! and then its source is live, as above. A receive that is stopped between its copy out of
//! a slot and its test has not cleared the slot yet: the word in it is one of the above.
//! gc_rootwp_widen's group D sends objects into a buffer after the read; its teeth
//! (`gcnochanbarrier=1`) lose them. (No test stops a send between its copy and its test.)
//!
//! select locks every channel involved in address order (so two selects cannot deadlock),
//! polls the cases in a random order, and otherwise enqueues one sudog per case and parks.
//! A waker that dequeues a select's sudog must first win the goroutine's `select_done` CAS;
//! the loser skips that sudog, so exactly one case completes. The woken select relocks all
//! channels and unlinks its other sudogs.

use core::ptr::{self, null_mut};
use core::sync::atomic::{compiler_fence, AtomicBool, Ordering};

use crate::lock::Lock;
use crate::proc;
use crate::rtalloc;
use crate::runtime2::{Sudog, WaitReason, G};

/// Marks a live channel (a best-effort check on the handles C passes in).
const CHAN_MAGIC: u64 = 0x6772_745f_6368_616e; // "grt_chan"
/// Largest element, as in Go (1 << 16 bytes).
pub const MAX_ELEM_SIZE: usize = 1 << 16;
/// Largest buffer, in bytes.
pub const MAX_BUF_BYTES: usize = 1 << 40;
/// Most cases in one select (Go's limit).
pub const MAX_SELECT_CASES: usize = 1 << 16;

struct WaitQ {
    first: *mut Sudog,
    last: *mut Sudog,
}

impl WaitQ {
    const fn new() -> WaitQ {
        WaitQ {
            first: null_mut(),
            last: null_mut(),
        }
    }

    fn enqueue(&mut self, sg: *mut Sudog) {
        // SAFETY: sg is a live sudog of a goroutine about to park; the queue is under c.lock.
        unsafe {
            (*sg).next = null_mut();
            (*sg).prev = self.last;
            if self.last.is_null() {
                self.first = sg;
            } else {
                (*self.last).next = sg;
            }
        }
        self.last = sg;
    }

    fn unlink(&mut self, sg: *mut Sudog) {
        // SAFETY: sg is on this queue (under c.lock).
        unsafe {
            let (p, n) = ((*sg).prev, (*sg).next);
            if p.is_null() {
                self.first = n;
            } else {
                (*p).next = n;
            }
            if n.is_null() {
                self.last = p;
            } else {
                (*n).prev = p;
            }
            (*sg).next = null_mut();
            (*sg).prev = null_mut();
        }
    }

    /// Is sg on this queue? (select's cleanup; queues are short.)
    fn contains(&self, sg: *mut Sudog) -> bool {
        let mut cur = self.first;
        while !cur.is_null() {
            if cur == sg {
                return true;
            }
            // SAFETY: queued sudogs are live.
            cur = unsafe { (*cur).next };
        }
        false
    }

    /// The first waiter that can still be woken: a select whose other case already won is
    /// skipped (and dropped from this queue).
    fn dequeue(&mut self) -> *mut Sudog {
        loop {
            let sg = self.first;
            if sg.is_null() {
                return sg;
            }
            self.unlink(sg);
            // SAFETY: a live queued sudog of a parked (or parking) goroutine.
            let s = unsafe { &*sg };
            if s.is_select {
                // SAFETY: the sudog's G is live.
                let g = unsafe { &*s.g };
                if g.select_done
                    .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
                    .is_err()
                {
                    continue;
                }
            }
            return sg;
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_null()
    }
}

#[repr(C)]
pub struct Hchan {
    magic: u64,
    lock: Lock,
    qcount: usize,
    dataqsiz: usize,
    buf: *mut u8,
    elemsize: usize,
    closed: bool,
    sendx: usize,
    recvx: usize,
    recvq: WaitQ,
    sendq: WaitQ,
    /// The list of live channels (under ALLCHANS_LOCK): the collector scans their buffers.
    allnext: *mut Hchan,
    allprev: *mut Hchan,
}

/// Guards the list of live channels. Taken by make/free and by the collector (which takes
/// it before stopping the world, so no stopped thread can hold it then).
pub static ALLCHANS_LOCK: Lock = Lock::new();
static mut ALLCHANS: *mut Hchan = null_mut();

/// Calls `f(lo, hi)` for the buffer of every live channel. ALLCHANS_LOCK must be held.
pub fn for_each_buffer_locked(mut f: impl FnMut(usize, usize)) {
    // SAFETY: the list is under ALLCHANS_LOCK, which the caller holds; channels on it are live.
    unsafe {
        let mut c = *core::ptr::addr_of!(ALLCHANS);
        while !c.is_null() {
            let ch = &*c;
            if !ch.buf.is_null() {
                let lo = ch.buf as usize;
                f(lo, lo + ch.elemsize * ch.dataqsiz);
            }
            c = ch.allnext;
        }
    }
}

/// Why an operation did not transfer a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChanError {
    Closed,
    WouldBlock,
}

/// What was wrong with the arguments of `make`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MakeError {
    ElemTooLarge,
    BufTooLarge,
    NoMemory,
}

pub fn make(elemsize: usize, cap: usize) -> Result<*mut Hchan, MakeError> {
    if elemsize > MAX_ELEM_SIZE {
        return Err(MakeError::ElemTooLarge);
    }
    let bytes = elemsize.checked_mul(cap).ok_or(MakeError::BufTooLarge)?;
    if bytes > MAX_BUF_BYTES || cap > MAX_BUF_BYTES {
        return Err(MakeError::BufTooLarge);
    }
    let c = rtalloc::alloc(core::mem::size_of::<Hchan>()) as *mut Hchan;
    if c.is_null() {
        return Err(MakeError::NoMemory);
    }
    let buf = if bytes > 0 {
        let b = rtalloc::alloc(bytes);
        if b.is_null() {
            // SAFETY: just allocated with this size.
            unsafe { rtalloc::free(c as *mut u8, core::mem::size_of::<Hchan>()) };
            return Err(MakeError::NoMemory);
        }
        b
    } else {
        null_mut()
    };
    // SAFETY: fresh memory of Hchan's size and alignment.
    unsafe {
        c.write(Hchan {
            magic: CHAN_MAGIC,
            lock: Lock::new(),
            qcount: 0,
            dataqsiz: cap,
            buf,
            elemsize,
            closed: false,
            sendx: 0,
            recvx: 0,
            recvq: WaitQ::new(),
            sendq: WaitQ::new(),
            allnext: null_mut(),
            allprev: null_mut(),
        })
    };
    ALLCHANS_LOCK.lock();
    // SAFETY: the list is under ALLCHANS_LOCK; c is new.
    unsafe {
        let head = &mut *core::ptr::addr_of_mut!(ALLCHANS);
        (*c).allnext = *head;
        if !head.is_null() {
            (**head).allprev = c;
        }
        *head = c;
    }
    ALLCHANS_LOCK.unlock();
    Ok(c)
}

/// Is `c` (probably) a live channel?
///
/// # Safety
/// `c` must be null or point to readable memory of at least a channel's size.
pub unsafe fn is_chan(c: *const Hchan) -> bool {
    // SAFETY: per the contract.
    !c.is_null() && c as usize % 8 == 0 && unsafe { (*c).magic } == CHAN_MAGIC
}

/// Frees a channel nobody waits on; false (and nothing done) if someone does.
///
/// # Safety
/// `c` is a live channel that no goroutine will use again.
pub unsafe fn free(c: *mut Hchan) -> bool {
    // SAFETY: per the contract.
    let ch = unsafe { &mut *c };
    ch.lock.lock();
    let busy = !ch.recvq.is_empty() || !ch.sendq.is_empty();
    if !busy {
        ch.magic = 0;
    }
    ch.lock.unlock();
    if busy {
        return false;
    }
    ALLCHANS_LOCK.lock();
    // SAFETY: the list is under ALLCHANS_LOCK; c is on it.
    unsafe {
        let head = &mut *core::ptr::addr_of_mut!(ALLCHANS);
        if ch.allprev.is_null() {
            *head = ch.allnext;
        } else {
            (*ch.allprev).allnext = ch.allnext;
        }
        if !ch.allnext.is_null() {
            (*ch.allnext).allprev = ch.allprev;
        }
    }
    ALLCHANS_LOCK.unlock();
    // SAFETY: the buffer and channel came from rtalloc with these sizes.
    unsafe {
        rtalloc::free(ch.buf, ch.elemsize * ch.dataqsiz);
        rtalloc::free(c as *mut u8, core::mem::size_of::<Hchan>());
    }
    true
}

impl Hchan {
    pub fn elem_size(&self) -> usize {
        self.elemsize
    }
}

pub fn len(c: &Hchan) -> usize {
    c.lock.with(|| c.qcount)
}

fn slot(c: &Hchan, i: usize) -> *mut u8 {
    // SAFETY: i < dataqsiz, so inside the buffer.
    unsafe { c.buf.add(i * c.elemsize) }
}

/// Test-only build, `GRTDEBUG=gcnochanbarrier=1`: channel copies do not shade (the teeth of
/// the test gc_chan_wb).
static NO_CHAN_BARRIER: AtomicBool = AtomicBool::new(false);

/// Reads the knob (schedinit, before any goroutine runs).
pub fn init_knobs() {
    NO_CHAN_BARRIER.store(
        cfg!(feature = "testhooks") && crate::debug::get().gcnochanbarrier,
        Ordering::Relaxed,
    );
}

/// Copies an element (or zeroes `dst` when `src` is null), with the write barrier.
fn copy_elem(dst: *mut u8, src: *const u8, n: usize) {
    if n == 0 || dst.is_null() {
        return;
    }
    if src.is_null() {
        // SAFETY: dst is the receiver's n-byte buffer.
        unsafe { ptr::write_bytes(dst, 0, n) };
        return;
    }
    // SAFETY: both are n-byte buffers of different goroutines (or the channel's).
    unsafe { ptr::copy_nonoverlapping(src, dst, n) };
    // The copy before the test (see the module comment): keep the compiler from swapping them.
    compiler_fence(Ordering::SeqCst);
    if crate::mgc::grt_gc_wbenabled.load(Ordering::Relaxed) != 0
        && !(cfg!(feature = "testhooks") && NO_CHAN_BARRIER.load(Ordering::Relaxed))
    {
        shade_words(dst, n);
    }
    // The source stays live until after the test (see the module comment): a stop between
    // the copy and the test finds it in this thread's registers or frame, and through it
    // the words copied (`src` may point into a heap object: interior pointers count).
    core::hint::black_box(src);
}

/// Shades every aligned word inside `dst[..n]` (the scanner reads aligned words only, so a
/// pointer elsewhere in an element is not a reference to begin with).
#[cold]
fn shade_words(dst: *mut u8, n: usize) {
    const W: usize = core::mem::size_of::<usize>();
    let lo = (dst as usize).next_multiple_of(W);
    let hi = (dst as usize + n) & !(W - 1);
    let mut a = lo;
    while a < hi {
        // SAFETY: an aligned word inside the buffer just written.
        crate::mgcmark::shade(unsafe { (a as *const usize).read() });
        a += W;
    }
}

fn unlock_chan(_: *mut G, c: usize) -> bool {
    // SAFETY: c is the channel whose lock the parking goroutine holds.
    unsafe { (*(c as *const Hchan)).lock.unlock() };
    true
}

/// Completes a waiter: record the outcome, then ready its goroutine (after unlocking).
fn wake_waiter(sg: *mut Sudog, success: bool) -> *mut G {
    // SAFETY: sg was just dequeued; its goroutine is parked (or parking) and waits for us.
    unsafe {
        (*sg).success = success;
        let g = (*sg).g;
        (*g).param = sg;
        g
    }
}

/// Sends `*ep` (elemsize bytes; may be null for 0-byte elements).
pub fn send(c: &mut Hchan, ep: *const u8, block: bool) -> Result<(), ChanError> {
    c.lock.lock();
    if c.closed {
        c.lock.unlock();
        return Err(ChanError::Closed);
    }
    let sg = c.recvq.dequeue();
    if !sg.is_null() {
        // A receiver waits: hand the value over directly.
        // SAFETY: the receiver's sudog is live until it is woken.
        copy_elem(unsafe { (*sg).elem }, ep, c.elemsize);
        let g = wake_waiter(sg, true);
        c.lock.unlock();
        proc::goready(g);
        return Ok(());
    }
    if c.qcount < c.dataqsiz {
        buf_put(c, ep);
        c.lock.unlock();
        return Ok(());
    }
    if !block {
        c.lock.unlock();
        return Err(ChanError::WouldBlock);
    }
    // Woken by a receiver (success) or by close.
    if wait(c, DIR_SEND, ep as *mut u8) {
        Ok(())
    } else {
        Err(ChanError::Closed)
    }
}

/// Receives into `ep` (null: discard). Ok(true): a value; Ok(false): closed and drained.
pub fn recv(c: &mut Hchan, ep: *mut u8, block: bool) -> Result<bool, ChanError> {
    c.lock.lock();
    if c.closed && c.qcount == 0 {
        let n = c.elemsize;
        c.lock.unlock();
        copy_elem(ep, ptr::null(), n);
        return Ok(false);
    }
    let sg = c.sendq.dequeue();
    if !sg.is_null() {
        recv_from_sender(c, sg, ep);
        let g = wake_waiter(sg, true);
        c.lock.unlock();
        proc::goready(g);
        return Ok(true);
    }
    if c.qcount > 0 {
        buf_take(c, ep);
        c.lock.unlock();
        return Ok(true);
    }
    if !block {
        c.lock.unlock();
        return Err(ChanError::WouldBlock);
    }
    // A sender copied into ep (success), or close zeroed it.
    Ok(wait(c, DIR_RECV, ep))
}

/// Parks the running goroutine on `c`'s queue for `dir` (c.lock held; released by the
/// park). Returns the sudog's outcome: true if a value moved, false if the channel closed.
fn wait(c: &mut Hchan, dir: i32, ep: *mut u8) -> bool {
    let gp = proc::getg();
    let mut mysg = Sudog::new();
    mysg.g = gp;
    mysg.elem = ep;
    mysg.c = c;
    // SAFETY: the running G.
    unsafe { (*gp).param = null_mut() };
    let reason = if dir == DIR_SEND {
        c.sendq.enqueue(&mut mysg);
        WaitReason::ChanSend
    } else {
        c.recvq.enqueue(&mut mysg);
        WaitReason::ChanReceive
    };
    proc::gopark(unlock_chan, c as *mut Hchan as usize, reason);
    mysg.success
}

/// Appends `*ep` to the buffer (not full; c.lock held).
fn buf_put(c: &mut Hchan, ep: *const u8) {
    copy_elem(slot(c, c.sendx), ep, c.elemsize);
    c.sendx = (c.sendx + 1) % c.dataqsiz;
    c.qcount += 1;
}

/// Takes the head of the buffer into `ep` (not empty; c.lock held).
fn buf_take(c: &mut Hchan, ep: *mut u8) {
    copy_elem(ep, slot(c, c.recvx), c.elemsize);
    copy_elem(slot(c, c.recvx), ptr::null(), c.elemsize);
    c.recvx = (c.recvx + 1) % c.dataqsiz;
    c.qcount -= 1;
}

/// A sender waits (so the buffer, if any, is full): take the value for `ep`.
fn recv_from_sender(c: &mut Hchan, sg: *mut Sudog, ep: *mut u8) {
    // SAFETY: the sender's sudog is live until it is woken.
    let sel = unsafe { (*sg).elem };
    if c.dataqsiz == 0 {
        copy_elem(ep, sel, c.elemsize);
    } else {
        // Take the head of the queue, and put the sender's value at its tail (the same slot,
        // since the buffer is full).
        let s = slot(c, c.recvx);
        copy_elem(ep, s, c.elemsize);
        copy_elem(s, sel, c.elemsize);
        c.recvx = (c.recvx + 1) % c.dataqsiz;
        c.sendx = c.recvx;
    }
}

/// Closes the channel; waiting receivers get "closed" (elem zeroed), waiting senders too.
pub fn close(c: &mut Hchan) -> Result<(), ChanError> {
    c.lock.lock();
    if c.closed {
        c.lock.unlock();
        return Err(ChanError::Closed);
    }
    c.closed = true;
    let mut ready: *mut G = null_mut();
    loop {
        let sg = c.recvq.dequeue();
        if sg.is_null() {
            break;
        }
        // SAFETY: a dequeued receiver's sudog.
        copy_elem(unsafe { (*sg).elem }, ptr::null(), c.elemsize);
        let g = wake_waiter(sg, false);
        // SAFETY: parked G; schedlink is free while it waits.
        unsafe { (*g).schedlink = ready };
        ready = g;
    }
    loop {
        let sg = c.sendq.dequeue();
        if sg.is_null() {
            break;
        }
        let g = wake_waiter(sg, false);
        // SAFETY: as above.
        unsafe { (*g).schedlink = ready };
        ready = g;
    }
    c.lock.unlock();
    while !ready.is_null() {
        let g = ready;
        // SAFETY: as above.
        ready = unsafe { (*g).schedlink };
        proc::goready(g);
    }
    Ok(())
}

// ---- select ------------------------------------------------------------------------------

/// One case, as C passes it (grt_select_case).
#[repr(C)]
pub struct SelectCase {
    pub chan: *mut Hchan,
    pub dir: i32,
    pub ok: i32,
    pub elem: *mut u8,
}

pub const DIR_SEND: i32 = 1;
pub const DIR_RECV: i32 = 2;

/// Cases handled with scratch space on the stack; more use rtalloc.
const SMALL_SELECT: usize = 8;

fn sellock(cases: &[SelectCase], lockorder: &[u16]) {
    let mut last: *mut Hchan = null_mut();
    for &o in lockorder {
        let c = cases[o as usize].chan;
        if c != last {
            // SAFETY: a live channel (checked by the C API).
            unsafe { (*c).lock.lock() };
            last = c;
        }
    }
}

fn selunlock(cases: &[SelectCase], lockorder: &[u16]) {
    // In reverse, skipping duplicates (the same channel may appear in several cases).
    for i in (0..lockorder.len()).rev() {
        let c = cases[lockorder[i] as usize].chan;
        if i > 0 && c == cases[lockorder[i - 1] as usize].chan {
            continue;
        }
        // SAFETY: locked by sellock.
        unsafe { (*c).lock.unlock() };
    }
}

struct ParkArgs<'a> {
    cases: &'a [SelectCase],
    lockorder: &'a [u16],
}

fn selparkcommit(_: *mut G, a: usize) -> bool {
    // SAFETY: a points at the ParkArgs on the parking goroutine's stack, live during park.
    let a = unsafe { &*(a as *const ParkArgs<'_>) };
    selunlock(a.cases, a.lockorder);
    true
}

/// Scratch space of one select: poll order, lock order, one sudog per case.
struct Scratch {
    pollorder: *mut u16,
    lockorder: *mut u16,
    sudogs: *mut Sudog,
    bytes: usize,
}

fn scratch_bytes(n: usize) -> usize {
    let orders = (2 * n * 2 + 15) & !15;
    orders + n * core::mem::size_of::<Sudog>()
}

/// Runs a select over `cases` (cases with a null channel never proceed). Returns the chosen
/// index, or WouldBlock when `block` is false and nothing is ready.
///
/// # Safety
/// Every non-null `chan` is a live channel; `elem` pointers are valid for the element size.
pub unsafe fn select(cases: &mut [SelectCase], block: bool) -> Result<usize, ChanError> {
    let n = cases.len();
    let mut small_poll = [0u16; SMALL_SELECT];
    let mut small_lock = [0u16; SMALL_SELECT];
    let mut small_sg = [const { Sudog::new() }; SMALL_SELECT];
    let heap = if n > SMALL_SELECT {
        let bytes = scratch_bytes(n);
        let p = rtalloc::alloc(bytes);
        if p.is_null() {
            crate::throw!("select: out of memory for {} cases", n);
        }
        let orders = (2 * n * 2 + 15) & !15;
        Some(Scratch {
            pollorder: p as *mut u16,
            // SAFETY: inside the block.
            lockorder: unsafe { (p as *mut u16).add(n) },
            // SAFETY: inside the block, 16-byte aligned.
            sudogs: unsafe { p.add(orders) as *mut Sudog },
            bytes,
        })
    } else {
        None
    };
    let (pollorder, lockorder, sudogs): (&mut [u16], &mut [u16], &mut [Sudog]) = match &heap {
        // SAFETY: the scratch block holds n of each, zeroed (a zero Sudog is a valid empty one).
        Some(s) => unsafe {
            (
                core::slice::from_raw_parts_mut(s.pollorder, n),
                core::slice::from_raw_parts_mut(s.lockorder, n),
                core::slice::from_raw_parts_mut(s.sudogs, n),
            )
        },
        None => (
            &mut small_poll[..n],
            &mut small_lock[..n],
            &mut small_sg[..n],
        ),
    };
    // SAFETY: per the contract.
    let r = unsafe { selectgo(cases, pollorder, lockorder, sudogs, block) };
    if let Some(s) = heap {
        // SAFETY: allocated above with this size; nothing points into it any more.
        unsafe { rtalloc::free(s.pollorder as *mut u8, s.bytes) };
    }
    r
}

unsafe fn selectgo(
    cases: &mut [SelectCase],
    pollorder_buf: &mut [u16],
    lockorder_buf: &mut [u16],
    sudogs: &mut [Sudog],
    block: bool,
) -> Result<usize, ChanError> {
    // Random poll order over the cases with a channel (Fisher-Yates, inside-out).
    let mut norder = 0;
    for i in 0..cases.len() {
        cases[i].ok = 0;
        if cases[i].chan.is_null() {
            continue;
        }
        let j = proc::cheaprand() as usize % (norder + 1);
        pollorder_buf[norder] = pollorder_buf[j];
        pollorder_buf[j] = i as u16;
        norder += 1;
    }
    let pollorder = &pollorder_buf[..norder];
    // Lock order: by channel address (insertion sort; selects are small).
    let lockorder = &mut lockorder_buf[..norder];
    lockorder.copy_from_slice(pollorder);
    for i in 1..norder {
        let mut j = i;
        while j > 0
            && (cases[lockorder[j - 1] as usize].chan as usize)
                > (cases[lockorder[j] as usize].chan as usize)
        {
            lockorder.swap(j - 1, j);
            j -= 1;
        }
    }
    let lockorder = &lockorder[..];

    if norder == 0 {
        if !block {
            return Err(ChanError::WouldBlock);
        }
        // Go's `select {}`: block forever.
        proc::gopark(|_, _| true, 0, WaitReason::SelectNoCases);
        crate::throw!("select with no cases was woken");
    }

    sellock(cases, lockorder);

    // Pass 1: anything ready?
    for &i in pollorder {
        let i = i as usize;
        // SAFETY: live channels, locked.
        let c = unsafe { &mut *cases[i].chan };
        let elem = cases[i].elem;
        if cases[i].dir == DIR_RECV {
            let sg = c.sendq.dequeue();
            if !sg.is_null() {
                recv_from_sender(c, sg, elem);
                let g = wake_waiter(sg, true);
                selunlock(cases, lockorder);
                proc::goready(g);
                cases[i].ok = 1;
                return Ok(i);
            }
            if c.qcount > 0 {
                buf_take(c, elem);
                selunlock(cases, lockorder);
                cases[i].ok = 1;
                return Ok(i);
            }
            if c.closed {
                let n = c.elemsize;
                selunlock(cases, lockorder);
                copy_elem(elem, ptr::null(), n);
                cases[i].ok = 0;
                return Ok(i);
            }
        } else {
            if c.closed {
                selunlock(cases, lockorder);
                cases[i].ok = 0;
                return Ok(i);
            }
            let sg = c.recvq.dequeue();
            if !sg.is_null() {
                // SAFETY: the receiver's sudog is live until woken.
                copy_elem(unsafe { (*sg).elem }, elem, c.elemsize);
                let g = wake_waiter(sg, true);
                selunlock(cases, lockorder);
                proc::goready(g);
                cases[i].ok = 1;
                return Ok(i);
            }
            if c.qcount < c.dataqsiz {
                buf_put(c, elem);
                selunlock(cases, lockorder);
                cases[i].ok = 1;
                return Ok(i);
            }
        }
    }

    if !block {
        selunlock(cases, lockorder);
        return Err(ChanError::WouldBlock);
    }

    // Pass 2: enqueue on every channel, in lock order, and park.
    let gp = proc::getg();
    // SAFETY: the running G.
    let g = unsafe { &mut *gp };
    g.select_done.store(0, Ordering::Release);
    g.param = null_mut();
    let mut prev: *mut Sudog = null_mut();
    for &o in lockorder {
        let i = o as usize;
        let sg: *mut Sudog = &mut sudogs[i];
        // SAFETY: our own scratch sudog; live channel, locked.
        unsafe {
            *sg = Sudog::new();
            (*sg).g = gp;
            (*sg).is_select = true;
            (*sg).elem = cases[i].elem;
            (*sg).c = cases[i].chan;
            (*sg).casei = o;
            if prev.is_null() {
                g.waiting = sg;
            } else {
                (*prev).waitlink = sg;
            }
            prev = sg;
            let c = &mut *cases[i].chan;
            if cases[i].dir == DIR_RECV {
                c.recvq.enqueue(sg);
            } else {
                c.sendq.enqueue(sg);
            }
        }
    }
    let args = ParkArgs { cases, lockorder };
    proc::gopark(
        selparkcommit,
        &args as *const ParkArgs<'_> as usize,
        WaitReason::Select,
    );

    // Pass 3: woken by the winner's channel; unlink the other sudogs.
    sellock(cases, lockorder);
    let winner = g.param;
    g.param = null_mut();
    let mut casi = usize::MAX;
    let mut success = false;
    let mut sg = g.waiting;
    while !sg.is_null() {
        // SAFETY: our scratch sudogs, linked in lock order.
        let s = unsafe { &mut *sg };
        let i = s.casei as usize;
        if sg == winner {
            casi = i;
            success = s.success;
        } else {
            // SAFETY: live channel, locked.
            let c = unsafe { &mut *cases[i].chan };
            let q = if cases[i].dir == DIR_RECV {
                &mut c.recvq
            } else {
                &mut c.sendq
            };
            // A waker may already have dropped it while skipping a finished select.
            if q.contains(sg) {
                q.unlink(sg);
            }
        }
        let next = s.waitlink;
        s.waitlink = null_mut();
        sg = next;
    }
    g.waiting = null_mut();
    selunlock(cases, lockorder);
    if casi == usize::MAX {
        crate::throw!("select: woken without a winning case");
    }
    cases[casi].ok = success as i32;
    Ok(casi)
}
