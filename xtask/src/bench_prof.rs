//! `cargo xtask bench`, profiler part: grt's CPU profiler against gperftools' libprofiler,
//! on x86_64 natively only (under qemu-aarch64 the figures would be emulation's).
//!
//! tests/bench/c/prof_bench.c is one program, linked with libgrt.a (libc build) and, when
//! Debian's libgoogle-perftools-dev is there (installed here when running as root), with
//! -lprofiler. It runs the same CPU-bound workload (two goroutines, ~1 s of CPU each, on
//! GRTMAXPROCS=2) unprofiled, under grt_prof_start/grt_prof_stop, or under
//! ProfilerStart/ProfilerStop, at 100 and 1000 Hz; see its opening comment. Each process
//! prints one `prof mode=.. hz=.. ...` line.
//!
//! The configurations run in rounds, one process each, in the order none, grt 100,
//! gperftools 100, grt 1000, gperftools 1000, so that all of them see the same machine noise
//! (the machine is shared). Figures, each the median over the rounds:
//! - overhead: the profiled run's wall time over the unprofiled run's of the same round (and
//!   the same for process CPU time). Goals for grt: <= 1.01 at 100 Hz, <= 1.03 at 1000 Hz,
//!   judged on both: on a shared 2-core machine the wall time of a 2-thread workload moves
//!   by tens of percent with the neighbours' load, the CPU time (which also carries the
//!   kernel's signal work) by well under one.
//! - handler cost: the program wraps whichever SIGPROF handler the profiler installed and
//!   times each call (median per run, then median over runs). The kernel's share of a
//!   signal (delivery, sigreturn) is not in it; it is in the overhead.
//! - rate: SIGPROFs delivered per second of process CPU time, against the rate asked for.
//!   Two things cut it: the kernel checks CPU timers at its tick (CONFIG_HZ, often 250), so
//!   neither profiler gets more than about one signal per tick per running thread; and
//!   libprofiler's process-wide setitimer(ITIMER_PROF) folds the expiries of one check into
//!   one signal and drops one that comes while the last is still pending, where grt's
//!   timer_create(CLOCK_THREAD_CPUTIME_ID) per thread does not share a timer between threads.
//!
//! Missing a goal is reported, not an error; a build or a run that fails is, and so is a run
//! whose workload result differs from the unprofiled one or whose profile file is empty or
//! malformed. Without gperftools only the grt side runs, marked as having no peer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ctests::{self, Build, ARCHES};
use crate::setup;

/// Rounds (processes per configuration).
const RUNS: usize = 9;
/// Workload rounds per goroutine: about 1 s of CPU on a 2020s x86_64 core.
const ITERS: u64 = 280_000_000;
/// A process that takes longer than this is killed.
const TIMEOUT: Duration = Duration::from_secs(60);
/// GRTMAXPROCS of every run: two goroutines computing, one M each.
const PROCS: usize = 2;
const OUT_DIR: &str = "target/prof-bench";
const C_SRC: &str = "tests/bench/c/prof_bench.c";
const GPERF_HEADER: &str = "/usr/include/gperftools/profiler.h";
const GPERF_PACKAGE: &str = "libgoogle-perftools-dev";
const RATES: [u32; 2] = [100, 1000];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    None,
    Grt,
    Gperf,
}

impl Side {
    fn arg(self) -> &'static str {
        match self {
            Side::None => "none",
            Side::Grt => "grt",
            Side::Gperf => "gperf",
        }
    }
}

/// One configuration of the matrix.
#[derive(Clone, Copy, Debug)]
struct Config {
    side: Side,
    hz: u32,
}

impl Config {
    fn label(&self) -> String {
        match self.side {
            Side::None => "unprofiled".into(),
            Side::Grt => format!("grt {} Hz", self.hz),
            Side::Gperf => format!("gperftools {} Hz", self.hz),
        }
    }
    fn profile_path(&self, dir: &Path) -> PathBuf {
        match self.side {
            Side::None => dir.join("none.prof"),
            Side::Grt => dir.join(format!("grt-{}.pb.gz", self.hz)),
            Side::Gperf => dir.join(format!("gperf-{}.prof", self.hz)),
        }
    }
}

