//! `kubectl kruise <TAB>` as kubectl completes a plugin: real kubectl's `__complete` runs the
//! helper `completion kubectl-plugin --install` linked, which answers with subcommands, kinds
//! and the names of the objects in the namespace the line gives with `-n`.

use std::process::Command;

use kube::api::PostParams;
use kubectl_kruise::api::CloneSet;
use serde_json::json;

use crate::support::{self, TestNs};

fn complete(dir: &std::path::Path, words: &[&str]) -> Vec<String> {
    let out = Command::new(support::kubectl_path())
        .arg("__complete")
        .arg("kruise")
        .args(words)
        .env("PATH", dir)
        .env("KUBECONFIG", support::kubeconfig_path())
        .output()
        .expect("kubectl __complete");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("kubectl __complete kruise {words:?}:\n{text}");
    text.lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn kubectl_completes_subcommands_kinds_and_live_names() {
    support::ok(support::kruise(&["crds", "install"]));
    let client = support::client_as("complete").await;
    let ns = TestNs::new(&client, "complete").await;
    for name in ["web-a", "web-b"] {
        let cs: CloneSet = serde_json::from_value(json!({
            "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
            "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
        .unwrap();
        ns.api::<CloneSet>()
            .create(&PostParams::default(), &cs)
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let installed = support::kruise(&[
        "completion",
        "kubectl-plugin",
        "--install",
        &dir.path().display().to_string(),
    ]);
    assert!(installed.status.success());
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubectl-kruise"),
        dir.path().join("kubectl-kruise"),
    )
    .unwrap();
    let d = dir.path();

    let top = complete(d, &[""]);
    for want in ["rollout", "scale", "set", "completion", ":4"] {
        assert!(top.iter().any(|c| c == want), "{want} in {top:?}");
    }
    assert_eq!(complete(d, &["rollout", "ap"]), vec!["approve", ":4"]);
    let kinds = complete(d, &["rollout", "status", ""]);
    assert!(kinds.iter().any(|c| c == "cloneset"), "{kinds:?}");
    let n = ns.name.as_str();
    assert_eq!(
        complete(d, &["rollout", "status", "-n", n, "cloneset/"]),
        vec!["cloneset/web-a", "cloneset/web-b", ":4"]
    );
    assert_eq!(
        complete(d, &["scale", "--namespace", n, "cs", "web-"]),
        vec!["web-a", "web-b", ":4"]
    );
    // Another namespace has none of them; a broken kubeconfig answers nothing, never an error.
    assert_eq!(
        complete(d, &["scale", "-n", "default", "cs", "web-"]),
        vec![":4"]
    );
    let out = Command::new(support::kubectl_path())
        .args([
            "__complete",
            "kruise",
            "scale",
            "--kubeconfig",
            "/nonexistent",
            "cs",
            "",
        ])
        .env("PATH", d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l == ":4"), "{text}");
    assert!(!text.to_lowercase().contains("error"), "{text}");
}
