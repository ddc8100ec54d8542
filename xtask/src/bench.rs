//! `cargo xtask bench`, second part: grt's scheduler against Go's, on x86_64 natively only.
//!
//! tests/bench/c/sched_bench.c (against libgrt.a, libc build) and tests/bench/go/sched.go
//! are the same three benchmarks (goroutine create, unbuffered channel ping-pong, yield),
//! timed the same way inside each program; see their opening comments. Each benchmark is run
//! RUNS times, one process per run, grt and Go alternating so that both see the same machine
//! noise, and the medians are compared. The goal for each: grt/Go <= 1.0. Missing the goal
//! is reported, not an error; a build or a run that fails is.
//!
//! pingpong and yield run with one proc on both sides (GRTMAXPROCS=1, GOMAXPROCS=1), create
//! with as many as this process may use on both; each program prints the procs it ran with
//! and a mismatch is an error.
//!
//! A second table: the longest wait of a goroutine that loops on yield next to a load (one
//! load goroutine per P: collections, short system calls, calls into C, allocation, channel
//! ping-pong, a loop that calls nothing), GRTMAXPROCS/GOMAXPROCS 1 and 2, grt against Go's
//! same program (`wait_<load>` in both).
//!
//! Under qemu-aarch64 the figures would be emulation's, so aarch64 is left out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ctests::{self, Build, ARCHES};
use crate::setup;
use crate::util::{have, output, run};

/// Processes per benchmark and side.
const RUNS: usize = 7;
/// A process that takes longer than this is killed (a hung scheduler, a deadlock).
const TIMEOUT: Duration = Duration::from_secs(30);
/// Where the two programs are built.
const OUT_DIR: &str = "target/sched-bench";
const GO_SRC: &str = "tests/bench/go";
const C_SRC: &str = "tests/bench/c/sched_bench.c";

struct Sched {
    name: &'static str,
    /// Passed to both programs; Go takes ~0.1 s for these on a 2020s x86_64 core.
    iters: u64,
    /// Run with GRTMAXPROCS=1 / GOMAXPROCS=1 (else: all the CPUs this process may use).
    one_proc: bool,
    what: &'static str,
}

const BENCHES: [Sched; 3] = [
    Sched {
        name: "create",
        iters: 500_000,
        one_proc: false,
        what: "goroutine create + run + exit, ns per goroutine (batches of 1000, wait group)",
    },
    Sched {
        name: "pingpong",
        iters: 500_000,
        one_proc: true,
        what: "unbuffered channel ping-pong between two goroutines, ns per round trip",
    },
    Sched {
        name: "yield",
        iters: 1_000_000,
        one_proc: true,
        what: "two goroutines yielding (grt_yield / runtime.Gosched), ns per yield (one switch)",
    },
];

/// What one process reported.
struct Sample {
    procs: usize,
    ns: f64,
}

/// Finds `<name> procs=P iters=N ns_per_op=X` in a program's output.
fn parse_sample(name: &str, stdout: &str) -> Option<Sample> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))?;
    let field = |key: &str| line.split_whitespace().find_map(|w| w.strip_prefix(key));
    Some(Sample {
        procs: field("procs=")?.parse().ok()?,
        ns: field("ns_per_op=")?.parse().ok()?,
    })
}

