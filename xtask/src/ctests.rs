//! The test suites, the benchmark and the demo.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::setup::{self, AARCH64_TRIPLE};
use crate::util::{output, run, run_captured};

/// How integration binaries are run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// x86_64 natively, aarch64 under qemu-aarch64.
    Native,
    /// Both under QEMU user mode.
    Qemu,
}

/// One target architecture.
pub struct Arch {
    pub name: &'static str,
    pub triple: &'static str,
    pub cc: &'static str,
    pub cflags: &'static [&'static str],
}

pub const ARCHES: [Arch; 2] = [
    Arch {
        name: "x86_64",
        triple: "x86_64-unknown-linux-gnu",
        cc: "gcc",
        cflags: &[],
    },
    // Return addresses are read and rewritten by grt: no pointer authentication.
    Arch {
        name: "aarch64",
        triple: AARCH64_TRIPLE,
        cc: "aarch64-linux-gnu-gcc",
        cflags: &["-mbranch-protection=none"],
    },
];

/// Where Debian's aarch64 cross libc lives, for qemu-aarch64 -L (dynamic test binaries).
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";

impl Arch {
    /// The command prefix that runs a binary of this architecture.
    pub(crate) fn runner(&self, mode: Mode) -> Vec<String> {
        match (self.name, mode) {
            ("x86_64", Mode::Native) => vec![],
            ("x86_64", Mode::Qemu) => vec!["qemu-x86_64".into()],
            _ => vec!["qemu-aarch64".into(), "-L".into(), AARCH64_SYSROOT.into()],
        }
    }
}

/// The two builds of libgrt.a, and the test-only one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    Libc,
    Freestanding,
    /// The libc build with the `testhooks` feature (test knobs, `grt_test_*`); only the tests
    /// that ask for it (`builds=testhooks`) use it.
    Testhooks,
}

impl Build {
    fn name(self) -> &'static str {
        match self {
            Build::Libc => "libc",
            Build::Freestanding => "freestanding",
            Build::Testhooks => "testhooks",
        }
    }
    fn profile(self) -> &'static str {
        match self {
            Build::Libc => "release",
            Build::Freestanding => "freestanding",
            Build::Testhooks => "testhooks",
        }
    }
}

pub fn lib_path(arch: &Arch, build: Build) -> PathBuf {
    PathBuf::from("target")
        .join(arch.triple)
        .join(build.profile())
        .join("libgrt.a")
}

pub(crate) fn build_lib(arch: &Arch, build: Build) -> bool {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "build",
        "-q",
        "-p",
        "grt-runtime-core",
        "--target",
        arch.triple,
        "--profile",
        build.profile(),
    ]);
    match build {
        Build::Freestanding => cmd.args(["--features", "freestanding"]),
        Build::Testhooks => cmd.args(["--features", "testhooks"]),
        Build::Libc => &mut cmd,
    };
    run(&mut cmd)
}

/// Flags every C file of ours is compiled with: frame pointers everywhere (gcc 12 omits them
/// at -O2, and leaf frames even with -fno-omit-frame-pointer).
const COMMON_CFLAGS: &[&str] = &[
    "-O2",
    "-g",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fno-omit-frame-pointer",
    "-mno-omit-leaf-frame-pointer",
    "-Iinclude",
];

/// Compiles `srcs` into `out`, linked with libgrt.a of the given build.
pub fn compile_c(arch: &Arch, build: Build, srcs: &[PathBuf], out: &Path) -> bool {
    compile_c_with(arch, build, srcs, out, &[])
}

