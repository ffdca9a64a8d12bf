//! The BatchRelease executor against upstream Kruise Rollout v0.6.2 (reference notes §1.5,
//! §2.8, §2.9): `pkg/controller/batchrelease/batchrelease_executor.go` (`Do`,
//! `progressBatches`), `batchrelease_status.go` (`syncStatusBeforeExecuting`,
//! `signalRecalculate`), `control/partitionstyle/cloneset/control.go`,
//! `control/canarystyle/deployment/{canary,stable}.go`, `context/context.go` (`IsBatchReady`)
//! and `labelpatch/patcher.go`.

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Map, Value, json};

use super::*;
use crate::controller::batchrelease::target::Canary;

const NOW: i64 = 1_750_000_000;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

/// Batches 2, 50 %, 100 % of the workload, released up to `partition`.
fn plan3(partition: Value) -> Value {
    json!({
        "batches": [{"canaryReplicas": 2}, {"canaryReplicas": "50%"}, {"canaryReplicas": "100%"}],
        "batchPartition": partition,
        "rolloutID": "id-1",
        "rollingStyle": "Partition",
    })
}

fn canary_plan(partition: Value) -> Value {
    let mut p = plan3(partition);
    p["rollingStyle"] = json!("Canary");
    p["enableExtraWorkloadForCanary"] = json!(true);
    p
}

/// A BatchRelease for workload `web` of `kind` ("CloneSet", "Deployment", "StatefulSet" for
/// the Advanced one), without a status.
fn br(kind: &str, plan: Value) -> BatchRelease {
    let api = match kind {
        "CloneSet" => "apps.kruise.io/v1alpha1",
        "StatefulSet" => "apps.kruise.io/v1beta1",
        _ => "apps/v1",
    };
    serde_json::from_value(json!({
        "apiVersion": "rollouts.kruise.io/v1beta1",
        "kind": "BatchRelease",
        "metadata": {
            "name": "web", "namespace": "t", "uid": "uid-br", "generation": 1,
            "finalizers": [keys::BR_FINALIZER],
        },
        "spec": {"workloadRef": {"apiVersion": api, "kind": kind, "name": "web"}, "releasePlan": plan},
    }))
    .unwrap()
}

/// A CloneSet of 10 claimed by the BatchRelease, every pod held back.
fn cloneset() -> Target {
    Target {
        kind: TargetKind::CloneSet,
        name: "web".into(),
        replicas: 10,
        consistent: true,
        stable_revision: "rev-stable".into(),
        update_revision: "rev-update".into(),
        updated: 0,
        updated_ready: 0,
        controlled: true,
        partition: Some(IntOrString::String("100%".into())),
        paused: false,
        stable: None,
        canary: None,
        stable_rolled: false,
        pod_revision: Some((keys::POD_TEMPLATE_HASH, "rev-update".into())),
        in_rollback: false,
        blue_green: None,
    }
}

fn stable_deployment() -> Deployment {
    serde_json::from_value(json!({
        "metadata": {
            "name": "web", "namespace": "t", "uid": "uid-web",
            "labels": {"app": "web", "team": "a"}, "annotations": {"owner": "me"},
        },
        "spec": {
            "replicas": 10, "paused": true,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:v2"}]},
            },
        },
    }))
    .unwrap()
}

/// The canary-style target: the stable Deployment (paused), and its canary if any.
fn deployment(canary: Option<Canary>) -> Target {
    Target {
        kind: TargetKind::Deployment,
        controlled: true,
        partition: None,
        stable: Some(stable_deployment()),
        canary,
        pod_revision: Some((keys::POD_TEMPLATE_HASH, "hash-canary".into())),
        ..cloneset()
    }
}

fn canary(replicas: i32, ready: i32) -> Canary {
    Canary {
        name: "web-x7k2p".into(),
        replicas,
        consistent: true,
        status_replicas: replicas,
        available: ready,
        has_finalizer: true,
        pod_hash: Some("hash-canary".into()),
    }
}

/// The status the special cases find nothing to say about, at `phase`/`batch`/`state`.
fn settle(b: &mut BatchRelease, t: &Target, phase: &str, batch: i32, state: &str) {
    let (updated, ready) = match (style(b), &t.canary) {
        (Style::Canary, Some(c)) => (c.status_replicas, c.available),
        (Style::Canary, None) => (0, 0),
        (Style::Partition | Style::BlueGreen, _) => (t.updated, t.updated_ready),
    };
    let preparing = phase == PREPARING;
    b.status = Some(BatchReleaseStatus {
        phase: Some(phase.into()),
        canary_status: Some(BatchReleaseCanaryStatus {
            batch_state: (!preparing).then(|| state.to_string()),
            current_batch: batch,
            batch_ready_time: None,
            updated_replicas: Some(updated),
            updated_ready_replicas: Some(ready),
            no_need_update_replicas: None,
        }),
        stable_revision: (!preparing).then(|| t.stable_revision.clone()),
        update_revision: (!preparing).then(|| t.update_revision.clone()),
        observed_generation: b.metadata.generation,
        observed_rollout_id: b.spec.release_plan.rollout_id.clone(),
        observed_workload_replicas: Some(if preparing { -1 } else { t.replicas }),
        observed_release_plan_hash: Some(hash::plan_hash(&b.spec.release_plan)),
        ..Default::default()
    });
}

