//! The step machine (`runCanary`), the BatchRelease it writes (`runBatchRelease`), step jumps,
//! finalisation (`doCanaryFinalising`) and the continuous-release reset, reference notes §2.6,
//! §2.7, §2.8, §2.10, §2.12. Blue-green shares the machine with its own finalising order.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::json;

use super::progress::{next_index, rollout_id};
use super::*;
use crate::api::batchrelease::{
    BatchReleaseSpec, FinalizingPolicy, ReleaseBatch, ReleasePlan, RollingStyle,
};
use crate::controller::batchrelease::plan as br_plan;
use crate::controller::intstr;
use crate::controller::rollout::keys;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Success,
    Rollback,
    Disabled,
    Deleting,
}

fn state(cx: &mut Cx) -> String {
    cx.common()
        .map(|c| c.current_step_state.clone())
        .unwrap_or_default()
}

fn set_state(cx: &mut Cx, s: &str, touch: bool) {
    let now = cx.now();
    if let Some(c) = cx.common() {
        c.current_step_state = s.into();
        if touch {
            c.last_update_time = Some(now);
        }
    }
}

fn index(cx: &mut Cx) -> i32 {
    cx.common().map_or(1, |c| c.current_step_index)
}

fn has_traffic(step: &CanaryStep) -> bool {
    step.traffic.is_some() || step.matches.as_ref().is_some_and(|m| !m.is_empty())
}

fn step_replicas(step: &CanaryStep, replicas: i32) -> i32 {
    step.replicas
        .as_ref()
        .and_then(|r| intstr::kruise(r, replicas, true))
        .unwrap_or(0)
}

/// `runCanary`.
pub fn run(cx: &mut Cx, f: &Facts) {
    sync_batch_release(cx);
    if let Some(c) = cx.common()
        && c.pod_template_hash.is_empty()
    {
        c.pod_template_hash = f.pod_template_hash.clone();
    }
    if jump(cx, f) {
        return;
    }
    let i = index(cx);
    let Some(step) = cx.steps().get((i - 1) as usize).cloned() else {
        return;
    };
    if !has_traffic(&step) && !net::finalising(cx) {
        return;
    }
    let n = cx.steps().len();
    let partition_all =
        step_replicas(&step, f.replicas) >= f.replicas && is_real_partition(cx.r(), cx.s.kind);
    match state(cx).as_str() {
        BEFORE_STEP_UPGRADE => {
            if !has_traffic(&step) {
                // Blue-green stamps the time and upgrades in the same pass; canary returns.
                let blue_green = is_blue_green(cx.r());
                set_state(cx, STEP_UPGRADE, blue_green);
                if blue_green {
                    upgrade(cx, f, i, n, partition_all);
                }
                return;
            }
            if partition_all && !net::restore_stable(cx) {
                return;
            }
            if i == 1 && !net::pin_stable(cx) {
                return;
            }
            set_state(cx, STEP_UPGRADE, true);
            upgrade(cx, f, i, n, partition_all);
        }
        STEP_UPGRADE => upgrade(cx, f, i, n, partition_all),
        STEP_TRAFFIC_ROUTING => {
            if net::route(cx, &step) {
                set_state(cx, STEP_METRICS_ANALYSIS, true);
            }
            cx.plan.recheck(RECHECK);
        }
        STEP_METRICS_ANALYSIS => set_state(cx, STEP_PAUSED, false),
        STEP_PAUSED if paused_done(cx, &step, i, n) => {
            set_state(cx, STEP_READY, true);
        }
        STEP_READY => {
            let now = cx.now();
            if let Some(c) = cx.common() {
                c.last_update_time = Some(now);
                if (c.current_step_index as usize) < n {
                    c.current_step_index += 1;
                    c.next_step_index = next_index(n, c.current_step_index);
                    c.current_step_state = BEFORE_STEP_UPGRADE.into();
                } else {
                    c.current_step_state = COMPLETED.into();
                }
            }
        }
        _ => {}
    }
}

fn upgrade(cx: &mut Cx, f: &Facts, i: i32, n: usize, partition_all: bool) {
    cx.plan.status.message = Some(format!(
        "Rollout is in step({i}/{n}), and upgrade workload to new version"
    ));
    if !batch_release_ready(cx, f, i) {
        return;
    }
    cx.say(
        "Progressing",
        format!("upgrade step({i}) canary pods with new versions done"),
    );
    let next = if partition_all {
        STEP_METRICS_ANALYSIS
    } else {
        STEP_TRAFFIC_ROUTING
    };
    if let Some(c) = cx.common() {
        c.pod_template_hash = f.pod_template_hash.clone();
    }
    set_state(cx, next, true);
}

