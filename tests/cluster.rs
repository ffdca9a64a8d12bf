//! The local control plane is real and complete: scheduling over zones, garbage collection,
//! in-place image changes, readiness gates, failed pulls, Jobs, RBAC and the audit log.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Node, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use support::{TestNs, wait_for, wait_list};

const T: Duration = Duration::from_secs(60);

fn pod_ready(p: &Pod) -> bool {
    condition(p, "Ready") == Some("True")
}

fn condition<'a>(p: &'a Pod, t: &str) -> Option<&'a str> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)
        .map(|c| c.status.as_str())
}

fn pod(name: &str, spec: serde_json::Value) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).unwrap()
}

#[tokio::test]
async fn deployment_pods_are_scheduled_over_zones_and_ready() {
    let client = support::client_as("deployment").await;
    let ns = TestNs::new(&client, "deploy").await;
    let deploys: Api<Deployment> = ns.api();
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "nginx", "image": "nginx:1.27"}],
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "DoNotSchedule",
                        "labelSelector": {"matchLabels": {"app": "web"}}
                    }]
                }
            }
        }
    }))
    .unwrap();
    deploys.create(&PostParams::default(), &d).await.unwrap();
    let pods: Api<Pod> = ns.api();
    let ready = wait_list(
        &pods,
        Some("app=web"),
        T,
        "3 Ready pods of deployment web",
        |ps| ps.len() == 3 && ps.iter().all(pod_ready),
    )
    .await;
    let nodes: Api<Node> = Api::all(client.clone());
    let mut zones = BTreeSet::new();
    for p in &ready {
        let node_name = p
            .spec
            .as_ref()
            .unwrap()
            .node_name
            .clone()
            .expect("scheduled");
        let node = nodes.get(&node_name).await.unwrap();
        assert_eq!(
            node.annotations()
                .get("kwok.x-k8s.io/node")
                .map(String::as_str),
            Some("fake"),
            "pod {} runs on a kwok node",
            p.name_any()
        );
        zones.insert(node.labels()["topology.kubernetes.io/zone"].clone());
    }
    assert!(zones.len() > 1, "pods spread over zones, got {zones:?}");
    wait_for(&deploys, "web", T, "deployment web available", |d| {
        d.status.as_ref().and_then(|s| s.available_replicas) == Some(3)
    })
    .await;
}

#[tokio::test]
async fn deleting_a_deployment_garbage_collects_replicasets_and_pods() {
    let client = support::client_as("gc").await;
    let ns = TestNs::new(&client, "gc").await;
    let deploys: Api<Deployment> = ns.api();
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "gc"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "gc"}},
            "template": {"metadata": {"labels": {"app": "gc"}},
                         "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
        }
    }))
    .unwrap();
    deploys.create(&PostParams::default(), &d).await.unwrap();
    let pods: Api<Pod> = ns.api();
    let rss: Api<ReplicaSet> = ns.api();
    wait_list(&pods, Some("app=gc"), T, "2 Ready pods", |ps| {
        ps.len() == 2 && ps.iter().all(pod_ready)
    })
    .await;
    assert_eq!(support::list(&rss, "app=gc").await.len(), 1);
    // The default propagation for a Deployment deleted through the API is background: the
    // garbage collector in kube-controller-manager removes the dependents.
    deploys
        .delete("gc", &DeleteParams::default())
        .await
        .unwrap();
    wait_list(&rss, Some("app=gc"), T, "no ReplicaSet left", |l| {
        l.is_empty()
    })
    .await;
    wait_list(&pods, Some("app=gc"), T, "no pod left", |l| l.is_empty()).await;
}

