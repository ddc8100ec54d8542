//! The garbage-collected heap: size-classed spans in mmap'd chunks, large objects, mark bits,
//! sweep. (The collector that drives it — roots, concurrent stack scanning, stack barriers —
//! builds on this; see the GC issue.)
//!
//! # Layout
//!
//! Memory comes from the kernel in chunks of [`CHUNK_BYTES`] (or one chunk of its own for a
//! very large object), each aligned to [`CHUNK_BYTES`] and divided into pages of
//! [`PAGE_BYTES`] (so a span starts on a page, and a large object can be asked for at an
//! alignment of up to [`MAX_IN_CHUNK`]: [`alloc_large_locked`]). The first page of an
//! ordinary chunk is never used ([`FIRST_PAGE`]): the chunk's start is often the end of the
//! mapping below it (the alignment leaves gaps that goroutine and thread stacks fill), and a
//! stale copy of that end (a stack's top, kept in some frame) would otherwise point at the
//! chunk's first object and keep it, and all it reaches, alive (gc_scavenge's 1 GiB spike,
//! in about one run in six). A span is a run of pages of
//! one chunk holding objects of one size class (`nelems` of them, at most [`MAX_NELEMS`]),
//! or one large object. Each chunk has a page table (page -> span) and a free-page bitmap, so
//! any address is mapped to its object in O(log chunks): binary search of the sorted chunk
//! table, then one index. That is the lookup conservative marking needs: every word that
//! points anywhere into an allocated object (interior pointers too) finds the object.
//!
//! # Bits
//!
//! Per span, `alloc` bits (the object is allocated) and `mark` bits (reached in this cycle).
//! Sweep keeps exactly the marked objects (`alloc = mark`), clears the mark bits, and gives
//! back spans that hold nothing. Objects are zeroed when they are handed out, so a swept slot
//! may keep its stale contents until reused.
//!
//! # Lazy sweeping (Go's sweep generations, mgcsweep.go)
//!
//! Mark termination does not sweep; it *flips* ([`flip_locked`], O(size classes)): the heap's
//! `sweepgen` goes up by 2, so every span's `sweepgen` is now `h.sweepgen - 2` ("not swept
//! in this cycle"), every span moves to its class's `unswept` list, and the lists of spans
//! with free slots are emptied. From then on:
//!
//! - no object is allocated from a span not swept in this cycle: its alloc bits still hold
//!   the dead objects, and its mark bits the last cycle's verdict, which a new object would
//!   not be in (the sweep would free it). A span enters the `partial` lists only from a
//!   sweep of this cycle, or new;
//! - an allocation that finds no span with free slots in its class sweeps that class's
//!   unswept spans, one at a time, until one has room ([`sweep_class_locked`]) or it has
//!   swept [`SWEEP_CLASS_BUDGET_PAGES`] pages of them, before it takes fresh pages (out of
//!   memory, it sweeps everything first: [`span_with_room_locked`]); and every refill of an
//!   allocation cache sweeps a few spans of any class besides, so that the sweep keeps ahead
//!   of allocation (Go's proportional sweep);
//! - the collector's thread sweeps the rest in batches of [`SWEEP_BATCH`] spans, taking and
//!   dropping the heap lock around each ([`sweep_some_locked`]), and finishes before the
//!   next cycle marks (a cycle never starts with a span unswept).
//!
//! The heap lock is held for one batch or one class's search at a time, never for a whole
//! sweep.
//!
//! # Pacing counters
//!
//! `live` is Go's heap_live: the bytes marked by the last cycle (set at the flip) plus what
//! was allocated since. Sweeping does not change it (the dead bytes were never counted), so
//! the pacer sees the heap as it will be once swept. `inuse` is the bytes in allocated
//! objects as the bits say, dead ones not yet swept included.
//!
//! # Who touches what
//!
//! Everything here runs under [`HEAP_LOCK`] (an ordinary runtime lock, never taken in a
//! signal handler): allocation, marking's lookups and bit sets, sweeping. Span and chunk
//! metadata live in persistentalloc memory and are never freed (spans are recycled), so a
//! stale pointer to metadata is never a use-after-free.

use core::ptr::{self, null_mut};
use core::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use grt_arch::{MapFlags, ProtFlags};

use crate::lock::Lock;
use crate::{rtalloc, sys};

/// Heap page, in bytes.
pub const PAGE_BYTES: usize = 8192;
/// Memory mapped at a time for ordinary spans, in bytes.
pub const CHUNK_BYTES: usize = 4 << 20;
const PAGES_PER_CHUNK: usize = CHUNK_BYTES / PAGE_BYTES;
/// The first page of an ordinary chunk that may hold a span (see the module comment).
const FIRST_PAGE: usize = 1;
/// Most objects a span holds (16-byte objects in one page).
pub const MAX_NELEMS: usize = PAGE_BYTES / 16;
pub const BITMAP_WORDS: usize = MAX_NELEMS / 64;
/// Objects above this size are large: a span of their own.
pub const MAX_SMALL: usize = 32 << 10;
/// Largest object that still goes into an ordinary chunk; bigger ones get their own mapping.
pub const MAX_IN_CHUNK: usize = CHUNK_BYTES / 2;
/// Chunks the heap can have at once (4 MiB each: 16 GiB of ordinary spans).
const MAX_CHUNKS: usize = 4096;

/// Size classes in bytes: multiples of 16 up to 256, then four steps per doubling up to
/// MAX_SMALL (at most 25 % internal waste).
const CLASSES: [usize; NCLASSES] = {
    let mut c = [0usize; NCLASSES];
    let mut i = 0;
    let mut size = 16;
    while size <= 256 {
        c[i] = size;
        i += 1;
        size += 16;
    }
    let mut base = 256;
    while base < MAX_SMALL {
        let step = base / 4;
        let mut k = 1;
        while k <= 4 {
            c[i] = base + k * step;
            i += 1;
            k += 1;
        }
        base *= 2;
    }
    assert!(i == 16 + 4 * 7);
    c
};
/// Number of size classes.
pub const NCLASSES: usize = 16 + 4 * 7;

/// The size class of a small object of `n` bytes (n <= MAX_SMALL).
#[inline]
pub fn class_of(n: usize) -> usize {
    if n <= 256 {
        // Multiples of 16 up to 256: classes 0..16.
        return n.max(1).div_ceil(16) - 1;
    }
    CLASSES[..NCLASSES].partition_point(|&c| c < n)
}

/// The smallest class size of at least `n` bytes that is a multiple of `align` (n <=
/// MAX_SMALL), if any.
pub fn class_multiple(n: usize, align: usize) -> Option<usize> {
    CLASSES[class_of(n)..]
        .iter()
        .copied()
        .find(|&c| c % align == 0)
}

/// The object size of class `c`, in bytes.
#[inline]
pub fn class_size(c: usize) -> usize {
    CLASSES[c]
}

/// Pages of a span of class `c`: enough for at least 8 objects (1 page for the small ones).
fn span_pages(c: usize) -> usize {
    (CLASSES[c] * 8).div_ceil(PAGE_BYTES).max(1)
}

/// A run of pages: objects of one size, or one large object.
#[repr(C)]
pub struct Span {
    pub base: usize,
    pub npages: usize,
    pub elemsize: usize,
    pub nelems: usize,
    /// Size class, or usize::MAX for a large object.
    pub class: usize,
    /// `offset * divmul >> 32` is `offset / elemsize` for every offset inside the span (Go's
    /// divMagic: a multiply instead of a division on marking's hot path); 0 for large objects.
    pub divmul: u64,
    /// No pointers inside (grt_alloc_atomic): marking does not scan it.
    pub noscan: bool,
    /// Allocated objects, and the next index to try. Atomic words: the collector reads them
    /// (and sets mark bits) without the heap lock while allocation sets them under it.
    pub alloc: [AtomicU64; BITMAP_WORDS],
    pub mark: [AtomicU64; BITMAP_WORDS],
    pub nalloc: usize,
    pub freeindex: usize,
    /// In its class's list of spans with free slots.
    pub in_partial: bool,
    /// Free slots may hold a dead object's bytes (a sweep freed some): zero them when they
    /// are handed out. A new span's pages are zero already.
    pub needzero: bool,
    pub next: *mut Span,
    /// The chunk it belongs to.
    chunk: *mut Chunk,
    /// `h.sweepgen` when last swept (or made); `h.sweepgen - 2` after a flip: not swept in
    /// this cycle. Written under HEAP_LOCK (Release, after the sweep's bits), read without it
    /// by [`allocated_in_swept`].
    sweepgen: AtomicU32,
    /// Next span of its class in the heap's `unswept` or `swept` list.
    classnext: *mut Span,
    /// The finalizers set on its objects (mfinal.rs's `FinSpan`, under FIN_LOCK), or null.
    /// An object with a finalizer is never swept, so a span with any is not freed;
    /// `free_span` and `new_span` set it null (a `FinSpan` that finds its span's `fins` is not
    /// itself is dropped).
    pub fins: *mut core::ffi::c_void,
}

/// The lists of a class, large objects last.
const NLISTS: usize = NCLASSES + 1;
/// Spans swept per batch of the background sweep (one hold of the heap lock), at most.
pub const SWEEP_BATCH: usize = 16;

