//! The plan preview of an Advanced DaemonSet: the pure `plan` run pass after pass against the
//! imagined cluster (`controller::imagined`: its scheduler places a pinned pod on its node)
//! with the cluster's nodes as they are, until the DaemonSet rests. Each pass is a batch.

#![deny(clippy::too_many_lines)]

use k8s_openapi::jiff::SignedDuration;
use kube::ResourceExt;
use serde::Serialize;

use super::plan::{self, Action, Plan, PlanError, Snapshot};
use crate::controller::imagined::{self, World};

/// One batch of the preview.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub batch: usize,
    pub actions: Vec<Action>,
}

/// The whole preview.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub daemonset: String,
    pub namespace: String,
    pub update_revision: String,
    pub batches: Vec<Batch>,
    /// Where it stops: `complete`, `paused`, `partition`, or `limit` (passes exhausted).
    pub rests_at: String,
    /// Nodes that should run a pod, and pods at the update revision.
    pub desired: i32,
    pub updated: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Apply one pass's writes to the imagined cluster (the DaemonSet's status too).
pub fn apply(world: &mut Snapshot, p: &Plan) {
    let now = world.now;
    imagined::apply_revision(&mut world.revisions, p.revision.as_ref(), now);
    let mut status = p.status.clone();
    status.observed_generation = world.daemonset.metadata.generation;
    world.daemonset.status = Some(status);
    world
        .revisions
        .retain(|r| !p.delete_revisions.contains(&r.name_any()));
    let mut pvcs = Vec::new();
    let mut w = World {
        pods: &mut world.pods,
        pvcs: &mut pvcs,
        now,
    };
    for a in &p.actions {
        imagined::apply_action(&mut w, a);
    }
}

/// Every pod placed and started, then the clock past minReadySeconds.
pub fn settle(world: &mut Snapshot) {
    imagined::settle(&mut world.pods, world.now);
    let step = i64::from(world.daemonset.spec.min_ready_seconds.unwrap_or(0).max(0)) + 1;
    world.now = world
        .now
        .checked_add(SignedDuration::from_secs(step))
        .unwrap_or(world.now);
}

/// Preview up to `max_passes` passes from `start`.
pub fn preview(start: &Snapshot, max_passes: usize) -> Result<Preview, PlanError> {
    let mut world = start.clone();
    let (mut batches, mut errors) = (Vec::new(), Vec::new());
    let (mut quiet, mut last) = (0, None);
    for _ in 0..max_passes {
        let p = plan::plan(&world)?;
        for e in &p.errors {
            if !errors.contains(e) {
                errors.push(e.clone());
            }
        }
        let shown: Vec<Action> = p
            .actions
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
            .collect();
        let idle = p.actions.is_empty() && p.revision.is_none();
        apply(&mut world, &p);
        if !shown.is_empty() {
            batches.push(Batch {
                batch: batches.len() + 1,
                actions: shown,
            });
        }
        settle(&mut world);
        last = Some(p);
        quiet = if idle { quiet + 1 } else { 0 };
        if quiet >= 2 {
            break;
        }
    }
    let p = match last {
        Some(p) => p,
        None => plan::plan(&world)?,
    };
    let (desired, updated) = (
        p.status.desired_number_scheduled,
        p.status.updated_number_scheduled,
    );
    Ok(Preview {
        daemonset: world.daemonset.name_any(),
        namespace: world.daemonset.namespace().unwrap_or_default(),
        update_revision: p.update_revision.clone(),
        batches,
        rests_at: rests_at(&world, quiet >= 2, desired, updated).into(),
        desired,
        updated,
        errors,
    })
}

fn rests_at(world: &Snapshot, rested: bool, desired: i32, updated: i32) -> &'static str {
    let paused = world
        .daemonset
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.paused)
        .unwrap_or(false);
    if !rested {
        "limit"
    } else if updated == desired {
        "complete"
    } else if paused {
        "paused"
    } else {
        "partition"
    }
}
