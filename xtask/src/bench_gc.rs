//! `cargo xtask bench`, collector part: grt's garbage collector, on x86_64 natively only
//! (under qemu-aarch64 the figures would be emulation's).
//!
//! Programs in tests/bench/c/, each linked with libgrt.a (libc build), and one in Go
//! (tests/bench/go/gcpause); see their opening comments. Each process prints one `key=value` line, timed inside the program.
//!
//! - Allocation: gcbench.c, binary trees in the shape of the Ellis/Kovac/Boehm GCBench
//!   (a stretch tree of depth 18, a long-lived tree of depth 16 and an array of 500000
//!   doubles kept to the end, then trees of depth 4, 6, .., 16 built top-down and bottom-up
//!   and dropped; 15.3 M nodes of two pointers and two ints), one source built four ways:
//!   on grt (grt_alloc, GRT_STORE; GRTMAXPROCS=1, the collector's mark worker is a thread of
//!   its own), on grt through its gc.h (GC_MALLOC, plain stores: plain-store mode, the main
//!   thread a registered plain thread), on bdwgc (Debian's libgc-dev, installed here when running as root) and on
//!   malloc with an explicit free of every dropped tree. bdwgc runs with its defaults, which
//!   for a program that creates no thread means one marker (the allocating thread, the world
//!   stopped; GC_MARKERS changes nothing there), so pinning GC_MARKERS=1 would change
//!   nothing: the goal is judged against that. For the record bdwgc also runs with its
//!   parallel markers started (GC_start_mark_threads, GC_MARKERS unset: one per CPU), as a
//!   threaded program gets them. Goals: grt's time <= 0.85 × bdwgc's (defaults); no grt
//!   allocation waits for the collector longer than 100 µs (its pacer's hard limit).
//! - Rescan: gc_rescan_bench.c, one goroutine 10,000 frames deep that keeps running only its
//!   top frames (allocating) while the main goroutine runs 30 grt_gc() back to back
//!   (GRTMAXPROCS=2, GRTGC=off); per process the medians over the cycles of the frames mark
//!   termination rescanned and the time it took. Run with stack barriers (the default) and
//!   with GRTDEBUG=gcstackbarrieroff=1 (every stack that ran is rescanned in full). Goals:
//!   with barriers >= 50x fewer frames and >= 20x less rescan time, and mark termination
//!   <= 20 µs.
//! - Frame checks: the rescan benchmark with a barrier on every frame, against the same
//!   program on the test build with the check of frame records switched off
//!   (GRTDEBUG=gctrustframes=1): concurrent scan time per frame scanned, and the difference.
//! - Pauses: gc_pause_bench.c, 1,000 goroutines 0 to 1,197 frames deep, nine in ten parked
//!   (channel receive or grt_mutex), one in ten churning its top frames; 30 grt_gc() back to
//!   back (GRTMAXPROCS=2, GRTGC=off); then 10,000 goroutines, 10 cycles. The longest
//!   stop-the-world pause, the median mark termination and its parts, barriers on and off.
//!   Goals: longest pause with barriers <= 100 µs at 1,000 goroutines, <= 200 µs at 10,000.
//!   Beside them, the machine's floor (sched_gap.c): how often two threads that never block
//!   are kept off their CPUs for more than 50 and 100 µs anyway.
//!   At 1,000 goroutines, a third side: Go (tests/bench/go/gcpause, the same workload:
//!   runtime.GC() back to back, GOMAXPROCS=2, automatic collection off), its longest pause
//!   from runtime/metrics and each cycle's from MemStats, Go/grt beside grt's.
//! - Marking: gc_mark_bench.c, a binary tree of 2^20 - 1 nodes (32 MiB) from a global, 10
//!   grt_gc() per process while the program has nothing to run (GRTMAXPROCS=2, GRTGC=off):
//!   a cycle's time with idle Ps marking beside the collector (gcwork.rs) and without
//!   (GRTDEBUG=gcnoidlemark=1), and the same work in Go (tests/bench/go/gcmark,
//!   GOMAXPROCS=2, runtime.GC() timed); the share of the marking the idle Ps did.
//! - Finalizers: gc_fin_bench.c, 100,000 finalizable objects kept reachable, and 20,000
//!   dropped before each of 20 grt_gc(), each the only holder of a chain of 8 nodes
//!   (GRTMAXPROCS=2, GRTGC=off): a
//!   cycle's pauses and mark termination with what they point to marked before the stop
//!   (mfinal.rs markroot_spans) and at it (GRTDEBUG=gcfinatmarkterm=1), and Go's pauses on
//!   the same work (tests/bench/go/gcfin).
//! - RSS after a spike: gc_rss_bench.c built three ways (grt, bdwgc, malloc): 1 GiB held,
//!   dropped, then idle; the resident set after 0.5 to 3 s. Goal: grt's back below 10 % of
//!   the spike within 3 s.
//! - bdwgc's own tests that do real work (middle, realloc, disclaim_bench, gctest), built
//!   unchanged against grt's gc.h and against bdwgc, when GRT_BDWGC_SRC names a bdwgc source
//!   tree (their sources are not in this repository): wall time and peak RSS, measured by
//!   tests/bench/c/runstat.c, and their longest pauses from each collector's own report.
//!   gctest follows bdwgc's current source, which its release cannot build: its bdwgc side
//!   is bdwgc built from that tree (extra/gc.c). Goal: grt at or under bdwgc on time and
//!   pause.
//!
//! Sides run alternately, one process each, RUNS rounds, so that all see the same machine
//! noise (the machine is shared); a figure is the median over the rounds, a ratio the median
//! of the rounds' ratios. Missing a goal is reported, not an error; a build or a run that
//! fails (exit status, time-out, a damaged long-lived structure, no output line, GRTMAXPROCS
//! or GRTDEBUG ignored) is. Without bdwgc only grt and malloc run, marked as having no peer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ctests::{self, Build, ARCHES};
use crate::setup;

/// Rounds (processes per side and benchmark).
const RUNS: usize = 7;
/// A process that takes longer than this is killed (a hung collector, a deadlock).
const TIMEOUT: Duration = Duration::from_secs(120);
const OUT_DIR: &str = "target/gc-bench";
const GCBENCH_SRC: &str = "tests/bench/c/gcbench.c";
const RESCAN_SRC: &str = "tests/bench/c/gc_rescan_bench.c";
const PAUSE_SRC: &str = "tests/bench/c/gc_pause_bench.c";
const RSS_SRC: &str = "tests/bench/c/gc_rss_bench.c";
const MARK_SRC: &str = "tests/bench/c/gc_mark_bench.c";
const DATA_SRC: &str = "tests/bench/c/gc_data_bench.c";
const FIN_SRC: &str = "tests/bench/c/gc_fin_bench.c";
const GAP_SRC: &str = "tests/bench/c/sched_gap.c";
/// The machine's noise probe: threads (as many as the pause benchmark's Ps) and how long each
/// process watches, in ms (about as long as a pause process runs).
const GAP_THREADS: u32 = 2;
const GAP_MS: u32 = 1_500;
const BDWGC_HEADER: &str = "/usr/include/gc.h";
const BDWGC_PACKAGE: &str = "libgc-dev";
/// Go's sides: its collector's knobs unset (automatic collection is off in the programs
/// themselves), two Ps as grt's sides have.
const GO_ENV: [&str; 7] = [
    "-u",
    "GOGC",
    "-u",
    "GODEBUG",
    "-u",
    "GOMEMLIMIT",
    "GOMAXPROCS=2",
];
/// The knob that turns stack barriers off.
const BARRIERS_OFF: &str = "GRTDEBUG=gcstackbarrieroff=1";

