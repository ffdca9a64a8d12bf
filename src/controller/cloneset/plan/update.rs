//! The update step (reference notes §3.9): refresh every pod (grace periods, lifecycle
//! states, `InPlaceUpdateReady`), then update the waiting pods the budget allows, in place or
//! by recreating them.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::super::sort;
use super::ctx::{Ctx, hooked, state_marks};
use super::{Action, InPlaceGrace, InPlaceState, PodMarks, diffs};
use crate::api::cloneset::CloneSetUpdateStrategyType;
use crate::controller::inplace::{self, InPlaceChange};
use crate::controller::pod::{self, keys, state};

/// The update step (reference notes §3.9).
pub(super) fn update_step(
    ctx: &Ctx,
    active: &[&Pod],
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
    requeue: &mut Option<Duration>,
) {
    let before = actions.len();
    for p in active {
        refresh(ctx, p, actions, requeue);
    }
    if actions.len() > before {
        return;
    }
    if ctx.policy == CloneSetUpdateStrategyType::OnDelete || ctx.lim.paused {
        return;
    }
    let d = diffs(
        &ctx.lim,
        active,
        &ctx.update,
        &ctx.pods_to_delete,
        ctx.exclude_preparing_delete,
        ctx.now,
    );
    if d.update_num <= 0 {
        return;
    }
    let waiting = waiting_pods(ctx, active, d.update_num as usize);
    for p in within_budget(ctx, active, waiting, d.update_max_unavailable) {
        update_pod(ctx, p, actions, errors);
    }
}

/// The first `n` pods to update, in upstream's order: old-revision pods neither being deleted
/// nor in a grace period, sorted, by priority, scattered, PreparingUpdate ones first.
fn waiting_pods<'a>(ctx: &Ctx, active: &[&'a Pod], n: usize) -> Vec<&'a Pod> {
    let in_grace = |p: &Pod| pod::annotation(p, keys::INPLACE_GRACE).is_some();
    let mut waiting: Vec<&Pod> = active
        .iter()
        .copied()
        .filter(|p| {
            !pod::revision_matches(pod::revision(p), &ctx.update)
                && pod::lifecycle_state(p) != state::PREPARING_DELETE
                && !in_grace(p)
        })
        .collect();
    waiting.sort_by(|a, b| sort::active_pods(a, b));
    let us = ctx.cs.spec.update_strategy.clone().unwrap_or_default();
    sort::by_priority(&mut waiting, us.priority_strategy.as_ref());
    if let Some(terms) = us.scatter_strategy.as_ref().filter(|t| !t.is_empty()) {
        waiting = sort::scatter(waiting, active, terms);
    }
    waiting.sort_by_key(|p| pod::lifecycle_state(p) != state::PREPARING_UPDATE);
    waiting.truncate(n);
    waiting
}

/// The waiting pods, in order, that may be updated without more than `max_unavailable` pods
/// unavailable (nor more than that many of the update revision unavailable or being updated).
fn within_budget<'a>(
    ctx: &Ctx,
    active: &[&Pod],
    waiting: Vec<&'a Pod>,
    max_unavailable: i32,
) -> Vec<&'a Pod> {
    let (min_ready, now) = (ctx.lim.min_ready, ctx.now);
    let mut unavailable = active
        .iter()
        .filter(|p| !pod::available(p, min_ready, now))
        .count() as i32;
    let target_unavailable = active
        .iter()
        .filter(|p| {
            !pod::available(p, min_ready, now)
                && pod::revision_matches(pod::revision(p), &ctx.update)
        })
        .count() as i32;
    let mut picked: Vec<&Pod> = Vec::new();
    for p in waiting {
        if target_unavailable + picked.len() as i32 >= max_unavailable {
            break;
        }
        if pod::available(p, min_ready, now) {
            if unavailable >= max_unavailable {
                break;
            }
            unavailable += 1;
        }
        picked.push(p);
    }
    picked
}