fn list_index(class: usize) -> usize {
    if class == usize::MAX {
        NCLASSES
    } else {
        class
    }
}

struct Chunk {
    base: usize,
    npages: usize,
    /// A chunk of one large object, unmapped when it dies.
    dedicated: bool,
    /// Page -> span (null: free page).
    spans: *mut *mut Span,
    /// Free pages.
    free: [u64; PAGES_PER_CHUNK / 64],
    /// Free pages given back to the kernel (a subset of `free`), and the pages that were free
    /// at the scavenger's last pass over this chunk.
    scav: [u64; PAGES_PER_CHUNK / 64],
    free_prev: [u64; PAGES_PER_CHUNK / 64],
}

struct Heap {
    chunks: [*mut Chunk; MAX_CHUNKS],
    nchunks: usize,
    /// Per class (small, scanned / noscan): spans with free slots.
    partial: [[*mut Span; NCLASSES]; 2],
    /// Span structs to reuse.
    spare: *mut Span,
    /// Sweep generation (even; +2 per flip).
    sweepgen: u32,
    /// Per class (scanned / noscan; large objects last): every span, in one of two lists:
    /// not swept in this cycle, or swept (or made) in it.
    unswept: [[*mut Span; NLISTS]; 2],
    swept: [[*mut Span; NLISTS]; 2],
    /// Spans still unswept, and where the background sweep looks next (list index).
    nunswept: usize,
    sweep_cursor: usize,
    /// Live spans (on the two lists).
    nspans: usize,
    /// Bytes allocated born marked (black) in the cycle under way: live for the pacer.
    black_bytes: usize,
    /// While the collector marks: new objects are born marked (black), so the cycle that is
    /// running cannot free them.
    alloc_black: bool,
    stats: HeapStats,
}

/// Counters (under HEAP_LOCK).
#[derive(Clone, Copy, Debug, Default)]
pub struct HeapStats {
    /// Bytes in allocated objects (their size classes), dead ones not yet swept included.
    pub inuse: usize,
    /// Go's heap_live: bytes marked by the last cycle plus bytes allocated since.
    pub live: usize,
    /// Spans freed back to the chunks by sweeps, and spans swept by allocations (the rest by
    /// the background sweep), total.
    pub spans_swept_by_alloc: u64,
    /// The most pages' worth of spans one allocation swept looking for room in its class
    /// (at most [`SWEEP_CLASS_BUDGET_PAGES`] and one span).
    pub alloc_sweep_max_pages: u64,
    /// Bytes of free pages given back to the kernel now, and in all.
    pub released: usize,
    pub released_total: u64,
    /// Bytes mapped for the heap.
    pub mapped: usize,
    /// Chunks not mapped because of `MAX_MAPPED`.
    pub limit_refusals: u64,
    /// Objects allocated since the start.
    pub nmalloc: u64,
    /// Bytes allocated since the start (runs for allocation caches when claimed).
    pub alloc_bytes: u64,
    /// Objects freed by sweeps.
    pub nfree: u64,
}

pub static HEAP_LOCK: Lock = Lock::new();
/// Lowest and highest address the heap ever mapped: a word outside is not a heap pointer
/// (the collector's cheap first test, read without the lock).
///
/// The low bound is kept inverted (`!lo`): this static lies in the program's data, which the
/// collector scans as a root, and `lo` itself is the address of the object at the start of
/// the lowest chunk, which would never be freed (seen on aarch64: a 1 GiB spike kept alive
/// by it). `ARENA_HI` is one past the highest chunk's end: inside no object.
pub static ARENA_LO_INV: AtomicUsize = AtomicUsize::new(0);
pub static ARENA_HI: AtomicUsize = AtomicUsize::new(0);

/// Seqlock over the chunk table: odd while `new_chunk` or the sweep changes it. The
/// collector looks objects up without the heap lock ([`find_object`]) and retries when it
/// changed under it. Chunk headers are never freed, so a torn read is never a fault.
static CHUNK_GEN: AtomicU64 = AtomicU64::new(0);

fn chunks_changing() {
    CHUNK_GEN.fetch_add(1, Ordering::AcqRel);
}

fn chunks_changed() {
    CHUNK_GEN.fetch_add(1, Ordering::Release);
}

/// The page-table slot of page `p` of chunk `c`, as an atomic.
///
/// # Safety
/// `c` is a live chunk and `p` one of its pages.
unsafe fn page_slot<'a>(c: *const Chunk, p: usize) -> &'a AtomicPtr<Span> {
    // SAFETY: per the contract; AtomicPtr has the layout of a pointer.
    unsafe { &*((*c).spans.add(p) as *const AtomicPtr<Span>) }
}

/// The range the heap has used so far, as (lo, hi - lo): a word `w` is inside it when
/// `w.wrapping_sub(lo) < len` (one compare). For loops over many words; the range only
/// grows, and a chunk mapped after this read holds only objects allocated after it.
#[inline(always)]
pub fn arena_bounds() -> (usize, usize) {
    let lo = !ARENA_LO_INV.load(Ordering::Relaxed);
    (lo, ARENA_HI.load(Ordering::Relaxed).saturating_sub(lo))
}

/// Is `w` inside the range the heap ever used? (Lock-free; a false positive is fine.)
#[inline(always)]
pub fn in_arena(w: usize) -> bool {
    let (lo, len) = arena_bounds();
    w.wrapping_sub(lo) < len
}

static mut HEAP: Heap = Heap {
    chunks: [null_mut(); MAX_CHUNKS],
    nchunks: 0,
    partial: [[null_mut(); NCLASSES]; 2],
    spare: null_mut(),
    sweepgen: 0,
    unswept: [[null_mut(); NLISTS]; 2],
    swept: [[null_mut(); NLISTS]; 2],
    nunswept: 0,
    sweep_cursor: 0,
    nspans: 0,
    black_bytes: 0,
    alloc_black: false,
    stats: HeapStats {
        inuse: 0,
        live: 0,
        spans_swept_by_alloc: 0,
        alloc_sweep_max_pages: 0,
        released: 0,
        released_total: 0,
        mapped: 0,
        limit_refusals: 0,
        nmalloc: 0,
        alloc_bytes: 0,
        nfree: 0,
    },
};

/// The heap's own static (its chunk table and lists: metadata, never a pointer into an
/// object), as (address, bytes), for the collector's scan of the program's data to skip.
pub fn static_range() -> (usize, usize) {
    (ptr::addr_of!(HEAP) as usize, core::mem::size_of::<Heap>())
}

/// The heap; only with HEAP_LOCK held.
fn heap() -> &'static mut Heap {
    // SAFETY: every caller holds HEAP_LOCK (the pub functions take it, or require it).
    unsafe { &mut *ptr::addr_of_mut!(HEAP) }
}

/// The heap, read only: for mark termination's helper thread, which reads the chunk table
/// and page tables while the collector holds HEAP_LOCK for it (mgcpar.rs).
fn heap_shared() -> &'static Heap {
    // SAFETY: callers run under HEAP_LOCK held by the collector, which changes nothing in
    // the heap's tables while they read.
    unsafe { &*ptr::addr_of!(HEAP) }
}

#[inline(always)]
/// The indices of the bits set in `m`, word `w` of a bitmap (object slots `w * 64 ..`), in
/// order: a bitmap walked a word at a time.
pub fn bit_slots(w: usize, mut m: u64) -> impl Iterator<Item = usize> {
    core::iter::from_fn(move || {
        (m != 0).then(|| {
            let i = w * 64 + m.trailing_zeros() as usize;
            m &= m - 1;
            i
        })
    })
}

fn bit(bits: &[AtomicU64; BITMAP_WORDS], i: usize) -> bool {
    bits[i / 64].load(Ordering::Relaxed) & 1 << (i % 64) != 0
}

#[inline(always)]
fn set(bits: &[AtomicU64; BITMAP_WORDS], i: usize) {
    bits[i / 64].fetch_or(1 << (i % 64), Ordering::Relaxed);
}

const ZERO_BITS: [AtomicU64; BITMAP_WORDS] = [const { AtomicU64::new(0) }; BITMAP_WORDS];

// ---- chunks and pages ------------------------------------------------------------------------

/// The most bytes the heap may have mapped (`grt_gc_set_max_heap`, bdwgc's
/// GC_set_max_heap_size); `usize::MAX`: no limit. A chunk that would pass it is not mapped:
/// the allocation fails as when the kernel refuses memory.
pub static MAX_MAPPED: AtomicUsize = AtomicUsize::new(usize::MAX);

