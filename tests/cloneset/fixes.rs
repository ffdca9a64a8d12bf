//! The four release-breaking bugs of the first CloneSet slice, each reproduced on the local
//! control plane with `controller run`, with expectations from OpenKruise v1.9.0's code:
//!
//! 1. a selector that does not select the template: upstream's webhook refuses it; our
//!    controller, finding one anyway, must create and release nothing and say why;
//! 2. empty lifecycle hooks: `IsPodAllHooked` of a hook with no handlers is true, so pods pass;
//! 3. a template change inside the in-place grace period: `finishGracePeriod` finishes the
//!    pending change (the pod's revision still equals the grace spec's), then the pod moves on;
//! 4. a removed `progressDeadlineSeconds`: upstream writes the whole status, so the stale
//!    Progressing condition goes away.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::{Value, json};

use super::support::recorder::Recorder;
use super::support::{self, TestNs, client_as, stderr};
use super::{T, all_at, crds, pods, run, spawn_controller, stop};

pub(super) fn cs(ns: &str, name: &str, spec: Value) -> CloneSet {
    let mut v = json!({
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": "busybox:1"}]}}
        }
    });
    merge(&mut v["spec"], spec);
    serde_json::from_value(v).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

pub(super) fn uids(v: &[Pod]) -> BTreeSet<String> {
    v.iter().map(|p| p.uid().unwrap()).collect()
}

pub(super) fn images(p: &Pod) -> Vec<String> {
    p.spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .map(|c| c.image.clone().unwrap_or_default())
        .collect()
}

/// The template's images: a wait keyed on them, not on `metadata.generation` (the embedded
/// controller's one-time default write bumps the generation, where upstream's webhook defaults
/// at admission).
pub(super) fn template_images(c: &CloneSet) -> Vec<String> {
    c.spec.template.0["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["image"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub(super) fn state(p: &Pod) -> String {
    p.labels()
        .get("lifecycle.apps.kruise.io/state")
        .cloned()
        .unwrap_or_default()
}

pub(super) async fn patch_spec(api: &Api<CloneSet>, name: &str, spec: Value) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": spec })),
    )
    .await
    .unwrap();
}

/// Drop every CEL rule whose text contains `word` from a CRD's schema.
pub(super) fn drop_rules(v: &mut Value, word: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(rules)) = m.get_mut("x-kubernetes-validations") {
                rules.retain(|r| !r["rule"].as_str().unwrap_or("").contains(word));
            }
            for (_, x) in m.iter_mut() {
                drop_rules(x, word);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| drop_rules(x, word)),
        _ => {}
    }
}

/// One test at a time edits the shared CloneSet CRD.
static CRD_EDIT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Loosen the CloneSet CRD with `loosen` (as a CRD from elsewhere, upstream's, which leaves
/// validation to a webhook that is not running) until [`restore_crd`]; one test at a time.
pub(super) async fn loosen_crd(
    client: &kube::Client,
    loosen: impl Fn(&mut Value),
) -> tokio::sync::MutexGuard<'static, ()> {
    let one = CRD_EDIT.lock().await;
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crd_api.get("clonesets.apps.kruise.io").await.unwrap();
    let mut v = serde_json::to_value(&crd).unwrap();
    loosen(&mut v);
    let loose: CustomResourceDefinition = serde_json::from_value(v).unwrap();
    crd_api
        .replace("clonesets.apps.kruise.io", &PostParams::default(), &loose)
        .await
        .unwrap();
    one
}

/// Our CRD back (`crds install --force`).
pub(super) async fn restore_crd(_one: tokio::sync::MutexGuard<'static, ()>) {
    let restore = run(&["crds", "install", "--force", "--yes"]).await;
    assert!(restore.status.success(), "{}", stderr(&restore));
}

