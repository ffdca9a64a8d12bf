//! Advanced StatefulSet end to end (issue 14, item 1), with expectations from upstream's
//! controller and e2e: OrderedReady creates ordinal k+1 only once k is Ready, Parallel does not
//! wait; reserved ordinals stay empty; `scale --delete-pod` removes exactly that ordinal; a
//! partition of 3 of 5 updates ordinals 3 and 4 only, in place; the preDelete hook holds a
//! pod; kill -9 mid-update and a new controller updates every pod exactly once.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kubectl_kruise::api::statefulset::StatefulSet;
use serde_json::{Value, json};

use super::support::recorder::Recorder;
use super::support::{self, TestNs, client_as, stderr};
use super::{T, crds, ok, run, spawn_controller};

const CONTROLLER: &str = "statefulset";

fn asts(ns: &str, name: &str, replicas: i32, extra: Value) -> StatefulSet {
    let mut v = json!({
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"readinessGates": [{"conditionType": "InPlaceUpdateReady"}],
                         "containers": [{"name": "main", "image": "app:1"}]}}
        }
    });
    merge(&mut v["spec"], extra);
    serde_json::from_value(v).unwrap()
}

fn merge(into: &mut Value, extra: Value) {
    match (into, extra) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

async fn pods(api: &Api<Pod>, app: &str) -> Vec<Pod> {
    let mut v: Vec<Pod> = api
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    v.sort_by_key(ord);
    v
}

fn ord(p: &Pod) -> i64 {
    p.name_any()
        .rsplit('-')
        .next()
        .and_then(|o| o.parse().ok())
        .unwrap_or(-1)
}

fn names(v: &[Pod]) -> Vec<String> {
    v.iter().map(|p| p.name_any()).collect()
}

fn image(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map(|c| c.restart_count)
        .unwrap_or_default()
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn rested(s: &StatefulSet, want: i32) -> bool {
    s.status.as_ref().is_some_and(|st| {
        st.observed_generation >= s.metadata.generation
            && st.replicas == want
            && st.ready_replicas == want
            && st.updated_replicas == want
            && st.current_revision == st.update_revision
    })
}

/// SIGINT, then its output.
pub async fn stop(child: tokio::process::Child) -> std::process::Output {
    let pid = child.id().expect("running") as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let out = tokio::time::timeout(T, child.wait_with_output())
        .await
        .expect("exits")
        .expect("output");
    eprintln!(
        "controller run:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The order in which one watch saw each pod appear and first become Ready: the API server
/// delivers one resource's events in resourceVersion order, so "k+1 added after k Ready" in
/// this log is the order the writes happened in.
struct Log {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Log {
    async fn start(api: Api<Pod>, app: &str) -> Log {
        let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let s = seen.clone();
        let cfg = watcher::Config::default().labels(&format!("app={app}"));
        let task = tokio::spawn(async move {
            let mut stream = watcher::watcher(api, cfg)
                .default_backoff()
                .applied_objects()
                .boxed();
            while let Some(ev) = stream.next().await {
                let Ok(p) = ev else { continue };
                let mut log = s.lock().unwrap();
                let name = p.name_any();
                for (what, now) in [("added", true), ("ready", ready(&p))] {
                    let entry = (what.to_string(), name.clone());
                    if now && !log.contains(&entry) {
                        log.push(entry);
                    }
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        Log { seen, task }
    }

    fn finish(self) -> Vec<(String, String)> {
        assert!(
            !self.task.is_finished(),
            "the pod log stopped before the end"
        );
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

/// OrderedReady from 0 to 5: ordinal after ordinal, each created once the one before is
/// Ready; pod identity as upstream writes it. Then with pods that never become Ready:
/// OrderedReady stops at ordinal 0 while Parallel creates them all.
#[tokio::test]
async fn ordered_ready_waits_for_each_ordinal_and_parallel_does_not() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("asts-order").await;
    let ns = TestNs::new(&client, "asts-order").await;
    let n = ns.name.as_str();
    let sets: Api<StatefulSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let log = Log::start(pod_api.clone(), "web").await;
    sets.create(&PostParams::default(), &asts(n, "web", 0, json!({})))
        .await
        .unwrap();
    let ctl = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "web", T, "observed at 0", |s| rested(s, 0)).await;
    ok(&["-n", n, "scale", "asts/web", "--replicas", "5"]).await;
    support::wait_for(&sets, "web", T, "5 ready", |s| rested(s, 5)).await;
    let seen = log.finish();
    let at = |what: &str, name: &str| {
        seen.iter()
            .position(|(w, p)| w == what && p == name)
            .unwrap_or_else(|| panic!("{what} {name} never seen: {seen:?}"))
    };
    let added: Vec<&str> = seen
        .iter()
        .filter(|(w, _)| w == "added")
        .map(|(_, p)| p.as_str())
        .collect();
    assert_eq!(added, ["web-0", "web-1", "web-2", "web-3", "web-4"]);
    for k in 0..4 {
        assert!(
            at("added", &format!("web-{}", k + 1)) > at("ready", &format!("web-{k}")),
            "web-{} created before web-{k} was Ready: {seen:?}",
            k + 1
        );
    }
    let p3 = pod_api.get("web-3").await.unwrap();
    assert_eq!(p3.labels()["statefulset.kubernetes.io/pod-name"], "web-3");
    assert_eq!(p3.labels()["apps.kubernetes.io/pod-index"], "3");
    assert_eq!(p3.labels()["lifecycle.apps.kruise.io/state"], "Normal");
    let spec = p3.spec.unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-3"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
    let owner = &p3.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("StatefulSet", Some(true))
    );

    // Pods that never become Ready (kwok never pulls tag "failed").
    let never =
        json!({"template": {"spec": {"containers": [{"name": "main", "image": "app:failed"}]}}});
    let mut par = never.clone();
    merge(&mut par, json!({"podManagementPolicy": "Parallel"}));
    sets.create(&PostParams::default(), &asts(n, "par", 4, par))
        .await
        .unwrap();
    sets.create(&PostParams::default(), &asts(n, "ord", 4, never))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + T;
    while pods(&pod_api, "par").await.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "Parallel created all 4"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        names(&pods(&pod_api, "ord").await),
        ["ord-0"],
        "OrderedReady waits on ord-0"
    );
    let out = stop(ctl).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// reserveOrdinals [1] with 3 replicas: ordinals 0, 2, 3. `scale --replicas 2 --delete-pod
/// rs-2` removes exactly rs-2 (its ordinal reserved in the same write) and creates nothing;
/// a pod of another owner is refused and nothing changes.
#[tokio::test]
async fn reserved_ordinals_and_scale_delete_pod_remove_exactly_that_ordinal() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("asts-reserve").await;
    let ns = TestNs::new(&client, "asts-reserve").await;
    let n = ns.name.as_str();
    let sets: Api<StatefulSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"podManagementPolicy": "Parallel", "reserveOrdinals": [1]});
    sets.create(&PostParams::default(), &asts(n, "rs", 3, spec))
        .await
        .unwrap();
    let ctl = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "rs", T, "3 ready", |s| rested(s, 3)).await;
    assert_eq!(names(&pods(&pod_api, "rs").await), ["rs-0", "rs-2", "rs-3"]);

    let stranger: Pod =
        serde_json::from_value(json!({"metadata": {"name": "rs-9", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}))
        .unwrap();
    pod_api
        .create(&PostParams::default(), &stranger)
        .await
        .unwrap();
    let rv = sets.get("rs").await.unwrap().resource_version();
    let o = run(&[
        "-n",
        n,
        "scale",
        "asts/rs",
        "--replicas",
        "2",
        "--delete-pod",
        "rs-9",
    ])
    .await;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is not a pod of statefulset \"rs\""),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        sets.get("rs").await.unwrap().resource_version(),
        rv,
        "nothing changed"
    );

    let rec = Recorder::start(pod_api.clone(), "rs", 0).await;
    ok(&[
        "-n",
        n,
        "scale",
        "statefulsets.apps.kruise.io/rs",
        "--replicas",
        "2",
        "--delete-pod",
        "rs-2",
    ])
    .await;
    support::wait_for(&sets, "rs", T, "2 ready", |s| rested(s, 2)).await;
    let seen = rec.finish().await;
    assert_eq!(names(&pods(&pod_api, "rs").await), ["rs-0", "rs-3"]);
    assert_eq!(seen.deleted, ["rs-2"], "exactly rs-2 went");
    assert!(seen.created.is_empty(), "{:?}", seen.created);
    let reserved =
        serde_json::to_value(sets.get("rs").await.unwrap().spec.reserve_ordinals).unwrap();
    assert_eq!(reserved, json!([1, 2]));
    let out = stop(ctl).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// partition 3 of 5, InPlaceIfPossible: `set image --inplace` (the command drives the
/// embedded controller itself) updates ordinals 4 and 3 in place, UIDs kept, restart counts
/// +1; 0–2 keep the old image. Then the rollout commands: status, history, pause, undo.
#[tokio::test]
async fn partition_3_of_5_updates_ordinals_3_and_4_in_place() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("asts-partition").await;
    let ns = TestNs::new(&client, "asts-partition").await;
    let n = ns.name.as_str();
    let sets: Api<StatefulSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"updateStrategy": {"rollingUpdate": {"partition": 3, "podUpdatePolicy": "InPlaceIfPossible"}}});
    sets.create(&PostParams::default(), &asts(n, "pt", 5, spec))
        .await
        .unwrap();
    let ctl = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "pt", T, "5 ready", |s| rested(s, 5)).await;
    stop(ctl).await;
    let before = pods(&pod_api, "pt").await;

    let rec = Recorder::start(pod_api.clone(), "pt", 0).await;
    let plan = ok(&[
        "-n",
        n,
        "set",
        "image",
        "asts/pt",
        "main=app:2",
        "--inplace",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let planned: Vec<&str> = plan["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["actions"].as_array().unwrap())
        .filter(|a| a["action"] == "updateInPlace")
        .map(|a| a["pod"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["pt-4", "pt-3"], "{plan}");
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "asts/pt",
        "main=app:2",
        "--inplace",
    ])
    .await;
    let seen = rec.finish().await;
    let after = pods(&pod_api, "pt").await;
    assert_eq!(
        seen.updated_order,
        ["pt-4", "pt-3"],
        "one at a time, from the top"
    );
    assert!(
        seen.deleted.is_empty() && seen.created.is_empty(),
        "{seen:?}"
    );
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a.uid(), b.uid(), "{} kept", b.name_any());
        let updated = ord(b) >= 3;
        assert_eq!(
            image(b),
            if updated { "app:2" } else { "app:1" },
            "{}",
            b.name_any()
        );
        assert_eq!(
            restarts(b),
            restarts(a) + i32::from(updated),
            "{}",
            b.name_any()
        );
    }
    let status = ok(&["-n", n, "rollout", "status", "asts/pt", "--watch=false"]).await;
    assert!(
        status.contains("partitioned roll out complete: 2 new pods have been updated"),
        "{status}"
    );
    let history = ok(&["-n", n, "rollout", "history", "asts/pt"]).await;
    assert_eq!(
        history.lines().filter(|l| l.contains("pt-")).count(),
        2,
        "{history}"
    );

    ok(&["-n", n, "rollout", "pause", "asts/pt"]).await;
    let again = run(&["-n", n, "rollout", "pause", "asts/pt"]).await;
    assert!(
        !again.status.success() && stderr(&again).contains("already paused"),
        "{}",
        stderr(&again)
    );
    ok(&["-n", n, "rollout", "resume", "asts/pt"]).await;
    ok(&["-n", n, "rollout", "undo", "asts/pt"]).await;
    let back = pods(&pod_api, "pt").await;
    assert!(back.iter().all(|p| image(p) == "app:1"), "undone");
    assert_eq!(names(&back), names(&before));
    for (a, b) in before.iter().zip(&back) {
        assert_eq!(a.uid(), b.uid(), "undo in place too");
    }
}

