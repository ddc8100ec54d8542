//! The binaries' unwind tables (`.eh_frame`, found through `.eh_frame_hdr`), read with gimli
//! without allocating: does a function keep a frame record at a call site?
//!
//! # Why
//!
//! Frame-pointer-less code (glibc is built that way) keeps data in the frame-pointer register.
//! A callee with frame pointers saves that data in its frame record as if it were the caller's
//! frame pointer, so the "next record" of a frame-pointer walk can be any two words. The
//! collector proves each return address (code, right after a call: `stkbar::Proof`), but a
//! data word can be a return address too (a saved backtrace, a function pointer after a call
//! to a noreturn function). The unwind table of the function the return address points into
//! says whether that function keeps a frame record at the call: only then is the saved frame
//! pointer beside the return address a real frame record.
//!
//! # What it answers
//!
//! For a return address `ret` into function C, C's unwind row at `ret - 1` (inside the call
//! instruction, whose row applies) tells where C saved what its own caller needs. C keeps a
//! frame record if it saved its frame pointer and return address as a pair (fp at CFA + o,
//! the return address at CFA + o + 8) and its frame pointer points at that pair: the CFA is
//! computed from the frame pointer (CFA = fp - o: clang's frames, x86_64's), or, on aarch64,
//! from sp, as gcc describes its frames (gcc sets x29 to the pair it just stored; built with
//! -fomit-frame-pointer it pairs x30 with another register instead) (`arch::RECORD_WITH_SP_CFA`).
//! [`Frame::Unknown`] when there is no table for `ret` (hand-written assembly without CFI, a
//! static binary linked without `.eh_frame_hdr`): the caller then relies on the other checks.
//!
//! # Unwind steps, for the profiler
//!
//! A frame that keeps no record still has a row: the CFA (its caller's sp at the call) from
//! sp or fp plus an offset, and where it saved the return address and its caller's frame
//! pointer ([`Rule`], [`rule_for_walk`]). The profiler's walk (traceback.rs) takes such
//! steps from a frame whose caller keeps no record until it reaches a caller that does, then
//! goes on along the frame-pointer chain: glibc's frames (qsort's merge sort, bsearch) and
//! a program's own -fomit-frame-pointer code get their real callers.
//!
//! # Who touches what
//!
//! The collector's table of images belongs to the collector's thread: it reads it while it
//! scans, and refreshes it ([`snapshot`]) only while no thread is stopped, at the start of a
//! cycle when a lookup missed: `dl_iterate_phdr` takes the dynamic loader's lock, which a
//! stopped thread may hold. Its tables are read in place in the loaded images: a return
//! address found on a live stack is in an image that cannot be unloaded while that frame
//! lives. Its answers go into [`RET_CACHE`], which handlers read too.
//!
//! Signal handlers never call the loader and never read a library the program may have
//! unloaded: the profiler's start ([`profiler_snapshot`]) takes a reference on every loaded
//! library (`dlopen` with `RTLD_NOLOAD`), copies their tables into memory of grt's own, and
//! lists their code segments for `codemap` (read in place until [`profiler_release`] at the
//! stop, after the last handler). The executable's tables are read in place (it is never
//! unmapped). Handlers cache their answers in caches of their own (the walk caches), which
//! the collector never trusts.

use core::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};

use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, LittleEndian, Pointer, Register, RegisterRule,
    UnwindContext, UnwindContextStorage, UnwindSection, UnwindTableRow,
};
use grt_arch as arch;

use crate::{auxv, sys};

/// Images (the executable, shared libraries, the vDSO) whose tables are kept.
const MAX_IMAGES: usize = 128;
/// `PT_GNU_EH_FRAME`: the program header of `.eh_frame_hdr`.
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;

/// What a function's unwind table says about its frame at a call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// It keeps a frame record there: its frame pointer points at the saved fp/return pair.
    Record,
    /// It does not: its frame-pointer register may hold anything.
    NoRecord,
    /// No unwind table covers the address.
    Unknown,
    /// (At an interrupted pc only.) The function has not touched its frame pointer: the
    /// register still holds its caller's, which is a record only if the caller keeps one.
    CallersFp,
}

#[derive(Clone, Copy, Default)]
struct Image {
    /// Executable range `[lo, hi)`.
    lo: usize,
    hi: usize,
    /// `.eh_frame_hdr` and `.eh_frame` where they are loaded: what the pc-relative pointers
    /// in them are relative to.
    hdr: usize,
    hdr_len: usize,
    eh: usize,
    eh_len: usize,
    /// Where their bytes are read: in place, or the profiler's copies ([`profiler_snapshot`]).
    hdr_at: usize,
    eh_at: usize,
}

impl Image {
    fn holds(&self, addr: usize) -> bool {
        addr >= self.lo && addr < self.hi
    }
}

struct Table(core::cell::UnsafeCell<[Image; MAX_IMAGES]>);
// SAFETY: only the collector's thread reads or writes it (module comment).
unsafe impl Sync for Table {}

const NO_IMAGE: Image = Image {
    lo: 0,
    hi: 0,
    hdr: 0,
    hdr_len: 0,
    eh: 0,
    eh_len: 0,
    hdr_at: 0,
    eh_at: 0,
};

static IMAGES: Table = Table(core::cell::UnsafeCell::new([NO_IMAGE; MAX_IMAGES]));
static NIMAGES: AtomicUsize = AtomicUsize::new(0);
/// A lookup found no image: refresh before the next cycle's scans.
static STALE: AtomicBool = AtomicBool::new(false);

/// Where the profiler's copies of the libraries' tables go while images are collected: what
/// did not fit is counted, to size the next try.
struct Arena {
    base: usize,
    len: usize,
    used: usize,
    short: usize,
}

/// Executable segments of the images the profiler knows, kept for `codemap`.
const MAX_SEGS: usize = 256;

/// What the profiler's collection adds: only images `keep(bias)` accepts (the executable, the
/// vDSO, the libraries it holds loaded), their tables copied into the arena, their code
/// segments listed.
struct ProfOut<'a> {
    arena: Arena,
    segs: &'a mut [(usize, usize); MAX_SEGS],
    nsegs: usize,
    keep: &'a dyn Fn(usize) -> bool,
}

/// A table of images being filled.
struct Collect<'a> {
    t: &'a mut [Image; MAX_IMAGES],
    n: usize,
    prof: Option<ProfOut<'a>>,
}

