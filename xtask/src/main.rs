//! `cargo xtask <command>`: the project's commands.
//!
//! - `test`       host unit tests (x86_64 natively, aarch64 under qemu-aarch64), libgrt.a for
//!                both architectures in both builds (libc, freestanding), the header check, and
//!                every C test in tests/c/ built both ways for both architectures and run
//!                (x86_64 natively, aarch64 under qemu-aarch64). Ends with `N passed, N failed`.
//! - `qemu-test`  the same integration suites, every binary run under QEMU user mode
//!                (qemu-x86_64 and qemu-aarch64).
//! - `bench`      context switch: grt against corosensei in the same process.
//! - `demo`       builds and runs examples/context_demo.c.
//!
//! On a fresh machine these set up what is missing (the aarch64 Rust target; qemu-user and
//! the aarch64 cross gcc/libc from Debian's packages when running as root).

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
        "bench" => ctests::bench(),
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
