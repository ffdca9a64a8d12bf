//! The Rollout planner against upstream Kruise Rollout v0.6.2 (reference notes §1.4, §2, §3.1):
//! `pkg/controller/rollout/rollout_status.go` (`calculateRolloutStatus`),
//! `rollout_progressing.go` (`reconcileRolloutProgressing`, `doProgressingInRolling`),
//! `rollout_canary.go` (`runCanary`, `doCanaryPaused`, `doCanaryFinalising`) and
//! `rollout_releaseManager.go` (`runBatchRelease`, `finalizingBatchRelease`). Every pass is pure:
//! a Rollout, the workload's facts, the BatchRelease and the network objects go in; the writes,
//! the new status and the requeue come out.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::api::batchrelease::BatchRelease;
use crate::api::rollout::{Rollout, RolloutCondition, RolloutStatus};
use crate::controller::rollout::hash;
use crate::controller::rollout::keys;
use crate::controller::rollout::workload::{Facts, TargetKind};

const NOW: i64 = 1_750_000_000;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

/// `secs` before now, as the API writes times.
fn ago(secs: i64) -> String {
    Timestamp::from_second(NOW - secs).unwrap().to_string()
}

fn time_ago(secs: i64) -> Time {
    Time(Timestamp::from_second(NOW - secs).unwrap())
}

/// Three steps without traffic: 1 pod (approval), 50 % (60 s), 100 % (approval).
fn plain() -> Value {
    json!({
        "enableExtraWorkloadForCanary": true,
        "steps": [
            {"replicas": 1, "pause": {}},
            {"replicas": "50%", "pause": {"duration": 60}},
            {"replicas": "100%", "pause": {}},
        ]
    })
}

/// Three steps with nginx traffic through Service `web` and Ingress `web`.
fn routed(grace: i32) -> Value {
    json!({
        "enableExtraWorkloadForCanary": true,
        "trafficRoutings": [{"service": "web", "gracePeriodSeconds": grace, "ingress": {"name": "web"}}],
        "steps": [
            {"replicas": 1, "traffic": "10%", "pause": {}},
            {"replicas": "50%", "traffic": "50%", "pause": {}},
            {"replicas": "100%", "pause": {}},
        ]
    })
}

/// A canary-style Deployment Rollout whose plan hash annotation is current.
fn rollout(canary: Value) -> Rollout {
    let mut r: Rollout = serde_json::from_value(json!({
        "apiVersion": "rollouts.kruise.io/v1beta1",
        "kind": "Rollout",
        "metadata": {
            "name": "web", "namespace": "t", "uid": "uid-ro", "generation": 1,
            "resourceVersion": "7", "finalizers": [keys::ROLLOUT_FINALIZER],
        },
        "spec": {
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "strategy": {"canary": canary},
        },
    }))
    .unwrap();
    let h = plan_hash(&r);
    r.metadata.annotations = Some([(keys::HASH.to_string(), h)].into());
    r
}

fn plan_hash(r: &Rollout) -> String {
    hash::rollout_hash(&r.spec.strategy)
}

fn set_status(r: &mut Rollout, v: Value) {
    r.status = Some(serde_json::from_value(v).unwrap());
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, secs_ago: i64) -> Value {
    json!({
        "type": type_, "status": status, "reason": reason, "message": message,
        "lastUpdateTime": ago(secs_ago), "lastTransitionTime": ago(secs_ago),
    })
}

/// A canary sub-status at `index`/`state`, as a release started from `facts()` leaves it.
fn sub(r: &Rollout, index: i32, state: &str) -> Value {
    let n = steps(r).len() as i32;
    json!({
        "observedWorkloadGeneration": 2,
        "observedRolloutID": "rev-canary",
        "rolloutHash": plan_hash(r),
        "stableRevision": "rev-stable",
        "podTemplateHash": "hash-canary",
        "currentStepIndex": index,
        "nextStepIndex": if index >= n { -1 } else { index + 1 },
        "finalisingStep": "",
        "currentStepState": state,
        "lastUpdateTime": ago(60),
        "canaryRevision": "rev-canary",
        "canaryReplicas": 0,
        "canaryReadyReplicas": 0,
    })
}

/// Status Progressing with the condition at `reason` (updated two minutes ago).
fn progressing(r: &mut Rollout, reason: &str, sub: Value) {
    let (i, s) = (
        sub["currentStepIndex"].clone(),
        sub["currentStepState"].clone(),
    );
    set_status(
        r,
        json!({
            "observedGeneration": 1, "phase": "Progressing", "message": "Rollout is in Progressing",
            "conditions": [condition("Progressing", "True", reason, "Rollout is in Progressing", 120)],
            "canaryStatus": sub, "currentStepIndex": i, "currentStepState": s,
        }),
    );
}

fn in_rolling(canary: Value, index: i32, state: &str) -> Rollout {
    let mut r = rollout(canary);
    let s = sub(&r, index, state);
    progressing(&mut r, "InRolling", s);
    r
}

/// The workload: a Deployment of 10 pods, released (held by the webhook) from `rev-stable` to
/// `rev-canary`.
fn facts() -> Facts {
    Facts {
        replicas: 10,
        generation: 2,
        stable_revision: "rev-stable".into(),
        canary_revision: "rev-canary".into(),
        pod_template_hash: "hash-canary".into(),
        in_progressing: true,
        in_rollback: false,
        consistent: true,
        rollout_id: None,
        paused: true,
        changed: true,
        has_type_label: true,
        hold_revision: None,
        surging: false,
    }
}

fn service(selector: Value) -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "t", "uid": "uid-svc"},
        "spec": {"selector": selector, "ports": [{"port": 80}]},
    }))
    .unwrap()
}

fn canary_service() -> Service {
    serde_json::from_value(json!({
        "metadata": {"name": "web-canary", "namespace": "t"},
        "spec": {"selector": {"app": "web", "pod-template-hash": "hash-canary"}, "ports": [{"port": 80}]},
    }))
    .unwrap()
}

fn ingress(name: &str, service: &str) -> Ingress {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "t"},
        "spec": {"rules": [{"host": "web.example", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": service, "port": {"number": 80}}},
        }]}}]},
    }))
    .unwrap()
}

/// The network of a release mid-way: stable Service pinned, canary Service and Ingress made.
fn mid_release_net() -> Net {
    Net {
        stable_service: Some(service(
            json!({"app": "web", "pod-template-hash": "rev-stable"}),
        )),
        canary_service: Some(canary_service()),
        ingress: Some(ingress("web", "web")),
        canary_ingress: Some(ingress("web-canary", "web-canary")),
        route: None,
    }
}

/// The BatchRelease upstream's `createBatchRelease` makes for step `index` of `r`, reported
/// Ready at that batch by the BatchRelease controller.
fn ready_br(r: &Rollout, index: i32) -> BatchRelease {
    let batches: Vec<Value> = steps(r)
        .iter()
        .map(|s| json!({"canaryReplicas": s.replicas}))
        .collect();
    let mut br: BatchRelease = serde_json::from_value(json!({
        "apiVersion": "rollouts.kruise.io/v1beta1",
        "kind": "BatchRelease",
        "metadata": {"name": "web", "namespace": "t", "uid": "uid-br", "generation": 3},
        "spec": {
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "releasePlan": {
                "batches": batches, "batchPartition": index - 1, "rolloutID": "rev-canary",
                "rollingStyle": "Canary", "enableExtraWorkloadForCanary": true,
            },
        },
        "status": {
            "phase": "Progressing", "observedGeneration": 3, "observedRolloutID": "rev-canary",
            "canaryStatus": {"currentBatch": index - 1, "batchState": "Ready",
                             "updatedReplicas": 1, "updatedReadyReplicas": 1},
        },
    }))
    .unwrap();
    let h = hash::plan_hash(&br.spec.release_plan);
    br.status.as_mut().unwrap().observed_release_plan_hash = Some(h);
    br
}

/// One reconcile's inputs.
struct World {
    r: Rollout,
    kind: Option<TargetKind>,
    f: Option<Facts>,
    br: Option<BatchRelease>,
    net: Net,
    now: Timestamp,
    graces: BTreeMap<Grace, Duration>,
}

impl World {
    fn new(r: Rollout) -> World {
        World {
            r,
            kind: Some(TargetKind::Deployment),
            f: Some(facts()),
            br: None,
            net: Net::default(),
            now: now(),
            graces: BTreeMap::new(),
        }
    }

