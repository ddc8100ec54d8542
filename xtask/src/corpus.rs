//! The code-shape corpus (tests/corpus/): the collector's and profiler's stress workload in
//! the shapes of code C compilers emit, built the way programs that were not written for grt
//! are built: by gcc and by clang, at -O0, -O2 and -O3, one translation unit with frame
//! pointers and one without (`-fomit-frame-pointer`), with glibc's own frame-pointer-less
//! qsort_r and bsearch in the chain. Each build runs with a barrier on every frame, back to
//! back collections and the profiler at 10 kHz, and must pass its own checks (no lost object)
//! and the profile check `corpus` (profchecks.rs). Libc build only (the corpus uses glibc).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ctests::{lib_path, Arch, Build, Mode, Tally};
use crate::util::{run, run_captured};

/// The optimisation levels every compiler builds the corpus at.
const OPTS: [&str; 3] = ["-O0", "-O2", "-O3"];

/// A C compiler for `arch`: its command and the flags that pick the target.
fn compiler(arch: &Arch, name: &str) -> (String, Vec<String>) {
    match (name, arch.name) {
        ("gcc", _) => (arch.cc.to_string(), vec![]),
        ("clang", "x86_64") => ("clang".into(), vec![]),
        ("clang", _) => ("clang".into(), vec!["--target=aarch64-linux-gnu".into()]),
        _ => unreachable!("compilers are gcc and clang"),
    }
}

fn compile(
    cc: &(String, Vec<String>),
    arch: &Arch,
    opt: &str,
    frame_pointers: bool,
    src: &Path,
    out: &Path,
) -> bool {
    let mut cmd = Command::new(&cc.0);
    cmd.args(&cc.1)
        .args([opt, "-g", "-Wall", "-Iinclude", "-Itests/c", "-c"])
        .args(arch.cflags);
    if frame_pointers {
        cmd.args(["-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer"]);
    } else {
        cmd.arg("-fomit-frame-pointer");
    }
    cmd.arg(src).arg("-o").arg(out);
    run(&mut cmd)
}

/// Builds and runs one variant; returns (ok, what it covered or what went wrong).
fn run_variant(arch: &Arch, mode: Mode, cc_name: &str, opt: &str) -> (bool, String) {
    let dir = PathBuf::from("target/corpus")
        .join(arch.name)
        .join(format!("{cc_name}{opt}"));
    fs::create_dir_all(&dir).unwrap();
    let cc = compiler(arch, cc_name);
    let (main_o, nofp_o, exe) = (
        dir.join("shapes.o"),
        dir.join("shapes_nofp.o"),
        dir.join("shapes"),
    );
    let built = compile(
        &cc,
        arch,
        opt,
        true,
        Path::new("tests/corpus/shapes.c"),
        &main_o,
    ) && compile(
        &cc,
        arch,
        opt,
        false,
        Path::new("tests/corpus/shapes_nofp.c"),
        &nofp_o,
    ) && run(Command::new(&cc.0)
        .args(&cc.1)
        .arg(&main_o)
        .arg(&nofp_o)
        .arg(lib_path(arch, Build::Testhooks))
        .arg("-lpthread")
        .arg("-o")
        .arg(&exe));
    if !built {
        return (false, "does not build".into());
    }
    let profile = dir.join("shapes.pprof");
    let _ = fs::remove_file(&profile);
    let mut argv: Vec<String> = [
        "env",
        "GRTMAXPROCS=2",
        "GRTDEBUG=gcstackbarrierall=1,asyncpreempt=1",
        "GRTPROFHZ=10000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    argv.push(format!("GRTPROF={}", profile.display()));
    argv.extend(arch.runner(mode));
    argv.push(exe.to_string_lossy().into_owned());
    let out = match run_captured(&argv, Duration::from_secs(300)) {
        Ok(o) => o,
        Err(e) => return (false, format!("cannot run: {e}")),
    };
    if out.code != Some(0) || !out.stdout.contains("PASS") {
        return (
            false,
            format!("exit {:?} signal {:?}{}", out.code, out.signal, out.tail()),
        );
    }
    let covered = out
        .stdout
        .lines()
        .find(|l| l.starts_with("covered:"))
        .unwrap_or("")
        .to_string();
    match crate::profchecks::check("corpus", &profile, &exe, &out.stdout) {
        Ok(s) => (true, format!("{s}; {covered}")),
        Err(e) => (false, format!("profile check \"corpus\": {e}; {covered}")),
    }
}

/// Every compiler x optimisation level for `arch`, recorded in `t`.
pub fn run_all(arch: &Arch, mode: Mode, how: &str, t: &mut Tally) {
    for cc in ["gcc", "clang"] {
        for opt in OPTS {
            let (ok, why) = run_variant(arch, mode, cc, opt);
            t.record(
                &format!("corpus {cc} {opt} [{} libc {how}]", arch.name),
                ok,
                &why,
            );
        }
    }
}