fn settled(
    kind: &str,
    plan: Value,
    t: &Target,
    phase: &str,
    batch: i32,
    state: &str,
) -> BatchRelease {
    let mut b = br(kind, plan);
    settle(&mut b, t, phase, batch, state);
    b
}

fn run(b: &BatchRelease, t: &Target, pods: &[Pod]) -> Plan {
    let refs: Vec<&Pod> = pods.iter().collect();
    plan(b, Some(t), &refs, now())
}

fn cstatus(p: &Plan) -> &BatchReleaseCanaryStatus {
    p.status.canary_status.as_ref().unwrap()
}

fn state(p: &Plan) -> &str {
    cstatus(p).batch_state.as_deref().unwrap_or("")
}

fn pod(name: &str, rev: &str, ready: bool, labels: &[(&str, &str)]) -> Pod {
    let mut l = Map::new();
    l.insert(keys::POD_TEMPLATE_HASH.into(), rev.into());
    for (k, v) in labels {
        l.insert((*k).into(), (*v).into());
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "t", "labels": l},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
    }))
    .unwrap()
}

/// Updated pods already labelled for rollout `id-1`: `per_batch[i]` of them in batch i+1.
fn labelled(per_batch: &[usize]) -> Vec<Pod> {
    let mut pods = vec![];
    for (i, n) in per_batch.iter().enumerate() {
        let b = (i + 1).to_string();
        for j in 0..*n {
            pods.push(pod(
                &format!("web-b{}-{j}", i + 1),
                "rev-update",
                true,
                &[(keys::ROLLOUT_ID, "id-1"), (keys::BATCH_ID, &b)],
            ));
        }
    }
    pods
}

/// The control-info annotation a claim wrote, parsed.
fn control_info_of(patch: &Value) -> Value {
    let s = patch["metadata"]["annotations"][keys::CONTROL_INFO]
        .as_str()
        .expect("control-info set");
    serde_json::from_str(s).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The first pass and Preparing.

#[test]
fn first_pass_resets_status_and_adds_the_finalizer() {
    let mut b = br("CloneSet", plan3(json!(0)));
    b.metadata.finalizers = None;
    let t = Target {
        controlled: false,
        ..cloneset()
    };
    let p = run(&b, &t, &[]);
    assert_eq!(p.writes, vec![Write::AddFinalizer], "nothing claimed yet");
    let s = &p.status;
    assert_eq!(s.phase.as_deref(), Some(PREPARING));
    assert_eq!(s.observed_workload_replicas, Some(-1));
    assert_eq!(cstatus(&p).current_batch, 0);
    assert_eq!(
        s.observed_release_plan_hash.as_deref(),
        Some(hash::plan_hash(&b.spec.release_plan).as_str())
    );
    assert_eq!(s.observed_rollout_id.as_deref(), Some("id-1"));
    assert_eq!(s.observed_generation, Some(1));
    assert_eq!(p.requeue, Some(2), "persisted before acting");
}

#[test]
fn preparing_claims_a_cloneset_then_progresses() {
    let t = Target {
        controlled: false,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(0)), &t, PREPARING, 0, "");
    let p = run(&b, &t, &[]);
    let [Write::PatchWorkload(patch)] = &p.writes[..] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(
        patch["spec"],
        json!({"updateStrategy": {"paused": false, "partition": "100%"}})
    );
    let info = control_info_of(patch);
    assert_eq!(info["kind"], "BatchRelease");
    assert_eq!(info["name"], "web");
    assert_eq!(info["uid"], "uid-br");
    assert_eq!(info["controller"], true);
    assert_eq!(p.status.phase.as_deref(), Some(PROGRESSING));
    assert_eq!(p.status.stable_revision.as_deref(), Some("rev-stable"));
    assert_eq!(p.status.update_revision.as_deref(), Some("rev-update"));
    assert_eq!(p.status.observed_workload_replicas, Some(10));
    // Already claimed: no patch.
    let t = cloneset();
    let b = settled("CloneSet", plan3(json!(0)), &t, PREPARING, 0, "");
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty(), "{:?}", p.writes);
    assert_eq!(p.status.phase.as_deref(), Some(PROGRESSING));
}