    /// One pass; the top-level step fields always mirror the sub-status (upstream
    /// `updateRolloutStatusInternal`).
    fn plan(&self) -> Plan {
        self.pass(plan)
    }

    fn pass(&self, how: fn(&Snapshot) -> Plan) -> Plan {
        let s = Snapshot {
            rollout: &self.r,
            kind: self.kind,
            workload: self.f.clone(),
            br: self.br.as_ref(),
            net: &self.net,
            now: self.now,
            graces: &self.graces,
        };
        let p = how(&s);
        assert_mirrored(&p.status);
        p
    }

    /// Passes chained in memory (`settle`), as the reconciler runs them.
    fn settle(&self) -> Plan {
        self.pass(settle)
    }

    /// One pass, then its writes carried out on the world (and the BatchRelease controller
    /// finishing what it is told), its status stored.
    fn step(&mut self) -> Plan {
        let p = self.plan();
        for w in &p.writes {
            self.apply(w);
        }
        self.r.status = Some(p.status.clone());
        p
    }

    fn apply(&mut self, w: &Write) {
        match w {
            Write::PatchRollout(v) => {
                if let Some(h) = v
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(keys::HASH))
                {
                    let a = self
                        .r
                        .metadata
                        .annotations
                        .get_or_insert_with(Default::default);
                    a.insert(keys::HASH.into(), h.as_str().unwrap().into());
                }
                if let Some(f) = v.pointer("/metadata/finalizers") {
                    self.r.metadata.finalizers = serde_json::from_value(f.clone()).unwrap();
                }
            }
            Write::PatchWorkload(v) => {
                let a = v.pointer("/metadata/annotations").unwrap();
                assert_eq!(a[keys::IN_PROGRESSING], Value::Null);
                if let Some(f) = self.f.as_mut() {
                    f.in_progressing = false;
                }
            }
            Write::CreateBatchRelease(b) => self.br = Some((**b).clone()),
            Write::UpdateBatchRelease(b) => self.br = Some((**b).clone()),
            Write::PatchBatchRelease(v) => {
                let br = self
                    .br
                    .as_mut()
                    .expect("patching a BatchRelease that exists");
                let plan = &v["spec"]["releasePlan"];
                if plan.get("batchPartition") == Some(&Value::Null) {
                    br.spec.release_plan.batch_partition = None;
                    br.spec.release_plan.finalizing_policy =
                        serde_json::from_value(plan["finalizingPolicy"].clone()).unwrap();
                    // The BatchRelease controller finalises before the next pass.
                    br.status.as_mut().unwrap().phase = Some("Completed".into());
                }
                if let Some(id) = plan.get("rolloutID") {
                    br.spec.release_plan.rollout_id = Some(id.as_str().unwrap().into());
                }
            }
            Write::DeleteBatchRelease => self.br = None,
            Write::PatchService { name, patch } => {
                let svc = if self
                    .net
                    .stable_service
                    .as_ref()
                    .and_then(|s| s.metadata.name.as_ref())
                    == Some(name)
                {
                    self.net.stable_service.as_mut().unwrap()
                } else {
                    self.net.canary_service.as_mut().unwrap()
                };
                let sel = svc
                    .spec
                    .as_mut()
                    .unwrap()
                    .selector
                    .get_or_insert_with(Default::default);
                for (k, v) in patch["spec"]["selector"].as_object().unwrap() {
                    match v.as_str() {
                        Some(v) => sel.insert(k.clone(), v.into()),
                        None => sel.remove(k),
                    };
                }
            }
            Write::DeleteService(_) => self.net.canary_service = None,
            Write::CreateService(s) => self.net.canary_service = Some((**s).clone()),
            Write::DeleteIngress(_) => self.net.canary_ingress = None,
            Write::CreateIngress(i) => self.net.canary_ingress = Some((**i).clone()),
            Write::PatchIngress { .. } | Write::ReplaceRouteRules(_) => {}
        }
    }
}

fn assert_mirrored(st: &RolloutStatus) {
    let c = st
        .canary_status
        .as_ref()
        .map(|c| &c.common)
        .or(st.blue_green_status.as_ref().map(|b| &b.common));
    if let Some(c) = c {
        assert_eq!(st.current_step_index, c.current_step_index, "mirror: index");
        assert_eq!(st.current_step_state, c.current_step_state, "mirror: state");
    }
}

fn cond<'a>(st: &'a RolloutStatus, type_: &str) -> Option<&'a RolloutCondition> {
    st.conditions.iter().flatten().find(|c| c.type_ == type_)
}

fn reason(st: &RolloutStatus) -> &str {
    cond(st, PROGRESSING).map_or("", |c| c.reason.as_str())
}

fn common(st: &RolloutStatus) -> &CommonStatus {
    &st.canary_status.as_ref().expect("a canary status").common
}

/// The writes other than the plan-hash patch.
fn writes(p: &Plan) -> Vec<&Write> {
    p.writes
        .iter()
        .filter(|w| !matches!(w, Write::PatchRollout(_)))
        .collect()
}

fn at(t: Time) -> Timestamp {
    t.0
}

// ---------------------------------------------------------------------------------------------
// The phase machine (`calculateRolloutStatus`, reference notes §2.2).

#[test]
fn empty_phase_with_workload_is_healthy_in_one_pass() {
    // Upstream: "" → Initial, then the switch moves Initial → Healthy in the same pass.
    let mut w = World::new(rollout(plain()));
    w.f.as_mut().unwrap().in_progressing = false;
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(HEALTHY));
    assert_eq!(p.status.message.as_deref(), Some("rollout is healthy"));
    assert!(p.status.canary_status.is_none(), "filled on the next pass");
    assert_eq!(p.status.observed_generation, Some(1));
    assert!(writes(&p).is_empty());
}

#[test]
fn empty_phase_without_workload_is_initial() {
    let mut w = World::new(rollout(plain()));
    w.f = None;
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(INITIAL));
    assert_eq!(p.status.message.as_deref(), Some("Workload Not Found"));
}

#[test]
fn initial_becomes_healthy() {
    let mut r = rollout(plain());
    set_status(
        &mut r,
        json!({"phase": "Initial", "message": "Workload Not Found"}),
    );
    let mut w = World::new(r);
    w.f.as_mut().unwrap().in_progressing = false;
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(HEALTHY));
    assert_eq!(p.status.message.as_deref(), Some("rollout is healthy"));
}

#[test]
fn healthy_with_a_release_becomes_progressing_initializing() {
    let mut r = rollout(plain());
    let done = sub(&r, 3, COMPLETED);
    set_status(
        &mut r,
        json!({
            "observedGeneration": 1, "phase": "Healthy", "message": "rollout is healthy",
            "conditions": [
                condition("Progressing", "False", "Completed", "Rollout progressing has been completed", 900),
                condition("Succeeded", "True", "", "", 900),
            ],
            "canaryStatus": done, "currentStepIndex": 3, "currentStepState": "Completed",
        }),
    );
    let w = World::new(r);
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(PHASE_PROGRESSING));
    let c = cond(&p.status, PROGRESSING).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
        ("True", "Initializing", "Rollout is in Progressing")
    );
    // A status change: the condition is replaced, so lastUpdateTime is now (the 3 s wait of
    // Initializing counts from it).
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert!(cond(&p.status, SUCCEEDED).is_none(), "Succeeded removed");
    // The phase the pass started from (Healthy) decides the work: nothing else yet.
    assert_eq!(common(&p.status).current_step_state, COMPLETED);
    assert!(writes(&p).is_empty());
}

#[test]
fn healthy_first_deploy_looks_completed() {
    let mut r = rollout(plain());
    set_status(
        &mut r,
        json!({"phase": "Healthy", "message": "rollout is healthy"}),
    );
    let mut w = World::new(r);
    let f = w.f.as_mut().unwrap();
    f.in_progressing = false;
    f.rollout_id = Some("v7".into());
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(HEALTHY));
    assert_eq!(
        p.status.message.as_deref(),
        Some("workload deployment is completed")
    );
    let cs = p.status.canary_status.as_ref().unwrap();
    let c = &cs.common;
    assert_eq!(c.current_step_index, 3, "len(steps)");
    assert_eq!(c.next_step_index, -1);
    assert_eq!(c.current_step_state, COMPLETED);
    assert_eq!(c.stable_revision.as_deref(), Some("rev-stable"));
    assert_eq!(c.pod_template_hash, "hash-canary");
    assert_eq!(
        c.observed_rollout_id.as_deref(),
        Some("v7"),
        "the label wins"
    );
    assert_eq!(c.observed_workload_generation, Some(2));
    assert_eq!(c.rollout_hash.as_deref(), Some(plan_hash(&w.r).as_str()));
    assert_eq!(cs.canary_revision, "rev-canary");
    assert_eq!(p.status.current_step_index, 3);
    assert_eq!(p.status.current_step_state, COMPLETED);
}