/// The same with `extra` arguments after libgrt.a (-D..., -l...).
pub fn compile_c_with(
    arch: &Arch,
    build: Build,
    srcs: &[PathBuf],
    out: &Path,
    extra: &[&str],
) -> bool {
    let mut cmd = Command::new(arch.cc);
    cmd.args(COMMON_CFLAGS).args(arch.cflags);
    if build == Build::Freestanding {
        cmd.args([
            "-ffreestanding",
            "-nostdlib",
            "-static",
            "-fno-stack-protector",
            "-fno-pie",
            "-no-pie",
        ])
        .args(["-T", "linker/freestanding.ld"])
        // The unwind tables' index (PT_GNU_EH_FRAME), which static links leave out by
        // default: grt checks frame records against them.
        .arg("-Wl,--eh-frame-hdr");
    }
    cmd.args(srcs).arg(lib_path(arch, build)).args(extra);
    match build {
        Build::Libc | Build::Testhooks => cmd.arg("-lpthread"),
        Build::Freestanding => cmd.arg("-lgcc"),
    };
    cmd.arg("-o").arg(out);
    run(&mut cmd)
}

/// What a test file says about itself in its first comment:
/// `grt-test: exit=N | signal=N  stdout="..."  stderr="..."  builds=hosted|testhooks
/// env="NAME=VALUE"  profile=CHECK  cflags="-I..."`
/// (stdout, stderr and env may repeat; env sets a variable for the run, e.g. GRTMAXPROCS).
/// `profile=CHECK`: the run gets a profile path in `GRT_TEST_PROFILE` (and in place of
/// `@PROFILE@` in env values); after a successful run the profile must pass the check of that
/// name in profchecks.rs. `profile=!CHECK`: it must fail that check (a teeth test whose
/// protection, switched off, shows only in the profile).
#[derive(Default, Debug)]
struct Expect {
    exit: Option<i32>,
    signal: Option<i32>,
    stdout: Vec<String>,
    stderr: Vec<String>,
    hosted_only: bool,
    testhooks_only: bool,
    env: Vec<(String, String)>,
    profile: Option<String>,
    /// Extra compiler flags (`cflags="-Iinclude/grt-gc"`).
    cflags: Vec<String>,
}

fn parse_expect(src: &str) -> Option<Expect> {
    let line = src.lines().find(|l| l.contains("grt-test:"))?;
    let mut rest = &line[line.find("grt-test:")? + 9..];
    let mut e = Expect::default();
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        rest = &rest[eq + 1..];
        let value;
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"')?;
            value = r[..end].to_string();
            rest = &r[end + 1..];
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = rest[..end].to_string();
            rest = &rest[end..];
        }
        match key {
            "exit" => e.exit = value.parse().ok(),
            "signal" => e.signal = value.parse().ok(),
            "stdout" => e.stdout.push(value),
            "stderr" => e.stderr.push(value),
            "builds" => {
                e.hosted_only = value == "hosted";
                e.testhooks_only = value == "testhooks";
            }
            "profile" => e.profile = Some(value),
            "cflags" => e.cflags.extend(value.split_whitespace().map(String::from)),
            "env" => {
                let (name, val) = value.split_once('=')?;
                if name.is_empty() {
                    return None;
                }
                e.env.push((name.to_string(), val.to_string()));
            }
            _ => return None,
        }
    }
    (e.exit.is_some() != e.signal.is_some()).then_some(e)
}

/// Counts of one run of the suites.
#[derive(Default)]
pub struct Tally {
    passed: usize,
    failed: usize,
    failures: Vec<String>,
}

impl Tally {
    pub(crate) fn record(&mut self, name: &str, ok: bool, why: &str) {
        if ok {
            self.passed += 1;
            if why.is_empty() {
                println!("PASS {name}");
            } else {
                println!("PASS {name}: {why}");
            }
        } else {
            self.failed += 1;
            println!("FAIL {name}: {why}");
            self.failures.push(name.to_string());
        }
    }
}

