//! The CPU profile as a file: samples summed by stack, then written as a gzip-compressed
//! pprof `profile.proto` (github.com/google/pprof, proto/profile.proto).
//!
//! What the file holds, so that `go tool pprof BINARY FILE`, `pprof` and
//! `cargo xtask flamegraph FILE BINARY` can read and symbolize it:
//! - sample types `samples/count` and `cpu/nanoseconds`; period type `cpu/nanoseconds`, period
//!   = the sampling interval; `time_nanos` (CLOCK_REALTIME at start) and `duration_nanos`;
//! - one sample per distinct stack, leaf first, values `[count, count * period]`;
//! - mappings: the mappings of /proc/self/maps that may hold code and have a name, the main
//!   executable (`/proc/self/exe`) first, as pprof expects;
//! - locations: one per distinct address, unsymbolized (the tools read the binaries). The leaf
//!   is the interrupted pc; callers are return addresses, written as `address - 1` so they
//!   fall inside the call instruction (the line of the call, not of the next statement);
//! - pseudo-frames (`grt.ExternalCode`, `grt.System`, `grt.GC`, `grt.LostSamples`) are
//!   locations with no mapping and one line naming a function of that name. Samples lost to
//!   a full buffer are one sample `[grt.LostSamples]` with their count.
//!
//! Ordinary code only (it allocates through rtalloc); the signal handler never comes here.

use crate::cpuprof::{PC_EXTERNAL_CODE, PC_GC, PC_LOST, PC_SYSTEM, PSEUDO_MAX};
use crate::maps;
use crate::rtvec::{NoMem, RtVec};

// ---- samples summed by stack ---------------------------------------------------------------

/// Distinct stacks and their counts: an open-addressing hash table over an arena of words,
/// each entry `[count, n, pc_0 .. pc_n-1]`.
pub struct StackTable {
    arena: RtVec<usize>,
    /// Power-of-two slots holding entry offset + 1 (0: empty).
    index: RtVec<u32>,
    entries: usize,
}

fn hash(frames: &[usize]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &f in frames {
        h = (h ^ f as u64).wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
    }
    h
}

impl StackTable {
    pub const fn new() -> StackTable {
        StackTable {
            arena: RtVec::new(),
            index: RtVec::new(),
            entries: 0,
        }
    }

    pub fn clear(&mut self) {
        self.arena.clear();
        self.index.clear();
        self.entries = 0;
    }

    fn frames_at(&self, off: usize) -> &[usize] {
        let a = self.arena.as_slice();
        &a[off + 2..off + 2 + a[off + 1]]
    }

