//! The plan preview: run the pure `plan` pass after pass against an imagined cluster where the
//! scheduler places every pod at once and every container starts at once, until the CloneSet
//! rests (done, paused, or held by its partition). Each pass is a batch: the pods created,
//! deleted or updated in place together under maxUnavailable / maxSurge / partition.
//!
//! The same simulation backs the property tests: whatever the spec, no pass makes more pods
//! unavailable than the budget allows and only the CloneSet's own pods are touched.

// Each function one step that reads at once (threshold in clippy.toml); the lint is
// off elsewhere in the crate, where some functions are still longer.
#![deny(clippy::too_many_lines)]

use std::collections::BTreeMap;

use k8s_openapi::jiff::SignedDuration;
use kube::ResourceExt;
use serde::Serialize;

use super::plan::{self, Action, Plan, PlanError, Snapshot};
use crate::controller::imagined::{self, World, as_new};
use crate::controller::pod;

/// One batch of the preview.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub batch: usize,
    pub actions: Vec<Action>,
    /// Pods unavailable in the imagined cluster right after this batch's writes.
    pub unavailable_after: usize,
}

/// The whole preview.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub cloneset: String,
    pub namespace: String,
    pub update_revision: String,
    pub batches: Vec<Batch>,
    /// Where it stops: `complete`, `paused`, `partition`, or `limit` (passes exhausted).
    pub rests_at: String,
    pub replicas: i32,
    pub updated: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Apply one pass's writes to the imagined cluster.
pub fn apply(world: &mut Snapshot, p: &Plan) {
    let now = world.now;
    imagined::apply_revision(&mut world.revisions, p.revision.as_ref(), now);
    apply_cloneset(world, p);
    let mut w = World {
        pods: &mut world.pods,
        pvcs: &mut world.pvcs,
        now,
    };
    for a in &p.actions {
        imagined::apply_action(&mut w, a);
    }
}

/// The writes to the CloneSet (defaults, status, pruned podsToDelete) and its history.
fn apply_cloneset(world: &mut Snapshot, p: &Plan) {
    if let Some(d) = &p.defaulted {
        world.cloneset.spec = d.spec.clone();
    }
    let mut status = p.status.clone();
    status.observed_generation = world.cloneset.metadata.generation.unwrap_or(0);
    world.cloneset.status = Some(status);
    if let Some(names) = &p.prune_pods_to_delete
        && let Some(s) = world.cloneset.spec.scale_strategy.as_mut()
    {
        s.pods_to_delete = Some(names.clone());
    }
    world
        .revisions
        .retain(|r| !p.delete_revisions.contains(&r.name_any()));
}

/// The scheduler and the kubelet, instantly (see `imagined::settle`).
pub fn settle(world: &mut Snapshot) {
    imagined::settle(&mut world.pods, world.now);
}

/// Preview up to `max_passes` passes from `start`.
pub fn preview(start: &Snapshot, max_passes: usize) -> Result<Preview, PlanError> {
    let mut world = start.clone();
    let step = step_seconds(&world);
    let mut batches = Vec::new();
    let mut errors = Vec::new();
    let mut quiet = 0;
    let mut last = None;
    let mut imagined = BTreeMap::new();
    for _ in 0..max_passes {
        let p = plan::plan(&world)?;
        for e in &p.errors {
            if !errors.contains(e) {
                errors.push(e.clone());
            }
        }
        let pod_actions = batch_actions(&p, &mut imagined);
        let idle = p.actions.is_empty() && p.revision.is_none() && p.defaulted.is_none();
        apply(&mut world, &p);
        let unavailable = unavailable(&world);
        if !pod_actions.is_empty() {
            batches.push(Batch {
                batch: batches.len() + 1,
                actions: pod_actions,
                unavailable_after: unavailable,
            });
        }
        settle(&mut world);
        world.now = world
            .now
            .checked_add(SignedDuration::from_secs(step))
            .unwrap_or(world.now);
        last = Some(p);
        quiet = if idle { quiet + 1 } else { 0 };
        if quiet >= 2 {
            break;
        }
    }
    let p = last.unwrap_or_else(|| plan::plan(&world).expect("planned before"));
    let replicas = p.status.replicas;
    let updated = p.status.updated_replicas;
    Ok(Preview {
        cloneset: world.cloneset.name_any(),
        namespace: world.cloneset.namespace().unwrap_or_default(),
        update_revision: p.update_revision.clone(),
        batches,
        rests_at: rests_at(&world, quiet >= 2, replicas, updated).into(),
        replicas,
        updated,
        errors,
    })
}

/// How far the imagined clock moves between passes: past minReadySeconds and the in-place
/// grace period, so each pass sees the previous one's pods available.
fn step_seconds(world: &Snapshot) -> i64 {
    i64::from(
        world.cloneset.spec.min_ready_seconds.unwrap_or(0).max(0)
            + world
                .cloneset
                .spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.in_place_update_strategy.as_ref())
                .and_then(|i| i.grace_period_seconds)
                .unwrap_or(0)
                .max(0),
    ) + 1
}

/// The actions a batch shows: all but refreshes, imagined pods by their `<new N>` names.
fn batch_actions(p: &Plan, imagined: &mut BTreeMap<String, String>) -> Vec<Action> {
    p.actions
        .iter()
        .filter(|a| {
            !matches!(
                a,
                Action::Mark {
                    reason: "refresh",
                    ..
                }
            )
        })
        .cloned()
        .map(|a| as_new(a, imagined))
        .collect()
}

/// Active pods not available in the imagined cluster.
fn unavailable(world: &Snapshot) -> usize {
    world
        .pods
        .iter()
        .filter(|x| pod::is_active(x))
        .filter(|x| {
            !pod::available(
                x,
                world.cloneset.spec.min_ready_seconds.unwrap_or(0),
                world.now,
            )
        })
        .count()
}

/// Where the preview stops (see `Preview::rests_at`); `rested`: it went quiet before the
/// passes ran out.
fn rests_at(world: &Snapshot, rested: bool, replicas: i32, updated: i32) -> &'static str {
    let want = world.cloneset.spec.replicas.unwrap_or(1);
    let paused = world
        .cloneset
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.paused)
        .unwrap_or(false);
    if !rested {
        "limit"
    } else if updated == want && replicas == want {
        "complete"
    } else if paused {
        "paused"
    } else {
        "partition"
    }
}