/// Host unit tests (cargo test) for one architecture; adds cargo's own counts.
fn unit_tests(arch: &Arch, mode: Mode, t: &mut Tally) {
    let mut cmd = Command::new("cargo");
    cmd.args([
        "test",
        "-q",
        "-p",
        "grt-arch",
        "-p",
        "grt-runtime-core",
        "--target",
        arch.triple,
    ]);
    if arch.name == "x86_64" {
        // The host tools' own tests (profile decoding, symbolization, flame graphs).
        cmd.args(["-p", "xtask"]);
    }
    let runner = arch.runner(mode);
    if !runner.is_empty() {
        let var = format!(
            "CARGO_TARGET_{}_RUNNER",
            arch.triple.to_uppercase().replace('-', "_")
        );
        cmd.env(var, runner.join(" "));
    }
    eprintln!("$ {}", crate::util::show(&cmd));
    let out = cmd.output().expect("cargo test");
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let mut any = false;
    for line in text.lines().filter(|l| l.starts_with("test result:")) {
        any = true;
        let num = |word: &str| -> usize {
            line.split(';')
                .find(|p| p.contains(word))
                .and_then(|p| {
                    p.split_whitespace()
                        .rev()
                        .nth(1)
                        .and_then(|n| n.parse().ok())
                })
                .unwrap_or(0)
        };
        t.passed += num("passed");
        t.failed += num("failed");
    }
    if !out.status.success() || !any {
        t.record(
            &format!("unit tests [{}]", arch.name),
            false,
            "cargo test failed",
        );
    }
}

/// Whether libgrt.a exports `name` for itself: [`INTERNAL_SYMBOLS`], and the `grt_asm_*`
/// markers that bound each assembly file's code (`arch::in_grt_asm`).
fn is_internal(name: &str) -> bool {
    INTERNAL_SYMBOLS.contains(&name) || name.starts_with("grt_asm_")
}

/// Symbols libgrt.a exports for its own assembly and start-up, not for C programs.
const INTERNAL_SYMBOLS: &[&str] = &[
    "grt_context_entry", // first frame of a new context (asm); C tests check return addresses against it
    "grt_context_exit",  // called by grt_context_entry when an entry function returns
    "grt_switch_core", // the runtime's switch (asm, hidden): parked frames name it as their callee
    "grt_sigreturn",   // signal restorer
    "grt_sigtramp",    // signal handler trampoline (asm)
    "grt_sighandler",  // Rust side of grt_sigtramp
    "grt_entersyscall_impl", // Rust side of grt_entersyscall (asm passes the caller's registers)
    "grt_cgocall_enter", // Rust halves of grt_cgocall (asm switches stacks between them)
    "grt_cgocall_exit",
    "grt_call_spilled", // self-stops and parked waits (asm, hidden): spills the registers
    "grt_clone",        // raw clone (asm)
    "grt_tls",          // the per-thread g/m slots (TLS object)
    "grt_start_c",      // freestanding process start
    "grt_stack_barrier", // the stack-barrier trampoline (asm): only its address is used
    "grt_stack_barrier_end", // the end of its code, for "is this pc in the trampoline"
    "grt_stack_barrier_hit", // the instruction after its store to stkbar_pos
    "grt_stack_barrier_bad", // its failure path's Rust side (a fatal error)
    "grt_stkbar_nojumps", // its test-only switch (hidden; GRTDEBUG=gcnojumps=1)
    "grt_async_preempt_impl", // the preemption stub's Rust side (asm calls it)
    "grt_async_preempt_stub", // the preemption stub (asm, hidden): only its address is used
    "grt_async_preempt_stub_end", // the end of its code
];