fn new_chunk(bytes: usize, dedicated: bool) -> Option<*mut Chunk> {
    let h = heap();
    if h.nchunks == MAX_CHUNKS {
        return None;
    }
    if h.stats.mapped.saturating_add(bytes) > MAX_MAPPED.load(Ordering::Relaxed) {
        h.stats.limit_refusals += 1;
        return None;
    }
    let base = map_aligned(bytes)?;
    let npages = bytes / PAGE_BYTES;
    let c = rtalloc::persistentalloc(core::mem::size_of::<Chunk>(), 64) as *mut Chunk;
    let spans = rtalloc::alloc(npages * core::mem::size_of::<*mut Span>()) as *mut *mut Span;
    if c.is_null() || spans.is_null() {
        // SAFETY: our fresh mapping.
        unsafe { sys::munmap(base, bytes).ok() };
        return None;
    }
    // SAFETY: fresh zeroed memory for the chunk header.
    unsafe {
        c.write(Chunk {
            base,
            npages,
            dedicated,
            spans,
            free: [0; PAGES_PER_CHUNK / 64],
            scav: [0; PAGES_PER_CHUNK / 64],
            free_prev: [0; PAGES_PER_CHUNK / 64],
        });
        let first = if dedicated { 0 } else { FIRST_PAGE };
        for p in first..npages.min(PAGES_PER_CHUNK) {
            (*c).free[p / 64] |= 1 << (p % 64);
        }
    }
    // Keep the table sorted by base for the binary search.
    let at = h.chunks[..h.nchunks].partition_point(|&k| {
        // SAFETY: chunks in the table are live.
        unsafe { (*k).base < base }
    });
    chunks_changing();
    h.chunks.copy_within(at..h.nchunks, at + 1);
    h.chunks[at] = c;
    h.nchunks += 1;
    chunks_changed();
    crate::dirty::new_chunk(base, bytes);
    h.stats.mapped += bytes;
    ARENA_LO_INV.fetch_max(!base, Ordering::Relaxed);
    ARENA_HI.fetch_max(base + bytes, Ordering::Relaxed);
    Some(c)
}

/// `bytes` of fresh memory at a multiple of [`CHUNK_BYTES`]: a larger mapping, its ends
/// given back.
fn map_aligned(bytes: usize) -> Option<usize> {
    let len = bytes.checked_add(CHUNK_BYTES)?;
    let raw = sys::mmap_anon(len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::empty()).ok()?;
    let base = (raw + CHUNK_BYTES - 1) & !(CHUNK_BYTES - 1);
    // SAFETY: both ends are parts of our fresh mapping that nothing uses.
    unsafe {
        if base > raw {
            sys::munmap(raw, base - raw).ok();
        }
        if raw + len > base + bytes {
            sys::munmap(base + bytes, raw + len - (base + bytes)).ok();
        }
    }
    Some(base)
}

/// The first of `n` contiguous free pages of `cr`, at a multiple of `align` pages (chunks are
/// aligned, so the address is too): first fit.
fn find_run(cr: &Chunk, n: usize, align: usize) -> Option<usize> {
    let free = |q: usize| cr.free[q / 64] & (1 << (q % 64)) != 0;
    if align > 1 {
        // Rare (grt_alloc_aligned above a page): each aligned start in turn.
        return (0..=PAGES_PER_CHUNK.saturating_sub(n))
            .step_by(align)
            .find(|&f| (f..f + n).all(free));
    }
    let mut run = 0;
    let mut p = 0;
    while p < PAGES_PER_CHUNK {
        let word = cr.free[p / 64] >> (p % 64);
        if word == 0 {
            // No free page in the rest of this bitmap word: skip it.
            run = 0;
            p = (p / 64 + 1) * 64;
            continue;
        }
        if word & 1 == 0 {
            run = 0;
            p += word.trailing_zeros() as usize;
            continue;
        }
        run += 1;
        if run == n {
            return Some(p + 1 - n);
        }
        p += 1;
    }
    None
}

/// Takes `n` contiguous free pages of an ordinary chunk, the first at a multiple of `align`
/// pages: first fit, mapping a new chunk if none has room. Returns the chunk and the first
/// page.
fn take_pages(n: usize, align: usize) -> Option<(*mut Chunk, usize)> {
    let h = heap();
    let found = h.chunks[..h.nchunks].iter().find_map(|&c| {
        // SAFETY: live chunk, under HEAP_LOCK.
        let cr = unsafe { &*c };
        (!cr.dedicated)
            .then(|| find_run(cr, n, align))
            .flatten()
            .map(|first| (c, first))
    });
    let (c, first) = match found {
        Some(cf) => cf,
        None => {
            // A fresh chunk: the first aligned page from FIRST_PAGE on (n and align are at
            // most half a chunk's pages each: it fits).
            let first = FIRST_PAGE.next_multiple_of(align.max(1));
            if first + n > PAGES_PER_CHUNK {
                return None;
            }
            (new_chunk(CHUNK_BYTES, false)?, first)
        }
    };
    // SAFETY: a live chunk, under HEAP_LOCK; its pages first..first+n are free.
    let cr = unsafe { &mut *c };
    for q in first..first + n {
        cr.free[q / 64] &= !(1 << (q % 64));
        take_scavenged(cr, q);
    }
    Some((c, first))
}

/// Page `q` of `cr` is taken for a span: if the kernel had it back, it is resident again
/// (and zero, as free pages are).
fn take_scavenged(cr: &mut Chunk, q: usize) {
    let bit = 1u64 << (q % 64);
    if cr.scav[q / 64] & bit != 0 {
        cr.scav[q / 64] &= !bit;
        heap().stats.released -= PAGE_BYTES;
    }
    cr.free_prev[q / 64] &= !bit;
}

fn new_span_struct() -> Option<*mut Span> {
    let h = heap();
    if !h.spare.is_null() {
        let s = h.spare;
        // SAFETY: a spare span struct, ours.
        h.spare = unsafe { (*s).next };
        return Some(s);
    }
    let s = rtalloc::persistentalloc(core::mem::size_of::<Span>(), 64) as *mut Span;
    (!s.is_null()).then_some(s)
}

/// A new span of `npages` for objects of `elemsize` (class, or usize::MAX for large), its
/// first page at a multiple of `align` pages.
fn new_span(
    npages: usize,
    elemsize: usize,
    class: usize,
    noscan: bool,
    align: usize,
) -> Option<*mut Span> {
    let s = new_span_struct()?;
    let bytes = npages * PAGE_BYTES;
    let (chunk, first, base) = if bytes > MAX_IN_CHUNK {
        let c = new_chunk(bytes, true)?;
        // SAFETY: the fresh chunk (aligned to more than any `align` asked for).
        (c, 0, unsafe { (*c).base })
    } else {
        let (c, first) = take_pages(npages, align)?;
        // SAFETY: live chunk.
        (c, first, unsafe { (*c).base } + first * PAGE_BYTES)
    };
    let nelems = if class == usize::MAX {
        1
    } else {
        bytes / elemsize
    };
    // SAFETY: our span struct; chunk pages first..first+npages are ours.
    unsafe {
        s.write(Span {
            base,
            npages,
            elemsize,
            nelems,
            class,
            divmul: if class == usize::MAX {
                0
            } else {
                u32::MAX as u64 / elemsize as u64 + 1
            },
            noscan,
            alloc: ZERO_BITS,
            mark: ZERO_BITS,
            nalloc: 0,
            freeindex: 0,
            in_partial: false,
            needzero: false,
            next: null_mut(),
            chunk,
            sweepgen: AtomicU32::new(heap().sweepgen),
            classnext: null_mut(),
            fins: null_mut(),
        });
        let h = heap();
        let list = &mut h.swept[noscan as usize][list_index(class)];
        (*s).classnext = *list;
        *list = s;
        h.nspans += 1;
        for p in first..first + npages {
            // Release: a lock-free lookup that sees the span sees it written.
            page_slot(chunk, p).store(s, Ordering::Release);
        }
    }
    if !noscan {
        // Not write-protected: while stores are tracked, its pages count as written.
        crate::dirty::new_span(base, bytes);
    }
    Some(s)
}

/// Gives a span's pages back (its chunk's, or the whole mapping for a dedicated chunk).
fn free_span(s: *mut Span) {
    let h = heap();
    // SAFETY: a live span under HEAP_LOCK, with no allocated object.
    let sr = unsafe { &mut *s };
    // No finalizer can be set on its objects now (they are all dead); any records are dropped.
    sr.fins = null_mut();
    // SAFETY: its chunk is live.
    let c = unsafe { &mut *sr.chunk };
    let first = (sr.base - c.base) / PAGE_BYTES;
    for p in first..first + sr.npages {
        // SAFETY: page table entries of this span.
        unsafe { page_slot(c, p).store(null_mut(), Ordering::Release) };
        if p < PAGES_PER_CHUNK {
            c.free[p / 64] |= 1 << (p % 64);
        }
    }
    if c.dedicated {
        let bytes = c.npages * PAGE_BYTES;
        crate::dirty::chunk_unmapping();
        // SAFETY: the object's own mapping; nothing points into it that we will follow
        // (its pages are gone from the table first).
        unsafe { sys::munmap(c.base, bytes).ok() };
        h.stats.mapped -= bytes;
        let at = h.chunks[..h.nchunks]
            .iter()
            .position(|&k| ptr::eq(k, c))
            .expect("a dedicated chunk is in the table");
        chunks_changing();
        h.chunks.copy_within(at + 1..h.nchunks, at);
        h.nchunks -= 1;
        chunks_changed();
        // SAFETY: the page-table array came from rtalloc::alloc with this size.
        unsafe {
            rtalloc::free(
                c.spans as *mut u8,
                c.npages * core::mem::size_of::<*mut Span>(),
            )
        };
    } else {
        // Zero the pages now, so that handing out objects from them later needs no clear.
        // SAFETY: the span's pages, free now.
        unsafe { ptr::write_bytes(sr.base as *mut u8, 0, sr.npages * PAGE_BYTES) };
    }
    sr.next = h.spare;
    h.spare = s;
    h.nspans -= 1;
}

