//! One pass of the BatchRelease controller (upstream `Executor.Do`, reference notes §2.8),
//! pure: the special cases read first, then the phase machine (Preparing → Progressing with
//! batches Upgrading → Verifying → Ready → Finalizing → Completed). The writes come out in
//! order; the new status is written after them, and when the special cases changed the status
//! the pass stops there so the state machine is always persisted before it acts.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::{Value, json};

use super::bluegreen;
use super::target::{self, Style, Target};
use crate::api::batchrelease::{
    BatchRelease, BatchReleaseCanaryStatus, BatchReleaseStatus, FinalizingPolicy, RollingStyle,
};
use crate::controller::rollout::hash;
use crate::controller::rollout::keys;
use crate::controller::rollout::workload::TargetKind;

pub const PREPARING: &str = "Preparing";
pub const PROGRESSING: &str = "Progressing";
pub const FINALIZING: &str = "Finalizing";
pub const COMPLETED: &str = "Completed";
pub const UPGRADING: &str = "Upgrading";
pub const VERIFYING: &str = "Verifying";
pub const READY: &str = "Ready";

/// A write of the BatchRelease controller, in the order it must happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    AddFinalizer,
    RemoveFinalizer,
    /// A merge patch of the workload.
    PatchWorkload(Value),
    CreateCanary(Box<Deployment>),
    PatchCanary {
        name: String,
        patch: Value,
    },
    /// Labels a pod with the rollout id and its batch (strategic merge patch).
    LabelPod {
        name: String,
        patch: Value,
    },
    /// A merge patch of a ReplicaSet (blue-green: the stable one's `minReadySeconds`).
    PatchReplicaSet {
        name: String,
        patch: Value,
    },
    /// A merge patch of a HorizontalPodAutoscaler (blue-green: its target).
    PatchHpa {
        name: String,
        patch: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub status: BatchReleaseStatus,
    /// Look again after this many seconds (upstream's `DefaultDuration`, 2 s) even without
    /// an event.
    pub requeue: Option<u64>,
    /// Why this pass stopped early, if it did (logs).
    pub message: Option<String>,
}

pub fn style(br: &BatchRelease) -> Style {
    let plan = &br.spec.release_plan;
    let canary = match plan.rolling_style {
        Some(RollingStyle::Canary) => true,
        None => plan.enable_extra_workload_for_canary,
        _ => false,
    };
    let kind = TargetKind::of(
        &br.spec.workload_ref.api_version,
        &br.spec.workload_ref.kind,
    );
    let blue_green = plan.rolling_style == Some(RollingStyle::BlueGreen)
        && matches!(kind, Some(TargetKind::Deployment | TargetKind::CloneSet));
    if blue_green {
        Style::BlueGreen
    } else if canary && kind == Some(TargetKind::Deployment) {
        Style::Canary
    } else {
        Style::Partition
    }
}

fn reset() -> BatchReleaseStatus {
    BatchReleaseStatus {
        phase: Some(PREPARING.into()),
        observed_workload_replicas: Some(-1),
        canary_status: Some(BatchReleaseCanaryStatus::default()),
        ..Default::default()
    }
}

fn phase(s: &BatchReleaseStatus) -> &str {
    s.phase.as_deref().unwrap_or("")
}

fn cs(s: &mut BatchReleaseStatus) -> &mut BatchReleaseCanaryStatus {
    s.canary_status.get_or_insert_with(Default::default)
}

/// Passes in a row, in memory (as the Rollout's `settle`): upstream writes the status after each
/// state change and returns, and that write wakes the next pass. A pass whose only output is a
/// new status is run again on that status until one has writes to make (taken, and the chain
/// ends there) or changes nothing more; only the last status is written.
pub fn settle(br: &BatchRelease, t: Option<&Target>, pods: &[&Pod], now: Timestamp) -> Plan {
    let mut p = plan(br, t, pods, now);
    let mut br = br.clone();
    for _ in 0..SETTLE_PASSES {
        if !p.writes.is_empty() || br.status.as_ref() == Some(&p.status) {
            break;
        }
        br.status = Some(p.status.clone());
        let next = plan(&br, t, pods, now);
        if next.status == p.status && next.writes.is_empty() {
            break;
        }
        p = next;
    }
    p
}

/// At most this many passes chained in memory.
pub const SETTLE_PASSES: usize = 8;