/// Records one loaded image from its load bias and program headers; for the profiler, copies
/// its tables (all but the executable's, which are read in place). Runs while the image
/// cannot be unloaded (inside `dl_iterate_phdr`, or the executable).
fn add_image(bias: usize, phdrs: &[auxv::Phdr], c: &mut Collect) {
    if c.n == MAX_IMAGES || c.prof.as_ref().is_some_and(|p| !(p.keep)(bias)) {
        return;
    }
    let mut img = Image {
        lo: usize::MAX,
        ..Image::default()
    };
    for p in phdrs {
        let start = bias.wrapping_add(p.p_vaddr as usize);
        if p.p_type == auxv::PT_LOAD && p.p_flags & auxv::PF_X != 0 {
            img.lo = img.lo.min(start);
            img.hi = img.hi.max(start + p.p_memsz as usize);
        } else if p.p_type == PT_GNU_EH_FRAME {
            img.hdr = start;
            img.hdr_len = p.p_memsz as usize;
        }
    }
    if img.lo >= img.hi {
        return;
    }
    let is_main = matches!(MAIN.get(), Some(Some(m)) if m.lo == img.lo);
    // (The executable's segments are codemap's own.)
    if let Some(p) = c.prof.as_mut().filter(|_| !is_main) {
        for ph in phdrs
            .iter()
            .filter(|ph| ph.p_type == auxv::PT_LOAD && ph.p_flags & auxv::PF_X != 0)
        {
            if p.nsegs < MAX_SEGS {
                let start = bias.wrapping_add(ph.p_vaddr as usize);
                p.segs[p.nsegs] = (start, start + ph.p_memsz as usize);
                p.nsegs += 1;
            }
        }
    }
    if img.hdr == 0 {
        return;
    }
    img.hdr_at = img.hdr;
    // .eh_frame lies in a loaded segment; the header gives its start, its entries its end.
    let Some(eh) = eh_frame_ptr(&img) else { return };
    let seg_end = phdrs
        .iter()
        .filter(|p| p.p_type == auxv::PT_LOAD)
        .map(|p| {
            let s = bias.wrapping_add(p.p_vaddr as usize);
            (s, s + p.p_memsz as usize)
        })
        .find(|&(s, e)| eh >= s && eh < e)
        .map_or(0, |(_, e)| e);
    if seg_end == 0 {
        return;
    }
    img.eh = eh;
    img.eh_at = eh;
    img.eh_len = eh_frame_len(eh, seg_end);
    if let Some(a) = c.prof.as_mut().map(|p| &mut p.arena).filter(|_| !is_main) {
        let need = img.hdr_len.next_multiple_of(8) + img.eh_len.next_multiple_of(8);
        if a.used + need > a.len {
            a.short += need;
            return;
        }
        let hdr_at = a.base + a.used;
        let eh_at = hdr_at + img.hdr_len.next_multiple_of(8);
        // SAFETY: both sources lie in the loaded image (mapped while we run: see above);
        // both destinations lie in the arena, which we own.
        unsafe {
            core::ptr::copy_nonoverlapping(img.hdr as *const u8, hdr_at as *mut u8, img.hdr_len);
            core::ptr::copy_nonoverlapping(img.eh as *const u8, eh_at as *mut u8, img.eh_len);
        }
        a.used += need;
        img.hdr_at = hdr_at;
        img.eh_at = eh_at;
    }
    c.t[c.n] = img;
    c.n += 1;
}

/// The length of the `.eh_frame` at `eh`: its entries up to the zero terminator, or to the
/// end of its segment.
fn eh_frame_len(eh: usize, seg_end: usize) -> usize {
    let mut p = eh;
    while p + 4 <= seg_end {
        // SAFETY: inside the loaded segment [eh, seg_end).
        let len = unsafe { core::ptr::read_unaligned(p as *const u32) } as usize;
        if len == 0 {
            return p + 4 - eh;
        }
        let next = if len == 0xffff_ffff {
            if p + 12 > seg_end {
                break;
            }
            // SAFETY: as above (the 64-bit length follows).
            let len64 = unsafe { core::ptr::read_unaligned((p + 4) as *const u64) } as usize;
            (p + 12).checked_add(len64)
        } else {
            (p + 4).checked_add(len)
        };
        match next {
            Some(q) if q <= seg_end => p = q,
            _ => break,
        }
    }
    seg_end - eh
}

fn hdr_bytes(img: &Image) -> &'static [u8] {
    // SAFETY: the PT_GNU_EH_FRAME segment of a loaded image, or its copy (module comment).
    unsafe { core::slice::from_raw_parts(img.hdr_at as *const u8, img.hdr_len) }
}

fn eh_bytes(img: &Image) -> &'static [u8] {
    // SAFETY: `.eh_frame` of a loaded image, or its copy (add_image).
    unsafe { core::slice::from_raw_parts(img.eh_at as *const u8, img.eh_len) }
}