// ---- allocation ----------------------------------------------------------------------------

/// The pages a large object of `n` bytes takes; None past the address space.
pub fn large_pages(n: usize) -> Option<usize> {
    n.checked_add(PAGE_BYTES - 1).map(|b| b / PAGE_BYTES)
}

/// A large object (a span of its own) of at least `n` bytes, starting at a multiple of
/// `align` bytes (a power of two, at most [`MAX_IN_CHUNK`]; a page or less: any span).
/// Null when out of memory. HEAP_LOCK must be held.
pub fn alloc_large_locked(n: usize, noscan: bool, align: usize) -> *mut u8 {
    let h = heap();
    let Some(npages) = large_pages(n) else {
        return null_mut();
    };
    debug_assert!(align.is_power_of_two() && align <= MAX_IN_CHUNK);
    // Give back dead large objects first (Go's deductSweepCredit, roughly): a few unswept
    // ones of either kind.
    for k in 0..2 {
        let mut budget = LARGE_SWEEP_PER_ALLOC;
        while budget > 0 && !h.unswept[k][NCLASSES].is_null() {
            sweep_next_locked(k, NCLASSES);
            h.stats.spans_swept_by_alloc += 1;
            budget -= 1;
        }
    }
    let align_pages = (align / PAGE_BYTES).max(1);
    let Some(s) = new_span(npages, npages * PAGE_BYTES, usize::MAX, noscan, align_pages) else {
        return null_mut();
    };
    // SAFETY: our fresh span.
    let sr = unsafe { &mut *s };
    set(&sr.alloc, 0);
    if h.alloc_black {
        set(&sr.mark, 0);
        h.black_bytes += sr.elemsize;
    }
    sr.nalloc = 1;
    h.stats.inuse += sr.elemsize;
    h.stats.live += sr.elemsize;
    h.stats.alloc_bytes += sr.elemsize as u64;
    h.stats.nmalloc += 1;
    sr.base as *mut u8
}

/// `n` zeroed bytes of heap (`noscan`: marking will not look inside). Null when out of memory.
/// HEAP_LOCK must be held.
pub fn alloc_locked(n: usize, noscan: bool) -> *mut u8 {
    let h = heap();
    if n > MAX_SMALL {
        return alloc_large_locked(n, noscan, PAGE_BYTES);
    }
    let p = {
        let c = class_of(n);
        if h.partial[noscan as usize][c].is_null() {
            sweep_class_locked(c, noscan);
        }
        let Some(s) = span_with_room_locked(c, noscan) else {
            return null_mut();
        };
        let list = &mut h.partial[noscan as usize][c];
        // SAFETY: a span with a free slot (the partial list holds no full span).
        let sr = unsafe { &mut *s };
        let mut i = sr.freeindex;
        while bit(&sr.alloc, i) {
            i += 1;
        }
        set(&sr.alloc, i);
        if h.alloc_black {
            set(&sr.mark, i);
            h.black_bytes += sr.elemsize;
        }
        sr.nalloc += 1;
        sr.freeindex = i + 1;
        if sr.nalloc == sr.nelems {
            *list = sr.next;
            sr.next = null_mut();
            sr.in_partial = false;
        }
        h.stats.inuse += sr.elemsize;
        h.stats.live += sr.elemsize;
        h.stats.alloc_bytes += sr.elemsize as u64;
        let p = sr.base + i * sr.elemsize;
        // The slot may hold what a dead object left (sweep does not clear).
        // SAFETY: the object's bytes, ours now.
        unsafe { ptr::write_bytes(p as *mut u8, 0, sr.elemsize) };
        p
    };
    h.stats.nmalloc += 1;
    p as *mut u8
}

/// The span of class `c` to allocate from, put at the head of its list: the first with room
/// (the caller has swept the class's spans, within the budget), else a fresh one. When no
/// fresh one can be had (the heap limit, the kernel), the budget may have left room behind:
/// the rest of the sweep is done first, in full (spans of this class with room, empty spans
/// of any class whose pages come back), and then a fresh span tried again. None when out of
/// memory even so.
fn span_with_room_locked(c: usize, noscan: bool) -> Option<*mut Span> {
    let h = heap();
    let k = noscan as usize;
    if !h.partial[k][c].is_null() {
        return Some(h.partial[k][c]);
    }
    let s = match new_span(span_pages(c), CLASSES[c], c, noscan, 1) {
        Some(s) => s,
        None => {
            while sweep_some_locked(usize::MAX).1 {}
            if !h.partial[k][c].is_null() {
                return Some(h.partial[k][c]);
            }
            new_span(span_pages(c), CLASSES[c], c, noscan, 1)?
        }
    };
    // SAFETY: our fresh span.
    unsafe { (*s).in_partial = true };
    h.partial[k][c] = s;
    Some(s)
}

/// Claims a run of up to `max` consecutive free slots of class `c` for an M's allocation
/// cache (mcache.rs): they are allocated (and marked, while a cycle marks) as a whole, and
/// zeroed. Returns the run's first and end addresses, or None when out of memory. Objects are
/// counted in `nmalloc` when the cache hands them out, not here. HEAP_LOCK must be held.
pub fn claim_run_locked(c: usize, noscan: bool, max: usize) -> Option<(usize, usize)> {
    let h = heap();
    if h.partial[noscan as usize][c].is_null() {
        sweep_class_locked(c, noscan);
    }
    sweep_credit_locked();
    let s = span_with_room_locked(c, noscan)?;
    let list = &mut h.partial[noscan as usize][c];
    // SAFETY: a span with a free slot (the partial list holds no full span).
    let sr = unsafe { &mut *s };
    let mut i = sr.freeindex;
    while bit(&sr.alloc, i) {
        i += 1;
    }
    let first = i;
    // Extend the run over free slots, a bitmap word at a time (one atomic OR per word).
    let limit = sr.nelems.min(first + max);
    while i < limit {
        let (w, b) = (i / 64, i % 64);
        let free = !sr.alloc[w].load(Ordering::Relaxed) >> b;
        let n = (free.trailing_ones() as usize).min(64 - b).min(limit - i);
        if n == 0 {
            break;
        }
        let mask = if n == 64 { !0 } else { ((1u64 << n) - 1) << b };
        sr.alloc[w].fetch_or(mask, Ordering::Relaxed);
        if h.alloc_black {
            sr.mark[w].fetch_or(mask, Ordering::Relaxed);
        }
        i += n;
        if b + n < 64 {
            break; // an allocated slot ends the run
        }
    }
    let k = i - first;
    sr.nalloc += k;
    sr.freeindex = i;
    if sr.nalloc == sr.nelems {
        *list = sr.next;
        sr.next = null_mut();
        sr.in_partial = false;
    }
    h.stats.inuse += k * sr.elemsize;
    h.stats.live += k * sr.elemsize;
    h.stats.alloc_bytes += (k * sr.elemsize) as u64;
    if h.alloc_black {
        h.black_bytes += k * sr.elemsize;
    }
    let lo = sr.base + first * sr.elemsize;
    let hi = lo + k * sr.elemsize;
    if sr.needzero {
        // SAFETY: the run's bytes, ours now.
        unsafe { ptr::write_bytes(lo as *mut u8, 0, hi - lo) };
    }
    Some((lo, hi))
}

/// Counts objects handed out by the allocation caches.
pub fn count_mallocs_locked(n: u64) {
    heap().stats.nmalloc += n;
}

// ---- lookup and marking --------------------------------------------------------------------

/// The object that contains `addr` (interior pointers too), if it is allocated:
/// (its span, its index). Lock-free (the collector's lookups): a seqlock read of the chunk
/// table; page-table slots and span headers are published with Release before use. An
/// object allocated concurrently may be missed: it was allocated marked (black) anyway.
pub fn find_object(addr: usize) -> Option<(*mut Span, usize)> {
    loop {
        let g1 = CHUNK_GEN.load(Ordering::Acquire);
        if g1 & 1 == 1 {
            core::hint::spin_loop();
            continue;
        }
        let r = find_object_unsync(addr);
        fence(Ordering::Acquire);
        if CHUNK_GEN.load(Ordering::Relaxed) == g1 {
            return r;
        }
    }
}

fn find_object_unsync(addr: usize) -> Option<(*mut Span, usize)> {
    // SAFETY: racy reads of the table (validated by the caller's seqlock); every entry read
    // is a chunk header, and headers are never freed.
    unsafe {
        let h = ptr::addr_of!(HEAP);
        let n = ptr::read_volatile(ptr::addr_of!((*h).nchunks)).min(MAX_CHUNKS);
        let chunks = ptr::addr_of!((*h).chunks) as *const *mut Chunk;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let k = ptr::read_volatile(chunks.add(mid));
            if (*k).base <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == 0 {
            return None;
        }
        let c = ptr::read_volatile(chunks.add(lo - 1));
        let off = addr - (*c).base;
        if off >= (*c).npages * PAGE_BYTES {
            return None;
        }
        let s = page_slot(c, off / PAGE_BYTES).load(Ordering::Acquire);
        if s.is_null() {
            return None;
        }
        let sr = &*s;
        let idx = (((addr - sr.base) as u64 * sr.divmul) >> 32) as usize;
        (idx < sr.nelems && bit(&sr.alloc, idx)).then_some((s, idx))
    }
}