/// Create `obj`, which our CRD refuses; the API server takes a moment to serve a new schema.
async fn create_loosely(api: &Api<CloneSet>, obj: &CloneSet) {
    for _ in 0..50 {
        match api.create(&PostParams::default(), obj).await {
            Ok(_) => return,
            Err(e) => eprintln!("not yet accepted: {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("not created under the loosened CRD");
}

/// Create `obj`, which our CRD refuses, under a CRD loosened by `loosen`, then restore ours.
pub(super) async fn create_past_the_crd(
    client: &kube::Client,
    api: &Api<CloneSet>,
    obj: &CloneSet,
    loosen: impl Fn(&mut Value),
) {
    let one = loosen_crd(client, loosen).await;
    create_loosely(api, obj).await;
    restore_crd(one).await;
}

/// Bug 1: 1,442 pods in 20 s for `replicas: 3`. Now: no pod created, none released, and a
/// FailedScale condition saying why.
#[tokio::test]
async fn a_selector_that_does_not_select_the_template_creates_nothing() {
    crds().await;
    let client = client_as("cloneset-bad-selector").await;
    let ns = TestNs::new(&client, "cs-sel").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();

    // The object our CRD refuses …
    let bad = cs(
        n,
        "sel",
        json!({"replicas": 3, "selector": {"matchExpressions": [
            {"key": "tier", "operator": "Exists"}]}}),
    );
    let refused = sets.create(&PostParams::default(), &bad).await;
    assert!(
        refused.is_err(),
        "the CRD refuses a selector that misses the template"
    );

    // … reaches the cluster anyway under a CRD without the rule.
    // Our CRD (with the rule) comes back at the end: with it, even the controller's status
    // write for this object is refused.
    let crd = loosen_crd(&client, |v| drop_rules(v, "selector")).await;
    create_loosely(&sets, &bad).await;

    let rec = Recorder::start(pod_api.clone(), "sel", 0).await;
    let ctl = spawn_controller(n, None).await;
    let seen = tokio::time::timeout(
        T,
        support::wait_for(&sets, "sel", T, "a FailedScale condition", |c| {
            c.status.as_ref().is_some_and(|s| {
                s.conditions
                    .iter()
                    .flatten()
                    .any(|c| c.type_ == "FailedScale" && c.status == "True")
            })
        }),
    );
    let seen = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(seen)).await;
    // Several passes' worth of time: a runaway would have made hundreds of pods by now.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let out = stop(ctl).await;
    restore_crd(crd).await;
    let seen = match seen {
        Ok(Ok(c)) => c,
        _ => panic!(
            "no FailedScale condition; controller said:\n{}",
            stderr(&out)
        ),
    };
    let record = rec.finish().await;
    let all: Vec<Pod> = pod_api.list(&Default::default()).await.unwrap().items;
    assert!(all.is_empty(), "no pod created: {:?}", record.created);
    assert!(record.created.is_empty(), "{:?}", record.created);
    let msg = seen.status.unwrap().conditions.unwrap_or_default();
    let msg = msg
        .iter()
        .find(|c| c.type_ == "FailedScale")
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        msg.contains("selector") && msg.contains("template"),
        "the condition says why: {msg}"
    );
    assert!(
        stderr(&out).contains("selector"),
        "controller run says why: {}",
        stderr(&out)
    );
}

/// Bug 2: `preNormal: {}` left new pods in PreparingNormal; `inPlaceUpdate` with
/// markPodNotReady only left updated pods in Updated, holding the budget.
#[tokio::test]
async fn empty_lifecycle_hooks_let_pods_through() {
    crds().await;
    let client = client_as("cloneset-empty-hooks").await;
    let ns = TestNs::new(&client, "cs-hooks").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({
        "replicas": 3,
        "lifecycle": {"preNormal": {}, "inPlaceUpdate": {"markPodNotReady": true}},
        "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}
    });
    sets.create(&PostParams::default(), &cs(n, "hooks", spec))
        .await
        .unwrap();
    let rec = Recorder::start(pod_api.clone(), "hooks", 0).await;
    let ctl = spawn_controller(n, None).await;
    support::wait_for(&sets, "hooks", T, "3 available", |c| all_at(c, 3)).await;
    let before = pods(&pod_api, "hooks").await;
    assert!(before.iter().all(|p| state(p) == "Normal"));

    rec.reset();
    patch_spec(
        &sets,
        "hooks",
        json!({"template": {"spec": {"containers": [{"name": "main", "image": "busybox:2"}]}}}),
    )
    .await;
    support::wait_for(&sets, "hooks", T, "3 updated and available", |c| {
        all_at(c, 3) && template_images(c) == ["busybox:2"]
    })
    .await;
    let _ = stop(ctl).await;
    let record = rec.finish().await;
    let after = pods(&pod_api, "hooks").await;
    assert_eq!(uids(&after), uids(&before), "updated in place");
    for p in &after {
        assert_eq!(images(p), vec!["busybox:2"]);
        assert_eq!(state(p), "Normal", "{}", p.name_any());
    }
    assert!(record.max_unavailable <= 1, "{record:?}");
}

/// Bug 3: change container a, then b inside the grace period: every pod must end on a:2 and
/// b:2, not a:1 b:2 counted as updated.
#[tokio::test]
async fn a_template_change_inside_the_grace_period_keeps_the_first_change() {
    crds().await;
    let client = client_as("cloneset-grace").await;
    let ns = TestNs::new(&client, "cs-grace").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({
        "replicas": 2,
        "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 2,
                           "inPlaceUpdateStrategy": {"gracePeriodSeconds": 6}},
        "template": {"spec": {"containers": [
            {"name": "a", "image": "busybox:1"}, {"name": "b", "image": "nginx:1"}]}}
    });
    sets.create(&PostParams::default(), &cs(n, "grace", spec))
        .await
        .unwrap();
    let ctl = spawn_controller(n, None).await;
    support::wait_for(&sets, "grace", T, "2 available", |c| all_at(c, 2)).await;
    let before = pods(&pod_api, "grace").await;

    let containers = |a: &str, b: &str| {
        json!({"template": {"spec": {"containers": [
            {"name": "a", "image": a}, {"name": "b", "image": b}]}}})
    };
    patch_spec(&sets, "grace", containers("busybox:2", "nginx:1")).await;
    // Both pods enter the grace period of the first change …
    support::wait_list(
        &pod_api,
        Some("app=grace"),
        T,
        "both pods in their grace period",
        |ps: &[Pod]| {
            ps.len() == 2
                && ps.iter().all(|p| {
                    p.annotations()
                        .contains_key("apps.kruise.io/inplace-update-grace")
                })
        },
    )
    .await;
    // … and the template changes again before it ends.
    patch_spec(&sets, "grace", containers("busybox:2", "nginx:2")).await;
    support::wait_for(&sets, "grace", T, "2 updated to the third revision", |c| {
        all_at(c, 2) && template_images(c) == ["busybox:2", "nginx:2"]
    })
    .await;
    let _ = stop(ctl).await;
    let after = pods(&pod_api, "grace").await;
    assert_eq!(uids(&after), uids(&before), "updated in place");
    for p in &after {
        assert_eq!(
            images(p),
            vec!["busybox:2", "nginx:2"],
            "{} kept both changes",
            p.name_any()
        );
    }
}

