//! The phase machine (`calculateRolloutStatus`) and the Progressing sub-machine
//! (`reconcileRolloutProgressing`, `doProgressingInRolling`), reference notes §2.2, §2.4,
//! §2.5, §2.12, §2.14. Dispatch reads the phase the pass started from, as upstream does, so a
//! phase change is written before the work of the new phase begins.

use serde_json::json;

use super::conditions::{self, PROGRESSING, SUCCEEDED, TERMINATING};
use super::*;
use crate::api::rollout::{BlueGreenStatus, CanaryStatus};
use crate::controller::intstr;
use crate::controller::rollout::keys;

/// The workload's rollout id: its label, else the canary revision (`rollback-` prefixed when
/// rolling back), so a Rollout-made BatchRelease always has one.
pub fn rollout_id(f: &Facts) -> String {
    match &f.rollout_id {
        Some(id) if !id.is_empty() => id.clone(),
        _ if f.in_rollback => format!("rollback-{}", f.canary_revision),
        _ => f.canary_revision.clone(),
    }
}

pub fn next_index(steps: usize, current: i32) -> i32 {
    if current >= steps as i32 {
        -1
    } else {
        current + 1
    }
}

fn new_common(cx: &Cx, f: &Facts, hash: &str, index: i32, state: &str) -> CommonStatus {
    CommonStatus {
        observed_workload_generation: Some(f.generation),
        observed_rollout_id: Some(rollout_id(f)),
        rollout_hash: Some(hash.to_string()),
        stable_revision: Some(f.stable_revision.clone()),
        current_step_index: index,
        next_step_index: next_index(cx.steps().len(), index),
        current_step_state: state.to_string(),
        ..Default::default()
    }
}

fn set_sub_status(cx: &mut Cx, common: CommonStatus, f: &Facts) {
    if is_blue_green(cx.r()) {
        cx.plan.status.blue_green_status = Some(BlueGreenStatus {
            common,
            updated_revision: f.canary_revision.clone(),
            ..Default::default()
        });
    } else {
        cx.plan.status.canary_status = Some(CanaryStatus {
            common,
            canary_revision: f.canary_revision.clone(),
            ..Default::default()
        });
    }
}

pub fn canary_revision(st: &RolloutStatus) -> String {
    match (&st.canary_status, &st.blue_green_status) {
        (Some(c), _) => c.canary_revision.clone(),
        (None, Some(b)) => b.updated_revision.clone(),
        _ => String::new(),
    }
}

fn set_canary_revision(st: &mut RolloutStatus, rev: &str) {
    if let Some(c) = st.canary_status.as_mut() {
        c.canary_revision = rev.into();
    } else if let Some(b) = st.blue_green_status.as_mut() {
        b.updated_revision = rev.into();
    }
}

