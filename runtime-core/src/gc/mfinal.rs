//! Finalizers and weak pointers (Go's mfinal.go and Go 1.24's weak pointers; bdwgc's
//! GC_register_finalizer and disappearing links are built on them).
//!
//! # How it works
//!
//! A finalizer is `fn(obj, arg)` attached to the start of a heap object (`grt_set_finalizer`),
//! kept with the object's span, as Go keeps it in the span's specials: a [`FinSpan`] per span
//! that has any, with a record per object slot and a bit per slot that has a finalizer. Setting
//! one costs an index, not a hash probe, and mark termination walks the finalizers a bitmap
//! word (64 objects) at a time against the span's mark bits, in address order: only in the
//! FinSpans where the concurrent pass found an unmarked finalizable object, or that got a
//! finalizer on an unmarked object since (`State::cand`), when that pass ran. The records
//! are not roots for the objects (else none would ever die), but their `arg`s are: the program
//! may hand grt the only pointer to what the finalizer needs.
//!
//! A span's `FinSpan` lives while the span has a finalizer: an object with one is always
//! marked at mark termination (it is reachable, or kept for its finalizer), so its span is
//! never freed. [`prepare`], before mark termination, detaches the `FinSpan`s left empty
//! (their span may die in the sweep to come; mark termination detaches those it walks and
//! finds empty) and frees the ones detached (not with the world stopped: rtalloc's lock may
//! be held by a stopped thread).
//!
//! A weak pointer (`grt_weak_make`) is a cell of grt's own memory that holds an object's
//! address where the collector does not look. `grt_weak_get` returns the object, or NULL once
//! the object has died; while a cycle marks it shades the object before it lets go of the
//! table's lock, so an object someone just got is never cleared by that cycle (Go's
//! weak.Pointer.Value does the same).
//!
//! At mark termination, with the world stopped and marking drained (`mark_termination`):
//! 1. every weak cell whose object is not marked is cleared (so weak pointers read NULL
//!    before the object's finalizer runs, as in Go);
//! 2. what unmarked finalizable objects point to is marked (not the objects): an object
//!    reachable from another finalizable one waits for that one's finalizer first.
//!    Mostly done before the stop, with the world running, as Go's markrootSpans does
//!    ([`markroot_spans`]: once the collector marks alone, just before mark termination):
//!    the contents of every finalizable object not marked yet are greyed, and from then on
//!    a finalizer set greys its object's contents as it is set. Marking an object's
//!    contents early only keeps what a marked object would keep anyway, or floating
//!    garbage; what the pass marks is counted as kept for finalizers (the heap goal does
//!    not grow over it). From then on, with `GRT_STORE`'s barrier, any pointer stored into
//!    such an object is shaded, so mark termination has nothing left to do here. In a cycle
//!    that tracks plain stores (dirty.rs) a store into an unmarked object is seen by no one:
//!    mark termination reads the unmarked finalizable objects again, and drains only what
//!    was stored since the pass. The pass is not made while a short link or a weak cell
//!    exists: step 1 must see the marks from before this step, and an early mark would keep
//!    such a link from clearing (a link made between the pass and mark termination, to what
//!    only a finalizable object reaches, clears a cycle late);
//! 3. every finalizer whose object is still not marked is due: the object is marked (it and
//!    all it reaches, marked in step 2, live one more cycle, for the finalizer) and its record
//!    made pending in its span, a bitmap word at a time; the world running again, pending
//!    records move to the queue (`queue_pending_locked`: the collector's wake of the
//!    finalizer goroutine, or whoever takes FIN_LOCK to set or run finalizers first). A
//!    second cycle frees the object if the finalizer left it unreachable.
//!
//! A disappearing link (bdwgc's `GC_general_register_disappearing_link`, `grt_link_register`)
//! is a word of the program's (`link`: static data, a heap object, malloc'd memory) that the
//! collector sets to 0 when the cycle finds its object unreachable: at mark termination, with
//! the world stopped, so no thread reads the link between the decision and the clearing. A
//! short link is cleared with the weak cells (step 1), a long one only after step 3's marking
//! (an object kept for its finalizer keeps its long links). After that marking, a link whose
//! own word lies in a heap object that died is forgotten without a write (the object may be
//! handed out again); not before it, since the finalizer marking may keep that object. The tables are keyed by the link's address and hold the object's start where the
//! collector does not look.
//!
//! Reading a link holds a race the world stop alone does not close: a thread that has read
//! the hidden word but not yet turned it into a pointer holds no pointer, and a mark
//! termination in between frees the object it is about to use (bdwgc asks for its allocator
//! lock around the read). So a link is read under a lock mark termination takes first:
//! `grt_link_get` (under `FIN_LOCK`) returns the object itself, and `LINK_LOCK`
//! (`grt_gc_lock_links`, gc.h's GC_call_with_alloc_lock) lets a program reveal its own
//! hidden pointers with no mark termination starting meanwhile.
//!
//! A disclaim (`grt_set_disclaim`, bdwgc's disclaim procedures, GC_register_disclaim_proc)
//! is a function `fn(obj, arg) -> int` asked, each time a cycle finds its object unreachable,
//! whether the object may go: the weak hash table's pattern, where a lookup revives an
//! entry through a hidden pointer under the table's lock (`grt_gc_set_mark_bit`), and the
//! disclaim, under the same lock, lets go of the entries nobody revived. At mark
//! termination, after the finalizers (steps 2 and 3 again):
//! 2'. what an unmarked object with a `DISC_MARK_CONTENTS` disclaim points to is marked,
//!    not the object (bdwgc's mark_unconditionally): its disclaim may keep it, and with it
//!    what it points to. Concurrently too, as step 2;
//! 3'. each registered object still unmarked is made pending: queued, and marked with all
//!    it reaches, like a finalizer's object. Until its disclaim has returned, the object's
//!    mark as the program sees it (`disclaim_mark`) is whether `grt_gc_set_mark_bit` revived
//!    it since; the collector's own mark bits are not involved, so a cycle that starts in
//!    between changes nothing. The finalizer goroutine calls `fn`: nonzero keeps the
//!    object registered (asked again when a later cycle finds it unreachable), 0 drops the
//!    registration (a later cycle frees the object once unreachable). A registered object
//!    is thus never freed: it is asked first.
//!
//! An uncollectable object (`grt_alloc_uncollectable`, bdwgc's GC_malloc_uncollectable) is
//! in a third table: each cycle takes it as a root (marked, and scanned unless atomic) until
//! `grt_free` takes it out; then it is an ordinary object, freed once unreachable.
//!
//! The queue is run by the finalizer goroutine (started by the first `grt_set_finalizer`,
//! woken after a cycle that queued something), or by the program itself with
//! `grt_run_finalizers`. Queued objects and args are roots until their finalizer ran.
//!
//! # Who may touch what
//! `FIN_LOCK` guards the tables, the queue and the weak cells. The collector takes it before
//! it stops the world (its lock order: LINK, REG, ALLCHANS, ROOTS, FIN, HEAP, MARK, RESCAN,
//! SUSPEND: mgc.rs), so no stopped thread holds it at mark termination. Finalizers run
//! without it. Setting a finalizer, and the concurrent pass, take MARK_LOCK under it (to
//! grey an object's contents), in that order.

use core::ffi::c_void;
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::errors::{report, GRT_EINVAL, GRT_ENOMEM, GRT_OK};
use crate::lock::Lock;
use crate::rtvec::RtVec;
use crate::runtime2::{WaitReason, G};
use crate::{mgcmark, mheap, proc, rtalloc};

pub type FinFn = unsafe extern "C" fn(*mut c_void, *mut c_void);
/// A disclaim, `fn(obj, arg)`: nonzero keeps the object.
pub type DiscFn = unsafe extern "C" fn(*mut c_void, *mut c_void) -> i32;

pub static FIN_LOCK: Lock = Lock::new();
/// Held by a program revealing the hidden pointers in its links (`grt_gc_lock_links`); the
/// collector takes it first of all before it stops the world (mgc.rs `world_lock`).
pub static LINK_LOCK: Lock = Lock::new();

/// Keys of the table: 0 is an empty slot, 1 a deleted one (no object starts there).
const EMPTY: usize = 0;
const TOMB: usize = 1;

#[derive(Clone, Copy)]
struct Entry {
    obj: usize,
    f: Option<FinFn>,
    arg: usize,
    /// Disclaims: `DISC_*`.
    flags: usize,
}

const NO_ENTRY: Entry = Entry {
    obj: EMPTY,
    f: None,
    arg: 0,
    flags: 0,
};

/// Open addressing, linear probing; capacity a power of two, at most half full (tombstones
/// count).
struct Table {
    slots: *mut Entry,
    cap: usize,
    used: usize,
    live: usize,
    /// Bumped by every rehash ([`Table::grow`]): a walk that drops FIN_LOCK sees that its
    /// indexes moved (`markroot_spans`).
    gen: usize,
}

/// A finalizer due to run.
#[derive(Clone, Copy)]
struct Due {
    obj: usize,
    f: FinFn,
    arg: usize,
}

/// A weak pointer's cell (grt's memory, never scanned).
#[repr(C)]
pub struct Weak {
    magic: u64,
    target: usize,
    /// Its index in the list of live cells.
    idx: usize,
}

const WEAK_MAGIC: u64 = 0x6772_7477_6561_6b31; // "grtweak1"
const WEAK_DEAD: u64 = 0x6772_7477_6561_6b30;

