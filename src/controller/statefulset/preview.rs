//! The plan preview of an Advanced StatefulSet: the pure `plan` run pass after pass against
//! the imagined cluster (`controller::imagined`) until the set rests. Each pass is a batch:
//! the pods created, deleted or updated together. The same loop backs the plan tests.

#![deny(clippy::too_many_lines)]

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;
use serde::Serialize;

use super::plan::{self, Action, Plan, PlanError, Snapshot};
use crate::controller::imagined::{self, World};
use crate::controller::pod;

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
    pub statefulset: String,
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

/// Apply one pass's writes to the imagined cluster (the set's defaults and status too).
pub fn apply(world: &mut Snapshot, p: &Plan) {
    let now = world.now;
    imagined::apply_revision(&mut world.revisions, p.revision.as_ref(), now);
    if let Some(d) = &p.defaulted {
        world.set.spec = d.spec.clone();
    }
    let mut status = p.status.clone();
    status.observed_generation = world.set.metadata.generation;
    world.set.status = Some(status);
    world
        .revisions
        .retain(|r| !p.delete_revisions.contains(&r.name_any()));
    let mut w = World {
        pods: &mut world.pods,
        pvcs: &mut world.pvcs,
        now,
    };
    for a in &p.actions {
        imagined::apply_action(&mut w, a);
    }
    // A created claim exists from now on (the writer creates it with its pod).
    for a in &p.actions {
        if let Action::Create { pvc_objects, .. } = a {
            world.pvcs.extend(pvc_objects.iter().cloned());
        }
    }
}

/// Every pod placed and started, then the clock past minReadySeconds and grace periods.
pub fn settle(world: &mut Snapshot) {
    imagined::settle(&mut world.pods, world.now);
    world.now = world
        .now
        .checked_add(SignedDuration::from_secs(step_seconds(world)))
        .unwrap_or(world.now);
}

fn step_seconds(world: &Snapshot) -> i64 {
    let ru = world
        .set
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.clone())
        .unwrap_or_default();
    let grace = ru
        .in_place_update_strategy
        .and_then(|i| i.grace_period_seconds)
        .unwrap_or(0);
    i64::from(ru.min_ready_seconds.unwrap_or(0).max(0) + grace.max(0)) + 1
}

/// Preview up to `max_passes` passes from `start`.
pub fn preview(start: &Snapshot, max_passes: usize) -> Result<Preview, PlanError> {
    let mut world = start.clone();
    let (mut batches, mut errors) = (Vec::new(), Vec::new());
    let mut quiet = 0;
    let mut last = None;
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
        let idle = p.actions.is_empty() && p.revision.is_none() && p.defaulted.is_none();
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
    Ok(Preview {
        statefulset: world.set.name_any(),
        namespace: world.set.namespace().unwrap_or_default(),
        update_revision: p.update_revision.clone(),
        batches,
        rests_at: rests_at(&world, quiet >= 2, &p).into(),
        replicas: p.status.replicas,
        updated: p.status.updated_replicas,
        errors,
    })
}

fn rests_at(world: &Snapshot, rested: bool, p: &Plan) -> &'static str {
    let want = world.set.spec.replicas.unwrap_or(1);
    let paused = world
        .set
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.paused)
        .unwrap_or(false);
    if !rested {
        "limit"
    } else if p.status.updated_replicas == want && p.status.replicas == want {
        "complete"
    } else if paused {
        "paused"
    } else {
        "partition"
    }
}

/// The pods of the imagined cluster, by name (for tests and the preview's text).
pub fn pod_names(world: &Snapshot) -> Vec<String> {
    let mut v: Vec<String> = world
        .pods
        .iter()
        .map(|p| pod::name(p).to_string())
        .collect();
    v.sort();
    v
}

/// Now, as the preview's clock starts.
pub fn now() -> Timestamp {
    Timestamp::now()
}