// ---------------------------------------------------------------------------------------------
// Progressing: Upgrading → Verifying → Ready.

#[test]
fn upgrading_writes_the_batch_partition_then_verifying() {
    let t = cloneset();
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, UPGRADING);
    let p = run(&b, &t, &[]);
    // An int batch: an int partition, replicas - 2.
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(
            json!({"spec": {"updateStrategy": {"partition": 8}}})
        )]
    );
    assert_eq!(state(&p), VERIFYING);
    assert_eq!(p.requeue, Some(2));
    // A percentage batch: a percentage of stable pods.
    let t = Target {
        partition: Some(IntOrString::Int(8)),
        updated: 2,
        updated_ready: 2,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(1)), &t, PROGRESSING, 1, UPGRADING);
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(
            json!({"spec": {"updateStrategy": {"partition": "50%"}}})
        )]
    );
    assert_eq!(state(&p), VERIFYING);
}

#[test]
fn upgrading_only_ever_lowers_the_partition() {
    let t = Target {
        partition: Some(IntOrString::Int(3)),
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(1)), &t, PROGRESSING, 1, UPGRADING);
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty(), "{:?}", p.writes);
    assert_eq!(state(&p), VERIFYING);
}

#[test]
fn upgrading_an_advanced_statefulset() {
    let t = Target {
        kind: TargetKind::AdvancedStatefulSet,
        partition: Some(IntOrString::Int(32767)),
        pod_revision: Some((keys::CONTROLLER_REVISION_HASH, "rev-update".into())),
        ..cloneset()
    };
    let b = settled(
        "StatefulSet",
        plan3(json!(0)),
        &t,
        PROGRESSING,
        0,
        UPGRADING,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(
            json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 8}}}})
        )]
    );
}

/// `IsBatchReady`: updated ≥ desired, updated-ready + failureThreshold (of updated) ≥ desired,
/// some updated pod ready, and the planned pods labelled with the rollout id.
#[test]
fn verifying_is_ready_only_when_the_batch_is() {
    // (updated, ready, failureThreshold, ready?) for batch 0 (2 pods).
    let cases: [(i32, i32, Option<&str>, bool); 8] = [
        (1, 1, None, false),
        // 100 % of 1 updated tolerates 1 unready, yet 1 updated pod is not 2.
        (1, 1, Some("100%"), false),
        (2, 1, None, false),
        (2, 2, None, true),
        (3, 1, Some("50%"), true),
        (3, 0, Some("100%"), false),
        (2, 1, Some("1"), true),
        (2, 1, Some("0%"), false),
    ];
    for (updated, ready, threshold, ok) in cases {
        let t = Target {
            partition: Some(IntOrString::Int(8)),
            updated,
            updated_ready: ready,
            ..cloneset()
        };
        let mut plan = plan3(json!(0));
        if let Some(f) = threshold {
            plan["failureThreshold"] = match f.parse::<i32>() {
                Ok(n) => json!(n),
                Err(_) => json!(f),
            };
        }
        let b = settled("CloneSet", plan, &t, PROGRESSING, 0, VERIFYING);
        let p = run(&b, &t, &labelled(&[2]));
        let why = format!("updated {updated} ready {ready} threshold {threshold:?}");
        if ok {
            assert_eq!(state(&p), READY, "{why}");
            assert_eq!(
                cstatus(&p).batch_ready_time.clone().map(|t| t.0),
                Some(now()),
                "{why}"
            );
        } else {
            // The batch done again (upstream: back to Upgrading, then again Verifying) in
            // one pass: Verifying, the wait said.
            assert_eq!(state(&p), VERIFYING, "{why}");
            assert!(p.message.is_some(), "{why}");
        }
        assert_eq!(cstatus(&p).current_batch, 0, "{why}");
    }
}

#[test]
fn a_failure_threshold_of_20_percent_of_10_tolerates_2_unready() {
    for (ready, ok) in [(8, true), (7, false), (10, true)] {
        let t = Target {
            partition: Some(IntOrString::String("0%".into())),
            updated: 10,
            updated_ready: ready,
            ..cloneset()
        };
        let mut plan = plan3(json!(2));
        plan["failureThreshold"] = json!("20%");
        let b = settled("CloneSet", plan, &t, PROGRESSING, 2, VERIFYING);
        let p = run(&b, &t, &labelled(&[2, 3, 5]));
        assert_eq!(state(&p) == READY, ok, "{ready} ready of 10");
    }
}