/// The finalizers set on one span's objects. FIN_LOCK guards it, and the span's `fins`.
#[repr(C)]
struct FinSpan {
    /// Its span; null once detached (to be freed by `prepare`).
    span: *mut mheap::Span,
    /// Record slots (the span's `nelems` when made; it keeps them while attached).
    n: usize,
    /// Bits set in `bits`.
    count: usize,
    /// The object slots that have a finalizer.
    bits: [u64; mheap::BITMAP_WORDS],
    /// Slots whose finalizer mark termination found due: their objects marked, their records
    /// kept here until `queue_pending_locked` moves them to the queue (world running).
    pending: [u64; mheap::BITMAP_WORDS],
    // `n` FinRecs follow; a record is written before its bit is set, and read only then.
}

#[derive(Clone, Copy)]
struct FinRec {
    f: FinFn,
    arg: usize,
}

impl FinSpan {
    fn bytes(n: usize) -> usize {
        core::mem::size_of::<FinSpan>() + n * core::mem::size_of::<FinRec>()
    }

    fn rec(&mut self, idx: usize) -> &mut FinRec {
        debug_assert!(idx < self.n);
        // SAFETY: `n` records follow the header in its allocation (`finspan`).
        unsafe { &mut *((self as *mut FinSpan).add(1) as *mut FinRec).add(idx) }
    }

    /// Still its span's: attached, and the span not freed since (`free_span` and `new_span`
    /// clear `fins`). A span with a finalizer is never freed (`set_finalizer` refuses an
    /// object the last cycle found dead); this is the second line.
    fn attached(&self) -> bool {
        // SAFETY: span structs are never freed (recycled); `fins` is a word, written by
        // `new_span` (null) or under FIN_LOCK.
        !self.span.is_null()
            && unsafe { ptr::read_volatile(ptr::addr_of!((*self.span).fins)) }
                == self as *const FinSpan as *mut c_void
    }

    fn has(&self, idx: usize) -> bool {
        self.bits[idx / 64] & (1 << (idx % 64)) != 0
    }

    fn set(&mut self, idx: usize, r: FinRec) {
        *self.rec(idx) = r;
        if !self.has(idx) {
            self.bits[idx / 64] |= 1 << (idx % 64);
            self.count += 1;
            st().nfins += 1;
        }
    }

    fn clear(&mut self, idx: usize) {
        if self.has(idx) {
            self.bits[idx / 64] &= !(1 << (idx % 64));
            self.count -= 1;
            st().nfins -= 1;
        }
    }

    /// Calls `f(self, idx)` for each slot with a finalizer, a bitmap word at a time (`f` may
    /// clear the bit it is given).
    fn for_each(&mut self, mut f: impl FnMut(&mut FinSpan, usize)) {
        if self.count == 0 || !self.attached() {
            return;
        }
        // SAFETY: the attached span is live (see the module comment).
        let sp = unsafe { &*self.span };
        for w in 0..self.n.div_ceil(64) {
            // Allocated slots only: a bit on a free slot (which set_finalizer's check rules
            // out) is never taken for an object.
            let m = self.bits[w] & sp.alloc[w].load(Ordering::Relaxed);
            for idx in mheap::bit_slots(w, m) {
                f(self, idx);
            }
        }
    }

    /// Calls `f(idx)` for each slot with a finalizer whose object is not marked, reading the
    /// mark bits as it goes (another marker may set them meanwhile).
    fn for_each_unmarked(&self, mut f: impl FnMut(usize)) {
        if self.count == 0 || !self.attached() {
            return;
        }
        // SAFETY: the attached span is live (see the module comment).
        let sp = unsafe { &*self.span };
        for w in 0..self.n.div_ceil(64) {
            let m = self.bits[w]
                & sp.alloc[w].load(Ordering::Relaxed)
                & !sp.mark[w].load(Ordering::Relaxed);
            for idx in mheap::bit_slots(w, m) {
                if !mheap::is_marked(self.span, idx) {
                    f(idx);
                }
            }
        }
    }

    /// Calls `f(self, idx)` for each pending slot of an attached FinSpan, a bitmap word at a
    /// time, while `f` returns true (`f` may clear the bit it is given). False if `f` stopped.
    fn for_each_pending(&mut self, mut f: impl FnMut(&mut FinSpan, usize) -> bool) -> bool {
        if !self.attached() {
            return true;
        }
        for w in 0..self.n.div_ceil(64) {
            for idx in mheap::bit_slots(w, self.pending[w]) {
                if !f(self, idx) {
                    return false;
                }
            }
        }
        true
    }
}

/// The finalizer records of span `sp`, made when `make` and it has none (None: none, or out
/// of memory). FIN_LOCK held, not with the world stopped when `make`.
fn finspan(sp: *mut mheap::Span, make: bool) -> Option<&'static mut FinSpan> {
    // SAFETY: a live span (it holds the caller's object); `fins` is under FIN_LOCK.
    let cur = unsafe { (*sp).fins } as *mut FinSpan;
    if !cur.is_null() {
        // SAFETY: an attached FinSpan, ours under FIN_LOCK.
        return Some(unsafe { &mut *cur });
    }
    if !make || st().finspans.reserve(1).is_err() {
        return None;
    }
    // SAFETY: as above.
    let n = unsafe { (*sp).nelems };
    let p = rtalloc::alloc(FinSpan::bytes(n)) as *mut FinSpan;
    if p.is_null() {
        return None;
    }
    // SAFETY: fresh memory for the header and n records (records need no initialising: one
    // is read only once its bit is set, and written before).
    unsafe {
        p.write(FinSpan {
            span: sp,
            n,
            count: 0,
            bits: [0; mheap::BITMAP_WORDS],
            pending: [0; mheap::BITMAP_WORDS],
        });
        (*sp).fins = p as *mut c_void;
    }
    let _ = st().finspans.push_in_capacity(p);
    // SAFETY: just made, ours under FIN_LOCK.
    Some(unsafe { &mut *p })
}

/// Every FinSpan, attached or detached (FIN_LOCK held).
fn finspans() -> impl Iterator<Item = &'static mut FinSpan> {
    // SAFETY: the list holds FinSpans that are freed only by `free_detached`, under FIN_LOCK.
    st().finspans.as_slice().iter().map(|&p| unsafe { &mut *p })
}

/// Frees the FinSpans mark termination detached. FIN_LOCK held, the world running.
fn free_detached() {
    let s = st();
    let v = s.finspans.as_mut_slice();
    let mut kept = 0;
    for i in 0..v.len() {
        let p = v[i];
        // SAFETY: a FinSpan of the list.
        let (attached, n, count) = unsafe { ((*p).attached(), (*p).n, (*p).count) };
        if !attached {
            s.nfins -= count;
            // SAFETY: as above.
            s.npending -= unsafe { (*p).pending.iter() }
                .map(|w| w.count_ones() as usize)
                .sum::<usize>();
            // SAFETY: detached (no span points to it) and now out of the list.
            unsafe { rtalloc::free(p as *mut u8, FinSpan::bytes(n)) };
        } else {
            v[kept] = p;
            kept += 1;
        }
    }
    if kept < v.len() {
        let _ = s.finspans.resize(kept, null_mut());
    }
}

struct State {
    /// The spans' finalizer records ([`FinSpan`]), and how many finalizers they hold.
    finspans: RtVec<*mut FinSpan>,
    /// This cycle's candidates for mark termination's pass 2: the FinSpans that had a
    /// finalizable object not marked when [`markroot_spans`] walked them, and those given a
    /// finalizer on an unmarked object since (a FinSpan may be in twice). Marks only grow
    /// within a cycle, so no other FinSpan can hold an object due at mark termination.
    cand: RtVec<*mut FinSpan>,
    nfins: usize,
    /// Bits set in the FinSpans' `pending`.
    npending: usize,
    /// Disappearing links, short [`SHORT`] and long [`LONG`]: `Entry::obj` is the link's
    /// address, `Entry::arg` the object's start (never a root).
    links: [Table; 2],
    /// Uncollectable objects: `Entry::obj` their start.
    uncoll: Table,
    /// Disclaims: `Entry::obj` the object's start, `Entry::f` the function (a [`DiscFn`]
    /// stored as a [`FinFn`]), `Entry::arg` its argument (not a root), `Entry::flags`
    /// `DISC_*`.
    disc: Table,
    /// Pending disclaims' objects, in the order found (roots until their disclaim ran).
    disc_due: RtVec<usize>,
    due: RtVec<Due>,
    weak: RtVec<*mut Weak>,
    /// Freed cells, reused by grt_weak_make (cells are never given back to rtalloc).
    weak_free: RtVec<*mut Weak>,
}

const NO_TABLE: Table = Table {
    slots: null_mut(),
    cap: 0,
    used: 0,
    live: 0,
    gen: 0,
};

const SHORT: usize = 0;
const LONG: usize = 1;
/// `grt_link_*`'s flag: a long link (`GRT_LINK_LONG`).
pub const LINK_LONG: i32 = 1;
/// `grt_link_register`: the link was registered already; `grt_link_move`: the new place is
/// (`GRT_LINK_DUPLICATE`).
pub const LINK_DUPLICATE: i32 = 1;
/// `grt_link_move`: no link is registered at the old place (`GRT_LINK_NOT_FOUND`).
pub const LINK_NOT_FOUND: i32 = 2;