/// Refresh one pod: finish grace periods, move lifecycle states, set `InPlaceUpdateReady`.
fn refresh(ctx: &Ctx, p: &Pod, actions: &mut Vec<Action>, requeue: &mut Option<Duration>) {
    if let Some(raw) = pod::annotation(p, keys::INPLACE_GRACE) {
        grace(ctx, p, raw, actions, requeue);
        return;
    }
    let completed = inplace_completed(p);
    let (mut marks, wait_for_schedule) = lifecycle_marks(ctx, p, completed);
    if pod::label(p, keys::POD_TEMPLATE_HASH).is_none() && !pod::revision(p).is_empty() {
        marks.labels.insert(
            keys::POD_TEMPLATE_HASH.into(),
            Some(pod::short_hash(pod::revision(p)).into()),
        );
    }
    let gate_true = pod::condition(p, keys::INPLACE_READY)
        .is_some_and(|c| c.status == "True" && c.reason.is_none() && c.message.is_none());
    // Kubernetes makes nothing of the gate before the pod is scheduled; waiting lets the
    // state change and the gate go out in one write.
    if pod::has_gate(p, keys::INPLACE_READY) && !gate_true && completed && !wait_for_schedule {
        marks.gate_ready = true;
    }
    if !marks.is_empty() {
        actions.push(Action::Mark {
            pod: pod::name(p).to_string(),
            reason: "refresh",
            marks,
        });
    }
}

