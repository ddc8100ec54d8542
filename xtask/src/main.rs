//! `cargo xtask <command>`: the project's commands.
//!
//! - `test`       host unit tests (x86_64 natively, aarch64 under qemu-aarch64), libgrt.a for
//!                both architectures in both builds (libc, freestanding), the header check, and
//!                every C test in tests/c/ built both ways for both architectures and run
//!                (x86_64 natively, aarch64 under qemu-aarch64), and every examples/*.c
//!                (libc build) run the same way. Ends with `N passed, N failed`.
//! - `qemu-test`  the same integration suites, every binary run under QEMU user mode
//!                (qemu-x86_64 and qemu-aarch64).
//! - `bench`      context switch: grt against corosensei in the same process; then the
//!                scheduler against Go (goroutine create, channel ping-pong, yield; x86_64
//!                natively only), see bench.rs.
//! - `demo`       builds and runs examples/demo.c (goroutines, channels, a blocking read).
//!
//! On a fresh machine these set up what is missing (the aarch64 Rust target; qemu-user and
//! the aarch64 cross gcc/libc, and golang-go for `bench`, from Debian's packages when running
//! as root).

mod bench;
mod ctests;
mod setup;
mod util;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: cargo xtask <test | qemu-test | bench | demo>");
    eprintln!("  env GRT_TEST_FILTER=substr   run only the C tests whose name contains substr");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        return usage();
    };
    let root = util::repo_root();
    std::env::set_current_dir(&root).expect("cd to the repository root");
    let ok = match cmd.as_str() {
        "test" => ctests::run_all(ctests::Mode::Native),
        "qemu-test" => ctests::run_all(ctests::Mode::Qemu),
        "bench" => {
            // Both parts run even if the first fails.
            let switch = ctests::bench();
            let sched = bench::sched();
            switch && sched
        }
        "demo" => ctests::demo(),
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