#[test]
fn verifying_waits_for_the_rollout_id_labels() {
    // Two updated ready pods, none labelled and none to label (only stable pods listed).
    let t = Target {
        partition: Some(IntOrString::Int(8)),
        updated: 2,
        updated_ready: 2,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, VERIFYING);
    let stable = [pod("web-s0", "rev-stable", true, &[])];
    let p = run(&b, &t, &stable);
    assert_eq!(state(&p), VERIFYING);
    assert!(p.message.is_some());
    assert!(p.writes.is_empty(), "stable pods are never labelled");
}

#[test]
fn unlabelled_pods_are_labelled_with_their_batch() {
    // Batch 2 (50 % = 5 pods): 2 labelled in batch 1; 3 updated pods to label (one carries
    // an older rollout id) in batch 2; stable pods untouched.
    let t = Target {
        partition: Some(IntOrString::String("50%".into())),
        updated: 5,
        updated_ready: 5,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(1)), &t, PROGRESSING, 1, VERIFYING);
    let mut pods = labelled(&[2]);
    pods.push(pod("web-u0", "rev-update", true, &[]));
    pods.push(pod("web-u1", "rev-update", true, &[]));
    pods.push(pod(
        "web-u2",
        "rev-update",
        true,
        &[(keys::ROLLOUT_ID, "id-0"), (keys::BATCH_ID, "1")],
    ));
    pods.push(pod("web-s0", "rev-stable", true, &[]));
    pods.push(pod("web-s1", "rev-stable", true, &[]));
    let p = run(&b, &t, &pods);
    let mut named: Vec<&str> = vec![];
    for w in &p.writes {
        let Write::LabelPod { name, patch } = w else {
            panic!("{w:?}")
        };
        assert_eq!(
            patch,
            &json!({"metadata": {"labels": {
                keys::ROLLOUT_ID: "id-1", keys::BATCH_ID: "2"}}})
        );
        named.push(name);
    }
    named.sort();
    assert_eq!(named, ["web-u0", "web-u1", "web-u2"]);
}

#[test]
fn ready_moves_on_only_when_the_partition_allows() {
    let t = Target {
        partition: Some(IntOrString::Int(8)),
        updated: 2,
        updated_ready: 2,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(1)), &t, PROGRESSING, 0, READY);
    let p = run(&b, &t, &labelled(&[2]));
    assert_eq!(cstatus(&p).current_batch, 1);
    assert_eq!(state(&p), UPGRADING);
    assert!(p.writes.is_empty());
    // batchPartition == currentBatch: the state the Rollout waits for, unchanged.
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, READY);
    let p = run(&b, &t, &labelled(&[2]));
    assert_eq!(Some(&p.status), b.status.as_ref());
    assert!(p.writes.is_empty());
    // Ready but no longer ready (a pod went away): the batch again.
    let t = Target {
        updated_ready: 0,
        ..t
    };
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, READY);
    let p = run(&b, &t, &labelled(&[2]));
    assert_eq!(state(&p), VERIFYING);
    assert_eq!(cstatus(&p).batch_ready_time, None);
}

// ---------------------------------------------------------------------------------------------
// Finalizing.

#[test]
fn a_null_batch_partition_finalizes_then_completes() {
    let t = Target {
        partition: Some(IntOrString::String("0%".into())),
        updated: 10,
        updated_ready: 10,
        ..cloneset()
    };
    let mut b = settled("CloneSet", plan3(Value::Null), &t, PROGRESSING, 2, READY);
    let p = run(&b, &t, &labelled(&[2, 3, 5]));
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    assert!(p.writes.is_empty(), "persisted before acting");
    assert_eq!(p.requeue, Some(2));
    b.status = Some(p.status);
    let p = run(&b, &t, &[]);
    let [Write::PatchWorkload(patch)] = &p.writes[..] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(
        patch,
        &json!({
            "metadata": {"annotations": {keys::CONTROL_INFO: null}},
            "spec": {"updateStrategy": {"partition": null, "paused": false}},
        })
    );
    assert_eq!(p.status.phase.as_deref(), Some(COMPLETED));
    b.status = Some(p.status);
    let t = Target {
        controlled: false,
        partition: None,
        ..t
    };
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some(COMPLETED));
    // Deleted once completed: the finalizer goes.
    b.metadata.deletion_timestamp = Some(Time(now()));
    let p = run(&b, &t, &[]);
    assert_eq!(p.writes, vec![Write::RemoveFinalizer]);
}