/// A pod in an in-place update's grace period (its grace spec `raw`): drop the change if the
/// pod's revision moved, else finish it once the period is over, or come back then.
fn grace(ctx: &Ctx, p: &Pod, raw: &str, actions: &mut Vec<Action>, requeue: &mut Option<Duration>) {
    let name = pod::name(p).to_string();
    let grace: InPlaceGrace = serde_json::from_str(raw).unwrap_or_default();
    // Upstream (`finishGracePeriod`) drops the pending change only when the pod's own
    // revision moved away from the one the grace spec was written for; a newer template
    // does not cancel it: the change is finished, and the update step moves the pod on.
    if !pod::revision_matches(pod::revision(p), &grace.revision) {
        let mut marks = PodMarks::default();
        marks.annotations.insert(keys::INPLACE_GRACE.into(), None);
        actions.push(Action::Mark {
            pod: name,
            reason: "revision changed during grace period",
            marks,
        });
        return;
    }
    let started = pod::annotation(p, keys::INPLACE_STATE)
        .and_then(|s| serde_json::from_str::<InPlaceState>(s).ok())
        .and_then(|s| s.update_timestamp.parse::<Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(0);
    let left = started + i64::from(grace.grace_seconds) - ctx.now.as_second();
    if left > 0 {
        let d = Duration::from_secs(left as u64);
        *requeue = Some(requeue.map_or(d, |r| r.min(d)));
    } else {
        actions.push(Action::FinishGrace {
            pod: name,
            images: grace.container_images,
        });
    }
}

/// The marks of the pod's next lifecycle state, if it is due one, and whether it waits to be
/// scheduled first (PreparingNormal without a preNormal hook).
fn lifecycle_marks(ctx: &Ctx, p: &Pod, completed: bool) -> (PodMarks, bool) {
    let mut marks = PodMarks::default();
    let scheduled = !pod::node(p).is_empty();
    let mut wait_for_schedule = false;
    match pod::lifecycle_state(p) {
        state::PREPARING_NORMAL => match ctx.pre_normal() {
            None if scheduled => marks = state_marks(state::NORMAL, ctx.now),
            None => wait_for_schedule = true,
            Some(h) if hooked(p, Some(h), true) => marks = state_marks(state::NORMAL, ctx.now),
            Some(_) => {}
        },
        state::UPDATING if completed => marks = state_marks(ctx.after_update(p), ctx.now),
        state::UPDATED if ctx.inplace_hook().is_none() || hooked(p, ctx.inplace_hook(), true) => {
            marks = state_marks(state::NORMAL, ctx.now)
        }
        state::PREPARING_UPDATE if pod::revision_matches(pod::revision(p), &ctx.update) => {
            marks = state_marks(ctx.after_update(p), ctx.now)
        }
        _ => {}
    }
    (marks, wait_for_schedule)
}

/// Update one pod: in place if the policy allows and the change is one, through the
/// inPlaceUpdate hook; else recreate it (mark it to be deleted), or with InPlaceOnly refuse.
fn update_pod(ctx: &Ctx, p: &Pod, actions: &mut Vec<Action>, errors: &mut Vec<String>) {
    let name = pod::name(p).to_string();
    match in_place_change(ctx, p) {
        Ok(change) => {
            if !hook_lets_update(ctx, p, actions, errors) {
                return;
            }
            actions.push(Action::UpdateInPlace {
                pod: name,
                from: pod::revision(p).to_string(),
                to: ctx.update.clone(),
                change,
                grace_seconds: ctx.grace,
            });
        }
        Err(why) if ctx.policy == CloneSetUpdateStrategyType::InPlaceOnly => {
            errors.push(format!(
                "update: pod {name} cannot be updated in place: {why}"
            ));
        }
        Err(_) => {
            let mut marks = PodMarks::default();
            marks
                .labels
                .insert(keys::SPECIFIED_DELETE.into(), Some("true".into()));
            actions.push(Action::Mark {
                pod: name,
                reason: "recreate",
                marks,
            });
        }
    }
}

/// The in-place change from the pod's revision to the update revision, or why there is none.
fn in_place_change(ctx: &Ctx, p: &Pod) -> Result<InPlaceChange, String> {
    let in_place_policy = matches!(
        ctx.policy,
        CloneSetUpdateStrategyType::InPlaceIfPossible | CloneSetUpdateStrategyType::InPlaceOnly
    );
    if !in_place_policy {
        return Err("updateStrategy.type is ReCreate".into());
    }
    let from = ctx.template_of_revision(pod::revision(p));
    let to = ctx.template_of_revision(&ctx.update);
    match (from, to) {
        (Some(f), Some(t)) => inplace::calculate(f, t),
        _ => Err(format!(
            "the pod's revision {} is no longer in the history",
            pod::revision(p)
        )),
    }
}

/// Whether the pod's lifecycle state lets an in-place update go ahead now; if not, push what
/// moves it on (to PreparingUpdate, or the hook re-armed), or the error of a state that never
/// lets it.
fn hook_lets_update(
    ctx: &Ctx,
    p: &Pod,
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> bool {
    let name = pod::name(p).to_string();
    let hook = ctx.inplace_hook();
    match pod::lifecycle_state(p) {
        "" | state::PREPARING_NORMAL | state::NORMAL if hooked(p, hook, false) => {
            actions.push(Action::Mark {
                pod: name,
                reason: "inPlaceUpdate hook",
                marks: state_marks(state::PREPARING_UPDATE, ctx.now),
            });
            false
        }
        state::UPDATED => {
            let mut marks = state_marks(state::PREPARING_UPDATE, ctx.now);
            if let Some(h) = hook {
                for (k, v) in h.labels_handler.iter().flatten() {
                    marks.labels.insert(k.clone(), Some(v.clone()));
                }
                marks.add_finalizers = h.finalizers_handler.clone().unwrap_or_default();
            }
            actions.push(Action::Mark {
                pod: name,
                reason: "inPlaceUpdate hook re-armed",
                marks,
            });
            false
        }
        state::PREPARING_UPDATE if hooked(p, hook, false) => false,
        ""
        | state::PREPARING_NORMAL
        | state::NORMAL
        | state::PREPARING_UPDATE
        | state::UPDATING => true,
        other => {
            errors.push(format!(
                "update: pod {name} is in lifecycle state {other} and cannot be updated"
            ));
            false
        }
    }
}

fn with_latest(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// Has the pod's last in-place update completed (reference notes §2.5 D, without a node
/// agent)? A pod without the state annotation has.
pub fn inplace_completed(p: &Pod) -> bool {
    if pod::annotation(p, keys::INPLACE_GRACE).is_some() {
        return false;
    }
    let Some(raw) = pod::annotation(p, keys::INPLACE_STATE) else {
        return true;
    };
    let Ok(st) = serde_json::from_str::<InPlaceState>(raw) else {
        return true;
    };
    let Some(last) = st.last_container_statuses.filter(|l| !l.is_empty()) else {
        return true;
    };
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let spec_images: BTreeMap<String, String> = p
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for name in last.keys() {
        if !statuses.iter().any(|s| &s.name == name) {
            return false;
        }
    }
    for s in &statuses {
        if let Some(rec) = last.get(&s.name) {
            let want = with_latest(spec_images.get(&s.name).map(String::as_str).unwrap_or(""));
            if s.image_id == rec.image_id && with_latest(&s.image) != want {
                return false;
            }
        }
    }
    true
}
