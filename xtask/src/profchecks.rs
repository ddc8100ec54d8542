//! Checks of the profiles the profiler tests write (`profile=CHECK` in a test's `grt-test:`
//! line): the file is read and symbolized against the test binary on the host, exactly as a
//! user's `go tool pprof` or `cargo xtask flamegraph` would, and its stacks are checked.
//!
//! | check | what must hold |
//! |---|---|
//! | `accuracy` | tests/c/prof_accuracy.c: leaf70 : leaf30 = 70 : 30 within 5 points, every sample in them called from `worker` called from `prof_main`; `go tool pprof -top` reads the file |
//! | `accuracy_fallback` | the same with 70 +- 10: tests/c/prof_setitimer.c, the process-wide setitimer fallback, whose signals go to whichever thread the kernel (or qemu) picks; under qemu-aarch64 it has come out a few points low (63-68 %) |
//! | `syscall` | tests/c/prof_syscall.c: samples of C code under `grt_cgocall` continue `c_burn, grt_cgocall, cgo_caller, cgo_main`; samples in a system call made between grt_entersyscall and grt_exitsyscall continue `sys_caller, sys_main` after the leaf |
//! | `stkbar` | tests/c/gc_race_*.c: no frame is the stack-barrier trampoline (`grt_stack_barrier`); inside the goroutine's recursion every `race_rec` is called from `race_rec` or `race_worker` (a stale barrier value would show a foreign caller); some samples walked the recursion |
//! | `any` | the file is a valid profile with samples |
//! | `valid` | the file is a valid profile (maybe without samples) |

use std::path::Path;
use std::process::Command;

use crate::pprof::Profile;
use crate::symbolize::symbolized_stacks;

type Stacks = Vec<(Vec<String>, i64)>;

/// Runs check `name` on `profile` (taken of `exe`); a one-line summary, or what is wrong.
pub fn check(name: &str, profile: &Path, exe: &Path, stdout: &str) -> Result<String, String> {
    let p = Profile::read(profile)?;
    if name == "valid" {
        return Ok(format!("valid profile, {} samples", p.sample_count()));
    }
    if p.sample_count() == 0 {
        return Err("the profile has no samples".into());
    }
    let stacks = symbolized_stacks(&p, exe)?;
    match name {
        "accuracy" => accuracy(&stacks, profile, exe, 5.0),
        "accuracy_fallback" => accuracy(&stacks, profile, exe, 10.0),
        "syscall" => syscall(&stacks),
        "stkbar" => stkbar(&stacks).map(|s| {
            // The run's own account of what it covered (collections, barriers, bursts).
            match stdout.lines().find(|l| l.starts_with("covered:")) {
                Some(c) => format!("{s}; {c}"),
                None => s,
            }
        }),
        "any" => Ok(format!("{} samples", p.sample_count())),
        _ => Err(format!("no profile check named {name:?}")),
    }
}

fn total(stacks: &Stacks, pred: impl Fn(&[String]) -> bool) -> i64 {
    stacks.iter().filter(|(s, _)| pred(s)).map(|(_, n)| n).sum()
}

/// A stack printed leaf last, as a flame graph reads.
fn show(s: &[String]) -> String {
    s.iter().rev().cloned().collect::<Vec<_>>().join(";")
}

/// Is `seq` (leaf first) found consecutively in `s`?
fn has_run(s: &[String], seq: &[&str]) -> bool {
    s.windows(seq.len())
        .any(|w| w.iter().zip(seq).all(|(a, b)| a == b))
}

fn accuracy(stacks: &Stacks, profile: &Path, exe: &Path, tolerance: f64) -> Result<String, String> {
    let mut problems = Vec::new();
    for (s, n) in stacks {
        for (i, f) in s.iter().enumerate() {
            let want: &[&str] = match f.as_str() {
                "leaf70" | "leaf30" => &["worker", "prof_main"],
                "worker" => &["prof_main"],
                _ => continue,
            };
            let got: Vec<&str> = s[i + 1..]
                .iter()
                .take(want.len())
                .map(String::as_str)
                .collect();
            if got != want {
                problems.push(format!("{n} x {}", show(s)));
            }
        }
    }
    if !problems.is_empty() {
        problems.truncate(5);
        return Err(format!(
            "samples without the chain prof_main -> worker -> leaf: {}",
            problems.join(" | ")
        ));
    }
    let l70 = total(stacks, |s| s.first().is_some_and(|f| f == "leaf70"));
    let l30 = total(stacks, |s| s.first().is_some_and(|f| f == "leaf30"));
    let both = l70 + l30;
    if both < 200 {
        return Err(format!("too few samples in the leaves: {l70} + {l30}"));
    }
    let pct = 100.0 * l70 as f64 / both as f64;
    if !(70.0 - tolerance..=70.0 + tolerance).contains(&pct) {
        return Err(format!(
            "leaf70 has {pct:.1}% of the leaf samples ({l70} of {both}); expected 70 +- {tolerance}"
        ));
    }
    let pprof = go_pprof_top(profile, exe)?;
    Ok(format!(
        "leaf70 {pct:.1}% / leaf30 {:.1}% of {both} samples; {pprof}",
        100.0 - pct
    ))
}