static mut STATE: State = State {
    finspans: RtVec::new(),
    cand: RtVec::new(),
    nfins: 0,
    npending: 0,
    links: [NO_TABLE, NO_TABLE],
    uncoll: NO_TABLE,
    disc: NO_TABLE,
    disc_due: RtVec::new(),
    due: RtVec::new(),
    weak: RtVec::new(),
    weak_free: RtVec::new(),
};

#[allow(clippy::mut_from_ref)]
fn st() -> &'static mut State {
    // SAFETY: callers hold FIN_LOCK.
    unsafe { &mut *ptr::addr_of_mut!(STATE) }
}

/// `grt_set_disclaim`'s flag (`GRT_DISCLAIM_MARK_CONTENTS`): what the object points to is
/// kept whenever the object is asked (step 2' of the module comment).
pub const DISC_MARK_CONTENTS: usize = 1;
/// The object's disclaim is queued or running.
const DISC_PENDING: usize = 2;
/// Revived (`grt_gc_set_mark_bit`) since its disclaim was queued.
const DISC_REVIVED: usize = 4;
/// Disclaim entries pending, in all (read without FIN_LOCK by `disclaim_mark`'s fast path).
static DISC_PENDING_N: AtomicUsize = AtomicUsize::new(0);
/// Disclaims called, in all.
pub static DISCLAIMS_RUN: AtomicU64 = AtomicU64::new(0);

/// The finalizer goroutine, once started; parked while nothing is due.
static FING: AtomicPtr<G> = AtomicPtr::new(null_mut());
/// The finalizer goroutine is parked (under FIN_LOCK).
static mut FING_PARKED: bool = false;
/// Finalizers run, in all.
pub static FINALIZERS_RUN: AtomicU64 = AtomicU64::new(0);