/// `doCanaryPaused`: the last step at `"100%"` never waits; a duration counts from the
/// state's last change.
fn paused_done(cx: &mut Cx, step: &CanaryStep, i: i32, n: usize) -> bool {
    let last_all = i as usize == n
        && matches!(&step.replicas, Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s)) if s == "100%")
        && !is_blue_green(cx.r());
    if last_all {
        return true;
    }
    let Some(d) = step.pause.duration else {
        cx.plan.status.message = Some(format!(
            "Rollout is in step({i}/{n}), and you need manually confirm to enter the next step"
        ));
        return false;
    };
    cx.plan.status.message = Some(format!(
        "Rollout is in step({i}/{n}), and wait duration({d} seconds) to enter the next step"
    ));
    let since = cx.common().and_then(|c| c.last_update_time.clone());
    let Some(since) = since else { return true };
    let due = since.0 + std::time::Duration::from_secs(d.max(0) as u64);
    if due < cx.s.now {
        return true;
    }
    let left = due.duration_since(cx.s.now).unsigned_abs();
    cx.plan.recheck(left + std::time::Duration::from_millis(50));
    false
}

/// The BatchRelease's figures into the sub-status; its rollout id kept current.
fn sync_batch_release(cx: &mut Cx) {
    let Some(br) = cx.s.br else { return };
    let s = br.status.clone().unwrap_or_default();
    let c = s.canary_status.clone().unwrap_or_default();
    let mut msg = format!(
        "BatchRelease is at state {}, rollout-id {}, step {}",
        c.batch_state.clone().unwrap_or_default(),
        s.observed_rollout_id.clone().unwrap_or_default(),
        c.current_batch + 1
    );
    if let Some(m) = s.message.as_ref().filter(|m| !m.is_empty()) {
        msg.push_str(&format!(", {m}"));
    }
    let (updated, ready) = (
        c.updated_replicas.unwrap_or(0),
        c.updated_ready_replicas.unwrap_or(0),
    );
    let st = &mut cx.plan.status;
    if let Some(cs) = st.canary_status.as_mut() {
        cs.canary_replicas = updated;
        cs.canary_ready_replicas = ready;
    } else if let Some(b) = st.blue_green_status.as_mut() {
        b.updated_replicas = updated;
        b.updated_ready_replicas = ready;
    }
    let observed = cx.common().map(|c| {
        c.message = Some(msg);
        c.observed_rollout_id.clone().unwrap_or_default()
    });
    if let Some(id) = observed
        && br.spec.release_plan.rollout_id.as_deref().unwrap_or("") != id
    {
        cx.write(Write::PatchBatchRelease(
            json!({"spec": {"releasePlan": {"rolloutID": id}}}),
        ));
    }
}

