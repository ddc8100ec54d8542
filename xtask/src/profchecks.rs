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
//! | `sibcall` | tests/c/gc_sibcall.c: no trampoline; every frame of the test's own functions has its real caller (`step` from `tail_caller`, `tail_callee` from `outer`: `tail_caller` is gone once it sibling-called, `outer` from `worker`); some samples are inside `tail_callee` |
//! | `fpless` | tests/c/gc_fpless.c: `cb` is called from `fpless_call` (frame-pointer-less, its frame-pointer register pointing at a buffer that looks like a frame record), which is called from `outer`: the walk goes on through it by its unwind table, every time, and a data word is never reported as a caller |
//! | `fpless_window` | tests/c/prof_fpless_window.c: every sample in `fw_in` (a barriered function called from frame-pointer-less code, its record complete) or `fw_ret` (the same at its `ret`, the record popped) goes on `fw_fpless`, `fw_outer`, `target`, the goroutine's entry; both have samples |
//! | `windows` | tests/c/gc_windows.c: samples in each epilogue or sibling-call window name `win_caller` as the window function's caller (a sibling callee's too: the frame that called it is gone), never the trampoline |
//! | `async` | tests/c/gc_async.c: no trampoline and no preemption stub (`grt_async_preempt_stub`) in any sample; `aspin` is called from `arec`, `arec` from `arec` or `aworker`, `aworker` from `worker`, `worker` from the goroutine's entry (a sample in a preempted goroutine's yield goes on from the interrupted pc); some samples are in `aspin` |
//! | `longjmp` | tests/c/gc_longjmp.c: no trampoline; `holder` is called from `jumper`, `jumper` from `outer`, `level` from `level` or `jumper` (the walks pass over the barriers the longjmp skipped); some samples are in `holder` |
//! | `gc` | tests/c/prof_gc.c: at least half of the samples are the collector thread's, `[pc, grt.GC]`, and at least half of those have their pc in grt's own code (the collector's CPU time shows in the profile) |
//! | `corpus` | tests/corpus/ (xtask/src/corpus.rs): no trampoline and no frame that is no code (a data word taken for a return address); `level`'s caller is a shape, a comparator, `nofp_level` or `worker`; a shape's caller (and `nofp_level`'s, which keeps no frame record: the walk goes through it by its unwind table) is `level` or, where `level` made a sibling call to it, what called `level`; a comparator is called from the library, and the library's frame-pointer-less frames lead back to the shape that called it (a walk never ends inside them, unless the sample's 64 frames end first); `worker` from the goroutine's entry; some samples are in the comparators' descent |
//! | `any` | the file is a valid profile with samples |
//! | `valid` | the file is a valid profile (maybe without samples) |

use std::path::Path;
use std::process::Command;

use crate::pprof::Profile;
use crate::symbolize::symbolized_stacks;

type Stacks = Vec<(Vec<String>, i64)>;

/// Frames a sample keeps at most (profbuf.rs's MAX_STACK).
const SAMPLE_FRAMES: usize = 64;

/// The function that calls a goroutine's entry function, wherever its module lies in the
/// runtime (symbolized as `grt::<path>::goroutine_main`; `check` renames it to this).
const GOROUTINE_ENTRY: &str = "grt::goroutine_main";

