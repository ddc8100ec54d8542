//! Naming the frames of a pprof profile from the binaries it was taken of.
//!
//! grt's profiler records bare addresses (a signal handler cannot read DWARF), with the
//! executable mappings of /proc/self/maps. Here, on the host, each address becomes a file
//! offset in its mapping's file (`address - memory_start + file_offset`), then an ELF virtual
//! address through the PT_LOAD segment holding that offset, then function names: from DWARF
//! with inlined calls expanded (innermost first), else from the ELF symbol table (of the file,
//! or of its separate debug file found by build id under /usr/lib/debug), else
//! `basename+0xOFFSET` (the file offset, as fatal stack dumps print it). Rust names are
//! demangled. Addresses are taken as they come: the runtime already stores `return address - 1`
//! for callers, so that they fall inside the call instruction.
//!
//! The binary named on the command line stands for mapping 1 (the main executable) and for any
//! mapping with the same basename (it may have been run from elsewhere). Other mappings (libc,
//! the dynamic loader) are read from their own paths; for aarch64 programs run under
//! qemu-aarch64, a guest path such as /lib/aarch64-linux-gnu/libc.so.6 is also looked up in the
//! cross sysroot. A file whose architecture differs from the main binary's is not used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSegment};

use crate::pprof::{Location, Mapping, Profile};

/// Where Debian's aarch64 cross libc lives (as in ctests.rs): qemu-aarch64 -L root.
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

/// The names of every sample's frames, leaf first (inlined frames expanded), with the sample
/// count (the first sample value); identical stacks are merged, in order of first appearance.
/// `binary` is the main executable the profile was taken of.
pub fn symbolized_stacks(p: &Profile, binary: &Path) -> Result<Vec<(Vec<String>, i64)>, String> {
    let mut s = Symbolizer::new(binary)?;
    s.stacks(p)
}

/// One loaded ELF file.
struct Binary {
    loader: addr2line::Loader,
    /// PT_LOAD segments: (file offset, file size, virtual address).
    segments: Vec<(u64, u64, u64)>,
}

impl Binary {
    fn load(path: &Path) -> Result<(Binary, object::Architecture), String> {
        let data =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file = object::File::parse(&*data)
            .map_err(|e| format!("{}: not an object file: {e}", path.display()))?;
        let segments = file
            .segments()
            .map(|s| {
                let (off, size) = s.file_range();
                (off, size, s.address())
            })
            .collect();
        // Debian ships libc's symbols and DWARF apart (libc6-dbg), named by build id: the
        // same addresses, so that file stands in for the stripped one.
        let debug_file = file.build_id().ok().flatten().and_then(separate_debug_file);
        let info = debug_file.as_deref().unwrap_or(path);
        let loader = addr2line::Loader::new(info)
            .map_err(|e| format!("{}: cannot read debug info: {e}", info.display()))?;
        Ok((Binary { loader, segments }, file.architecture()))
    }

    /// The virtual address at a file offset, through the PT_LOAD segment that holds it.
    fn vaddr(&self, offset: u64) -> Option<u64> {
        self.segments
            .iter()
            .find(|&&(off, size, _)| offset >= off && offset - off < size)
            .map(|&(off, _, vaddr)| vaddr + (offset - off))
    }

    /// Function names at a virtual address, innermost inlined frame first; empty if unknown.
    fn names(&self, vaddr: u64) -> Vec<String> {
        let mut names = Vec::new();
        if let Ok(mut frames) = self.loader.find_frames(vaddr) {
            while let Ok(Some(frame)) = frames.next() {
                if let Some(f) = frame.function.as_ref().and_then(|f| f.demangle().ok()) {
                    names.push(f.into_owned());
                }
            }
        }
        if names.is_empty() {
            if let Some(sym) = self.loader.find_symbol(vaddr) {
                names.push(addr2line::demangle_auto(sym.into(), None).into_owned());
            }
        }
        names
    }
}

/// Symbolizes profiles taken of one main binary; caches loaded files and named locations.
pub struct Symbolizer {
    main: PathBuf,
    main_arch: object::Architecture,
    /// Loaded files by path; None when a file could not be used.
    files: HashMap<PathBuf, Option<Binary>>,
    /// Problems worth telling the user (a library that could not be found), once each.
    pub warnings: Vec<String>,
}

impl Symbolizer {
    /// Loads the main binary; an error if it cannot be read.
    pub fn new(binary: &Path) -> Result<Symbolizer, String> {
        let (bin, arch) = Binary::load(binary)?;
        let main = binary.to_path_buf();
        Ok(Symbolizer {
            files: HashMap::from([(main.clone(), Some(bin))]),
            main,
            main_arch: arch,
            warnings: Vec::new(),
        })
    }

