//! One reconcile pass of an Advanced StatefulSet as a pure function (reference notes §4.5):
//! a snapshot of the set, its pods, the namespace's revisions and claims goes in; the writes
//! and the status come out, so `--dry-run=client` shows what the controller would do and the
//! tests check it without a cluster.
//!
//! The steps, each in its own module and none doing I/O: defaults and refusals (here), claim
//! the pods (`claim`), revisions (shared `controller::revision`), the slots (`slots`), scale
//! the replicas then the condemned (`scale`, `claims` for retention), the rolling update
//! (`update`), the status (`status`).

#![deny(clippy::too_many_lines)]

mod claims;
mod ctx;
mod scale;
mod slots;
mod status;
mod update;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value};

use super::ordinals::Reserved;
use super::{defaults, revision};
use crate::api::statefulset::{StatefulSet, StatefulSetStatus};
pub use crate::controller::actions::{Action, PodMarks, RevisionWrite, Stuck};
use crate::controller::pod;
use crate::controller::revision::{self as history, Owner};
use crate::controller::selector;
pub use slots::{POD_INDEX, POD_NAME};

/// What the pass sees.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub set: StatefulSet,
    /// The pods that name the set as their controller.
    pub pods: Vec<Arc<Pod>>,
    /// ControllerRevisions in the namespace.
    pub revisions: Vec<ControllerRevision>,
    /// PVCs in the namespace.
    pub pvcs: Vec<PersistentVolumeClaim>,
    pub now: Timestamp,
}

/// The outcome of one pass.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The webhook's defaults are missing from the stored spec: write them first.
    #[serde(skip)]
    pub defaulted: Option<Box<StatefulSet>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionWrite>,
    pub update_revision: String,
    pub current_revision: String,
    pub actions: Vec<Action>,
    #[serde(skip)]
    pub status: StatefulSetStatus,
    #[serde(skip)]
    pub status_changed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_revisions: Vec<String>,
    #[serde(skip)]
    pub requeue_after: Option<Duration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stuck: Vec<Stuck>,
}

/// Why no plan can be made: the set is one the webhook would have refused.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("statefulset {0:?} is invalid: {1}")]
    Invalid(String, String),
}

/// Plan one pass.
pub fn plan(s: &Snapshot) -> Result<Plan, PlanError> {
    let set = defaults::apply(&s.set);
    let invalid = |why: String| PlanError::Invalid(set.name_any(), why);
    let defaulted = (set.spec != s.set.spec).then(|| Box::new(set.clone()));
    let label_selector = refusal(&set).map_err(invalid)?;
    let reserved = Reserved::parse(set.spec.reserve_ordinals.as_deref().unwrap_or_default());
    let replicas = i64::from(set.spec.replicas.unwrap_or(1));
    let end = reserved.end(0, replicas).ok_or_else(|| {
        invalid(format!(
            "reserveOrdinals skip more than {} ordinals",
            super::ordinals::MAX_RESERVED_SPAN
        ))
    })?;
    let build = |collision, number| revision::build(&set, collision, number);
    let owner = owner(&set, &build);
    let revs = history::resolve(&owner, &s.revisions);
    let names = (
        revs.update.clone(),
        revs.current.clone(),
        revs.templates.clone(),
    );
    let ctx = ctx::Ctx::new(&set, s.now, names, end, reserved, &s.pvcs);
    let (pods, mut out) = claim(&set, &s.pods);
    let split = slots::split(&ctx, &pods).map_err(invalid)?;
    let moved = if set.metadata.deletion_timestamp.is_some() {
        update::Moved::default()
    } else {
        steps(&ctx, &split, &mut out)
    };
    let lists: [&[slots::Slot]; 2] = [&split.replicas, &split.condemned];
    let st = status::status(&ctx, label_selector, revs.collision_count, &lists, &moved);
    let status_changed = status::differs(&set.status.clone().unwrap_or_default(), &st);
    out.requeue(status::requeue_for_min_ready(&ctx, &st));
    let current = st.current_revision.clone().unwrap_or_default();
    let delete_revisions = history::history(&owner, &revs.owned, &revs.update, &current, &s.pods);
    if defaulted.is_some() {
        // The defaults go first, alone: the next pass plans from the stored defaults.
        return Ok(Plan {
            defaulted,
            revision: None,
            update_revision: revs.update,
            current_revision: current,
            actions: vec![],
            status: st,
            status_changed: false,
            delete_revisions: vec![],
            requeue_after: None,
            errors: vec![],
            stuck: vec![],
        });
    }
    Ok(Plan {
        defaulted,
        revision: revs.write,
        update_revision: revs.update,
        current_revision: current,
        stuck: stuck(&split.replicas, &ctx.update),
        actions: out.actions,
        status: st,
        status_changed,
        delete_revisions,
        requeue_after: out.requeue,
        errors: out.errors,
    })
}