fn hash(obj: usize) -> usize {
    (obj >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 7
}

impl Table {
    #[allow(clippy::mut_from_ref)]
    fn slots(&self) -> &mut [Entry] {
        if self.cap == 0 {
            return &mut [];
        }
        // SAFETY: cap initialised entries, owned by the table (under FIN_LOCK).
        unsafe { core::slice::from_raw_parts_mut(self.slots, self.cap) }
    }

    fn find(&self, obj: usize) -> Option<usize> {
        if self.cap == 0 {
            return None;
        }
        let s = self.slots();
        let mask = self.cap - 1;
        let mut i = hash(obj) & mask;
        // Bounded: at most half the slots are used, so an empty one comes within cap probes.
        for _ in 0..self.cap {
            match s[i].obj {
                EMPTY => return None,
                o if o == obj => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
        None
    }

    fn grow(&mut self) -> bool {
        let ncap = (self.live * 4).max(64).next_power_of_two();
        let bytes = ncap * core::mem::size_of::<Entry>();
        let ns = rtalloc::alloc(bytes) as *mut Entry;
        if ns.is_null() {
            return false;
        }
        // SAFETY: fresh memory for ncap entries.
        unsafe {
            for i in 0..ncap {
                ns.add(i).write(NO_ENTRY);
            }
        }
        let old = core::mem::replace(
            self,
            Table {
                slots: ns,
                cap: ncap,
                used: 0,
                live: 0,
                gen: self.gen.wrapping_add(1),
            },
        );
        for e in old.slots().iter().filter(|e| e.obj > TOMB) {
            self.insert(*e);
        }
        if old.cap != 0 {
            // SAFETY: the old array, no longer used.
            unsafe {
                rtalloc::free(
                    old.slots as *mut u8,
                    old.cap * core::mem::size_of::<Entry>(),
                )
            };
        }
        true
    }

    /// Inserts or replaces. False when out of memory.
    fn insert(&mut self, e: Entry) -> bool {
        if let Some(i) = self.find(e.obj) {
            self.slots()[i] = e;
            return true;
        }
        if (self.used + 1) * 2 > self.cap && !self.grow() {
            return false;
        }
        let mask = self.cap - 1;
        let mut i = hash(e.obj) & mask;
        let s = self.slots();
        while s[i].obj > TOMB {
            i = (i + 1) & mask;
        }
        let fresh = s[i].obj == EMPTY;
        s[i] = e;
        self.used += fresh as usize;
        self.live += 1;
        true
    }

    fn remove_at(&mut self, i: usize) {
        self.slots()[i] = Entry {
            obj: TOMB,
            ..NO_ENTRY
        };
        self.live -= 1;
    }
}

/// Test-only build, `GRTDEBUG=gcnofinmark=1`: an object kept for its finalizer is marked but
/// not scanned, so what it points to dies (the teeth of gc_finalizer).
fn no_fin_mark() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnofinmark
}

/// Moves the finalizers mark termination found due from their spans' records to the queue.
/// FIN_LOCK held, the world running (the queue grows). Out of memory: they stay pending,
/// their objects roots ([`collect_roots_locked`]), for a later call.
fn queue_pending_locked() {
    if st().npending == 0 {
        return;
    }
    for fs in finspans() {
        let queued_all = fs.for_each_pending(|fs, idx| {
            let r = *fs.rec(idx);
            let d = Due {
                obj: mheap::object(fs.span, idx).0,
                f: r.f,
                arg: r.arg,
            };
            // No shade: while pending, the object and arg were roots for the root phase of
            // a cycle marking now.
            if st().due.push(d).is_err() {
                return false;
            }
            fs.pending[idx / 64] &= !(1 << (idx % 64));
            st().npending -= 1;
            true
        });
        if !queued_all {
            return;
        }
    }
}

/// Before the world stops for mark termination: the due finalizers queued, the detached
/// records freed, and room in the disclaims' queue, so `mark_termination_locked` allocates
/// nothing.
pub fn prepare() {
    FIN_LOCK.lock();
    queue_pending_locked();
    // FinSpans left empty (finalizers run or removed) detached here, with the world running
    // (no span is swept while the cycle marks), so that mark termination need only look at
    // its candidates; one left empty after this is detached when a later pass 2 walks it, or
    // seen as detached once its span is freed (`attached`).
    for fs in finspans() {
        if fs.count == 0 && fs.pending == [0; mheap::BITMAP_WORDS] && fs.attached() {
            // SAFETY: the live span it is attached to; FIN_LOCK held.
            unsafe { (*fs.span).fins = null_mut() };
            fs.span = null_mut();
        }
    }
    free_detached();
    let s = st();
    let _ = s.disc_due.reserve(s.disc.live);
    FIN_LOCK.unlock();
}

/// Mark termination's part (see the module comment). World stopped, FIN_LOCK and MARK_LOCK
/// held, marking drained; the caller drains again after. Returns the finalizers and
/// disclaims queued.
pub fn mark_termination_locked() -> usize {
    let s = st();
    // The pass's part is over with the marking (FIN_LOCK held since before the stop).
    PASS_ACTIVE.store(false, Ordering::Relaxed);
    for &w in s.weak.as_slice() {
        // SAFETY: live cells (freed ones leave the list).
        let c = unsafe { &mut *w };
        if c.target != 0 && !is_marked(c.target) {
            c.target = 0;
        }
    }
    clear_links_locked(SHORT);
    // Pass 1 (Go's and bdwgc's order): what unreachable finalizable objects point to is
    // marked first, not the objects themselves (nor through their pointers to themselves).
    // An object reachable from another one with a finalizer is then marked, and only the
    // outermost is finalized this cycle (its finalizer may still use the inner one, whose
    // own finalizer runs a cycle later). A cycle of finalizable objects is never finalized,
    // as in Go.
    let no_scan = no_fin_mark();
    // The concurrent pass did it, and the barrier caught every store since (see the module
    // comment); not where plain stores go unseen.
    let done = CONCURRENT_PASS_DONE.load(Ordering::Relaxed) && !crate::dirty::tracking();
    if !no_scan && !done {
        // Step 2' first (its objects go to the grey buffer the pass drains): the contents of
        // unmarked objects whose disclaim asks for it.
        for i in 0..s.disc.cap {
            let e = s.disc.slots()[i];
            if e.obj > TOMB && e.flags & DISC_MARK_CONTENTS != 0 && !is_marked(e.obj) {
                mgcmark::grey_contents_locked(e.obj);
            }
        }
        // Pass 1 proper, in runs of spans, on two CPUs when it is big (mgcpar.rs). An object
        // marked meanwhile (from another one's contents) is skipped: its own scan, as a
        // marked object, reads its contents.
        let spans = s.finspans.as_slice();
        PASS1_SPANS.store(spans.as_ptr() as *mut *mut FinSpan, Ordering::Relaxed);
        PASS1_N.store(spans.len(), Ordering::Relaxed);
        let bytes = finspans()
            .filter(|fs| fs.attached())
            // SAFETY: an attached span is live.
            .map(|fs| fs.count * unsafe { (*fs.span).elemsize })
            .sum();
        crate::mgcpar::mark_locked(crate::mgcpar::ITEMS_FIN, bytes);
        PASS1_N.store(0, Ordering::Relaxed);
    }
    // Pass 2: what is still unmarked is due: marked and made pending, a bitmap word (64
    // objects) at a time. Marked, not scanned: pass 1 (here, or the concurrent pass with
    // the barrier since) greyed its contents (it was unmarked then too) and the drain marked
    // all they reach; a pointer into itself needs only this mark. The records stay in the span
    // until `queue_pending_locked` moves them to the queue, with the world running (a record
    // pushed per object, with the world stopped, was most of this pause in disclaim_bench).
    let mut queued = 0;
    // The candidates, once the pass walked every FinSpan (in a cycle that tracks plain
    // stores too: pass 1 above only adds marks).
    let use_cand = CONCURRENT_PASS_DONE.load(Ordering::Relaxed) && CAND_OK.load(Ordering::Relaxed);
    let all = if use_cand {
        s.cand.as_slice()
    } else {
        s.finspans.as_slice()
    };
    CAND_OK.store(false, Ordering::Relaxed);
    // SAFETY: FinSpans of the list (candidates are too: none is freed before the next
    // `prepare`, and the list is emptied at the next pass).
    for fs in all.iter().map(|&p| unsafe { &mut *p }) {
        let sp = fs.span;
        if fs.count != 0 && fs.attached() {
            // SAFETY: the attached span is live (see the module comment).
            let sr = unsafe { &*sp };
            for w in 0..fs.n.div_ceil(64) {
                let due = fs.bits[w]
                    & sr.alloc[w].load(Ordering::Relaxed)
                    & !sr.mark[w].load(Ordering::Relaxed);
                if due == 0 {
                    continue;
                }
                let k = due.count_ones() as usize;
                let newly = due & !sr.mark[w].fetch_or(due, Ordering::Relaxed);
                mgcmark::add_marked_locked(newly.count_ones() as usize * sr.elemsize);
                fs.bits[w] &= !due;
                fs.pending[w] |= due;
                fs.count -= k;
                let s = st();
                s.nfins -= k;
                s.npending += k;
                queued += k;
            }
        }
        // Left empty (now or since the last cycle) with nothing pending: detached, as its
        // span may die in the sweep to come; `prepare` frees it.
        if fs.count == 0 && fs.pending == [0; mheap::BITMAP_WORDS] && fs.attached() {
            // SAFETY: the live span it is attached to; FIN_LOCK held, world stopped.
            unsafe { (*sp).fins = null_mut() };
            fs.span = null_mut();
        }
    }
    // Step 3': an unmarked registered object is asked, and kept until it answers. (A pending
    // one is a root: marked.) Without room in the queue it is kept and asked next cycle.
    for i in 0..s.disc.cap {
        let e = s.disc.slots()[i];
        if e.obj <= TOMB || is_marked(e.obj) {
            continue;
        }
        if e.flags & DISC_PENDING != 0 {
            // Off the queue, its disclaim running: the runner's stack holds it, but it is
            // not asked twice at once, and kept whatever the runner's registers show.
            mgcmark::grey_locked(e.obj);
            continue;
        }
        if s.disc_due.push_in_capacity(e.obj) {
            s.disc.slots()[i].flags = (e.flags | DISC_PENDING) & !DISC_REVIVED;
            DISC_PENDING_N.fetch_add(1, Ordering::Relaxed);
            queued += 1;
        }
        if no_scan {
            if let Some((sp, idx)) = mheap::find_object(e.obj) {
                mheap::mark(sp, idx);
            }
        } else {
            mgcmark::grey_locked(e.obj);
        }
    }
    queued
}

/// Set by [`markroot_spans`] once its pass is over, cleared at the start of the next: mark
/// termination may then leave out its own pass 1 (the collector's thread only).
static CONCURRENT_PASS_DONE: AtomicBool = AtomicBool::new(false);
/// From the start of [`markroot_spans`]'s pass to mark termination: a finalizer set greys
/// its object's contents ([`grey_contents_set`]). Written under FIN_LOCK.
static PASS_ACTIVE: AtomicBool = AtomicBool::new(false);
/// The pass walked every FinSpan and `State::cand` holds all candidates (no push failed):
/// mark termination's pass 2 walks those only. Written under FIN_LOCK.
static CAND_OK: AtomicBool = AtomicBool::new(false);
/// Finalizer spans, and disclaim table slots, per hold of FIN_LOCK in [`markroot_spans`].
const MARKROOT_SPANS: usize = 16;
const MARKROOT_DISC_SLOTS: usize = 4096;
/// Restarts of the disclaim walk (its table grown meanwhile) before the rest is walked in one
/// hold of the lock.
const MARKROOT_DISC_RESTARTS: usize = 4;

/// Test-only `gcfinpasswiden`'s sleep after the pass, in ns.
const FIN_PASS_WIDEN_NS: u64 = 5_000_000;

/// Release knob `GRTDEBUG=gcfinatmarkterm=1`: no concurrent pass; mark termination does it
/// all (to compare).
fn at_mark_termination_only() -> bool {
    crate::debug::get().gcfinatmarkterm
}

/// Go's markrootSpans, late: with the world running, once the collector alone marks (the
/// gate closed, everything else reachable marked), greys what every finalizable object not
/// marked yet points to, and what the unmarked objects with a `DISC_MARK_CONTENTS` disclaim
/// point to (steps 2 and 2' of the module comment), a few spans per hold of FIN_LOCK,
/// calling `between` (a batch of marking) between holds. A finalizer set meanwhile greys its
/// own object's contents (`grey_contents_set`). FinSpans are only added from here to mark
/// termination (`prepare`'s `free_detached` ran before, on this thread), so the walk by
/// index sees every one that was there when it started. Late, so that what it marks is
/// what only finalizable objects keep (the caller counts it as revived: the goal does not
/// grow over it), not what stacks not scanned yet hold as well.
///
/// Not made (false: mark termination does it, as before) while a short link or a weak
/// cell exists: those are cleared by what is marked *before* the finalizers' marking (an
/// object reachable only from a finalizable one reads NULL through them), which a mark
/// made now would hide. A link or cell made between this pass and mark termination, to an
/// object only a finalizable one reaches, is cleared a cycle later.
pub fn markroot_spans(mut between: impl FnMut()) -> bool {
    CONCURRENT_PASS_DONE.store(false, Ordering::Relaxed);
    if no_fin_mark() || at_mark_termination_only() {
        return false;
    }
    FIN_LOCK.lock();
    let s = st();
    let clears_early = (s.links[SHORT].live != 0 || !s.weak.as_slice().is_empty())
        // Test-only build, `GRTDEBUG=gcfinpassalways=1`: made all the same (the teeth of
        // gc_links_finpass_teeth).
        && !(cfg!(feature = "testhooks") && crate::debug::get().gcfinpassalways);
    // From here (FIN_LOCK orders it against grt_set_finalizer), a finalizer set greys its
    // object's contents itself.
    PASS_ACTIVE.store(!clears_early, Ordering::Relaxed);
    s.cand.clear();
    // Whole from here unless a push fails, in the pass or in set_finalizer (each clears it).
    CAND_OK.store(!clears_early, Ordering::Relaxed);
    FIN_LOCK.unlock();
    if clears_early {
        return false;
    }
    // Test-only build, `GRTDEBUG=gcnofinpass=1`: nothing greyed, yet trusted (the teeth of
    // gc_finalizer_contents_pass_teeth and gc_disclaim_pass_teeth); no candidates either.
    if cfg!(feature = "testhooks") && crate::debug::get().gcnofinpass {
        FIN_LOCK.with(|| CAND_OK.store(false, Ordering::Relaxed));
    } else {
        pass(&mut between);
    }
    CONCURRENT_PASS_DONE.store(true, Ordering::Relaxed);
    // Test-only build, `GRTDEBUG=gcfinpasswiden=1`: the window between this pass and mark
    // termination, widened (gc_finalizer_contents).
    if cfg!(feature = "testhooks") && crate::debug::get().gcfinpasswiden {
        FIN_PASS_WINDOWS.fetch_add(1, Ordering::Release);
        crate::sys::nanosleep(FIN_PASS_WIDEN_NS);
    }
    true
}

/// [`markroot_spans`]'s walks: the finalizer spans, then the disclaims.
fn pass(between: &mut impl FnMut()) {
    let mut k = 0;
    let mut cand_ok = true;
    loop {
        FIN_LOCK.lock();
        let s = st();
        let hi = (k + MARKROOT_SPANS).min(s.finspans.len());
        if k < hi {
            mgcmark::MARK_LOCK.lock();
            for i in k..hi {
                let p = s.finspans.as_slice()[i];
                // SAFETY: a FinSpan of the list, read under FIN_LOCK (freed only by
                // free_detached, on this thread, before this pass).
                let fs = unsafe { &*p };
                let sp = fs.span;
                let mut any = false;
                fs.for_each_unmarked(|idx| {
                    any = true;
                    mgcmark::grey_contents_locked(mheap::object(sp, idx).0)
                });
                if any && s.cand.push(p).is_err() {
                    cand_ok = false;
                }
            }
            mgcmark::publish_pool_locked();
            mgcmark::MARK_LOCK.unlock();
        }
        if !cand_ok {
            CAND_OK.store(false, Ordering::Relaxed);
        }
        let more = hi < st().finspans.len();
        FIN_LOCK.unlock();
        if !more {
            break;
        }
        k = hi;
        between();
    }
    // The disclaims: by slot. A table grown meanwhile (rehashed: entries moved) is walked
    // again from the start, a few times at most, then the rest in one hold.
    let (mut i, mut restarts) = (0, 0);
    let mut seen = None;
    loop {
        FIN_LOCK.lock();
        let t = &st().disc;
        if seen != Some(t.gen) {
            if seen.is_some() {
                i = 0;
                restarts += 1;
            }
            seen = Some(t.gen);
        }
        let step = if restarts >= MARKROOT_DISC_RESTARTS {
            t.cap
        } else {
            MARKROOT_DISC_SLOTS
        };
        let hi = (i + step).min(t.cap);
        if i < hi {
            mgcmark::MARK_LOCK.lock();
            for e in &t.slots()[i..hi] {
                if e.obj > TOMB && e.flags & DISC_MARK_CONTENTS != 0 && !is_marked(e.obj) {
                    mgcmark::grey_contents_locked(e.obj);
                }
            }
            mgcmark::publish_pool_locked();
            mgcmark::MARK_LOCK.unlock();
        }
        let more = hi < t.cap;
        FIN_LOCK.unlock();
        if !more {
            break;
        }
        i = hi;
        between();
    }
}

/// How many of `gcfinpasswiden`'s windows have opened (test-only build; gc_finalizer_contents
/// sets finalizers inside them).
pub static FIN_PASS_WINDOWS: AtomicU64 = AtomicU64::new(0);

/// A finalizer set on the object at `base`, in `fs` (FIN_LOCK held), while the pass is under
/// way or over: `fs` is a candidate for mark termination's pass 2 if the object is not
/// marked (the pass may have walked `fs` already, or `fs` may be new).
fn note_candidate(fs: &mut FinSpan, base: usize) {
    // Test-only build, `GRTDEBUG=gcnofincand=1`: not noted (gc_finalizer_contents_cand_teeth).
    if cfg!(feature = "testhooks") && crate::debug::get().gcnofincand {
        return;
    }
    if PASS_ACTIVE.load(Ordering::Relaxed)
        && !is_marked(base)
        && st().cand.push(fs as *mut FinSpan).is_err()
    {
        CAND_OK.store(false, Ordering::Relaxed);
    }
}

/// A finalizer, or a disclaim that marks its object's contents, set on the object at `base`
/// (FIN_LOCK held) while [`markroot_spans`]'s pass is under way or over: its contents greyed,
/// as the pass would have done (it may have passed that span already). Not before the pass
/// (it sees the finalizer), nor in a cycle that makes none (its marking would hide an object
/// from a short link or a weak cell that must read NULL).
fn grey_contents_set(base: usize) {
    // Test-only build, `GRTDEBUG=gcnofinsetgrey=1`: not greyed (gc_finalizer_contents' teeth).
    if cfg!(feature = "testhooks") && crate::debug::get().gcnofinsetgrey {
        return;
    }
    // A marked object's own scan reads its contents (one allocated black has none yet).
    if PASS_ACTIVE.load(Ordering::Relaxed) && !is_marked(base) {
        mgcmark::grey_contents_if_marking(base);
    }
}

/// The finalizer spans of the pass 1 under way (`mark_termination_locked`), for its items:
/// read by the collector and mark termination's helper thread, which may not take FIN_LOCK
/// (the collector holds it for them).
static PASS1_SPANS: AtomicPtr<*mut FinSpan> = AtomicPtr::new(null_mut());
static PASS1_N: AtomicUsize = AtomicUsize::new(0);
/// Finalizer spans per item of pass 1.
const PASS1_ITEM_SPANS: usize = 4;

/// Items of pass 1 (mgcpar.rs): runs of [`PASS1_ITEM_SPANS`] finalizer spans.
pub fn pass1_items() -> usize {
    PASS1_N.load(Ordering::Relaxed).div_ceil(PASS1_ITEM_SPANS)
}

/// Item `i` of pass 1: what the unmarked objects with a finalizer in its spans point to is
/// marked, into `m`. The world stopped and FIN_LOCK held by the collector, for whichever
/// marker runs it; the FinSpans are only read (pass 2 changes them, after the pass).
pub(crate) fn pass1_item(i: usize, m: &mut mgcmark::Marker) {
    let n = PASS1_N.load(Ordering::Relaxed);
    let lo = i * PASS1_ITEM_SPANS;
    let hi = (lo + PASS1_ITEM_SPANS).min(n);
    let base = PASS1_SPANS.load(Ordering::Relaxed);
    for k in lo..hi {
        // SAFETY: k < n, the length of the list snapshotted by mark_termination_locked, which
        // does not change while the pass runs (FIN_LOCK held, nothing allocates); each entry a
        // live FinSpan (freed only by free_detached, under FIN_LOCK).
        let fs = unsafe { &**base.add(k) };
        let sp = fs.span;
        fs.for_each_unmarked(|idx| m.grey_contents_at(sp, idx));
    }
}

/// After mark termination's last drain (world stopped, FIN_LOCK held): the long links whose
/// object is not kept, not even for a finalizer, are cleared; then the links of both kinds
/// whose own word lies in an object that died are forgotten (only now: an object that holds
/// a link and is kept for a finalizer keeps its link).
pub fn clear_long_links_locked() {
    clear_links_locked(LONG);
    drop_dead_links_locked(SHORT);
    drop_dead_links_locked(LONG);
}

/// Test-only build, `GRTDEBUG=gcnolinkclear=1`: links to dead objects are dropped without
/// being cleared, so gc_links can be seen to fail.
fn no_link_clear() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnolinkclear
}

/// Clears (writes 0 to) and forgets the links of table `which` whose object is not marked,
/// wherever the link's word lies: in an object that died too, the write lands in memory
/// not yet swept. World stopped, FIN_LOCK held: nothing allocates.
fn clear_links_locked(which: usize) {
    let t = &mut st().links[which];
    let no_clear = no_link_clear();
    for i in 0..t.cap {
        let e = t.slots()[i];
        if e.obj <= TOMB || is_marked(e.arg) {
            continue;
        }
        if !no_clear {
            // SAFETY: the program registered the link as a writable, aligned word that stays
            // so while registered (grt.h); if it lies in a heap object, that object is
            // allocated (a link in an object that died in an earlier cycle was forgotten
            // then) and not swept before the world restarts. A page the plain-store mode
            // protected faults into its handler like any other write.
            unsafe { ptr::write_volatile(e.obj as *mut usize, 0) };
        }
        t.remove_at(i);
    }
}

/// Forgets, without writing, the links of table `which` whose own word lies in a heap object
/// this cycle did not keep (the sweep may hand its memory out again). After the finalizer
/// marking; world stopped, FIN_LOCK held.
fn drop_dead_links_locked(which: usize) {
    let t = &mut st().links[which];
    for i in 0..t.cap {
        let e = t.slots()[i];
        if e.obj > TOMB
            && mheap::find_object(e.obj).is_some_and(|(sp, idx)| !mheap::is_marked(sp, idx))
        {
            t.remove_at(i);
        }
    }
}

fn is_marked(obj: usize) -> bool {
    match mheap::find_object(obj) {
        Some((s, idx)) => mheap::is_marked(s, idx),
        None => true, // not a live object any more: nothing to clear or run
    }
}

/// The args of the finalizers, the objects queued for theirs and the uncollectable objects:
/// roots. FIN_LOCK held.
///
/// At mark termination (`stw`) the finalizers' args and the queue are not walked again (each
/// is O(finalizers), with the world stopped): the concurrent root phase collected them, and a
/// record written since was shaded as it was written ([`shade_record`]); pending records are
/// (their objects are not otherwise roots).
pub fn collect_roots_locked(stw: bool) {
    for fs in finspans() {
        if !stw {
            fs.for_each(|fs, idx| mgcmark::collect_words(&[fs.rec(idx).arg]));
        }
        // Due, not queued yet: the object and its arg, as for a queued one.
        if st().npending != 0 {
            fs.for_each_pending(|fs, idx| {
                let arg = fs.rec(idx).arg;
                mgcmark::collect_words(&[mheap::object(fs.span, idx).0, arg]);
                true
            });
        }
    }
    let s = st();
    for e in s.uncoll.slots().iter().filter(|e| e.obj > TOMB) {
        mgcmark::collect_words(&[e.obj]);
    }
    if !stw {
        for d in s.due.as_slice() {
            mgcmark::collect_words(&[d.obj, d.arg]);
        }
    }
    mgcmark::collect_words(s.disc_due.as_slice());
}

/// While a cycle marks (the barrier on), shades the words of a finalizer record or queue
/// entry as it is written: mark termination does not collect those as roots again (they
/// were collected in the concurrent root phase; `collect_roots_locked`). Dijkstra's barrier
/// on grt's own stores. FIN_LOCK held: a record written before the root phase took the lock
/// is seen by it, and one written after sees the barrier on (turned on before that phase).
fn shade_record(words: &[usize]) {
    // Test-only build, `GRTDEBUG=gcnofinshade=1`: not shaded (the teeth of
    // gc_finalizer_shade).
    if cfg!(feature = "testhooks") && crate::debug::get().gcnofinshade {
        return;
    }
    if crate::mgc::grt_gc_wbenabled.load(Ordering::Acquire) != 0 {
        // Not moved to another M halfway through its write-barrier buffer.
        let _np = crate::preempt::NoPreempt::enter();
        for &w in words {
            mgcmark::shade(w);
        }
    }
}

/// After a cycle that queued finalizers (the collector's thread, world running): wakes the
/// finalizer goroutine.
pub fn wake_fing() {
    FIN_LOCK.lock();
    // SAFETY: under FIN_LOCK.
    let parked = unsafe { core::mem::replace(&mut *ptr::addr_of_mut!(FING_PARKED), false) };
    let due = any_due();
    FIN_LOCK.unlock();
    if parked {
        if due {
            proc::ready_outside(FING.load(Ordering::Acquire));
        } else {
            // Nothing to run after all: it stays parked.
            FIN_LOCK.lock();
            // SAFETY: under FIN_LOCK.
            unsafe { *ptr::addr_of_mut!(FING_PARKED) = true };
            FIN_LOCK.unlock();
        }
    }
}

/// Something is queued (FIN_LOCK held).
fn any_due() -> bool {
    // Pending ones queued first (those that find no memory wait for a later call).
    queue_pending_locked();
    let s = st();
    !s.due.is_empty() || !s.disc_due.is_empty()
}

/// Test-only build, `GRTDEBUG=gcnodisclaimrevive=1`: a pending object's mark reads 0 even
/// when it was revived, so its disclaim drops an entry the program holds (the teeth of
/// gc_disclaim).
fn no_disclaim_revive() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnodisclaimrevive
}