#[test]
fn healthy_first_deploy_without_rollout_id_label_observes_the_revision() {
    let mut r = rollout(plain());
    set_status(&mut r, json!({"phase": "Healthy"}));
    let mut w = World::new(r);
    w.f.as_mut().unwrap().in_progressing = false;
    let p = w.plan();
    assert_eq!(
        common(&p.status).observed_rollout_id.as_deref(),
        Some("rev-canary")
    );
}

#[test]
fn missing_workload_resets_to_initial() {
    let mut w = World::new(in_rolling(plain(), 2, STEP_PAUSED));
    w.f = None;
    let p = w.plan();
    assert_eq!(
        p.status,
        RolloutStatus {
            observed_generation: Some(1),
            phase: Some(INITIAL.into()),
            message: Some("Workload Not Found".into()),
            ..Default::default()
        }
    );
    assert!(writes(&p).is_empty());
}

#[test]
fn inconsistent_workload_changes_nothing_and_rechecks() {
    // Upstream returns "retry in 3 s" before any status is built.
    let mut w = World::new(in_rolling(plain(), 1, STEP_UPGRADE));
    w.f.as_mut().unwrap().consistent = false;
    let p = w.plan();
    assert_eq!(Some(&p.status), w.r.status.as_ref());
    assert_eq!(p.requeue, Some(RECHECK));
    assert!(writes(&p).is_empty());
}

/// Upstream `Reconcile` returns on `calculateRolloutStatus`'s retry before any status is
/// written: a Rollout whose generation moved on is not reported observed.
#[test]
fn inconsistent_workload_does_not_observe_a_new_generation() {
    let mut r = in_rolling(plain(), 1, STEP_UPGRADE);
    r.metadata.generation = Some(2);
    let mut w = World::new(r);
    w.f.as_mut().unwrap().consistent = false;
    let p = w.plan();
    assert_eq!(Some(&p.status), w.r.status.as_ref());
    assert_eq!(p.status.observed_generation, Some(1));
    assert_eq!(p.requeue, Some(RECHECK));
}

#[test]
fn disabled_mid_progressing_is_disabling() {
    let mut r = in_rolling(plain(), 2, STEP_PAUSED);
    r.spec.disabled = true;
    let p = World::new(r).plan();
    assert_eq!(p.status.phase.as_deref(), Some(DISABLING));
    assert_eq!(
        p.status.message.as_deref(),
        Some("Disabling rollout, release resources")
    );
}

#[test]
fn disabled_when_healthy_is_disabled_and_back() {
    let mut r = rollout(plain());
    set_status(&mut r, json!({"phase": "Healthy"}));
    r.spec.disabled = true;
    let mut w = World::new(r);
    w.f.as_mut().unwrap().in_progressing = false;
    let p = w.step();
    assert_eq!(p.status.phase.as_deref(), Some(DISABLED));
    assert_eq!(p.status.message.as_deref(), Some("Rollout is disabled"));
    w.r.spec.disabled = false;
    let p = w.plan();
    assert_eq!(p.status.phase.as_deref(), Some(HEALTHY));
    assert_eq!(p.status.message.as_deref(), Some("rollout is healthy"));
}

#[test]
fn deleting_is_terminating() {
    let mut r = in_rolling(plain(), 2, STEP_PAUSED);
    r.metadata.deletion_timestamp = Some(time_ago(1));
    let p = World::new(r).plan();
    assert_eq!(p.status.phase.as_deref(), Some(PHASE_TERMINATING));
    let c = cond(&p.status, TERMINATING).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
        ("True", "InTerminating", "Rollout is in terminating")
    );
}

#[test]
fn plan_hash_patched_when_missing_or_stale_only() {
    let mut r = rollout(plain());
    set_status(&mut r, json!({"phase": "Healthy"}));
    let want = plan_hash(&r);
    let patch = Write::PatchRollout(json!({"metadata": {"annotations": {keys::HASH: want}}}));
    let mut w = World::new(r.clone());
    w.f.as_mut().unwrap().in_progressing = false;
    assert!(!w.plan().writes.contains(&patch), "current: no patch");
    w.r.metadata.annotations = None;
    assert_eq!(w.plan().writes.first(), Some(&patch));
    w.r.metadata.annotations = Some([(keys::HASH.to_string(), "stale".to_string())].into());
    assert_eq!(w.plan().writes.first(), Some(&patch));
}

/// Upstream `calculateRolloutHash` stores the new hash in the Rollout it goes on with, so a
/// release initialised in the pass that patches the hash records the new one.
#[test]
fn initializing_records_the_hash_patched_in_the_same_pass() {
    let mut r = rollout(plain());
    let want = plan_hash(&r);
    let s = sub(&r, 1, BEFORE_STEP_UPGRADE);
    progressing(&mut r, "Initializing", s);
    r.metadata.annotations = Some([(keys::HASH.to_string(), "stale".to_string())].into());
    let p = World::new(r).plan();
    assert_eq!(reason(&p.status), "InRolling");
    assert_eq!(
        common(&p.status).rollout_hash.as_deref(),
        Some(want.as_str())
    );
}

/// And a plan edit is seen as one in the pass that patches the new hash (upstream
/// `isRolloutPlanChanged` reads the updated annotation).
#[test]
fn a_plan_edit_is_handled_in_the_pass_that_patches_the_hash() {
    // Step 1 now wants 2 pods. The BatchRelease released step 1's single pod, which the new
    // step 1 covers: the target is step 1, not the natural next (2), so a jump to step 1
    // again, which must upgrade (2 pods wanted, none counted).
    let mut r = in_rolling(plain(), 1, STEP_PAUSED);
    let old = ready_br(&r, 1);
    r.spec.strategy.canary.as_mut().unwrap().steps[0].replicas = Some(IntOrString::Int(2));
    let want = plan_hash(&r);
    let mut w = World::new(r);
    w.br = Some(old);
    let p = w.plan();
    assert!(matches!(p.writes.first(), Some(Write::PatchRollout(_))));
    let c = common(&p.status);
    assert_eq!(c.rollout_hash.as_deref(), Some(want.as_str()));
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert_eq!(
        (
            c.current_step_index,
            c.next_step_index,
            c.current_step_state.as_str()
        ),
        (1, 2, BEFORE_STEP_UPGRADE)
    );
}

// ---------------------------------------------------------------------------------------------
// Initializing (reference notes §2.4).

fn initializing(canary: Value, cond_secs_ago: i64) -> Rollout {
    let mut r = rollout(canary);
    // What a Healthy → Progressing pass leaves: the old (completed) sub-status, a new condition.
    let mut old = sub(&r, 3, COMPLETED);
    old["finalisingStep"] = json!("END");
    old["canaryReplicas"] = json!(10);
    old["canaryRevision"] = json!("rev-old");
    progressing(&mut r, "Initializing", old);
    let c = &mut r.status.as_mut().unwrap().conditions.as_mut().unwrap()[0];
    c.last_update_time = Some(time_ago(cond_secs_ago));
    r
}

#[test]
fn initializing_waits_three_seconds_rebuilding_the_sub_status() {
    let p = World::new(initializing(plain(), 1)).plan();
    assert_eq!(reason(&p.status), "Initializing");
    assert_eq!(p.requeue, Some(RECHECK));
    let cs = p.status.canary_status.as_ref().unwrap();
    let c = &cs.common;
    assert_eq!(c.current_step_index, 1);
    assert_eq!(c.next_step_index, 2);
    assert_eq!(c.current_step_state, BEFORE_STEP_UPGRADE);
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert_eq!(c.finalising_step, "", "rebuilt from scratch");
    assert_eq!(c.pod_template_hash, "", "left to runCanary");
    assert_eq!(c.stable_revision.as_deref(), Some("rev-stable"));
    assert_eq!(c.observed_rollout_id.as_deref(), Some("rev-canary"));
    assert_eq!(c.observed_workload_generation, Some(2));
    assert_eq!(
        c.rollout_hash.as_deref(),
        Some(plan_hash(&rollout(plain())).as_str())
    );
    assert_eq!(cs.canary_revision, "rev-canary");
    assert_eq!(cs.canary_replicas, 0);
    assert!(writes(&p).is_empty());
}