fn eh_frame_ptr(img: &Image) -> Option<usize> {
    let bases = BaseAddresses::default().set_eh_frame_hdr(img.hdr as u64);
    let hdr = EhFrameHdr::new(hdr_bytes(img), LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    match hdr.eh_frame_ptr() {
        Pointer::Direct(a) => Some(a as usize),
        Pointer::Indirect(_) => None,
    }
}

#[cfg(not(feature = "freestanding"))]
mod images {
    use super::*;

    #[repr(C)]
    struct DlPhdrInfo {
        addr: usize,
        name: *const u8,
        phdr: *const auxv::Phdr,
        phnum: u16,
    }

    /// The head of glibc's `struct link_map`: the load bias.
    #[repr(C)]
    struct LinkMap {
        l_addr: usize,
    }

    const RTLD_LAZY: i32 = 0x1;
    const RTLD_NOLOAD: i32 = 0x4;
    const RTLD_DI_LINKMAP: i32 = 2;

    extern "C" {
        fn dl_iterate_phdr(
            cb: unsafe extern "C" fn(*mut DlPhdrInfo, usize, *mut core::ffi::c_void) -> i32,
            data: *mut core::ffi::c_void,
        ) -> i32;
        fn dlopen(name: *const u8, flags: i32) -> *mut core::ffi::c_void;
        fn dlclose(handle: *mut core::ffi::c_void) -> i32;
        fn dlinfo(handle: *mut core::ffi::c_void, request: i32, out: *mut core::ffi::c_void)
            -> i32;
    }

    unsafe extern "C" fn each_object(
        info: *mut DlPhdrInfo,
        _: usize,
        data: *mut core::ffi::c_void,
    ) -> i32 {
        // SAFETY: the loader passes a valid info for the duration of the call; data is the
        // caller's closure.
        unsafe {
            let f = &mut *(data as *mut &mut dyn FnMut(usize, &[auxv::Phdr]));
            let i = &*info;
            if !i.phdr.is_null() {
                f(
                    i.addr,
                    core::slice::from_raw_parts(i.phdr, i.phnum as usize),
                );
            }
        }
        0
    }

    /// Calls `f(load bias, program headers)` for every loaded object, under the loader's lock
    /// (no object is unloaded while `f` copies from it).
    pub fn for_each_object(mut f: &mut dyn FnMut(usize, &[auxv::Phdr])) {
        let data = &mut f as *mut &mut dyn FnMut(usize, &[auxv::Phdr]) as *mut core::ffi::c_void;
        // SAFETY: `each_object` only calls f with what the loader passes.
        unsafe { dl_iterate_phdr(each_object, data) };
    }

    /// Names of the loaded libraries, copied out of the loader's list.
    struct Names<'a> {
        pins: &'a mut Pins,
    }

    unsafe extern "C" fn each_name(
        info: *mut DlPhdrInfo,
        _: usize,
        data: *mut core::ffi::c_void,
    ) -> i32 {
        // SAFETY: as in `each_object`; the name is a NUL-terminated string of the loader's.
        unsafe {
            let o = &mut *(data as *mut Names);
            let i = &*info;
            let p = &mut *o.pins;
            if i.name.is_null() || *i.name == 0 || p.n == MAX_IMAGES {
                return 0;
            }
            let len = (0..).take_while(|&k| *i.name.add(k) != 0).count();
            if p.names_used + len + 1 > p.names.len() {
                return 0;
            }
            let at = p.names_used;
            core::ptr::copy_nonoverlapping(i.name, p.names[at..].as_mut_ptr(), len);
            p.names[at + len] = 0;
            p.names_used += len + 1;
            p.bias[p.n] = i.addr;
            p.name_at[p.n] = at;
            p.handle[p.n] = 0;
            p.n += 1;
        }
        0
    }

    /// Holds every loaded library loaded (`dlopen` with `RTLD_NOLOAD` takes a reference and
    /// loads nothing) until [`unpin`]: a library the program closes meanwhile stays mapped,
    /// so a signal handler may read its code and tables. Only libraries whose handle names
    /// the load bias listed are kept.
    pub fn pin(p: &mut Pins) {
        unpin(p);
        let mut o = Names { pins: p };
        // SAFETY: `each_name` only reads what the loader passes and writes into `o`.
        unsafe { dl_iterate_phdr(each_name, &mut o as *mut Names as *mut core::ffi::c_void) };
        for k in 0..p.n {
            let name = p.names[p.name_at[k]..].as_ptr();
            // SAFETY: a NUL-terminated name; NOLOAD never loads anything new.
            let h = unsafe { dlopen(name, RTLD_LAZY | RTLD_NOLOAD) };
            if h.is_null() {
                continue;
            }
            let mut lm: *const LinkMap = core::ptr::null();
            // SAFETY: a handle dlopen just gave; RTLD_DI_LINKMAP writes a link_map pointer.
            let ok = unsafe {
                dlinfo(
                    h,
                    RTLD_DI_LINKMAP,
                    &mut lm as *mut _ as *mut core::ffi::c_void,
                ) == 0
                    && !lm.is_null()
                    && (*lm).l_addr == p.bias[k]
            };
            if ok {
                p.handle[k] = h as usize;
            } else {
                // SAFETY: the reference just taken.
                unsafe { dlclose(h) };
            }
        }
    }

    /// Drops the references [`pin`] took.
    pub fn unpin(p: &mut Pins) {
        for k in 0..p.n {
            if p.handle[k] != 0 {
                // SAFETY: a reference pin took and nothing else drops.
                unsafe { dlclose(p.handle[k] as *mut core::ffi::c_void) };
            }
        }
        p.n = 0;
        p.names_used = 0;
    }
}

#[cfg(feature = "freestanding")]
mod images {
    use super::*;

    /// The executable, the only object of a static program.
    pub fn for_each_object(f: &mut dyn FnMut(usize, &[auxv::Phdr])) {
        f(auxv::load_bias(), auxv::program_headers());
    }

    /// A static program loads no library.
    pub fn pin(_: &mut Pins) {}

    pub fn unpin(_: &mut Pins) {}
}

/// The libraries the profiler holds loaded while it runs (libc build; a static program has
/// none, and the freestanding build never reads the names).
#[cfg_attr(feature = "freestanding", allow(dead_code))]
struct Pins {
    n: usize,
    bias: [usize; MAX_IMAGES],
    handle: [usize; MAX_IMAGES],
    name_at: [usize; MAX_IMAGES],
    names: [u8; NAMES_BYTES],
    names_used: usize,
}

/// Room for the libraries' path names.
const NAMES_BYTES: usize = 16 * 1024;

/// No library held.
const NO_PINS: Pins = Pins {
    n: 0,
    bias: [0; MAX_IMAGES],
    handle: [0; MAX_IMAGES],
    name_at: [0; MAX_IMAGES],
    names: [0; NAMES_BYTES],
    names_used: 0,
};

/// The loaded libraries held loaded by a user other than the profiler (the collector's
/// library roots, gc/libroots.rs): the same mechanism, its own references.
pub struct LibPins(Pins);

impl LibPins {
    pub const fn new() -> LibPins {
        LibPins(NO_PINS)
    }

    /// Takes a reference on every loaded library (not while a thread is stopped: the loader's
    /// lock).
    pub fn pin(&mut self) {
        images::pin(&mut self.0);
    }

    pub fn unpin(&mut self) {
        images::unpin(&mut self.0);
    }

    /// As many libraries are held as the table takes: any more were not.
    pub fn full(&self) -> bool {
        self.0.n == MAX_IMAGES
    }

    /// The library loaded at `bias` is held.
    pub fn holds(&self, bias: usize) -> bool {
        self.0.holds(bias)
    }
}