    fn find_slot(&self, frames: &[usize]) -> (usize, Option<usize>) {
        let mask = self.index.len() - 1;
        let mut i = hash(frames) as usize & mask;
        loop {
            match self.index.as_slice()[i] {
                0 => return (i, None),
                e if self.frames_at(e as usize - 1) == frames => return (i, Some(e as usize - 1)),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) -> Result<(), NoMem> {
        let cap = (self.index.len() * 2).max(1024);
        let mut index = RtVec::new();
        index.resize(cap, 0u32)?;
        let old = core::mem::replace(&mut self.index, index);
        for &e in old.as_slice().iter().filter(|&&e| e != 0) {
            let (slot, _) = self.find_slot(self.frames_at(e as usize - 1));
            self.index.as_mut_slice()[slot] = e;
        }
        Ok(())
    }

    /// Adds `count` samples of the stack `frames` (leaf first).
    pub fn add(&mut self, frames: &[usize], count: usize) -> Result<(), NoMem> {
        if (self.entries + 1) * 2 > self.index.len() {
            self.grow()?;
        }
        match self.find_slot(frames) {
            (_, Some(off)) => self.arena.as_mut_slice()[off] += count,
            (slot, None) => {
                let off = self.arena.len();
                if off + 1 > u32::MAX as usize {
                    return Err(NoMem);
                }
                self.arena.push(count)?;
                self.arena.push(frames.len())?;
                self.arena.extend_from_slice(frames)?;
                self.index.as_mut_slice()[slot] = off as u32 + 1;
                self.entries += 1;
            }
        }
        Ok(())
    }

    /// Each distinct stack with its count.
    pub fn for_each(&self, mut f: impl FnMut(&[usize], usize)) {
        let a = self.arena.as_slice();
        let mut off = 0;
        while off < a.len() {
            let n = a[off + 1];
            f(&a[off + 2..off + 2 + n], a[off]);
            off += 2 + n;
        }
    }

    /// Total samples.
    pub fn total(&self) -> usize {
        let mut t = 0;
        self.for_each(|_, c| t += c);
        t
    }
}

impl Default for StackTable {
    fn default() -> Self {
        Self::new()
    }
}

// ---- protobuf encoding -----------------------------------------------------------------------

struct Pb {
    buf: RtVec<u8>,
}

impl Pb {
    fn varint(&mut self, mut v: u64) -> Result<(), NoMem> {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80)?;
            v >>= 7;
        }
        self.buf.push(v as u8)
    }
    fn key(&mut self, field: u32, wire: u8) -> Result<(), NoMem> {
        self.varint((field as u64) << 3 | wire as u64)
    }
    /// A varint field (omitted when 0, as proto3 does).
    fn u64(&mut self, field: u32, v: u64) -> Result<(), NoMem> {
        if v == 0 {
            return Ok(());
        }
        self.key(field, 0)?;
        self.varint(v)
    }
    fn bytes(&mut self, field: u32, b: &[u8]) -> Result<(), NoMem> {
        self.key(field, 2)?;
        self.varint(b.len() as u64)?;
        self.buf.extend_from_slice(b)
    }
    /// A nested message built by `f`.
    fn msg(
        &mut self,
        field: u32,
        f: impl FnOnce(&mut Pb) -> Result<(), NoMem>,
    ) -> Result<(), NoMem> {
        let mut inner = Pb { buf: RtVec::new() };
        f(&mut inner)?;
        self.bytes(field, inner.buf.as_slice())
    }
    /// A packed repeated varint field.
    fn packed(&mut self, field: u32, vs: impl Iterator<Item = u64>) -> Result<(), NoMem> {
        let mut inner = Pb { buf: RtVec::new() };
        for v in vs {
            inner.varint(v)?;
        }
        self.bytes(field, inner.buf.as_slice())
    }
}

// profile.proto field numbers.
const PROFILE_SAMPLE_TYPE: u32 = 1;
const PROFILE_SAMPLE: u32 = 2;
const PROFILE_MAPPING: u32 = 3;
const PROFILE_LOCATION: u32 = 4;
const PROFILE_FUNCTION: u32 = 5;
const PROFILE_STRING_TABLE: u32 = 6;
const PROFILE_TIME_NANOS: u32 = 9;
const PROFILE_DURATION_NANOS: u32 = 10;
const PROFILE_PERIOD_TYPE: u32 = 11;
const PROFILE_PERIOD: u32 = 12;
const VALUETYPE_TYPE: u32 = 1;
const VALUETYPE_UNIT: u32 = 2;
const SAMPLE_LOCATION_ID: u32 = 1;
const SAMPLE_VALUE: u32 = 2;
const MAPPING_ID: u32 = 1;
const MAPPING_MEMORY_START: u32 = 2;
const MAPPING_MEMORY_LIMIT: u32 = 3;
const MAPPING_FILE_OFFSET: u32 = 4;
const MAPPING_FILENAME: u32 = 5;
const LOCATION_ID: u32 = 1;
const LOCATION_MAPPING_ID: u32 = 2;
const LOCATION_ADDRESS: u32 = 3;
const LOCATION_LINE: u32 = 4;
const LINE_FUNCTION_ID: u32 = 1;
const FUNCTION_ID: u32 = 1;
const FUNCTION_NAME: u32 = 2;
const FUNCTION_SYSTEM_NAME: u32 = 3;

/// The pseudo-frames, by their sentinel pc; their location and function ids are the same
/// small numbers (1..=PSEUDO_MAX), real locations come after.
const PSEUDO_NAMES: [(usize, &str); 4] = [
    (PC_EXTERNAL_CODE, "grt.ExternalCode"),
    (PC_SYSTEM, "grt.System"),
    (PC_GC, "grt.GC"),
    (PC_LOST, "grt.LostSamples"),
];

