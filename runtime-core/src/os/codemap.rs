//! The code mappings of the process, snapshotted in ordinary code so that a signal handler can
//! ask "is this address code?" and read instructions without faulting.
//!
//! Two tables:
//! - code read in place: the main executable's code segments (its PT_LOAD + PF_X program
//!   headers, found through `AT_PHDR`), mapped for the life of the process, and, in the
//!   profiler's snapshot, the code segments of the libraries the profiler holds loaded while
//!   it runs (`unwind::profiler_snapshot`: a library the program closes meanwhile stays
//!   mapped until the profiler stops);
//! - every executable mapping of /proc/self/maps (other libraries, the vDSO): these may be
//!   unmapped after the snapshot (dlclose), so the handler reads them only through
//!   `process_vm_readv` on itself, which fails with EFAULT instead of faulting (and where
//!   that call is refused, under qemu-user or a seccomp policy, is not read at all).
//!
//! The profiler takes a snapshot ([`PROFILER`]) when it starts; the collector keeps one of its
//! own ([`COLLECTOR`]) to check return addresses before it places stack barriers. The handler uses it to decide whether an
//! interrupted pc is known code (else the sample's leaf is `grt.ExternalCode`) and, through
//! [`read`], to look at the instructions around pc and return addresses
//! (`arch::frameless_return`).
//!
//! Who touches what: [`CodeMap::snapshot`] writes the tables, then publishes their lengths with
//! release stores; it runs only while no reader reads them (the profiler's: while it is
//! stopped, with no handler in flight; the collector's: on the collector's thread, its only
//! reader). Readers load the lengths with acquire and read that many entries.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{auxv, maps, sys};

/// Executable mappings kept; later ones are not known.
pub const MAX_RANGES: usize = 512;
/// Code segments read in place kept: the main executable's, and the libraries' the
/// profiler holds loaded while it runs (`unwind::profiler_snapshot`).
const MAX_STABLE: usize = 16 + 256;

struct Table<const N: usize>(core::cell::UnsafeCell<[(usize, usize); N]>);
// SAFETY: written only while no reader runs (module comment), then published by a length.
unsafe impl<const N: usize> Sync for Table<N> {}

/// One snapshot of the code mappings: the main executable's segments and every executable
/// mapping of /proc/self/maps.
pub struct CodeMap {
    table: Table<MAX_RANGES>,
    len: AtomicUsize,
    stable: Table<MAX_STABLE>,
    stable_len: AtomicUsize,
}

/// The profiler's snapshot, read by the SIGPROF handler (the free functions below).
pub static PROFILER: CodeMap = CodeMap::new();
/// The collector's own snapshot, taken and read by the collector's thread only (it checks
/// that a word on a stack is a return address before it places a barrier there), so it can
/// be refreshed whenever the collector likes without waiting for profiling to stop.
pub static COLLECTOR: CodeMap = CodeMap::new();

/// The two maps, as (address, bytes): mappings of code, never a pointer into the collector's
/// heap, so its scan of the program's data skips them (mgc.rs).
pub fn static_ranges() -> [(usize, usize); 2] {
    let n = core::mem::size_of::<CodeMap>();
    [
        (&PROFILER as *const CodeMap as usize, n),
        (&COLLECTOR as *const CodeMap as usize, n),
    ]
}

/// The main executable's code segments as the kernel maps them, from its program headers
/// (`AT_PHDR`): `[start, limit)` and file offset, page-rounded. Taken from the ELF rather than
/// from /proc/self/maps because emulators do not always show them faithfully (qemu-user 7.2
/// merges an x86_64 guest's segments into one `r--p` line), and pprof computes load
/// addresses from the mapping of the text segment.
pub fn main_exe_segments<E>(
    mut f: impl FnMut(usize, usize, usize) -> Result<(), E>,
) -> Result<bool, E> {
    let bias = auxv::load_bias();
    let page = auxv::page_size();
    let mut any = false;
    for p in auxv::program_headers()
        .iter()
        .filter(|p| p.p_type == auxv::PT_LOAD && p.p_flags & auxv::PF_X != 0)
    {
        let start = bias.wrapping_add(p.p_vaddr as usize) & !(page - 1);
        let end = (bias.wrapping_add((p.p_vaddr + p.p_memsz) as usize) + page - 1) & !(page - 1);
        f(start, end, p.p_offset as usize & !(page - 1))?;
        any = true;
    }
    Ok(any)
}

impl CodeMap {
    pub const fn new() -> CodeMap {
        CodeMap {
            table: Table(core::cell::UnsafeCell::new([(0, 0); MAX_RANGES])),
            len: AtomicUsize::new(0),
            stable: Table(core::cell::UnsafeCell::new([(0, 0); MAX_STABLE])),
            stable_len: AtomicUsize::new(0),
        }
    }

    /// Re-reads the code mappings. Ordinary code only, while no reader uses this snapshot.
    pub fn snapshot(&self) {
        self.snapshot_with(|_| {})
    }