/// What one process reported.
#[derive(Debug, Clone)]
struct Sample {
    procs: usize,
    wall_ns: f64,
    cpu_ns: f64,
    signals: f64,
    handler_median_ns: f64,
    handler_p90_ns: f64,
    samples: i64,
    lost: i64,
    forwarded: i64,
    per_thread: i64,
    itimer_us: i64,
    clock_floor_ns: f64,
    result: String,
}

impl Sample {
    /// SIGPROFs delivered per second of process CPU time.
    fn rate(&self) -> f64 {
        self.signals / (self.cpu_ns / 1e9)
    }
}

/// Finds the `prof mode=M hz=N ...` line of the given configuration.
fn parse_sample(c: &Config, stdout: &str) -> Option<Sample> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some("prof"))?;
    let kv: HashMap<&str, &str> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|w| w.split_once('='))
        .collect();
    let f = |k: &str| kv.get(k)?.parse::<f64>().ok();
    let i = |k: &str| kv.get(k)?.parse::<i64>().ok();
    if *kv.get("mode")? != c.side.arg() || i("hz")? != c.hz as i64 {
        return None;
    }
    Some(Sample {
        procs: kv.get("procs")?.parse().ok()?,
        wall_ns: f("wall_ns")?,
        cpu_ns: f("cpu_ns")?,
        signals: f("signals")?,
        handler_median_ns: f("handler_median_ns")?,
        handler_p90_ns: f("handler_p90_ns")?,
        samples: i("samples")?,
        lost: i("lost")?,
        forwarded: i("forwarded")?,
        per_thread: i("per_thread")?,
        itimer_us: i("itimer_us")?,
        clock_floor_ns: f("clock_floor_ns")?,
        result: kv.get("result")?.to_string(),
    })
}

/// Checks the profile a run wrote: grt's is gzip (profile.proto inside), libprofiler's is
/// its legacy binary format: a header of five machine words 0, 3, 0, period in µs, 0.
fn check_profile(c: &Config, path: &Path) -> Result<(), String> {
    if c.side == Side::None {
        return Ok(());
    }
    let data = std::fs::read(path).map_err(|e| format!("profile {}: {e}", path.display()))?;
    match c.side {
        Side::Grt => {
            if data.len() < 20 || data[..2] != [0x1f, 0x8b] {
                return Err(format!(
                    "profile {} is not gzip or is empty ({} bytes)",
                    path.display(),
                    data.len()
                ));
            }
        }
        Side::Gperf => {
            let words: Vec<u64> = data
                .chunks_exact(8)
                .take(5)
                .map(|w| u64::from_ne_bytes(w.try_into().unwrap()))
                .collect();
            let period = 1_000_000 / u64::from(c.hz);
            // Header, at least one sample record (3 words + a pc) and the trailer (3 words).
            if data.len() < 8 * 12 || words != [0, 3, 0, period, 0] {
                return Err(format!(
                    "profile {} is not a libprofiler profile at {} Hz ({} bytes, header {:?})",
                    path.display(),
                    c.hz,
                    data.len(),
                    words
                ));
            }
        }
        Side::None => {}
    }
    Ok(())
}