/// Calls `f(load bias, program headers)` for every loaded object, the executable first
/// (libc build: `dl_iterate_phdr`, which takes the loader's lock: not while a thread is
/// stopped; freestanding: the executable alone).
pub fn for_each_object(f: &mut dyn FnMut(usize, &[auxv::Phdr])) {
    images::for_each_object(f)
}

/// Every loaded image's unwind tables into `c`.
fn collect_images(c: &mut Collect) {
    images::for_each_object(&mut |bias, phdrs| add_image(bias, phdrs, c));
}

impl Pins {
    fn holds(&self, bias: usize) -> bool {
        (0..self.n).any(|k| self.handle[k] != 0 && self.bias[k] == bias)
    }
}

/// Answers already looked up: direct-mapped caches by address (a scan, or a profile, meets
/// the same few addresses over and over: recursion, loops). Each slot is one atomic word:
/// the address (below 2^48 on both architectures), an auxiliary field and the answer, so a
/// handler reads them too (a torn entry cannot be seen; a stale one only names an answer that
/// was true of that address). [`RET_CACHE`] holds the collector's answers (its thread writes
/// it; handlers read it too), cleared with its snapshot; the walk caches hold the handlers'
/// own (from the executable's tables and the profiler's copies), cleared with the profiler's
/// snapshot, and the collector never trusts them (a copy may be older than its tables).
const CACHE_SLOTS: usize = 4096;
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const TAG_SHIFT: u32 = 62;
const AUX_MASK: u64 = (1 << (TAG_SHIFT - ADDR_BITS)) - 1;

type Cache = [AtomicU64; CACHE_SLOTS];

static RET_CACHE: Cache = [const { AtomicU64::new(0) }; CACHE_SLOTS];
static WALK_RET_CACHE: Cache = [const { AtomicU64::new(0) }; CACHE_SLOTS];
static WALK_PC_CACHE: Cache = [const { AtomicU64::new(0) }; CACHE_SLOTS];

fn slot(cache: &'static Cache, addr: usize) -> &'static AtomicU64 {
    &cache[(addr ^ (addr >> 12)) % CACHE_SLOTS]
}

fn cached(cache: &'static Cache, addr: usize) -> Option<(Frame, u64)> {
    let w = slot(cache, addr).load(Ordering::Acquire);
    let f = match w >> TAG_SHIFT {
        0 => Frame::CallersFp,
        1 => Frame::Record,
        2 => Frame::NoRecord,
        _ => Frame::Unknown,
    };
    (w & ADDR_MASK == addr as u64 && addr != 0).then_some((f, (w >> ADDR_BITS) & AUX_MASK))
}

fn remember(cache: &'static Cache, addr: usize, f: Frame, aux: u64) {
    let tag: u64 = match f {
        Frame::CallersFp => 0,
        Frame::Record => 1,
        Frame::NoRecord => 2,
        Frame::Unknown => 3,
    };
    if addr as u64 & !ADDR_MASK == 0 && aux <= AUX_MASK {
        slot(cache, addr).store(
            addr as u64 | aux << ADDR_BITS | tag << TAG_SHIFT,
            Ordering::Release,
        );
    }
}

fn clear(cache: &'static Cache) {
    for c in cache {
        c.store(0, Ordering::Relaxed);
    }
}

/// Where an interrupted function's return address is (with [`Frame::CallersFp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaLoc {
    /// Not known from the table.
    Unknown,
    /// In the link register (aarch64).
    Lr,
    /// In the stack word at sp + this many bytes.
    Stack(usize),
}

impl RaLoc {
    fn pack(self) -> u64 {
        match self {
            RaLoc::Unknown => 0,
            RaLoc::Lr => 1,
            RaLoc::Stack(off) => 2 + off as u64 / 8,
        }
    }

    fn unpack(aux: u64) -> RaLoc {
        match aux {
            0 => RaLoc::Unknown,
            1 => RaLoc::Lr,
            n => RaLoc::Stack((n as usize - 2) * 8),
        }
    }
}

/// The executable's image, recorded once at the first snapshot and never changed (it is
/// mapped for the life of the process): its tables are read in place, by handlers too.
static MAIN: spin::Once<Option<Image>> = spin::Once::new();

fn init_main() {
    MAIN.call_once(|| {
        let mut t = [NO_IMAGE; MAX_IMAGES];
        let mut c = Collect {
            t: &mut t,
            n: 0,
            prof: None,
        };
        add_image(auxv::load_bias(), auxv::program_headers(), &mut c);
        (c.n == 1).then_some(t[0])
    });
}

/// Whether `addr` lies in the main executable's code (its image with unwind tables).
/// Async-signal-safe once [`init_main_image`] ran.
pub fn in_main_image(addr: usize) -> bool {
    matches!(MAIN.get(), Some(Some(m)) if m.holds(addr))
}

/// Reads the main executable's image (ordinary code, before handlers need it).
pub fn init_main_image() {
    init_main();
}

/// Re-reads the loaded images. The collector's thread only, while no thread is stopped.
pub fn snapshot() {
    NIMAGES.store(0, Ordering::Release);
    clear(&RET_CACHE);
    init_main();
    // SAFETY: the collector's thread is the only reader and writer (module comment).
    let t = unsafe { &mut *IMAGES.0.get() };
    let mut c = Collect {
        t,
        n: 0,
        prof: None,
    };
    collect_images(&mut c);
    NIMAGES.store(c.n, Ordering::Release);
    STALE.store(false, Ordering::Relaxed);
}

/// Refreshes the images if a lookup missed since the last snapshot (collector's thread, at
/// the start of a cycle's scans).
pub fn refresh_if_stale() {
    if STALE.load(Ordering::Relaxed) {
        snapshot();
    }
}

fn find(addr: usize) -> Option<Image> {
    let n = NIMAGES.load(Ordering::Acquire);
    // SAFETY: the first n entries were written before NIMAGES (same thread anyway).
    let t = unsafe { &*IMAGES.0.get() };
    t[..n].iter().find(|i| i.holds(addr)).copied()
}

/// The profiler's images: the libraries' tables copied into memory of grt's own, and the
/// libraries held loaded, so a signal handler reads their code and tables without faulting
/// whatever the program closes meanwhile.
struct ProfImages {
    t: [Image; MAX_IMAGES],
    arena: usize,
    arena_len: usize,
    segs: [(usize, usize); MAX_SEGS],
    pins: Pins,
}

struct ProfTable(core::cell::UnsafeCell<ProfImages>);
// SAFETY: written only by profiler_snapshot and profiler_release while no handler reads it
// (their docs), then published by PROF_NIMAGES and PROF_NSEGS.
unsafe impl Sync for ProfTable {}

