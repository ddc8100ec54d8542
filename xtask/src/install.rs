//! `cargo xtask install [--prefix DIR]` (default /usr/local): grt installed like a C
//! library, for this machine's architecture, so a program builds with
//! `cc prog.c $(pkg-config --cflags --libs grt)`:
//!
//! ```text
//! PREFIX/include/grt.h
//! PREFIX/include/grt-gc/gc.h, gc/, private/  bdwgc's API over grt (and what bdwgc's tests
//!                                             take from its private headers), in a folder of
//!                                             its own so as not to hide an installed bdwgc
//! PREFIX/lib/libgrt.a                         the libc build
//! PREFIX/lib/grt/freestanding/libgrt.a        the freestanding build (no libc)
//! PREFIX/lib/grt/freestanding.ld              its linker script
//! PREFIX/lib/pkgconfig/grt.pc                 cflags and libs of the libc build
//! PREFIX/lib/pkgconfig/grt-freestanding.pc    of the freestanding build
//! PREFIX/lib/pkgconfig/grt-gc.pc              a bdwgc program on grt (in place of bdw-gc.pc)
//! ```
//!
//! `cargo xtask test` installs into a temporary prefix and builds programs through
//! pkg-config alone (`check_install`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ctests::{self, Build, Tally, ARCHES};
use crate::util::run;

/// The C flags every program that links grt needs: grt's walkers follow frame pointers, and
/// on aarch64 it rewrites return addresses (no pointer authentication).
fn arch_cflags() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -mbranch-protection=none"
    } else {
        "-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer"
    }
}