/// Runs one benchmark process of one side.
fn run_one(exe: &Path, b: &Sched, procs: usize) -> Result<Sample, String> {
    let argv = vec![
        "env".to_string(),
        format!("GRTMAXPROCS={procs}"),
        format!("GOMAXPROCS={procs}"),
        exe.to_string_lossy().into_owned(),
        b.name.to_string(),
        b.iters.to_string(),
    ];
    let out = crate::util::run_ok(&argv, TIMEOUT)?;
    let s = parse_sample(b.name, &out.stdout).ok_or_else(|| {
        format!(
            "no `{} procs=.. iters=.. ns_per_op=..` line{}",
            b.name,
            out.tail()
        )
    })?;
    if s.procs != procs {
        return Err(format!(
            "ran with {} procs, expected {procs} (GRTMAXPROCS/GOMAXPROCS ignored?)",
            s.procs
        ));
    }
    Ok(s)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Makes sure `go` is there: Debian's golang-go when running as root.
pub(crate) fn ensure_go() -> bool {
    if have("go", "version") {
        return true;
    }
    if !setup::is_root() {
        eprintln!("xtask: `go` is not installed: the benchmarks against Go are SKIPPED.");
        eprintln!("xtask: to run it, install Go as root:");
        eprintln!("  apt-get update && apt-get install -y golang-go");
        return false;
    }
    setup::apt_install(&["golang-go"]) && have("go", "version")
}

/// Builds the Go program in package directory `pkg` of the benchmarks' Go module
/// (tests/bench/go) into `exe`; false, with a message, on failure. Go's build cache and
/// GOPATH go under `out_dir` when there is no $HOME.
pub(crate) fn go_build(pkg: &str, exe: &Path, out_dir: &Path) -> bool {
    let mut cmd = Command::new("go");
    cmd.current_dir(GO_SRC)
        .args(["build", "-buildvcs=false", "-o"])
        .arg(exe)
        .arg(pkg)
        // A module with no dependencies: nothing is downloaded, not even a toolchain.
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local");
    if std::env::var_os("HOME").is_none() {
        // Go wants a build cache and a GOPATH; without $HOME, keep both under target/.
        if std::env::var_os("GOCACHE").is_none() && std::env::var_os("XDG_CACHE_HOME").is_none() {
            cmd.env("GOCACHE", out_dir.join("go-cache"));
        }
        if std::env::var_os("GOPATH").is_none() {
            cmd.env("GOPATH", out_dir.join("gopath"));
        }
    }
    if !run(&mut cmd) {
        eprintln!("xtask: building {GO_SRC}/{pkg} failed");
        return false;
    }
    true
}

/// `go version`'s version word (go1.19.8), or "?".
pub(crate) fn go_version() -> String {
    output(Command::new("go").arg("version"))
        .map(|s| s.split_whitespace().nth(2).unwrap_or("?").to_string())
        .unwrap_or_else(|| "?".into())
}

/// Builds libgrt.a (libc build, release, host), sched_bench.c against it and sched.go.
/// Returns (grt program, Go program).
fn build(out_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let arch = &ARCHES[0];
    // The same build as `cargo xtask test` makes for x86_64 libc: target/<triple>/release.
    let lib_ok = run(Command::new("cargo").args([
        "build",
        "-q",
        "--release",
        "-p",
        "grt-runtime-core",
        "--target",
        arch.triple,
    ]));
    if !lib_ok {
        eprintln!("xtask: building libgrt.a failed");
        return None;
    }
    std::fs::create_dir_all(out_dir).ok()?;
    let grt_exe = out_dir.join("sched_bench_grt");
    if !ctests::compile_c(arch, Build::Libc, &[PathBuf::from(C_SRC)], &grt_exe) {
        eprintln!("xtask: compiling {C_SRC} failed");
        return None;
    }
    let go_exe = out_dir.join("sched_go");
    if !go_build(".", &go_exe, out_dir) {
        return None;
    }
    Some((grt_exe, go_exe))
}

/// `cargo xtask bench`, scheduler part: builds, runs and prints the table.
pub fn sched() -> bool {
    println!("\n== scheduler: grt against Go");
    if std::env::consts::ARCH != "x86_64" {
        println!("  skipped: this benchmark runs on x86_64 hosts only (natively)");
        return true;
    }
    if !ensure_go() {
        println!("  SKIPPED: `go` is missing (see above)");
        return false;
    }
    let out_dir = std::env::current_dir()
        .expect("current directory")
        .join(OUT_DIR);
    let Some((grt_exe, go_exe)) = build(&out_dir) else {
        println!("  FAILED: could not build the benchmark programs (see above)");
        return false;
    };
    let go_version = go_version();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!(
        "  x86_64 natively only (under qemu-aarch64 the figures would be emulation's); Go {go_version}"
    );
    println!("  {RUNS} runs per benchmark and side, one process each, grt and Go alternating:");
    let mut ok = true;
    let mut rows = Vec::new();
    for b in &BENCHES {
        let procs = if b.one_proc { 1 } else { cpus };
        let (mut g, mut o) = (Vec::new(), Vec::new());
        let mut err = None;
        'runs: for _ in 0..RUNS {
            for (side, exe, v) in [("grt", &grt_exe, &mut g), ("Go", &go_exe, &mut o)] {
                match run_one(exe, b, procs) {
                    Ok(s) => v.push(s.ns),
                    Err(e) => {
                        err = Some(format!("{side}: {e}"));
                        break 'runs;
                    }
                }
            }
        }
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !g.is_empty() {
            println!("  {:<9} grt: {}", b.name, list(&g));
            println!("  {:<9}  Go: {}", "", list(&o));
        }
        if let Some(e) = &err {
            println!("  {:<9} FAILED {e}", b.name);
            ok = false;
        }
        let medians = err.is_none().then(|| (median(g), median(o)));
        rows.push((b, procs, medians));
    }

    println!("\n  scheduler, median ns per op of {RUNS} runs (x86_64 native):");
    println!(
        "  {:<9} {:>5} {:>9} {:>12} {:>12} {:>8}  goal grt/Go <= 1.0",
        "benchmark", "procs", "iters", "grt ns/op", "Go ns/op", "grt/Go"
    );
    for (b, procs, medians) in &rows {
        match medians {
            Some((g, o)) => {
                let r = g / o;
                println!(
                    "  {:<9} {:>5} {:>9} {:>12.1} {:>12.1} {:>8.3}  {}",
                    b.name,
                    procs,
                    b.iters,
                    g,
                    o,
                    r,
                    if r <= 1.0 { "met" } else { "NOT met" }
                );
            }
            None => println!(
                "  {:<9} {:>5} {:>9} {:>12} {:>12} {:>8}  (run failed)",
                b.name, procs, b.iters, "-", "-", "-"
            ),
        }
    }
    println!();
    for b in &BENCHES {
        println!("  {:<9} {}", b.name, b.what);
    }
    waits(&grt_exe, &go_exe) && ok
}