/// The mark the program sees for the object starting at `base` while its disclaim is
/// pending: whether it was revived since the disclaim was queued (`revive` revives it
/// first). None when the object has no pending disclaim (then the collector's mark holds).
pub fn disclaim_mark(base: usize, revive: bool) -> Option<bool> {
    // A mark termination that queued disclaims stopped and restarted the caller's thread
    // since, which orders the count's update before this load.
    if DISC_PENDING_N.load(Ordering::Relaxed) == 0 {
        return None;
    }
    FIN_LOCK.lock();
    let t = &mut st().disc;
    let r = t.find(base).and_then(|i| {
        let e = &mut t.slots()[i];
        if e.flags & DISC_PENDING == 0 {
            return None;
        }
        if revive {
            e.flags |= DISC_REVIVED;
        }
        Some(e.flags & DISC_REVIVED != 0 && !no_disclaim_revive())
    });
    FIN_LOCK.unlock();
    r
}

/// Takes the next pending disclaim off the queue: (object, function, argument), or None when
/// the queue is empty. An object whose disclaim was removed meanwhile is skipped. FIN_LOCK
/// held.
fn next_disclaim_locked() -> Option<Option<(usize, DiscFn, usize)>> {
    let s = st();
    let obj = *s.disc_due.as_slice().last()?;
    let _ = s.disc_due.resize(s.disc_due.len() - 1, 0);
    let next = s.disc.find(obj).and_then(|i| {
        let e = s.disc.slots()[i];
        let f = e.f.filter(|_| e.flags & DISC_PENDING != 0)?;
        // SAFETY: a disclaim entry's function is the DiscFn grt_set_disclaim was given.
        Some((
            obj,
            unsafe { core::mem::transmute::<FinFn, DiscFn>(f) },
            e.arg,
        ))
    });
    Some(next)
}