    /// See [`symbolized_stacks`].
    pub fn stacks(&mut self, p: &Profile) -> Result<Vec<(Vec<String>, i64)>, String> {
        let locations = p.locations_by_id();
        let mappings = p.mappings_by_id();
        let mut named: HashMap<u64, Vec<String>> = HashMap::new();
        let mut merged: Vec<(Vec<String>, i64)> = Vec::new();
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        for (i, sample) in p.sample.iter().enumerate() {
            let mut stack = Vec::new();
            for id in &sample.location_id {
                if !named.contains_key(id) {
                    let loc = locations.get(id).ok_or_else(|| {
                        format!("sample {i} names location {id}, which is missing")
                    })?;
                    let names = self.location_names(p, loc, &mappings)?;
                    named.insert(*id, names);
                }
                stack.extend(named[id].iter().cloned());
            }
            let count = sample.value.first().copied().unwrap_or(0);
            match index.get(&stack) {
                Some(&j) => merged[j].1 += count,
                None => {
                    index.insert(stack.clone(), merged.len());
                    merged.push((stack, count));
                }
            }
        }
        Ok(merged)
    }

    /// The names of one location, innermost first.
    fn location_names(
        &mut self,
        p: &Profile,
        loc: &Location,
        mappings: &HashMap<u64, &Mapping>,
    ) -> Result<Vec<String>, String> {
        if loc.mapping_id == 0 {
            return Ok(pseudo_frame_names(p, loc));
        }
        let m = mappings.get(&loc.mapping_id).ok_or_else(|| {
            format!(
                "location {} is in mapping {}, which is missing",
                loc.id, loc.mapping_id
            )
        })?;
        let offset = loc
            .address
            .wrapping_sub(m.memory_start)
            .wrapping_add(m.file_offset);
        let names = match self.binary_for(m) {
            Some(bin) => bin.vaddr(offset).map(|a| bin.names(a)).unwrap_or_default(),
            None => Vec::new(),
        };
        if names.is_empty() {
            Ok(vec![format!("{}+{offset:#x}", basename(&m.filename))])
        } else {
            Ok(names)
        }
    }

    /// The loaded file for a mapping, if there is a usable one.
    fn binary_for(&mut self, m: &Mapping) -> Option<&Binary> {
        let path = if m.id == 1 || basename(&m.filename) == basename_of(&self.main) {
            self.main.clone()
        } else {
            self.find_file(&m.filename)?
        };
        self.files.get(&path)?.as_ref()
    }

    /// Loads (once) the first candidate path for a mapping's file that exists and has the main
    /// binary's architecture; returns its key in `files`.
    fn find_file(&mut self, filename: &str) -> Option<PathBuf> {
        if !filename.starts_with('/') {
            return None; // [vdso], anonymous memory
        }
        for cand in candidates(filename, self.main_arch) {
            if let Some(entry) = self.files.get(&cand) {
                if entry.is_some() {
                    return Some(cand);
                }
                continue;
            }
            if !cand.is_file() {
                continue;
            }
            let loaded = match Binary::load(&cand) {
                Ok((bin, arch)) if arch == self.main_arch => Some(bin),
                Ok(_) => None,
                Err(e) => {
                    self.warnings.push(e);
                    None
                }
            };
            let ok = loaded.is_some();
            self.files.insert(cand.clone(), loaded);
            if ok {
                return Some(cand);
            }
        }
        let w = format!(
            "{filename}: not found (or not for this architecture); its frames are named by offset"
        );
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
        None
    }
}

/// Paths where a mapped file may be on this machine: its own, then inside the cross sysroot
/// for aarch64 (qemu-aarch64 -L prefixes guest paths with it; Debian's cross libc sits in its
/// lib/ rather than lib/aarch64-linux-gnu/).
fn candidates(filename: &str, arch: object::Architecture) -> Vec<PathBuf> {
    let mut c = vec![PathBuf::from(filename)];
    if arch == object::Architecture::Aarch64 && !filename.starts_with(AARCH64_SYSROOT) {
        c.push(PathBuf::from(format!("{AARCH64_SYSROOT}{filename}")));
        c.push(
            Path::new(AARCH64_SYSROOT)
                .join("lib")
                .join(basename(filename)),
        );
    }
    c
}

/// `<dir>/.build-id/xx/yyyy.debug` for a build id, in the system's debug directory or the
/// aarch64 cross sysroot's, if there is one.
fn separate_debug_file(build_id: &[u8]) -> Option<PathBuf> {
    let (first, rest) = build_id.split_first()?;
    let rest: String = rest.iter().map(|b| format!("{b:02x}")).collect();
    ["/usr/lib/debug", &format!("{AARCH64_SYSROOT}/lib/debug")]
        .iter()
        .map(|dir| PathBuf::from(format!("{dir}/.build-id/{first:02x}/{rest}.debug")))
        .find(|p| p.is_file())
}