/// Sets the mark bit of object `idx` of `s`; true if it was not marked yet. Any thread (the
/// collector marks without the heap lock while allocation marks new objects under it).
#[inline]
pub fn mark(s: *mut Span, idx: usize) -> bool {
    // SAFETY: spans are never freed (their structs are recycled only by sweep, which never
    // runs while anyone marks).
    let sr = unsafe { &*s };
    let (w, b) = (idx / 64, 1u64 << (idx % 64));
    if sr.mark[w].load(Ordering::Relaxed) & b != 0 {
        return false;
    }
    sr.mark[w].fetch_or(b, Ordering::Relaxed) & b == 0
}

/// Whether object `idx` of `s` is marked.
#[inline]
pub fn is_marked(s: *mut Span, idx: usize) -> bool {
    // SAFETY: as in mark.
    let sr = unsafe { &*s };
    sr.mark[idx / 64].load(Ordering::Relaxed) & (1u64 << (idx % 64)) != 0
}

/// Lock-free [`survived_locked`] for a span swept in this cycle: whether object `idx` of `s`
/// is allocated there (the last cycle kept it, or it was allocated since); None when the span
/// is not swept yet (then ask `survived_locked` under HEAP_LOCK). The caller holds a lock the
/// collector takes before it flips the sweep generation (FIN_LOCK): only a sweep frees an
/// object or a span, and a span swept in this cycle is not swept again before the next
/// flip, so the answer holds while that lock is held.
pub fn allocated_in_swept(s: *mut Span, idx: usize) -> Option<bool> {
    // SAFETY: span structs are never freed; the caller found `s` holding the object.
    let sr = unsafe { &*s };
    // Acquire: the sweep's bits are seen once its sweepgen is. The heap's sweepgen changes
    // only at a flip, which the caller's lock keeps out.
    (sr.sweepgen.load(Ordering::Acquire) == heap().sweepgen).then(|| bit(&sr.alloc, idx))
}

/// Between cycles (no marking), whether the last cycle kept object `idx` of `s` or it was
/// allocated since: its mark bit while its span is not swept yet (the last verdict), its
/// alloc bit once it is (sweep made alloc = mark). HEAP_LOCK held.
pub fn survived_locked(s: *mut Span, idx: usize) -> bool {
    // SAFETY: a live span, under HEAP_LOCK.
    let sr = unsafe { &*s };
    if sr.sweepgen.load(Ordering::Relaxed) == heap().sweepgen {
        bit(&sr.alloc, idx)
    } else {
        is_marked(s, idx)
    }
}

/// Calls `f(start, bytes)` for every object the collector holds live between cycles
/// ([`survived_locked`]), chunk by chunk in address order. HEAP_LOCK held (so `f` must not
/// allocate). Returns how many.
pub fn for_each_live_locked(mut f: impl FnMut(usize, usize)) -> usize {
    let h = heap();
    let mut n = 0;
    for i in 0..h.nchunks {
        let c = h.chunks[i];
        // SAFETY: a live chunk, under HEAP_LOCK.
        let npages = unsafe { (*c).npages };
        let mut p = 0;
        while p < npages {
            // SAFETY: page p of the live chunk c.
            let s = unsafe { page_slot(c, p) }.load(Ordering::Acquire);
            if s.is_null() {
                p += 1;
                continue;
            }
            // SAFETY: a live span (page table entries are cleared before a span is freed).
            let sr = unsafe { &*s };
            for idx in 0..sr.nelems {
                if bit(&sr.alloc, idx) && survived_locked(s, idx) {
                    f(sr.base + idx * sr.elemsize, sr.elemsize);
                    n += 1;
                }
            }
            // Spans are runs of whole pages starting at their first one.
            p += sr.npages.max(1);
        }
    }
    n
}

/// Between cycles: keeps object `idx` of `s` through the sweep to come (sets its mark bit
/// while its span is not swept yet; a swept span already keeps every allocated object).
/// HEAP_LOCK held.
pub fn keep_locked(s: *mut Span, idx: usize) {
    // SAFETY: a live span, under HEAP_LOCK.
    let sr = unsafe { &*s };
    if sr.sweepgen.load(Ordering::Relaxed) != heap().sweepgen && bit(&sr.alloc, idx) && mark(s, idx)
    {
        heap().stats.live += sr.elemsize;
    }
}

/// Marks objects `idx..idx + n` of `s` (a run of slots: a word of the bitmap at a time).
///
/// Returns the bytes newly marked.
pub fn mark_range(s: *mut Span, idx: usize, n: usize) -> usize {
    // SAFETY: as in mark.
    let sr = unsafe { &*s };
    let (mut i, end) = (idx, (idx + n).min(sr.nelems));
    let mut newly = 0;
    while i < end {
        let (w, b) = (i / 64, i % 64);
        let k = (64 - b).min(end - i);
        let bits = if k == 64 {
            !0u64
        } else {
            ((1u64 << k) - 1) << b
        };
        let old = sr.mark[w].fetch_or(bits, Ordering::Relaxed);
        newly += (bits & !old).count_ones() as usize;
        i += k;
    }
    newly * sr.elemsize
}

/// The bytes of object `idx` of `s`, and whether they may hold pointers.
pub fn object(s: *mut Span, idx: usize) -> (usize, usize, bool) {
    // SAFETY: a live span under HEAP_LOCK.
    let sr = unsafe { &*s };
    (sr.base + idx * sr.elemsize, sr.elemsize, !sr.noscan)
}

// ---- sweep ---------------------------------------------------------------------------------

/// Unswept large spans an allocation of a large object sweeps first, at most (per kind).
const LARGE_SWEEP_PER_ALLOC: usize = 8;

/// Test-only build, `GRTDEBUG=gcnosweepgen=1`: the flip keeps the lists of spans with free
/// slots, so allocation goes on in spans not swept in this cycle (the teeth of gc_sweep).
pub static NO_SWEEPGEN_CHECK: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// End of marking (HEAP_LOCK held): every span becomes unswept (see the module comment),
/// and `live` is set to the bytes the cycle found live. Returns the spans to sweep.
pub fn flip_locked(live: usize) -> usize {
    let h = heap();
    // A sweep left unfinished would mix two generations: finish it first (the collector
    // finishes its sweep before each cycle, so this is for sweep_locked's callers).
    while h.nunswept > 0 {
        sweep_some_locked(usize::MAX);
    }
    h.sweepgen = h.sweepgen.wrapping_add(2);
    for k in 0..2 {
        for c in 0..NLISTS {
            h.unswept[k][c] = h.swept[k][c];
            h.swept[k][c] = null_mut();
        }
    }
    let n = h.nspans;
    if !(cfg!(feature = "testhooks") && NO_SWEEPGEN_CHECK.load(Ordering::Relaxed)) {
        h.partial = [[null_mut(); NCLASSES]; 2];
    }
    h.nunswept = n;
    h.sweep_cursor = 0;
    h.stats.live = live;
    h.black_bytes = 0;
    n
}

/// Bytes allocated born marked since the cycle began (reset by the flip).
pub fn black_bytes_locked() -> usize {
    heap().black_bytes
}

/// Sweeps the next unswept span of list `c` of kind `k` (it must have one): keeps exactly
/// the marked objects, clears the marks, gives the span back if it holds nothing, else puts
/// it on the swept list and, with free slots, on its class's list of spans with room.
/// Returns the bytes freed.
fn sweep_next_locked(k: usize, c: usize) -> usize {
    let h = heap();
    let s = h.unswept[k][c];
    // SAFETY: a live span on the unswept list, under HEAP_LOCK.
    let sr = unsafe { &mut *s };
    h.unswept[k][c] = sr.classnext;
    sr.classnext = null_mut();
    h.nunswept -= 1;
    let mut freed = 0;
    let mut live = 0;
    for w in 0..BITMAP_WORDS {
        let (a, mk) = (
            sr.alloc[w].load(Ordering::Relaxed),
            sr.mark[w].load(Ordering::Relaxed),
        );
        let dead = a & !mk;
        if dead != 0 {
            sr.needzero = true;
        }
        freed += dead.count_ones() as usize * sr.elemsize;
        h.stats.nfree += dead.count_ones() as u64;
        sr.alloc[w].store(a & mk, Ordering::Relaxed);
        sr.mark[w].store(0, Ordering::Relaxed);
        live += (a & mk).count_ones() as usize;
    }
    h.stats.inuse -= freed;
    sr.sweepgen.store(h.sweepgen, Ordering::Release);
    sr.nalloc = live;
    sr.freeindex = 0;
    if !(cfg!(feature = "testhooks") && NO_SWEEPGEN_CHECK.load(Ordering::Relaxed)) {
        // The flip emptied the lists of spans with room without visiting them: a span not
        // swept since is on none.
        sr.in_partial = false;
        sr.next = null_mut();
    }
    if live == 0 {
        if sr.in_partial {
            // Only with the teeth knob can an unswept span be on a partial list.
            unlink_partial(sr);
        }
        free_span(s);
        return freed;
    }
    sr.classnext = h.swept[k][c];
    h.swept[k][c] = s;
    if live < sr.nelems && sr.class != usize::MAX && !sr.in_partial {
        let list = &mut h.partial[sr.noscan as usize][sr.class];
        sr.next = *list;
        *list = s;
        sr.in_partial = true;
    }
    freed
}