/// Loads of the longest-wait benchmark (`wait_<load>` in both programs).
const WAIT_LOADS: [(&str, &str); 6] = [
    ("gc", "collections back to back (grt_gc / runtime.GC)"),
    ("syscall", "100 us nanosleeps as system calls"),
    ("cgocall", "empty calls into C (grt_cgocall / cgo)"),
    ("alloc", "lists of 300 heap objects"),
    ("pingpong", "an unbuffered channel ping-pong pair"),
    (
        "spin",
        "a loop that calls nothing (grt: grt_async_preempt(1); Go preempts it itself)",
    ),
];
/// Milliseconds each wait run lasts, and runs per load, procs and side.
const WAIT_MS: u64 = 500;
const WAIT_RUNS: usize = 3;

/// The longest wait of a goroutine that loops on yield next to one load goroutine per P
/// (a ping-pong pair per P), grt against Go's same program, GRTMAXPROCS/GOMAXPROCS 1 and 2.
fn waits(grt_exe: &Path, go_exe: &Path) -> bool {
    println!(
        "\n  longest wait of a yielding goroutine next to a load, ms (median of {WAIT_RUNS} runs of {WAIT_MS} ms, grt and Go alternating):"
    );
    println!(
        "  {:<9} {:>5} {:>10} {:>10} {:>8}",
        "load", "procs", "grt ms", "Go ms", "grt/Go"
    );
    let mut ok = true;
    for (load, _) in &WAIT_LOADS {
        for procs in [1usize, 2] {
            let name: &'static str = Box::leak(format!("wait_{load}").into_boxed_str());
            let b = Sched {
                name,
                iters: WAIT_MS,
                one_proc: procs == 1,
                what: "",
            };
            let (mut g, mut o) = (Vec::new(), Vec::new());
            let mut err = None;
            'runs: for _ in 0..WAIT_RUNS {
                for (side, exe, v) in [("grt", grt_exe, &mut g), ("Go", go_exe, &mut o)] {
                    match run_one(exe, &b, procs) {
                        Ok(s) => v.push(s.ns / 1e6),
                        Err(e) => {
                            err = Some(format!("{side}: {e}"));
                            break 'runs;
                        }
                    }
                }
            }
            match err {
                None => {
                    let (gm, om) = (median(g), median(o));
                    println!(
                        "  {:<9} {:>5} {:>10.2} {:>10.2} {:>8.3}",
                        load,
                        procs,
                        gm,
                        om,
                        gm / om
                    );
                }
                Some(e) => {
                    println!("  {load:<9} {procs:>5} FAILED {e}");
                    ok = false;
                }
            }
        }
    }
    println!();
    for (load, what) in &WAIT_LOADS {
        println!("  {load:<9} {what}");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sample() {
        let s = parse_sample("yield", "noise\nyield procs=1 iters=1000 ns_per_op=35.4\n").unwrap();
        assert_eq!(s.procs, 1);
        assert_eq!(s.ns, 35.4);
        assert!(parse_sample("create", "yield procs=1 iters=1 ns_per_op=1\n").is_none());
        assert!(parse_sample("create", "create procs=2 iters=1\n").is_none());
    }
}
