//! `cargo xtask bench net`: grt's network poller against Go's, x86_64 natively, Go beside
//! grt in the same run (Go's programs: tests/bench/go/net/net.go; grt's:
//! tests/bench/c/net_bench.c and examples/httpd.c).
//!
//! 1. Hand-off (GRTMAXPROCS=GOMAXPROCS=1): the time from one goroutine starting to wait on an
//!    empty pipe until another runnable goroutine runs: grt's poller (`grt_read`), grt's
//!    `grt_entersyscall` read (sysmon must retake the P), Go's `os.File.Read`. Mean and
//!    longest, median over HANDOFF_RUNS processes each, alternating. Goal: poller <= 1.0x Go.
//! 2. A real client: `wrk` (Debian's package, installed when missing and root) against
//!    examples/httpd.c and the same server in Go, 100 and 1,000 keep-alive connections,
//!    WRK_SECS seconds a run, WRK_ROUNDS rounds alternating: requests per second and p99
//!    latency, medians, and the ratios. Goal: grt >= 1.0x Go in requests/s, <= 1.0x in p99.
//!    Both servers run with the default procs (every CPU), on the same machine as wrk.
//! 3. IDLE_CONNS idle connections held open to each server (by net_bench idle_clients, a
//!    separate process): the server's threads and RSS, from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ctests::{self, Build, ARCHES};
use crate::setup;
use crate::util::run_ok;

const OUT_DIR: &str = "target/net-bench";
const HANDOFF_ITERS: u64 = 200_000;
const HANDOFF_SYSCALL_ITERS: u64 = 5_000;
const HANDOFF_RUNS: usize = 5;
const WRK_SECS: u64 = 3;
const WRK_ROUNDS: usize = 3;
const IDLE_CONNS: usize = 10_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The value of `key=` in a line of `stdout` that starts with `name`.
fn field(stdout: &str, name: &str, key: &str) -> Option<f64> {
    let line = stdout.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key))?
        .parse()
        .ok()
}

struct Programs {
    grt_bench: PathBuf,
    grt_httpd: PathBuf,
    go_net: PathBuf,
}

fn build(out: &Path) -> Option<Programs> {
    let arch = &ARCHES[0];
    if !ctests::build_lib(arch, Build::Libc) {
        return None;
    }
    std::fs::create_dir_all(out).ok()?;
    let grt_bench = out.join("net_bench");
    let grt_httpd = out.join("httpd");
    if !ctests::compile_c(
        arch,
        Build::Libc,
        &[PathBuf::from("tests/bench/c/net_bench.c")],
        &grt_bench,
    ) || !ctests::compile_c(
        arch,
        Build::Libc,
        &[PathBuf::from("examples/httpd.c")],
        &grt_httpd,
    ) {
        return None;
    }
    let go_net = out.join("go_net");
    if !crate::bench::go_build("./net", &go_net, out) {
        return None;
    }
    Some(Programs {
        grt_bench,
        grt_httpd,
        go_net,
    })
}

fn handoff(p: &Programs) -> bool {
    println!(
        "\n  hand-off: a goroutine starts waiting on an empty pipe -> another runnable goroutine runs (GRTMAXPROCS=GOMAXPROCS=1)"
    );
    println!("  median of {HANDOFF_RUNS} processes each, alternating:");
    let sides: [(&str, &Path, &str, u64); 3] = [
        ("grt poller", &p.grt_bench, "handoff_poll", HANDOFF_ITERS),
        ("Go", &p.go_net, "handoff", HANDOFF_ITERS),
        (
            "grt syscall",
            &p.grt_bench,
            "handoff_syscall",
            HANDOFF_SYSCALL_ITERS,
        ),
    ];
    let mut means = vec![Vec::new(); 3];
    let mut maxes = vec![Vec::new(); 3];
    for _ in 0..HANDOFF_RUNS {
        for (i, (name, exe, mode, iters)) in sides.iter().enumerate() {
            let argv = vec![
                "env".into(),
                "GRTMAXPROCS=1".into(),
                "GOMAXPROCS=1".into(),
                exe.to_string_lossy().into_owned(),
                mode.to_string(),
                iters.to_string(),
            ];
            match run_ok(&argv, Duration::from_secs(120)) {
                Ok(o) => {
                    let (Some(mean), Some(max)) = (
                        field(&o.stdout, "handoff", "mean_ns="),
                        field(&o.stdout, "handoff", "max_ns="),
                    ) else {
                        println!("  {name}: FAILED: no handoff line{}", o.tail());
                        return false;
                    };
                    means[i].push(mean);
                    maxes[i].push(max);
                }
                Err(e) => {
                    println!("  {name}: FAILED: {e}");
                    return false;
                }
            }
        }
    }
    let go_mean = median(means[1].clone());
    println!(
        "  {:<12} {:>12} {:>14} {:>10}",
        "", "mean ns", "longest us", "mean/Go"
    );
    for (i, (name, ..)) in sides.iter().enumerate() {
        let m = median(means[i].clone());
        println!(
            "  {:<12} {:>12.0} {:>14.1} {:>10.3}",
            name,
            m,
            median(maxes[i].clone()) / 1000.0,
            m / go_mean
        );
    }
    let r = median(means[0].clone()) / go_mean;
    println!(
        "  goal: grt poller <= 1.0x Go: {} ({r:.3})",
        if r <= 1.0 { "met" } else { "NOT met" }
    );
    true
}