/// Runs check `name` on `profile` (taken of `exe`); a one-line summary, or what is wrong.
pub fn check(name: &str, profile: &Path, exe: &Path, stdout: &str) -> Result<String, String> {
    let p = Profile::read(profile)?;
    if name == "valid" {
        return Ok(format!("valid profile, {} samples", p.sample_count()));
    }
    if p.sample_count() == 0 {
        return Err("the profile has no samples".into());
    }
    let mut stacks = symbolized_stacks(&p, exe)?;
    for (st, _) in stacks.iter_mut() {
        for f in st.iter_mut() {
            if f.starts_with("grt::") && f.ends_with("::goroutine_main") {
                *f = GOROUTINE_ENTRY.to_string();
            }
        }
    }
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
        "sibcall" => callers(
            &stacks,
            &[
                ("step", &["tail_caller"]),
                ("tail_callee", &["outer"]),
                ("tail_caller", &["outer"]),
                ("outer", &["worker"]),
                ("worker", &[GOROUTINE_ENTRY]),
            ],
            "tail_callee",
        )
        .map(
            |s| match stdout.lines().find(|l| l.starts_with("covered:")) {
                Some(c) => format!("{s}; {c}"),
                None => s,
            },
        ),
        "fpless" => callers(
            &stacks,
            &[
                ("cb", &["fpless_call"]),
                ("fpless_call", &["outer"]),
                ("outer", &["worker"]),
                ("worker", &[GOROUTINE_ENTRY]),
            ],
            "cb",
        )
        .and_then(|s| {
            // Through the frame-pointer-less frame, every time: nothing ends at it.
            let mut cut = Vec::new();
            for (st, n) in &stacks {
                // A pseudo-stack ([pc, grt.GC]: the stack lock was held) names no callers.
                if st
                    .last()
                    .is_some_and(|f| f == "grt.GC" || f == "grt.System")
                {
                    continue;
                }
                if let Some(i) = st.iter().position(|f| f == "fpless_call") {
                    if !has_run(
                        &st[i..],
                        &["fpless_call", "outer", "worker", GOROUTINE_ENTRY],
                    ) {
                        cut.push(format!("{n} x {}", show(st)));
                    }
                }
            }
            cut.truncate(5);
            if cut.is_empty() {
                Ok(format!("{s}; every walk went on through fpless_call"))
            } else {
                Err(format!(
                    "walks that did not go on through fpless_call: {}",
                    cut.join(" | ")
                ))
            }
        }),
        "windows" => callers(
            &stacks,
            &[
                ("win_post", &["win_caller"]),
                ("win_offset", &["win_caller"]),
                ("win_sib_callee_b", &["win_caller"]),
                ("win_sib_callee_stp", &["win_caller"]),
                ("win_sib_callee_in", &["win_caller"]),
                ("win_cfi", &["win_caller"]),
                ("win_tail", &["win_caller"]),
                ("win_caller", &["target"]),
                ("target", &[GOROUTINE_ENTRY]),
            ],
            "win_sib_callee_in",
        )
        .and_then(|s| {
            // Described by unwind rows: not even the leaf's own caller may be missing.
            let t = through(
                &stacks,
                &["win_cfi", "win_caller", "target", GOROUTINE_ENTRY],
            )?;
            Ok(format!("{s}; {t}"))
        }),
        "fpless_window" => {
            let mut out = Vec::new();
            for leaf in ["fw_in", "fw_ret"] {
                out.push(through(
                    &stacks,
                    &[leaf, "fw_fpless", "fw_outer", "target", GOROUTINE_ENTRY],
                )?);
            }
            Ok(out.join("; "))
        }
        "async" => callers(
            &stacks,
            &[
                ("aspin", &["arec"]),
                ("arec", &["arec", "aworker"]),
                ("aworker", &["worker"]),
                ("worker", &[GOROUTINE_ENTRY]),
            ],
            "aspin",
        )
        .map(
            |s| match stdout.lines().find(|l| l.starts_with("covered:")) {
                Some(c) => format!("{s}; {c}"),
                None => s,
            },
        ),
        "longjmp" => callers(
            &stacks,
            &[
                ("holder", &["jumper"]),
                ("jumper", &["outer"]),
                ("level", &["level", "jumper"]),
                ("outer", &["worker"]),
                ("worker", &[GOROUTINE_ENTRY]),
            ],
            "holder",
        )
        .map(
            |s| match stdout.lines().find(|l| l.starts_with("covered:")) {
                Some(c) => format!("{s}; {c}"),
                None => s,
            },
        ),
        "gc" => gc(&stacks),
        "corpus" => corpus(&stacks),
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

/// Every sample that has `run[0]` goes on with the rest of `run` (leaf first) from there, and
/// some do. Pseudo-stacks (`[pc, grt.GC]` while the stack lock was held) name no callers.
fn through(stacks: &Stacks, run: &[&str]) -> Result<String, String> {
    let (mut seen, mut cut) = (0i64, Vec::new());
    for (s, n) in stacks {
        let Some(i) = s.iter().position(|f| f == run[0]) else {
            continue;
        };
        if s.last().is_some_and(|f| f == "grt.GC" || f == "grt.System") {
            continue;
        }
        seen += n;
        if !has_run(&s[i..], run) {
            cut.push(format!("{n} x {}", show(s)));
        }
    }
    cut.truncate(5);
    if !cut.is_empty() {
        return Err(format!(
            "walks from {} that did not go on through {}: {}",
            run[0],
            run[1..].join(", "),
            cut.join(" | ")
        ));
    }
    if seen == 0 {
        return Err(format!("no sample is in {}", run[0]));
    }
    Ok(format!(
        "{seen} samples in {}, every one through {}",
        run[0], run[1]
    ))
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

/// Whether a sample has no callers to check: it names the trampoline (a problem, recorded)
/// or is a pseudo-stack (the stack lock was held, or nothing to walk: it names no caller).
fn nothing_to_check(s: &[String], n: i64, problems: &mut Vec<String>) -> bool {
    if s.iter().any(|f| f.contains("grt_stack_barrier")) {
        problems.push(format!("trampoline in {n} x {}", show(s)));
        return true;
    }
    if s.iter().any(|f| f.contains("grt_async_preempt_stub")) {
        problems.push(format!("preemption stub in {n} x {}", show(s)));
        return true;
    }
    s.last().is_some_and(|f| f == "grt.GC" || f == "grt.System")
}

/// At most five of the problems found, or Ok.
fn verdict(mut problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        return Ok(());
    }
    problems.truncate(5);
    Err(problems.join(" | "))
}

/// No sample names the trampoline, and each function of `want` (leaf first in a stack) is
/// called from one of the callers it lists. A leaf sampled in its prologue or epilogue may
/// lose its own caller (the first step from a signal never guesses): then its next frame
/// must be a caller of one of its callers. The leaf is the first frame, or the second when
/// the first is a function inlined into it (the symbolizer gives both for one pc).
/// `must` must appear in some sample.
fn callers(stacks: &Stacks, want: &[(&str, &[&str])], must: &str) -> Result<String, String> {
    let callers_of = |f: &str| want.iter().find(|(g, _)| *g == f).map(|(_, c)| *c);
    let mut problems = Vec::new();
    let (mut total, mut seen) = (0i64, 0i64);
    for (s, n) in stacks {
        total += n;
        if nothing_to_check(s, *n, &mut problems) {
            continue;
        }
        if s.iter().any(|f| f == must) {
            seen += n;
        }
        for (i, f) in s.iter().enumerate() {
            let (Some(ok), Some(caller)) = (callers_of(f), s.get(i + 1)) else {
                continue;
            };
            // The leaf, or the pc a preempted goroutine was interrupted at (its walk takes
            // the same first step from the moved signal frame).
            let leafish = i <= 1 || s[i - 1] == "grt_async_preempt_impl";
            let one_lost = leafish
                && ok
                    .iter()
                    .any(|c| callers_of(c).is_some_and(|cc| cc.contains(&caller.as_str())));
            if !ok.contains(&caller.as_str()) && !one_lost {
                problems.push(format!("{f} called from {caller}: {n} x {}", show(s)));
                break;
            }
        }
    }
    verdict(problems)?;
    if seen == 0 {
        return Err(format!("none of the {total} samples is in {must}"));
    }
    Ok(format!(
        "{total} samples, {seen} in {must}, no trampoline, every caller the real one"
    ))
}

/// tests/corpus/ (see the table above).
fn corpus(stacks: &Stacks) -> Result<String, String> {
    let ours = |f: &str| {
        f == "level"
            || f == "worker"
            || f == "nofp_level"
            || f.starts_with("shape_")
            || f.starts_with("cmp_")
    };
    // What may call `f`: `level` is a dispatcher whose cases are tail calls at -O2, so a
    // shape's caller is `level` or whatever called `level`.
    let calls_level = |c: &str| {
        c.starts_with("shape_") || c.starts_with("cmp_") || c == "nofp_level" || c == "worker"
    };
    let ok = |f: &str, c: &str| -> bool {
        if f == "level" || f.starts_with("shape_") || f == "nofp_level" {
            c == "level" || calls_level(c)
        } else if f.starts_with("cmp_") {
            !ours(c)
        } else if f == "worker" {
            c == GOROUTINE_ENTRY
        } else {
            true
        }
    };
    let mut problems = Vec::new();
    let (mut total, mut in_cmp) = (0i64, 0i64);
    for (s, n) in stacks {
        total += n;
        if nothing_to_check(s, *n, &mut problems) {
            continue;
        }
        // An address outside every mapping, named by its address: a word that is no code.
        if s.iter().skip(1).any(|f| f.starts_with("0x")) {
            problems.push(format!("a frame that is no code: {n} x {}", show(s)));
            continue;
        }
        if s.iter().any(|f| f.starts_with("cmp_")) {
            in_cmp += n;
        }
        for (i, f) in s.iter().enumerate() {
            let Some(c) = s.get(i + 1) else { break };
            if !ours(f) || ok(f, c) {
                continue;
            }
            // The leaf (or the function it is inlined into) may have lost its caller.
            let one_lost = i <= 1 && (ours(c) || c == GOROUTINE_ENTRY);
            if !one_lost {
                problems.push(format!("{f} called from {c}: {n} x {}", show(s)));
                break;
            }
        }
        // After a comparator, the library's frames lead back to the shape that called it
        // (when the walk gets that far).
        for (i, f) in s.iter().enumerate() {
            let want = match f.as_str() {
                "cmp_qsort" => "shape_qsort",
                "cmp_bsearch" => "shape_bsearch",
                _ => continue,
            };
            match s[i + 1..].iter().find(|g| ours(g)) {
                Some(next_ours) if next_ours != want => {
                    problems.push(format!("{f} reached from {next_ours}: {n} x {}", show(s)));
                }
                // Library frames after the comparator and nothing after them, though the
                // sample's frames had not run out (64, more with inlined frames shown): the
                // walk did not get through the frame-pointer-less frames.
                None if s.len() < SAMPLE_FRAMES && s.len() > i + 1 => {
                    problems.push(format!(
                        "{f}: the walk ended in the library: {n} x {}",
                        show(s)
                    ));
                }
                _ => {}
            }
        }
    }
    verdict(problems)?;
    if in_cmp == 0 {
        return Err(format!("none of the {total} samples is under a comparator"));
    }
    Ok(format!(
        "{total} samples, {in_cmp} under a library comparator, no trampoline, no data word, every caller a real one"
    ))
}

/// tests/c/prof_gc.c (see the table above).
fn gc(stacks: &Stacks) -> Result<String, String> {
    // [pc, grt.GC], the pc's inlined frames expanded by the symbolizer.
    let is_gc = |s: &[String]| s.last().is_some_and(|f| f == "grt.GC");
    let gc = total(stacks, is_gc);
    let all = total(stacks, |_| true);
    let in_grt = total(stacks, |s| {
        is_gc(s)
            && s.iter()
                .any(|f| f.starts_with("grt::") || f.starts_with("<grt::"))
    });
    if gc * 2 < all {
        return Err(format!(
            "only {gc} of {all} samples are the collector's (grt.GC)"
        ));
    }
    if in_grt * 2 < gc {
        return Err(format!(
            "only {in_grt} of the collector's {gc} samples have a pc in grt's code"
        ));
    }
    Ok(format!(
        "{gc} of {all} samples are the collector's (grt.GC), {in_grt} of them with a pc in grt's code"
    ))
}

/// The stack-barrier race tests' profile (see the table above).
fn stkbar(stacks: &Stacks) -> Result<String, String> {
    let mut problems = Vec::new();
    let (mut walked, mut total) = (0i64, 0i64);
    for (s, n) in stacks {
        total += n;
        if nothing_to_check(s, *n, &mut problems) {
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
    verdict(problems)?;
    if walked == 0 {
        return Err(format!(
            "none of the {total} samples walked the goroutine's recursion"
        ));
    }
    Ok(format!(
        "{total} samples, {walked} through the recursion, no trampoline, no foreign frame"
    ))
}