/// The pass. `pods`: the namespace's pods (only those at the update revision are read).
pub fn plan(br: &BatchRelease, t: Option<&Target>, pods: &[&Pod], now: Timestamp) -> Plan {
    let mut p = Plan::default();
    let deleting = br.metadata.deletion_timestamp.is_some();
    let has_finalizer = br.finalizers().iter().any(|f| f == keys::BR_FINALIZER);
    if !deleting && !has_finalizer {
        p.writes.push(Write::AddFinalizer);
    }
    let old = br.status.clone().unwrap_or_default();
    let mut s = if phase(&old).is_empty() {
        reset()
    } else {
        old.clone()
    };
    let stop = special_cases(br, t, &mut s, &mut p);
    refresh(br, t, &mut s);
    s.observed_generation = br.metadata.generation;
    if stop || s != old {
        if s != old {
            p.requeue = Some(2);
        }
        p.status = s;
        return finish(br, p, deleting);
    }
    let Some(t) = t else {
        p.status = s;
        return finish(br, p, deleting);
    };
    p.message = None;
    execute(br, t, pods, &mut s, &mut p, now);
    let ready = s
        .canary_status
        .as_ref()
        .and_then(|c| c.batch_state.as_deref())
        == Some(READY);
    if p.message.is_some() {
        s.message = p.message.clone();
    } else if ready || phase(&s) != PROGRESSING {
        s.message = None;
    }
    s.observed_generation = br.metadata.generation;
    p.status = s;
    finish(br, p, deleting)
}

/// The finalizer goes only once a deleted BatchRelease has finalised.
fn finish(br: &BatchRelease, mut p: Plan, deleting: bool) -> Plan {
    let has_finalizer = br.finalizers().iter().any(|f| f == keys::BR_FINALIZER);
    if deleting && has_finalizer && phase(&p.status) == COMPLETED {
        p.writes.push(Write::RemoveFinalizer);
    }
    p
}

/// `syncStatusBeforeExecuting`'s special cases; true: stop this pass.
fn special_cases(
    br: &BatchRelease,
    t: Option<&Target>,
    s: &mut BatchReleaseStatus,
    p: &mut Plan,
) -> bool {
    let plan = &br.spec.release_plan;
    let progressing = phase(s) == PROGRESSING;
    let mut say = |m: &str| p.message = Some(m.to_string());
    if phase(s) == COMPLETED {
        say("release plan has been completed, will do nothing");
        return true;
    }
    if br.metadata.deletion_timestamp.is_some()
        || phase(s) == FINALIZING
        || plan.batch_partition.is_none()
    {
        say("release plan is deleted or cancelled, then finalize");
        s.phase = Some(FINALIZING.into());
        return false;
    }
    if progressing && s.observed_release_plan_hash.as_deref() != Some(&hash::plan_hash(plan)) {
        say("release plan is changed, then recalculate status");
        recalculate(br, s);
        return false;
    }
    let batch = s.canary_status.as_ref().map_or(0, |c| c.current_batch);
    if progressing && batch as usize >= plan.batches.len() {
        say("release plan is unhealthy, then restart");
        *s = reset();
        return false;
    }
    let Some(t) = t else {
        if !phase(s).is_empty() && phase(s) != "Initial" {
            say("target workload has gone, then finalize");
            s.phase = Some(FINALIZING.into());
        }
        return false;
    };
    if style(br) == Style::BlueGreen {
        return blue_green_cases(br, t, s, p);
    }
    if progressing && s.observed_workload_replicas != Some(t.replicas) {
        say("workload is scaling, then reinitialize batch status");
        cs(s).batch_ready_time = None;
        cs(s).batch_state = Some(UPGRADING.into());
        s.observed_workload_replicas = Some(t.replicas);
        return false;
    }
    if progressing && revision_changed(t, s) {
        say("workload revision was changed, then abort");
        return true;
    }
    if !t.consistent {
        say("workload status is not stable, then wait");
        return true;
    }
    false
}