/// Every `grt_*` function in grt.h is defined in libgrt.a, and every exported `grt_*` symbol
/// is declared in grt.h or listed as internal.
fn header_check(arch: &Arch, build: Build) -> Result<(), String> {
    let header = fs::read_to_string("include/grt.h").map_err(|e| e.to_string())?;
    let mut declared = BTreeSet::new();
    for line in header.lines().map(str::trim) {
        if line.starts_with("/*")
            || line.starts_with('*')
            || line.starts_with("#")
            || line.starts_with("typedef")
        {
            continue;
        }
        // Every `grt_name(` of the line (a return type may be grt's too: `grt_weak *grt_weak_make(`).
        let mut from = 0;
        while let Some(p) = line[from..].find("grt_").map(|p| p + from) {
            let name: String = line[p..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = line[p + name.len()..].trim_start();
            if after.starts_with('(') || (line.starts_with("extern ") && after.starts_with(';')) {
                declared.insert(name.clone());
            }
            from = p + name.len();
        }
    }
    let nm = output(
        Command::new("nm")
            .args(["--defined-only", "-g"])
            .arg(lib_path(arch, build)),
    )
    .ok_or("nm failed")?;
    let mut defined = BTreeSet::new();
    for line in nm.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 3 && f[2].starts_with("grt_") && f[1] != "U" {
            defined.insert(f[2].to_string());
        }
    }
    let missing: Vec<_> = declared.iter().filter(|d| !defined.contains(*d)).collect();
    let undeclared: Vec<_> = defined
        .iter()
        .filter(|d| !declared.contains(*d) && !is_internal(d))
        .collect();
    if declared.is_empty() {
        return Err("no declarations found in grt.h".into());
    }
    if !missing.is_empty() || !undeclared.is_empty() {
        return Err(format!("declared in grt.h but not exported: {missing:?}; exported but not in grt.h: {undeclared:?}"));
    }
    Ok(())
}

/// The `.c` files of `dir` (tests/c or examples) whose name contains GRT_TEST_FILTER.
fn c_files(dir: &str) -> Vec<PathBuf> {
    let filter = std::env::var("GRT_TEST_FILTER").unwrap_or_default();
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect(dir)
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        // A test's shared library (`x_lib.c`, see run_c_test) is not a test.
        .filter(|p| !p.file_stem().unwrap().to_string_lossy().ends_with("_lib"))
        .filter(|p| p.file_stem().unwrap().to_string_lossy().contains(&filter))
        .collect();
    v.sort();
    v
}