/// A preDelete hook holds a scaled-in pod in PreparingDelete until the hook's label goes.
#[tokio::test]
async fn the_pre_delete_hook_holds_a_pod_until_released() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("asts-hook").await;
    let ns = TestNs::new(&client, "asts-hook").await;
    let n = ns.name.as_str();
    let sets: Api<StatefulSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"lifecycle": {"preDelete": {"labelsHandler": {"hold": "true"}}},
        "template": {"metadata": {"labels": {"app": "hk", "hold": "true"}}}});
    sets.create(&PostParams::default(), &asts(n, "hk", 2, spec))
        .await
        .unwrap();
    let ctl = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "hk", T, "2 ready", |s| rested(s, 2)).await;
    let pp = PatchParams::default();
    sets.patch("hk", &pp, &Patch::Merge(json!({"spec": {"replicas": 1}})))
        .await
        .unwrap();
    support::wait_for(&pod_api, "hk-1", T, "PreparingDelete", |p: &Pod| {
        p.labels()
            .get("lifecycle.apps.kruise.io/state")
            .map(String::as_str)
            == Some("PreparingDelete")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = pod_api.get("hk-1").await.unwrap();
    assert!(
        held.metadata.deletion_timestamp.is_none(),
        "held by the hook"
    );
    pod_api
        .patch(
            "hk-1",
            &pp,
            &Patch::Merge(json!({"metadata": {"labels": {"hold": null}}})),
        )
        .await
        .unwrap();
    support::wait_for(&sets, "hk", T, "1 replica", |s| rested(s, 1)).await;
    assert_eq!(names(&pods(&pod_api, "hk").await), ["hk-0"]);
    stop(ctl).await;
}

/// kill -9 of `controller run` in the middle of an 8-pod in-place update (Parallel,
/// maxUnavailable 2, minReadySeconds 1); a second one takes over after the Lease expires and
/// converges: every pod updated exactly once, none deleted, none extra.
#[tokio::test]
async fn kill_9_mid_update_then_a_new_controller_updates_each_pod_once() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("asts-kill").await;
    let ns = TestNs::new(&client, "asts-kill").await;
    let n = ns.name.as_str();
    let sets: Api<StatefulSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"podManagementPolicy": "Parallel",
        "updateStrategy": {"rollingUpdate": {"podUpdatePolicy": "InPlaceIfPossible", "maxUnavailable": 2, "minReadySeconds": 1}}});
    sets.create(&PostParams::default(), &asts(n, "big", 8, spec))
        .await
        .unwrap();
    let mut first = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "big", T, "8 ready", |s| rested(s, 8)).await;
    let before: BTreeSet<String> = pods(&pod_api, "big")
        .await
        .iter()
        .map(|p| p.uid().unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rec = Recorder::start(pod_api.clone(), "big", 1).await;
    sets.patch(
        "big",
        &PatchParams::default(),
        &Patch::Json::<()>(serde_json::from_value(json!([
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "app:2"}
        ])).unwrap()),
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + T;
    while rec.now().updated_order.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "{:?}", rec.now());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rec.now().updated_order.len() < 8, "killed mid-update");
    first.start_kill().unwrap();
    let _ = first.wait().await;
    let second = spawn_controller(n, CONTROLLER);
    support::wait_for(&sets, "big", T, "8 updated", |s| rested(s, 8)).await;
    let out = stop(second).await;
    assert!(
        stderr(&out).contains("standby:"),
        "the second waited for the Lease"
    );
    let seen = rec.finish().await;
    let after = pods(&pod_api, "big").await;
    let uids: BTreeSet<String> = after.iter().map(|p| p.uid().unwrap()).collect();
    assert_eq!(uids, before, "the same 8 pods");
    assert!(
        after
            .iter()
            .all(|p| image(p) == "app:2" && restarts(p) == 1),
        "each updated once"
    );
    assert!(
        seen.deleted.is_empty() && seen.created.is_empty(),
        "{seen:?}"
    );
    assert!(seen.max_unavailable <= 2, "maxUnavailable 2: {seen:?}");
}