/// Blue-green's workload cases, in its control plane's order (`SyncWorkloadInformation`):
/// an unsettled workload waits; a promoted one (all pods updated) is normal; then scaling,
/// a rollback (waits: blue-green rolls back by traffic, never in batches), a new revision.
fn blue_green_cases(
    br: &BatchRelease,
    t: &Target,
    s: &mut BatchReleaseStatus,
    p: &mut Plan,
) -> bool {
    let progressing = phase(s) == PROGRESSING;
    let mut say = |m: &str| p.message = Some(m.to_string());
    if !t.consistent {
        say("workload status is not stable, then wait");
        return true;
    }
    let promoted = t
        .blue_green
        .as_ref()
        .is_some_and(|f| f.status_replicas == t.updated);
    if promoted {
        return false;
    }
    let observed = s.observed_workload_replicas.unwrap_or(-1);
    if progressing && observed != -1 && observed != t.replicas {
        say("workload is scaling, then reinitialize batch status");
        cs(s).batch_ready_time = None;
        cs(s).batch_state = Some(UPGRADING.into());
        s.observed_workload_replicas = Some(t.replicas);
        return false;
    }
    let rollback_in_batch = br.annotations().contains_key(keys::ROLLBACK_IN_BATCH);
    let unmarked = s
        .canary_status
        .as_ref()
        .is_none_or(|c| c.no_need_update_replicas.is_none());
    // A CloneSet's revisions say a rollback only once the BatchRelease saw both (`IsRollback`);
    // a Deployment's is judged from its ReplicaSets by the target.
    let rollback = t.in_rollback
        && (t.kind == TargetKind::Deployment
            || (s.stable_revision.as_deref() == Some(&t.update_revision)
                && s.stable_revision != s.update_revision));
    if progressing && (rollback || rollback_in_batch) && unmarked {
        say("workload is preparing rollback, wait condition to be satisfied");
        return true;
    }
    if progressing && revision_changed(t, s) {
        say("workload revision was changed, then abort");
        return true;
    }
    false
}

/// A new update revision on a release in flight (`isWorkloadRevisionChanged`): noted, and the
/// pass stops (the Rollout decides: continuous release, or refused for blue-green).
fn revision_changed(t: &Target, s: &mut BatchReleaseStatus) -> bool {
    let changed = s.update_revision.as_deref().is_some_and(|u| !u.is_empty())
        && s.update_revision.as_deref() != Some(&t.update_revision);
    if changed {
        s.update_revision = Some(t.update_revision.clone());
    }
    changed
}

fn recalculate(br: &BatchRelease, s: &mut BatchReleaseStatus) {
    let plan = &br.spec.release_plan;
    let last = plan.batches.len().saturating_sub(1) as i32;
    let batch = match plan.batch_partition {
        Some(bp) if plan.rollout_id == s.observed_rollout_id => bp.min(last),
        _ => 0,
    };
    let c = cs(s);
    c.batch_ready_time = None;
    c.current_batch = batch;
    c.batch_state = Some(UPGRADING.into());
    s.observed_rollout_id = plan.rollout_id.clone();
    s.observed_release_plan_hash = Some(hash::plan_hash(plan));
}

fn refresh(br: &BatchRelease, t: Option<&Target>, s: &mut BatchReleaseStatus) {
    if let Some(t) = t {
        let (updated, ready) = counts(br, t);
        cs(s).updated_replicas = Some(updated);
        cs(s).updated_ready_replicas = Some(ready);
    }
    if s.observed_release_plan_hash
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        s.observed_release_plan_hash = Some(hash::plan_hash(&br.spec.release_plan));
    }
    s.observed_rollout_id = br.spec.release_plan.rollout_id.clone();
}

/// Updated and updated-ready pods: the canary Deployment's in canary style, the workload's
/// otherwise.
fn counts(br: &BatchRelease, t: &Target) -> (i32, i32) {
    match (style(br), &t.canary) {
        (Style::Canary, Some(c)) => (c.status_replicas, c.available),
        (Style::Canary, None) => (0, 0),
        (Style::Partition | Style::BlueGreen, _) => (t.updated, t.updated_ready),
    }
}

fn execute(
    br: &BatchRelease,
    t: &Target,
    pods: &[&Pod],
    s: &mut BatchReleaseStatus,
    p: &mut Plan,
    now: Timestamp,
) {
    match phase(s) {
        PROGRESSING => progress(br, t, pods, s, p, now),
        FINALIZING => {
            if finalize(br, t, p) {
                s.phase = Some(COMPLETED.into());
            } else {
                p.requeue = Some(2);
            }
        }
        COMPLETED => {}
        _ => {
            s.phase = Some(PREPARING.into());
            if initialize(br, t, s, p) {
                s.phase = Some(PROGRESSING.into());
            }
            p.requeue = Some(2);
        }
    }
}

