//! Advanced workloads (apps.kruise.io) end to end on the local control plane, as a user runs
//! them: the Advanced StatefulSet and the Advanced DaemonSet with their embedded controllers
//! (the DaemonSet on fake nodes each test adds, which kwok runs, labelled and tainted for that
//! test alone).

#[path = "advanced/audit.rs"]
mod audit;
#[path = "advanced/daemonset.rs"]
mod daemonset;
#[path = "advanced/statefulset.rs"]
mod statefulset;
mod support;

use std::process::Stdio;
use std::time::Duration;

use support::{kubeconfig_path, stderr, stdout};
use tokio::sync::OnceCell;

const T: Duration = Duration::from_secs(120);

/// Tests take it shared; the audit test, whose `controller run -A` takes every namespace's
/// Leases, takes it alone. (Test binaries run one after another.)
static GATE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The controllers the audit test runs in one process.
const ALL_THREE: &str = "cloneset,statefulset,daemonset";

/// The audit test's Advanced DaemonSet (a pod on every node), created, then reconciled.
async fn extra_kind_ready(ns: &support::TestNs) {
    use kube::api::{Api, PostParams};
    use kubectl_kruise::api::daemonset::DaemonSet;
    let api: Api<DaemonSet> = ns.api();
    let ds: DaemonSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "d", "namespace": ns.name},
        "spec": {"selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}},
                "spec": {"containers": [{"name": "main", "image": "app:1"}]}}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &ds).await.unwrap();
    support::wait_for(&api, "d", T, "a pod on every node, available", |d| {
        d.status.as_ref().is_some_and(|s| {
            s.desired_number_scheduled >= 3
                && s.number_available == Some(s.desired_number_scheduled)
        })
    })
    .await;
}

static CRDS: OnceCell<()> = OnceCell::const_new();

async fn crds() {
    CRDS.get_or_init(|| async {
        let o = run(&["crds", "install", "--force", "--yes"]).await;
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
