//! Fuzz target: gentraceback over a stack made of the fuzzer's bytes, from registers the
//! fuzzer picks (pc and lr near real code, so the signal step decodes real instructions).
//! It must never fault, never loop, and never report more than MAX_FRAMES frames.
#![no_main]

use grt::traceback::{walk_arbitrary, MAX_FRAMES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SNAPSHOT: std::sync::Once = std::sync::Once::new();
    SNAPSHOT.call_once(grt::codemap::snapshot);
    if data.len() < 8 {
        return;
    }
    let (seed, rest) = data.split_at(8);
    let words: Vec<usize> = rest
        .chunks(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..c.len()].copy_from_slice(c);
            usize::from_le_bytes(b)
        })
        .chain(std::iter::once(0))
        .collect();
    let mut out = [0usize; MAX_FRAMES];
    let n = walk_arbitrary(&words, u64::from_le_bytes(seed.try_into().unwrap()), &mut out);
    assert!(n <= MAX_FRAMES);
});
