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
//! # Who touches what
//!
//! The table of images belongs to the collector's thread: it reads it while it scans, and
//! refreshes it ([`snapshot`]) only while no thread is stopped, at the start of a cycle when a
//! lookup missed: `dl_iterate_phdr` takes the dynamic loader's lock, which a stopped thread
//! may hold. The tables are read in place in the loaded images: a return address found on a
//! live stack is in an image that cannot be unloaded while that frame lives. Answers go into
//! a cache of atomic words that the profiler's handler reads as well ([`frame_for_walk`]);
//! the handler looks up the executable's own tables by itself (the executable is never
//! unmapped) and never a library's.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, LittleEndian, Pointer, Register, RegisterRule,
    UnwindContext, UnwindContextStorage, UnwindSection, UnwindTableRow,
};
use grt_arch as arch;

use crate::auxv;

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
    hdr: usize,
    hdr_len: usize,
    /// The end of the loaded segment that holds `.eh_frame` (its length is not recorded).
    seg_end: usize,
}

struct Table(core::cell::UnsafeCell<[Image; MAX_IMAGES]>);
// SAFETY: only the collector's thread reads or writes it (module comment).
unsafe impl Sync for Table {}

static IMAGES: Table = Table(core::cell::UnsafeCell::new(
    [Image {
        lo: 0,
        hi: 0,
        hdr: 0,
        hdr_len: 0,
        seg_end: 0,
    }; MAX_IMAGES],
));
static NIMAGES: AtomicUsize = AtomicUsize::new(0);
/// A lookup found no image: refresh before the next cycle's scans.
static STALE: AtomicBool = AtomicBool::new(false);

/// Records one loaded image from its load bias and program headers.
fn add_image(bias: usize, phdrs: &[auxv::Phdr], out: &mut [Image; MAX_IMAGES], n: &mut usize) {
    if *n == MAX_IMAGES {
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
    if img.hdr == 0 || img.lo >= img.hi {
        return;
    }
    // .eh_frame lies in a loaded segment; the header gives its start, the segment its end.
    let Some(eh) = eh_frame_ptr(&img) else { return };
    img.seg_end = phdrs
        .iter()
        .filter(|p| p.p_type == auxv::PT_LOAD)
        .map(|p| {
            let s = bias.wrapping_add(p.p_vaddr as usize);
            (s, s + p.p_memsz as usize)
        })
        .find(|&(s, e)| eh >= s && eh < e)
        .map_or(0, |(_, e)| e);
    if img.seg_end == 0 {
        return;
    }
    out[*n] = img;
    *n += 1;
}

fn hdr_bytes(img: &Image) -> &'static [u8] {
    // SAFETY: the PT_GNU_EH_FRAME segment of a loaded image (see the module comment).
    unsafe { core::slice::from_raw_parts(img.hdr as *const u8, img.hdr_len) }
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

    extern "C" {
        fn dl_iterate_phdr(
            cb: unsafe extern "C" fn(*mut DlPhdrInfo, usize, *mut core::ffi::c_void) -> i32,
            data: *mut core::ffi::c_void,
        ) -> i32;
    }

    struct Out<'a> {
        t: &'a mut [Image; MAX_IMAGES],
        n: usize,
    }

    unsafe extern "C" fn each(
        info: *mut DlPhdrInfo,
        _: usize,
        data: *mut core::ffi::c_void,
    ) -> i32 {
        // SAFETY: the loader passes a valid info for the duration of the call, and our Out.
        unsafe {
            let o = &mut *(data as *mut Out);
            let i = &*info;
            if !i.phdr.is_null() {
                let phdrs = core::slice::from_raw_parts(i.phdr, i.phnum as usize);
                add_image(i.addr, phdrs, o.t, &mut o.n);
            }
        }
        0
    }

    /// Every loaded image, from the dynamic loader.
    pub fn collect(t: &mut [Image; MAX_IMAGES]) -> usize {
        let mut o = Out { t, n: 0 };
        // SAFETY: `each` only reads what the loader passes and writes into `o`.
        unsafe { dl_iterate_phdr(each, &mut o as *mut Out as *mut core::ffi::c_void) };
        o.n
    }
}

#[cfg(feature = "freestanding")]
mod images {
    use super::*;

    /// The executable, the only image of a static program, from its program headers.
    pub fn collect(t: &mut [Image; MAX_IMAGES]) -> usize {
        let mut n = 0;
        add_image(auxv::load_bias(), auxv::program_headers(), t, &mut n);
        n
    }
}

/// Answers already looked up: direct-mapped caches by return address and by interrupted pc (a
/// scan, or a profile, meets the same few addresses over and over: recursion, loops), cleared
/// with every snapshot. Each slot is one atomic word: the address (below 2^48 on both
/// architectures), an auxiliary field and the answer, so the profiler's handler reads them
/// too (a torn entry cannot be seen; a stale one only names an answer that was true of that
/// address). Written by the collector's thread, and by handlers for addresses in the
/// executable (see [`frame_for_walk`]).
const CACHE_SLOTS: usize = 4096;
const ADDR_BITS: u32 = 48;
const ADDR_MASK: u64 = (1 << ADDR_BITS) - 1;
const TAG_SHIFT: u32 = 62;
const AUX_MASK: u64 = (1 << (TAG_SHIFT - ADDR_BITS)) - 1;

static RET_CACHE: [AtomicU64; CACHE_SLOTS] = [const { AtomicU64::new(0) }; CACHE_SLOTS];
static PC_CACHE: [AtomicU64; CACHE_SLOTS] = [const { AtomicU64::new(0) }; CACHE_SLOTS];

