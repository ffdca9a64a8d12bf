//! `cargo xtask …`: the project's own tasks.
//!
//!   cargo xtask cluster up|down|status [--dir DIR]   the local control plane (default target/cluster)
//!   cargo xtask test [-- ARGS]                        build, cluster up, every test, cluster down
//!   cargo xtask demo                                  the main job: cluster up, seed 000's CloneSet story
//!   cargo xtask gen                                   regenerate manifests/ from src/api
//!   cargo xtask bench [cli|cloneset|statefulset|daemonset|all-kinds] [--pods N]  figures

mod bench;
mod bench_rollout;
mod bins;
mod cluster;
mod demo;
mod dist;
mod pki;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};

pub type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

pub fn fail(msg: impl Into<String>) -> Box<dyn std::error::Error> {
    msg.into().into()
}

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  cluster up [--dir DIR]      start the local control plane (idempotent; builds what is missing)
  cluster down [--dir DIR]    stop every process it started and remove its state
  cluster status [--dir DIR]  what runs, on which ports, where the logs are
  test [-- ARGS]              build, bring the cluster up, run every test (ARGS go to the
                              test binaries), bring it down again (also on failure)
  demo                        the main job: build the plugin, bring the cluster up, install the
                              CRDs and play seed 000's CloneSet story with the embedded
                              controller; the cluster stays up
  gen                         regenerate manifests/ (the CRDs) from src/api, completions/ and
                              man/ from the clap definitions
  dist [--debug | --binary PATH] [--out DIR]
                              the krew archive of this machine's build, its sha256 and the
                              manifest rendered from krew/kruise.yaml.tmpl (target/dist)
  bench [cli|cloneset|statefulset|daemonset|all-kinds] [--pods N[,N…]]
                              benchmarks: print figures (wall time, memory, API requests,
                              Event writes); --pods sets the CloneSet sizes (default 100,500)

DIR defaults to target/cluster.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn dir_arg(args: &[String], root: &Path) -> Result<PathBuf> {
    match args {
        [] => Ok(root.join("target/cluster")),
        [flag, dir] if flag == "--dir" => Ok(PathBuf::from(dir)),
        [flag] if flag.starts_with("--dir=") => Ok(PathBuf::from(&flag["--dir=".len()..])),
        _ => Err(fail(format!("unexpected arguments {args:?}\n\n{USAGE}"))),
    }
}

