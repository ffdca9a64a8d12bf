//! The rolling update (upstream `daemonset_update.go`) and the in-place refresh before it.
//!
//! Nodes to update are chosen as `filterDaemonPodsNodeToUpdate` does: names sorted and walked
//! from the last, nodes already updated (or with more than one pod) first, then nodes whose
//! old pod is missing or pre-deleting, then the rest (only nodes matching
//! `rollingUpdate.selector` when it is set), at most `nodes − partition` of them. Without
//! surge, old pods are replaced (deleted, or updated in place under InPlaceIfPossible) while
//! fewer than maxUnavailable nodes are unavailable; with surge, a new pod is created beside an
//! old one, up to maxSurge at a time, and the manage step deletes the old one once the new one
//! is available.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::manage::{self, Namer, updated_on_node};
use super::revisions::Revisions;
use super::{Action, Ctx, Outcome, available, pre_deleting};
use crate::controller::podupdate::{self, Policy};
use crate::controller::{inplace, pod, selector};

/// refreshUpdateStates: each pod's in-place update finished (`InPlaceUpdateReady` True once
/// its containers run the new images). The DaemonSet has no grace period and no lifecycle
/// states of its own.
pub(in crate::controller::daemonset) fn refresh(
    cx: &Ctx,
    templates: &BTreeMap<String, Map<String, Value>>,
    pods: &[&Pod],
    actions: &mut Vec<Action>,
    out: &mut Outcome,
) {
    let pcx = podupdate::Cx {
        lifecycle: None,
        now: cx.now,
        update: &cx.hash,
        templates,
        policy: Policy::InPlaceIfPossible,
        grace: 0,
        normal_waits_for_node: false,
        template_hash_label: false,
    };
    let mut requeue: Option<Duration> = None;
    for p in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        podupdate::refresh(&pcx, p, actions, &mut requeue);
    }
    if let Some(d) = requeue {
        out.requeue_after(d);
    }
}

/// Upstream's node-to-pods map for the update: every desired node (with no pods if it has
/// none) and every node with pods, then the count limits.
fn limits<'a>(cx: &Ctx<'a>) -> (BTreeMap<String, Vec<&'a Pod>>, i32, i32) {
    let mut map: BTreeMap<String, Vec<&'a Pod>> = cx.by_node.clone();
    let mut desired = 0;
    for n in &cx.nodes {
        if cx.fit(n).run {
            desired += 1;
            map.entry(n.name_any()).or_default();
        }
    }
    let ru = cx.rolling().cloned().unwrap_or_default();
    let mut max_unavailable = Ctx::scaled(ru.max_unavailable.as_ref(), desired, true);
    let max_surge = Ctx::scaled(ru.max_surge.as_ref(), desired, true);
    if desired > 0 && max_unavailable == 0 && max_surge == 0 {
        max_unavailable = 1;
    }
    (map, max_surge, max_unavailable)
}

/// filterDaemonPodsToUpdate: the nodes the update may touch, in upstream's order.
pub fn nodes_to_update(cx: &Ctx, map: &BTreeMap<String, Vec<&Pod>>) -> Vec<String> {
    let exists: BTreeSet<String> = cx.nodes.iter().map(|n| n.name_any()).collect();
    let all: Vec<&String> = map.keys().filter(|n| exists.contains(*n)).collect();
    let sel = cx.rolling().and_then(|r| r.selector.as_ref());
    let (mut updated, mut updating, mut selected, mut rest) = (vec![], vec![], vec![], vec![]);
    for name in all.iter().rev() {
        match updated_on_node(cx, &map[*name]) {
            None | Some((Some(_), _)) => updated.push((*name).clone()),
            Some((None, old)) if old.is_none_or(pre_deleting) => updating.push((*name).clone()),
            Some(_) => {
                let labels = cx
                    .nodes
                    .iter()
                    .find(|n| n.name_any() == **name)
                    .and_then(|n| n.metadata.labels.clone())
                    .unwrap_or_default();
                if sel.is_some_and(|s| selector::matches(s, &labels).unwrap_or(false)) {
                    selected.push((*name).clone());
                } else {
                    rest.push((*name).clone());
                }
            }
        }
    }
    let mut sorted = updated;
    sorted.extend(updating);
    sorted.extend(if sel.is_some() { selected } else { rest });
    let max = all.len() as i64 - i64::from(cx.partition().unwrap_or(0));
    sorted.truncate(max.max(0) as usize);
    sorted
}