/// Scale, then (unless OrderedReady is blocked, or OnDelete) the rolling update.
fn steps(ctx: &ctx::Ctx, split: &slots::Split, out: &mut ctx::Out) -> update::Moved {
    if scale::replicas(ctx, &split.replicas, out) {
        return update::Moved::default();
    }
    let first_unhealthy = split
        .replicas
        .iter()
        .chain(split.condemned.iter())
        .filter(|s| !ctx::healthy(&s.pod))
        .min_by_key(|s| s.ord)
        .map(|s| pod::name(&s.pod).to_string());
    if scale::condemned(ctx, &split.condemned, first_unhealthy.as_deref(), out) || ctx.on_delete {
        return update::Moved::default();
    }
    update::rolling(ctx, &split.replicas, out)
}

/// The set's view of the shared history resolution.
fn owner<'a>(set: &'a StatefulSet, build: &'a dyn Fn(i32, i64) -> ControllerRevision) -> Owner<'a> {
    let st = set.status.as_ref();
    Owner {
        uid: set.metadata.uid.as_deref().unwrap_or_default(),
        selector: &set.spec.selector,
        template: &set.spec.template.0,
        collision_count: st.and_then(|s| s.collision_count).unwrap_or(0),
        current: st.and_then(|s| s.current_revision.as_deref()),
        build,
        renumber_annotations: BTreeMap::new(),
        history_limit: set.spec.revision_history_limit.unwrap_or(10),
    }
}

/// The set's pods: those it controls whose name is one of its ordinals and whose labels match
/// its selector; the ones it controls that no longer match are released (ControllerRef
/// manager semantics).
fn claim(set: &StatefulSet, pods: &[Arc<Pod>]) -> (Vec<Arc<Pod>>, ctx::Out) {
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let name = set.name_any();
    let mut out = ctx::Out::default();
    let mut mine = Vec::new();
    for p in pods {
        let controlled = p
            .owner_references()
            .iter()
            .any(|r| r.controller == Some(true) && r.uid == uid);
        if !controlled {
            continue;
        }
        let member = super::ordinals::of(&name, pod::name(p)).is_some();
        let matches = selector::matches(&set.spec.selector, p.labels()).unwrap_or(false);
        if member && matches {
            mine.push(p.clone());
        } else if p.metadata.deletion_timestamp.is_none() {
            out.actions.push(Action::Release {
                pod: pod::name(p).to_string(),
            });
        }
    }
    (mine, out)
}

/// What the webhook would refuse that would make the controller misbehave; the selector
/// rendered when there is nothing to refuse.
fn refusal(set: &StatefulSet) -> Result<String, String> {
    let spec = &set.spec;
    let rendered = selector::render(&spec.selector)?;
    if rendered.is_empty() {
        return Err("spec.selector: empty selector is invalid for statefulset".into());
    }
    let labels: BTreeMap<String, String> = spec.template.labels();
    if !selector::matches(&spec.selector, &labels)? {
        return Err(
            "spec.template.metadata.labels: `selector` does not match template `labels`".into(),
        );
    }
    if spec.replicas.unwrap_or(1) < 0 {
        return Err("spec.replicas: must be greater than or equal to 0".into());
    }
    let ru = spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.clone())
        .unwrap_or_default();
    if ru.partition.unwrap_or(0) < 0 {
        return Err(
            "spec.updateStrategy.rollingUpdate.partition: must be greater than or equal to 0"
                .into(),
        );
    }
    if !(0..=300).contains(&ru.min_ready_seconds.unwrap_or(0)) {
        return Err(
            "spec.updateStrategy.rollingUpdate.minReadySeconds: must be between 0 and 300".into(),
        );
    }
    let template: Map<String, Value> = spec.template.0.clone();
    if template
        .get("spec")
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .is_none_or(|c| c.is_empty())
    {
        return Err("spec.template.spec.containers: Required value".into());
    }
    Ok(rendered)
}

/// Pods of the update revision that cannot start.
fn stuck(replicas: &[slots::Slot], update: &str) -> Vec<Stuck> {
    replicas
        .iter()
        .filter(|s| pod::revision(&s.pod) == update)
        .filter_map(|s| {
            pod::stuck(&s.pod).map(|(container, reason, message)| Stuck {
                pod: pod::name(&s.pod).to_string(),
                container,
                reason,
                message,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
#[allow(clippy::too_many_lines)]
mod tests;