/// Rescan benchmark: frames of the deep goroutine, cycles per process.
const RESCAN_DEPTH: u32 = 10_000;
const RESCAN_CYCLES: u32 = 30;
/// Pause benchmark: goroutines and cycles per process, the goal for the longest pause with
/// barriers on, in µs, and whether Go runs the workload too: 1,000 goroutines, then 10,000.
/// Go runs only the first: at 10,000 its automatic collection off (as grt's), the churn's
/// garbage outgrows each cycle (3 GB by the fourth, each cycle slower), and a process takes
/// a minute.
const PAUSE_RUNS: [(u32, u32, f64, bool); 2] =
    [(1_000, 30, 100.0, true), (10_000, 10, 200.0, false)];
/// Goal: no allocation waits longer than this for the collector, in µs.
const GOAL_ALLOC_WAIT_US: f64 = 100.0;
/// Goal: mark termination with one goroutine RESCAN_DEPTH frames deep, in µs.
const GOAL_MARKTERM_DEEP_US: f64 = 20.0;

/// Goals: grt/bdwgc time at most this; with barriers at least this many times fewer frames
/// rescanned and this many times less rescan time.
const GOAL_ALLOC: f64 = 0.85;
const GOAL_FRAMES: f64 = 50.0;
const GOAL_RESCAN_TIME: f64 = 20.0;

/// What one process printed: the `key=value` words of its line that starts with `tag`.
struct Line {
    kv: HashMap<String, String>,
}

impl Line {
    fn parse(tag: &str, stdout: &str) -> Option<Line> {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(tag))?;
        let kv: HashMap<String, String> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (kv.get("check").map(String::as_str) == Some("ok")).then_some(Line { kv })
    }

    fn num(&self, key: &str) -> Result<f64, String> {
        self.kv
            .get(key)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("no number {key}= in the output line"))
    }

    fn text(&self, key: &str) -> &str {
        self.kv.get(key).map_or("?", String::as_str)
    }
}

