//! `cargo xtask flamegraph PROFILE BINARY [-o OUT.svg]`: a CPU profile written by grt, as
//! folded stacks and as an SVG flame graph.
//!
//! The profile is decoded (pprof.rs) and symbolized against BINARY (symbolize.rs); the folded
//! stacks (`root;...;leaf count`, one line per distinct stack, the format of Brendan Gregg's
//! FlameGraph tools) go to PROFILE.folded so they can be grepped or diffed, and inferno draws
//! them into PROFILE.svg (or OUT.svg).

use std::path::{Path, PathBuf};

use crate::pprof::Profile;
use crate::symbolize::Symbolizer;

/// What `cargo xtask flamegraph` writes.
pub struct Output {
    pub folded: PathBuf,
    pub svg: PathBuf,
    pub samples: i64,
}

/// Writes PROFILE.folded and the SVG (`out`, default PROFILE.svg) and says where they are;
/// false (after printing why) on failure.
pub fn run(profile: &Path, binary: &Path, out: Option<&Path>) -> bool {
    match write(profile, binary, out) {
        Ok(o) => {
            println!("{} samples", o.samples);
            println!("folded stacks: {}", o.folded.display());
            println!("flame graph:   {}", o.svg.display());
            true
        }
        Err(e) => {
            eprintln!("xtask flamegraph: {e}");
            false
        }
    }
}

/// The work of [`run`], without the printing.
pub fn write(profile: &Path, binary: &Path, out: Option<&Path>) -> Result<Output, String> {
    let p = Profile::read(profile)?;
    let mut sym = Symbolizer::new(binary)?;
    let stacks = sym.stacks(&p)?;
    for w in &sym.warnings {
        eprintln!("xtask flamegraph: warning: {w}");
    }
    let lines = folded_lines(&stacks);

    let folded = with_suffix(profile, ".folded");
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&folded, text).map_err(|e| format!("cannot write {}: {e}", folded.display()))?;

    let svg = out.map_or_else(|| with_suffix(profile, ".svg"), Path::to_path_buf);
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title(&p, profile);
    opts.count_name = "samples".into();
    let file =
        std::fs::File::create(&svg).map_err(|e| format!("cannot create {}: {e}", svg.display()))?;
    let writer = std::io::BufWriter::new(file);
    inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), writer)
        .map_err(|e| format!("cannot write the flame graph {}: {e}", svg.display()))?;
    Ok(Output {
        folded,
        svg,
        samples: p.sample_count(),
    })
}

/// `root;...;leaf count` lines, sorted; stacks with the same names are summed. A `;` inside a
/// name would split the frame, so it becomes `:`; a sample without frames is `[no frames]`.
pub fn folded_lines(stacks: &[(Vec<String>, i64)]) -> Vec<String> {
    let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
    for (names, count) in stacks {
        let key = if names.is_empty() {
            "[no frames]".to_string()
        } else {
            let frames: Vec<String> = names.iter().rev().map(|n| n.replace(';', ":")).collect();
            frames.join(";")
        };
        *sums.entry(key).or_default() += count;
    }
    sums.into_iter().map(|(k, n)| format!("{k} {n}")).collect()
}

/// The flame graph's title: what, how many samples, at which rate, over how long.
fn title(p: &Profile, profile: &Path) -> String {
    let name = profile.file_name().map_or_else(
        || profile.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut t = format!("{name}: {} samples", p.sample_count());
    if let Some(hz) = p.hz() {
        t.push_str(&format!(" at {hz} Hz"));
    }
    if p.duration_nanos > 0 {
        t.push_str(&format!(" over {:.2} s", p.duration_nanos as f64 / 1e9));
    }
    t
}

/// `path` with `suffix` appended to its file name (`cpu.pprof` -> `cpu.pprof.svg`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pprof::tests::{encode, gzip, sample_profile};

    #[test]
    fn folded_lines_are_root_first_summed_and_sorted() {
        let s = |v: &[&str], n| (v.iter().map(|x| x.to_string()).collect(), n);
        let stacks = vec![
            s(&["leaf", "worker", "main"], 3),
            s(&["grt.GC"], 1),
            s(&["leaf", "worker", "main"], 2),
            s(&["a;b", "main"], 1),
            s(&[], 4),
        ];
        assert_eq!(
            folded_lines(&stacks),
            [
                "[no frames] 4",
                "grt.GC 1",
                "main;a:b 1",
                "main;worker;leaf 5"
            ]
        );
    }

    #[test]
    fn writes_folded_and_svg() {
        let dir = std::env::temp_dir().join(format!("xtask-flamegraph-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prof = dir.join("cpu.pprof");
        std::fs::write(&prof, gzip(&encode(&sample_profile(), true))).unwrap();
        let exe = std::env::current_exe().unwrap();
        let o = write(&prof, &exe, None).unwrap();
        assert_eq!(o.samples, 4);
        assert_eq!(o.folded, dir.join("cpu.pprof.folded"));
        let folded = std::fs::read_to_string(&o.folded).unwrap();
        assert!(folded.contains("grt.ExternalCode 1\n"), "{folded}");
        let svg = std::fs::read_to_string(&o.svg).unwrap();
        assert!(
            svg.contains("cpu.pprof: 4 samples at 99 Hz over 2.00 s"),
            "title"
        );
        let custom = dir.join("x.svg");
        write(&prof, &exe, Some(&custom)).unwrap();
        assert!(custom.is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