fn slot(cache: &'static [AtomicU64; CACHE_SLOTS], addr: usize) -> &'static AtomicU64 {
    &cache[(addr ^ (addr >> 12)) % CACHE_SLOTS]
}

fn cached(cache: &'static [AtomicU64; CACHE_SLOTS], addr: usize) -> Option<(Frame, u64)> {
    let w = slot(cache, addr).load(Ordering::Acquire);
    let f = match w >> TAG_SHIFT {
        0 => Frame::CallersFp,
        1 => Frame::Record,
        2 => Frame::NoRecord,
        _ => Frame::Unknown,
    };
    (w & ADDR_MASK == addr as u64 && addr != 0).then_some((f, (w >> ADDR_BITS) & AUX_MASK))
}

fn remember(cache: &'static [AtomicU64; CACHE_SLOTS], addr: usize, f: Frame, aux: u64) {
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
/// mapped for the life of the process): what a signal handler may look up by itself.
static MAIN: spin::Once<Option<Image>> = spin::Once::new();

/// Re-reads the loaded images. The collector's thread only, while no thread is stopped.
pub fn snapshot() {
    NIMAGES.store(0, Ordering::Release);
    for c in RET_CACHE.iter().chain(PC_CACHE.iter()) {
        c.store(0, Ordering::Relaxed);
    }
    MAIN.call_once(|| {
        let mut t = [Image::default(); MAX_IMAGES];
        let mut n = 0;
        add_image(auxv::load_bias(), auxv::program_headers(), &mut t, &mut n);
        (n == 1).then_some(t[0])
    });
    // SAFETY: the collector's thread is the only reader and writer (module comment).
    let t = unsafe { &mut *IMAGES.0.get() };
    let n = images::collect(t);
    NIMAGES.store(n, Ordering::Release);
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
    t[..n].iter().find(|i| addr >= i.lo && addr < i.hi).copied()
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
    let (f, _) = row_at(&img, ret - 1, false);
    remember(&RET_CACHE, ret, f, 0);
    f
}

/// For a walk (the profiler's handler: async-signal-safe, no allocation, bounded): the answer
/// for `ret` if the collector has looked it up, or, for an address in the executable, looked
/// up now (the executable is never unmapped, so its tables can be read in place); else
/// `Unknown`. A library's table is read only by the collector, whose image list may be stale
/// for a handler (a library unloaded meanwhile must not be read).
pub fn frame_for_walk(ret: usize) -> Frame {
    if let Some((f, _)) = cached(&RET_CACHE, ret) {
        return f;
    }
    match MAIN.get() {
        Some(Some(img)) if ret > img.lo && ret <= img.hi => {
            let (f, _) = row_at(img, ret - 1, false);
            remember(&RET_CACHE, ret, f, 0);
            f
        }
        _ => Frame::Unknown,
    }
}

/// For a walk that starts at an interrupted `pc` (the profiler's handler, as
/// [`frame_for_walk`]): whether the frame-pointer register may be data there. `NoRecord` when
/// the function at pc saved the frame pointer without keeping a frame record (it may use the
/// register for data, so the frame-pointer chain cannot be followed from it); `Record` when
/// it keeps one; `CallersFp` when it has not touched the frame pointer yet, or is at x86_64's
/// `push rbp` before `mov rbp, rsp` (the register is still the caller's); `Unknown` without
/// a table.
pub fn frame_at_pc_for_walk(pc: usize) -> (Frame, RaLoc) {
    if let Some((f, aux)) = cached(&PC_CACHE, pc) {
        return (f, RaLoc::unpack(aux));
    }
    match MAIN.get() {
        Some(Some(img)) if pc >= img.lo && pc < img.hi => {
            let (f, ra) = row_at(img, pc, true);
            remember(&PC_CACHE, pc, f, ra.pack());
            (f, ra)
        }
        _ => (Frame::Unknown, RaLoc::Unknown),
    }
}

/// The unwind row of the function at `pc` in `img`, judged by [`keeps_record`] (`at_pc`: an
/// interrupted pc, where an untouched frame pointer is still the caller's; then also where
/// the return address is).
fn row_at(img: &Image, pc: usize, at_pc: bool) -> (Frame, RaLoc) {
    let none = (Frame::Unknown, RaLoc::Unknown);
    // SAFETY: [eh_frame, seg_end) lies in a loaded segment of the image (add_image).
    let eh_start = eh_frame_ptr(img).unwrap_or(img.seg_end);
    let eh_bytes =
        unsafe { core::slice::from_raw_parts(eh_start as *const u8, img.seg_end - eh_start) };
    let bases = BaseAddresses::default()
        .set_eh_frame_hdr(img.hdr as u64)
        .set_eh_frame(eh_start as u64)
        .set_text(img.lo as u64);
    let Ok(hdr) = EhFrameHdr::new(hdr_bytes(img), LittleEndian).parse(&bases, 8) else {
        return none;
    };
    let Some(table) = hdr.table() else {
        return none;
    };
    let mut eh = EhFrame::new(eh_bytes, LittleEndian);
    if arch::DWARF_RA == 30 {
        eh.set_vendor(gimli::Vendor::AArch64);
    }
    let mut ctx = UnwindContext::<usize, OnStack>::new_in();
    let Ok(row) =
        table.unwind_info_for_address(&eh, &bases, &mut ctx, pc as u64, EhFrame::cie_from_offset)
    else {
        return none;
    };
    if at_pc {
        let fp = Register(arch::DWARF_FP);
        let callers = match row.register(fp) {
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
    (keeps_record(row), RaLoc::Unknown)
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
    fn an_address_in_no_image_is_unknown() {
        setup();
        let local = 0u64;
        assert_eq!(caller_frame(&local as *const u64 as usize), Frame::Unknown);
        assert_eq!(frame_for_walk(16), Frame::Unknown);
    }
}
