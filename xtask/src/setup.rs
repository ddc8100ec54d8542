//! Installs what a fresh machine lacks for the aarch64 half of the work, or says exactly how.

use std::path::Path;
use std::process::Command;

use crate::util::{have, output, run};

pub const AARCH64_TRIPLE: &str = "aarch64-unknown-linux-gnu";
const APT_PACKAGES: &[&str] = &[
    "qemu-user",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    // The code-shape corpus is built with clang too (for both architectures: clang finds the
    // aarch64 cross gcc's headers, libraries and linker by itself).
    "clang",
    // `cargo xtask test` builds programs against an installed grt through pkg-config.
    "pkg-config",
];

pub(crate) fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// Makes sure the aarch64 Rust target, the cross gcc + libc, qemu-user and clang are there.
pub fn ensure() -> bool {
    let targets =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets.lines().any(|l| l.trim() == AARCH64_TRIPLE) {
        eprintln!("xtask: installing the Rust target {AARCH64_TRIPLE} (rustup target add)");
        if !run(Command::new("rustup").args(["target", "add", AARCH64_TRIPLE])) {
            eprintln!("xtask: could not add the target; run: rustup target add {AARCH64_TRIPLE}");
            return false;
        }
    }
    let missing = !have("aarch64-linux-gnu-gcc", "--version")
        || !have("clang", "--version")
        || !have("qemu-aarch64", "--version")
        || !have("qemu-x86_64", "--version")
        || !have("pkg-config", "--version")
        || !Path::new("/usr/aarch64-linux-gnu/lib/crt1.o").exists();
    if missing {
        let list = APT_PACKAGES.join(" ");
        if !is_root() {
            eprintln!(
                "xtask: missing qemu-user, the aarch64 cross toolchain, clang and/or pkg-config; run as root:"
            );
            eprintln!("  apt-get update && apt-get install -y {list}");
            return false;
        }
        if !apt_install(APT_PACKAGES) {
            return false;
        }
    }
    true
}

/// `apt-get update` then `apt-get install -y packages` (the caller checked we are root).
/// On failure says what to run by hand.
pub(crate) fn apt_install(packages: &[&str]) -> bool {
    let list = packages.join(" ");
    eprintln!("xtask: installing {list} (apt-get)");
    let ok = run(Command::new("apt-get").args(["update", "-q"]))
        && run(Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"));
    if !ok {
        eprintln!("xtask: apt-get failed; run: apt-get update && apt-get install -y {list}");
    }
    ok
}