#[tokio::test]
async fn in_place_image_change_restarts_the_container_in_the_same_pod() {
    let client = support::client_as("inplace").await;
    let ns = TestNs::new(&client, "inplace").await;
    let pods: Api<Pod> = ns.api();
    let spec = json!({"containers": [
        {"name": "main", "image": "nginx:1.27"},
        {"name": "side", "image": "busybox:1.36"}
    ]});
    pods.create(&PostParams::default(), &pod("p", spec))
        .await
        .unwrap();
    let before = wait_for(&pods, "p", T, "pod Ready", pod_ready).await;
    let status_of = |p: &Pod, c: &str| {
        p.status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()
            .iter()
            .find(|s| s.name == c)
            .cloned()
            .unwrap()
    };
    let main_before = status_of(&before, "main");
    let side_before = status_of(&before, "side");
    assert_eq!(main_before.restart_count, 0);
    assert!(
        main_before.image_id.starts_with("kwok.local/sha256:"),
        "{}",
        main_before.image_id
    );

    let patch = json!({"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}});
    pods.patch("p", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let after = wait_for(&pods, "p", T, "container main running nginx:1.28", |p| {
        let s = status_of(p, "main");
        s.image == "nginx:1.28" && s.ready && pod_ready(p)
    })
    .await;
    let main_after = status_of(&after, "main");
    let side_after = status_of(&after, "side");
    assert_eq!(after.uid(), before.uid(), "same pod, not recreated");
    assert_ne!(main_after.image_id, main_before.image_id, "new imageID");
    assert_eq!(main_after.restart_count, 1);
    assert!(
        main_after
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .is_some()
    );
    assert_eq!(
        side_after.image_id, side_before.image_id,
        "other container untouched"
    );
    assert_eq!(side_after.restart_count, 0);
    assert_eq!(
        after.status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
}

#[tokio::test]
async fn readiness_gates_drive_the_ready_condition() {
    let client = support::client_as("gates").await;
    let ns = TestNs::new(&client, "gates").await;
    let pods: Api<Pod> = ns.api();
    let spec = json!({
        "readinessGates": [{"conditionType": "example.com/gate"}],
        "containers": [{"name": "main", "image": "nginx:1.27"}]
    });
    pods.create(&PostParams::default(), &pod("g", spec))
        .await
        .unwrap();
    let p = wait_for(&pods, "g", T, "pod running", |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await;
    assert_eq!(condition(&p, "ContainersReady"), Some("True"));
    assert_eq!(
        condition(&p, "Ready"),
        Some("False"),
        "NotReady while the gate is missing"
    );
    // Still NotReady a moment later: nothing sets the gate for us.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!pod_ready(&pods.get("g").await.unwrap()));

    let set_gate = |status: &str| json!({"status": {"conditions": [{"type": "example.com/gate", "status": status}]}});
    let pp = PatchParams::default();
    pods.patch_status("g", &pp, &Patch::Strategic(set_gate("True")))
        .await
        .unwrap();
    wait_for(&pods, "g", T, "Ready once the gate is True", pod_ready).await;
    pods.patch_status("g", &pp, &Patch::Strategic(set_gate("False")))
        .await
        .unwrap();
    let p = wait_for(&pods, "g", T, "NotReady once the gate is False", |p| {
        !pod_ready(p)
    })
    .await;
    assert_eq!(condition(&p, "Ready"), Some("False"));
    pods.patch_status("g", &pp, &Patch::Strategic(set_gate("True")))
        .await
        .unwrap();
    wait_for(&pods, "g", T, "Ready again", pod_ready).await;
}

#[tokio::test]
async fn an_image_tagged_failed_never_starts() {
    let client = support::client_as("failed").await;
    let ns = TestNs::new(&client, "failed").await;
    let pods: Api<Pod> = ns.api();
    let spec = json!({"containers": [{"name": "main", "image": "nginx:failed"}]});
    pods.create(&PostParams::default(), &pod("f", spec))
        .await
        .unwrap();
    let waiting_reason = |p: &Pod| {
        p.status
            .as_ref()?
            .container_statuses
            .as_ref()?
            .first()?
            .state
            .as_ref()?
            .waiting
            .as_ref()?
            .reason
            .clone()
    };
    wait_for(&pods, "f", T, "ErrImagePull", |p| {
        waiting_reason(p).as_deref() == Some("ErrImagePull")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("f").await.unwrap();
    assert_eq!(waiting_reason(&p).as_deref(), Some("ErrImagePull"));
    assert!(!pod_ready(&p), "never Ready");
    assert_eq!(p.status.as_ref().unwrap().phase.as_deref(), Some("Pending"));

    // A running pod switched in place to a failed image turns NotReady the same way.
    let spec = json!({"containers": [{"name": "main", "image": "nginx:1.27"}]});
    pods.create(&PostParams::default(), &pod("r", spec))
        .await
        .unwrap();
    wait_for(&pods, "r", T, "Ready", pod_ready).await;
    let patch = json!({"spec": {"containers": [{"name": "main", "image": "nginx:failed"}]}});
    pods.patch("r", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    wait_for(&pods, "r", T, "NotReady with ErrImagePull", |p| {
        !pod_ready(p) && waiting_reason(p).as_deref() == Some("ErrImagePull")
    })
    .await;
}

#[tokio::test]
async fn a_job_completes() {
    let client = support::client_as("job").await;
    let ns = TestNs::new(&client, "job").await;
    let jobs: Api<Job> = ns.api();
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox:1.36", "command": ["true"]}]
        }}}
    }))
    .unwrap();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    let j = wait_for(&jobs, "once", T, "job Complete", |j| {
        j.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Complete" && c.status == "True")
            })
    })
    .await;
    assert_eq!(j.status.unwrap().succeeded, Some(1));
}

