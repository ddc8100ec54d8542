//! `cargo xtask <command>`: the project's commands.
//!
//! - `test`       host unit tests (x86_64 natively, aarch64 under qemu-aarch64), libgrt.a for
//!                both architectures in both builds (libc, freestanding), the header check, and
//!                every C test in tests/c/ built both ways for both architectures and run
//!                (x86_64 natively, aarch64 under qemu-aarch64), and every examples/*.c
//!                (libc build) run the same way; tests marked `builds=testhooks` run against
//!                the test-only build, and `profile=CHECK` tests have their profile checked
//!                (profchecks.rs). Ends with `N passed, N failed`.
//! - `qemu-test`  the same integration suites, every binary run under QEMU user mode
//!                (qemu-x86_64 and qemu-aarch64).
//! - `bench [switch|sched|prof|gc|net]`
//!                all five parts, or the one named. Context switch: grt against corosensei
//!                in the same process; then the scheduler against Go (goroutine create, channel ping-pong, yield; x86_64
//!                natively only), see bench.rs; then the CPU profiler against gperftools'
//!                libprofiler (overhead, handler cost, delivered rate), see bench_prof.rs;
//!                then the garbage collector (GCBench-shaped allocation against bdwgc and
//!                malloc; stack rescans and pauses with stack barriers on and off), see
//!                bench_gc.rs; then the network poller against Go's (hand-off, wrk against
//!                examples/httpd.c and the same server in Go, idle connections), see
//!                bench_net.rs.
//! - `install [--prefix DIR]`
//!                libgrt.a (both builds), grt.h, the freestanding linker script and the
//!                pkg-config files grt.pc and grt-freestanding.pc under DIR (default
//!                /usr/local), see install.rs.
//! - `demo`       builds and runs examples/demo.c (goroutines, channels, a blocking read)
//!                under GRTPROF, then draws its flame graph (paths printed).
//! - `flamegraph PROFILE BINARY [-o OUT.svg]`
//!                a CPU profile grt wrote (gzipped pprof) of BINARY, symbolized on the host:
//!                folded stacks in PROFILE.folded and a flame graph in OUT.svg (default
//!                PROFILE.svg), see flamegraph.rs.
//!
//! On a fresh machine these set up what is missing (the aarch64 Rust target; qemu-user and
//! the aarch64 cross gcc/libc; golang-go for `bench` and for the profiler test that runs
//! `go tool pprof`; libgoogle-perftools-dev, libgc-dev and wrk for `bench`; from Debian's packages
//! when running as root).

mod bench;
mod bench_gc;
mod bench_net;
mod bench_prof;
mod corpus;
mod ctests;
mod flamegraph;
mod install;
mod pprof;
mod profchecks;
mod setup;
mod symbolize;
mod util;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: cargo xtask <test | qemu-test | bench [switch|sched|prof|gc|net] | demo>");
    eprintln!("       cargo xtask flamegraph PROFILE BINARY [-o OUT.svg]");
    eprintln!("       cargo xtask install [--prefix DIR]   (default /usr/local)");
    eprintln!("  env GRT_TEST_FILTER=substr   run only the C tests whose name contains substr");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        return usage();
    };
    // Paths on the command line are relative to where cargo was run, not the repository root.
    let cwd = std::env::current_dir().unwrap_or_default();
    let root = util::repo_root();
    std::env::set_current_dir(&root).expect("cd to the repository root");
    let ok = match cmd.as_str() {
        "test" => ctests::run_all(ctests::Mode::Native),
        "qemu-test" => ctests::run_all(ctests::Mode::Qemu),
        "bench" => {
            // All parts (or the one named) run even if one fails.
            let part = args.get(1).map(String::as_str);
            let want = |name: &str| part.is_none() || part == Some(name);
            if part.is_some_and(|p| !["switch", "sched", "prof", "gc", "net"].contains(&p)) {
                return usage();
            }
            let switch = !want("switch") || ctests::bench();
            let sched = !want("sched") || bench::sched();
            let prof = !want("prof") || bench_prof::prof();
            let gc = !want("gc") || bench_gc::gc();
            let net = !want("net") || bench_net::net();
            switch && sched && prof && gc && net
        }
        "demo" => ctests::demo(),
        "install" => match args.get(1..).unwrap_or(&[]) {
            [] => install::install(Path::new("/usr/local")),
            [flag, dir] if flag == "--prefix" => install::install(&cwd.join(dir)),
            _ => return usage(),
        },
        "flamegraph" => match flamegraph_args(&args[1..], &cwd) {
            Some((profile, binary, out)) => flamegraph::run(&profile, &binary, out.as_deref()),
            None => return usage(),
        },
        "-h" | "--help" | "help" => return usage(),
        other => {
            eprintln!("xtask: unknown command {other:?}");
            return usage();
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `PROFILE BINARY [-o OUT.svg]`, made absolute against `cwd`.
fn flamegraph_args(args: &[String], cwd: &Path) -> Option<(PathBuf, PathBuf, Option<PathBuf>)> {
    let mut paths = Vec::new();
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-o" | "--output" => out = Some(cwd.join(it.next()?)),
            _ if a.starts_with('-') => return None,
            _ => paths.push(cwd.join(a)),
        }
    }
    let [profile, binary] = <[PathBuf; 2]>::try_from(paths).ok()?;
    Some((profile, binary, out))
}