    /// [`CodeMap::snapshot`], with more ranges that stay mapped while this snapshot is used
    /// (`extra` calls its argument with each).
    pub fn snapshot_with(&self, extra: impl FnOnce(&mut dyn FnMut(usize, usize))) {
        self.len.store(0, Ordering::Release);
        self.stable_len.store(0, Ordering::Release);
        // SAFETY: no reader runs (module comment); we are the only writer.
        let (t, st) = unsafe { (&mut *self.table.0.get(), &mut *self.stable.0.get()) };
        let mut ns = 0;
        let _ = main_exe_segments::<()>(|lo, hi, _| {
            if ns < MAX_STABLE {
                st[ns] = (lo, hi);
                ns += 1;
            }
            Ok(())
        });
        extra(&mut |lo, hi| {
            if ns < MAX_STABLE && lo < hi {
                st[ns] = (lo, hi);
                ns += 1;
            }
        });
        st[..ns].sort_unstable();
        let mut n = 0;
        maps::for_each(|m| {
            if m.executable && m.readable && n < MAX_RANGES {
                t[n] = (m.start, m.end);
                n += 1;
            }
            n < MAX_RANGES
        });
        t[..n].sort_unstable();
        self.stable_len.store(ns, Ordering::Release);
        self.len.store(n, Ordering::Release);
    }

    fn stable(&self) -> &[(usize, usize)] {
        let n = self.stable_len.load(Ordering::Acquire);
        // SAFETY: the first n entries were published by the release store of stable_len.
        unsafe { &(&*self.stable.0.get())[..n] }
    }

    fn others(&self) -> &[(usize, usize)] {
        let n = self.len.load(Ordering::Acquire);
        // SAFETY: the first n entries were published by the release store of len.
        unsafe { &(&*self.table.0.get())[..n] }
    }

    /// The known code range `[lo, hi)` that holds `addr`. Async-signal-safe.
    pub fn find(&self, addr: usize) -> Option<(usize, usize)> {
        find_in(self.stable(), addr).or_else(|| find_in(self.others(), addr))
    }

    /// Copies the code at `[addr, addr + buf.len())` into `buf`; false if any of it is not
    /// known code or cannot be read. Async-signal-safe: never faults.
    pub fn read(&self, addr: usize, buf: &mut [u8]) -> bool {
        let Some(end) = addr.checked_add(buf.len()) else {
            return false;
        };
        if let Some((_, hi)) = find_in(self.stable(), addr) {
            if end <= hi {
                // SAFETY: the main executable's code segments stay mapped for the process's
                // life.
                unsafe {
                    core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len())
                };
                return true;
            }
        }
        match find_in(self.others(), addr) {
            Some((_, hi)) if end <= hi => sys::read_own_memory(addr, buf),
            _ => false,
        }
    }

    /// [`CodeMap::read`] into a fixed-size array.
    pub fn read_array<const N: usize>(&self, addr: usize) -> Option<[u8; N]> {
        let mut b = [0u8; N];
        self.read(addr, &mut b).then_some(b)
    }
}

impl Default for CodeMap {
    fn default() -> CodeMap {
        CodeMap::new()
    }
}

fn find_in(t: &[(usize, usize)], addr: usize) -> Option<(usize, usize)> {
    // Binary search (no allocation, at most log2(len) steps).
    let i = t.partition_point(|&(lo, _)| lo <= addr);
    (i > 0 && addr < t[i - 1].1).then(|| t[i - 1])
}

/// Re-reads the profiler's snapshot, with the libraries the profiler holds loaded read in
/// place (after `unwind::profiler_snapshot`). Ordinary code only, while no handler uses it.
pub fn snapshot() {
    PROFILER.snapshot_with(|add| crate::unwind::for_each_profiler_segment(add))
}

/// The known code range `[lo, hi)` that holds `addr` (the profiler's snapshot).
/// Async-signal-safe.
pub fn find(addr: usize) -> Option<(usize, usize)> {
    PROFILER.find(addr)
}

/// [`CodeMap::read`] on the profiler's snapshot. Async-signal-safe: never faults.
pub fn read(addr: usize, buf: &mut [u8]) -> bool {
    PROFILER.read(addr, buf)
}

/// [`read`] into a fixed-size array.
pub fn read_array<const N: usize>(addr: usize) -> Option<[u8; N]> {
    PROFILER.read_array(addr)
}

#[cfg(test)]
pub fn snapshot_for_tests() {
    extern crate std;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        crate::unwind::profiler_snapshot_for_tests();
        snapshot()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_reads_our_own_code_and_not_the_stack() {
        snapshot_for_tests();
        let pc = finds_and_reads_our_own_code_and_not_the_stack as *const () as usize;
        assert!(find(pc).is_some());
        let direct: [u8; 16] = read_array(pc).expect("our code is readable");
        // SAFETY: our own function's first bytes.
        assert_eq!(direct, unsafe { *(pc as *const [u8; 16]) });
        let local = 0u64;
        assert!(find(&local as *const u64 as usize).is_none());
        assert!(find(0).is_none());
        assert!(read_array::<4>(0).is_none());
    }
}