#[tokio::test]
async fn a_token_without_rbac_rights_is_forbidden() {
    let client = support::client_as("rbac").await;
    let ns = TestNs::new(&client, "rbac").await;
    let sas: Api<ServiceAccount> = ns.api();
    let sa: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "nobody"}})).unwrap();
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let tr: TokenRequest = serde_json::from_value(json!({"spec": {"audiences": []}})).unwrap();
    let token = sas
        .create_token_request("nobody", &PostParams::default(), &tr)
        .await
        .unwrap()
        .status
        .expect("token issued")
        .token;

    let mut config = support::config_with_agent("kruise-tests/rbac-nobody").await;
    config.auth_info.token = Some(token.into());
    let nobody = Client::try_from(config).unwrap();
    let err = Api::<Pod>::namespaced(nobody.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .expect_err("a ServiceAccount with no RoleBinding cannot list pods");
    assert_eq!(support::api_code(&err), Some(403), "{err}");
    assert!(err.to_string().contains("forbidden"), "{err}");
    // The identity is real: the same token may ask what it is.
    let me = nobody
        .request::<serde_json::Value>(
            http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
                .header("content-type", "application/json")
                .body(
                    serde_json::to_vec(&json!({
                        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"
                    }))
                    .unwrap(),
                )
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        me["status"]["userInfo"]["username"],
        format!("system:serviceaccount:{}:nobody", ns.name)
    );
}

#[tokio::test]
async fn the_audit_log_records_requests_with_their_user_agent() {
    let agent = format!("kruise-tests/audit-{}", support::random_suffix());
    let client = Client::try_from(support::config_with_agent(&agent).await).unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    nodes.list(&ListParams::default()).await.unwrap();
    let _ = nodes.get("kwok-node-0").await.unwrap();
    let _ = nodes.get_opt("no-such-node").await.unwrap();
    let events = support::audit::requests(&agent);
    assert_eq!(
        events.len(),
        3,
        "requests seen:\n{}",
        support::audit::describe(&events)
    );
    assert_eq!(events[0].verb, "list");
    assert_eq!(events[1].verb, "get");
    assert_eq!(events[1].object_ref.as_ref().unwrap().name, "kwok-node-0");
    assert_eq!(events[2].response_status.as_ref().unwrap().code, 404);
    assert!(events.iter().all(|e| e.user.username == "admin"));
}