static PROF_IMAGES: ProfTable = ProfTable(core::cell::UnsafeCell::new(ProfImages {
    t: [NO_IMAGE; MAX_IMAGES],
    arena: 0,
    arena_len: 0,
    segs: [(0, 0); MAX_SEGS],
    pins: NO_PINS,
}));
static PROF_NIMAGES: AtomicUsize = AtomicUsize::new(0);

/// This module's large statics, as (address, bytes): tables of code addresses and unwind
/// rules, never a pointer into the collector's heap, so its scan of the program's data skips
/// them (mgc.rs).
pub fn static_ranges() -> [(usize, usize); 6] {
    fn r<T>(p: *const T) -> (usize, usize) {
        (p as usize, core::mem::size_of::<T>())
    }
    [
        r(&IMAGES),
        r(&PROF_IMAGES),
        r(&RET_CACHE),
        r(&WALK_RET_CACHE),
        r(&WALK_PC_CACHE),
        r(&WALK_RULE_CACHE),
    ]
}
static PROF_NSEGS: AtomicUsize = AtomicUsize::new(0);

/// Tries at sizing the arena (an image loaded between tries makes it short again).
const ARENA_TRIES: usize = 3;

/// Holds the loaded libraries loaded and takes the profiler's copies of their tables (and
/// the executable's and the vDSO's, never unmapped). Ordinary code, while no SIGPROF handler
/// runs (the profiler's start, before `codemap::snapshot`, which takes the code segments
/// from [`for_each_profiler_segment`]). Images that do not fit (out of memory) or could not
/// be held are not known to handlers: their frames end walks.
pub fn profiler_snapshot() {
    init_main();
    PROF_NIMAGES.store(0, Ordering::Release);
    PROF_NSEGS.store(0, Ordering::Release);
    for c in [&WALK_RET_CACHE, &WALK_PC_CACHE] {
        clear(c);
    }
    for w in WALK_RULE_CACHE.iter() {
        w.store(0, Ordering::Relaxed);
    }
    // SAFETY: no handler reads the table now (see above); we are its only writer.
    let p = unsafe { &mut *PROF_IMAGES.0.get() };
    images::pin(&mut p.pins);
    let main_bias = auxv::load_bias();
    let vdso = auxv::get().sysinfo_ehdr;
    let pins = &p.pins;
    let keep = |bias: usize| bias == main_bias || (vdso != 0 && bias == vdso) || pins.holds(bias);
    let (mut n, mut nsegs) = (0, 0);
    for attempt in 1..=ARENA_TRIES {
        let mut c = Collect {
            t: &mut p.t,
            n: 0,
            prof: Some(ProfOut {
                arena: Arena {
                    base: p.arena,
                    len: p.arena_len,
                    used: 0,
                    short: 0,
                },
                segs: &mut p.segs,
                nsegs: 0,
                keep: &keep,
            }),
        };
        collect_images(&mut c);
        let out = c.prof.take().expect("the profiler's collection");
        (n, nsegs) = (c.n, out.nsegs);
        let a = out.arena;
        if a.short == 0 || attempt == ARENA_TRIES {
            break; // what did not fit on the last try stays unknown to handlers
        }
        let want = ((a.used + a.short) * 5 / 4).next_multiple_of(auxv::page_size());
        if p.arena != 0 {
            // SAFETY: no handler reads the old copies (see above), and nothing else does.
            let _ = unsafe { sys::munmap(p.arena, p.arena_len) };
            (p.arena, p.arena_len) = (0, 0);
        }
        n = 0;
        match sys::mmap_anon(
            want,
            arch::ProtFlags::READ | arch::ProtFlags::WRITE,
            arch::MapFlags::empty(),
        ) {
            Ok(addr) => (p.arena, p.arena_len) = (addr, want),
            Err(_) => break, // no copies: handlers know the executable only
        }
    }
    PROF_NSEGS.store(nsegs, Ordering::Release);
    PROF_NIMAGES.store(n, Ordering::Release);
}

/// Lets the libraries [`profiler_snapshot`] held go (the program may unload them again).
/// After the profiler's stop, when no handler runs any more.
pub fn profiler_release() {
    PROF_NIMAGES.store(0, Ordering::Release);
    PROF_NSEGS.store(0, Ordering::Release);
    // SAFETY: no handler reads the table now (see above); we are its only writer.
    let p = unsafe { &mut *PROF_IMAGES.0.get() };
    images::unpin(&mut p.pins);
}

/// The code segments of the images [`profiler_snapshot`] holds: mapped until
/// [`profiler_release`], so a handler may read them in place (`codemap`).
pub fn for_each_profiler_segment(mut f: impl FnMut(usize, usize)) {
    let n = PROF_NSEGS.load(Ordering::Acquire);
    // SAFETY: the first n entries were published by the release store of PROF_NSEGS.
    let segs = unsafe { &(*PROF_IMAGES.0.get()).segs };
    for &(lo, hi) in &segs[..n] {
        f(lo, hi);
    }
}

/// [`profiler_snapshot`] once for the unit tests (they run on several threads).
#[cfg(test)]
pub fn profiler_snapshot_for_tests() {
    extern crate std;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(profiler_snapshot);
}

/// The image that holds `addr`, for a walk in a signal handler: the executable (in place) or
/// one of the profiler's copies.
fn find_for_walk(addr: usize) -> Option<Image> {
    if let Some(Some(m)) = MAIN.get() {
        if m.holds(addr) {
            return Some(*m);
        }
    }
    let n = PROF_NIMAGES.load(Ordering::Acquire);
    // SAFETY: the first n entries (and their copies) were published by the release store.
    let t = unsafe { &(*PROF_IMAGES.0.get()).t };
    t[..n].iter().find(|i| i.holds(addr)).copied()
}

/// Rule storage on the stack: no allocation (gimli's `read-core`).
struct OnStack;

impl<T: gimli::ReaderOffset> UnwindContextStorage<T> for OnStack {
    type Rules = [(Register, RegisterRule<T>); 32];
    type Stack = [UnwindTableRow<T, Self>; 4];
}