/// The BatchRelease this step wants.
pub fn desired_batch_release(
    r: &Rollout,
    kind: Option<TargetKind>,
    id: &str,
    batch: i32,
    rollback: bool,
) -> BatchRelease {
    let s = &r.spec.strategy;
    let (threshold, meta, style, extra) = match (&s.canary, &s.blue_green) {
        (Some(c), _) => (
            c.failure_threshold.clone(),
            c.patch_pod_template_metadata.clone(),
            if is_real_partition(r, kind) {
                RollingStyle::Partition
            } else {
                RollingStyle::Canary
            },
            c.enable_extra_workload_for_canary.unwrap_or(false),
        ),
        (None, Some(b)) => (
            b.failure_threshold.clone(),
            None,
            RollingStyle::BlueGreen,
            false,
        ),
        _ => (None, None, RollingStyle::Partition, false),
    };
    let annotations = rollback
        .then(|| {
            let v = r
                .metadata
                .annotations
                .as_ref()?
                .get(keys::ROLLBACK_IN_BATCH)?;
            Some([(keys::ROLLBACK_IN_BATCH.to_string(), v.clone())].into())
        })
        .flatten();
    BatchRelease {
        metadata: ObjectMeta {
            name: r.metadata.name.clone(),
            namespace: r.metadata.namespace.clone(),
            annotations,
            owner_references: Some(vec![OwnerReference {
                api_version: "rollouts.kruise.io/v1beta1".into(),
                kind: "Rollout".into(),
                name: r.metadata.name.clone().unwrap_or_default(),
                uid: r.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: BatchReleaseSpec {
            workload_ref: r.spec.workload_ref.clone(),
            release_plan: ReleasePlan {
                batches: steps(r)
                    .iter()
                    .map(|s| ReleaseBatch {
                        canary_replicas: s.replicas.clone().unwrap_or(
                            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(0),
                        ),
                    })
                    .collect(),
                batch_partition: Some(batch),
                rollout_id: Some(id.to_string()),
                failure_threshold: threshold,
                finalizing_policy: None,
                patch_pod_template_metadata: meta,
                rolling_style: Some(style),
                enable_extra_workload_for_canary: extra,
            },
        },
        status: None,
    }
}

/// `runBatchRelease` then the readiness test of `doCanaryUpgrade`.
fn batch_release_ready(cx: &mut Cx, f: &Facts, i: i32) -> bool {
    let want = desired_batch_release(cx.r(), cx.s.kind, &rollout_id(f), i - 1, f.in_rollback);
    let Some(br) = cx.s.br else {
        cx.write(Write::CreateBatchRelease(Box::new(want)));
        return false;
    };
    if br.spec != want.spec || br.metadata.annotations != want.metadata.annotations {
        let mut updated = br.clone();
        updated.spec = want.spec;
        updated.metadata.annotations = want.metadata.annotations;
        cx.write(Write::UpdateBatchRelease(Box::new(updated)));
        return false;
    }
    let s = br.status.clone().unwrap_or_default();
    let c = s.canary_status.clone().unwrap_or_default();
    s.observed_release_plan_hash.as_deref()
        == Some(&crate::controller::rollout::hash::plan_hash(
            &br.spec.release_plan,
        ))
        && br.metadata.generation == s.observed_generation
        && c.batch_state.as_deref() == Some(br_plan::READY)
        && c.current_batch + 1 >= i
}

/// `doStepJump`: a `nextStepIndex` other than the natural next one moves there.
pub fn jump(cx: &mut Cx, f: &Facts) -> bool {
    let n = cx.steps().len();
    let updated = match (
        &cx.plan.status.canary_status,
        &cx.plan.status.blue_green_status,
    ) {
        (Some(c), _) => c.canary_replicas,
        (None, Some(b)) => b.updated_replicas,
        _ => return false,
    };
    let steps = cx.steps();
    let now = cx.now();
    let Some(c) = cx.common() else { return false };
    let next = c.next_step_index;
    if next == next_index(n, c.current_step_index) || next <= 0 || next as usize > n {
        return false;
    }
    c.current_step_index = next;
    c.next_step_index = next_index(n, next);
    c.current_step_state = if step_replicas(&steps[(next - 1) as usize], f.replicas) == updated {
        STEP_TRAFFIC_ROUTING
    } else {
        BEFORE_STEP_UPGRADE
    }
    .into();
    c.last_update_time = Some(now);
    true
}

fn sequence(reason: Reason, blue_green: bool) -> &'static [&'static str] {
    const RESTORE: &str = "RestoreStableService";
    const TO_STABLE: &str = "FinalisingStepRouteTrafficToStable";
    const TO_NEW: &str = "FinalisingStepRouteTrafficToNew";
    const REMOVE: &str = "RemoveCanaryService";
    const RESUME: &str = "ResumeWorkload";
    const RELEASE: &str = "ReleaseWorkloadControl";
    match (reason, blue_green) {
        (Reason::Rollback, false) => &[TO_STABLE, RESUME, RELEASE, RESTORE, REMOVE],
        (Reason::Rollback, true) => &[TO_STABLE, RESUME, RESTORE, REMOVE, RELEASE],
        (Reason::Success, true) => &[TO_NEW, RESTORE, RESUME, TO_STABLE, REMOVE, RELEASE],
        _ => &[RESTORE, TO_STABLE, REMOVE, RESUME, RELEASE],
    }
}

fn next_task(reason: Reason, blue_green: bool, current: &str) -> &'static str {
    let seq = sequence(reason, blue_green);
    if current.is_empty() {
        return seq[0];
    }
    match seq.iter().position(|t| *t == current) {
        Some(i) if i + 1 < seq.len() => seq[i + 1],
        _ => "END",
    }
}

/// `doCanaryFinalising`: one task per pass, in the reason's order; true once at `END`.
pub fn finalising(cx: &mut Cx, reason: Reason) -> bool {
    let blue_green = is_blue_green(cx.r());
    if cx.common().is_none() {
        return true;
    }
    if cx.s.workload.as_ref().is_some_and(|w| w.in_progressing) {
        cx.write(Write::PatchWorkload(json!({
            "metadata": {"annotations": {keys::IN_PROGRESSING: null}}
        })));
    }
    let now = cx.now();
    let c = cx.common().expect("checked above");
    let mut current = c.finalising_step.clone();
    if current.is_empty() {
        current = next_task(reason, blue_green, "").to_string();
        c.finalising_step = current.clone();
        c.last_update_time = Some(now.clone());
    } else if current == "END" {
        return true;
    }
    let next = next_task(reason, blue_green, &current);
    let done = match current.as_str() {
        "ResumeWorkload" => resume_workload(cx, reason == Reason::Success),
        "ReleaseWorkloadControl" => remove_batch_release(cx),
        "FinalisingStepRouteTrafficToStable" => net::restore_gateway(cx),
        "FinalisingStepRouteTrafficToNew" => net::route_all_to_new(cx),
        "RestoreStableService" => net::restore_stable(cx),
        "RemoveCanaryService" => net::remove_canary_service(cx),
        _ => {
            let first = next_task(reason, blue_green, "");
            if let Some(c) = cx.common() {
                c.finalising_step = first.into();
            }
            return false;
        }
    };
    if !done {
        return false;
    }
    let c = cx.common().expect("checked above");
    c.last_update_time = Some(now);
    c.finalising_step = next.into();
    next == "END"
}

/// `finalizingBatchRelease`: the plan's end written (`batchPartition: null`), then the
/// BatchRelease's own Finalize awaited.
fn resume_workload(cx: &mut Cx, wait_ready: bool) -> bool {
    let Some(br) = cx.s.br else { return true };
    let plan = &br.spec.release_plan;
    let completed = br.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(br_plan::COMPLETED);
    if plan.batch_partition.is_none() && completed {
        return true;
    }
    let want = if wait_ready {
        FinalizingPolicy::WaitResume
    } else {
        FinalizingPolicy::Immediate
    };
    if plan.batch_partition.is_none()
        && (plan.finalizing_policy == Some(FinalizingPolicy::WaitResume)) == wait_ready
    {
        return false;
    }
    cx.write(Write::PatchBatchRelease(json!({"spec": {"releasePlan": {
        "batchPartition": null, "finalizingPolicy": want}}})));
    false
}

/// `removeBatchRelease`: deleted, and gone.
fn remove_batch_release(cx: &mut Cx) -> bool {
    let Some(br) = cx.s.br else { return true };
    if br.metadata.deletion_timestamp.is_none() {
        cx.write(Write::DeleteBatchRelease);
    }
    false
}

/// `doProgressingReset` for a continuous release: without traffic the BatchRelease goes;
/// with it, routes back to stable, the BatchRelease, then the canary Service (the stable
/// Service stays pinned to the old revision on purpose).
pub fn reset(cx: &mut Cx) -> bool {
    if routings(cx.r()).is_empty() {
        return remove_batch_release(cx);
    }
    let now = cx.now();
    let Some(c) = cx.common() else { return true };
    let mut step = c.finalising_step.clone();
    if !matches!(
        step.as_str(),
        "FinalisingStepRouteTrafficToStable" | "ReleaseWorkloadControl" | "RemoveCanaryService"
    ) {
        step = "FinalisingStepRouteTrafficToStable".into();
        c.finalising_step = step.clone();
    }
    if step == "FinalisingStepRouteTrafficToStable" {
        if !net::restore_gateway(cx) {
            return false;
        }
        step = advance(cx, "ReleaseWorkloadControl", &now);
    }
    if step == "ReleaseWorkloadControl" {
        if !remove_batch_release(cx) {
            return false;
        }
        advance(cx, "RemoveCanaryService", &now);
    }
    // The last task: its grace is not waited for (upstream ignores it here too).
    net::remove_canary_service(cx);
    true
}

fn advance(
    cx: &mut Cx,
    to: &str,
    now: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) -> String {
    if let Some(c) = cx.common() {
        c.last_update_time = Some(now.clone());
        c.finalising_step = to.into();
    }
    to.into()
}