/// Names of a location outside every mapping: grt's pseudo-frames (grt.ExternalCode,
/// grt.System, grt.GC, grt.LostSamples) carry one line naming their function.
fn pseudo_frame_names(p: &Profile, loc: &Location) -> Vec<String> {
    let functions = p.functions_by_id();
    let mut names: Vec<String> = loc
        .line
        .iter()
        .map(|l| match functions.get(&l.function_id) {
            Some(f) if !f.name.is_empty() => f.name.clone(),
            Some(f) if !f.system_name.is_empty() => f.system_name.clone(),
            _ => format!("function{}", l.function_id),
        })
        .collect();
    if names.is_empty() {
        names.push(format!("{:#x}", loc.address));
    }
    names
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn basename_of(path: &Path) -> &str {
    path.file_name().and_then(|s| s.to_str()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pprof::tests::sample_profile;

    #[test]
    fn aarch64_guest_paths_are_looked_up_in_the_sysroot() {
        let c = candidates(
            "/lib/aarch64-linux-gnu/libc.so.6",
            object::Architecture::Aarch64,
        );
        let c: Vec<_> = c.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            c,
            [
                "/lib/aarch64-linux-gnu/libc.so.6",
                "/usr/aarch64-linux-gnu/lib/aarch64-linux-gnu/libc.so.6",
                "/usr/aarch64-linux-gnu/lib/libc.so.6",
            ]
        );
        let c = candidates(
            "/lib/x86_64-linux-gnu/libc.so.6",
            object::Architecture::X86_64,
        );
        assert_eq!(c.len(), 1);
    }

    /// The xtask binary itself (built with debug info by cargo test) stands in for a profiled
    /// program: its own code addresses, relocated as a profile would see them.
    #[test]
    fn names_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let exe_str = exe.to_str().unwrap();
        // (start, end, offset) of our executable mappings.
        let exec: Vec<(u64, u64, u64)> = maps
            .lines()
            .filter(|l| l.ends_with(exe_str) && l.split_whitespace().nth(1).unwrap().contains('x'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let (s, e) = f[0].split_once('-').unwrap();
                let hex = |x: &str| u64::from_str_radix(x, 16).unwrap();
                (hex(s), hex(e), hex(f[2]))
            })
            .collect();
        assert_eq!(exec.len(), 1, "{maps}");
        let (start, end, off) = exec[0];
        let addr = names_this_test_binary as *const () as u64;
        assert!(addr >= start && addr < end);

        let mut p = sample_profile();
        p.mapping[0].memory_start = start;
        p.mapping[0].memory_limit = end;
        p.mapping[0].file_offset = off;
        p.mapping[0].filename = "/elsewhere/xtask-renamed".into();
        p.location[0].address = addr + 1;
        p.location[1].address = basename as *const () as u64 + 1;
        let stacks = symbolized_stacks(&p, &exe).unwrap();
        assert_eq!(stacks.len(), 2);
        let (names, count) = &stacks[0];
        assert_eq!(*count, 3);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].ends_with("names_this_test_binary"), "{names:?}");
        assert!(names[1].ends_with("symbolize::basename"), "{names:?}");
        assert_eq!(stacks[1], (vec!["grt.ExternalCode".to_string()], 1));
    }

    #[test]
    fn unknown_addresses_and_files_fall_back_to_offsets() {
        let exe = std::env::current_exe().unwrap();
        let mut p = sample_profile();
        p.mapping.push(Mapping {
            id: 2,
            memory_start: 0x7000_0000,
            memory_limit: 0x7001_0000,
            file_offset: 0x2000,
            filename: "/nonexistent/libfoo.so".into(),
            has_functions: false,
        });
        p.location[1].mapping_id = 2;
        p.location[1].address = 0x7000_0010;
        // Outside every segment of the main binary.
        p.location[0].address = p.mapping[0].memory_start + (1 << 40);
        let mut s = Symbolizer::new(&exe).unwrap();
        let stacks = s.stacks(&p).unwrap();
        let exe_name = basename_of(&exe);
        assert_eq!(
            stacks[0].0,
            [
                format!("prog+{:#x}", (1u64 << 40) + 0x1000),
                "libfoo.so+0x2010".to_string()
            ],
            "main is {exe_name}"
        );
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);

        p.sample[0].location_id.push(77);
        let e = symbolized_stacks(&p, &exe).unwrap_err();
        assert!(e.contains("location 77"), "{e}");
        assert!(Symbolizer::new(Path::new("/nonexistent/prog")).is_err());
    }
}