/// What the unwind table of the function `ret` returns into says about its frame at that
/// call (cached). The collector's thread only.
pub fn caller_frame(ret: usize) -> Frame {
    if let Some((f, _)) = cached(&RET_CACHE, ret) {
        return f;
    }
    let Some(img) = ret.checked_sub(1).and_then(find) else {
        STALE.store(true, Ordering::Relaxed);
        return Frame::Unknown;
    };
    let (f, _) = with_row(&img, ret - 1, |row| judge(row, false)).unwrap_or(UNKNOWN);
    remember(&RET_CACHE, ret, f, 0);
    f
}

const UNKNOWN: (Frame, RaLoc) = (Frame::Unknown, RaLoc::Unknown);

/// What the unwind table of the function at an interrupted `pc` says of its frame there, with
/// the thread's stack pointer `sp` and frame-pointer register `fp` (see
/// [`frame_at_regs_for_walk`]), from the collector's own images. The collector's thread only.
pub fn frame_at_regs(pc: usize, sp: usize, fp: usize) -> Frame {
    let Some(img) = find(pc) else {
        STALE.store(true, Ordering::Relaxed);
        return Frame::Unknown;
    };
    let f = with_row(&img, pc, |row| judge(row, true)).unwrap_or(UNKNOWN);
    record_in_place(f, sp, fp).0
}

/// For a walk (the profiler's handler: async-signal-safe, no allocation, bounded): the answer
/// for `ret` if the collector has looked it up, else from the executable's tables or the
/// profiler's copies of the libraries' ([`profiler_snapshot`]); `Unknown` for an address
/// in no image known.
pub fn frame_for_walk(ret: usize) -> Frame {
    if let Some((f, _)) = cached(&RET_CACHE, ret).or_else(|| cached(&WALK_RET_CACHE, ret)) {
        return f;
    }
    let Some(img) = ret.checked_sub(1).and_then(find_for_walk) else {
        return Frame::Unknown;
    };
    let (f, _) = with_row(&img, ret - 1, |row| judge(row, false)).unwrap_or(UNKNOWN);
    remember(&WALK_RET_CACHE, ret, f, 0);
    f
}

/// For a walk that starts at an interrupted `pc` (the profiler's handler, as
/// [`frame_for_walk`]): whether the frame-pointer register may be data there. `NoRecord` when
/// the function at pc saved the frame pointer without keeping a frame record (it may use the
/// register for data, so the frame-pointer chain cannot be followed from it); `Record` when
/// it keeps one; `CallersFp` when it has not touched the frame pointer yet, or is at x86_64's
/// `push rbp` before `mov rbp, rsp` (the register is still the caller's); `Unknown` without
/// a table.
/// The row alone: a `Record` here may not be in place at pc yet, or any more; walkers that
/// start from a thread's registers ask [`frame_at_regs_for_walk`].
pub fn frame_at_pc_for_walk(pc: usize) -> (Frame, RaLoc) {
    if let Some((f, aux)) = cached(&WALK_PC_CACHE, pc) {
        return (f, RaLoc::unpack(aux));
    }
    let Some(img) = find_for_walk(pc) else {
        return UNKNOWN;
    };
    let (f, ra) = with_row(&img, pc, |row| judge(row, true)).unwrap_or(UNKNOWN);
    remember(&WALK_PC_CACHE, pc, f, ra.pack());
    (f, ra)
}

/// [`frame_at_pc_for_walk`] for a thread interrupted at `pc` with stack pointer `sp` and
/// frame-pointer register `fp`: a `Record` row whose record the register does not point at
/// reads `CallersFp`, with the return address where the row puts it ([`record_in_place`]).
pub fn frame_at_regs_for_walk(pc: usize, sp: usize, fp: usize) -> (Frame, RaLoc) {
    record_in_place(frame_at_pc_for_walk(pc), sp, fp)
}

/// For a walk (as [`frame_for_walk`]): the addresses `[start, end)` of the function at `pc`
/// by its unwind table (its FDE's range), None without one.
pub fn function_range_for_walk(pc: usize) -> Option<(usize, usize)> {
    let img = find_for_walk(pc)?;
    with_table(&img, |table, eh, bases| {
        let fde = table
            .fde_for_address(eh, bases, pc as u64, EhFrame::cie_from_offset)
            .ok()?;
        let start = usize::try_from(fde.initial_address()).ok()?;
        Some((start, start.checked_add(usize::try_from(fde.len()).ok()?)?))
    })
}