/// Takes `sr` off its class's list of spans with room.
fn unlink_partial(sr: &mut Span) {
    let h = heap();
    let mut at: *mut *mut Span = &mut h.partial[sr.noscan as usize][sr.class];
    // SAFETY: walking a list of live spans under HEAP_LOCK.
    unsafe {
        while !(*at).is_null() {
            if ptr::eq(*at, sr) {
                *at = sr.next;
                break;
            }
            at = &mut (**at).next;
        }
    }
    sr.next = null_mut();
    sr.in_partial = false;
}

/// How much of its class's unswept spans an allocation sweeps, in pages, looking for a span
/// with room, before it takes fresh pages instead (Go's spanBudget in mcentral.cacheSpan,
/// counted in pages here: a span's sweep reads its bitmaps and, when it frees the span,
/// zeroes its pages). It bounds how long the allocation holds the heap lock, and so waits,
/// when its class's spans are full of live objects. A one-page span sweeps in about 0.75 µs
/// here (a 40 MiB heap's 5,000 spans in 3.7 ms), so 64 pages are about 50 µs, half of what an
/// allocation may wait. The spans passed over are the background sweep's, and the next
/// allocations'.
const SWEEP_CLASS_BUDGET_PAGES: usize = 64;

/// Test-only build, `GRTDEBUG=gcnosweepbudget=1`: an allocation sweeps its class's spans
/// until one has room, however many that takes (gc_sweep_budget's teeth).
pub static NO_SWEEP_BUDGET: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// An allocation of class `c` found no span with room: sweeps that class's unswept spans
/// until one has room, none is left, or [`SWEEP_CLASS_BUDGET_PAGES`] were swept. Returns
/// whether one has room now.
fn sweep_class_locked(c: usize, noscan: bool) -> bool {
    let h = heap();
    let k = noscan as usize;
    let budget = if cfg!(feature = "testhooks") && NO_SWEEP_BUDGET.load(Ordering::Relaxed) {
        usize::MAX
    } else {
        SWEEP_CLASS_BUDGET_PAGES
    };
    let (mut spans, mut pages) = (0u64, 0usize);
    while pages < budget && h.partial[k][c].is_null() && !h.unswept[k][c].is_null() {
        // SAFETY: the head of the unswept list, a live span under HEAP_LOCK.
        pages += unsafe { (*h.unswept[k][c]).npages };
        sweep_next_locked(k, c);
        spans += 1;
    }
    h.stats.spans_swept_by_alloc += spans;
    h.stats.alloc_sweep_max_pages = h.stats.alloc_sweep_max_pages.max(pages as u64);
    !h.partial[k][c].is_null()
}

/// The background sweep: sweeps up to `n` unswept spans. Returns the bytes freed and whether
/// any is left.
pub fn sweep_some_locked(n: usize) -> (usize, bool) {
    let h = heap();
    let mut freed = 0;
    let mut done = 0;
    while done < n && h.nunswept > 0 {
        let (k, c) = (h.sweep_cursor / NLISTS, h.sweep_cursor % NLISTS);
        if h.unswept[k][c].is_null() {
            h.sweep_cursor = (h.sweep_cursor + 1) % (2 * NLISTS);
            continue;
        }
        freed += sweep_next_locked(k, c);
        done += 1;
    }
    (freed, h.nunswept > 0)
}

/// Unswept spans an allocation cache's refill sweeps besides those of its own class (Go's
/// proportional sweep, simplified): a refill hands out at most 32 KiB, and 4 spans are at
/// least as much, so the sweep keeps ahead of allocation and the dead bytes it has not
/// reached yet shrink as fast as new ones are allocated.
const SWEEP_PER_REFILL: usize = 4;

fn sweep_credit_locked() {
    // The teeth of gc_sweep (test-only gcnosweepgen=1) leave the spans not yet swept to the
    // allocations that use them and the background sweep: swept early here, they would
    // close the window the teeth must be seen to fail in.
    if cfg!(feature = "testhooks") && NO_SWEEPGEN_CHECK.load(Ordering::Relaxed) {
        return;
    }
    let h = heap();
    if h.nunswept > 0 {
        let n = h.nunswept.min(SWEEP_PER_REFILL);
        sweep_some_locked(n);
        h.stats.spans_swept_by_alloc += n as u64;
    }
}

/// Spans not swept in this cycle yet.
pub fn unswept_locked() -> usize {
    heap().nunswept
}

/// Flips and sweeps everything at once (the heap's unit tests): keeps exactly the marked
/// objects. Returns the bytes freed. HEAP_LOCK must be held.
pub fn sweep_locked() -> usize {
    let inuse = heap().stats.inuse;
    flip_locked(inuse);
    let mut freed = 0;
    loop {
        let (f, more) = sweep_some_locked(usize::MAX);
        freed += f;
        if !more {
            break;
        }
    }
    heap().stats.live = heap().stats.inuse;
    freed
}

// ---- scavenging (Go's scavenger, simplified) -------------------------------------------------

/// Pages given back per step at most (one hold of the heap lock).
pub const SCAVENGE_STEP_PAGES: usize = 64;

/// One step of a scavenger pass: gives back to the kernel (madvise MADV_DONTNEED) the free
/// pages of chunk `*cursor` onwards that were free at the previous pass too (so a page is
/// returned only after it has stayed free for a whole period), at most
/// [`SCAVENGE_STEP_PAGES`]; then moves the cursor. Returns the bytes given back and whether
/// the pass has chunks left. The pages are zero and stay free; taking one again just finds
/// it zero ([`take_scavenged`]). HEAP_LOCK must be held (an allocation must not take a page
/// between the test and the madvise).
pub fn scavenge_step_locked(cursor: &mut usize) -> (usize, bool) {
    let h = heap();
    let mut budget = SCAVENGE_STEP_PAGES;
    let mut given = 0;
    while *cursor < h.nchunks && budget > 0 {
        // SAFETY: live chunk, under HEAP_LOCK.
        let cr = unsafe { &mut *h.chunks[*cursor] };
        if cr.dedicated {
            *cursor += 1;
            continue;
        }
        let mut finished = true;
        for w in 0..PAGES_PER_CHUNK / 64 {
            let cand = cr.free[w] & cr.free_prev[w] & !cr.scav[w];
            let mut bits = cand;
            while bits != 0 && budget > 0 {
                // A run of candidate pages inside this word.
                let b = bits.trailing_zeros() as usize;
                let n = ((bits >> b).trailing_ones() as usize).min(budget);
                let run = if n == 64 {
                    !0u64
                } else {
                    ((1u64 << n) - 1) << b
                };
                let addr = cr.base + (w * 64 + b) * PAGE_BYTES;
                // SAFETY: free pages of our own mapping: nothing lives there (they are zero),
                // and the heap lock keeps allocation from taking them meanwhile.
                if unsafe { sys::madvise_dontneed(addr, n * PAGE_BYTES) }.is_ok() {
                    cr.scav[w] |= run;
                    given += n * PAGE_BYTES;
                }
                bits &= !run;
                budget -= n;
            }
            if bits != 0 {
                finished = false;
                break;
            }
        }
        if finished {
            cr.free_prev = cr.free;
            *cursor += 1;
        }
    }
    h.stats.released += given;
    h.stats.released_total += given as u64;
    (given, *cursor < h.nchunks)
}

// ---- walks for dirty-page tracking (dirty.rs) ------------------------------------------------

