//! Issue 14, item 4: one `controller run -A` with the CloneSet, Advanced StatefulSet and
//! Advanced DaemonSet controllers opens exactly one Pod watch and makes one Pod list, however
//! many kinds read pods (the runtime's one watch per type), while all three reconcile.

use std::process::Stdio;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use kubectl_kruise::api::statefulset::StatefulSet;
use serde_json::json;

use super::support::{self, TestNs, audit, client_as, kubeconfig_path, stderr};
use super::{GATE, T, crds};

#[tokio::test]
async fn three_kinds_in_one_controller_run_share_one_pod_watch() {
    // -A takes the Leases of every namespace: no other test of this binary runs meanwhile.
    let _alone = GATE.write().await;
    crds().await;
    let client = client_as("adv-audit").await;
    let ns = TestNs::new(&client, "adv-audit").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let asts: Api<StatefulSet> = ns.api();
    let template = json!({"metadata": {"labels": {"app": "a"}},
        "spec": {"containers": [{"name": "main", "image": "app:1"}]}});
    let cs: CloneSet = serde_json::from_value(json!({
        "metadata": {"name": "c", "namespace": n},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "a"}}, "template": template}
    }))
    .unwrap();
    sets.create(&PostParams::default(), &cs).await.unwrap();
    let mut t2 = template.clone();
    t2["metadata"]["labels"]["app"] = json!("s");
    let st: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "s", "namespace": n},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "s"}}, "template": t2}
    }))
    .unwrap();
    asts.create(&PostParams::default(), &st).await.unwrap();

    let user = format!("audit-{}", support::random_suffix());
    let controllers = super::ALL_THREE;
    let ctl = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(["controller", "run", "-A", "--controllers", controllers])
        .args(["--as", &user, "--as-group", "system:masters"])
        .env("KUBECONFIG", kubeconfig_path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn controller run");
    support::wait_for(&sets, "c", T, "2 available", |c| {
        c.status.as_ref().is_some_and(|s| s.available_replicas == 2)
    })
    .await;
    support::wait_for(&asts, "s", T, "2 ready", |s| {
        s.status.as_ref().is_some_and(|s| s.ready_replicas == 2)
    })
    .await;
    super::extra_kind_ready(&ns).await;
    let out = super::statefulset::stop(ctl).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let events = audit::requests_as(&user);
    let pods: Vec<audit::Event> = events
        .into_iter()
        .filter(|e| e.object_ref.as_ref().is_some_and(|o| o.resource == "pods"))
        .filter(|e| e.verb == "list" || e.verb == "watch")
        .collect();
    let lists = pods
        .iter()
        .filter(|e| e.verb == "list" && !e.request_uri.contains("continue="))
        .count();
    let watches = pods.iter().filter(|e| e.verb == "watch").count();
    assert_eq!(
        (lists, watches),
        (1, 1),
        "one Pod list and one Pod watch for {controllers}:\n{}",
        audit::describe(&pods)
    );
    let _ = Api::<Pod>::namespaced(client.clone(), n);
}
