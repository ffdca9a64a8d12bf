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
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;
use serde::Serialize;

use super::plan::{self, Action, Plan, PlanError, PodMarks, RevisionWrite, Snapshot};
use crate::controller::inplace_state::{self, set_meta};
use crate::controller::pod::{self, keys};

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

const NODES: [&str; 3] = ["node-a", "node-b", "node-c"];

fn set_cond(p: &mut Pod, type_: &str, status: &str, now: Timestamp) {
    let st = p.status.get_or_insert_with(PodStatus::default);
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let t = Some(Time(now));
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => {}
        Some(c) => {
            c.status = status.into();
            c.last_transition_time = t;
            c.reason = None;
            c.message = None;
        }
        None => conds.push(PodCondition {
            type_: type_.into(),
            status: status.into(),
            last_transition_time: t,
            ..Default::default()
        }),
    }
}

/// Apply one pass's writes to the imagined cluster.
pub fn apply(world: &mut Snapshot, p: &Plan) {
    let now = world.now;
    apply_revision(world, p.revision.as_ref(), now);
    apply_cloneset(world, p);
    for a in &p.actions {
        apply_action(world, a, now);
    }
}

/// The revision write: a new revision, or an older one renumbered.
fn apply_revision(world: &mut Snapshot, write: Option<&RevisionWrite>, now: Timestamp) {
    match write {
        Some(RevisionWrite::Create { revision, .. }) => {
            let mut r = (**revision).clone();
            r.metadata.creation_timestamp = Some(Time(now));
            world.revisions.push(r);
        }
        Some(RevisionWrite::Renumber { name, revision, .. }) => {
            if let Some(r) = world.revisions.iter_mut().find(|r| &r.name_any() == name) {
                r.revision = *revision;
            }
        }
        None => {}
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

/// The imagined pod of that name, to change.
fn pod_mut<'a>(world: &'a mut Snapshot, name: &str) -> Option<&'a mut Pod> {
    world
        .pods
        .iter_mut()
        .map(Arc::make_mut)
        .find(|p| pod::name(p) == name)
}

/// One write to a pod or PVC.
fn apply_action(world: &mut Snapshot, a: &Action, now: Timestamp) {
    match a {
        Action::Create { object, .. } => {
            let mut pod = (**object).clone();
            pod.metadata.uid = Some(format!("uid-{}", pod.name_any()));
            pod.metadata.creation_timestamp = Some(Time(now));
            pod.status = Some(PodStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            });
            world.pods.push(Arc::new(pod));
        }
        Action::Delete { pod: name, .. } => world.pods.retain(|p| pod::name(p) != name),
        Action::DeletePvc { pvc } => world.pvcs.retain(|c| &c.name_any() != pvc),
        Action::ReownPvc {
            pvc,
            owner_references,
            ..
        } => {
            if let Some(c) = world.pvcs.iter_mut().find(|c| &c.name_any() == pvc) {
                c.metadata.owner_references = Some(owner_references.clone());
            }
        }
        Action::Release { pod: name } => {
            if let Some(p) = pod_mut(world, name)
                && let Some(refs) = p.metadata.owner_references.as_mut()
            {
                refs.retain(|r| r.controller != Some(true));
            }
        }
        Action::Mark {
            pod: name, marks, ..
        } => {
            if let Some(p) = pod_mut(world, name) {
                mark(p, marks, now);
            }
        }
        Action::UpdateInPlace {
            pod: name,
            to,
            change,
            grace_seconds,
            template_hash,
            lifecycle,
            ..
        } => {
            if let Some(p) = pod_mut(world, name) {
                let (hash, life) = (*template_hash, *lifecycle);
                inplace_state::begin(p, to, hash, life, change, *grace_seconds, now);
                if pod::has_gate(p, keys::INPLACE_READY) {
                    set_cond(p, keys::INPLACE_READY, "False", now);
                    set_cond(p, "Ready", "False", now);
                }
            }
        }
        Action::FinishGrace { pod: name, .. } => {
            if let Some(p) = pod_mut(world, name) {
                inplace_state::finish_grace(p, now);
            }
        }
    }
}

/// Labels, annotations, finalizers and the `InPlaceUpdateReady` condition.
fn mark(p: &mut Pod, marks: &PodMarks, now: Timestamp) {
    set_meta(&mut p.metadata.labels, &marks.labels);
    set_meta(&mut p.metadata.annotations, &marks.annotations);
    if !marks.add_finalizers.is_empty() {
        let f = p.metadata.finalizers.get_or_insert_with(Vec::new);
        f.extend(marks.add_finalizers.iter().cloned());
    }
    if marks.gate_ready {
        set_cond(p, keys::INPLACE_READY, "True", now);
    }
}

/// The scheduler and the kubelet, instantly: place pods, start containers, restart changed
/// ones, and compute Ready from the readiness gates.
pub fn settle(world: &mut Snapshot) {
    let now = world.now;
    for (i, p) in world.pods.iter_mut().map(Arc::make_mut).enumerate() {
        if !pod::is_active(p) {
            continue;
        }
        let spec = p.spec.get_or_insert_with(Default::default);
        if spec.node_name.is_none() {
            spec.node_name = Some(NODES[i % NODES.len()].into());
        }
        let containers: Vec<(String, String)> = spec
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
            .collect();
        let st = p.status.get_or_insert_with(PodStatus::default);
        st.phase = Some("Running".into());
        let statuses = st.container_statuses.get_or_insert_with(Vec::new);
        for (name, image) in containers {
            let id = format!("sim/{image}");
            match statuses.iter_mut().find(|c| c.name == name) {
                Some(c) if c.image != image => {
                    c.image = image;
                    c.image_id = id;
                    c.restart_count += 1;
                }
                Some(_) => {}
                None => statuses.push(ContainerStatus {
                    name,
                    image,
                    image_id: id,
                    ready: true,
                    ..Default::default()
                }),
            }
        }
        let gates_ok = p
            .spec
            .as_ref()
            .and_then(|s| s.readiness_gates.clone())
            .unwrap_or_default()
            .iter()
            .all(|g| pod::condition(p, &g.condition_type).is_some_and(|c| c.status == "True"));
        set_cond(p, "ContainersReady", "True", now);
        set_cond(p, "Ready", if gates_ok { "True" } else { "False" }, now);
    }
}

/// A pod the preview imagines creating gets its real name only when it is created (a random
/// instance id), so the preview calls it `<new N>`, in every batch that touches it.
fn as_new(mut a: Action, imagined: &mut BTreeMap<String, String>) -> Action {
    if let Action::Create { pod, .. } = &a {
        let n = imagined.len() + 1;
        imagined.insert(pod.clone(), format!("<new {n}>"));
    }
    let name = a.pod_mut();
    if let Some(pod) = name
        && let Some(new) = imagined.get(pod.as_str())
    {
        *pod = new.clone();
    }
    a
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