/// `go tool pprof -top EXE PROFILE` must name leaf70. Skips (with the reason) only when no
/// Go toolchain can be had.
fn go_pprof_top(profile: &Path, exe: &Path) -> Result<String, String> {
    if !crate::bench::ensure_go() {
        return Ok("go tool pprof: SKIPPED (golang-go is missing and cannot be installed)".into());
    }
    let out = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .arg(exe)
        .arg(profile)
        .env("PPROF_TMPDIR", std::env::temp_dir())
        .output()
        .map_err(|e| format!("cannot run go tool pprof: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.contains("leaf70") {
        return Err(format!(
            "go tool pprof -top did not name leaf70 (status {}):\n{}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok("go tool pprof -top reads it".into())
}

const CGO_CHAIN: [&str; 4] = ["c_burn", "grt_cgocall", "cgo_caller", "cgo_main"];

/// A sample in the system call: the leaf (libc's wrapper, grt's own code with its inlined
/// frames, or sys_caller itself between calls), then sys_caller from syscallpc, then its
/// caller sys_main.
fn sys_chain_ok(s: &[String]) -> bool {
    let Some(p) = s.iter().position(|f| f == "sys_caller") else {
        return false;
    };
    let rest: Vec<&str> = s[p + 1..].iter().map(String::as_str).collect();
    matches!(
        rest.as_slice(),
        ["sys_main", ..] | ["sys_caller", "sys_main", ..]
    )
}

fn syscall(stacks: &Stacks) -> Result<String, String> {
    let in_cgo = |s: &[String]| s.iter().any(|f| f == "c_burn");
    let in_sys = |s: &[String]| s.iter().any(|f| f == "sys_caller");
    let mut bad = Vec::new();
    for (s, n) in stacks {
        if (in_cgo(s) && !has_run(s, &CGO_CHAIN)) || (in_sys(s) && !sys_chain_ok(s)) {
            bad.push(format!("{n} x {}", show(s)));
        }
    }
    if !bad.is_empty() {
        bad.truncate(5);
        return Err(format!("samples with a broken chain: {}", bad.join(" | ")));
    }
    let cgo = total(stacks, in_cgo);
    let sys = total(stacks, in_sys);
    if cgo < 20 || sys < 20 {
        return Err(format!(
            "too few samples: {cgo} under grt_cgocall, {sys} in the system call"
        ));
    }
    Ok(format!(
        "{cgo} samples under grt_cgocall and {sys} in a system call, all with the goroutine's chain"
    ))
}

/// The stack-barrier race tests' profile (see the table above).
fn stkbar(stacks: &Stacks) -> Result<String, String> {
    let mut problems = Vec::new();
    let (mut walked, mut total) = (0i64, 0i64);
    for (s, n) in stacks {
        total += n;
        if s.iter().any(|f| f.contains("grt_stack_barrier")) {
            problems.push(format!("trampoline in {n} x {}", show(s)));
            continue;
        }
        // A pseudo-stack (the stack lock was held, or nothing to walk) names no caller.
        if s.last().is_some_and(|f| f == "grt.GC" || f == "grt.System") {
            continue;
        }
        let mut in_rec = false;
        for (i, f) in s.iter().enumerate() {
            if f != "race_rec" {
                continue;
            }
            in_rec = true;
            // The walk is cut at 64 frames: the last frame may be a race_rec.
            if let Some(caller) = s.get(i + 1) {
                // A leaf sampled in its prologue or epilogue may lose its caller (the first
                // step's heuristics never guess): the one missing frame allowed.
                let lost_caller = i == 0 && caller.ends_with("goroutine_main");
                if caller != "race_rec" && caller != "race_worker" && !lost_caller {
                    problems.push(format!("race_rec called from {caller}: {n} x {}", show(s)));
                    break;
                }
            }
        }
        if in_rec {
            walked += n;
        }
    }
    if !problems.is_empty() {
        problems.truncate(5);
        return Err(problems.join(" | "));
    }
    if walked == 0 {
        return Err(format!(
            "none of the {total} samples walked the goroutine's recursion"
        ));
    }
    Ok(format!(
        "{total} samples, {walked} through the recursion, no trampoline, no foreign frame"
    ))
}