/// Calls `f(lo, hi)` for every maximal run of pages held by spans that may hold pointers
/// (ascending addresses). HEAP_LOCK must be held.
pub fn for_each_scan_run_locked(mut f: impl FnMut(usize, usize)) {
    let h = heap();
    for &c in &h.chunks[..h.nchunks] {
        // SAFETY: chunks in the table are live; their page tables too.
        let cr = unsafe { &*c };
        let mut run: Option<usize> = None;
        for p in 0..cr.npages {
            // SAFETY: page p of a live chunk.
            let s = unsafe { page_slot(c, p) }.load(Ordering::Relaxed);
            // SAFETY: a span in the page table is live.
            let scan = !s.is_null() && !unsafe { (*s).noscan };
            match (scan, run) {
                (true, None) => run = Some(cr.base + p * PAGE_BYTES),
                (false, Some(lo)) => {
                    f(lo, cr.base + p * PAGE_BYTES);
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(lo) = run {
            f(lo, cr.base + cr.npages * PAGE_BYTES);
        }
    }
}

/// Whether `[lo, hi)` shares an address with a chunk of the heap. HEAP_LOCK must be held.
pub fn overlaps_heap_locked(lo: usize, hi: usize) -> bool {
    let h = heap();
    let chunks = &h.chunks[..h.nchunks];
    // The chunks are sorted by base and disjoint: if any overlaps the range, the last one
    // that starts below `hi` does (it starts after the end of every one before it).
    let i = chunks.partition_point(|&c| {
        // SAFETY: chunks in the table are live.
        unsafe { (*c).base < hi }
    });
    i > 0 && {
        // SAFETY: as above.
        let c = unsafe { &*chunks[i - 1] };
        c.base + c.npages * PAGE_BYTES > lo
    }
}

/// The range of the `i`th chunk by address, if there are that many. HEAP_LOCK must be held.
pub fn chunk_at_locked(i: usize) -> Option<(usize, usize)> {
    let h = heap();
    (i < h.nchunks).then(|| {
        // SAFETY: chunks in the table are live.
        let c = unsafe { &*h.chunks[i] };
        (c.base, c.base + c.npages * PAGE_BYTES)
    })
}

/// Calls `f(lo, hi)` for every chunk's whole range. HEAP_LOCK must be held.
pub fn for_each_chunk_locked(mut f: impl FnMut(usize, usize)) {
    let h = heap();
    for &c in &h.chunks[..h.nchunks] {
        // SAFETY: chunks in the table are live.
        let cr = unsafe { &*c };
        f(cr.base, cr.base + cr.npages * PAGE_BYTES);
    }
}

/// Calls `f(lo, hi)` with the part inside `[lo, hi)` of every marked object of a span that
/// may hold pointers. HEAP_LOCK must be held (or the world stopped by its holder).
pub fn for_each_marked_in_locked(lo: usize, hi: usize, mut f: impl FnMut(usize, usize)) {
    let mut a = lo & !(PAGE_BYTES - 1);
    while a < hi {
        let mut next = a + PAGE_BYTES;
        if let Some(s) = span_of_unsync(a) {
            // SAFETY: a live span (under HEAP_LOCK).
            let sr = unsafe { &*s };
            next = sr.base + sr.npages * PAGE_BYTES;
            marked_in_span(sr, lo.max(sr.base), hi.min(next), &mut f);
        }
        a = next;
    }
}

/// Calls `f(lo, hi)` with every marked object of every span that may hold pointers: the
/// whole heap, as [`for_each_marked_in_locked`] over every chunk, but walking each chunk's
/// page table once (a free page costs a load, not a lookup: mark termination's full rescan
/// in plain-store mode walked an 8 MiB heap holding 5 KiB of marked objects in 20 µs page by
/// page). HEAP_LOCK must be held (or the world stopped by its holder).
pub fn for_each_marked_locked(mut f: impl FnMut(usize, usize)) {
    let h = heap();
    for &c in &h.chunks[..h.nchunks] {
        // SAFETY: chunks in the table are live.
        marked_in_chunk_pages(c, 0, unsafe { (*c).npages }, &mut f);
    }
}

/// Span headers [`warm_spans_locked`] prefetches at most: 2,048 of about 400 bytes, 800
/// KiB, about what a core's L2 holds.
const WARM_SPANS_MAX: usize = 2048;
/// Page-table slots it reads at most (16,384: a heap of 128 MiB), a load each.
const WARM_PAGES_MAX: usize = 16384;

/// Prefetches the headers (with their alloc and mark bits) of the heap's spans, up to
/// [`WARM_SPANS_MAX`]: before mark termination's full rescan (plain-store mode's rescan
/// form), whose walk reads them all with the world stopped and found most of them cold
/// (realloc: 500 spans, a walk of 10 to 19 µs, 5 to 8 µs warmed). It reads only the page
/// tables, in order, and loads no header (the prefetches do not wait for one another), so
/// the heap lock is held for about a nanosecond per page. HEAP_LOCK held, the world running.
pub fn warm_spans_locked() {
    let h = heap();
    let (mut spans, mut pages) = (WARM_SPANS_MAX, WARM_PAGES_MAX);
    let mut last = ptr::null_mut();
    for &c in &h.chunks[..h.nchunks] {
        // SAFETY: chunks in the table are live; their page tables too.
        let n = unsafe { (*c).npages }.min(pages);
        pages -= n;
        for p in 0..n {
            // SAFETY: page p of a live chunk.
            let s = unsafe { page_slot(c, p) }.load(Ordering::Relaxed);
            // A span's pages follow one another: one prefetch per span.
            if s.is_null() || s == last {
                continue;
            }
            last = s;
            let lo = s as usize;
            let mut a = lo & !63;
            while a < lo + core::mem::size_of::<Span>() {
                grt_arch::prefetch(a);
                a += 64;
            }
            spans -= 1;
            if spans == 0 {
                return;
            }
        }
        if pages == 0 {
            return;
        }
    }
}

/// Pages of a part of the heap ([`for_each_marked_in_part_locked`]): 256 KiB.
const PART_PAGES: usize = 32;

/// The parts the heap divides into for mark termination's parallel rescan (mgcpar.rs): each
/// chunk's pages, [`PART_PAGES`] at a time. HEAP_LOCK held (or the world stopped by its
/// holder).
pub fn heap_parts_locked() -> usize {
    let h = heap_shared();
    h.chunks[..h.nchunks]
        .iter()
        // SAFETY: chunks in the table are live.
        .map(|&c| unsafe { (*c).npages }.div_ceil(PART_PAGES))
        .sum()
}

/// [`for_each_marked_locked`] for part `part` of the heap only (see [`heap_parts_locked`]):
/// the parts of the objects inside its pages. HEAP_LOCK held (or the world stopped by its
/// holder), by whichever marker runs it.
pub fn for_each_marked_in_part_locked(mut part: usize, mut f: impl FnMut(usize, usize)) {
    let h = heap_shared();
    for &c in &h.chunks[..h.nchunks] {
        // SAFETY: chunks in the table are live.
        let np = unsafe { (*c).npages };
        let parts = np.div_ceil(PART_PAGES);
        if part < parts {
            let p0 = part * PART_PAGES;
            marked_in_chunk_pages(c, p0, (p0 + PART_PAGES).min(np), &mut f);
            return;
        }
        part -= parts;
    }
}

/// Calls `f(lo, hi)` with the part inside pages `[p0, p1)` of live chunk `c` of every marked
/// object of a span that may hold pointers, reading the chunk's page table once (a free page
/// costs a load, not a lookup: mark termination's full rescan in plain-store mode walked an
/// 8 MiB heap holding 5 KiB of marked objects in 20 µs page by page).
fn marked_in_chunk_pages(c: *mut Chunk, p0: usize, p1: usize, f: &mut impl FnMut(usize, usize)) {
    // SAFETY: a live chunk.
    let cr = unsafe { &*c };
    let (lo, hi) = (cr.base + p0 * PAGE_BYTES, cr.base + p1 * PAGE_BYTES);
    let mut p = p0;
    while p < p1 {
        // SAFETY: page p of a live chunk.
        let s = unsafe { page_slot(c, p) }.load(Ordering::Relaxed);
        if s.is_null() {
            p += 1;
            continue;
        }
        // SAFETY: a span in the page table is live (under HEAP_LOCK).
        let sr = unsafe { &*s };
        let end = sr.base + sr.npages * PAGE_BYTES;
        marked_in_span(sr, sr.base.max(lo), end.min(hi), f);
        // Past the span (each of its pages maps to it); at least one page on.
        p = ((end - cr.base) / PAGE_BYTES).max(p + 1);
    }
}

/// [`for_each_marked_in_locked`]'s work in one span `sr`, for `[from, to)` inside it.
fn marked_in_span(sr: &Span, from: usize, to: usize, f: &mut impl FnMut(usize, usize)) {
    if sr.noscan || from >= to {
        return;
    }
    let first = (((from - sr.base) as u64 * sr.divmul) >> 32) as usize;
    let first = if sr.class == usize::MAX { 0 } else { first };
    // Objects first..end start before `to`; a bitmap word (64 objects) at a time, so a span
    // with few marked objects costs its words, not its slots (a full rescan walks every span
    // of the heap with the world stopped).
    let end = sr.nelems.min((to - sr.base).div_ceil(sr.elemsize));
    let mut w = first / 64;
    while w * 64 < end {
        let mut m = sr.alloc[w].load(Ordering::Relaxed) & sr.mark[w].load(Ordering::Relaxed);
        if w == first / 64 {
            m &= !0u64 << (first % 64);
        }
        if end < (w + 1) * 64 {
            m &= (1u64 << (end % 64)) - 1;
        }
        for i in bit_slots(w, m) {
            let o = sr.base + i * sr.elemsize;
            f(o.max(from), (o + sr.elemsize).min(to));
        }
        w += 1;
    }
}

/// The span holding page-aligned address `a`, allocated objects or not (no seqlock: under
/// HEAP_LOCK, where the chunk table cannot change).
fn span_of_unsync(a: usize) -> Option<*mut Span> {
    let h = heap();
    let at = h.chunks[..h.nchunks].partition_point(|&k| {
        // SAFETY: chunks in the table are live.
        unsafe { (*k).base <= a }
    });
    let c = *h.chunks[..h.nchunks].get(at.checked_sub(1)?)?;
    // SAFETY: a live chunk.
    let off = a - unsafe { (*c).base };
    // SAFETY: as above.
    if off >= unsafe { (*c).npages } * PAGE_BYTES {
        return None;
    }
    // SAFETY: page off / PAGE_BYTES of a live chunk.
    let s = unsafe { page_slot(c, off / PAGE_BYTES) }.load(Ordering::Relaxed);
    (!s.is_null()).then_some(s)
}

/// Whether new objects are born marked (a cycle marks). HEAP_LOCK must be held.
pub fn alloc_black_locked() -> bool {
    heap().alloc_black
}

/// Turns born-marked allocation on or off (while a cycle marks). HEAP_LOCK must be held.
pub fn set_alloc_black_locked(on: bool) {
    heap().alloc_black = on;
}

/// Bytes in allocated objects. HEAP_LOCK must be held.
#[inline]
pub fn inuse_locked() -> usize {
    heap().stats.inuse
}

/// Go's heap_live (see the module comment). HEAP_LOCK must be held.
#[inline]
pub fn live_locked() -> usize {
    heap().stats.live
}

/// A copy of the counters.
pub fn stats_locked() -> HeapStats {
    heap().stats
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// The heap is global: the tests take turns.
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn with_heap<R>(f: impl FnOnce() -> R) -> R {
        let _t = TURN.lock().unwrap_or_else(|e| e.into_inner());
        HEAP_LOCK.lock();
        let r = f();
        HEAP_LOCK.unlock();
        r
    }

    #[test]
    fn divmul_divides_exactly_inside_every_span() {
        for c in 0..NCLASSES {
            let size = CLASSES[c] as u64;
            let m = u32::MAX as u64 / size + 1;
            for off in 0..(span_pages(c) * PAGE_BYTES) as u64 {
                assert_eq!(
                    off * m >> 32,
                    off / size,
                    "class {c} size {size} offset {off}"
                );
            }
        }
    }

    #[test]
    fn classes_are_sorted_and_cover_small_sizes() {
        assert!(CLASSES[..NCLASSES].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(CLASSES[NCLASSES - 1], MAX_SMALL);
        for n in [1, 16, 17, 255, 256, 257, 1000, 32767, 32768] {
            let c = CLASSES[class_of(n)];
            assert!(c >= n && c <= n.max(16) * 2, "{n} -> {c}");
        }
        for c in 0..NCLASSES {
            assert!(span_pages(c) * PAGE_BYTES / CLASSES[c] <= MAX_NELEMS);
        }
    }

    #[test]
    fn every_small_size_has_a_class_for_every_alignment_up_to_a_page() {
        for align in [32, 64, 128, 256, 512, 1024, 2048, 4096] {
            for n in [1, 16, 100, 255, 1000, 4097, 20000, MAX_SMALL] {
                let c = class_multiple(n, align).expect("a class");
                assert!(c >= n && c % align == 0, "{n} at {align} -> {c}");
            }
        }
        assert_eq!(class_multiple(100, 64), Some(128));
        assert_eq!(class_multiple(5000, 4096), Some(8192));
    }

    #[test]
    fn allocates_zeroed_objects_found_by_interior_pointers() {
        with_heap(|| {
            for n in [1usize, 24, 100, 4000, 40_000, 3 << 20] {
                let p = alloc_locked(n, false) as usize;
                assert!(p != 0);
                // SAFETY: n bytes of our object.
                let bytes = unsafe { core::slice::from_raw_parts_mut(p as *mut u8, n) };
                assert!(bytes.iter().all(|&b| b == 0));
                bytes.fill(0xab);
                let (s, i) = find_object(p + n - 1).expect("interior pointer");
                assert_eq!(object(s, i).0, p);
                assert!(
                    find_object(p + object(s, i).1).map_or(true, |(s2, i2)| object(s2, i2).0 != p)
                );
            }
        });
    }

    #[test]
    fn sweep_keeps_marked_and_reuses_the_rest_zeroed() {
        with_heap(|| {
            sweep_locked(); // start from a clean slate: nothing marked, everything freed
            assert_eq!(stats_locked().inuse, 0);
            let objs: Vec<usize> = (0..2000)
                .map(|_| alloc_locked(48, false) as usize)
                .collect();
            for &p in &objs {
                // SAFETY: 48 bytes of each object.
                unsafe { ptr::write_bytes(p as *mut u8, 0xcd, 48) };
            }
            let big = alloc_locked(5 << 20, true) as usize;
            for &p in objs.iter().step_by(2) {
                let (s, i) = find_object(p).unwrap();
                assert!(mark(s, i));
                assert!(!mark(s, i), "marking twice says so");
            }
            let freed = sweep_locked();
            assert!(freed >= 1000 * 48 + (5 << 20));
            assert!(
                find_object(big).is_none(),
                "the large object's mapping is gone"
            );
            for (k, &p) in objs.iter().enumerate() {
                assert_eq!(find_object(p).is_some(), k % 2 == 0);
            }
            let again = alloc_locked(40, false) as usize;
            // SAFETY: 48 bytes of the (reused) slot.
            assert!(
                unsafe { core::slice::from_raw_parts(again as *const u8, 48) }
                    .iter()
                    .all(|&b| b == 0)
            );
            sweep_locked();
            assert_eq!(stats_locked().inuse, 0, "nothing marked: everything freed");
        });
    }

    #[test]
    fn the_whole_heap_walk_finds_exactly_the_marked_objects_that_may_hold_pointers() {
        with_heap(|| {
            sweep_locked();
            // Kept objects (some never scanned, some large), with whole spans of doomed ones
            // between them: the sweep frees those spans, leaving free pages between the kept.
            let mut kept = Vec::new();
            // One large object over two parts of the parallel walk (PART_PAGES), so that
            // the parts cut it.
            let big = alloc_locked(600_000, false) as usize;
            let (s, i) = find_object(big).unwrap();
            assert!(mark(s, i));
            kept.push((big, false));
            let class = class_of(4096);
            let per_span = span_pages(class) * PAGE_BYTES / CLASSES[class];
            for k in 0..60 {
                // Between two kept objects, one to three spans' worth of doomed ones.
                for _ in 0..per_span * (1 + k % 3) {
                    assert!(!alloc_locked(4096, false).is_null());
                }
                let noscan = k % 5 == 4;
                let p = alloc_locked(if k % 7 == 6 { 40_000 } else { 4096 }, noscan) as usize;
                assert!(p != 0);
                let (s, i) = find_object(p).unwrap();
                assert!(mark(s, i));
                kept.push((p, noscan));
            }
            sweep_locked();
            // The premise: free pages lie between spans of one chunk.
            let h = heap();
            let interior_free = h.chunks[..h.nchunks].iter().any(|&c| {
                // SAFETY: live chunks and their page tables (HEAP_LOCK held).
                let used: Vec<bool> = (0..unsafe { (*c).npages })
                    .map(|p| !unsafe { page_slot(c, p) }.load(Ordering::Relaxed).is_null())
                    .collect();
                match (used.iter().position(|&u| u), used.iter().rposition(|&u| u)) {
                    (Some(f), Some(l)) => used[f..l].iter().any(|&u| !u),
                    _ => false,
                }
            });
            assert!(interior_free, "no free page between two spans");
            // Mark about two in three of the survivors; the walk must find exactly those that
            // may hold pointers.
            let mut marked = Vec::new();
            for (k, &(p, noscan)) in kept.iter().enumerate() {
                let (s, i) = find_object(p).expect("kept by the sweep");
                if k % 3 != 1 {
                    assert!(mark(s, i));
                    if !noscan {
                        marked.push((p, p + object(s, i).1));
                    }
                }
            }
            let mut walked = Vec::new();
            for_each_marked_locked(|a, b| walked.push((a, b)));
            let mut by_chunk = Vec::new();
            for_each_chunk_locked(|lo, hi| {
                for_each_marked_in_locked(lo, hi, |a, b| by_chunk.push((a, b)))
            });
            // By parts (mark termination's parallel rescan): the pieces tile each marked
            // object exactly, whichever parts cut it.
            let mut pieces = Vec::new();
            for part in 0..heap_parts_locked() {
                for_each_marked_in_part_locked(part, |a, b| pieces.push((a, b)));
            }
            marked.sort_unstable();
            walked.sort_unstable();
            by_chunk.sort_unstable();
            pieces.sort_unstable();
            assert_eq!(walked, marked);
            assert_eq!(by_chunk, marked);
            let mut next = pieces.iter().peekable();
            let mut cut = 0;
            for &(lo, hi) in &marked {
                let mut at = lo;
                while at < hi {
                    let &(a, b) = next.next().expect("a piece for every part of an object");
                    assert_eq!(a, at, "pieces tile the object from its start");
                    assert!(b <= hi && b > a);
                    at = b;
                    cut += (b < hi) as usize;
                }
            }
            assert!(next.next().is_none(), "no piece outside the marked objects");
            assert!(cut > 0, "the premise: a part boundary cuts some object");
            sweep_locked();
            sweep_locked();
            assert_eq!(stats_locked().inuse, 0);
        });
    }
}