#[test]
fn initializing_moves_to_in_rolling_after_three_seconds() {
    for secs in [3, 4, 600] {
        let p = World::new(initializing(plain(), secs)).plan();
        assert_eq!(reason(&p.status), "InRolling", "{secs} s after");
        assert_eq!(
            p.status.message.as_deref(),
            Some("Rollout is in Progressing")
        );
        assert_eq!(common(&p.status).current_step_state, BEFORE_STEP_UPGRADE);
        assert_eq!(p.status.current_step_index, 1);
    }
}

#[test]
fn initializing_a_single_step_has_no_next_step() {
    let one = json!({"enableExtraWorkloadForCanary": true, "steps": [{"replicas": "100%"}]});
    let p = World::new(initializing(one, 10)).plan();
    assert_eq!(common(&p.status).next_step_index, -1);
}

// ---------------------------------------------------------------------------------------------
// The step machine (`runCanary`, reference notes §2.6).

#[test]
fn a_step_without_traffic_enters_step_upgrade_and_stops() {
    let w = World::new(in_rolling(plain(), 1, BEFORE_STEP_UPGRADE));
    let p = w.plan();
    let c = common(&p.status);
    assert_eq!(c.current_step_state, STEP_UPGRADE);
    assert_eq!(
        c.last_update_time.clone().map(at),
        Some(at(time_ago(60))),
        "not touched"
    );
    assert!(
        writes(&p).is_empty(),
        "the BatchRelease waits for the next pass"
    );
    assert_eq!(p.requeue, None);
}

#[test]
fn traffic_step_one_pins_the_stable_service_and_falls_through() {
    let mut w = World::new(in_rolling(routed(0), 1, BEFORE_STEP_UPGRADE));
    w.net = Net {
        stable_service: Some(service(json!({"app": "web"}))),
        ingress: Some(ingress("web", "web")),
        ..Default::default()
    };
    let p = w.plan();
    let ws = writes(&p);
    assert_eq!(
        ws[0],
        &Write::PatchService {
            name: "web".into(),
            patch: json!({"spec": {"selector": {"pod-template-hash": "rev-stable"}}}),
        }
    );
    assert!(
        matches!(ws[1], Write::CreateBatchRelease(_)),
        "StepUpgrade in the same pass: {ws:?}"
    );
    assert_eq!(ws.len(), 2);
    let c = common(&p.status);
    assert_eq!(c.current_step_state, STEP_UPGRADE);
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
}

#[test]
fn traffic_step_one_waits_the_grace_period_after_pinning() {
    let mut w = World::new(in_rolling(routed(5), 1, BEFORE_STEP_UPGRADE));
    w.net = Net {
        stable_service: Some(service(json!({"app": "web"}))),
        ingress: Some(ingress("web", "web")),
        ..Default::default()
    };
    let p = w.plan();
    let ws = writes(&p);
    assert!(matches!(ws[..], [Write::PatchService { .. }]), "{ws:?}");
    assert_eq!(common(&p.status).current_step_state, BEFORE_STEP_UPGRADE);
    assert_eq!(p.requeue, Some(Duration::from_secs(5)));
    // Pinned, and the grace is over: on to StepUpgrade.
    w.net.stable_service = Some(service(
        json!({"app": "web", "pod-template-hash": "rev-stable"}),
    ));
    let p = w.plan();
    assert_eq!(common(&p.status).current_step_state, STEP_UPGRADE);
    assert!(matches!(writes(&p)[..], [Write::CreateBatchRelease(_)]));
}

#[test]
fn step_upgrade_creates_the_batch_release_and_waits() {
    let mut r = in_rolling(plain(), 1, STEP_UPGRADE);
    r.spec.strategy.canary.as_mut().unwrap().failure_threshold =
        Some(IntOrString::String("20%".into()));
    let p = World::new(r).plan();
    let ws = writes(&p);
    let [Write::CreateBatchRelease(br)] = ws[..] else {
        panic!("one BatchRelease created: {ws:?}");
    };
    assert_eq!(br.metadata.name.as_deref(), Some("web"));
    assert_eq!(br.metadata.namespace.as_deref(), Some("t"));
    let o = &br.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (
            o.kind.as_str(),
            o.name.as_str(),
            o.uid.as_str(),
            o.controller
        ),
        ("Rollout", "web", "uid-ro", Some(true))
    );
    assert_eq!(br.spec.workload_ref.kind, "Deployment");
    assert_eq!(br.spec.workload_ref.name, "web");
    let plan = serde_json::to_value(&br.spec.release_plan).unwrap();
    assert_eq!(
        plan,
        json!({
            "batches": [{"canaryReplicas": 1}, {"canaryReplicas": "50%"}, {"canaryReplicas": "100%"}],
            "batchPartition": 0,
            "rolloutID": "rev-canary",
            "failureThreshold": "20%",
            "rollingStyle": "Canary",
            "enableExtraWorkloadForCanary": true,
        })
    );
    assert!(br.metadata.annotations.is_none());
    assert_eq!(common(&p.status).current_step_state, STEP_UPGRADE);
    assert_eq!(
        p.status.message.as_deref(),
        Some("Rollout is in step(1/3), and upgrade workload to new version")
    );
    // The per-step text reaches status.message only, never the condition.
    assert_eq!(
        cond(&p.status, PROGRESSING).unwrap().message,
        "Rollout is in Progressing"
    );
}

#[test]
fn batch_release_rollout_id_is_the_label_else_the_revision() {
    let mut w = World::new(in_rolling(plain(), 2, STEP_UPGRADE));
    w.f.as_mut().unwrap().rollout_id = Some("v2".into());
    let p = w.plan();
    let Write::CreateBatchRelease(br) = writes(&p)[0] else {
        panic!()
    };
    assert_eq!(br.spec.release_plan.rollout_id.as_deref(), Some("v2"));
    assert_eq!(br.spec.release_plan.batch_partition, Some(1));
    w.f.as_mut().unwrap().rollout_id = Some(String::new());
    let p = w.plan();
    let Write::CreateBatchRelease(br) = writes(&p)[0] else {
        panic!()
    };
    assert_eq!(
        br.spec.release_plan.rollout_id.as_deref(),
        Some("rev-canary")
    );
}

/// A CloneSet rolled back in batches (annotation on, no traffic): the BatchRelease is marked
/// and its rollout id says rollback (upstream `getRolloutID`, `createBatchRelease`).
#[test]
fn batch_release_in_a_rollback_in_batches() {
    let mut r = rollout(json!({"steps": [{"replicas": 2}, {"replicas": "100%"}]}));
    r.spec.workload_ref.api_version = "apps.kruise.io/v1alpha1".into();
    r.spec.workload_ref.kind = "CloneSet".into();
    let h = plan_hash(&r);
    r.metadata.annotations = Some(
        [
            (keys::HASH.to_string(), h),
            (keys::ROLLBACK_IN_BATCH.to_string(), "true".to_string()),
        ]
        .into(),
    );
    let s = sub(&r, 1, STEP_UPGRADE);
    progressing(&mut r, "InRolling", s);
    let mut w = World::new(r);
    w.kind = Some(TargetKind::CloneSet);
    w.f.as_mut().unwrap().in_rollback = true;
    let p = w.plan();
    let Write::CreateBatchRelease(br) = writes(&p)[0] else {
        panic!("{:?}", p.writes)
    };
    assert_eq!(
        br.spec.release_plan.rollout_id.as_deref(),
        Some("rollback-rev-canary")
    );
    assert_eq!(
        br.metadata.annotations,
        Some([(keys::ROLLBACK_IN_BATCH.to_string(), "true".to_string())].into())
    );
    assert_eq!(
        br.spec.release_plan.rolling_style,
        Some(crate::api::batchrelease::RollingStyle::Partition)
    );
}