/// A server process, with the port it printed ("... serving on 127.0.0.1:PORT").
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(argv: &[String]) -> Result<Server, String> {
    // Both servers run with the descriptor limit raised to the hard one (Go does it itself
    // since 1.19; grt's httpd is started with the same limit).
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n $(ulimit -Hn); exec \"$@\"")
        .arg("sh")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", argv[0]))?;
    let mut line = String::new();
    let mut r = BufReader::new(child.stdout.take().unwrap());
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("{}: no port in {line:?}", argv[0]))?;
    // Keep the pipe drained (the server prints nothing more, but must never block on it).
    std::thread::spawn(move || {
        let mut sink = String::new();
        while r.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    Ok(Server { child, port })
}

/// Seconds of a wrk latency figure ("1.23ms", "456.78us", "1.02s").
fn wrk_time(s: &str) -> Option<f64> {
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| s.split_at(i))?;
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v * 1e-6,
        "ms" => v * 1e-3,
        "s" => v,
        "m" => v * 60.0,
        _ => return None,
    })
}

/// (requests/s, p99 seconds) of one wrk run.
fn wrk(port: u16, conns: usize) -> Result<(f64, f64), String> {
    let out = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{WRK_SECS}s"),
            "--latency",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok());
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| wrk_time(v.trim()));
    let errors = text
        .lines()
        .any(|l| l.contains("Socket errors") || l.contains("Non-2xx"));
    match (rps, p99) {
        (Some(r), Some(p)) if !errors => Ok((r, p)),
        _ => Err(format!("unexpected wrk output:\n{text}")),
    }
}

fn http(p: &Programs) -> bool {
    // `wrk -v` exits 1 even when present: whether it starts at all is the test.
    let present = || Command::new("wrk").arg("-v").output().is_ok();
    if !present() && !(setup::is_root() && setup::apt_install(&["wrk"]) && present()) {
        println!("  SKIPPED: wrk is missing (as root: apt-get install -y wrk)");
        return false;
    }
    println!(
        "\n  HTTP/1.1 keep-alive, wrk -t1 for {WRK_SECS} s a run, {WRK_ROUNDS} rounds alternating (medians; every CPU for each server):"
    );
    println!(
        "  {:>6} {:>12} {:>12} {:>8} {:>11} {:>11} {:>8}",
        "conns", "grt req/s", "Go req/s", "grt/Go", "grt p99 ms", "Go p99 ms", "grt/Go"
    );
    let mut ok = true;
    for conns in [100usize, 1000] {
        let mut v: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..WRK_ROUNDS {
            for (i, argv) in [
                vec![
                    p.grt_httpd.to_string_lossy().into_owned(),
                    "--serve".into(),
                    "0".into(),
                ],
                vec![
                    p.go_net.to_string_lossy().into_owned(),
                    "httpd".into(),
                    "0".into(),
                ],
            ]
            .iter()
            .enumerate()
            {
                let r = start_server(argv).and_then(|s| wrk(s.port, conns));
                match r {
                    Ok(x) => v[i].push(x),
                    Err(e) => {
                        println!("  {conns}: FAILED: {e}");
                        ok = false;
                    }
                }
            }
        }
        if v[0].is_empty() || v[1].is_empty() {
            continue;
        }
        let rps = |i: usize| median(v[i].iter().map(|x| x.0).collect());
        let p99 = |i: usize| median(v[i].iter().map(|x| x.1).collect());
        println!(
            "  {:>6} {:>12.0} {:>12.0} {:>8.3} {:>11.2} {:>11.2} {:>8.3}",
            conns,
            rps(0),
            rps(1),
            rps(0) / rps(1),
            p99(0) * 1e3,
            p99(1) * 1e3,
            p99(0) / p99(1)
        );
    }
    println!("  goal: grt >= 1.0x Go in requests/s and <= 1.0x in p99");
    ok
}

