//! The update step (reference notes §3.9): refresh every pod (grace periods, lifecycle
//! states, `InPlaceUpdateReady`), then update the waiting pods the budget allows, in place or
//! by recreating them.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use super::super::sort;
use super::ctx::Ctx;
use super::{Action, PodMarks, diffs};
use crate::api::cloneset::CloneSetUpdateStrategyType;
use crate::controller::pod::{self, keys, state};
use crate::controller::podupdate;

/// The update step (reference notes §3.9).
pub(super) fn update_step(
    ctx: &Ctx,
    active: &[&Pod],
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
    requeue: &mut Option<Duration>,
) {
    let before = actions.len();
    let cx = ctx.pods();
    for p in active {
        podupdate::refresh(&cx, p, actions, requeue);
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

/// Update one pod: in place if the policy allows and the change is one, through the
/// inPlaceUpdate hook; else recreate it (mark it to be deleted), or with InPlaceOnly refuse.
fn update_pod(ctx: &Ctx, p: &Pod, actions: &mut Vec<Action>, errors: &mut Vec<String>) {
    let name = pod::name(p).to_string();
    match podupdate::try_in_place(&ctx.pods(), p, actions, errors) {
        Ok(()) => {}
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