fn version() -> String {
    let toml = fs::read_to_string("Cargo.toml").unwrap_or_default();
    toml.lines()
        .find_map(|l| l.trim().strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or("0")
        .to_string()
}

fn copy(from: &Path, to: &Path) -> bool {
    if let Some(dir) = to.parent() {
        if let Err(e) = fs::create_dir_all(dir) {
            eprintln!("xtask: cannot create {}: {e}", dir.display());
            return false;
        }
    }
    match fs::copy(from, to) {
        Ok(_) => {
            println!("  {}", to.display());
            true
        }
        Err(e) => {
            eprintln!(
                "xtask: cannot copy {} to {}: {e}",
                from.display(),
                to.display()
            );
            false
        }
    }
}

fn write(to: &Path, text: &str) -> bool {
    if let Some(dir) = to.parent() {
        let _ = fs::create_dir_all(dir);
    }
    match fs::write(to, text) {
        Ok(()) => {
            println!("  {}", to.display());
            true
        }
        Err(e) => {
            eprintln!("xtask: cannot write {}: {e}", to.display());
            false
        }
    }
}

/// Builds both libraries for this machine and installs them under `prefix`.
pub fn install(prefix: &Path) -> bool {
    let Some(arch) = ARCHES.iter().find(|a| a.name == std::env::consts::ARCH) else {
        eprintln!(
            "xtask: grt supports x86_64 and aarch64, not {}",
            std::env::consts::ARCH
        );
        return false;
    };
    if !ctests::build_lib(arch, Build::Libc) || !ctests::build_lib(arch, Build::Freestanding) {
        return false;
    }
    let lib = prefix.join("lib");
    let pc = lib.join("pkgconfig");
    println!("installing grt into {}:", prefix.display());
    // Every header under include/ (grt.h, and gc.h's tree under grt-gc/).
    let mut headers = Vec::new();
    collect_headers(Path::new("include"), Path::new(""), &mut headers);
    headers.sort();
    let ok = !headers.is_empty()
        && headers.iter().all(|h| {
            copy(
                &Path::new("include").join(h),
                &prefix.join("include").join(h),
            )
        })
        && copy(&ctests::lib_path(arch, Build::Libc), &lib.join("libgrt.a"))
        && copy(
            &ctests::lib_path(arch, Build::Freestanding),
            &lib.join("grt/freestanding/libgrt.a"),
        )
        && copy(
            Path::new("linker/freestanding.ld"),
            &lib.join("grt/freestanding.ld"),
        );
    if !ok {
        return false;
    }
    let head = format!(
        "prefix={}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n",
        prefix.display()
    );
    let v = version();
    let cflags = arch_cflags();
    // -lpthread and -ldl in Libs, not Libs.private: a static library needs them always.
    let libc_pc = format!(
        "{head}Name: grt\n\
         Description: goroutines, a CPU profiler and a concurrent garbage collector for C (libgrt.a, libc build)\n\
         Version: {v}\n\
         Cflags: -I${{includedir}} {cflags}\n\
         Libs: -L${{libdir}} -lgrt -lpthread -ldl\n"
    );
    let free_pc = format!(
        "{head}Name: grt-freestanding\n\
         Description: grt without libc: grt supplies _start, TLS and mem*, and calls main\n\
         Version: {v}\n\
         Cflags: -I${{includedir}} {cflags} -ffreestanding -fno-stack-protector -fno-pie\n\
         Libs: -nostdlib -static -no-pie -T ${{libdir}}/grt/freestanding.ld -Wl,--eh-frame-hdr ${{libdir}}/grt/freestanding/libgrt.a -lgcc\n"
    );
    let gc_pc = format!(
        "{head}Name: grt-gc\n\
         Description: bdwgc's API (gc.h) over grt, for programs written for the Boehm collector\n\
         Version: {v}\n\
         Cflags: -I${{includedir}}/grt-gc -I${{includedir}} {cflags}\n\
         Libs: -L${{libdir}} -lgrt -lpthread -ldl\n"
    );
    write(&pc.join("grt.pc"), &libc_pc)
        && write(&pc.join("grt-freestanding.pc"), &free_pc)
        && write(&pc.join("grt-gc.pc"), &gc_pc)
}

/// `cargo xtask test`'s check of the install: into a temporary prefix, then a goroutine
/// program (libc), a bdwgc program (gc.h) and a freestanding one built with nothing but
/// `pkg-config`'s flags, and run.
pub fn check_install(t: &mut Tally) {
    let name = "install: programs built through pkg-config";
    let prefix = std::env::current_dir().unwrap().join("target/install-test");
    let _ = fs::remove_dir_all(&prefix);
    if !install(&prefix) {
        t.record(name, false, "cargo xtask install failed");
        return;
    }
    let pc_path = prefix.join("lib/pkgconfig");
    let flags = |pkg: &str| -> Option<Vec<String>> {
        let out = Command::new("pkg-config")
            .args(["--cflags", "--libs", pkg])
            .env("PKG_CONFIG_PATH", &pc_path)
            .output()
            .ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(String::from)
                .collect()
        })
    };
    let progs: [(&str, &str, PathBuf); 3] = [
        ("grt", "examples/goroutines.c", prefix.join("goroutines")),
        ("grt-gc", "tests/c/gc_bdwgc.c", prefix.join("gc_bdwgc")),
        (
            "grt-freestanding",
            "tests/c/goroutines_10k.c",
            prefix.join("goroutines_10k_freestanding"),
        ),
    ];
    for (pkg, src, exe) in progs {
        let Some(f) = flags(pkg) else {
            t.record(
                name,
                false,
                &format!("pkg-config --cflags --libs {pkg} failed"),
            );
            return;
        };
        // The source first, then pkg-config's flags: a static library after the objects
        // that use it.
        let mut cmd = Command::new("cc");
        cmd.args(["-O2", src, "-o"]).arg(&exe).args(&f);
        if !run(&mut cmd) {
            t.record(name, false, &format!("{src} does not build with {pkg}.pc"));
            return;
        }
        let ok = Command::new(&exe)
            .env("GRTMAXPROCS", "4")
            .env("GRT_STRESS_MS", "300")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            t.record(name, false, &format!("{} failed", exe.display()));
            return;
        }
    }
    t.record(
        name,
        true,
        "grt.pc (a goroutine program), grt-gc.pc (a bdwgc program) and grt-freestanding.pc",
    );
}

/// The `.h` files under `root/rel`, as paths relative to `root`.
fn collect_headers(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in entries.flatten() {
        let name = rel.join(e.file_name());
        match e.file_type() {
            Ok(t) if t.is_dir() => collect_headers(root, &name, out),
            Ok(_) if name.extension().is_some_and(|x| x == "h") => out.push(name),
            _ => {}
        }
    }
}