/// `calculateRolloutStatus`; false: stop here without writing (the workload is mid-update).
pub fn calculate(cx: &mut Cx, hash: &str) -> bool {
    let r = cx.r();
    let now = cx.now();
    let st = &mut cx.plan.status;
    if r.metadata.deletion_timestamp.is_some() {
        if st.phase.as_deref() != Some(PHASE_TERMINATING) {
            st.phase = Some(PHASE_TERMINATING.into());
            let c = conditions::new(
                TERMINATING,
                true,
                "InTerminating",
                "Rollout is in terminating",
                &now,
            );
            conditions::set(st, c);
        }
        return true;
    }
    let phase = st.phase.clone().unwrap_or_default();
    if r.spec.disabled && phase != DISABLED && phase != DISABLING {
        if phase == PHASE_PROGRESSING {
            st.phase = Some(DISABLING.into());
            st.message = Some("Disabling rollout, release resources".into());
        } else {
            st.phase = Some(DISABLED.into());
            st.message = Some("Rollout is disabled".into());
        }
    }
    if st.phase.as_deref().unwrap_or("").is_empty() {
        st.phase = Some(INITIAL.into());
    }
    let Some(f) = cx.s.workload.clone() else {
        if !r.spec.disabled {
            cx.plan.status = RolloutStatus {
                phase: Some(INITIAL.into()),
                message: Some(match cx.s.kind {
                    Some(_) => "Workload Not Found".into(),
                    None => format!(
                        "the workload type {}/{} is not supported",
                        r.spec.workload_ref.api_version, r.spec.workload_ref.kind
                    ),
                }),
                ..Default::default()
            };
        }
        // Upstream hands this status back and `Reconcile` still dispatches on the phase: a
        // Disabling Rollout whose workload is gone finalises all the same.
        return true;
    };
    if !f.consistent {
        cx.plan.status = r.status.clone().unwrap_or_default();
        cx.plan.recheck(RECHECK);
        return false;
    }
    let st = &mut cx.plan.status;
    let cr = canary_revision(st);
    if !cr.is_empty()
        && cr == f.canary_revision
        && let Some(c) = sub(st)
    {
        c.observed_rollout_id = Some(rollout_id(&f));
        c.observed_workload_generation = Some(f.generation);
    }
    match st.phase.clone().unwrap_or_default().as_str() {
        INITIAL => {
            st.phase = Some(HEALTHY.into());
            st.message = Some("rollout is healthy".into());
        }
        HEALTHY if f.in_progressing => {
            st.phase = Some(PHASE_PROGRESSING.into());
            let c = conditions::new(
                PROGRESSING,
                true,
                "Initializing",
                "Rollout is in Progressing",
                &now,
            );
            conditions::set(st, c);
            conditions::remove(st, SUCCEEDED);
        }
        HEALTHY if st.canary_status.is_none() && st.blue_green_status.is_none() => {
            let n = cx.steps().len() as i32;
            let mut common = new_common(cx, &f, hash, n, COMPLETED);
            common.pod_template_hash = f.pod_template_hash.clone();
            set_sub_status(cx, common, &f);
            cx.plan.status.message = Some("workload deployment is completed".into());
        }
        DISABLED if !r.spec.disabled => {
            st.phase = Some(HEALTHY.into());
            st.message = Some("rollout is healthy".into());
        }
        _ => {}
    }
    true
}

fn sub(st: &mut RolloutStatus) -> Option<&mut CommonStatus> {
    match (&mut st.canary_status, &mut st.blue_green_status) {
        (Some(c), _) => Some(&mut c.common),
        (None, Some(b)) => Some(&mut b.common),
        _ => None,
    }
}

/// The phase the pass started from decides the work (upstream switches on the old status).
fn old_phase(cx: &Cx) -> String {
    cx.r()
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default()
}

/// `reconcileRolloutProgressing`.
pub fn progressing(cx: &mut Cx) {
    if old_phase(cx) != PHASE_PROGRESSING {
        return;
    }
    let Some(f) = cx.s.workload.clone() else {
        return;
    };
    let old = cx.r().status.clone().unwrap_or_default();
    let now = cx.now();
    match conditions::reason(&old).as_str() {
        "Initializing" => {
            let hash = cx.hash.clone();
            cx.plan.status.canary_status = None;
            cx.plan.status.blue_green_status = None;
            let mut common = new_common(cx, &f, &hash, 1, BEFORE_STEP_UPGRADE);
            common.last_update_time = Some(now.clone());
            set_sub_status(cx, common, &f);
            if initializing_done(cx) {
                conditions::progressing(
                    &mut cx.plan.status,
                    true,
                    "InRolling",
                    "Rollout is in Progressing",
                    &now,
                );
            } else {
                cx.plan.recheck(RECHECK);
            }
        }
        "InRolling" => in_rolling(cx, &f),
        "Finalising" => {
            if canary::finalising(cx, canary::Reason::Success) {
                conditions::progressing(
                    &mut cx.plan.status,
                    false,
                    "Completed",
                    "Rollout progressing has been completed",
                    &now,
                );
                let c = conditions::new(SUCCEEDED, true, "", "", &now);
                conditions::set(&mut cx.plan.status, c);
            } else {
                cx.plan.recheck(RECHECK);
            }
        }
        "Paused" if cx.r().spec.strategy.paused != Some(true) => {
            conditions::progressing(&mut cx.plan.status, true, "InRolling", "", &now);
        }
        "Cancelling" => {
            if canary::finalising(cx, canary::Reason::Rollback) {
                conditions::progressing(
                    &mut cx.plan.status,
                    false,
                    "Completed",
                    "Rollout progressing has been cancelled",
                    &now,
                );
                let c = conditions::new(SUCCEEDED, false, "", "", &now);
                conditions::set(&mut cx.plan.status, c);
            } else {
                cx.plan.recheck(RECHECK);
            }
        }
        "Completed" => cx.plan.status.phase = Some(HEALTHY.into()),
        _ => {}
    }
}