/// Builds and runs one C test (tests/c/*.c or examples/*.c); returns (ok, why).
fn run_c_test(arch: &Arch, build: Build, mode: Mode, src: &Path) -> (bool, String) {
    let text = fs::read_to_string(src).unwrap();
    let Some(expect) = parse_expect(&text) else {
        return (false, "no valid `grt-test:` line".into());
    };
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let mut dir = PathBuf::from("target/ctests")
        .join(arch.name)
        .join(build.name());
    if src.starts_with("examples") {
        dir = dir.join("examples"); // examples/select.c and tests/c/select.c both exist
    }
    fs::create_dir_all(&dir).unwrap();
    let exe = dir.join(&stem);
    let mut srcs = vec![src.to_path_buf()];
    // A test's assembly helper; its `_teeth` twins (`x_teeth`, `x_teeth_why`) share it.
    let base = stem.split("_teeth").next().unwrap_or(&stem);
    let helper = src.with_file_name(format!("{base}_{}.S", arch.name));
    if helper.exists() {
        srcs.push(helper);
    }
    // A test's shared library (`x_lib.c`, shared by its `_teeth` twins; hosted builds):
    // built as `libx_lib.so` beside the binary, whose path the run gets in GRT_TEST_LIB (the
    // test dlopens it).
    let lib_src = src.with_file_name(format!("{base}_lib.c"));
    let mut lib_env = None;
    if lib_src.exists() && build != Build::Freestanding {
        let so = std::env::current_dir()
            .unwrap()
            .join(&dir)
            .join(format!("lib{base}_lib.so"));
        let mut cmd = Command::new(arch.cc);
        cmd.args(COMMON_CFLAGS)
            .args(arch.cflags)
            .args(["-shared", "-fPIC"])
            .arg(&lib_src)
            .arg("-o")
            .arg(&so);
        if !run(&mut cmd) {
            return (false, "its shared library does not compile".into());
        }
        lib_env = Some(format!("GRT_TEST_LIB={}", so.display()));
    }
    let mut extra: Vec<&str> = expect.cflags.iter().map(String::as_str).collect();
    if lib_env.is_some() {
        extra.push("-ldl");
    }
    if !compile_c_with(arch, build, &srcs, &exe, &extra) {
        return (false, "does not compile".into());
    }
    // `env NAME=VALUE ... [qemu-aarch64 -L ...] exe`: qemu user mode hands its own
    // environment to the guest, so the variables reach the test under QEMU too.
    let mut argv = Vec::new();
    let profile = dir.join(format!("{stem}.pprof"));
    let mut env: Vec<String> = expect
        .env
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace("@PROFILE@", &profile.to_string_lossy())))
        .collect();
    env.extend(lib_env);
    if expect.profile.is_some() {
        let _ = fs::remove_file(&profile);
        env.push(format!("GRT_TEST_PROFILE={}", profile.display()));
    }
    if !env.is_empty() {
        argv.push("env".to_string());
        argv.extend(env);
    }
    argv.extend(arch.runner(mode));
    argv.push(exe.to_string_lossy().into_owned());
    let out = match run_captured(&argv, Duration::from_secs(300)) {
        Ok(o) => o,
        Err(e) => return (false, format!("cannot run: {e}")),
    };
    let mut why = Vec::new();
    if out.timed_out {
        why.push("timed out".to_string());
    }
    if expect.exit.is_some() && out.code != expect.exit {
        why.push(format!(
            "exit {:?} signal {:?}, expected exit {:?}",
            out.code,
            out.signal,
            expect.exit.unwrap()
        ));
    }
    if expect.signal.is_some() && out.signal != expect.signal {
        why.push(format!(
            "exit {:?} signal {:?}, expected signal {:?}",
            out.code,
            out.signal,
            expect.signal.unwrap()
        ));
    }
    for s in &expect.stdout {
        if !out.stdout.contains(s.as_str()) {
            why.push(format!("stdout lacks {s:?}"));
        }
    }
    for s in &expect.stderr {
        if !out.stderr.contains(s.as_str()) {
            why.push(format!("stderr lacks {s:?}"));
        }
    }
    let mut note = String::new();
    if let (Some(check), true) = (&expect.profile, why.is_empty()) {
        match check.strip_prefix('!') {
            None => match crate::profchecks::check(check, &profile, &exe, &out.stdout) {
                Ok(summary) => note = summary,
                Err(e) => why.push(format!("profile check {check:?}: {e}")),
            },
            Some(c) => match crate::profchecks::check(c, &profile, &exe, &out.stdout) {
                Ok(summary) => why.push(format!(
                    "profile check {c:?} passed, and it must fail here: {summary}"
                )),
                Err(e) => note = format!("profile check {c:?} failed, as it must: {e}"),
            },
        }
    }
    if why.is_empty() {
        (true, note)
    } else {
        (false, format!("{}{}", why.join("; "), out.tail()))
    }
}