/// Interned strings (few: names of sample types, mappings and pseudo-functions).
struct Strings {
    all: RtVec<(usize, usize)>,
    bytes: RtVec<u8>,
}

impl Strings {
    fn id(&mut self, s: &[u8]) -> Result<u64, NoMem> {
        for (i, &(off, len)) in self.all.as_slice().iter().enumerate() {
            if &self.bytes.as_slice()[off..off + len] == s {
                return Ok(i as u64);
            }
        }
        self.all.push((self.bytes.len(), s.len()))?;
        self.bytes.extend_from_slice(s)?;
        Ok(self.all.len() as u64 - 1)
    }
}

/// One executable mapping, as written.
#[derive(Clone, Copy)]
struct Map {
    start: usize,
    end: usize,
    offset: usize,
    name: u64,
}

/// Everything the profile needs besides the stacks.
pub struct Meta {
    pub period_ns: u64,
    pub time_nanos: u64,
    pub duration_nanos: u64,
    pub lost: u64,
}

/// Reads the named code mappings, main executable first.
fn read_mappings(strings: &mut Strings, maps_out: &mut RtVec<Map>) -> Result<(), NoMem> {
    let mut exe = [0u8; maps::PATH_BYTES];
    let exe_len = crate::sys::readlink(b"/proc/self/exe\0", &mut exe).unwrap_or(0);
    let exe = &exe[..exe_len];
    let mut have_main = false;
    if !exe.is_empty() {
        let name = strings.id(exe)?;
        have_main = crate::codemap::main_exe_segments(|start, end, offset| {
            maps_out.push(Map {
                start,
                end,
                offset,
                name,
            })
        })?;
    }
    let mut err = Ok(());
    for main_pass in [true, false] {
        if main_pass && have_main {
            continue;
        }
        maps::for_each(|m| {
            let path = m.path().as_bytes();
            if !m.may_hold_code() || path.is_empty() || (path == exe) != main_pass {
                return true;
            }
            let r = strings.id(path).and_then(|name| {
                maps_out.push(Map {
                    start: m.start,
                    end: m.end,
                    offset: m.offset,
                    name,
                })
            });
            if r.is_err() {
                err = r;
                return false;
            }
            true
        });
    }
    err
}