/// `doProgressingInitializing`: the traffic objects exist, and 3 s have passed since the
/// release was noticed (a Rollout edit that trails the workload's lands first).
fn initializing_done(cx: &mut Cx) -> bool {
    if let Some(missing) = net::missing(cx) {
        cx.plan.status.message = Some(missing);
        return false;
    }
    let since = conditions::get(&cx.plan.status, PROGRESSING)
        .and_then(|c| c.last_update_time.clone())
        .map(|t| t.0);
    match since {
        Some(t) => {
            let due = t + std::time::Duration::from_secs(3);
            due <= cx.s.now
        }
        None => true,
    }
}

/// `doProgressingInRolling`'s special cases, in upstream's order.
fn in_rolling(cx: &mut Cx, f: &Facts) {
    let old = cx.r().status.clone().unwrap_or_default();
    let cr = canary_revision(&old);
    let now = cx.now();
    let in_batch = rollback_in_batch(cx.r(), cx.s.kind);
    if f.in_rollback && f.canary_revision != cr && !in_batch {
        set_canary_revision(&mut cx.plan.status, &f.canary_revision);
        cx.say(
            "Progressing",
            "workload has been rollback, then rollout is canceled".into(),
        );
        let m = "The workload has been rolled back and the rollout process will be cancelled";
        conditions::progressing(&mut cx.plan.status, true, "Cancelling", m, &now);
        return;
    }
    if cx.r().spec.strategy.paused == Some(true) {
        let m = "Rollout has been paused, you can resume it by kube-cli";
        conditions::progressing(&mut cx.plan.status, true, "Paused", m, &now);
        return;
    }
    if f.in_rollback && f.canary_revision != cr && in_batch {
        let n = cx.steps().len();
        let hash = cx.hash.clone();
        set_canary_revision(&mut cx.plan.status, &f.canary_revision);
        if let Some(c) = cx.common() {
            c.current_step_index = 1;
            c.next_step_index = next_index(n, 1);
            c.current_step_state = BEFORE_STEP_UPGRADE.into();
            c.last_update_time = Some(now);
            c.rollout_hash = Some(hash);
        }
        return;
    }
    if !cr.is_empty() && f.canary_revision != cr && !f.in_rollback {
        continuous_release(cx);
        return;
    }
    let hash = cx.hash.clone();
    let old_hash = cx
        .common()
        .and_then(|c| c.rollout_hash.clone())
        .unwrap_or_default();
    if !old_hash.is_empty() && old_hash != hash {
        plan_changed(cx, f, &hash);
        return;
    }
    let state = cx.common().map(|c| c.current_step_state.clone());
    if state.as_deref() == Some(COMPLETED) {
        let m = "Rollout has been completed and some closing work is being done";
        conditions::progressing(&mut cx.plan.status, true, "Finalising", m, &now);
        return;
    }
    let n = cx.steps().len() as i32;
    if let Some(c) = cx.common() {
        if c.current_step_index < 1 || c.current_step_index > n {
            c.current_step_index = c.current_step_index.clamp(1, n.max(1));
        }
        if c.next_step_index < -1 || c.next_step_index == 0 || c.next_step_index > n {
            c.next_step_index = next_index(n as usize, c.current_step_index);
        }
    }
    canary::run(cx, f);
}

/// Rollback in batches: asked by annotation, no traffic routing, a CloneSet or StatefulSet.
fn rollback_in_batch(r: &Rollout, kind: Option<TargetKind>) -> bool {
    let asked = r
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::ROLLBACK_IN_BATCH))
        .is_some_and(|v| v == "true");
    asked
        && routings(r).is_empty()
        && matches!(
            kind,
            Some(TargetKind::CloneSet | TargetKind::StatefulSet | TargetKind::AdvancedStatefulSet)
        )
}