/// Claims the workload (and creates the canary); true once done.
fn initialize(br: &BatchRelease, t: &Target, s: &mut BatchReleaseStatus, p: &mut Plan) -> bool {
    let info = target::control_info(&br.name_any(), &br.uid().unwrap_or_default());
    s.stable_revision = Some(t.stable_revision.clone());
    s.update_revision = Some(t.update_revision.clone());
    s.observed_workload_replicas = Some(t.replicas);
    match style(br) {
        Style::Partition => {
            if !t.controlled {
                p.writes
                    .push(Write::PatchWorkload(target::claim_patch(t, &info)));
            }
            true
        }
        Style::BlueGreen => claim_blue_green(t, &info, p),
        Style::Canary => {
            if !t.controlled {
                p.writes.push(Write::PatchWorkload(
                    json!({"metadata": {"annotations": {keys::CONTROL_INFO: info}}}),
                ));
            }
            if t.canary.is_some() {
                return true;
            }
            if let Some(stable) = &t.stable {
                p.writes
                    .push(Write::CreateCanary(Box::new(canary_deployment(
                        br, stable, &info,
                    ))));
            }
            false
        }
    }
}

/// Blue-green's claim: the HPA pointed away, the stable ReplicaSet held, the workload's
/// strategy saved and rewritten; true once written (or already claimed).
fn claim_blue_green(t: &Target, info: &str, p: &mut Plan) -> bool {
    let Some(f) = t.blue_green.as_ref().filter(|_| !t.controlled) else {
        return true;
    };
    let (rs, patch) = match bluegreen::claim(t, f, info) {
        Ok(x) => x,
        Err(e) => {
            p.message = Some(format!(
                "cannot get original setting for {} {}: {e}",
                t.kind.type_label(),
                t.name
            ));
            return false;
        }
    };
    if let Some(h) = &f.hpa
        && let Some(patch) = bluegreen::disable_hpa(h)
    {
        p.writes.push(Write::PatchHpa {
            name: h.name.clone(),
            patch,
        });
    }
    if let (Some(patch), Some((name, _))) = (rs, &f.stable_rs) {
        p.writes.push(Write::PatchReplicaSet {
            name: name.clone(),
            patch,
        });
    }
    p.writes.push(Write::PatchWorkload(patch));
    true
}