#[test]
fn step_upgrade_waits_for_a_ready_current_batch_release() {
    let r = in_rolling(plain(), 2, STEP_UPGRADE);
    let ready = ready_br(&r, 2);
    let mut not_ready: Vec<(&str, BatchRelease)> = vec![];
    let mut b = ready.clone();
    b.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .batch_state = Some("Verifying".into());
    not_ready.push(("verifying", b));
    let mut b = ready.clone();
    b.status.as_mut().unwrap().observed_release_plan_hash = Some("old".into());
    not_ready.push(("plan hash not observed", b));
    let mut b = ready.clone();
    b.metadata.generation = Some(4);
    not_ready.push(("generation not observed", b));
    let mut b = ready.clone();
    b.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .current_batch = 0;
    not_ready.push(("an earlier batch", b));
    for (why, b) in not_ready {
        let mut w = World::new(r.clone());
        w.br = Some(b);
        let p = w.plan();
        assert_eq!(common(&p.status).current_step_state, STEP_UPGRADE, "{why}");
        assert!(writes(&p).is_empty(), "{why}: {:?}", p.writes);
    }
    // Its plan is an older step's: rewritten (Update), still waiting.
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 1));
    let p = w.plan();
    let ws = writes(&p);
    let [Write::UpdateBatchRelease(b)] = ws[..] else {
        panic!("{ws:?}")
    };
    assert_eq!(b.spec.release_plan.batch_partition, Some(1));
    assert_eq!(b.metadata.generation, Some(3), "the read object, updated");
    assert_eq!(common(&p.status).current_step_state, STEP_UPGRADE);
}

#[test]
fn step_upgrade_done_moves_to_traffic_routing() {
    let mut r = in_rolling(plain(), 2, STEP_UPGRADE);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .pod_template_hash = "hash-old".into();
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 2));
    let p = w.plan();
    assert!(writes(&p).is_empty(), "{:?}", p.writes);
    let cs = p.status.canary_status.as_ref().unwrap();
    assert_eq!(cs.common.current_step_state, STEP_TRAFFIC_ROUTING);
    assert_eq!(cs.common.last_update_time.clone().map(at), Some(now()));
    assert_eq!(
        cs.common.pod_template_hash, "hash-canary",
        "the latest pods"
    );
    assert_eq!((cs.canary_replicas, cs.canary_ready_replicas), (1, 1));
    assert_eq!(
        cs.common.message.as_deref(),
        Some("BatchRelease is at state Ready, rollout-id rev-canary, step 2")
    );
    assert!(
        p.events
            .iter()
            .any(|e| e.message == "upgrade step(2) canary pods with new versions done")
    );
}

#[test]
fn partition_style_all_pods_skips_traffic_routing() {
    // ingress-nginx#9635 workaround: a partition step releasing every pod goes straight to
    // StepMetricsAnalysis.
    let mut r = rollout(json!({"steps": [{"replicas": 2}, {"replicas": "100%"}]}));
    r.spec.workload_ref.api_version = "apps.kruise.io/v1alpha1".into();
    r.spec.workload_ref.kind = "CloneSet".into();
    let h = plan_hash(&r);
    r.metadata.annotations = Some([(keys::HASH.to_string(), h)].into());
    let s = sub(&r, 2, STEP_UPGRADE);
    progressing(&mut r, "InRolling", s);
    let mut br = ready_br(&r, 2);
    br.spec.workload_ref = r.spec.workload_ref.clone();
    br.spec.release_plan.rolling_style = Some(crate::api::batchrelease::RollingStyle::Partition);
    br.spec.release_plan.enable_extra_workload_for_canary = false;
    let h = hash::plan_hash(&br.spec.release_plan);
    br.status.as_mut().unwrap().observed_release_plan_hash = Some(h);
    let mut w = World::new(r);
    w.kind = Some(TargetKind::CloneSet);
    w.br = Some(br);
    let p = w.plan();
    assert!(writes(&p).is_empty(), "{:?}", p.writes);
    assert_eq!(common(&p.status).current_step_state, STEP_METRICS_ANALYSIS);
}

#[test]
fn a_step_without_traffic_passes_traffic_routing_and_metrics_analysis() {
    let mut w = World::new(in_rolling(plain(), 1, STEP_TRAFFIC_ROUTING));
    let p = w.step();
    let c = common(&p.status);
    assert_eq!(c.current_step_state, STEP_METRICS_ANALYSIS);
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert_eq!(p.requeue, Some(RECHECK));
    w.now = now() + Duration::from_secs(3);
    let p = w.step();
    let c = common(&p.status);
    assert_eq!(c.current_step_state, STEP_PAUSED);
    assert_eq!(
        c.last_update_time.clone().map(at),
        Some(now()),
        "MetricsAnalysis leaves it"
    );
}

#[test]
fn paused_without_duration_waits_for_approval() {
    let p = World::new(in_rolling(plain(), 1, STEP_PAUSED)).plan();
    assert_eq!(common(&p.status).current_step_state, STEP_PAUSED);
    assert_eq!(
        p.status.message.as_deref(),
        Some("Rollout is in step(1/3), and you need manually confirm to enter the next step")
    );
    assert_eq!(
        cond(&p.status, PROGRESSING).unwrap().message,
        "Rollout is in Progressing"
    );
    assert_eq!(p.requeue, None);
    assert!(writes(&p).is_empty());
}

#[test]
fn paused_with_duration_waits_from_last_update_time() {
    // Step 2 pauses 60 s; its lastUpdateTime is 60 s ago in `sub`: move it to 30 s ago.
    let mut r = in_rolling(plain(), 2, STEP_PAUSED);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .last_update_time = Some(time_ago(30));
    let mut w = World::new(r);
    let p = w.plan();
    assert_eq!(common(&p.status).current_step_state, STEP_PAUSED);
    assert_eq!(
        p.status.message.as_deref(),
        Some("Rollout is in step(2/3), and wait duration(60 seconds) to enter the next step")
    );
    let left = p.requeue.expect("requeued at the deadline");
    assert!(
        left >= Duration::from_secs(30) && left <= Duration::from_secs(31),
        "{left:?}"
    );
    w.now = now() + Duration::from_secs(31);
    let p = w.plan();
    let c = common(&p.status);
    assert_eq!(c.current_step_state, STEP_READY);
    assert_eq!(c.last_update_time.clone().map(at), Some(w.now));
}

#[test]
fn the_last_step_at_100_percent_never_pauses() {
    let p = World::new(in_rolling(plain(), 3, STEP_PAUSED)).plan();
    assert_eq!(common(&p.status).current_step_state, STEP_READY);
    // An integer equal to the replica count is not "100%": it waits.
    let ints = json!({"enableExtraWorkloadForCanary": true,
        "steps": [{"replicas": 1}, {"replicas": 10}]});
    let p = World::new(in_rolling(ints, 2, STEP_PAUSED)).plan();
    assert_eq!(common(&p.status).current_step_state, STEP_PAUSED);
    // "100%" on a step that is not the last pauses as any other.
    let early = json!({"enableExtraWorkloadForCanary": true,
        "steps": [{"replicas": "100%"}, {"replicas": "100%"}]});
    let p = World::new(in_rolling(early, 1, STEP_PAUSED)).plan();
    assert_eq!(common(&p.status).current_step_state, STEP_PAUSED);
}

#[test]
fn step_ready_advances_to_the_next_step_or_completes() {
    let p = World::new(in_rolling(plain(), 1, STEP_READY)).plan();
    let c = common(&p.status);
    assert_eq!(
        (
            c.current_step_index,
            c.next_step_index,
            c.current_step_state.as_str()
        ),
        (2, 3, BEFORE_STEP_UPGRADE)
    );
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert!(
        writes(&p).is_empty(),
        "the new step starts on the next pass"
    );
    let p = World::new(in_rolling(plain(), 2, STEP_READY)).plan();
    let c = common(&p.status);
    assert_eq!(
        (
            c.current_step_index,
            c.next_step_index,
            c.current_step_state.as_str()
        ),
        (3, -1, BEFORE_STEP_UPGRADE)
    );
    let p = World::new(in_rolling(plain(), 3, STEP_READY)).plan();
    let c = common(&p.status);
    assert_eq!(
        (c.current_step_index, c.current_step_state.as_str()),
        (3, COMPLETED)
    );
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert_eq!(reason(&p.status), "InRolling");
}

#[test]
fn completed_moves_to_finalising() {
    let p = World::new(in_rolling(plain(), 3, COMPLETED)).plan();
    assert_eq!(reason(&p.status), "Finalising");
    assert_eq!(
        p.status.message.as_deref(),
        Some("Rollout has been completed and some closing work is being done")
    );
    assert!(writes(&p).is_empty());
}