/// Bug 4: after ProgressDeadlineExceeded, removing progressDeadlineSeconds (and fixing the
/// image) must remove the condition on the server; `rollout status` then exits 0.
#[tokio::test]
async fn removing_the_progress_deadline_removes_the_condition() {
    crds().await;
    let client = client_as("cloneset-deadline").await;
    let ns = TestNs::new(&client, "cs-deadline").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({
        "replicas": 2, "progressDeadlineSeconds": 3,
        "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}
    });
    sets.create(&PostParams::default(), &cs(n, "stuck", spec))
        .await
        .unwrap();
    let ctl = spawn_controller(n, None).await;
    support::wait_for(&sets, "stuck", T, "2 available", |c| all_at(c, 2)).await;
    // An image that never starts: the release stalls past its deadline.
    patch_spec(
        &sets,
        "stuck",
        json!({"template": {"spec": {"containers": [{"name": "main", "image": "busybox:failed"}]}}}),
    )
    .await;
    let progressing = |c: &CloneSet| {
        c.status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "Progressing")
    };
    support::wait_for(&sets, "stuck", T, "ProgressDeadlineExceeded", |c| {
        progressing(c).is_some_and(|p| {
            p.status == "False" && p.reason.as_deref() == Some("ProgressDeadlineExceeded")
        })
    })
    .await;
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/stuck",
        "--watch=false",
    ])
    .await;
    assert_eq!(o.status.code(), Some(4), "deadline exceeded: exit 4");

    // The user removes the deadline and fixes the image.
    sets.patch(
        "stuck",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"progressDeadlineSeconds": null,
            "template": {"spec": {"containers": [{"name": "main", "image": "busybox:2"}]}}}})),
    )
    .await
    .unwrap();
    let done = support::wait_for(
        &sets,
        "stuck",
        T,
        "no Progressing condition, 2 updated",
        |c| progressing(c).is_none() && all_at(c, 2) && template_images(c) == ["busybox:2"],
    )
    .await;
    let _ = stop(ctl).await;
    assert!(progressing(&done).is_none());
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/stuck",
        "--watch=false",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
