//! Small process helpers.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .expect("xtask/ sits in the repository root")
        .to_path_buf()
}

/// Runs a command, echoing it; true on success.
pub fn run(cmd: &mut Command) -> bool {
    eprintln!("$ {}", show(cmd));
    match cmd.status() {
        Ok(s) => s.success(),
        Err(e) => {
            eprintln!("xtask: cannot run {}: {e}", show(cmd));
            false
        }
    }
}

/// Runs a command and returns its stdout if it succeeded.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

pub fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What a finished (or killed) child did.
pub struct Outcome {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// Runs a test binary with a time limit and core dumps off, capturing its output.
pub fn run_captured(argv: &[String], timeout: Duration) -> std::io::Result<Outcome> {
    use std::os::unix::process::ExitStatusExt;
    // `ulimit -c 0`: the tests that abort on purpose must not leave core files behind.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -c 0; exec \"$@\"")
        .arg("sh")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Ok(Outcome {
        code: status.code(),
        signal: status.signal(),
        stdout,
        stderr,
        timed_out,
    })
}

impl Outcome {
    /// The output for an error message: stdout, and the last lines of stderr.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        let from = lines.len().saturating_sub(15);
        format!(
            "\n--- stdout:\n{}--- stderr (last lines):\n{}",
            self.stdout,
            lines[from..].join("\n")
        )
    }
}

/// [`run_captured`] for a program that must exit 0 in time: its outcome, or why not (with
/// its output).
pub fn run_ok(argv: &[String], timeout: Duration) -> Result<Outcome, String> {
    let out = run_captured(argv, timeout).map_err(|e| format!("cannot run: {e}"))?;
    if out.timed_out {
        return Err(format!(
            "timed out after {} s{}",
            timeout.as_secs(),
            out.tail()
        ));
    }
    if out.code != Some(0) {
        return Err(format!(
            "exit {:?} signal {:?}{}",
            out.code,
            out.signal,
            out.tail()
        ));
    }
    Ok(out)
}