#[test]
fn approval_on_the_sub_status_is_acted_on() {
    // `kubectl-kruise rollout approve` patches the sub-status only; the top level still reads
    // StepPaused.
    let mut r = in_rolling(plain(), 1, STEP_PAUSED);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .current_step_state = STEP_READY.into();
    let p = World::new(r).plan();
    assert_eq!(p.status.current_step_index, 2);
    assert_eq!(p.status.current_step_state, BEFORE_STEP_UPGRADE);
}

#[test]
fn approval_on_the_top_level_only_does_nothing() {
    let mut r = in_rolling(plain(), 1, STEP_PAUSED);
    r.status.as_mut().unwrap().current_step_state = STEP_READY.into();
    let p = World::new(r).plan();
    assert_eq!(common(&p.status).current_step_state, STEP_PAUSED);
    assert_eq!(p.status.current_step_state, STEP_PAUSED, "overwritten");
    assert_eq!(p.status.current_step_index, 1);
}

#[test]
fn strategy_paused_freezes_the_release() {
    let mut r = in_rolling(plain(), 1, STEP_READY);
    r.spec.strategy.paused = Some(true);
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 1));
    let p = w.plan();
    assert_eq!(reason(&p.status), "Paused");
    let m = "Rollout has been paused, you can resume it by kube-cli";
    assert_eq!(p.status.message.as_deref(), Some(m));
    assert_eq!(cond(&p.status, PROGRESSING).unwrap().message, m);
    assert_eq!(
        p.status.canary_status,
        r.status.as_ref().unwrap().canary_status
    );
    assert!(writes(&p).is_empty());
    // Paused: still frozen on the next pass, then back to InRolling when resumed (the
    // condition keeps its message), and the approval is acted on after that.
    w.r.status = Some(p.status.clone());
    let p = w.plan();
    assert_eq!(reason(&p.status), "Paused");
    assert_eq!(common(&p.status).current_step_state, STEP_READY);
    w.r.spec.strategy.paused = Some(false);
    let p = w.step();
    assert_eq!(reason(&p.status), "InRolling");
    assert_eq!(p.status.message.as_deref(), Some(m));
    assert_eq!(common(&p.status).current_step_state, STEP_READY);
    let p = w.step();
    assert_eq!(common(&p.status).current_step_index, 2);
}

#[test]
fn next_step_index_jumps() {
    // Forward from step 1 to 3: 100 % of 10 is not the 1 canary pod there: BeforeStepUpgrade.
    let mut r = in_rolling(plain(), 1, STEP_PAUSED);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .canary_replicas = 1;
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .next_step_index = 3;
    let p = World::new(r.clone()).plan();
    let c = common(&p.status);
    assert_eq!(
        (
            c.current_step_index,
            c.next_step_index,
            c.current_step_state.as_str()
        ),
        (3, -1, BEFORE_STEP_UPGRADE)
    );
    assert_eq!(c.last_update_time.clone().map(at), Some(now()));
    assert!(writes(&p).is_empty());
    // Backward from step 3 to 2 with 5 pods released (50 % of 10): StepTrafficRouting.
    let mut r = in_rolling(plain(), 3, STEP_PAUSED);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .canary_replicas = 5;
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .next_step_index = 2;
    let p = World::new(r).plan();
    let c = common(&p.status);
    assert_eq!(
        (
            c.current_step_index,
            c.next_step_index,
            c.current_step_state.as_str()
        ),
        (2, 3, STEP_TRAFFIC_ROUTING)
    );
    // The natural next index, or one out of range, is no jump.
    for next in [2, 0, 4, -1, 99] {
        let mut r = in_rolling(plain(), 1, STEP_PAUSED);
        r.status
            .as_mut()
            .unwrap()
            .canary_status
            .as_mut()
            .unwrap()
            .common
            .next_step_index = next;
        let p = World::new(r).plan();
        let c = common(&p.status);
        assert_eq!(
            (c.current_step_index, c.current_step_state.as_str()),
            (1, STEP_PAUSED),
            "nextStepIndex {next}"
        );
    }
}

#[test]
fn a_jump_wins_over_an_approval() {
    let mut r = in_rolling(plain(), 1, STEP_READY);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .next_step_index = 3;
    let p = World::new(r).plan();
    let c = common(&p.status);
    assert_eq!(
        (c.current_step_index, c.current_step_state.as_str()),
        (3, BEFORE_STEP_UPGRADE)
    );
}