/// Files a disclaim's answer: nonzero keeps the object registered, 0 drops it.
fn disclaim_answered(obj: usize, keep: bool) {
    FIN_LOCK.lock();
    let t = &mut st().disc;
    if let Some(i) = t.find(obj) {
        if t.slots()[i].flags & DISC_PENDING != 0 {
            DISC_PENDING_N.fetch_sub(1, Ordering::Relaxed);
            if keep {
                t.slots()[i].flags &= !(DISC_PENDING | DISC_REVIVED);
            } else {
                t.remove_at(i);
            }
        }
    }
    FIN_LOCK.unlock();
}

/// Runs the finalizers and disclaims that are due, on the calling thread; returns how many.
pub fn run_due() -> usize {
    let mut n = 0;
    // Bounded by the queues: each round takes entries off one (a finalizer that sets new
    // finalizers adds to its span's records, not to the queue; only mark termination makes
    // finalizers pending and queues disclaims).
    loop {
        FIN_LOCK.lock();
        if let Some(next) = next_disclaim_locked() {
            FIN_LOCK.unlock();
            if let Some((obj, f, arg)) = next {
                // SAFETY: the program's disclaim, with the object it was set on: kept (a
                // root until it left the queue, then on this stack) until it answers.
                let keep = unsafe { f(obj as *mut c_void, arg as *mut c_void) } != 0;
                disclaim_answered(obj, keep);
                DISCLAIMS_RUN.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
            continue;
        }
        queue_pending_locked();
        // Up to RUN_BATCH finalizers per hold of the lock (one at a time, the lock went back
        // and forth with the thread setting finalizers: a futex wake per finalizer). They
        // stay roots on this goroutine's stack until each has run.
        let s = st();
        let k = s.due.len().min(RUN_BATCH);
        let mut batch = [(0usize, None::<FinFn>, 0usize); RUN_BATCH];
        for (i, d) in s.due.as_slice()[s.due.len() - k..].iter().enumerate() {
            batch[i] = (d.obj, Some(d.f), d.arg);
        }
        if k > 0 {
            let _ = s.due.resize(s.due.len() - k, s.due.as_slice()[0]);
        }
        FIN_LOCK.unlock();
        if k == 0 {
            return n;
        }
        // Last queued first, as before batching.
        for slot in batch[..k].iter_mut().rev() {
            let (obj, f, arg) = *slot;
            if let Some(f) = f {
                // SAFETY: the program's finalizer, with the object and arg it was given.
                unsafe { f(obj as *mut c_void, arg as *mut c_void) };
            }
            // The slot no longer keeps the object: once its finalizer ran, it is garbage
            // unless the program kept it (gc_links counts on that).
            // SAFETY: a slot of our own array.
            unsafe { ptr::write_volatile(slot, (0, None, 0)) };
        }
        // Once per batch (a locked add per finalizer was most of this loop).
        FINALIZERS_RUN.fetch_add(k as u64, Ordering::Relaxed);
        n += k;
    }
}

/// Finalizers `run_due` takes off the queue per hold of FIN_LOCK.
const RUN_BATCH: usize = 64;

fn fing_park(_gp: *mut G, _: usize) -> bool {
    FIN_LOCK.unlock();
    true
}

/// The finalizer goroutine.
unsafe extern "C" fn fing(_: *mut c_void) {
    loop {
        run_due();
        FIN_LOCK.lock();
        if any_due() {
            FIN_LOCK.unlock();
            continue;
        }
        // SAFETY: under FIN_LOCK.
        unsafe { *ptr::addr_of_mut!(FING_PARKED) = true };
        // Parked until wake_fing; the unlock step drops FIN_LOCK once we are waiting.
        proc::gopark(fing_park, 0, WaitReason::FinalizerWait);
    }
}

/// `obj` as the start of a live heap object, or GRT_EINVAL with a message for `func`.
fn object_start(obj: *mut c_void, func: &str) -> Result<usize, i32> {
    object_at(obj, func).map(|(base, _, _)| base)
}

/// [`object_start`], with the object's span and index.
fn object_at(obj: *mut c_void, func: &str) -> Result<(usize, *mut mheap::Span, usize), i32> {
    let Some((s, idx)) = mheap::find_object(obj as usize) else {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("{:p} is not an object grt_alloc returned", obj),
        ));
    };
    let base = mheap::object(s, idx).0;
    if base != obj as usize {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!(
                "{:p} points into the object at {:#x}, not to its start",
                obj, base
            ),
        ));
    }
    Ok((base, s, idx))
}

/// `grt_set_finalizer`: on a goroutine (it may start the finalizer goroutine).
pub fn set_finalizer(obj: *mut c_void, f: Option<FinFn>, arg: *mut c_void) -> i32 {
    const F: &str = "grt_set_finalizer";
    let (base, sp, idx) = match object_at(obj, F) {
        Ok(o) => o,
        Err(e) => return e,
    };
    if f.is_some() && FING.load(Ordering::Acquire).is_null() {
        start_fing();
    }
    FIN_LOCK.lock();
    // A due finalizer's record is queued before its slot may be given another.
    queue_pending_locked();
    // The object must still be this span's, and not one the last cycle found dead (the
    // program can only reach such an object through a pointer it hid from the collector; its
    // slot may be freed, its span made anew, by the sweep). In a span swept in this cycle
    // (the usual case: objects are allocated from swept spans) FIN_LOCK keeps it so; in one
    // not swept yet, the heap lock (after FIN_LOCK, in the collector's order) keeps the sweep
    // out meanwhile.
    let mut heap_locked = false;
    let survived = match mheap::allocated_in_swept(sp, idx) {
        Some(a) => a,
        None => {
            mheap::HEAP_LOCK.lock();
            heap_locked = true;
            mheap::survived_locked(sp, idx)
        }
    };
    if !survived || mheap::find_object(obj as usize) != Some((sp, idx)) {
        if heap_locked {
            mheap::HEAP_LOCK.unlock();
        }
        FIN_LOCK.unlock();
        return report(
            GRT_EINVAL,
            F,
            format_args!(
                "{:p} was found unreachable by the last collection (reached through a hidden pointer?)",
                obj
            ),
        );
    }
    let ok = match f {
        Some(f) => finspan(sp, true)
            .map(|fs| {
                fs.set(
                    idx,
                    FinRec {
                        f,
                        arg: arg as usize,
                    },
                );
                shade_record(&[arg as usize]);
                grey_contents_set(base);
                note_candidate(fs, base);
            })
            .is_some(),
        None => {
            if let Some(fs) = finspan(sp, false) {
                fs.clear(idx);
            }
            true
        }
    };
    if heap_locked {
        mheap::HEAP_LOCK.unlock();
    }
    FIN_LOCK.unlock();
    table_result(ok, F, "finalizer records")
}

