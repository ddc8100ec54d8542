//! The data of shared libraries as roots (bdwgc's `GC_register_dynamic_libraries`): the
//! writable segments (data, bss, relro) of every loaded library. The executable's own
//! segments `mgc` takes from the auxiliary vector, without grt's large statics.
//!
//! # How it works
//!
//! A snapshot (`snapshot`) lists the writable `PT_LOAD` segments of every library, through
//! `dl_iterate_phdr`, and takes a reference on each library (`dlopen` with `RTLD_NOLOAD`,
//! unwind.rs's pins): a library the program closes meanwhile stays mapped until `release`,
//! so the collector never reads unmapped memory. Only libraries that could be held are
//! listed. Snapshots are taken by the collector's thread while no thread is stopped (the
//! loader's lock may be held by a stopped thread): at the start of the concurrent mark, and
//! again just before the world stops for mark termination, which scans the segments of the
//! second one with the world stopped (stores into a library's globals, as into the
//! executable's, need no write barrier). `release` after mark termination drops the
//! references.
//!
//! So a library loaded with `dlopen` is a root from the next snapshot on. The one window: a
//! library loaded in the microseconds between the second snapshot and the stop, whose data
//! receives the only pointer to an object in that window: that object is freed. (bdwgc
//! closes it by holding its lock across `dlopen` through its `GC_dlopen` wrapper.)
//!
//! Limits: 128 libraries (unwind.rs's table) and `MAX_SEGS` segments; beyond them a warning
//! is printed once, and the rest are not roots.
//!
//! # Who may touch what
//! The table belongs to the collector's thread: only it snapshots, scans and releases.
//! The freestanding build is static: it has no library, and the table stays empty.

use crate::auxv;
use crate::unwind::{self, LibPins};

/// Writable segments kept, at most (a library has one to three).
const MAX_SEGS: usize = 512;

struct Table {
    pins: LibPins,
    segs: [(usize, usize); MAX_SEGS],
    n: usize,
}

static mut TABLE: Table = Table {
    pins: LibPins::new(),
    segs: [(0, 0); MAX_SEGS],
    n: 0,
};

#[allow(clippy::mut_from_ref)]
fn table() -> &'static mut Table {
    // SAFETY: only the collector's thread calls into this module (see the module comment).
    unsafe { &mut *core::ptr::addr_of_mut!(TABLE) }
}

/// Test-only build, `GRTDEBUG=gcnolibroots=1`: libraries' data is not scanned (the teeth of
/// gc_libroots).
fn disabled() -> bool {
    cfg!(feature = "testhooks") && crate::debug::get().gcnolibroots
}

/// Holds every loaded library and lists its writable segments. Not while a thread is
/// stopped.
pub fn snapshot() {
    let t = table();
    t.pins.unpin();
    t.n = 0;
    if disabled() {
        return;
    }
    t.pins.pin();
    if t.pins.full() {
        warn_once(
            "more than 128 shared libraries are loaded: the data of the others is not scanned",
        );
    }
    let main_phdrs = auxv::program_headers().as_ptr();
    let (pins, segs, n) = (&t.pins, &mut t.segs, &mut t.n);
    unwind::for_each_object(&mut |bias, phdrs| {
        if phdrs.as_ptr() == main_phdrs || !pins.holds(bias) {
            return; // the executable (mgc scans it), or a library being unloaded
        }
        for p in phdrs {
            if p.p_type == auxv::PT_LOAD && p.p_flags & auxv::PF_W != 0 {
                if *n == MAX_SEGS {
                    warn_once(
                        "too many writable segments in shared libraries: some are not scanned",
                    );
                    continue;
                }
                let lo = bias.wrapping_add(p.p_vaddr as usize);
                segs[*n] = (lo, lo + p.p_memsz as usize);
                *n += 1;
            }
        }
    });
}

fn warn_once(what: &str) {
    static WARNED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, core::sync::atomic::Ordering::Relaxed) {
        crate::printerr!("grt: warning: {}\n", what);
    }
}

/// Calls `f(lo, hi)` for every segment of the last snapshot.
pub fn for_each(mut f: impl FnMut(usize, usize)) {
    let t = table();
    for &(lo, hi) in &t.segs[..t.n] {
        f(lo, hi);
    }
}

/// Drops the references the last snapshot took (after mark termination).
pub fn release() {
    let t = table();
    t.pins.unpin();
    t.n = 0;
}

/// This module's table, which the data scan skips (addresses of libraries, names).
pub fn static_range() -> (usize, usize) {
    (
        core::ptr::addr_of!(TABLE) as usize,
        core::mem::size_of::<Table>(),
    )
}