/// rollingUpdate: with maxSurge 0 replace old pods within maxUnavailable; else surge.
pub(in crate::controller::daemonset) fn rolling_update(
    cx: &Ctx,
    revs: &Revisions,
    namer: &mut Namer,
    actions: &mut Vec<Action>,
) {
    let (map, max_surge, max_unavailable) = limits(cx);
    let nodes = nodes_to_update(cx, &map);
    if max_surge == 0 {
        let old = replace_old(cx, &map, &nodes, max_unavailable);
        let delete = if cx.in_place() {
            in_place(cx, revs, &old, actions)
        } else {
            old
        };
        manage::sync_nodes(cx, namer, &delete, &[], actions);
    } else {
        let (delete, create) = surge(cx, &map, &nodes, max_surge);
        manage::sync_nodes(cx, namer, &delete, &create, actions);
    }
}

/// Without surge: the old pods to replace (unavailable ones at once, available ones while
/// fewer than maxUnavailable nodes are unavailable).
fn replace_old(
    cx: &Ctx,
    map: &BTreeMap<String, Vec<&Pod>>,
    nodes: &[String],
    max_unavailable: i32,
) -> Vec<String> {
    let mut unavailable = 0;
    let (mut allowed, mut candidates) = (Vec::new(), Vec::new());
    for n in nodes {
        let Some((new, old)) = updated_on_node(cx, &map[n]) else {
            unavailable += 1;
            continue;
        };
        let gone = |p: Option<&Pod>| p.is_none_or(pre_deleting);
        match (new, old) {
            _ if gone(old) == gone(new) => unavailable += 1,
            (Some(new), _) => {
                unavailable += i32::from(!available(new, cx.min_ready, cx.now));
                unavailable += i32::from(pre_deleting(new));
            }
            (None, Some(old)) if !available(old, cx.min_ready, cx.now) => {
                allowed.push(pod::name(old).to_string())
            }
            (None, Some(_)) if unavailable >= max_unavailable => {}
            (None, Some(old)) => candidates.push(pod::name(old).to_string()),
            (None, None) => {}
        }
    }
    let remaining = (max_unavailable - unavailable).max(0) as usize;
    allowed.extend(candidates.into_iter().take(remaining));
    allowed
}

/// InPlaceIfPossible: pods with the `InPlaceUpdateReady` gate whose revision's template differs
/// from the update's only in place are updated so (at most burstReplicas); the rest are
/// returned, to be deleted.
fn in_place(
    cx: &Ctx,
    revs: &Revisions,
    names: &[String],
    actions: &mut Vec<Action>,
) -> Vec<String> {
    let to = revs.templates.get(&revs.name);
    let mut delete = Vec::new();
    let mut updated = 0;
    for name in names {
        let p = cx.by_node.values().flatten().find(|p| pod::name(p) == name);
        let change = p
            .filter(|p| pod::has_gate(p, crate::controller::pod::keys::INPLACE_READY))
            .and_then(|p| {
                let from = revs.old.iter().find(|r| {
                    revs.hashes
                        .get(&r.name_any())
                        .is_some_and(|h| pod::revision_matches(pod::revision(p), h))
                })?;
                inplace::calculate(revs.templates.get(&from.name_any())?, to?).ok()
            });
        match (p, change) {
            (Some(p), Some(change)) if updated < cx.burst() => {
                updated += 1;
                actions.push(Action::UpdateInPlace {
                    pod: name.clone(),
                    from: pod::revision(p).to_string(),
                    to: cx.hash.clone(),
                    change,
                    grace_seconds: 0,
                    template_hash: false,
                    lifecycle: false,
                });
            }
            (Some(_), Some(_)) => {}
            _ => delete.push(name.clone()),
        }
    }
    delete
}

/// With surge: the old pods to delete (their new pod is available) and the nodes to create a
/// new pod on (beside an unavailable old pod at once, beside available ones up to maxSurge).
fn surge(
    cx: &Ctx,
    map: &BTreeMap<String, Vec<&Pod>>,
    nodes: &[String],
    max_surge: i32,
) -> (Vec<String>, Vec<String>) {
    let mut surging = 0;
    let (mut delete, mut allowed, mut candidates) = (Vec::new(), Vec::new(), Vec::new());
    for n in nodes {
        let Some((new, old)) = updated_on_node(cx, &map[n]) else {
            surging += 1;
            continue;
        };
        match (new, old) {
            (_, None) => {}
            (_, Some(old)) if pre_deleting(old) => {}
            (None, Some(old)) if !available(old, cx.min_ready, cx.now) => allowed.push(n.clone()),
            (None, Some(_)) if surging >= max_surge => {}
            (None, Some(_)) => candidates.push(n.clone()),
            (Some(new), Some(_)) if !available(new, cx.min_ready, cx.now) || pre_deleting(new) => {
                surging += 1
            }
            (Some(_), Some(old)) => delete.push(pod::name(old).to_string()),
        }
    }
    let remaining = (max_surge - surging).max(0) as usize;
    allowed.extend(candidates.into_iter().take(remaining));
    (delete, allowed)
}