/// Runs one process of one configuration.
fn run_one(exe: &Path, c: &Config, dir: &Path) -> Result<Sample, String> {
    let path = c.profile_path(dir);
    let _ = std::fs::remove_file(&path);
    let mut argv = vec!["env".to_string(), format!("GRTMAXPROCS={PROCS}")];
    if c.side == Side::Gperf {
        // libprofiler reads its rate from here when it is loaded.
        argv.push(format!("CPUPROFILE_FREQUENCY={}", c.hz));
    }
    argv.extend([
        exe.to_string_lossy().into_owned(),
        c.side.arg().to_string(),
        c.hz.to_string(),
        ITERS.to_string(),
        path.to_string_lossy().into_owned(),
    ]);
    let out = crate::util::run_ok(&argv, TIMEOUT)?;
    let s = parse_sample(c, &out.stdout)
        .ok_or_else(|| format!("no well-formed `prof mode=.. hz=..` line{}", out.tail()))?;
    if s.procs != PROCS {
        return Err(format!(
            "ran with {} procs, expected {PROCS} (GRTMAXPROCS ignored?)",
            s.procs
        ));
    }
    if c.side != Side::None && s.signals == 0.0 {
        return Err(format!(
            "no SIGPROF reached the profiler's handler{}",
            out.tail()
        ));
    }
    check_profile(c, &path)?;
    Ok(s)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Makes sure gperftools' profiler header and library are there: Debian's
/// libgoogle-perftools-dev when running as root. Err says why not.
fn ensure_gperftools() -> Result<(), String> {
    if Path::new(GPERF_HEADER).exists() {
        return Ok(());
    }
    if !setup::is_root() {
        return Err(format!(
            "{GPERF_PACKAGE} is not installed and this is not root; to compare, run as root: \
             apt-get update && apt-get install -y {GPERF_PACKAGE}"
        ));
    }
    if !setup::apt_install(&[GPERF_PACKAGE]) || !Path::new(GPERF_HEADER).exists() {
        return Err(format!("installing {GPERF_PACKAGE} failed (see above)"));
    }
    Ok(())
}

/// The installed gperftools version, from dpkg, or "?".
fn gperf_version() -> String {
    crate::util::output(std::process::Command::new("dpkg-query").args([
        "-W",
        "-f=${Version}",
        GPERF_PACKAGE,
    ]))
    .unwrap_or_else(|| "?".into())
}

/// Builds libgrt.a (libc build, release, host) and prof_bench.c against it (and
/// libprofiler when `gperf`).
fn build(out_dir: &Path, gperf: bool) -> Option<PathBuf> {
    let arch = &ARCHES[0];
    if !ctests::build_lib(arch, Build::Libc) {
        eprintln!("xtask: building libgrt.a failed");
        return None;
    }
    std::fs::create_dir_all(out_dir).ok()?;
    let exe = out_dir.join("prof_bench");
    let extra: &[&str] = if gperf {
        &["-DGRT_BENCH_GPERFTOOLS=1", "-lprofiler"]
    } else {
        &[]
    };
    if !ctests::compile_c_with(arch, Build::Libc, &[PathBuf::from(C_SRC)], &exe, extra) {
        eprintln!("xtask: compiling {C_SRC} failed");
        return None;
    }
    Some(exe)
}

/// Medians of one configuration over the rounds.
struct Summary {
    /// Wall and CPU time over the same round's unprofiled run.
    wall_ratio: f64,
    cpu_ratio: f64,
    handler_ns: f64,
    handler_p90_ns: f64,
    rate: f64,
    samples: f64,
    lost: f64,
    forwarded: f64,
    per_thread: i64,
    itimer_us: i64,
}

fn summarize(runs: &[Sample], base: &[Sample]) -> Summary {
    let m = |f: &dyn Fn(&Sample) -> f64| median(runs.iter().map(f).collect());
    Summary {
        wall_ratio: median(
            runs.iter()
                .zip(base)
                .map(|(r, b)| r.wall_ns / b.wall_ns)
                .collect(),
        ),
        cpu_ratio: median(
            runs.iter()
                .zip(base)
                .map(|(r, b)| r.cpu_ns / b.cpu_ns)
                .collect(),
        ),
        handler_ns: m(&|s| s.handler_median_ns),
        handler_p90_ns: m(&|s| s.handler_p90_ns),
        rate: m(&|s| s.rate()),
        samples: m(&|s| s.samples as f64),
        lost: m(&|s| s.lost as f64),
        forwarded: m(&|s| s.forwarded as f64),
        per_thread: runs.last().map_or(-1, |s| s.per_thread),
        itimer_us: runs.last().map_or(0, |s| s.itimer_us),
    }
}

fn timer_kind(side: Side, s: &Summary) -> String {
    match side {
        Side::Grt if s.per_thread == 1 => "timer_create(CLOCK_THREAD_CPUTIME_ID) per thread".into(),
        Side::Grt => "setitimer(ITIMER_PROF) fallback, process-wide".into(),
        _ if s.itimer_us > 0 => "setitimer(ITIMER_PROF), process-wide".into(),
        _ => "per-thread timers (CPUPROFILE_PER_THREAD_TIMERS)".into(),
    }
}

/// `cargo xtask bench`, profiler part: builds, runs the matrix and prints the table.
pub fn prof() -> bool {
    println!("\n== CPU profiler: grt against gperftools' libprofiler");
    if std::env::consts::ARCH != "x86_64" {
        println!("  skipped: this benchmark runs on x86_64 hosts only (natively)");
        return true;
    }
    let peer = ensure_gperftools();
    if let Err(why) = &peer {
        eprintln!("xtask: the gperftools side of the profiler bench is SKIPPED: {why}");
    }
    let with_peer = peer.is_ok();
    let out_dir = std::env::current_dir()
        .expect("current directory")
        .join(OUT_DIR);
    let Some(exe) = build(&out_dir, with_peer) else {
        println!("  FAILED: could not build the benchmark program (see above)");
        return false;
    };

    let mut configs = vec![Config {
        side: Side::None,
        hz: 0,
    }];
    for hz in RATES {
        configs.push(Config {
            side: Side::Grt,
            hz,
        });
        if with_peer {
            configs.push(Config {
                side: Side::Gperf,
                hz,
            });
        }
    }
    println!(
        "  x86_64 natively only (under qemu-aarch64 the figures would be emulation's); {}",
        if with_peer {
            format!("gperftools {}", gperf_version())
        } else {
            "WITHOUT PEER: gperftools is missing (see above)".into()
        }
    );
    println!(
        "  workload: 2 goroutines x {ITERS} rounds (~1 s CPU each) on GRTMAXPROCS={PROCS}; \
         {RUNS} rounds of one process per configuration, in the order:"
    );
    println!(
        "  {}",
        configs
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut results: Vec<Vec<Sample>> = vec![Vec::new(); configs.len()];
    let mut err = None;
    'rounds: for _ in 0..RUNS {
        for (i, c) in configs.iter().enumerate() {
            match run_one(&exe, c, &out_dir) {
                Ok(s) => results[i].push(s),
                Err(e) => {
                    err = Some(format!("{}: {e}", c.label()));
                    break 'rounds;
                }
            }
        }
    }
    if err.is_none() {
        // The workload is deterministic: profiling must not change what it computes.
        let want = &results[0][0].result;
        if let Some((c, s)) = configs
            .iter()
            .zip(&results)
            .flat_map(|(c, v)| v.iter().map(move |s| (c, s)))
            .find(|(_, s)| &s.result != want)
        {
            err = Some(format!(
                "{}: workload result {} differs from {want}",
                c.label(),
                s.result
            ));
        }
    }
    for (c, v) in configs.iter().zip(&results) {
        let walls: Vec<String> = v
            .iter()
            .map(|s| format!("{:.0}", s.wall_ns / 1e6))
            .collect();
        println!("  {:<18} wall ms: {}", c.label(), walls.join(" "));
    }
    if let Some(e) = err {
        println!("  FAILED {e}");
        return false;
    }

    let base = &results[0];
    let get = |side: Side, hz: u32| {
        configs
            .iter()
            .position(|c| c.side == side && c.hz == hz)
            .map(|i| summarize(&results[i], base))
    };
    let floor = median(base.iter().map(|s| s.clock_floor_ns).collect());
    let walls: Vec<f64> = base.iter().map(|s| s.wall_ns / 1e6).collect();
    let (lo, hi) = walls
        .iter()
        .fold((f64::MAX, 0.0_f64), |(lo, hi), &w| (lo.min(w), hi.max(w)));
    println!(
        "\n  unprofiled: wall {:.0} ms (runs from {lo:.0} to {hi:.0}: the machine's noise), \
         CPU {:.0} ms; medians of {RUNS} runs, x86_64 native",
        median(walls.clone()),
        median(base.iter().map(|s| s.cpu_ns / 1e6).collect()),
    );
    let mut max_grt_rate: f64 = 0.0;
    for (hz, goal) in RATES.iter().zip([1.01, 1.03]) {
        let g = get(Side::Grt, *hz).expect("grt configuration");
        let p = get(Side::Gperf, *hz);
        max_grt_rate = max_grt_rate.max(g.rate);
        let head = format!("at {hz} Hz");
        println!(
            "\n  {head:<32}{:>10}{:>14}{:>16}",
            "grt", "gperftools", "grt/gperftools"
        );
        let row = |name: &str, gv: f64, pv: Option<f64>, prec: usize, note: String| {
            let pcol = pv.map_or("-".to_string(), |v| format!("{v:.prec$}"));
            let rcol = pv.map_or("no peer".to_string(), |v| format!("{:.3}", gv / v));
            println!("  {name:<32}{gv:>10.prec$}{pcol:>14}{rcol:>16}  {note}");
        };
        // Judged on both: wall time is what the goal is about, CPU time is what a shared
        // machine's noise disturbs least (the kernel's signal work is charged to it too).
        let verdict = |r: f64| if r <= goal { "met" } else { "NOT met" };
        row(
            "overhead: wall / unprofiled",
            g.wall_ratio,
            p.as_ref().map(|p| p.wall_ratio),
            3,
            format!("goal grt <= {goal}: {}", verdict(g.wall_ratio)),
        );
        row(
            "overhead: CPU / unprofiled",
            g.cpu_ratio,
            p.as_ref().map(|p| p.cpu_ratio),
            3,
            format!("goal grt <= {goal}: {}", verdict(g.cpu_ratio)),
        );
        row(
            "handler ns per sample, median",
            g.handler_ns,
            p.as_ref().map(|p| p.handler_ns),
            0,
            format!("(p90: {:.0} / {})", g.handler_p90_ns, {
                p.as_ref()
                    .map_or("-".into(), |p| format!("{:.0}", p.handler_p90_ns))
            }),
        );
        row(
            "SIGPROFs per CPU-second",
            g.rate,
            p.as_ref().map(|p| p.rate),
            1,
            format!("asked {hz}"),
        );
        row(
            "  delivered / asked",
            g.rate / f64::from(*hz),
            p.as_ref().map(|p| p.rate / f64::from(*hz)),
            3,
            String::new(),
        );
        row(
            "samples recorded per run",
            g.samples,
            p.as_ref().map(|p| p.samples),
            0,
            format!("grt lost {:.0}, forwarded {:.0}", g.lost, g.forwarded),
        );
        println!("  timer: grt {}", timer_kind(Side::Grt, &g));
        if let Some(p) = &p {
            println!("         gperftools {}", timer_kind(Side::Gperf, p));
        }
    }

    // The kernel checks CPU timers at its tick: a per-thread timer asked for more than
    // CONFIG_HZ gets about CONFIG_HZ. Name the usual value nearest to what grt got at 1000 Hz.
    let tick = [100.0, 250.0, 300.0, 1000.0]
        .into_iter()
        .min_by(|a: &f64, b: &f64| {
            (a - max_grt_rate)
                .abs()
                .partial_cmp(&(b - max_grt_rate).abs())
                .unwrap()
        })
        .unwrap();
    println!(
        "\n  Overhead: the profiled run's wall (CPU) time over the unprofiled run's of the same \
         round, median of {RUNS} rounds."
    );
    println!(
        "  Handler: time inside the profiler's SIGPROF handler, timed by a wrapper around it \
         (includes a clock read pair, ~{floor:.0} ns); the kernel's part of a signal shows in \
         the overhead only."
    );
    println!(
        "  Rate: per-thread CPU timers are checked at the kernel's tick, so a thread gets at \
         most ~CONFIG_HZ samples per CPU-second whatever is asked: grt got {max_grt_rate:.0}/s \
         at most, i.e. CONFIG_HZ={tick:.0} here most likely."
    );
    if with_peer {
        println!(
            "  libprofiler's setitimer(ITIMER_PROF) is one timer for the whole process: expiries \
             that fall in one tick fold into one signal, and one that comes while the last \
             SIGPROF is still pending is lost, so two busy threads get fewer samples than asked \
             once the period nears the tick."
        );
        println!(
            "  gperftools takes its rate from CPUPROFILE_FREQUENCY when the library loads, and \
             unwinds with its default method (libunwind in Debian's build)."
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_sample() {
        let line = "noise\nprof mode=grt hz=100 procs=2 wall_ns=1000 cpu_ns=2000000000 \
                    signals=200 handler_median_ns=900 handler_p90_ns=1500 samples=199 lost=1 \
                    forwarded=0 per_thread=1 itimer_us=0 clock_floor_ns=20 result=00ff\n";
        let c = Config {
            side: Side::Grt,
            hz: 100,
        };
        let s = parse_sample(&c, line).unwrap();
        assert_eq!(s.procs, 2);
        assert_eq!(s.samples, 199);
        assert_eq!(s.lost, 1);
        assert_eq!(s.rate(), 100.0);
        assert_eq!(s.result, "00ff");
        let other = Config {
            side: Side::Gperf,
            hz: 100,
        };
        assert!(parse_sample(&other, line).is_none());
        assert!(parse_sample(&c, "prof mode=grt hz=100 procs=2\n").is_none());
    }
}