#[test]
fn deleted_mid_plan_releases_control_but_keeps_the_partition() {
    let t = Target {
        partition: Some(IntOrString::Int(8)),
        updated: 2,
        updated_ready: 2,
        ..cloneset()
    };
    let mut b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, READY);
    b.metadata.deletion_timestamp = Some(Time(now()));
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    b.status = Some(p.status);
    let p = run(&b, &t, &[]);
    let release =
        Write::PatchWorkload(json!({"metadata": {"annotations": {keys::CONTROL_INFO: null}}}));
    assert_eq!(p.writes.first(), Some(&release));
    assert_eq!(p.status.phase.as_deref(), Some(COMPLETED));
    // Upstream drops the finalizer on the pass that reads Completed; ours may already in the
    // finalising pass, but never before the workload is released.
    assert!(p.writes[1..].iter().all(|w| *w == Write::RemoveFinalizer));
    b.status = Some(p.status);
    let p = run(&b, &t, &[]);
    assert_eq!(p.writes, vec![Write::RemoveFinalizer]);
}

// ---------------------------------------------------------------------------------------------
// Special cases before executing.

#[test]
fn a_changed_plan_recalculates_the_batch() {
    let t = Target {
        partition: Some(IntOrString::Int(8)),
        updated: 2,
        updated_ready: 2,
        ..cloneset()
    };
    // (batchPartition, observed rollout id, expected current batch)
    for (bp, observed, want) in [(1, "id-1", 1), (7, "id-1", 2), (1, "id-0", 0)] {
        let mut b = settled("CloneSet", plan3(json!(bp)), &t, PROGRESSING, 0, READY);
        let st = b.status.as_mut().unwrap();
        st.observed_release_plan_hash = Some("old".into());
        st.observed_rollout_id = Some(observed.into());
        st.canary_status.as_mut().unwrap().batch_ready_time = Some(Time(now()));
        let p = run(&b, &t, &labelled(&[2]));
        let why = format!("batchPartition {bp}, observed {observed}");
        assert_eq!(cstatus(&p).current_batch, want, "{why}");
        assert_eq!(state(&p), UPGRADING, "{why}");
        assert_eq!(cstatus(&p).batch_ready_time, None, "{why}");
        assert_eq!(
            p.status.observed_release_plan_hash.as_deref(),
            Some(hash::plan_hash(&b.spec.release_plan).as_str()),
            "{why}"
        );
        assert_eq!(p.status.observed_rollout_id.as_deref(), Some("id-1"));
        assert!(p.writes.is_empty(), "{why}: persisted first");
    }
}

#[test]
fn a_scaled_workload_restarts_the_batch() {
    let t = Target {
        partition: Some(IntOrString::Int(5)),
        updated: 5,
        updated_ready: 5,
        ..cloneset()
    };
    let mut b = settled("CloneSet", plan3(json!(1)), &t, PROGRESSING, 1, READY);
    b.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .batch_ready_time = Some(Time(now()));
    let t = Target { replicas: 12, ..t };
    let p = run(&b, &t, &labelled(&[2, 3]));
    assert_eq!(p.status.observed_workload_replicas, Some(12));
    assert_eq!(cstatus(&p).current_batch, 1);
    assert_eq!(state(&p), UPGRADING);
    assert_eq!(cstatus(&p).batch_ready_time, None);
    assert!(p.writes.is_empty());
}

#[test]
fn a_new_update_revision_stops_the_batch_release() {
    let t = cloneset();
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, UPGRADING);
    let t = Target {
        update_revision: "rev-v3".into(),
        ..t
    };
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty(), "no partition written: {:?}", p.writes);
    assert_eq!(p.status.update_revision.as_deref(), Some("rev-v3"));
    assert_eq!(state(&p), UPGRADING);
    assert_eq!(p.status.phase.as_deref(), Some(PROGRESSING));
}

#[test]
fn an_unstable_workload_waits() {
    let t = Target {
        consistent: false,
        ..cloneset()
    };
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, UPGRADING);
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty());
    assert_eq!(state(&p), UPGRADING);
}