/// Threads and RSS (KiB) of a process, from /proc/PID/status.
fn proc_status(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let get = |k: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    Some((get("Threads:")?, get("VmRSS:")?))
}

fn idle(p: &Programs) -> bool {
    println!(
        "\n  {IDLE_CONNS} idle keep-alive connections (opened by a separate client process), the server's threads and RSS:"
    );
    let mut ok = true;
    let mut rows = Vec::new();
    for (name, argv) in [
        (
            "grt",
            vec![
                p.grt_httpd.to_string_lossy().into_owned(),
                "--serve".to_string(),
                "0".to_string(),
            ],
        ),
        (
            "Go",
            vec![
                p.go_net.to_string_lossy().into_owned(),
                "httpd".to_string(),
                "0".to_string(),
            ],
        ),
    ] {
        let server = match start_server(&argv) {
            Ok(s) => s,
            Err(e) => {
                println!("  {name}: FAILED: {e}");
                ok = false;
                continue;
            }
        };
        let before = proc_status(server.child.id());
        let mut client = match Command::new("sh")
            .arg("-c")
            .arg("ulimit -n $(ulimit -Hn); exec \"$@\"")
            .arg("sh")
            .arg(&p.grt_bench)
            .args([
                "idle_clients",
                &server.port.to_string(),
                &IDLE_CONNS.to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                println!("  {name}: FAILED: cannot start the clients: {e}");
                ok = false;
                continue;
            }
        };
        let mut line = String::new();
        let _ = BufReader::new(client.stdout.take().unwrap()).read_line(&mut line);
        if !line.starts_with("connected") {
            println!("  {name}: FAILED: the clients did not connect");
            let _ = client.kill();
            let _ = client.wait();
            ok = false;
            continue;
        }
        // Let the server accept and park every connection.
        let t = Instant::now();
        std::thread::sleep(Duration::from_secs(1));
        let after = proc_status(server.child.id());
        let _ = client.kill();
        let _ = client.wait();
        match (before, after) {
            (Some(b), Some(a)) => rows.push((name, b, a, t.elapsed())),
            _ => {
                println!("  {name}: FAILED: cannot read /proc/PID/status");
                ok = false;
            }
        }
    }
    println!(
        "  {:<4} {:>14} {:>9} {:>14} {:>13}",
        "", "threads idle", "threads", "RSS MiB idle", "RSS MiB"
    );
    for (name, b, a, _) in &rows {
        println!(
            "  {:<4} {:>14} {:>9} {:>14.1} {:>13.1}",
            name,
            b.0,
            a.0,
            b.1 as f64 / 1024.0,
            a.1 as f64 / 1024.0
        );
    }
    if rows.len() == 2 {
        println!(
            "  grt/Go: threads {:.2}, RSS {:.2} (with {IDLE_CONNS} connections)",
            rows[0].2 .0 as f64 / rows[1].2 .0 as f64,
            rows[0].2 .1 as f64 / rows[1].2 .1 as f64
        );
    }
    ok
}

/// `cargo xtask bench net`.
pub fn net() -> bool {
    println!("\n== network poller: grt against Go");
    if std::env::consts::ARCH != "x86_64" {
        println!("  skipped: this benchmark runs on x86_64 hosts only (natively)");
        return true;
    }
    if !crate::bench::ensure_go() {
        println!("  SKIPPED: `go` is missing (see above)");
        return false;
    }
    let out = std::env::current_dir()
        .expect("current directory")
        .join(OUT_DIR);
    let Some(p) = build(&out) else {
        println!("  FAILED: could not build the benchmark programs (see above)");
        return false;
    };
    let a = handoff(&p);
    let b = http(&p);
    let c = idle(&p);
    a && b && c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_times() {
        assert_eq!(wrk_time("1.50ms"), Some(1.5e-3));
        assert_eq!(wrk_time("250.00us"), Some(250e-6));
        assert_eq!(wrk_time("2.00s"), Some(2.0));
        assert_eq!(wrk_time("abc"), None);
    }

    #[test]
    fn reads_fields() {
        let s = "handoff_poll iters=10 mean_ns=512.5 max_ns=900\n";
        assert_eq!(field(s, "handoff", "mean_ns="), Some(512.5));
        assert_eq!(field(s, "handoff", "max_ns="), Some(900.0));
    }
}