/// Blue-green's answer to a new version mid-release: it waits for a person to roll back.
pub const BLUE_GREEN_REFUSES: &str =
    "new version releasing detected in the progress of blue-green release, please rollback first";

/// A new template while a release is in flight: back to step 1 (blue-green refuses).
fn continuous_release(cx: &mut Cx) {
    cx.say(
        "Progressing",
        "workload continuous publishing canaryRevision, then restart publishing".into(),
    );
    let now = cx.now();
    if is_blue_green(cx.r()) {
        cx.plan.status.message = Some(BLUE_GREEN_REFUSES.into());
        return;
    }
    if canary::reset(cx) {
        cx.plan.status.canary_status = None;
        cx.plan.status.blue_green_status = None;
        conditions::progressing(
            &mut cx.plan.status,
            true,
            "Initializing",
            "Workload is continuous release",
            &now,
        );
    } else {
        cx.plan.recheck(RECHECK);
    }
}

/// The plan changed mid-release: find the step whose replicas cover what is released.
fn plan_changed(cx: &mut Cx, f: &Facts, hash: &str) {
    let target = recalculate_step(cx, f);
    let now = cx.now();
    let Some(c) = cx.common() else { return };
    c.last_update_time = Some(now);
    c.rollout_hash = Some(hash.to_string());
    if c.next_step_index == target {
        c.current_step_state = STEP_READY.into();
        return;
    }
    c.next_step_index = target;
    canary::jump(cx, f);
}

fn recalculate_step(cx: &mut Cx, f: &Facts) -> i32 {
    let Some(br) = cx.s.br else { return 1 };
    let plan = &br.spec.release_plan;
    let bp = plan.batch_partition.unwrap_or(0).max(0) as usize;
    let Some(b) = plan.batches.get(bp) else {
        return 1;
    };
    let current = intstr::kruise(&b.canary_replicas, f.replicas, true).unwrap_or(0);
    let steps = cx.steps();
    let ci = cx.common().map_or(0, |c| c.current_step_index - 1);
    let mut order: Vec<usize> = vec![];
    if ci >= 0 && (ci as usize) < steps.len() {
        order.push(ci as usize);
    }
    order.extend((0..steps.len()).filter(|i| *i as i32 != ci));
    let mut index = 0;
    for i in order {
        let want = steps[i]
            .replicas
            .as_ref()
            .and_then(|r| intstr::kruise(r, f.replicas, true))
            .unwrap_or(0);
        index = i as i32 + 1;
        if current <= want {
            break;
        }
    }
    index
}

/// `reconcileRolloutTerminating`.
pub fn terminating(cx: &mut Cx) {
    if old_phase(cx) != PHASE_TERMINATING {
        return;
    }
    let old = cx.r().status.clone().unwrap_or_default();
    let Some(mut c) = conditions::get(&old, TERMINATING).cloned() else {
        return;
    };
    if c.reason == "Completed" {
        let f = cx.r().metadata.finalizers.clone().unwrap_or_default();
        if f.iter().any(|x| x == keys::ROLLOUT_FINALIZER) {
            let kept: Vec<&String> = f.iter().filter(|x| *x != keys::ROLLOUT_FINALIZER).collect();
            cx.write(Write::PatchRollout(json!({"metadata": {
                "finalizers": kept,
                "resourceVersion": cx.r().metadata.resource_version,
            }})));
        }
        return;
    }
    if canary::finalising(cx, canary::Reason::Deleting) {
        c.reason = "Completed".into();
        c.status = "False".into();
        conditions::set(&mut cx.plan.status, c);
    } else {
        cx.plan.recheck(RECHECK);
    }
}

/// `reconcileRolloutDisabling`.
pub fn disabling(cx: &mut Cx) {
    if old_phase(cx) != DISABLING {
        return;
    }
    if canary::finalising(cx, canary::Reason::Disabled) {
        cx.plan.status.phase = Some(DISABLED.into());
        cx.plan.status.message = Some("Rollout is disabled".into());
    } else {
        cx.plan.recheck(RECHECK);
    }
}