#[test]
fn a_batch_beyond_the_plan_restarts_everything() {
    let t = cloneset();
    let b = settled("CloneSet", plan3(json!(2)), &t, PROGRESSING, 3, READY);
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(PREPARING));
    assert_eq!(cstatus(&p).current_batch, 0);
    assert!(p.writes.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Canary style: a Deployment with an extra canary Deployment.

#[test]
fn canary_style_claims_and_creates_the_canary_deployment() {
    let mut plan = canary_plan(json!(0));
    plan["patchPodTemplateMetadata"] =
        json!({"labels": {"tier": "canary"}, "annotations": {"note": "x"}});
    let t = Target {
        controlled: false,
        ..deployment(None)
    };
    let b = settled("Deployment", plan, &t, PREPARING, 0, "");
    let p = run(&b, &t, &[]);
    let [Write::PatchWorkload(claim), Write::CreateCanary(d)] = &p.writes[..] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(
        claim.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["metadata"],
        "the BatchRelease does not pause the stable Deployment"
    );
    assert_eq!(control_info_of(claim)["uid"], "uid-br");
    let m = &d.metadata;
    assert_eq!(m.generate_name.as_deref(), Some("web-"));
    assert_eq!(m.name, None);
    assert_eq!(m.namespace.as_deref(), Some("t"));
    assert_eq!(
        m.labels,
        Some([(keys::CANARY_DEPLOYMENT.to_string(), "web".to_string())].into()),
        "only the canary label, none of the stable Deployment's"
    );
    let a = m.annotations.as_ref().unwrap();
    assert_eq!(a.keys().collect::<Vec<_>>(), [keys::CONTROL_INFO]);
    let info: Value = serde_json::from_str(&a[keys::CONTROL_INFO]).unwrap();
    assert_eq!(
        (info["name"].as_str(), info["uid"].as_str()),
        (Some("web"), Some("uid-br"))
    );
    assert_eq!(m.finalizers, Some(vec![keys::CANARY_FINALIZER.to_string()]));
    let o = &m.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (
            o.kind.as_str(),
            o.name.as_str(),
            o.uid.as_str(),
            o.controller
        ),
        ("BatchRelease", "web", "uid-br", Some(true))
    );
    let spec = d.spec.as_ref().unwrap();
    let stable = stable_deployment().spec.unwrap();
    assert_eq!(spec.replicas, Some(0));
    assert_eq!(spec.paused, Some(false));
    assert_eq!(spec.selector, stable.selector);
    assert_eq!(spec.strategy, stable.strategy);
    assert_eq!(spec.template.spec, stable.template.spec);
    let tm = spec.template.metadata.as_ref().unwrap();
    assert_eq!(
        tm.labels,
        Some(
            [
                ("app".to_string(), "web".to_string()),
                ("tier".to_string(), "canary".to_string())
            ]
            .into()
        )
    );
    assert_eq!(
        tm.annotations,
        Some([("note".to_string(), "x".to_string())].into())
    );
    assert_eq!(
        p.status.phase.as_deref(),
        Some(PREPARING),
        "until the canary is seen"
    );
    // Seen (and claimed): Progressing, nothing written.
    let t = deployment(Some(canary(0, 0)));
    let b = settled("Deployment", canary_plan(json!(0)), &t, PREPARING, 0, "");
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty(), "{:?}", p.writes);
    assert_eq!(p.status.phase.as_deref(), Some(PROGRESSING));
}

#[test]
fn canary_style_only_scales_the_canary_up() {
    // Batch 2: 50 % of 10 = 5 canary pods.
    let t = deployment(Some(canary(1, 1)));
    let b = settled(
        "Deployment",
        canary_plan(json!(1)),
        &t,
        PROGRESSING,
        1,
        UPGRADING,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchCanary {
            name: "web-x7k2p".into(),
            patch: json!({"spec": {"replicas": 5}}),
        }]
    );
    assert_eq!(state(&p), VERIFYING);
    // More than wanted already (a backward jump): never scaled down.
    let t = deployment(Some(canary(6, 6)));
    let b = settled(
        "Deployment",
        canary_plan(json!(1)),
        &t,
        PROGRESSING,
        1,
        UPGRADING,
    );
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty());
    assert_eq!(state(&p), VERIFYING);
    // The canary's own controller has not caught up: wait in Upgrading.
    let c = Canary {
        consistent: false,
        ..canary(1, 1)
    };
    let t = deployment(Some(c));
    let b = settled(
        "Deployment",
        canary_plan(json!(1)),
        &t,
        PROGRESSING,
        1,
        UPGRADING,
    );
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty());
    assert_eq!(state(&p), UPGRADING);
}

#[test]
fn canary_style_reads_readiness_from_the_canary() {
    let t = deployment(Some(canary(2, 2)));
    let mut b = settled(
        "Deployment",
        canary_plan(json!(0)),
        &t,
        PROGRESSING,
        0,
        VERIFYING,
    );
    // The workload's own figures are not the canary's.
    let t = Target {
        updated: 9,
        updated_ready: 9,
        ..t
    };
    let p = run(&b, &t, &[]);
    assert_eq!(cstatus(&p).updated_replicas, Some(2));
    assert_eq!(cstatus(&p).updated_ready_replicas, Some(2));
    // Ready once its two pods are labelled (they are the canary's: pod-template-hash).
    let mut pods = labelled(&[2]);
    for p in &mut pods {
        p.metadata
            .labels
            .as_mut()
            .unwrap()
            .insert(keys::POD_TEMPLATE_HASH.into(), "hash-canary".into());
    }
    b.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .batch_state = Some(VERIFYING.into());
    let p = run(&b, &t, &pods);
    assert_eq!(state(&p), READY);
}