#[test]
fn the_batch_release_rollout_id_follows_the_workload_label() {
    // `syncBatchRelease`: the observed id (refreshed from the label while the revision is the
    // same) is merged into the BatchRelease.
    let r = in_rolling(plain(), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 2));
    w.f.as_mut().unwrap().rollout_id = Some("v9".into());
    let p = w.plan();
    assert_eq!(common(&p.status).observed_rollout_id.as_deref(), Some("v9"));
    assert_eq!(
        writes(&p),
        vec![&Write::PatchBatchRelease(
            json!({"spec": {"releasePlan": {"rolloutID": "v9"}}})
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Rollback and continuous release (reference notes §2.5, §2.11, §2.12).

#[test]
fn a_rollback_cancels_even_when_paused() {
    for paused in [false, true] {
        let mut r = in_rolling(routed(0), 2, STEP_PAUSED);
        r.spec.strategy.paused = Some(paused);
        let mut w = World::new(r);
        w.net = mid_release_net();
        let f = w.f.as_mut().unwrap();
        f.in_rollback = true;
        f.canary_revision = "rev-stable".into();
        let p = w.plan();
        assert_eq!(reason(&p.status), "Cancelling", "paused {paused}");
        assert_eq!(
            p.status.message.as_deref(),
            Some("The workload has been rolled back and the rollout process will be cancelled")
        );
        let cs = p.status.canary_status.as_ref().unwrap();
        assert_eq!(cs.canary_revision, "rev-stable");
        assert!(writes(&p).is_empty());
    }
}

#[test]
fn a_rollback_already_seen_is_not_cancelled_again() {
    // canaryRevision already the workload's: no direct rollback (normal rolling goes on).
    let mut r = in_rolling(plain(), 2, STEP_PAUSED);
    r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .canary_revision = "rev-stable".into();
    let mut w = World::new(r);
    let f = w.f.as_mut().unwrap();
    f.in_rollback = true;
    f.canary_revision = "rev-stable".into();
    let p = w.plan();
    assert_eq!(reason(&p.status), "InRolling");
}

#[test]
fn continuous_release_without_traffic_restarts() {
    let r = in_rolling(plain(), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 2));
    w.f.as_mut().unwrap().canary_revision = "rev-v3".into();
    let p = w.step();
    assert_eq!(writes(&p), vec![&Write::DeleteBatchRelease]);
    assert_eq!(
        reason(&p.status),
        "InRolling",
        "until the BatchRelease is gone"
    );
    assert_eq!(p.requeue, Some(RECHECK));
    // Gone: the sub-status is cleared and the release starts over.
    let p = w.step();
    assert!(
        writes(&p).is_empty(),
        "in-progressing stays: {:?}",
        p.writes
    );
    assert!(p.status.canary_status.is_none());
    assert_eq!(reason(&p.status), "Initializing");
    assert_eq!(
        p.status.message.as_deref(),
        Some("Workload is continuous release")
    );
    // Upstream copies the mirror only from a sub-status: the top level keeps its last value.
    assert_eq!(p.status.current_step_index, 2);
    // And Initializing rebuilds it for v3 (the condition was edited, not renewed: no wait).
    let p = w.step();
    assert_eq!(reason(&p.status), "InRolling");
    let cs = p.status.canary_status.as_ref().unwrap();
    assert_eq!(
        (cs.common.current_step_index, cs.canary_revision.as_str()),
        (1, "rev-v3")
    );
}

#[test]
fn continuous_release_waits_for_a_batch_release_being_deleted() {
    let r = in_rolling(plain(), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    let mut br = ready_br(&r, 2);
    br.metadata.deletion_timestamp = Some(time_ago(1));
    w.br = Some(br);
    w.f.as_mut().unwrap().canary_revision = "rev-v3".into();
    let p = w.plan();
    assert!(writes(&p).is_empty());
    assert_eq!(reason(&p.status), "InRolling");
    assert_eq!(p.requeue, Some(RECHECK));
}

// ---------------------------------------------------------------------------------------------
// Finalisation (`doCanaryFinalising`, reference notes §2.10, §2.14).

/// What each pass of a finalisation did: the finalising step it ended on and its writes.
fn finalise(w: &mut World, passes: usize) -> Vec<(String, Vec<Write>)> {
    let mut out = vec![];
    for _ in 0..passes {
        let p = w.step();
        let step = p
            .status
            .canary_status
            .as_ref()
            .map(|c| c.common.finalising_step.clone())
            .unwrap_or_default();
        out.push((step, writes(&p).into_iter().cloned().collect()));
    }
    out
}

fn finalising_world(reason: &str) -> World {
    let r = in_rolling(routed(0), 3, COMPLETED);
    let mut r2 = r.clone();
    let s = sub(&r, 3, COMPLETED);
    progressing(&mut r2, reason, s);
    let mut w = World::new(r2);
    w.net = mid_release_net();
    w.br = Some(ready_br(&r, 3));
    w
}

fn kinds(ws: &[Write]) -> Vec<&'static str> {
    ws.iter()
        .map(|w| match w {
            Write::PatchWorkload(_) => "PatchWorkload",
            Write::PatchService { .. } => "PatchService",
            Write::DeleteIngress(_) => "DeleteIngress",
            Write::DeleteService(_) => "DeleteService",
            Write::PatchBatchRelease(_) => "PatchBatchRelease",
            Write::DeleteBatchRelease => "DeleteBatchRelease",
            _ => "other",
        })
        .collect()
}

#[test]
fn success_finalises_in_order_one_task_per_pass() {
    let mut w = finalising_world("Finalising");
    let passes = finalise(&mut w, 7);
    let got: Vec<(&str, Vec<&str>)> = passes
        .iter()
        .map(|(s, ws)| (s.as_str(), kinds(ws)))
        .collect();
    assert_eq!(
        got,
        vec![
            // The in-progressing annotation goes first, then the stable Service is restored.
            (
                "FinalisingStepRouteTrafficToStable",
                vec!["PatchWorkload", "PatchService"]
            ),
            ("RemoveCanaryService", vec!["DeleteIngress"]),
            ("ResumeWorkload", vec!["DeleteService"]),
            ("ResumeWorkload", vec!["PatchBatchRelease"]),
            ("ReleaseWorkloadControl", vec![]),
            ("ReleaseWorkloadControl", vec!["DeleteBatchRelease"]),
            ("END", vec![]),
        ]
    );
    let (_, ws) = &passes[0];
    assert_eq!(
        ws[1],
        Write::PatchService {
            name: "web".into(),
            patch: json!({"spec": {"selector": {"pod-template-hash": null}}}),
        }
    );
    assert_eq!(
        passes[3].1[0],
        Write::PatchBatchRelease(json!({"spec": {"releasePlan": {
            "batchPartition": null, "finalizingPolicy": "WaitResume"}}}))
    );
    let st = w.r.status.clone().unwrap();
    let c = cond(&st, PROGRESSING).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
        (
            "False",
            "Completed",
            "Rollout progressing has been completed"
        )
    );
    assert_eq!(
        st.message.as_deref(),
        Some("Rollout progressing has been completed")
    );
    let s = cond(&st, SUCCEEDED).unwrap();
    assert_eq!(s.status, "True");
    // Completed → Healthy.
    let p = w.step();
    assert_eq!(p.status.phase.as_deref(), Some(HEALTHY));
}

#[test]
fn finalising_names_the_first_task_and_keeps_going_when_not_done() {
    // With a grace period, the first pass restores the stable Service and waits on it.
    let mut w = finalising_world("Finalising");
    let canary = w.r.spec.strategy.canary.as_mut().unwrap();
    canary.traffic_routings.as_mut().unwrap()[0].grace_period_seconds = 3;
    let h = plan_hash(&w.r);
    w.r.metadata.annotations = Some([(keys::HASH.to_string(), h.clone())].into());
    w.r.status
        .as_mut()
        .unwrap()
        .canary_status
        .as_mut()
        .unwrap()
        .common
        .rollout_hash = Some(h);
    let p = w.step();
    assert_eq!(common(&p.status).finalising_step, "RestoreStableService");
    assert_eq!(reason(&p.status), "Finalising");
    assert_eq!(p.requeue, Some(RECHECK));
}

#[test]
fn rollback_finalises_in_its_own_order() {
    let mut w = finalising_world("Cancelling");
    let passes = finalise(&mut w, 7);
    let got: Vec<(&str, Vec<&str>)> = passes
        .iter()
        .map(|(s, ws)| (s.as_str(), kinds(ws)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("ResumeWorkload", vec!["PatchWorkload", "DeleteIngress"]),
            ("ResumeWorkload", vec!["PatchBatchRelease"]),
            ("ReleaseWorkloadControl", vec![]),
            ("ReleaseWorkloadControl", vec!["DeleteBatchRelease"]),
            ("RestoreStableService", vec![]),
            ("RemoveCanaryService", vec!["PatchService"]),
            ("END", vec!["DeleteService"]),
        ]
    );
    assert_eq!(
        passes[1].1[0],
        Write::PatchBatchRelease(json!({"spec": {"releasePlan": {
            "batchPartition": null, "finalizingPolicy": "Immediate"}}}))
    );
    let st = w.r.status.clone().unwrap();
    let c = cond(&st, PROGRESSING).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
        (
            "False",
            "Completed",
            "Rollout progressing has been cancelled"
        )
    );
    assert_eq!(cond(&st, SUCCEEDED).unwrap().status, "False");
}

#[test]
fn resume_workload_waits_for_the_batch_release_to_complete() {
    // batchPartition already null with the right policy: no patch, wait (upstream
    // `finalizingBatchRelease`); Completed: done.
    let mut w = finalising_world("Finalising");
    let mut s = sub(&w.r, 3, COMPLETED);
    s["finalisingStep"] = json!("ResumeWorkload");
    progressing(&mut w.r, "Finalising", s);
    let br = w.br.as_mut().unwrap();
    br.spec.release_plan.batch_partition = None;
    br.spec.release_plan.finalizing_policy =
        Some(crate::api::batchrelease::FinalizingPolicy::WaitResume);
    let p = w.plan();
    assert!(
        !p.writes
            .iter()
            .any(|w| matches!(w, Write::PatchBatchRelease(_)))
    );
    assert_eq!(common(&p.status).finalising_step, "ResumeWorkload");
    // With the other policy: patched again.
    w.br.as_mut().unwrap().spec.release_plan.finalizing_policy =
        Some(crate::api::batchrelease::FinalizingPolicy::Immediate);
    let p = w.plan();
    assert!(
        p.writes
            .iter()
            .any(|w| matches!(w, Write::PatchBatchRelease(_)))
    );
    w.br.as_mut().unwrap().status.as_mut().unwrap().phase = Some("Completed".into());
    let p = w.plan();
    assert_eq!(common(&p.status).finalising_step, "ReleaseWorkloadControl");
}

#[test]
fn disabling_finalises_immediately_then_disabled() {
    let r = in_rolling(routed(0), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    w.r.spec.disabled = true;
    w.net = mid_release_net();
    w.br = Some(ready_br(&r, 2));
    let p = w.step();
    assert_eq!(p.status.phase.as_deref(), Some(DISABLING));
    let passes = finalise(&mut w, 7);
    let steps: Vec<&str> = passes.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        steps,
        [
            "FinalisingStepRouteTrafficToStable",
            "RemoveCanaryService",
            "ResumeWorkload",
            "ResumeWorkload",
            "ReleaseWorkloadControl",
            "ReleaseWorkloadControl",
            "END",
        ]
    );
    assert!(
        passes[3]
            .1
            .contains(&Write::PatchBatchRelease(json!({"spec": {"releasePlan": {
        "batchPartition": null, "finalizingPolicy": "Immediate"}}})))
    );
    let st = w.r.status.clone().unwrap();
    assert_eq!(st.phase.as_deref(), Some(DISABLED));
    assert_eq!(st.message.as_deref(), Some("Rollout is disabled"));
    assert!(
        cond(&st, SUCCEEDED).is_none(),
        "not set by the Disabled finalisation"
    );
}