/// The canary Deployment: the stable one's spec (its template already the new version) with
/// `patchPodTemplateMetadata`, 0 replicas, unpaused, owned by the BatchRelease.
pub fn canary_deployment(br: &BatchRelease, stable: &Deployment, info: &str) -> Deployment {
    let name = stable.name_any();
    let mut spec = stable.spec.clone().unwrap_or_default();
    spec.replicas = Some(0);
    spec.paused = Some(false);
    if let Some(m) = &br.spec.release_plan.patch_pod_template_metadata {
        let meta = spec.template.metadata.get_or_insert_with(Default::default);
        for (k, v) in m.labels.iter().flatten() {
            meta.labels
                .get_or_insert_with(BTreeMap::new)
                .insert(k.clone(), v.clone());
        }
        for (k, v) in m.annotations.iter().flatten() {
            meta.annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(k.clone(), v.clone());
        }
    }
    Deployment {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: stable.namespace(),
            labels: Some([(keys::CANARY_DEPLOYMENT.to_string(), name)].into()),
            annotations: Some([(keys::CONTROL_INFO.to_string(), info.to_string())].into()),
            finalizers: Some(vec![keys::CANARY_FINALIZER.to_string()]),
            owner_references: Some(vec![OwnerReference {
                api_version: "rollouts.kruise.io/v1beta1".into(),
                kind: "BatchRelease".into(),
                name: br.name_any(),
                uid: br.uid().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

fn progress(
    br: &BatchRelease,
    t: &Target,
    pods: &[&Pod],
    s: &mut BatchReleaseStatus,
    p: &mut Plan,
    now: Timestamp,
) {
    let batch = cs(s).current_batch.max(0) as usize;
    let plan = &br.spec.release_plan;
    let Some(b) = plan.batches.get(batch) else {
        return;
    };
    let state = cs(s).batch_state.clone().unwrap_or_default();
    match state.as_str() {
        VERIFYING | READY => {
            let ok = ensure_ready_and_labeled(br, t, pods, batch, s, p);
            if !ok {
                // Upstream goes back to Upgrading and, on its next pass, upgrades again and
                // verifies: one pass here, so the state does not flap between two writes of
                // its own (upstream ignores its status-only changes; this runtime does not).
                cs(s).batch_ready_time = None;
                let again = upgrade(t, &b.canary_replicas, br, p);
                cs(s).batch_state = Some(if again { VERIFYING } else { UPGRADING }.into());
                p.requeue = Some(2);
            } else if state == VERIFYING {
                cs(s).batch_ready_time = Some(Time(now));
                cs(s).batch_state = Some(READY.into());
                p.requeue = Some(2);
            } else if plan.batch_partition.is_none_or(|bp| bp > batch as i32) {
                if batch + 1 < plan.batches.len() {
                    cs(s).current_batch += 1;
                }
                cs(s).batch_state = Some(UPGRADING.into());
                p.requeue = Some(2);
            }
        }
        _ => {
            cs(s).batch_state = Some(UPGRADING.into());
            if upgrade(t, &b.canary_replicas, br, p) {
                cs(s).batch_state = Some(VERIFYING.into());
            }
            p.requeue = Some(2);
        }
    }
}

/// Moves the workload to this batch; true once written (or nothing to write).
fn upgrade(t: &Target, batch: &IntOrString, br: &BatchRelease, p: &mut Plan) -> bool {
    match style(br) {
        Style::Partition => {
            if let Some(patch) = target::upgrade_patch(t, batch) {
                p.writes.push(Write::PatchWorkload(patch));
            }
            true
        }
        Style::BlueGreen => {
            let Some(f) = &t.blue_green else { return false };
            if t.replicas == 0 {
                return true;
            }
            match bluegreen::upgrade(t, f, batch) {
                Ok(patch) => {
                    p.writes.extend(patch.map(Write::PatchWorkload));
                    true
                }
                Err(e) => {
                    p.message = Some(e);
                    false
                }
            }
        }
        Style::Canary => {
            let Some(c) = &t.canary else { return false };
            if !c.consistent {
                return false;
            }
            if t.replicas == 0 {
                return true;
            }
            let desired = target::batch_replicas(batch, t.replicas);
            if c.replicas < desired {
                p.writes.push(Write::PatchCanary {
                    name: c.name.clone(),
                    patch: json!({"spec": {"replicas": desired}}),
                });
            }
            true
        }
    }
}

fn c_updated(s: &BatchReleaseStatus) -> i32 {
    s.canary_status
        .as_ref()
        .and_then(|c| c.updated_replicas)
        .unwrap_or(0)
}

fn failure_threshold(br: &BatchRelease, updated: i32) -> i32 {
    br.spec
        .release_plan
        .failure_threshold
        .as_ref()
        .and_then(|f| crate::controller::intstr::kruise(f, updated, true))
        .unwrap_or(0)
}

/// Labels the batch's pods, then judges it (`EnsureBatchPodsReadyAndLabeled`, `IsBatchReady`).
fn ensure_ready_and_labeled(
    br: &BatchRelease,
    t: &Target,
    pods: &[&Pod],
    batch: usize,
    s: &BatchReleaseStatus,
    p: &mut Plan,
) -> bool {
    let plan = &br.spec.release_plan;
    let canary_replicas = &plan.batches[batch].canary_replicas;
    let blue_green = style(br) == Style::BlueGreen;
    if blue_green && t.replicas == 0 {
        return true;
    }
    let desired = if blue_green {
        bluegreen::desired_updated(t, canary_replicas)
    } else {
        target::batch_replicas(canary_replicas, t.replicas)
    };
    // Blue-green's batch context carries no failure threshold.
    let tolerated = if blue_green {
        0
    } else {
        failure_threshold(br, c_updated(s))
    };
    let c = s.canary_status.clone().unwrap_or_default();
    let (updated, ready) = (
        c.updated_replicas.unwrap_or(0),
        c.updated_ready_replicas.unwrap_or(0),
    );
    let id = plan.rollout_id.clone().unwrap_or_default();
    let labelled = if id.is_empty() {
        desired
    } else {
        label_pods(br, t, pods, batch, &id, p)
    };
    let ok = updated >= desired
        && ready + tolerated >= desired
        && (desired == 0 || ready > 0)
        && labelled >= desired;
    if !ok {
        p.message = Some(waiting_for(t, pods, desired, updated));
    }
    ok
}

/// What the batch waits for, naming the pods of the new revision that are not ready (the
/// Rollout's sub-status message carries it, so a stuck release says which pods).
fn waiting_for(t: &Target, pods: &[&Pod], desired: i32, updated: i32) -> String {
    let unready: Vec<String> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            t.pod_revision
                .as_ref()
                .is_some_and(|(k, v)| p.labels().get(*k) == Some(v))
        })
        .filter(|p| !crate::controller::pod::is_ready(p))
        .map(|p| p.name_any())
        .collect();
    if unready.is_empty() {
        return format!("waiting for {desired} pod(s) of the new revision ({updated} so far)");
    }
    format!(
        "waiting for pod(s) {} of the new revision to be ready",
        crate::controller::runtime::few(unready).join(", ")
    )
}

/// Pods at the update revision carrying this rollout id, after the writes this pass adds
/// (upstream's label patcher: each batch gets its planned increment, newest batch first).
fn label_pods(
    br: &BatchRelease,
    t: &Target,
    pods: &[&Pod],
    batch: usize,
    id: &str,
    p: &mut Plan,
) -> i32 {
    let Some((key, value)) = &t.pod_revision else {
        return 0;
    };
    let plan = &br.spec.release_plan;
    let mut planned: Vec<i32> = (0..=batch)
        .map(|i| {
            let now = target::batch_replicas(&plan.batches[i].canary_replicas, t.replicas);
            let before = match i {
                0 => 0,
                _ => target::batch_replicas(&plan.batches[i - 1].canary_replicas, t.replicas),
            };
            (now - before).max(0)
        })
        .collect();
    let mut unlabelled = vec![];
    let mut labelled = 0;
    let mut updated: Vec<&&Pod> = pods
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter(|pod| pod.labels().get(*key) == Some(value))
        .collect();
    updated.sort_by_key(|pod| pod.name_any());
    for pod in updated {
        let l = pod.labels();
        if l.get(keys::ROLLOUT_ID).map(String::as_str) != Some(id) {
            unlabelled.push(pod.name_any());
            continue;
        }
        labelled += 1;
        match l.get(keys::BATCH_ID).and_then(|b| b.parse::<usize>().ok()) {
            Some(b) if b >= 1 && b <= planned.len() => planned[b - 1] -= 1,
            _ => {}
        }
    }
    for i in (0..planned.len()).rev() {
        while planned[i] > 0 {
            let Some(name) = unlabelled.pop() else {
                return labelled;
            };
            p.writes.push(Write::LabelPod {
                name,
                patch: json!({"metadata": {"labels": {
                    keys::ROLLOUT_ID: id, keys::BATCH_ID: (i + 1).to_string()}}}),
            });
            labelled += 1;
            planned[i] -= 1;
        }
    }
    labelled
}

/// Releases the workload; true once nothing is left to do (`Finalize`).
fn finalize(br: &BatchRelease, t: &Target, p: &mut Plan) -> bool {
    let plan = &br.spec.release_plan;
    let finished = plan.batch_partition.is_none();
    match style(br) {
        Style::BlueGreen => {
            let Some(f) = &t.blue_green else { return true };
            match bluegreen::finalize(t, f, finished) {
                Ok((writes, hpa, done)) => {
                    p.writes
                        .extend(writes.into_iter().map(Write::PatchWorkload));
                    if let (Some(patch), Some(h)) = (hpa, &f.hpa) {
                        p.writes.push(Write::PatchHpa {
                            name: h.name.clone(),
                            patch,
                        });
                    }
                    done
                }
                Err(e) => {
                    p.message = Some(e);
                    false
                }
            }
        }
        Style::Partition => {
            let clear =
                finished && (t.partition.is_some() || (t.paused && t.kind == TargetKind::CloneSet));
            if t.controlled || clear {
                p.writes
                    .push(Write::PatchWorkload(target::release_patch(t, finished)));
            }
            true
        }
        Style::Canary => {
            let paused = t
                .stable
                .as_ref()
                .and_then(|d| d.spec.as_ref()?.paused)
                .unwrap_or(false);
            if t.controlled || paused == finished {
                p.writes.push(Write::PatchWorkload(json!({
                    "metadata": {"annotations": {keys::CONTROL_INFO: null}},
                    "spec": {"paused": !finished},
                })));
                return false;
            }
            let wait = plan.finalizing_policy == Some(FinalizingPolicy::WaitResume);
            if wait && !t.stable_rolled {
                return false;
            }
            if let Some(c) = t.canary.as_ref().filter(|c| c.has_finalizer) {
                p.writes.push(Write::PatchCanary {
                    name: c.name.clone(),
                    patch: json!({"metadata": {"finalizers": []}}),
                });
                return false;
            }
            true
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