#[test]
fn canary_style_finalize_resumes_the_stable_deployment_and_frees_the_canary() {
    let t = deployment(Some(canary(10, 10)));
    let mut b = settled(
        "Deployment",
        canary_plan(Value::Null),
        &t,
        FINALIZING,
        2,
        READY,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(json!({
            "metadata": {"annotations": {keys::CONTROL_INFO: null}},
            "spec": {"paused": false},
        }))]
    );
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    b.status = Some(p.status);
    // Released and resumed: the canary's finalizer goes (GC deletes it with the BatchRelease).
    let mut stable = stable_deployment();
    stable.spec.as_mut().unwrap().paused = Some(false);
    let t = Target {
        controlled: false,
        stable: Some(stable),
        ..t
    };
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchCanary {
            name: "web-x7k2p".into(),
            patch: json!({"metadata": {"finalizers": []}}),
        }]
    );
    b.status = Some(p.status);
    let t = Target {
        canary: Some(Canary {
            has_finalizer: false,
            ..canary(10, 10)
        }),
        ..t
    };
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty());
    assert_eq!(p.status.phase.as_deref(), Some(COMPLETED));
}

#[test]
fn canary_style_finalize_mid_plan_keeps_the_stable_deployment_paused() {
    // A continuous release deletes the BatchRelease with batchPartition set.
    let t = deployment(Some(canary(1, 1)));
    let mut b = settled(
        "Deployment",
        canary_plan(json!(0)),
        &t,
        PROGRESSING,
        0,
        READY,
    );
    b.metadata.deletion_timestamp = Some(Time(now()));
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    b.status = Some(p.status);
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(json!({
            "metadata": {"annotations": {keys::CONTROL_INFO: null}},
            "spec": {"paused": true},
        }))]
    );
}

#[test]
fn canary_style_wait_resume_waits_for_the_stable_rollout() {
    let mut stable = stable_deployment();
    stable.spec.as_mut().unwrap().paused = Some(false);
    let t = Target {
        controlled: false,
        stable: Some(stable),
        ..deployment(Some(canary(10, 10)))
    };
    let mut plan = canary_plan(Value::Null);
    plan["finalizingPolicy"] = json!("WaitResume");
    let b = settled("Deployment", plan, &t, FINALIZING, 2, READY);
    let p = run(&b, &t, &[]);
    assert!(p.writes.is_empty(), "the canary kept: {:?}", p.writes);
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    assert_eq!(p.requeue, Some(2));
    let t = Target {
        stable_rolled: true,
        ..t
    };
    let p = run(&b, &t, &[]);
    assert!(matches!(p.writes[..], [Write::PatchCanary { .. }]));
}

// ---- Blue-green style (`control/bluegreenstyle`) ----

fn blue_green_plan(partition: Value) -> Value {
    let mut p = plan3(partition);
    p["rollingStyle"] = json!("BlueGreen");
    p
}

/// A blue-green CloneSet of 10: claimed (`claimed`) or not, with an HPA aimed at it.
fn blue_green_cloneset(claimed: bool) -> Target {
    let f = super::bluegreen::Facts {
        strategy_type: Some("ReCreate".into()),
        max_surge: Some(IntOrString::Int(1)),
        max_unavailable: Some(IntOrString::Int(0)),
        min_ready: super::bluegreen::MAX_READY_SECONDS,
        original: claimed.then(|| r#"{"maxSurge":"0%","maxUnavailable":"20%"}"#.into()),
        status_replicas: 10,
        hpa: Some(super::bluegreen::Hpa {
            name: "hpa".into(),
            api_version: "apps.kruise.io/v1alpha1".into(),
            kind: "CloneSet".into(),
            target: if claimed {
                "web-DisableByRollout"
            } else {
                "web"
            }
            .into(),
        }),
        ..Default::default()
    };
    Target {
        controlled: claimed,
        partition: None,
        blue_green: Some(f),
        ..cloneset()
    }
}

/// Preparing claims: the HPA pointed away first, then the workload's strategy saved and
/// rewritten, in one pass; then Progressing.
#[test]
fn blue_green_claims_hpa_then_workload() {
    let t = blue_green_cloneset(false);
    let b = settled("CloneSet", blue_green_plan(json!(0)), &t, PREPARING, 0, "");
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(PROGRESSING));
    assert!(
        matches!(&p.writes[0], Write::PatchHpa { name, patch }
            if name == "hpa" && patch["spec"]["scaleTargetRef"]["name"] == "web-DisableByRollout"),
        "{:?}",
        p.writes
    );
    let Write::PatchWorkload(w) = &p.writes[1] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(w["spec"]["updateStrategy"]["maxSurge"], 1);
    assert_eq!(
        w["spec"]["minReadySeconds"],
        super::bluegreen::MAX_READY_SECONDS
    );
    assert!(w["metadata"]["annotations"][super::bluegreen::ORIGINAL].is_string());
}

