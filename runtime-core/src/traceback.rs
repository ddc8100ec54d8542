//! Printing a frame-pointer stack trace for fatal errors.
//!
//! A bounded, checked walk: every frame pointer must lie inside the stack being walked, be
//! 8-byte aligned, leave room for its record, and strictly increase; at most `MAX_FRAMES`.
//! It therefore never faults, whatever the stack holds. (The profiler's `gentraceback` will
//! generalise this walk with stack jumps and barrier handling.)

use grt_arch as arch;

use crate::{maps, printerr};

/// At most this many frames are printed.
pub const MAX_FRAMES: usize = 64;

/// The next frame pointer and return address after `fp`, if `fp` is a valid record inside
/// `[lo, hi)` (and the chain continues, i.e. the next fp is not 0).
pub fn step(fp: usize, lo: usize, hi: usize) -> Option<arch::FrameRecord> {
    if fp % 8 != 0 || fp < lo || fp > hi.saturating_sub(arch::FRAME_RECORD_SIZE) {
        return None;
    }
    // SAFETY: the record lies inside [lo, hi), a mapped stack.
    Some(unsafe { arch::read_frame_record(fp) })
}

/// Walks from (pc, fp) within `[lo, hi)`, calling `f(pc)` for each frame, at most `max`.
/// Returns how many frames were visited.
pub fn walk(
    pc: usize,
    mut fp: usize,
    lo: usize,
    hi: usize,
    max: usize,
    mut f: impl FnMut(usize),
) -> usize {
    let mut n = 0;
    if pc != 0 && n < max {
        f(pc);
        n += 1;
    }
    while n < max {
        let Some(rec) = step(fp, lo, hi) else { break };
        if rec.ret == 0 {
            break;
        }
        f(rec.ret);
        n += 1;
        if rec.fp <= fp {
            break; // 0 ends the chain; anything else not above fp is garbage
        }
        fp = rec.fp;
    }
    n
}

/// Prints one frame: `  #n 0xPC binary+0xOFFSET`.
pub fn print_pc(i: usize, pc: usize) {
    match maps::find(pc) {
        Some(m) if !m.path().is_empty() => {
            printerr!(
                "  #{:<2} {:#x} {}+{:#x}\n",
                i,
                pc,
                m.path(),
                pc - m.start + m.offset
            )
        }
        _ => printerr!("  #{:<2} {:#x} ?\n", i, pc),
    }
}

/// Prints the stack from (pc, fp) within `[lo, hi)`.
pub fn print(pc: usize, fp: usize, lo: usize, hi: usize) {
    let mut i = 0;
    let n = walk(pc, fp, lo, hi, MAX_FRAMES, |pc| {
        print_pc(i, pc);
        i += 1;
    });
    if n == MAX_FRAMES {
        printerr!("  ...more frames\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// A synthetic stack of frame records: words[i] pairs.
    fn chain(words: &mut [usize], links: &[(usize, usize, usize)]) -> usize {
        let base = words.as_ptr() as usize;
        for &(at, next, ret) in links {
            words[at] = if next == usize::MAX {
                0
            } else {
                base + next * 8
            };
            words[at + 1] = ret;
        }
        base
    }

    #[test]
    fn walks_a_chain_to_its_end() {
        let mut w = [0usize; 32];
        let base = chain(
            &mut w,
            &[(2, 8, 0x100), (8, 20, 0x200), (20, usize::MAX, 0x300)],
        );
        let mut pcs = Vec::new();
        let n = walk(0x10, base + 16, base, base + 256, 64, |p| pcs.push(p));
        assert_eq!(pcs, [0x10, 0x100, 0x200, 0x300]);
        assert_eq!(n, 4);
    }

    #[test]
    fn stops_at_loops_bounds_and_misalignment() {
        let mut w = [0usize; 32];
        // A loop back down, an fp outside the bounds, a misaligned fp.
        let base = chain(&mut w, &[(4, 2, 0x100), (2, 4, 0x200)]);
        let mut pcs = Vec::new();
        walk(0, base + 32, base, base + 256, 64, |p| pcs.push(p));
        assert_eq!(pcs, [0x100], "the record pointing down ends the walk");
        pcs.clear();
        walk(0, base + 250, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
        walk(0, base + 3, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
        walk(0, base - 16, base, base + 256, 64, |p| pcs.push(p));
        assert!(pcs.is_empty());
    }

    #[test]
    fn never_faults_on_random_words() {
        let mut w = [0usize; 512];
        let base = w.as_ptr() as usize;
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for round in 0..2000 {
            for (i, v) in w.iter_mut().enumerate() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mix plausible in-stack pointers with garbage.
                *v = if x % 3 == 0 {
                    base + (x as usize % 4096)
                } else {
                    x as usize ^ i
                };
            }
            let start = base + ((round * 8) % 4096);
            let n = walk(1, start, base, base + 4096, 64, |_| {});
            assert!(n <= 64);
        }
    }
}