/// The parsed `.eh_frame_hdr` search table of `img`, its `.eh_frame` and their base
/// addresses, for `f`; None without a table.
fn with_table<R>(
    img: &Image,
    f: impl FnOnce(
        &gimli::EhHdrTable<'_, gimli::EndianSlice<'static, LittleEndian>>,
        &EhFrame<gimli::EndianSlice<'static, LittleEndian>>,
        &BaseAddresses,
    ) -> Option<R>,
) -> Option<R> {
    let bases = BaseAddresses::default()
        .set_eh_frame_hdr(img.hdr as u64)
        .set_eh_frame(img.eh as u64)
        .set_text(img.lo as u64);
    let hdr = EhFrameHdr::new(hdr_bytes(img), LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    let table = hdr.table()?;
    let mut eh = EhFrame::new(eh_bytes(img), LittleEndian);
    if arch::DWARF_RA == 30 {
        eh.set_vendor(gimli::Vendor::AArch64);
    }
    f(&table, &eh, &bases)
}

/// Evaluates `f` on the unwind row of the function at `pc` in `img`; None without one.
fn with_row<R>(
    img: &Image,
    pc: usize,
    f: impl FnOnce(&UnwindTableRow<usize, OnStack>) -> R,
) -> Option<R> {
    with_table(img, |table, eh, bases| {
        let mut ctx = UnwindContext::<usize, OnStack>::new_in();
        let row = table
            .unwind_info_for_address(eh, bases, &mut ctx, pc as u64, EhFrame::cie_from_offset)
            .ok()?;
        Some(f(row))
    })
}

/// A row judged by [`keeps_record`] (`at_pc`: an interrupted pc, where an untouched frame
/// pointer is still the caller's; then also where the return address is).
fn judge<S: UnwindContextStorage<usize>>(
    row: &UnwindTableRow<usize, S>,
    at_pc: bool,
) -> (Frame, RaLoc) {
    if at_pc {
        let fp = Register(arch::DWARF_FP);
        // Nothing of its own on the stack (first instruction, or at `ret` after an epilogue
        // whose CFI left the popped save slot's rule in place, as gcc's `leave` does).
        let bare = matches!(row.cfa(), CfaRule::RegisterAndOffset { register, offset }
            if *register == Register(arch::DWARF_SP) && *offset == arch::ENTRY_CFA_OFFSET);
        let callers = bare
            || match row.register(fp) {
                None | Some(RegisterRule::SameValue) => true,
                // x86_64's `push rbp` done, `mov rbp, rsp` to come: rbp is still the caller's.
                Some(RegisterRule::Offset(-16)) => {
                    !arch::RECORD_WITH_SP_CFA
                        && matches!(row.cfa(), CfaRule::RegisterAndOffset { register, offset: 16 }
                        if *register == Register(arch::DWARF_SP))
                }
                _ => false,
            };
        if callers {
            return (Frame::CallersFp, ra_loc(row));
        }
    }
    let f = keeps_record(row);
    // A record at an interrupted pc: where its return-address slot is (with the CFA from
    // sp), for the check that the record is in place ([`record_in_place`]).
    let ra = match (f, at_pc) {
        (Frame::Record, true) => ra_loc(row),
        _ => RaLoc::Unknown,
    };
    (f, ra)
}

/// A row's verdict at an interrupted pc (`judge(row, true)`), checked against the thread's
/// stack pointer `sp` and frame-pointer register `fp`. A "record" row whose CFA is computed
/// from sp says where the record is: the saved frame pointer's slot, 8 bytes below the
/// return address's ([`keeps_record`] requires the pair). The record is in place at pc only
/// if the register points at it. Where it does not, the function has not set the register
/// yet, or has reloaded its caller's already while the row still describes the saved pair:
/// LLVM's aarch64 epilogues reload x29/x30 before the registers saved below them (d8–d15:
/// `ldp x29, x30, [sp, #64]` … `ldp d15, d14, [sp], #160` in grt's own grt_yield) and mark
/// the pair restored only after the last load. The register is then the caller's
/// (`CallersFp`), and the return address is where the row puts it: the slot still holds it.
/// (Code built without frame pointers that saves x29 beside x30 as an ordinary register
/// reads the same way, and its x29 may be data: as under the row's "record" before, the
/// walk from it takes only return addresses right after a call, and the collector's
/// `standing` gives up on it.) The returned `RaLoc` of a record in
/// place is `Unknown`, as before this check.
fn record_in_place((f, ra): (Frame, RaLoc), sp: usize, fp: usize) -> (Frame, RaLoc) {
    match (f, ra) {
        (Frame::Record, RaLoc::Stack(off)) => {
            match off.checked_sub(8).and_then(|o| sp.checked_add(o)) {
                Some(slot) if slot != fp => (Frame::CallersFp, ra),
                _ => (Frame::Record, RaLoc::Unknown),
            }
        }
        (Frame::Record, _) => (Frame::Record, RaLoc::Unknown),
        other => other,
    }
}

/// Where the return address is by `row`: in the link register, or at CFA + o with the CFA
/// computed from sp.
fn ra_loc<S: UnwindContextStorage<usize>>(row: &UnwindTableRow<usize, S>) -> RaLoc {
    let CfaRule::RegisterAndOffset { register, offset } = *row.cfa() else {
        return RaLoc::Unknown;
    };
    match row.register(Register(arch::DWARF_RA)) {
        None | Some(RegisterRule::SameValue) if arch::DWARF_RA == 30 => RaLoc::Lr,
        Some(RegisterRule::Offset(o)) if register == Register(arch::DWARF_SP) => {
            match usize::try_from(offset + o) {
                Ok(off) if off % 8 == 0 => RaLoc::Stack(off),
                _ => RaLoc::Unknown,
            }
        }
        _ => RaLoc::Unknown,
    }
}

/// The test above, on one unwind row (see the module comment).
fn keeps_record<S: UnwindContextStorage<usize>>(row: &UnwindTableRow<usize, S>) -> Frame {
    let (fp, sp, ra) = (
        Register(arch::DWARF_FP),
        Register(arch::DWARF_SP),
        Register(arch::DWARF_RA),
    );
    let (Some(RegisterRule::Offset(o_fp)), Some(RegisterRule::Offset(o_ra))) =
        (row.register(fp), row.register(ra))
    else {
        return Frame::NoRecord;
    };
    if o_ra != o_fp + 8 {
        return Frame::NoRecord;
    }
    match *row.cfa() {
        CfaRule::RegisterAndOffset { register, offset } if register == fp && offset == -o_fp => {
            Frame::Record
        }
        CfaRule::RegisterAndOffset { register, .. }
            if register == sp && arch::RECORD_WITH_SP_CFA =>
        {
            Frame::Record
        }
        _ => Frame::NoRecord,
    }
}

// ---- One unwind step, for walks through frame-pointer-less frames ---------------------------

/// Where a value a function saved for its caller is, by its unwind row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// Not saved: the register still holds it (for the return address: the link register,
    /// at an interrupted pc only).
    Same,
    /// In the stack word at CFA + this many bytes.
    Cfa(i16),
}

/// One DWARF unwind step at a pc: the CFA (the caller's sp at the call) is the stack or frame
/// pointer plus `cfa_off`; the return address and the caller's frame pointer are where
/// `ra` and `fp` say. Only the shapes a compiler emits for ordinary functions; anything else
/// (expressions, values in other registers) has no rule and ends a walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub cfa_from_fp: bool,
    pub cfa_off: i32,
    pub ra: Loc,
    pub fp: Loc,
}

impl Rule {
    fn of<S: UnwindContextStorage<usize>>(
        row: &UnwindTableRow<usize, S>,
        at_pc: bool,
    ) -> Option<Rule> {
        let CfaRule::RegisterAndOffset { register, offset } = *row.cfa() else {
            return None;
        };
        let cfa_from_fp = match register {
            Register(r) if r == arch::DWARF_SP => false,
            Register(r) if r == arch::DWARF_FP => true,
            _ => return None,
        };
        let saved = |reg: u16| match row.register(Register(reg)) {
            None | Some(RegisterRule::SameValue) => Some(Loc::Same),
            Some(RegisterRule::Offset(o)) if o % 8 == 0 => i16::try_from(o).ok().map(Loc::Cfa),
            _ => None,
        };
        let ra = saved(arch::DWARF_RA)?;
        // Only aarch64 has a link register, and it is the return address only at the
        // interrupted pc (a call since has overwritten it). x86_64's tables always place it.
        if ra == Loc::Same && !(at_pc && arch::DWARF_RA == 30) {
            return None;
        }
        Some(Rule {
            cfa_from_fp,
            cfa_off: i32::try_from(offset).ok()?,
            ra,
            fp: saved(arch::DWARF_FP)?,
        })
    }

