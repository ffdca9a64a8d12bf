//! Advanced workloads (apps.kruise.io) end to end on the local control plane, as a user runs
//! them: the Advanced DaemonSet with its embedded controller, on fake nodes each test adds
//! (kwok runs their pods), labelled and tainted for that test alone.

#[path = "advanced/daemonset.rs"]
mod daemonset;
mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{kubeconfig_path, stderr, stdout};
use tokio::sync::OnceCell;

const T: Duration = Duration::from_secs(120);

static CRDS: OnceCell<()> = OnceCell::const_new();

async fn crds() {
    CRDS.get_or_init(|| async {
        let o = run(&["crds", "install", "--force"]).await;
        assert!(o.status.success(), "crds install: {}", stderr(&o));
    })
    .await;
}

/// Runs the built binary without blocking the test's runtime (watchers keep running).
async fn run(args: &[&str]) -> std::process::Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run kubectl-kruise");
    eprintln!(
        "$ kubectl-kruise {}\n{}{}(exit {:?})",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    out
}

async fn ok(args: &[&str]) -> String {
    let o = run(args).await;
    assert!(
        o.status.success(),
        "kubectl-kruise {} failed: {}",
        args.join(" "),
        stderr(&o)
    );
    stdout(&o)
}

/// The built binary in the background, output piped, killed if the test drops it.
fn spawn(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn kubectl-kruise")
}

/// `controller run -n NS --controllers <name>` in the background.
fn spawn_controller(ns: &str, controller: &str) -> tokio::process::Child {
    spawn(&["-n", ns, "controller", "run", "--controllers", controller])
}
