//! The rolling update (upstream `rollingUpdateStatefulsetPods`): unless a pod's state was just
//! refreshed or the set is paused, count the unavailable replicas, delete the
//! specified-delete pods the budget allows, then update the pods `sortPodsToUpdate` picks —
//! ordered from the highest ordinal down to the partition, or unordered by priority — in
//! place when the policy and the change allow, else by deleting them, while no more than
//! maxUnavailable are unavailable.

use std::collections::BTreeSet;

use super::ctx::{Ctx, Out, available, created, healthy, terminating};
use super::scale::delete;
use super::slots::Slot;
use crate::controller::cloneset::sort;
use crate::controller::pod::{self, keys};
use crate::controller::podupdate::{self, Policy};

/// Counters the update moves (upstream decrements them as it deletes).
#[derive(Default)]
pub(super) struct Moved {
    pub(super) current: i32,
    pub(super) updated: i32,
}

pub(super) fn rolling(ctx: &Ctx, replicas: &[Slot], out: &mut Out) -> Moved {
    let mut moved = Moved::default();
    if out.refreshed || ctx.paused {
        return moved;
    }
    let mut unavailable = unavailable(ctx, replicas, out);
    let specified = specified_deletes(ctx, replicas, &mut unavailable, &mut moved, out);
    for i in to_update(ctx, replicas) {
        let p = replicas[i].pod.as_ref();
        if pod::revision_matches(pod::revision(p), &ctx.update) || !created(p) {
            continue;
        }
        let name = pod::name(p).to_string();
        if unavailable.len() as i32 >= ctx.max_unavailable && !unavailable.contains(&name) {
            return moved;
        }
        if !specified.contains(&name) && !terminating(p) {
            let errors = out.errors.len();
            let in_place =
                podupdate::try_in_place(&ctx.pods(), p, &mut out.actions, &mut out.errors);
            if out.errors.len() > errors {
                return moved;
            }
            let decrease = match in_place {
                Ok(()) => true,
                Err(why) if ctx.policy == Policy::InPlaceOnly => {
                    out.errors.push(format!(
                        "find strategy is InPlaceOnly but Pod {name} can not update in-place: {why}"
                    ));
                    return moved;
                }
                Err(_) => delete(ctx, p, "update", out).1,
            };
            unavailable.insert(name);
            if decrease && pod::revision(p) == ctx.current {
                moved.current += 1;
            }
        }
    }
    moved
}

/// Replicas not healthy, mid in-place update, or not yet available for minReadySeconds.
fn unavailable(ctx: &Ctx, replicas: &[Slot], out: &mut Out) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for s in replicas {
        let p = s.pod.as_ref();
        let (avail, wait) = available(p, ctx.min_ready, ctx.now);
        if !healthy(p) || !podupdate::inplace_completed(p) {
            set.insert(pod::name(p).to_string());
        } else if !avail {
            out.requeue(wait);
            set.insert(pod::name(p).to_string());
        }
    }
    set
}

/// `handleSpecifiedDeletedPods`: pods labelled specified-delete, highest ordinal first, deleted
/// while the budget allows (the partition does not hold them); recreated at the same ordinal.
fn specified_deletes(
    ctx: &Ctx,
    replicas: &[Slot],
    unavailable: &mut BTreeSet<String>,
    moved: &mut Moved,
    out: &mut Out,
) -> BTreeSet<String> {
    let mut deleted = BTreeSet::new();
    for s in replicas.iter().rev() {
        let p = s.pod.as_ref();
        if !created(p) || pod::label(p, keys::SPECIFIED_DELETE).is_none() {
            continue;
        }
        let name = pod::name(p).to_string();
        if unavailable.len() as i32 >= ctx.max_unavailable && !unavailable.contains(&name) {
            continue;
        }
        deleted.insert(name.clone());
        if delete(ctx, p, "specified delete", out).1 {
            if pod::revision(p) == ctx.current {
                moved.current += 1;
            } else if pod::revision(p) == ctx.update {
                moved.updated += 1;
            }
        }
        unavailable.insert(name);
    }
    deleted
}

/// `sortPodsToUpdate`: indexes into `replicas` of the pods to update, in order, at most
/// `replicas − partition` of them.
fn to_update(ctx: &Ctx, replicas: &[Slot]) -> Vec<usize> {
    let max = i64::from(ctx.replicas) - i64::from(ctx.partition);
    if max <= 0 {
        return vec![];
    }
    let max = max as usize;
    let Some(priority) = &ctx.unordered else {
        return (0..replicas.len())
            .rev()
            .filter(|&i| replicas[i].ord - ctx.start >= i64::from(ctx.partition))
            .take(max)
            .collect();
    };
    let (mut first, mut waiting): (Vec<usize>, Vec<usize>) = (vec![], vec![]);
    for i in (0..replicas.len()).rev() {
        let p = replicas[i].pod.as_ref();
        if terminating(p) || pod::revision_matches(pod::revision(p), &ctx.update) {
            first.push(i);
        } else {
            waiting.push(i);
        }
    }
    if let Some(strategy) = priority {
        let mut pods: Vec<(usize, &k8s_openapi::api::core::v1::Pod)> = waiting
            .iter()
            .map(|&i| (i, replicas[i].pod.as_ref()))
            .collect();
        let mut refs: Vec<&k8s_openapi::api::core::v1::Pod> =
            pods.iter().map(|(_, p)| *p).collect();
        sort::by_priority(&mut refs, Some(strategy));
        waiting = refs
            .iter()
            .filter_map(|r| pods.iter().position(|(_, p)| std::ptr::eq(*p, *r)))
            .map(|k| pods[k].0)
            .collect();
        pods.clear();
    }
    first.extend(waiting);
    first.truncate(max);
    first
}