pub fn run_all(mode: Mode) -> bool {
    if !setup::ensure() {
        println!("0 passed, 1 failed");
        return false;
    }
    let mut t = Tally::default();
    if mode == Mode::Native {
        for arch in &ARCHES {
            unit_tests(arch, mode, &mut t);
        }
    }
    for arch in &ARCHES {
        for build in [Build::Libc, Build::Freestanding, Build::Testhooks] {
            let label = format!("libgrt.a [{} {}]", arch.name, build.name());
            if !build_lib(arch, build) {
                t.record(&format!("build {label}"), false, "cargo build failed");
                continue;
            }
            // The test-only build exports grt_test_* on purpose.
            if build != Build::Testhooks {
                match header_check(arch, build) {
                    Ok(()) => t.record(&format!("grt.h matches exports of {label}"), true, ""),
                    Err(e) => t.record(&format!("grt.h matches exports of {label}"), false, &e),
                }
            }
            let how = match (arch.name, mode) {
                ("x86_64", Mode::Native) => "native",
                _ => "qemu",
            };
            for src in c_files("tests/c") {
                let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
                let expect = fs::read_to_string(&src).ok().and_then(|s| parse_expect(&s));
                let hosted_only = expect.as_ref().is_some_and(|e| e.hosted_only);
                let testhooks_only = expect.as_ref().is_some_and(|e| e.testhooks_only);
                if (build == Build::Freestanding && hosted_only)
                    || (build == Build::Testhooks) != testhooks_only
                {
                    continue;
                }
                let (ok, why) = run_c_test(arch, build, mode, &src);
                t.record(
                    &format!("{stem} [{} {} {how}]", arch.name, build.name()),
                    ok,
                    &why,
                );
            }
            // The code-shape corpus (tests/corpus/): gcc and clang, -O0/-O2/-O3; the libc
            // build with test hooks (its driver asks for asynchronous preemptions).
            if build == Build::Testhooks
                && "corpus".contains(&std::env::var("GRT_TEST_FILTER").unwrap_or_default())
            {
                crate::corpus::run_all(arch, mode, how, &mut t);
            }
            // The examples are ordinary libc programs: libc build only.
            if build == Build::Libc {
                for src in c_files("examples") {
                    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
                    let (ok, why) = run_c_test(arch, build, mode, &src);
                    t.record(
                        &format!("examples/{stem} [{} {} {how}]", arch.name, build.name()),
                        ok,
                        &why,
                    );
                }
            }
        }
    }
    // grt installed like a C library, and programs built through pkg-config alone (this
    // machine's architecture, natively).
    if mode == Mode::Native
        && "install".contains(&std::env::var("GRT_TEST_FILTER").unwrap_or_default())
    {
        crate::install::check_install(&mut t);
    }
    if !t.failures.is_empty() {
        println!("\nfailed:");
        for f in &t.failures {
            println!("  {f}");
        }
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    t.failed == 0
}

/// `cargo xtask bench`: the bench binary (tests/bench) natively, and under qemu-aarch64 for
/// the record (emulated figures say nothing about hardware speed; only ratios are printed).
pub fn bench() -> bool {
    if !setup::ensure() {
        return false;
    }
    let mut ok = true;
    for arch in &ARCHES {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "build",
            "-q",
            "--release",
            "-p",
            "grt-bench",
            "--target",
            arch.triple,
        ]);
        if !run(&mut cmd) {
            return false;
        }
        let exe = PathBuf::from("target")
            .join(arch.triple)
            .join("release/grt-bench");
        let mut argv = arch.runner(Mode::Native);
        let label = if argv.is_empty() {
            "native"
        } else {
            "under qemu-aarch64 (emulated)"
        };
        println!("\n== {} {label}", arch.name);
        argv.push(exe.to_string_lossy().into_owned());
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        ok &= run(&mut c);
    }
    ok
}

/// `cargo xtask demo`: build libgrt.a for this machine and run examples/demo.c (goroutines,
/// channels and a blocking system call together).
pub fn demo() -> bool {
    let arch = &ARCHES[0];
    if !build_lib(arch, Build::Libc) {
        return false;
    }
    fs::create_dir_all("target/examples").unwrap();
    let exe = PathBuf::from("target/examples/demo");
    if !compile_c(arch, Build::Libc, &[PathBuf::from("examples/demo.c")], &exe) {
        return false;
    }
    // The whole run is profiled (GRTPROF), then drawn as a flame graph.
    let profile = PathBuf::from("target/examples/demo.pprof");
    let _ = fs::remove_file(&profile);
    println!();
    let ran = run(Command::new(&exe)
        .env("GRTPROF", &profile)
        .env("GRTPROFHZ", "1000"));
    if !ran {
        return false;
    }
    println!(
        "\nCPU profile of the run (GRTPROF=..., 1000 Hz): {}",
        profile.display()
    );
    let ok = crate::flamegraph::run(&profile, &exe, None);
    println!(
        "read it with: go tool pprof -top {} {}",
        exe.display(),
        profile.display()
    );
    ok
}