    /// Packed into a cache slot's key flags and value.
    fn pack(self) -> (u64, u64) {
        let off = |l: Loc| match l {
            Loc::Same => (0u64, 0u64),
            Loc::Cfa(o) => (1, o as u16 as u64),
        };
        let (ra_k, ra_o) = off(self.ra);
        let (fp_k, fp_o) = off(self.fp);
        (
            self.cfa_from_fp as u64 | ra_k << 1 | fp_k << 2,
            self.cfa_off as u32 as u64 | ra_o << 32 | fp_o << 48,
        )
    }

    fn unpack(flags: u64, v: u64) -> Rule {
        let loc = |k: u64, o: u64| {
            if k & 1 == 0 {
                Loc::Same
            } else {
                Loc::Cfa(o as u16 as i16)
            }
        };
        Rule {
            cfa_from_fp: flags & 1 != 0,
            cfa_off: v as u32 as i32,
            ra: loc(flags >> 1, v >> 32),
            fp: loc(flags >> 2, v >> 48),
        }
    }
}

/// Rules already looked up, for handlers: two words a slot (key, value). The key is the
/// address, whether it is an interrupted pc, whether there is a rule, and the rule's flags.
/// A writer claims a slot by swapping its key for 0 (another writer's claim makes it give
/// up), writes the value, then publishes the key; a reader reads key, value, key and trusts
/// the value only if both keys are the one it wants (one address has one rule).
static WALK_RULE_CACHE: [AtomicU64; 2 * CACHE_SLOTS] =
    [const { AtomicU64::new(0) }; 2 * CACHE_SLOTS];
const RULE_AT_PC: u64 = 1 << 48;
const RULE_SOME: u64 = 1 << 49;
const RULE_FLAGS_SHIFT: u32 = 50;

/// The unwind step at `addr` for a walk (a signal handler: as [`frame_for_walk`]): at an
/// interrupted pc (`at_pc`), or for a return address (the row of the call before it).
pub fn rule_for_walk(addr: usize, at_pc: bool) -> Option<Rule> {
    if addr == 0 || addr as u64 & !ADDR_MASK != 0 {
        return None;
    }
    let i = 2 * ((addr ^ (addr >> 12)) % CACHE_SLOTS);
    let (key, val) = (&WALK_RULE_CACHE[i], &WALK_RULE_CACHE[i + 1]);
    let want = addr as u64 | if at_pc { RULE_AT_PC } else { 0 };
    let k1 = key.load(Ordering::Acquire);
    let v = val.load(Ordering::Relaxed);
    fence(Ordering::Acquire);
    let k2 = key.load(Ordering::Relaxed);
    if k1 == k2 && k1 & (RULE_AT_PC | ADDR_MASK) == want {
        return (k1 & RULE_SOME != 0).then(|| Rule::unpack(k1 >> RULE_FLAGS_SHIFT, v));
    }
    let at = if at_pc { addr } else { addr - 1 };
    let img = find_for_walk(at)?;
    let rule = with_row(&img, at, |row| Rule::of(row, at_pc))?;
    let (flags, packed) = rule.map_or((0, 0), Rule::pack);
    if key
        .compare_exchange(k1, 0, Ordering::Acquire, Ordering::Relaxed)
        .is_ok()
    {
        // The claim is seen before the new value (a reader of the old key then rejects it).
        fence(Ordering::Release);
        val.store(packed, Ordering::Relaxed);
        let some = if rule.is_some() { RULE_SOME } else { 0 };
        key.store(want | some | flags << RULE_FLAGS_SHIFT, Ordering::Release);
    }
    rule
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;

    /// One snapshot for the tests (they run on several threads; the table is one thread's).
    fn setup() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(snapshot);
    }

    /// The return address of its own frame: a return into its caller, at a call.
    #[inline(never)]
    fn my_return_address() -> usize {
        let fp = arch::frame_pointer();
        // SAFETY: this function's own frame record (frame pointers are forced).
        unsafe { arch::read_frame_record(fp).ret }
    }

    #[test]
    fn a_function_with_frame_pointers_keeps_a_record_at_its_calls() {
        setup();
        let ret = my_return_address();
        // This test function keeps a frame record (force-frame-pointers) and was compiled
        // with unwind tables: the table says so at the call it just made.
        assert_eq!(caller_frame(ret), Frame::Record);
        // Asked again: the cached answer.
        assert_eq!(caller_frame(ret), Frame::Record);
        assert_eq!(frame_for_walk(ret), Frame::Record);
    }

    #[test]
    fn rules_pack_into_a_cache_slot_and_back() {
        for r in [
            Rule {
                cfa_from_fp: false,
                cfa_off: 4136,
                ra: Loc::Cfa(-8),
                fp: Loc::Same,
            },
            Rule {
                cfa_from_fp: true,
                cfa_off: -16,
                ra: Loc::Same,
                fp: Loc::Cfa(-32000),
            },
        ] {
            let (flags, v) = r.pack();
            assert_eq!(Rule::unpack(flags, v), r);
        }
    }

    #[test]
    fn a_function_with_a_frame_record_has_a_rule_that_finds_it() {
        setup();
        profiler_snapshot_for_tests();
        let fp = arch::frame_pointer();
        let ret = my_return_address();
        // This function at the call it just made: the CFA, less where it saved its caller's
        // frame pointer, is its own frame record.
        let r = rule_for_walk(ret, false).expect("a rule");
        let Loc::Cfa(o) = r.fp else { panic!("{r:?}") };
        assert!(matches!(r.ra, Loc::Cfa(x) if x == o + 8), "{r:?}");
        // Asked again: the cached answer.
        assert_eq!(rule_for_walk(ret, false), Some(r));
        if let Some(off) = arch::RECORD_CFA_OFFSET {
            assert_eq!(off as isize, -(o as isize));
        }
        let _ = fp;
    }

    #[test]
    fn an_address_in_no_image_is_unknown() {
        setup();
        let local = 0u64;
        assert_eq!(caller_frame(&local as *const u64 as usize), Frame::Unknown);
        assert_eq!(frame_for_walk(16), Frame::Unknown);
    }
}
