//! `kubectl kruise version`: versions, operator detection and CRDs, on the local cluster with a
//! stand-in OpenKruise manager (a Deployment the fake kubelet runs, and a leader Lease).

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use support::{TestNs, kruise_env, ok, wait_for};

fn version_json(env: &[(&str, &str)]) -> Value {
    serde_json::from_str(&ok(kruise_env(&["version", "-o", "json"], env))).expect("JSON")
}

#[tokio::test]
async fn detects_a_live_operator_by_its_lease_and_deployment() {
    let client = support::client_as("version").await;
    // The operator's namespace is configurable (charts allow a custom one): use a private one.
    let ns = TestNs::new(&client, "kruise-system").await;
    let empty = TestNs::new(&client, "no-operator").await;
    let env = [
        ("KUBECTL_KRUISE_OPENKRUISE_NAMESPACE", ns.name.as_str()),
        ("KUBECTL_KRUISE_ROLLOUT_NAMESPACE", empty.name.as_str()),
    ];

    // Nothing installed yet.
    let v = version_json(&env);
    assert_eq!(
        v["clientVersion"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.34.4");
    assert_eq!(v["openKruise"]["installed"], false);
    assert_eq!(v["openKruise"]["live"], false);
    assert_eq!(v["kruiseRollout"]["installed"], false);
    assert!(v["crds"].is_array());

    // The manager Deployment, run by the fake kubelet.
    let deployments: Api<Deployment> = ns.api();
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "kruise-controller-manager"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"control-plane": "controller-manager"}},
                 "template": {"metadata": {"labels": {"control-plane": "controller-manager"}},
                              "spec": {"containers": [{"name": "manager", "image": "openkruise/kruise-manager:v1.9.0"}]}}}
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    wait_for(
        &deployments,
        "kruise-controller-manager",
        Duration::from_secs(60),
        "available",
        |d| d.status.as_ref().and_then(|s| s.available_replicas) == Some(1),
    )
    .await;
    // A leader Lease renewed just now.
    let leases: Api<Lease> = ns.api();
    let now = k8s_openapi::jiff::Timestamp::now();
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "kruise-manager"},
        "spec": {"holderIdentity": "kruise-controller-manager-7d9f_abc", "leaseDurationSeconds": 15,
                 "renewTime": now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}
    }))
    .unwrap();
    leases.create(&PostParams::default(), &lease).await.unwrap();

    let v = version_json(&env);
    let ok_ = &v["openKruise"];
    assert_eq!(ok_["installed"], true);
    assert_eq!(ok_["live"], true, "{ok_}");
    assert_eq!(ok_["version"], "v1.9.0");
    assert_eq!(ok_["leader"], "kruise-controller-manager-7d9f_abc");
    assert_eq!(ok_["namespace"], ns.name.as_str());

    // Text output: colour only when forced, and never with NO_COLOR.
    let forced = ok(kruise_env(
        &["version"],
        &[env[0], env[1], ("CLICOLOR_FORCE", "1")],
    ));
    assert!(
        forced.contains("OpenKruise: v1.9.0, \u{1b}[32mlive\u{1b}[0m in"),
        "{forced:?}"
    );
    let plain = ok(kruise_env(
        &["version"],
        &[env[0], env[1], ("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    ));
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("OpenKruise: v1.9.0, live in"), "{plain}");
    let piped = ok(kruise_env(&["version"], &env));
    assert!(
        !piped.contains('\u{1b}'),
        "no colour when stdout is not a terminal"
    );

    // A lease not renewed for 10 minutes: installed, not live.
    let stale = (now - Duration::from_secs(600))
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    leases
        .patch(
            "kruise-manager",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"renewTime": stale}})),
        )
        .await
        .unwrap();
    let v = version_json(&env);
    assert_eq!(v["openKruise"]["installed"], true);
    assert_eq!(v["openKruise"]["live"], false);
    assert!(v["openKruise"]["renewedSecondsAgo"].as_i64().unwrap() >= 600);
    let text = ok(kruise_env(&["version"], &env));
    assert!(
        text.contains("installed in") && text.contains("but not live"),
        "{text}"
    );
}

#[test]
fn client_version_needs_no_cluster() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(["version", "--client"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        support::stdout(&out),
        format!("Client Version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
}