/// GRT_OK, or GRT_ENOMEM with a message when `what` (records or a table) could not grow.
fn table_result(ok: bool, func: &str, what: &str) -> i32 {
    if ok {
        GRT_OK
    } else {
        report(
            GRT_ENOMEM,
            func,
            format_args!("out of memory for the {}", what),
        )
    }
}

/// `grt_set_disclaim`: on a goroutine or a registered thread (it may start the finalizer
/// goroutine).
pub fn set_disclaim(obj: *mut c_void, f: Option<DiscFn>, arg: *mut c_void, flags: i32) -> i32 {
    const F: &str = "grt_set_disclaim";
    if flags & !(DISC_MARK_CONTENTS as i32) != 0 {
        return report(
            GRT_EINVAL,
            F,
            format_args!("flags {:#x}: 0 or GRT_DISCLAIM_MARK_CONTENTS", flags),
        );
    }
    let base = match object_start(obj, F) {
        Ok(b) => b,
        Err(e) => return e,
    };
    if f.is_some() && FING.load(Ordering::Acquire).is_null() {
        start_fing();
    }
    FIN_LOCK.lock();
    let t = &mut st().disc;
    let old = t.find(base).map(|i| t.slots()[i]);
    let pending = old.map_or(0, |e| e.flags & (DISC_PENDING | DISC_REVIVED));
    let ok = match f {
        // A pending disclaim stays pending (the queue holds the object); the new function
        // is the one asked.
        Some(f) => {
            t.insert(Entry {
                obj: base,
                // SAFETY: stored as a FinFn, called only as the DiscFn it is
                // (next_disclaim_locked).
                f: Some(unsafe { core::mem::transmute::<DiscFn, FinFn>(f) }),
                arg: arg as usize,
                flags: flags as usize | pending,
            }) && {
                if flags as usize & DISC_MARK_CONTENTS != 0 {
                    grey_contents_set(base);
                }
                true
            }
        }
        None => {
            if let Some(i) = t.find(base) {
                if pending != 0 {
                    DISC_PENDING_N.fetch_sub(1, Ordering::Relaxed);
                }
                t.remove_at(i);
            }
            true
        }
    };
    FIN_LOCK.unlock();
    table_result(ok, F, "disclaim table")
}

static FING_START: Lock = Lock::new();

fn start_fing() {
    FING_START.lock();
    if FING.load(Ordering::Acquire).is_null() {
        match proc::newproc_g(fing, null_mut()) {
            Some(gp) => FING.store(gp, Ordering::Release),
            None => crate::throw!("cannot start the finalizer goroutine: out of memory"),
        }
    }
    FING_START.unlock();
}

/// `grt_weak_make`.
pub fn weak_make(obj: *mut c_void) -> *mut Weak {
    const F: &str = "grt_weak_make";
    let Some((s, idx)) = mheap::find_object(obj as usize) else {
        report(
            GRT_EINVAL,
            F,
            format_args!("{:p} is not in an object grt_alloc returned", obj),
        );
        return null_mut();
    };
    let base = mheap::object(s, idx).0;
    FIN_LOCK.lock();
    let state = st();
    let cell = match state.weak_free.as_slice().last().copied() {
        Some(c) => {
            let n = state.weak_free.len() - 1;
            let _ = state.weak_free.resize(n, c);
            c
        }
        None => rtalloc::alloc(core::mem::size_of::<Weak>()) as *mut Weak,
    };
    let idx = state.weak.len();
    if cell.is_null() || state.weak.push(cell).is_err() {
        FIN_LOCK.unlock();
        report(
            GRT_ENOMEM,
            F,
            format_args!("out of memory for a weak pointer"),
        );
        return null_mut();
    }
    // SAFETY: a cell of ours, not on any list but the one just pushed to.
    unsafe {
        cell.write(Weak {
            magic: WEAK_MAGIC,
            target: base,
            idx,
        })
    };
    // The object is reachable (the caller holds it): shade it, as a get would.
    shade_strong(base);
    FIN_LOCK.unlock();
    cell
}

fn check_weak(w: *mut Weak, func: &str) -> Result<(), i32> {
    // SAFETY: only read the magic word of what the caller says is a cell; cells are never
    // unmapped, so one of ours is readable. A pointer that is not ours may fault: the API
    // asks for a handle grt_weak_make returned.
    if w.is_null() || unsafe { ptr::read_volatile(ptr::addr_of!((*w).magic)) } != WEAK_MAGIC {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("{:p} is not a live handle from grt_weak_make", w),
        ));
    }
    Ok(())
}

/// `grt_weak_get`.
pub fn weak_get(w: *mut Weak) -> *mut c_void {
    if check_weak(w, "grt_weak_get").is_err() {
        return null_mut();
    }
    FIN_LOCK.lock();
    // SAFETY: a live cell (checked); its target is under FIN_LOCK.
    let t = unsafe { (*w).target };
    if t != 0 {
        // Before FIN_LOCK goes: mark termination, which clears cells, takes it first. (Where
        // the caller keeps the pointer, its stack or a GRT_STORE, mark termination would
        // find it anyway; a thread that is not a goroutine is not scanned at all, and the
        // shade is what keeps the object for it through this cycle.)
        shade_strong(t);
    }
    FIN_LOCK.unlock();
    t as *mut c_void
}

/// `grt_weak_free`.
pub fn weak_free(w: *mut Weak) -> i32 {
    if let Err(e) = check_weak(w, "grt_weak_free") {
        return e;
    }
    FIN_LOCK.lock();
    let s = st();
    // SAFETY: a cell of ours (checked), on the live list at its idx (under FIN_LOCK).
    unsafe {
        if (*w).magic == WEAK_MAGIC {
            let v = s.weak.as_mut_slice();
            let (i, last) = ((*w).idx, v.len() - 1);
            v.swap(i, last);
            (*v[i]).idx = i;
            let _ = s.weak.resize(last, w);
            (*w).magic = WEAK_DEAD;
            let _ = s.weak_free.push(w);
        }
    }
    FIN_LOCK.unlock();
    GRT_OK
}

/// `grt_alloc_uncollectable[_atomic]`: `n` zeroed bytes the collector never frees (until
/// `grt_free`); null when the heap or the table cannot have them.
pub fn alloc_uncollectable(n: usize, noscan: bool, func: &str) -> *mut c_void {
    let p = crate::mgc::try_alloc(n, noscan);
    if p.is_null() {
        return p;
    }
    // Until it is in the table, the caller's registers hold the only pointer: scanned.
    FIN_LOCK.lock();
    let ok = st().uncoll.insert(Entry {
        obj: p as usize,
        ..NO_ENTRY
    });
    FIN_LOCK.unlock();
    if !ok {
        report(
            GRT_ENOMEM,
            func,
            format_args!("out of memory for the table of uncollectable objects"),
        );
        return null_mut();
    }
    p
}

/// `grt_free`: an uncollectable object becomes an ordinary one; any object is freed by the
/// first cycle that finds it unreachable.
pub fn free(p: *mut c_void) -> i32 {
    const F: &str = "grt_free";
    if p.is_null() {
        return GRT_OK;
    }
    let base = mheap::find_object(p as usize).map(|(s, idx)| mheap::object(s, idx).0);
    if base != Some(p as usize) {
        return report(
            GRT_EINVAL,
            F,
            format_args!("{:p} is not the start of an object grt_alloc returned", p),
        );
    }
    FIN_LOCK.lock();
    let t = &mut st().uncoll;
    if let Some(i) = t.find(p as usize) {
        t.remove_at(i);
    }
    FIN_LOCK.unlock();
    GRT_OK
}

/// `grt_run_all_finalizers` (bdwgc's GC_finalize_all, Java's runFinalizersOnExit): every
/// finalizer set, whether its object is reachable or not, is queued (its object kept until
/// it ran), then the due ones run on the calling thread (the finalizer goroutine may take
/// some). Returns how many ran here.
pub fn finalize_all() -> usize {
    FIN_LOCK.lock();
    queue_pending_locked();
    let _ = st().due.reserve(st().nfins);
    for fs in finspans() {
        let sp = fs.span;
        fs.for_each(|fs, idx| {
            let r = *fs.rec(idx);
            // Without room (out of memory) the finalizer stays set, for a later call or
            // cycle. (A FinSpan left empty is detached by the next mark termination.)
            let obj = mheap::object(sp, idx).0;
            if st().due.push_in_capacity(Due {
                obj,
                f: r.f,
                arg: r.arg,
            }) {
                fs.clear(idx);
                // Queued objects are roots; this one may be unreachable and unmarked.
                shade_record(&[obj, r.arg]);
            }
        });
    }
    FIN_LOCK.unlock();
    run_due()
}

fn link_table(flags: i32, func: &str) -> Result<usize, i32> {
    match flags {
        0 => Ok(SHORT),
        LINK_LONG => Ok(LONG),
        _ => Err(report(
            GRT_EINVAL,
            func,
            format_args!("flags {:#x}: 0 or GRT_LINK_LONG", flags),
        )),
    }
}

fn check_link(link: usize, func: &str) -> Result<(), i32> {
    if link == 0 || link % core::mem::size_of::<usize>() != 0 {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("link {:#x} is not an aligned word", link),
        ));
    }
    Ok(())
}