fn run(args: &[String]) -> Result<ExitCode> {
    let root = root();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["cluster", "up", rest @ ..] => {
            let dir = dir_arg(&args[2..2 + rest.len()], &root)?;
            let state = match cluster::up(&root, &dir)? {
                cluster::Up::Started(s) => s,
                cluster::Up::AlreadyUp(s) => {
                    eprintln!("cluster: already up ({}); nothing to do", s.server);
                    s
                }
            };
            println!("export KUBECONFIG={}", state.kubeconfig.display());
            Ok(ExitCode::SUCCESS)
        }
        ["cluster", "down", rest @ ..] => {
            cluster::down(&dir_arg(&args[2..2 + rest.len()], &root)?)?;
            Ok(ExitCode::SUCCESS)
        }
        ["cluster", "status", rest @ ..] => {
            let ok = cluster::status(&dir_arg(&args[2..2 + rest.len()], &root)?)?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ["test", rest @ ..] => test(&root, rest),
        ["gen"] => {
            let status = cargo()
                .current_dir(&root)
                .args([
                    "test",
                    "--locked",
                    "--test",
                    "manifests",
                    "--test",
                    "generated",
                ])
                .env("KRUISE_UPDATE_MANIFESTS", "1")
                .status()?;
            Ok(if status.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        ["dist", rest @ ..] => {
            dist::run(&root, rest)?;
            Ok(ExitCode::SUCCESS)
        }
        ["demo", rest @ ..] => {
            demo::run(&root, rest)?;
            Ok(ExitCode::SUCCESS)
        }
        ["bench", rest @ ..] => {
            bench::run(&root, rest)?;
            Ok(ExitCode::SUCCESS)
        }
        ["help" | "--help" | "-h"] | [] => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(fail(format!("unknown task {args:?}\n\n{USAGE}"))),
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catch Ctrl-C so the cluster is still brought down; children get the default handler back
/// when they exec, so the test run itself stops as usual.
fn catch_interrupt() {
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        let handler: extern "C" fn(libc::c_int) = on_interrupt;
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The whole test run's bound: `KRUISE_TEST_TIMEOUT` seconds, 45 minutes by default, so a
/// hung test can never hold CI to its own limit.
fn test_timeout() -> std::time::Duration {
    let secs = std::env::var("KRUISE_TEST_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(45 * 60);
    std::time::Duration::from_secs(secs)
}

/// Run `cmd` in its own process group; past `limit`, kill the group (cargo and every test
/// binary and process under it) with SIGKILL and report a failure.
fn run_bounded(
    mut cmd: Command,
    limit: std::time::Duration,
) -> std::io::Result<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    let mut child = cmd.process_group(0).spawn()?;
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > limit {
            eprintln!(
                "xtask test: still running after {}s; stopping every test process",
                limit.as_secs()
            );
            // SAFETY: kill(2) on the process group we created; no memory is involved.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            return Err(std::io::Error::other(format!(
                "the tests did not finish within {}s (KRUISE_TEST_TIMEOUT)",
                limit.as_secs()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn test(root: &Path, rest: &[&str]) -> Result<ExitCode> {
    let extra: Vec<&str> = match rest {
        ["--", extra @ ..] => extra.to_vec(),
        [] => vec![],
        _ => return Err(fail(format!("unexpected arguments {rest:?}\n\n{USAGE}"))),
    };
    let started = std::time::Instant::now();
    // Compile everything first: a compile error should not cost a cluster start.
    let built = cargo()
        .current_dir(root)
        .args(["test", "--workspace", "--no-run", "--locked"])
        .status()?;
    if !built.success() {
        return Ok(ExitCode::FAILURE);
    }
    catch_interrupt();
    let dir = root.join("target/cluster");
    let (state, started_here) = match cluster::up(root, &dir)? {
        cluster::Up::Started(s) => (s, true),
        cluster::Up::AlreadyUp(s) => {
            eprintln!("cluster: already up; the tests use it and leave it running");
            (s, false)
        }
    };
    let tests = if INTERRUPTED.load(Ordering::SeqCst) {
        None
    } else {
        let mut cmd = cargo();
        cmd.current_dir(root)
            .args(["test", "--workspace", "--locked", "--no-fail-fast", "--"])
            .args(&extra)
            .env("KUBECONFIG", &state.kubeconfig)
            .env("KRUISE_TEST_CLUSTER_DIR", &state.dir)
            .env("KRUISE_TEST_KUBECTL", &state.kubectl)
            .env("KRUISE_TEST_XTASK", own_path()?);
        Some(run_bounded(cmd, test_timeout()))
    };
    let passed = matches!(&tests, Some(Ok(s)) if s.success());
    if !passed {
        eprintln!(
            "xtask test: tests failed or were interrupted; the control plane's logs are in {}",
            dir.join("logs").display()
        );
    }
    let down = if started_here {
        cluster::down(&dir)
    } else {
        Ok(())
    };
    eprintln!(
        "xtask test: finished in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    down?;
    if let Some(Err(e)) = tests {
        return Err(fail(format!("cannot run cargo test: {e}")));
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// This binary's path for the tests to run it again. `cargo test --workspace` rebuilds it in
/// place while it runs, and Linux then names the running file `… (deleted)`: the path is that
/// of the new build.
fn own_path() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    let text = exe.to_string_lossy();
    Ok(std::path::PathBuf::from(
        text.strip_suffix(" (deleted)").unwrap_or(&text),
    ))
}