/// Encodes the profile (not yet compressed).
pub fn encode(stacks: &StackTable, meta: &Meta) -> Result<RtVec<u8>, NoMem> {
    let mut pb = Pb { buf: RtVec::new() };
    let mut strings = Strings {
        all: RtVec::new(),
        bytes: RtVec::new(),
    };
    strings.id(b"")?;
    let samples = strings.id(b"samples")?;
    let count = strings.id(b"count")?;
    let cpu = strings.id(b"cpu")?;
    let nanoseconds = strings.id(b"nanoseconds")?;
    for (ty, unit) in [(samples, count), (cpu, nanoseconds)] {
        pb.msg(PROFILE_SAMPLE_TYPE, |m| {
            m.u64(VALUETYPE_TYPE, ty)?;
            m.u64(VALUETYPE_UNIT, unit)
        })?;
    }
    let mut mappings = RtVec::new();
    read_mappings(&mut strings, &mut mappings)?;
    // Mapping lookup by address: sorted copy of (start, end, id).
    let mut by_addr: RtVec<(usize, usize, u64)> = RtVec::new();
    for (i, m) in mappings.as_slice().iter().enumerate() {
        by_addr.push((m.start, m.end, i as u64 + 1))?;
    }
    by_addr.as_mut_slice().sort_unstable();
    let mapping_of = |addr: usize| -> u64 {
        let t = by_addr.as_slice();
        let i = t.partition_point(|&(lo, _, _)| lo <= addr);
        if i > 0 && addr < t[i - 1].1 {
            t[i - 1].2
        } else {
            0
        }
    };

    // Locations: the address as written -> id. Distinct addresses are few (thousands), so a
    // second StackTable keyed by the one-word "stack" [address] does the interning.
    let mut locs = StackTable::new();
    let mut loc_addrs: RtVec<usize> = RtVec::new();
    let mut ids: RtVec<u64> = RtVec::new();
    let mut sample_err = Ok(());
    let location_id = |addr: usize, locs: &mut StackTable, loc_addrs: &mut RtVec<usize>| {
        if addr <= PSEUDO_MAX {
            return Ok(addr as u64);
        }
        // The count field holds the id.
        let before = locs.entries;
        locs.add(&[addr], 0)?;
        if locs.entries != before {
            loc_addrs.push(addr)?;
            let off = locs.arena.len() - 3;
            locs.arena.as_mut_slice()[off] = PSEUDO_MAX + loc_addrs.len();
        }
        let (_, off) = locs.find_slot(&[addr]);
        Ok::<u64, NoMem>(locs.arena.as_slice()[off.unwrap_or(0)] as u64)
    };
    stacks.for_each(|frames, n| {
        if sample_err.is_err() {
            return;
        }
        ids.clear();
        let r = (|| {
            for (i, &pc) in frames.iter().enumerate() {
                let addr = if i == 0 || pc <= PSEUDO_MAX {
                    pc
                } else {
                    pc - 1
                };
                ids.push(location_id(addr, &mut locs, &mut loc_addrs)?)?;
            }
            pb.msg(PROFILE_SAMPLE, |m| {
                m.packed(SAMPLE_LOCATION_ID, ids.as_slice().iter().copied())?;
                m.packed(
                    SAMPLE_VALUE,
                    [n as u64, n as u64 * meta.period_ns].into_iter(),
                )
            })
        })();
        if r.is_err() {
            sample_err = r;
        }
    });
    sample_err?;
    if meta.lost > 0 {
        pb.msg(PROFILE_SAMPLE, |m| {
            m.packed(SAMPLE_LOCATION_ID, [PC_LOST as u64].into_iter())?;
            m.packed(
                SAMPLE_VALUE,
                [meta.lost, meta.lost * meta.period_ns].into_iter(),
            )
        })?;
    }
    for (i, m) in mappings.as_slice().iter().enumerate() {
        pb.msg(PROFILE_MAPPING, |pm| {
            pm.u64(MAPPING_ID, i as u64 + 1)?;
            pm.u64(MAPPING_MEMORY_START, m.start as u64)?;
            pm.u64(MAPPING_MEMORY_LIMIT, m.end as u64)?;
            pm.u64(MAPPING_FILE_OFFSET, m.offset as u64)?;
            pm.u64(MAPPING_FILENAME, m.name)
        })?;
    }
    for (pc, name) in PSEUDO_NAMES {
        let name = strings.id(name.as_bytes())?;
        pb.msg(PROFILE_LOCATION, |l| {
            l.u64(LOCATION_ID, pc as u64)?;
            l.msg(LOCATION_LINE, |ln| ln.u64(LINE_FUNCTION_ID, pc as u64))
        })?;
        pb.msg(PROFILE_FUNCTION, |f| {
            f.u64(FUNCTION_ID, pc as u64)?;
            f.u64(FUNCTION_NAME, name)?;
            f.u64(FUNCTION_SYSTEM_NAME, name)
        })?;
    }
    for (i, &addr) in loc_addrs.as_slice().iter().enumerate() {
        pb.msg(PROFILE_LOCATION, |l| {
            l.u64(LOCATION_ID, (PSEUDO_MAX + 1 + i) as u64)?;
            l.u64(LOCATION_MAPPING_ID, mapping_of(addr))?;
            l.u64(LOCATION_ADDRESS, addr as u64)
        })?;
    }
    for &(off, len) in strings.all.as_slice() {
        pb.bytes(
            PROFILE_STRING_TABLE,
            &strings.bytes.as_slice()[off..off + len],
        )?;
    }
    pb.u64(PROFILE_TIME_NANOS, meta.time_nanos)?;
    pb.u64(PROFILE_DURATION_NANOS, meta.duration_nanos)?;
    pb.msg(PROFILE_PERIOD_TYPE, |m| {
        m.u64(VALUETYPE_TYPE, cpu)?;
        m.u64(VALUETYPE_UNIT, nanoseconds)
    })?;
    pb.u64(PROFILE_PERIOD, meta.period_ns)?;
    Ok(pb.buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn sums_identical_stacks() {
        let mut t = StackTable::new();
        for i in 0..5000usize {
            t.add(&[0x1000 + i % 7, 0x2000, 0x3000 + i % 3], 1).unwrap();
        }
        t.add(&[0x1000], 4).unwrap();
        let mut seen = Vec::new();
        t.for_each(|f, c| seen.push((f.to_vec(), c)));
        assert_eq!(seen.len(), 7 * 3 + 1);
        assert_eq!(t.total(), 5004);
        assert!(seen.contains(&(std::vec![0x1000], 4)));
    }

    /// Decodes the varint-keyed top level of a message: (field, wire, value or bytes).
    fn fields(mut b: &[u8]) -> Vec<(u32, u64, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let mut v = 0u64;
            for s in 0.. {
                let c = b[0];
                *b = &b[1..];
                v |= ((c & 0x7f) as u64) << (7 * s);
                if c < 0x80 {
                    break;
                }
            }
            v
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let k = varint(&mut b);
            match k & 7 {
                0 => out.push(((k >> 3) as u32, varint(&mut b), Vec::new())),
                2 => {
                    let n = varint(&mut b) as usize;
                    out.push(((k >> 3) as u32, 2, b[..n].to_vec()));
                    b = &b[n..];
                }
                w => panic!("unexpected wire type {w}"),
            }
        }
        out
    }

    #[test]
    fn encodes_samples_locations_and_lost() {
        let mut t = StackTable::new();
        let here = encodes_samples_locations_and_lost as *const () as usize;
        t.add(&[here, here + 0x40, PC_SYSTEM], 3).unwrap();
        t.add(&[PC_EXTERNAL_CODE, PC_GC], 2).unwrap();
        let meta = Meta {
            period_ns: 10_000_000,
            time_nanos: 1,
            duration_nanos: 2,
            lost: 5,
        };
        let bytes = encode(&t, &meta).unwrap();
        let top = fields(bytes.as_slice());
        let samples: Vec<_> = top.iter().filter(|f| f.0 == PROFILE_SAMPLE).collect();
        assert_eq!(samples.len(), 3, "two stacks and the lost samples");
        let strings: Vec<_> = top
            .iter()
            .filter(|f| f.0 == PROFILE_STRING_TABLE)
            .map(|f| std::string::String::from_utf8(f.2.clone()).unwrap())
            .collect();
        assert_eq!(strings[0], "");
        for name in [
            "samples",
            "count",
            "cpu",
            "nanoseconds",
            "grt.LostSamples",
            "grt.GC",
        ] {
            assert!(strings.iter().any(|s| s == name), "{name} in {strings:?}");
        }
        // The test binary's text is mapping 1 and our addresses land in it.
        let maps: Vec<_> = top.iter().filter(|f| f.0 == PROFILE_MAPPING).collect();
        assert!(!maps.is_empty());
        let locs: Vec<_> = top
            .iter()
            .filter(|f| f.0 == PROFILE_LOCATION)
            .map(|f| fields(&f.2))
            .collect();
        let real: Vec<_> = locs
            .iter()
            .filter(|l| l.iter().any(|f| f.0 == LOCATION_ADDRESS))
            .collect();
        assert_eq!(real.len(), 2);
        let addrs: Vec<u64> = real
            .iter()
            .map(|l| l.iter().find(|f| f.0 == LOCATION_ADDRESS).unwrap().1)
            .collect();
        assert!(addrs.contains(&(here as u64)), "the leaf is the pc itself");
        assert!(
            addrs.contains(&(here as u64 + 0x3f)),
            "callers are return address - 1"
        );
        for l in &real {
            assert_eq!(
                l.iter().find(|f| f.0 == LOCATION_MAPPING_ID).map(|f| f.1),
                Some(1)
            );
        }
        let period = top.iter().find(|f| f.0 == PROFILE_PERIOD).unwrap().1;
        assert_eq!(period, 10_000_000);
    }
}