/// Runs `exe args` under env(1) with `env` (`-u NAME` pairs first, then `NAME=VALUE`s) and
/// returns its `tag` line.
fn run_line(exe: &Path, env: &[&str], args: &[String], tag: &str) -> Result<Line, String> {
    let mut argv = vec!["env".to_string()];
    argv.extend(env.iter().map(|s| s.to_string()));
    argv.push(exe.to_string_lossy().into_owned());
    argv.extend(args.iter().cloned());
    let out = crate::util::run_ok(&argv, TIMEOUT)?;
    Line::parse(tag, &out.stdout)
        .ok_or_else(|| format!("no well-formed `{tag} ... check=ok` line{}", out.tail()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Medians of one key over a side's runs.
fn med(runs: &[Line], key: &str) -> f64 {
    median(
        runs.iter()
            .map(|l| l.num(key).unwrap_or(f64::NAN))
            .collect(),
    )
}

/// Median over the rounds of a/b for one key (the rounds are paired: same machine noise).
fn ratio(a: &[Line], b: &[Line], key: &str) -> f64 {
    median(
        a.iter()
            .zip(b)
            .map(|(x, y)| x.num(key).unwrap_or(f64::NAN) / y.num(key).unwrap_or(f64::NAN))
            .collect(),
    )
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// Makes sure bdwgc's header and library are there: Debian's libgc-dev when running as
/// root. Err says why not.
fn ensure_bdwgc() -> Result<(), String> {
    if Path::new(BDWGC_HEADER).exists() {
        return Ok(());
    }
    if !setup::is_root() {
        return Err(format!(
            "{BDWGC_PACKAGE} is not installed and this is not root; to compare, run as root: \
             apt-get update && apt-get install -y {BDWGC_PACKAGE}"
        ));
    }
    if !setup::apt_install(&[BDWGC_PACKAGE]) || !Path::new(BDWGC_HEADER).exists() {
        return Err(format!("installing {BDWGC_PACKAGE} failed (see above)"));
    }
    Ok(())
}

/// The installed bdwgc version, from dpkg, or "?".
fn bdwgc_version() -> String {
    crate::util::output(Command::new("dpkg-query").args(["-W", "-f=${Version}", BDWGC_PACKAGE]))
        .unwrap_or_else(|| "?".into())
}

/// The programs, built.
struct Exes {
    gcbench_grt: PathBuf,
    gcbench_bdwgc: Option<PathBuf>,
    gcbench_gch: PathBuf,
    gcbench_malloc: PathBuf,
    rescan: PathBuf,
    /// gc_rescan_bench against the test build, where GRTDEBUG=gctrustframes=1 skips the
    /// check of each frame record before a barrier goes in (what that check costs).
    rescan_trust: PathBuf,
    pause: PathBuf,
    /// tests/bench/go/gcpause, the pause benchmark's workload on Go's collector; None
    /// without `go` (reported).
    pause_go: Option<PathBuf>,
    gap: PathBuf,
    mark: PathBuf,
    /// tests/bench/go/gcmark, the marking benchmark's work on Go's collector; None without
    /// `go` (reported).
    mark_go: Option<PathBuf>,
    data: PathBuf,
    /// gc_data_bench with -DMAPPED: the table in mmap'd memory registered with grt_add_roots.
    data_mapped: PathBuf,
    /// tests/bench/go/gcdata, the globals benchmark's program in Go; None without `go`
    /// (reported).
    data_go: Option<PathBuf>,
    fin: PathBuf,
    /// tests/bench/go/gcfin, the finalizers benchmark's program in Go; None without `go`
    /// (reported).
    fin_go: Option<PathBuf>,
    rss_grt: PathBuf,
    rss_bdwgc: Option<PathBuf>,
    rss_malloc: PathBuf,
}

/// Builds libgrt.a (libc build, release, host) and the programs against it (gcbench.c three
/// ways; the bdwgc and malloc builds use nothing of libgrt.a, so the linker takes nothing
/// from it). Every C file gets the same flags (ctests::compile_c_with).
fn build(out_dir: &Path, bdwgc: bool, go: bool) -> Option<Exes> {
    let arch = &ARCHES[0];
    if !ctests::build_lib(arch, Build::Libc) {
        eprintln!("xtask: building libgrt.a failed");
        return None;
    }
    if !ctests::build_lib(arch, Build::Testhooks) {
        eprintln!("xtask: building libgrt.a (testhooks) failed");
        return None;
    }
    std::fs::create_dir_all(out_dir).ok()?;
    let one = |src: &str, name: &str, extra: &[&str]| -> Option<PathBuf> {
        let exe = out_dir.join(name);
        if ctests::compile_c_with(arch, Build::Libc, &[PathBuf::from(src)], &exe, extra) {
            Some(exe)
        } else {
            eprintln!("xtask: compiling {src} ({name}) failed");
            None
        }
    };
    Some(Exes {
        gcbench_grt: one(GCBENCH_SRC, "gcbench_grt", &["-DGCB_GRT"])?,
        gcbench_bdwgc: if bdwgc {
            Some(one(GCBENCH_SRC, "gcbench_bdwgc", &["-DGCB_BDWGC", "-lgc"])?)
        } else {
            None
        },
        gcbench_gch: one(
            GCBENCH_SRC,
            "gcbench_gch",
            &["-DGCB_GCH", "-Iinclude/grt-gc"],
        )?,
        gcbench_malloc: one(GCBENCH_SRC, "gcbench_malloc", &["-DGCB_MALLOC"])?,
        rescan: one(RESCAN_SRC, "gc_rescan_bench", &[])?,
        rescan_trust: {
            let exe = out_dir.join("gc_rescan_bench_testhooks");
            if !ctests::compile_c_with(
                arch,
                Build::Testhooks,
                &[PathBuf::from(RESCAN_SRC)],
                &exe,
                &[],
            ) {
                eprintln!("xtask: compiling {RESCAN_SRC} (testhooks) failed");
                return None;
            }
            exe
        },
        pause: one(PAUSE_SRC, "gc_pause_bench", &[])?,
        pause_go: {
            let exe = out_dir.join("gc_pause_go");
            // Without it, the pause benchmark runs grt's sides alone (reported there).
            (go && crate::bench::go_build("./gcpause", &exe, out_dir)).then_some(exe)
        },
        gap: one(GAP_SRC, "sched_gap", &[])?,
        mark: one(MARK_SRC, "gc_mark_bench", &[])?,
        mark_go: {
            let exe = out_dir.join("gc_mark_go");
            (go && crate::bench::go_build("./gcmark", &exe, out_dir)).then_some(exe)
        },
        data: one(DATA_SRC, "gc_data_bench", &[])?,
        data_mapped: one(DATA_SRC, "gc_data_bench_mapped", &["-DMAPPED"])?,
        data_go: {
            let exe = out_dir.join("gc_data_go");
            (go && crate::bench::go_build("./gcdata", &exe, out_dir)).then_some(exe)
        },
        fin: one(FIN_SRC, "gc_fin_bench", &[])?,
        fin_go: {
            let exe = out_dir.join("gc_fin_go");
            (go && crate::bench::go_build("./gcfin", &exe, out_dir)).then_some(exe)
        },
        rss_grt: one(RSS_SRC, "gc_rss_grt", &["-DGCB_GRT"])?,
        rss_bdwgc: if bdwgc {
            Some(one(RSS_SRC, "gc_rss_bdwgc", &["-DGCB_BDWGC", "-lgc"])?)
        } else {
            None
        },
        rss_malloc: one(RSS_SRC, "gc_rss_malloc", &["-DGCB_MALLOC"])?,
    })
}

/// One side of a comparison: a program and its environment.
struct Side<'a> {
    label: &'static str,
    exe: &'a Path,
    env: Vec<&'static str>,
}

/// Runs the sides alternately RUNS rounds; prints each side's runs (the `show` key). On a
/// failure: Err with the side's label (the runs so far are printed).
fn rounds(
    sides: &[Side],
    args: &[String],
    tag: &str,
    check: &dyn Fn(&Side, &Line) -> Result<(), String>,
    show: (&str, f64, &str),
) -> Result<Vec<Vec<Line>>, String> {
    let mut results: Vec<Vec<Line>> = sides.iter().map(|_| Vec::new()).collect();
    let mut err = None;
    'rounds: for _ in 0..RUNS {
        for (i, s) in sides.iter().enumerate() {
            match run_line(s.exe, &s.env, args, tag).and_then(|l| check(s, &l).map(|()| l)) {
                Ok(l) => results[i].push(l),
                Err(e) => {
                    err = Some(format!("{}: {e}", s.label));
                    break 'rounds;
                }
            }
        }
    }
    let (key, scale, unit) = show;
    for (s, v) in sides.iter().zip(&results) {
        let list: Vec<String> = v
            .iter()
            .map(|l| format!("{:.1}", l.num(key).unwrap_or(f64::NAN) / scale))
            .collect();
        println!("  {:<28} {unit}: {}", s.label, list.join(" "));
    }
    match err {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

/// What the globals and finalizers sections show per round: a cycle's pauses.
const CYCLE_PAUSES: (&str, f64, &str) = (
    "cycle_pause_ns_median",
    1e3,
    "a cycle's pauses, µs (median of 20)",
);

/// [`rounds`], with its failure printed (None then).
fn rounds_or_fail(
    sides: &[Side],
    args: &[String],
    tag: &str,
    check: &dyn Fn(&Side, &Line) -> Result<(), String>,
    show: (&str, f64, &str),
) -> Option<Vec<Vec<Line>>> {
    match rounds(sides, args, tag, check, show) {
        Ok(r) => Some(r),
        Err(e) => {
            println!("  FAILED {e}");
            None
        }
    }
}

/// Allocation: gcbench on grt, bdwgc (defaults, and parallel markers) and malloc.
fn alloc(exes: &Exes) -> bool {
    println!(
        "\n  -- allocation: GCBench-shaped binary trees (grt_alloc vs GC_MALLOC vs malloc/free)"
    );
    let mut sides = vec![Side {
        label: "grt (GRTMAXPROCS=1)",
        exe: &exes.gcbench_grt,
        env: vec!["-u", "GRTGC", "-u", "GRTDEBUG", "GRTMAXPROCS=1"],
    }];
    if let Some(b) = &exes.gcbench_bdwgc {
        sides.push(Side {
            label: "bdwgc (defaults)",
            exe: b,
            env: vec!["-u", "GC_MARKERS", "-u", "GCB_BDWGC_PARALLEL"],
        });
        sides.push(Side {
            label: "bdwgc (parallel markers)",
            exe: b,
            env: vec!["-u", "GC_MARKERS", "GCB_BDWGC_PARALLEL=1"],
        });
    }
    sides.push(Side {
        label: "grt via gc.h (plain st.)",
        exe: &exes.gcbench_gch,
        env: vec![
            "-u",
            "GRTGC",
            "-u",
            "GRTDEBUG",
            "-u",
            "GRTPLAINSTORES",
            "GRTMAXPROCS=1",
        ],
    });
    // The same with plain-store mode's kernel form (dirty.rs; gc.h's GC_INIT keeps the mode
    // the environment set): the pages written tracked by the kernel where it can (Linux 6.7).
    sides.push(Side {
        label: "grt via gc.h (kernel form)",
        exe: &exes.gcbench_gch,
        env: vec![
            "-u",
            "GRTGC",
            "-u",
            "GRTDEBUG",
            "GRTPLAINSTORES=3",
            "GRTMAXPROCS=1",
        ],
    });
    sides.push(Side {
        label: "malloc/free",
        exe: &exes.gcbench_malloc,
        env: vec![],
    });
    let check = |s: &Side, l: &Line| -> Result<(), String> {
        if s.exe == exes.gcbench_grt.as_path() && l.num("procs")? != 1.0 {
            return Err(format!(
                "ran with procs={}, expected 1 (GRTMAXPROCS ignored?)",
                l.text("procs")
            ));
        }
        Ok(())
    };
    println!(
        "  {RUNS} rounds of one process per side, in the order: {}",
        sides.iter().map(|s| s.label).collect::<Vec<_>>().join(", ")
    );
    let Some(results) = rounds_or_fail(&sides, &[], "gcbench", &check, ("ms", 1.0, "ms")) else {
        return false;
    };
    // Every side did the same work.
    let nodes = results[0][0].text("nodes").to_string();
    if let Some((s, l)) = sides
        .iter()
        .zip(&results)
        .flat_map(|(s, v)| v.iter().map(move |l| (s, l)))
        .find(|(_, l)| l.text("nodes") != nodes)
    {
        println!(
            "  FAILED {}: allocated {} nodes, grt {nodes}",
            s.label,
            l.text("nodes")
        );
        return false;
    }

    let grt = &results[0];
    println!(
        "\n  {:<28}{:>9}{:>10}{:>7}{:>12}{:>12}{:>12}{:>9}{:>11}",
        "median of the rounds",
        "ms",
        "grt/side",
        "GCs",
        "max pause",
        "all pauses",
        "alloc wait",
        "markers",
        "peak RSS"
    );
    for (s, v) in sides.iter().zip(&results) {
        let gc = v[0].text("side") != "malloc";
        let ms = |key: &str| {
            if gc {
                format!("{:.2} ms", med(v, key) / 1e6)
            } else {
                "-".into()
            }
        };
        println!(
            "  {:<28}{:>9.1}{:>10.3}{:>7}{:>12}{:>12}{:>12}{:>9}{:>8.0} MiB",
            s.label,
            med(v, "ms"),
            ratio(grt, v, "ms"),
            if gc {
                format!("{:.0}", med(v, "gcs"))
            } else {
                "-".into()
            },
            ms("pause_max_ns"),
            ms("pause_total_ns"),
            if v[0].text("side").starts_with("grt") {
                ms("alloc_wait_max_ns")
            } else {
                "-".into()
            },
            v.last().map_or("?", |l| l.text("markers")),
            med(v, "maxrss_kb") / 1024.0,
        );
    }
    if med(grt, "gcs") == 0.0 {
        println!(
            "  NOTE: grt ran no collection during the work: its figure is an allocator's only"
        );
    }
    match sides.iter().position(|s| s.label == "bdwgc (defaults)") {
        Some(i) => {
            let r = ratio(grt, &results[i], "ms");
            println!(
                "  goal grt/bdwgc (defaults) time <= {GOAL_ALLOC:.2}: {r:.3}, {}",
                verdict(r <= GOAL_ALLOC)
            );
        }
        None => {
            println!("  goal grt/bdwgc time <= {GOAL_ALLOC:.2}: no peer (bdwgc missing, see above)")
        }
    }
    let wait = med(grt, "alloc_wait_max_ns") / 1e3;
    println!(
        "  goal: no grt allocation waits more than {GOAL_ALLOC_WAIT_US:.0} µs: longest {wait:.0} \
         µs (median of the rounds), {}",
        verdict(wait <= GOAL_ALLOC_WAIT_US)
    );
    println!(
        "  {nodes} nodes on every side. Pauses: grt's stop-the-world pauses; bdwgc's whole \
         collections"
    );
    println!(
        "  (it marks with the world stopped, sweeps lazily afterwards), GC_EVENT_START to \
         GC_EVENT_END. Markers: threads"
    );
    println!(
        "  that mark (grt: its background mark worker, concurrent with the program; bdwgc \
         with the world stopped)."
    );
    true
}

/// The rescan and pause benchmarks' two sides: stack barriers on (default) and off.
fn barrier_sides(exe: &Path) -> [Side<'_>; 2] {
    [
        Side {
            label: "barriers on (default)",
            exe,
            env: vec!["-u", "GRTDEBUG", "GRTMAXPROCS=2", "GRTGC=off"],
        },
        Side {
            label: "barriers off",
            exe,
            env: vec!["GRTMAXPROCS=2", "GRTGC=off", BARRIERS_OFF],
        },
    ]
}

/// Errors that make a barriers on/off comparison meaningless; notes for the rest.
fn check_barrier_run(s: &Side, l: &Line) -> Result<(), String> {
    if l.num("procs")? != 2.0 {
        return Err(format!(
            "ran with procs={}, expected 2 (GRTMAXPROCS ignored?)",
            l.text("procs")
        ));
    }
    if s.env.contains(&BARRIERS_OFF) && l.num("barriers_installed")? != 0.0 {
        return Err(format!(
            "{} stack barriers installed under {BARRIERS_OFF} (the knob was ignored)",
            l.text("barriers_installed")
        ));
    }
    Ok(())
}

/// Runs `exe` with barriers on and off (alternating rounds) and prints the table header;
/// the rounds' lines of each side, or None (reported) when a run failed.
fn barrier_rounds(
    exe: &Path,
    args: &[String],
    tag: &str,
    show: (&str, f64, &str),
) -> Option<Vec<Vec<Line>>> {
    let sides = barrier_sides(exe);
    match rounds(&sides, args, tag, &check_barrier_run, show) {
        Ok(r) => {
            println!(
                "\n  {:<34}{:>14}{:>14}{:>10}",
                "median of the rounds", "barriers on", "barriers off", "off/on"
            );
            Some(r)
        }
        Err(e) => {
            println!("  FAILED {e}");
            None
        }
    }
}

/// Rescan: one deep goroutine churning its top frames; frames and time rescanned.
fn rescan(exes: &Exes) -> bool {
    println!(
        "\n  -- rescan: one goroutine {RESCAN_DEPTH} frames deep running only its top frames, \
         {RESCAN_CYCLES} grt_gc() per process (GRTMAXPROCS=2, GRTGC=off)"
    );
    let args = [RESCAN_DEPTH.to_string(), RESCAN_CYCLES.to_string()];
    let Some(results) = barrier_rounds(
        &exes.rescan,
        &args,
        "gc_rescan",
        ("rescan_ns_median", 1e3, "rescan µs"),
    ) else {
        return false;
    };
    let (on, off) = (&results[0], &results[1]);
    let row = |name: &str, key: &str, scale: f64, prec: usize, note: String| {
        let line = format!(
            "  {name:<34}{:>14.prec$}{:>14.prec$}{:>10.1}  {note}",
            med(on, key) / scale,
            med(off, key) / scale,
            ratio(off, on, key),
        );
        println!("{}", line.trim_end());
    };
    let fr = ratio(off, on, "frames_rescanned_median");
    let tr = ratio(off, on, "rescan_ns_median");
    row(
        "frames rescanned per cycle",
        "frames_rescanned_median",
        1.0,
        0,
        format!(
            "goal >= {GOAL_FRAMES}x fewer: {}",
            verdict(fr >= GOAL_FRAMES)
        ),
    );
    row(
        "rescan µs per cycle",
        "rescan_ns_median",
        1e3,
        1,
        format!(
            "goal >= {GOAL_RESCAN_TIME}x less: {}",
            verdict(tr >= GOAL_RESCAN_TIME)
        ),
    );
    let mt = med(on, "markterm_ns_median") / 1e3;
    row(
        "mark termination µs per cycle",
        "markterm_ns_median",
        1e3,
        1,
        format!(
            "goal <= {GOAL_MARKTERM_DEEP_US:.0} µs: {}",
            verdict(mt <= GOAL_MARKTERM_DEEP_US)
        ),
    );
    row("longest pause µs", "pause_max_ns", 1e3, 1, String::new());
    println!(
        "  barriers installed per process: {:.0} (hit: {:.0}; scans stopped at an unprovable \
         record: {:.0}); the median of each process is over its {RESCAN_CYCLES} cycles",
        med(on, "barriers_installed"),
        med(on, "barriers_hit"),
        med(on, "barriers_unprovable")
    );
    if med(on, "barriers_installed") == 0.0 {
        println!("  NOTE: no stack barrier was installed with barriers on");
    }
    for (s, v) in barrier_sides(&exes.rescan).iter().zip(&results) {
        let least = v
            .iter()
            .map(|l| l.num("churned_cycles").unwrap_or(0.0))
            .fold(f64::MAX, f64::min);
        if least < f64::from(RESCAN_CYCLES) {
            println!(
                "  NOTE: {}: in some process the churn ran during only {least:.0} of \
                 {RESCAN_CYCLES} cycles (a loaded machine?)",
                s.label
            );
        }
        if v.iter()
            .any(|l| l.num("extra_cycles").unwrap_or(0.0) != 0.0)
        {
            println!(
                "  NOTE: {}: cycles ran that were not asked for (GRTGC=off ignored?)",
                s.label
            );
        }
    }
    true
}

/// What checking frame records costs: the rescan benchmark with a barrier on every frame
/// (every frame record checked: code mapping, call before the return address), against the
/// test build with the check switched off; concurrent scan time per frame scanned.
fn validation(exes: &Exes) -> bool {
    println!(
        "\n  -- frame checks: the rescan benchmark with a barrier on every frame \
         (GRTDEBUG=gcstackbarrierall=1), every frame record checked before a barrier goes in, \
         against the test build with the check off (gctrustframes=1)"
    );
    let sides = [
        Side {
            label: "frames checked (default)",
            exe: &exes.rescan,
            env: vec!["GRTMAXPROCS=2", "GRTGC=off", "GRTDEBUG=gcstackbarrierall=1"],
        },
        Side {
            label: "frames trusted (test build)",
            exe: &exes.rescan_trust,
            env: vec![
                "GRTMAXPROCS=2",
                "GRTGC=off",
                "GRTDEBUG=gcstackbarrierall=1,gctrustframes=1",
            ],
        },
    ];
    let args = [RESCAN_DEPTH.to_string(), RESCAN_CYCLES.to_string()];
    let Some(results) = rounds_or_fail(
        &sides,
        &args,
        "gc_rescan",
        &check_barrier_run,
        ("scan_ns", 1e6, "scan ms"),
    ) else {
        return false;
    };
    let per_frame = |v: &[Line]| {
        median(
            v.iter()
                .map(|l| {
                    l.num("scan_ns").unwrap_or(f64::NAN)
                        / l.num("frames_scanned").unwrap_or(f64::NAN).max(1.0)
                })
                .collect(),
        )
    };
    let (checked, trusted) = (per_frame(&results[0]), per_frame(&results[1]));
    println!(
        "  concurrent scan ns per frame scanned: {checked:.1} checked, {trusted:.1} trusted \
         ({:.2}x): the check costs {:.1} ns per frame",
        checked / trusted,
        checked - trusted
    );
    println!(
        "  frames scanned per process: {:.0}; barriers installed: {:.0} checked, {:.0} trusted; \
         scans stopped at an unprovable record: {:.0}",
        med(&results[0], "frames_scanned"),
        med(&results[0], "barriers_installed"),
        med(&results[1], "barriers_installed"),
        med(&results[0], "barriers_unprovable"),
    );
    true
}

/// Pauses: many goroutines of mixed depth, most parked; 1,000 and 10,000 of them.
fn pauses(exes: &Exes) -> bool {
    let g = machine_gaps(exes);
    PAUSE_RUNS
        .iter()
        .map(|&(n, cycles, goal, go)| pauses_with(exes, n, cycles, goal, go))
        .fold(g, |a, b| a && b)
}

/// Marking on more than one core: gc_mark_bench.c, a 32 MiB tree marked while the program
/// has nothing to run, with idle Ps marking (the default) and without, and Go's collector on
/// the same work.
/// A grt program's two sides, GRTMAXPROCS=2 and GRTGC=off: as it comes (GRTDEBUG unset),
/// and with `knob` (`GRTDEBUG=...`); then Go's program on the same work (GO_ENV) when it was
/// built (said so when not).
fn knob_sides_and_go<'a>(
    exe: &'a Path,
    go: Option<&'a Path>,
    labels: [&'static str; 2],
    knob: &'static str,
) -> Vec<Side<'a>> {
    let mut sides = vec![
        Side {
            label: labels[0],
            exe,
            env: vec!["-u", "GRTDEBUG", "GRTMAXPROCS=2", "GRTGC=off"],
        },
        Side {
            label: labels[1],
            exe,
            env: vec![knob, "GRTMAXPROCS=2", "GRTGC=off"],
        },
    ];
    match go {
        Some(exe) => sides.push(Side {
            label: "Go (GOMAXPROCS=2)",
            exe,
            env: GO_ENV.to_vec(),
        }),
        None => {
            println!("  (Go's side is missing: no go toolchain, or its build failed; see above)")
        }
    }
    sides
}

/// The run had two Ps (GRTMAXPROCS or GOMAXPROCS taken).
fn two_procs(l: &Line) -> Result<(), String> {
    if l.num("procs")? != 2.0 {
        return Err(format!(
            "ran with procs={}, expected 2 (GRTMAXPROCS ignored?)",
            l.text("procs")
        ));
    }
    Ok(())
}

fn marking(exes: &Exes) -> bool {
    println!(
        "\n  -- marking: a binary tree of 1048575 nodes (32 MiB) marked while the program has \
         nothing to run; 10 grt_gc() per process (GRTMAXPROCS=2, GRTGC=off); Go on the same work"
    );
    let sides = knob_sides_and_go(
        &exes.mark,
        exes.mark_go.as_deref(),
        ["grt (idle Ps mark)", "grt (gcnoidlemark=1)"],
        "GRTDEBUG=gcnoidlemark=1",
    );
    let check = |s: &Side, l: &Line| -> Result<(), String> {
        two_procs(l)?;
        if s.label.contains("gcnoidlemark") && l.num("idle_share")? != 0.0 {
            return Err("idle Ps marked with GRTDEBUG=gcnoidlemark=1 (ignored?)".into());
        }
        Ok(())
    };
    let Some(results) = rounds_or_fail(
        &sides,
        &[],
        "gc_mark",
        &check,
        ("cycle_ns_median", 1e6, "cycle ms (median of 10)"),
    ) else {
        return false;
    };
    let (on, off) = (&results[0], &results[1]);
    println!(
        "  grt: a cycle with idle Ps marking {:.2} ms, without {:.2} ms: with / without {:.3}; \
         idle Ps scanned {:.0} % of what was marked",
        med(on, "cycle_ns_median") / 1e6,
        med(off, "cycle_ns_median") / 1e6,
        ratio(on, off, "cycle_ns_median"),
        100.0 * med(on, "idle_share")
    );
    if on.iter().any(|l| l.num("idle_share").unwrap_or(0.0) == 0.0) {
        println!("  NOTE: in some runs the idle Ps marked nothing: the comparison is void there");
    }
    if let Some(go) = results.get(2) {
        println!(
            "  Go: a cycle {:.2} ms; Go / grt {:.2} (Go's runtime.GC() also sweeps before it \
             returns, as grt_gc() does; Go reads the node's two pointer words only, grt all \
             four, conservatively)",
            med(go, "cycle_ns_median") / 1e6,
            ratio(go, on, "cycle_ns_median")
        );
    }
    true
}

/// Finalizers: gc_fin_bench.c, 100,000 finalizable objects kept reachable and 20,000 dropped
/// before each cycle, each the only holder of a chain of 8 nodes: mark termination with what
/// they point to marked
/// before it, with the world running (mfinal.rs markroot_spans, the default), and at it
/// (GRTDEBUG=gcfinatmarkterm=1, as before); Go on the same work (tests/bench/go/gcfin).
fn finalizers(exes: &Exes) -> bool {
    println!(
        "\n  -- finalizers: 100,000 objects with a finalizer kept reachable, and 20,000 dropped \
         before each of 20 grt_gc(), each the only holder of a chain of 8 nodes \
         (GRTMAXPROCS=2, GRTGC=off); Go on the same work"
    );
    let sides = knob_sides_and_go(
        &exes.fin,
        exes.fin_go.as_deref(),
        ["grt (marked before the stop)", "grt (gcfinatmarkterm=1)"],
        "GRTDEBUG=gcfinatmarkterm=1",
    );
    let check = |_: &Side, l: &Line| -> Result<(), String> { two_procs(l) };
    let Some(results) = rounds_or_fail(&sides, &[], "gc_fin", &check, CYCLE_PAUSES) else {
        return false;
    };
    let (on, off) = (&results[0], &results[1]);
    println!(
        "  grt: mark termination {:.1} µs (longest {:.1}) with the finalizers' marking before \
         the stop, {:.1} µs (longest {:.1}) at it: before / at {:.3}; a cycle's pauses {:.1} \
         against {:.1} µs",
        med(on, "markterm_ns_median") / 1e3,
        med(on, "markterm_ns_max") / 1e3,
        med(off, "markterm_ns_median") / 1e3,
        med(off, "markterm_ns_max") / 1e3,
        ratio(on, off, "markterm_ns_median"),
        med(on, "cycle_pause_ns_median") / 1e3,
        med(off, "cycle_pause_ns_median") / 1e3,
    );
    if let Some(go) = results.get(2) {
        println!(
            "  Go: a cycle's pauses {:.1} µs (longest {:.1}); grt / Go {:.2}",
            med(go, "cycle_pause_ns_median") / 1e3,
            med(go, "cycle_pause_ns_max") / 1e3,
            ratio(on, go, "cycle_pause_ns_median")
        );
    }
    true
}

/// Globals: the pause of a program with a 64 MiB table of pointers in its bss, a writer
/// storing into it all along: grt with the kernel tracking stores into the data and bss
/// (dirtyroots.rs), without (GRTDEBUG=gcnorootwp=1: mark termination reads all of it), and Go.
fn globals(exes: &Exes) -> bool {
    println!(
        "\n  -- globals: a 64 MiB table of pointers in the bss, 1,000 plain stores a millisecond \
         into it; 20 grt_gc() per process (GRTMAXPROCS=2, GRTGC=off); Go on the same program"
    );
    let go = exes.data_go.as_deref();
    let bss = data_tables(
        &exes.data,
        go,
        &[],
        "data and bss",
        "Go's write barrier covers globals",
    );
    println!(
        "\n  -- registered roots: the same table in mmap'd memory registered with grt_add_roots \
         (bdwgc's GC_add_roots); Go's program keeps it on its heap (Go has no registered roots)"
    );
    let mapped = data_tables(
        &exes.data_mapped,
        go,
        &["20".to_string(), "mapped".to_string()],
        "data, bss and registered roots",
        "Go's write barrier covers its heap",
    );
    bss && mapped
}

/// One of the two table benchmarks (gc_data_bench, gc_data_bench_mapped): grt with the
/// stores tracked, without (gcnorootwp=1), and Go. `what`: what mark termination reads again;
/// `go_why`: why Go never reads the table with the world stopped.
fn data_tables(exe: &Path, go: Option<&Path>, args: &[String], what: &str, go_why: &str) -> bool {
    let sides = knob_sides_and_go(
        exe,
        go,
        ["grt (stores tracked)", "grt (gcnorootwp=1)"],
        "GRTDEBUG=gcnorootwp=1",
    );
    let check = |s: &Side, l: &Line| -> Result<(), String> {
        two_procs(l)?;
        if s.label.contains("gcnorootwp") && l.num("roots_tracked")? != 0.0 {
            return Err("stores tracked with GRTDEBUG=gcnorootwp=1 (ignored?)".into());
        }
        let want = if args.is_empty() { "bss" } else { "mapped" };
        if l.text("where") != want {
            return Err(format!("table in {}, expected {want}", l.text("where")));
        }
        Ok(())
    };
    let Some(results) = rounds_or_fail(&sides, args, "gc_data", &check, CYCLE_PAUSES) else {
        return false;
    };
    let (on, off) = (&results[0], &results[1]);
    if on
        .iter()
        .any(|l| l.num("roots_tracked").unwrap_or(0.0) == 0.0)
    {
        println!(
            "  NOTE: this kernel does not track stores into the {what} (userfaultfd \
             asynchronous write protection and PAGEMAP_SCAN need Linux 6.7): both grt sides \
             read all of it"
        );
    }
    println!(
        "  grt: a cycle's pauses {:.1} µs tracked, {:.1} µs untracked: tracked / untracked \
         {:.4}; mark termination {:.1} µs against {:.1} µs, of it data and roots {:.1} µs \
         against {:.1} µs; it read {:.0} KiB of the {:.0} KiB of {what} (untracked: all)",
        med(on, "cycle_pause_ns_median") / 1e3,
        med(off, "cycle_pause_ns_median") / 1e3,
        ratio(on, off, "cycle_pause_ns_median"),
        med(on, "markterm_ns_median") / 1e3,
        med(off, "markterm_ns_median") / 1e3,
        med(on, "roots_ns_median") / 1e3,
        med(off, "roots_ns_median") / 1e3,
        med(on, "data_read_bytes_median") / 1024.0,
        med(on, "data_bytes") / 1024.0,
    );
    if let Some(go) = results.get(2) {
        println!(
            "  Go: a cycle's pauses {:.1} µs; grt (tracked) / Go {:.2} ({go_why}: it never \
             reads the table with the world stopped)",
            med(go, "cycle_pause_ns_median") / 1e3,
            ratio(on, go, "cycle_pause_ns_median")
        );
    }
    true
}

/// The floor under the pauses (sched_gap.c): how often a thread that never blocks is kept
/// off its CPU on this machine, measured in the same run. A pause needs the collector and
/// every thread it stops to run; a gap in any of them lands in the pause.
fn machine_gaps(exes: &Exes) -> bool {
    println!(
        "\n  -- the machine's noise: {GAP_THREADS} threads that never block, each reading the \
         clock for {GAP_MS} ms ({RUNS} processes); steps between two reads longer than 50 and \
         100 µs"
    );
    let args = [GAP_THREADS.to_string(), GAP_MS.to_string()];
    let side = Side {
        label: "spinning threads",
        exe: &exes.gap,
        env: Vec::new(),
    };
    let Some(results) = rounds_or_fail(
        std::slice::from_ref(&side),
        &args,
        "sched_gap",
        &|_, _| Ok(()),
        ("gaps_100us_per_s", 1.0, "gaps > 100 µs per thread-second"),
    ) else {
        return false;
    };
    let v = &results[0];
    println!(
        "  median: gaps > 50 µs {:.1} and > 100 µs {:.1} per thread-second; the longest \
         {:.0} µs (median of the processes' longest)",
        med(v, "gaps_50us_per_s"),
        med(v, "gaps_100us_per_s"),
        med(v, "gap_max_ns") / 1e3
    );
    true
}

fn pauses_with(exes: &Exes, goroutines: u32, cycles: u32, goal_us: f64, go: bool) -> bool {
    println!(
        "\n  -- pauses: {goroutines} goroutines 0..1197 frames deep, 9 in 10 parked, \
         1 in 10 churning; {cycles} grt_gc() per process (GRTMAXPROCS=2, GRTGC=off){}",
        if go { "; Go on the same workload" } else { "" }
    );
    let args = [goroutines.to_string(), cycles.to_string()];
    // grt with barriers on and off, and Go on the same workload, alternating. A failure of
    // Go's side is reported and grt's two sides run again on their own: grt's figures and
    // goals do not hang on Go.
    let go_side = match (go, &exes.pause_go) {
        (true, Some(exe)) => Some(Side {
            label: "Go (GOMAXPROCS=2)",
            exe,
            env: GO_ENV.to_vec(),
        }),
        _ => None,
    };
    let mut go_failed = None;
    let mut results = None;
    if let Some(g) = go_side {
        let mut sides: Vec<Side> = barrier_sides(&exes.pause).into();
        let go_label = g.label;
        sides.push(g);
        match rounds(
            &sides,
            &args,
            "gc_pause",
            &check_barrier_run,
            ("pause_max_ns", 1e3, "longest pause µs"),
        ) {
            Ok(r) => {
                results = Some(r);
                println!(
                    "\n  {:<34}{:>14}{:>14}{:>10}",
                    "median of the rounds", "barriers on", "barriers off", "off/on"
                );
            }
            Err(e) if e.starts_with(go_label) => {
                println!("  Go: FAILED {e}; grt's sides again without it:");
                go_failed = Some(e);
            }
            Err(e) => {
                println!("  FAILED {e}");
                return false;
            }
        }
    }
    let results = match results {
        Some(r) => r,
        None => match barrier_rounds(
            &exes.pause,
            &args,
            "gc_pause",
            ("pause_max_ns", 1e3, "longest pause µs"),
        ) {
            Some(r) => r,
            None => return false,
        },
    };
    let (on, off) = (&results[0], &results[1]);
    for (name, key, scale, prec) in [
        ("longest pause µs", "pause_max_ns", 1e3, 1),
        ("mark termination µs, median", "markterm_ns_median", 1e3, 1),
        ("mark termination µs, max", "markterm_ns_max", 1e3, 1),
        (
            "all pauses of a cycle µs, median",
            "cycle_pause_median_ns",
            1e3,
            1,
        ),
        ("rescan µs, median", "rescan_ns_median", 1e3, 1),
        (
            "frames rescanned, median",
            "frames_rescanned_median",
            1.0,
            0,
        ),
        (
            "stacks rescanned, median",
            "stacks_rescanned_median",
            1.0,
            0,
        ),
        ("stop µs, median", "stop_ns_median", 1e3, 1),
        ("roots µs, median", "roots_ns_median", 1e3, 1),
        ("drain µs, median", "drain_ns_median", 1e3, 1),
    ] {
        println!(
            "  {name:<34}{:>14.prec$}{:>14.prec$}{:>10.1}",
            med(on, key) / scale,
            med(off, key) / scale,
            ratio(off, on, key),
        );
    }
    // GRTGC=off: only an allocation past a memory limit would wait; the row shows none did.
    println!(
        "  {:<34}{:>14.1}{:>14.1}",
        "longest allocation wait µs",
        med(on, "alloc_wait_max_ns") / 1e3,
        med(off, "alloc_wait_max_ns") / 1e3,
    );
    let longest = med(on, "pause_max_ns") / 1e3;
    println!(
        "  goal: longest pause with barriers <= {goal_us:.0} µs at {goroutines} goroutines: \
         {longest:.1} µs (median of the processes' longest), {}",
        verdict(longest <= goal_us)
    );
    match results.get(2) {
        Some(go) => {
            println!(
                "  Go's collector ({}) on the same workload: runtime.GC() back to back, \
                 automatic collection off; its longest pause from runtime/metrics, rounded down \
                 to its bucket (up to {:.1} µs more), its mark termination without the restart \
                 (grt's pauses include it):",
                crate::bench::go_version(),
                (med(go, "pause_max_hi_ns") - med(go, "pause_max_ns")) / 1e3
            );
            println!(
                "  {:<34}{:>14}{:>14}{:>10}",
                "", "grt (barriers)", "Go", "Go/grt"
            );
            for (name, key) in [
                ("longest pause µs", "pause_max_ns"),
                ("all pauses of a cycle µs, median", "cycle_pause_median_ns"),
            ] {
                println!(
                    "  {name:<34}{:>14.1}{:>14.1}{:>10.2}",
                    med(on, key) / 1e3,
                    med(go, key) / 1e3,
                    ratio(go, on, key),
                );
            }
        }
        None if go_failed.is_some() => {}
        None if go => {
            println!("  Go: SKIPPED (`go` is missing, or its program did not build: see above)")
        }
        None => {}
    }
    println!(
        "  per process: frames scanned concurrently {:.0}, barriers installed {:.0} (hit {:.0}), \
         scans stopped at an unprovable record {:.0}, rescan rounds {:.0}, goroutine starts \
         that first yielded to the collector (rounds behind, or mark termination next) {:.0}",
        med(on, "frames_scanned"),
        med(on, "barriers_installed"),
        med(on, "barriers_hit"),
        med(on, "barriers_unprovable"),
        med(on, "rescan_rounds"),
        med(on, "round_yields")
    );
    if [on, off].iter().any(|v| {
        v.iter()
            .any(|l| l.num("extra_cycles").unwrap_or(0.0) != 0.0)
    }) {
        println!("  NOTE: cycles ran that were not asked for (GRTGC=off ignored?)");
    }
    true
}

/// RSS after a spike: grt vs bdwgc vs malloc (gc_rss_bench.c).
fn rss(exes: &Exes) -> bool {
    println!(
        "\n  -- RSS after a spike: 1 GiB held in 64 KiB objects, dropped, then idle (RSS in MiB)"
    );
    let mut sides = vec![Side {
        label: "grt",
        exe: &exes.rss_grt,
        env: vec!["-u", "GRTGC", "-u", "GRTDEBUG"],
    }];
    if let Some(b) = &exes.rss_bdwgc {
        sides.push(Side {
            label: "bdwgc (GC_gcollect)",
            exe: b,
            env: vec![],
        });
    }
    sides.push(Side {
        label: "malloc/free",
        exe: &exes.rss_malloc,
        env: vec![],
    });
    // Three rounds: each process idles three seconds.
    let mut results: Vec<Vec<Line>> = sides.iter().map(|_| Vec::new()).collect();
    for _ in 0..3 {
        for (i, s) in sides.iter().enumerate() {
            match run_line(s.exe, &s.env, &[], "gc_rss") {
                Ok(l) => results[i].push(l),
                Err(e) => {
                    println!("  FAILED {}: {e}", s.label);
                    return false;
                }
            }
        }
    }
    println!(
        "  {:<28}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "median of 3", "before", "spike", "0.5 s", "1 s", "2 s", "3 s"
    );
    for (s, v) in sides.iter().zip(&results) {
        let m = |k: &str| med(v, k) / 1024.0;
        println!(
            "  {:<28}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>9.1}",
            s.label,
            m("before_kib"),
            m("spike_kib"),
            m("after_500ms_kib"),
            m("after_1s_kib"),
            m("after_2s_kib"),
            m("after_3s_kib")
        );
    }
    let g = &results[0];
    let fell = (med(g, "after_3s_kib") - med(g, "before_kib"))
        < 0.1 * (med(g, "spike_kib") - med(g, "before_kib"));
    println!(
        "  grt's RSS above its start below 10% of the spike within 3 s: {}",
        verdict(fell)
    );
    true
}

/// bdwgc's own tests that do real work, run through grt's gc.h and on bdwgc.
const BDWGC_TESTS: [&str; 4] = ["middle", "realloc", "disclaim_bench", "gctest"];
/// Of them, the ones bdwgc's release cannot build (they follow its current source): their
/// bdwgc side links bdwgc built from the same source tree (its one-file build, extra/gc.c).
const FROM_SOURCE: [&str; 1] = ["gctest"];
/// How that bdwgc is built: threads, parallel marking and thread-local allocation, as
/// Debian's libgc.
const BDWGC_SRC_FLAGS: [&str; 8] = [
    "-DGC_THREADS",
    "-DPARALLEL_MARK",
    "-DTHREAD_LOCAL_ALLOC",
    "-DGC_BUILTIN_ATOMIC",
    "-DNO_EXECUTE_PERMISSION",
    "-DUSE_MMAP",
    "-DUSE_MUNMAP",
    "-DNDEBUG",
];

/// What bdwgc's tests take from its private gc_priv.h, for their bdwgc build (written here:
/// bdwgc's own header needs its configured source tree).
const BDWGC_PRIV_SHIM: &str = "/* bdwgc-side shim of bdwgc's private gc_priv.h, for cargo xtask bench */\n\
#include <stdio.h>\n#include <stdlib.h>\n#include <time.h>\n#include <gc.h>\n#include <gc/gc_disclaim.h>\n\
#define GC_RAND_MAX 0x7fff\n#define GC_RAND_STATE_T unsigned\n\
#define GC_RAND_NEXT(p) ((int)(*(p) = (*(p) * 1103515245u + 12345u) & (unsigned)GC_RAND_MAX))\n\
#define COVERT_DATAFLOW(w) (w)\n#define CLOCK_TYPE struct timespec\n\
#define GET_TIME(t) clock_gettime(CLOCK_MONOTONIC, &(t))\n\
#define MS_TIME_DIFF(a, b) ((unsigned long)(((a).tv_sec - (b).tv_sec) * 1000 + ((long)(a).tv_nsec - (long)(b).tv_nsec) / 1000000))\n";

/// bdwgc's tests (middle, realloc, disclaim_bench: the ones that do real work), built
/// unchanged against grt's gc.h (libgrt.a) and against bdwgc (-lgc), run alternately under
/// runstat (wall time, peak RSS). Their sources are bdwgc's, not ours: this part runs only
/// when GRT_BDWGC_SRC names a bdwgc source tree (github.com/ivmai/bdwgc).
fn bdwgc_tests(out_dir: &Path, peer: bool) -> bool {
    println!("\n  -- bdwgc's own tests through grt's gc.h vs bdwgc: wall time, peak RSS and longest pause");
    let Some(src) = std::env::var_os("GRT_BDWGC_SRC") else {
        println!("  skipped: set GRT_BDWGC_SRC to a bdwgc source tree to run them");
        return true;
    };
    if !peer {
        println!("  skipped: no bdwgc to compare with (see above)");
        return true;
    }
    let tests = Path::new(&src).join("tests");
    let shim = out_dir.join("bdwgc-shim");
    let runstat = out_dir.join("runstat");
    let cc = |args: &[&str], out: &Path| -> bool {
        let mut c = Command::new("cc");
        c.args([
            "-O2",
            "-fno-omit-frame-pointer",
            "-mno-omit-leaf-frame-pointer",
        ])
        .args(args)
        .arg("-o")
        .arg(out);
        crate::util::run(&mut c)
    };
    if std::fs::create_dir_all(shim.join("private")).is_err()
        || std::fs::write(shim.join("private/gc_priv.h"), BDWGC_PRIV_SHIM).is_err()
        || !cc(&["tests/bench/c/runstat.c"], &runstat)
    {
        println!("  FAILED: could not set up the runner");
        return false;
    }
    let lib = ctests::lib_path(&ARCHES[0], Build::Libc);
    // bdwgc from the source tree, for FROM_SOURCE's tests (built once).
    let src_inc = format!("-I{}", Path::new(&src).join("include").display());
    let src_obj = out_dir.join("bdwgc-src-gc.o");
    let gc_c = Path::new(&src).join("extra/gc.c");
    let from_source = gc_c.exists() && {
        let mut args: Vec<&str> = BDWGC_SRC_FLAGS.to_vec();
        let gc_c = gc_c.to_string_lossy();
        args.extend([src_inc.as_str(), "-c", &*gc_c]);
        cc(&args, &src_obj)
    };
    let mut ok = true;
    println!(
        "\n  {:<16}{:>10}{:>10}{:>10}{:>12}{:>12}{:>10}",
        "median", "grt ms", "bdwgc ms", "grt/bdwgc", "grt RSS", "bdwgc RSS", "grt/bdwgc"
    );
    for t in BDWGC_TESTS {
        let c_src = tests.join(format!("{t}.c"));
        let c_src = c_src.to_string_lossy();
        let (g, b) = (
            out_dir.join(format!("{t}_grt")),
            out_dir.join(format!("{t}_bdwgc")),
        );
        let shim_i = format!("-I{}", shim.display());
        let own_src = FROM_SOURCE.contains(&t);
        if own_src && !from_source {
            println!("  {t}: skipped (its bdwgc side needs a full bdwgc source tree with extra/gc.c in GRT_BDWGC_SRC)");
            continue;
        }
        let src_o = src_obj.to_string_lossy();
        let peer_args: Vec<&str> = if own_src {
            vec![
                "-DGC_THREADS",
                "-DGC_BUILTIN_ATOMIC",
                &src_inc,
                &c_src,
                &src_o,
                "-lpthread",
                "-ldl",
            ]
        } else {
            vec!["-DGC_THREADS", &shim_i, &c_src, "-lgc", "-lpthread"]
        };
        if !cc(
            &[
                "-DGC_THREADS",
                "-Iinclude/grt-gc",
                "-Iinclude",
                &c_src,
                &lib.to_string_lossy(),
                "-lpthread",
                "-ldl",
            ],
            &g,
        ) || !cc(&peer_args, &b)
        {
            println!("  {t}: FAILED to build (see above)");
            ok = false;
            continue;
        }
        let leak = |p: &Path| -> &'static str {
            Box::leak(format!("RUNSTAT_PROG={}", p.display()).into_boxed_str())
        };
        let sides = [
            Side {
                label: "grt (gc.h)",
                exe: &runstat,
                env: vec![leak(&g)],
            },
            Side {
                label: "bdwgc",
                exe: &runstat,
                env: vec![leak(&b)],
            },
        ];
        println!("  {t}:");
        let r = match rounds(&sides, &[], "runstat", &|_, _| Ok(()), ("ms", 1.0, "ms")) {
            Ok(r) => r,
            Err(e) => {
                println!("  {t}: FAILED {e}");
                ok = false;
                continue;
            }
        };
        println!(
            "  {:<16}{:>10.1}{:>10.1}{:>10.3}{:>8.0} MiB{:>8.0} MiB{:>10.3}",
            t,
            med(&r[0], "ms"),
            med(&r[1], "ms"),
            ratio(&r[0], &r[1], "ms"),
            med(&r[0], "maxrss_kb") / 1024.0,
            med(&r[1], "maxrss_kb") / 1024.0,
            ratio(&r[0], &r[1], "maxrss_kb"),
        );
        // The longest pause, from each collector's own per-cycle report (runs of their own:
        // the reports cost time).
        let psides = [
            Side {
                label: "grt (gc.h) pause",
                exe: &runstat,
                env: vec![leak(&g), "RUNSTAT_PAUSES=grt"],
            },
            Side {
                label: "bdwgc pause",
                exe: &runstat,
                env: vec![leak(&b), "RUNSTAT_PAUSES=bdwgc"],
            },
        ];
        match rounds(
            &psides,
            &[],
            "runstat",
            &|_, _| Ok(()),
            ("pause_max_us", 1.0, "µs"),
        ) {
            Ok(p) => println!(
                "  {:<16}longest pause µs: grt {:.0}, bdwgc {:.0}, grt/bdwgc {:.3}",
                t,
                med(&p[0], "pause_max_us"),
                med(&p[1], "pause_max_us"),
                ratio(&p[0], &p[1], "pause_max_us"),
            ),
            Err(e) => {
                println!("  {t}: pauses FAILED {e}");
                ok = false;
            }
        }
    }
    println!("  built with bdwgc's own -DGC_THREADS; grt's side is a plain registered thread in plain-store mode (gc.h's GC_INIT).");
    if from_source {
        println!(
            "  {}: bdwgc built from GRT_BDWGC_SRC ({}), as bdwgc's release cannot build it.",
            FROM_SOURCE.join(", "),
            BDWGC_SRC_FLAGS.join(" ")
        );
    }
    println!("  pauses: grt's stop-the-world pauses (GRTDEBUG=gctrace=1), bdwgc's world-stopped marking (GC_PRINT_STATS=1), the longest of each run, median of the runs");
    println!("  goal (issue 16): grt at or under bdwgc on time and pause in each");
    ok
}

/// `cargo xtask bench`, collector part: builds, runs the benchmarks, prints the tables.
pub fn gc() -> bool {
    println!(
        "\n== garbage collector: allocation against bdwgc and malloc; stack barriers on/off; \
         pauses against Go's"
    );
    if std::env::consts::ARCH != "x86_64" {
        println!("  skipped: this benchmark runs on x86_64 hosts only (natively)");
        return true;
    }
    let peer = ensure_bdwgc();
    if let Err(why) = &peer {
        eprintln!("xtask: the bdwgc side of the GC bench is SKIPPED: {why}");
    }
    let out_dir = std::env::current_dir()
        .expect("current directory")
        .join(OUT_DIR);
    let go = crate::bench::ensure_go();
    let Some(exes) = build(&out_dir, peer.is_ok(), go) else {
        println!("  FAILED: could not build the benchmark programs (see above)");
        return false;
    };
    println!(
        "  x86_64 natively only (under qemu-aarch64 the figures would be emulation's); {}",
        if peer.is_ok() {
            format!("bdwgc {}", bdwgc_version())
        } else {
            "WITHOUT PEER: bdwgc is missing (see above)".into()
        }
    );
    // All three run even if one fails.
    let a = alloc(&exes);
    let r = rescan(&exes);
    let v = validation(&exes);
    let p = pauses(&exes);
    let k = marking(&exes);
    let g = globals(&exes);
    let f = finalizers(&exes);
    let m = rss(&exes);
    let b = bdwgc_tests(&out_dir, peer.is_ok());
    a && r && v && p && k && g && f && m && b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line() {
        let out = "noise\ngcbench side=grt procs=1 ms=250.5 gcs=12 check=ok\n";
        let l = Line::parse("gcbench", out).unwrap();
        assert_eq!(l.num("ms").unwrap(), 250.5);
        assert_eq!(l.text("side"), "grt");
        assert!(l.num("nope").is_err());
        assert!(Line::parse("gc_pause", out).is_none());
        // A line without check=ok is not a result.
        assert!(Line::parse("gcbench", "gcbench side=grt ms=1\n").is_none());
    }

    #[test]
    fn medians_and_ratios() {
        let l = |ms: &str| Line::parse("x", &format!("x ms={ms} check=ok")).unwrap();
        let a = vec![l("10"), l("30"), l("20")];
        let b = vec![l("5"), l("10"), l("20")];
        assert_eq!(med(&a, "ms"), 20.0);
        // Per round: 2, 3, 1.
        assert_eq!(ratio(&a, &b, "ms"), 2.0);
    }
}