/// `grt_link_register`.
pub fn link_register(link: usize, obj: usize, flags: i32) -> i32 {
    const F: &str = "grt_link_register";
    let which = match link_table(flags, F).and_then(|w| check_link(link, F).map(|_| w)) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let Some((sp, idx)) = mheap::find_object(obj) else {
        return report(
            GRT_EINVAL,
            F,
            format_args!("{:#x} is not in an object grt_alloc returned", obj),
        );
    };
    let base = mheap::object(sp, idx).0;
    FIN_LOCK.lock();
    let t = &mut st().links[which];
    let r = if t.find(link).is_some() {
        LINK_DUPLICATE
    } else if t.insert(Entry {
        obj: link,
        f: None,
        arg: base,
        flags: 0,
    }) {
        GRT_OK
    } else {
        GRT_ENOMEM
    };
    FIN_LOCK.unlock();
    if r == GRT_ENOMEM {
        return report(
            GRT_ENOMEM,
            F,
            format_args!("out of memory for the link table"),
        );
    }
    r
}

/// `grt_link_get`: the start of the object `link` was registered with while the link is not
/// cleared, else null (also for a link not registered). Under FIN_LOCK, which mark
/// termination holds while it clears links: the object is alive when read, and shaded for a
/// cycle under way; from then on the caller's pointer keeps it.
pub fn link_get(link: usize) -> *mut c_void {
    if link == 0 || link % core::mem::size_of::<usize>() != 0 {
        return null_mut();
    }
    FIN_LOCK.lock();
    let s = st();
    let mut obj = 0;
    for t in s.links.iter() {
        if let Some(i) = t.find(link) {
            // SAFETY: a registered link: an aligned word the program keeps writable.
            if unsafe { ptr::read_volatile(link as *const usize) } != 0 {
                obj = t.slots()[i].arg;
            }
            break;
        }
    }
    if obj != 0 {
        shade_strong(obj);
    }
    FIN_LOCK.unlock();
    obj as *mut c_void
}

/// Shades `p`, which a weak pointer or a link has just handed out as a strong pointer, while
/// a cycle marks (Go's makeStrongFromWeak: `if gcphase != _GCoff`). Between cycles there is
/// nothing to shade for: the next cycle finds the pointer where the caller keeps it. A shade
/// then went into the M's write-barrier buffer, which the next mark termination flushed:
/// every object whose weak pointer was read between two cycles lived through the next one
/// for nothing (64 of 64 through 4 cycles, read after each; gc_weak_float). FIN_LOCK held:
/// the cycle's start and mark termination take it too, so marking does not change meanwhile.
fn shade_strong(p: usize) {
    if mgcmark::marking() {
        mgcmark::shade(p);
    }
}

/// `grt_link_unregister`: 1 if `link` was registered, else 0.
pub fn link_unregister(link: usize, flags: i32) -> i32 {
    let which = match link_table(flags, "grt_link_unregister") {
        Ok(w) => w,
        Err(e) => return e,
    };
    // (0 and 1 are the table's empty and deleted keys: no aligned word is either.)
    if link == 0 || link % core::mem::size_of::<usize>() != 0 {
        return 0;
    }
    FIN_LOCK.lock();
    let t = &mut st().links[which];
    let found = t.find(link).map(|i| t.remove_at(i)).is_some();
    FIN_LOCK.unlock();
    found as i32
}

/// `grt_link_move`.
pub fn link_move(link: usize, new_link: usize, flags: i32) -> i32 {
    const F: &str = "grt_link_move";
    let which = match link_table(flags, F).and_then(|w| check_link(new_link, F).map(|_| w)) {
        Ok(w) => w,
        Err(e) => return e,
    };
    if link == 0 || link % core::mem::size_of::<usize>() != 0 {
        return LINK_NOT_FOUND;
    }
    FIN_LOCK.lock();
    let t = &mut st().links[which];
    let r = match t.find(link) {
        None => LINK_NOT_FOUND,
        Some(_) if new_link == link => GRT_OK,
        Some(_) if t.find(new_link).is_some() => LINK_DUPLICATE,
        Some(i) => {
            // In under the new key first (it may grow the table: indexes change), then the
            // old key out: out of memory leaves the link where it was.
            let e = t.slots()[i];
            if t.insert(Entry { obj: new_link, ..e }) {
                if let Some(j) = t.find(link) {
                    t.remove_at(j);
                }
                GRT_OK
            } else {
                GRT_ENOMEM
            }
        }
    };
    FIN_LOCK.unlock();
    if r == GRT_ENOMEM {
        return report(
            GRT_ENOMEM,
            F,
            format_args!("out of memory for the link table"),
        );
    }
    r
}

// ---- the C API ------------------------------------------------------------------------------

/// `int grt_set_finalizer(void *obj, void (*fn)(void *obj, void *arg), void *arg)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_set_finalizer(obj: *mut c_void, f: Option<FinFn>, arg: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    // A goroutine or a registered thread: its stack is scanned, so `obj` stays reachable
    // while the finalizer is being set.
    if !crate::regthreads::is_registered() {
        if let Err(e) = proc::current_user_g("grt_set_finalizer") {
            return e;
        }
    }
    set_finalizer(obj, f, arg)
}

/// `int grt_set_disclaim(void *obj, int (*fn)(void *obj, void *arg), void *arg, int flags)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_set_disclaim(
    obj: *mut c_void,
    f: Option<DiscFn>,
    arg: *mut c_void,
    flags: i32,
) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if !crate::regthreads::is_registered() {
        if let Err(e) = proc::current_user_g("grt_set_disclaim") {
            return e;
        }
    }
    set_disclaim(obj, f, arg, flags)
}

/// `int grt_run_finalizers(void)`: from a goroutine or a registered thread, whose stack is
/// scanned: the object a finalizer runs on is off the queue (a root) by then, and the
/// caller's stack is what keeps it alive until the finalizer returns.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_run_finalizers() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if let Err(e) = may_run_finalizers("grt_run_finalizers") {
        return e;
    }
    run_due().min(i32::MAX as usize) as i32
}

/// The calling thread may run finalizers (a goroutine or a registered thread: its stack is
/// scanned, and keeps a finalizer's object alive while it runs).
fn may_run_finalizers(func: &str) -> Result<(), i32> {
    // SAFETY: the TLS g slot holds null or a live G.
    let on_g =
        unsafe { proc::getg().as_ref() }.is_some_and(|g| g.kind == crate::runtime2::GKind::User);
    if !on_g && !crate::regthreads::is_registered() {
        return Err(report(
            GRT_EINVAL,
            func,
            format_args!("call it from a goroutine or a registered thread (grt_register_thread): a finalizer's object must stay reachable while it runs"),
        ));
    }
    Ok(())
}

/// `int grt_run_all_finalizers(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_run_all_finalizers() -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    if let Err(e) = may_run_finalizers("grt_run_all_finalizers") {
        return e;
    }
    finalize_all().min(i32::MAX as usize) as i32
}

/// `void *grt_alloc_uncollectable(size_t n)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc_uncollectable(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    alloc_uncollectable(n, false, "grt_alloc_uncollectable")
}

/// `void *grt_alloc_uncollectable_atomic(size_t n)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_alloc_uncollectable_atomic(n: usize) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    proc::preempt_point();
    alloc_uncollectable(n, true, "grt_alloc_uncollectable_atomic")
}

/// `int grt_free(void *p)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_free(p: *mut c_void) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    free(p)
}

/// `grt_weak *grt_weak_make(void *obj)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_weak_make(obj: *mut c_void) -> *mut Weak {
    let _np = crate::preempt::NoPreempt::enter();
    weak_make(obj)
}

/// `void *grt_weak_get(grt_weak *w)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_weak_get(w: *mut Weak) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    weak_get(w)
}

/// `int grt_weak_free(grt_weak *w)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_weak_free(w: *mut Weak) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    weak_free(w)
}

/// `int grt_link_register(void **link, const void *obj, int flags)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_link_register(link: *mut *mut c_void, obj: *const c_void, flags: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    link_register(link as usize, obj as usize, flags)
}

/// `int grt_link_unregister(void **link, int flags)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_link_unregister(link: *mut *mut c_void, flags: i32) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    link_unregister(link as usize, flags)
}

/// `int grt_link_move(void **link, void **new_link, int flags)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_link_move(
    link: *mut *mut c_void,
    new_link: *mut *mut c_void,
    flags: i32,
) -> i32 {
    let _np = crate::preempt::NoPreempt::enter();
    link_move(link as usize, new_link as usize, flags)
}

/// `void *grt_link_get(void **link)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_link_get(link: *mut *mut c_void) -> *mut c_void {
    let _np = crate::preempt::NoPreempt::enter();
    link_get(link as usize)
}

/// `void grt_gc_lock_links(void)`: no mark termination starts until `grt_gc_unlock_links`.
/// A goroutine stays unpreemptible until then (`preempt::enter_runtime`, left by the unlock):
/// switched out with the lock held, it could leave another goroutine spinning for it on the
/// only P.
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_lock_links() {
    let np = crate::preempt::NoPreempt::enter();
    LINK_LOCK.lock();
    // The count this guard took stays until grt_gc_unlock_links.
    core::mem::forget(np);
}

/// `void grt_gc_unlock_links(void)`
#[no_mangle]
#[link_section = "grt_text"]
pub extern "C" fn grt_gc_unlock_links() {
    LINK_LOCK.unlock();
    // Gives back the count grt_gc_lock_links kept (the same goroutine: it was not switched
    // out meanwhile). (This function's own code is in grt_text: never preempted.)
    // SAFETY: the TLS g is null or a live G.
    if let Some(g) = unsafe { proc::getg().as_ref() } {
        crate::preempt::leave_runtime(g);
    }
}