/// Upstream `calculateRolloutStatus` returns the status for a missing workload of a disabled
/// Rollout and `Reconcile` still dispatches on the phase: a Disabling Rollout finalises (its
/// BatchRelease goes) and ends Disabled.
#[test]
fn disabling_finalises_when_the_workload_is_gone() {
    let r = in_rolling(plain(), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    w.r.spec.disabled = true;
    w.br = Some(ready_br(&r, 2));
    w.step();
    assert_eq!(
        w.r.status.as_ref().unwrap().phase.as_deref(),
        Some(DISABLING)
    );
    w.f = None;
    finalise(&mut w, 10);
    assert!(w.br.is_none(), "the BatchRelease is released");
    assert_eq!(
        w.r.status.as_ref().unwrap().phase.as_deref(),
        Some(DISABLED)
    );
}

#[test]
fn deleting_finalises_then_drops_the_finalizer() {
    let r = in_rolling(routed(0), 2, STEP_PAUSED);
    let mut w = World::new(r.clone());
    w.r.metadata.deletion_timestamp = Some(time_ago(1));
    w.net = mid_release_net();
    w.br = Some(ready_br(&r, 2));
    let p = w.step();
    assert_eq!(p.status.phase.as_deref(), Some(PHASE_TERMINATING));
    let passes = finalise(&mut w, 7);
    assert_eq!(passes[0].0, "FinalisingStepRouteTrafficToStable");
    assert_eq!(kinds(&passes[0].1), ["PatchWorkload", "PatchService"]);
    assert!(
        passes[3]
            .1
            .contains(&Write::PatchBatchRelease(json!({"spec": {"releasePlan": {
        "batchPartition": null, "finalizingPolicy": "Immediate"}}})))
    );
    let st = w.r.status.clone().unwrap();
    let c = cond(&st, TERMINATING).unwrap();
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", "Completed")
    );
    assert!(cond(&st, SUCCEEDED).is_none());
    let p = w.plan();
    assert_eq!(
        p.writes,
        vec![Write::PatchRollout(json!({"metadata": {
            "finalizers": [], "resourceVersion": "7"}}))]
    );
}

#[test]
fn finalising_a_missing_sub_status_is_done_at_once() {
    let mut r = rollout(plain());
    set_status(
        &mut r,
        json!({"phase": "Progressing",
               "conditions": [condition("Progressing", "True", "Finalising", "m", 10)]}),
    );
    let p = World::new(r).plan();
    assert_eq!(reason(&p.status), "Completed");
    assert!(writes(&p).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Odd statuses never panic, and the mirror always holds.

#[test]
fn odd_statuses_never_panic() {
    let states = [
        "",
        "Bogus",
        BEFORE_STEP_UPGRADE,
        STEP_UPGRADE,
        STEP_TRAFFIC_ROUTING,
        STEP_METRICS_ANALYSIS,
        STEP_PAUSED,
        STEP_READY,
        COMPLETED,
    ];
    let reasons = [
        "",
        "Initializing",
        "InRolling",
        "Paused",
        "Finalising",
        "Cancelling",
        "Completed",
        "Bogus",
    ];
    let mut runs = 0;
    for canary in [plain(), routed(0), routed(3)] {
        for reason in reasons {
            for index in [-1, 0, 1, 3, 4, 100] {
                for state in states {
                    for (next, finalising) in
                        [(0, ""), (-7, "Bogus"), (2, "END"), (9, "ResumeWorkload")]
                    {
                        let mut r = rollout(canary.clone());
                        let mut s = sub(&r, index, state);
                        s["nextStepIndex"] = json!(next);
                        s["finalisingStep"] = json!(finalising);
                        progressing(&mut r, reason, s);
                        let mut w = World::new(r.clone());
                        w.net = mid_release_net();
                        w.br = (index % 2 == 1).then(|| ready_br(&r, 1));
                        w.plan();
                        w.f.as_mut().unwrap().in_rollback = true;
                        w.f.as_mut().unwrap().canary_revision = "rev-other".into();
                        w.plan();
                        runs += 2;
                    }
                }
            }
            // No sub-status at all while Progressing, in every phase.
            for phase in [
                "Progressing",
                "Terminating",
                "Disabling",
                "Healthy",
                "Bogus",
            ] {
                let mut r = rollout(canary.clone());
                set_status(
                    &mut r,
                    json!({"phase": phase,
                           "conditions": [condition("Progressing", "True", reason, "m", 10)]}),
                );
                let mut w = World::new(r);
                w.net = mid_release_net();
                w.plan();
                w.f.as_mut().unwrap().canary_revision = "rev-other".into();
                w.plan();
                w.r.metadata.deletion_timestamp = Some(time_ago(1));
                w.plan();
                runs += 3;
            }
        }
    }
    assert!(runs > 1000);
}

#[test]
fn invalid_plans_are_refused_not_run() {
    for (why, canary) in [
        (
            "no steps",
            json!({"enableExtraWorkloadForCanary": true, "steps": []}),
        ),
        (
            "a step without replicas",
            json!({"enableExtraWorkloadForCanary": true,
                   "steps": [{"replicas": 1}, {"pause": {}}]}),
        ),
    ] {
        for index in [0, 1, 2] {
            let mut r = rollout(canary.clone());
            let s = sub(&r, index, STEP_PAUSED);
            progressing(&mut r, "InRolling", s);
            let p = World::new(r.clone()).plan();
            assert!(p.refused.is_some(), "{why}");
            assert!(p.writes.is_empty(), "{why}");
            assert_eq!(
                p.status.canary_status,
                r.status.as_ref().unwrap().canary_status,
                "{why}"
            );
        }
    }
}

/// Top-level `currentStepIndex`/`currentStepState` equal the sub-status after every pass,
/// whatever the top level said before (checked by `World::plan` in every test; here over a
/// whole release).
#[test]
fn the_mirror_follows_a_whole_release() {
    let mut r = rollout(plain());
    set_status(
        &mut r,
        json!({"phase": "Healthy", "currentStepIndex": 42,
                              "currentStepState": "Stale"}),
    );
    let mut w = World::new(r);
    for _ in 0..60 {
        let p = w.step();
        assert_mirrored(&p.status);
        // The BatchRelease controller: every batch Ready at once; approvals given.
        if let Some(br) = w.br.as_mut() {
            let bp = br.spec.release_plan.batch_partition.unwrap_or(0);
            let h = hash::plan_hash(&br.spec.release_plan);
            let st = br.status.get_or_insert_with(Default::default);
            st.observed_release_plan_hash = Some(h);
            st.observed_generation = br.metadata.generation;
            let cs = st.canary_status.get_or_insert_with(Default::default);
            cs.current_batch = bp;
            cs.batch_state = Some("Ready".into());
        }
        let st = w.r.status.as_mut().unwrap();
        if let Some(c) = st.canary_status.as_mut()
            && c.common.current_step_state == STEP_PAUSED
        {
            c.common.current_step_state = STEP_READY.into();
        }
        w.now += Duration::from_secs(61);
        if st.phase.as_deref() == Some(HEALTHY) && reason(st) == "Completed" {
            return;
        }
    }
    panic!("the release did not finish: {:?}", w.r.status);
}

/// Passes as upstream runs them: each stores its status, the next reads it; the first that has
/// writes to make (or changes nothing) ends the series. Returns it and how many ran.
fn one_write_apart(mut w: World) -> (Plan, usize) {
    for n in 1.. {
        let p = w.plan();
        if !p.writes.is_empty() || w.r.status.as_ref() == Some(&p.status) {
            return (p, n);
        }
        w.r.status = Some(p.status.clone());
    }
    unreachable!()
}

#[test]
fn settle_ends_where_passes_one_status_write_apart_end() {
    // Approved at step 1 of 3: StepReady → step 2's StepUpgrade, which updates the
    // BatchRelease (a write: the chain ends there, with that pass's writes).
    let r = in_rolling(plain(), 1, STEP_READY);
    let mut w = World::new(r.clone());
    w.br = Some(ready_br(&r, 1));
    let (by_passes, n) = one_write_apart(World {
        br: w.br.clone(),
        ..World::new(r)
    });
    assert!(n >= 2, "the case must chain: {n} passes");
    let p = w.settle();
    assert_eq!(p.status, by_passes.status);
    assert_eq!(p.writes, by_passes.writes);
    assert_eq!(common(&p.status).current_step_index, 2);
    // Waiting (a grace, a pause): nothing more to chain, the pass is the plan.
    let w = World::new(in_rolling(plain(), 1, STEP_PAUSED));
    assert_eq!(w.settle().status, w.plan().status);
}