/// Upgrading raises the surge and removes the partition; the batch waits for the new pods
/// with no failure threshold.
#[test]
fn blue_green_upgrades_by_surge() {
    let t = blue_green_cloneset(true);
    let b = settled(
        "CloneSet",
        blue_green_plan(json!(0)),
        &t,
        PROGRESSING,
        0,
        UPGRADING,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(state(&p), VERIFYING);
    assert_eq!(
        p.writes,
        vec![Write::PatchWorkload(
            json!({"spec": {"updateStrategy": {"partition": null, "maxSurge": 2}}})
        )]
    );
    // Two new pods, one not ready: not ready, and told why.
    let t = Target {
        updated: 2,
        updated_ready: 1,
        ..blue_green_cloneset(true)
    };
    let b = settled(
        "CloneSet",
        blue_green_plan(json!(0)),
        &t,
        PROGRESSING,
        0,
        VERIFYING,
    );
    let p = run(&b, &t, &labelled(&[2]));
    assert_eq!(state(&p), VERIFYING);
    assert!(p.message.is_some());
}

/// The template back at the stable revision mid-release: the BatchRelease waits (blue-green
/// rolls back by traffic, the Rollout finalises it), it does not abort or restart.
#[test]
fn blue_green_rollback_waits() {
    let mut t = blue_green_cloneset(true);
    t.in_rollback = true;
    t.update_revision = "rev-stable".into();
    let b = settled(
        "CloneSet",
        blue_green_plan(json!(0)),
        &cloneset(),
        PROGRESSING,
        0,
        VERIFYING,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(
        p.message.as_deref(),
        Some("workload is preparing rollback, wait condition to be satisfied")
    );
    assert!(p.writes.is_empty());
    assert_eq!(state(&p), VERIFYING);
}

/// A null batch partition finalises: the settings back first (not done), then once every
/// pod is updated and ready, the HPA back, and Completed.
#[test]
fn blue_green_finalize_restores_in_order() {
    let t = blue_green_cloneset(true);
    let b = settled(
        "CloneSet",
        blue_green_plan(Value::Null),
        &t,
        FINALIZING,
        0,
        READY,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(FINALIZING));
    let Write::PatchWorkload(w) = &p.writes[0] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(w["spec"]["updateStrategy"]["maxUnavailable"], "20%");
    assert_eq!(
        w["metadata"]["annotations"][super::bluegreen::ORIGINAL],
        Value::Null
    );
    let mut t = blue_green_cloneset(true);
    let f = t.blue_green.as_mut().unwrap();
    f.original = None;
    f.ready = 10;
    t.controlled = false;
    t.updated = 10;
    t.updated_ready = 10;
    let b = settled(
        "CloneSet",
        blue_green_plan(Value::Null),
        &t,
        FINALIZING,
        0,
        READY,
    );
    let p = run(&b, &t, &[]);
    assert_eq!(p.status.phase.as_deref(), Some(COMPLETED));
    assert!(matches!(&p.writes[..], [Write::PatchHpa { patch, .. }]
        if patch["spec"]["scaleTargetRef"]["name"] == "web"));
}

// ---------------------------------------------------------------------------------------------
// settle: the passes upstream runs one status write apart, chained in memory.

/// Passes as upstream runs them: each stores its status, the next reads it; the first that has
/// writes to make (or changes nothing) ends the series. Returns it and how many ran.
fn one_write_apart(mut b: BatchRelease, t: &Target) -> (Plan, usize) {
    for n in 1.. {
        let p = run(&b, t, &[]);
        if !p.writes.is_empty() || b.status.as_ref() == Some(&p.status) {
            return (p, n);
        }
        b.status = Some(p.status.clone());
    }
    unreachable!()
}

#[test]
fn settle_ends_where_passes_one_status_write_apart_end() {
    let t = cloneset();
    // New (reset → Preparing), claimed (→ Progressing), then the first batch's partition.
    let b = br("CloneSet", plan3(json!(0)));
    let (by_passes, n) = one_write_apart(b.clone(), &t);
    assert!(n >= 3, "the case must chain: {n} passes");
    let p = super::settle(&b, Some(&t), &[], now());
    assert_eq!(p.status, by_passes.status);
    assert_eq!(p.writes, by_passes.writes);
    assert_eq!(state(&p), VERIFYING, "upgraded in the same pass");
    // A pass with writes is never chained past: the workload must be seen first.
    let b = settled("CloneSet", plan3(json!(0)), &t, PROGRESSING, 0, UPGRADING);
    let first = run(&b, &t, &[]);
    assert!(!first.writes.is_empty());
    assert_eq!(super::settle(&b, Some(&t), &[], now()).status, first.status);
}
