//! One reconcile pass of a CloneSet, as a pure function: a snapshot of the CloneSet, its pods,
//! revisions and PVCs goes in; the writes to make and the status to report come out
//! (reference notes §3.6–§3.11). All the arithmetic lives here, so `--dry-run=client` can
//! show exactly what the controller would do, and the tests can check it without a cluster.
//!
//! A pass is a sequence of steps, each in its own module and none doing I/O: refuse an
//! invalid spec (`status`), claim pods and PVCs and release the rest (`claim`), find the
//! revisions (`revisions`), scale (`scale`) or else update (`update`), then report the
//! status and the housekeeping writes (`status`, `revisions`, `scale`). The numbers they work
//! from are in `limits`; what they all read is the `ctx::Ctx` of the pass.

// Each function one step that reads at once (threshold in clippy.toml); the lint is
// off elsewhere in the crate, where some functions are still longer.
#![deny(clippy::too_many_lines)]

mod claim;
mod ctx;
mod limits;
mod revisions;
mod scale;
mod status;
mod update;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::Serialize;

use super::{defaults, revision};
use crate::api::cloneset::{CloneSet, CloneSetStatus};
pub use crate::controller::actions::{Action, PodMarks, RevisionWrite, Stuck};
pub use crate::controller::inplace_state::{ImageId, InPlaceGrace, InPlaceState, rfc3339};
pub use crate::controller::podupdate::inplace_completed;
use crate::controller::selector;
pub use limits::{Diffs, Limits, diffs};
pub use scale::new_pod;
pub use status::REFUSED_REASON;

// The names the tests (`use super::*`) had in scope before the pass was split into steps.
#[cfg(test)]
use {
    crate::api::cloneset::CloneSetUpdateStrategyType,
    crate::controller::pod::{self, keys, state},
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    std::collections::{BTreeMap, BTreeSet},
};
/// What the pass sees. `seed` makes the random instance ids reproducible.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub cloneset: CloneSet,
    /// Pods in the CloneSet's namespace (the plan keeps those it owns), shared with the
    /// watch cache rather than copied.
    pub pods: Vec<Arc<Pod>>,
    /// ControllerRevisions in the namespace.
    pub revisions: Vec<ControllerRevision>,
    /// PVCs in the namespace.
    pub pvcs: Vec<PersistentVolumeClaim>,
    pub now: Timestamp,
    pub seed: u64,
}

/// The outcome of one pass.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The webhook's defaults are missing from the stored spec: write them first.
    #[serde(skip)]
    pub defaulted: Option<Box<CloneSet>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionWrite>,
    pub update_revision: String,
    pub current_revision: String,
    pub actions: Vec<Action>,
    #[serde(skip)]
    pub status: CloneSetStatus,
    /// The status differs from the stored one in a way upstream writes.
    #[serde(skip)]
    pub status_changed: bool,
    /// `scaleStrategy.podsToDelete` without names of pods that are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_pods_to_delete: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_revisions: Vec<String>,
    #[serde(skip)]
    pub requeue_after: Option<Duration>,
    /// Errors upstream reports as FailedScale / FailedUpdate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Pods of the update revision whose containers will not start by waiting (image pull
    /// failures, crash loops): the release cannot progress without a change of template.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stuck: Vec<Stuck>,
}

/// Why no plan can be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cloneset {0:?} has an invalid selector: {1}")]
    Selector(String, String),
    #[error("cloneset {0:?} has an invalid pod template: {1}")]
    Template(String, String),
}

/// Plan one pass.
pub fn plan(s: &Snapshot) -> Result<Plan, PlanError> {
    let cs = defaults::apply(&s.cloneset);
    let defaulted = (cs.spec != s.cloneset.spec).then(|| Box::new(cs.clone()));
    let label_selector =
        selector::render(&cs.spec.selector).map_err(|e| PlanError::Selector(cs.name_any(), e))?;
    if let Some(why) = status::refusal(&s.cloneset) {
        return Ok(status::refused(&cs, s.now, label_selector, why));
    }
    let mut actions = Vec::new();
    let mut owned = claim::claim(&cs, &s.pods, &s.pvcs, &mut actions);
    let build = |collision, number| revision::build(&cs, collision, number);
    let owner = revisions::owner(&cs, &build);
    let revs = revisions::resolve(&owner, &s.revisions);
    let ctx = ctx::Ctx::new(
        &cs,
        s.now,
        revs.update.clone(),
        revs.current.clone(),
        revs.templates,
        owned.pvcs_by_id,
    );

    let mut errors = Vec::new();
    let mut requeue: Option<Duration> = None;
    if cs.metadata.deletion_timestamp.is_none() {
        let mut rng = fastrand::Rng::with_seed(s.seed);
        let modified = scale::scale(
            &ctx,
            &owned.active,
            &owned.pvcs,
            &mut owned.free_ids,
            &mut rng,
            &mut actions,
            &mut errors,
        )?;
        if !modified {
            update::update_step(&ctx, &owned.active, &mut actions, &mut errors, &mut requeue);
        }
    }

    let st = status::status(
        &ctx,
        &owned.active,
        revs.collision_count,
        label_selector,
        &errors,
        &mut requeue,
    );
    let status_changed = status::status_differs(&cs.status.clone().unwrap_or_default(), &st);
    let current = st.current_revision.clone().unwrap_or_default();
    let delete_revisions = revisions::history(&owner, &revs.owned, &ctx.update, &current, &s.pods);
    status::requeue_for_min_ready(&ctx.lim, &st, &mut requeue);
    Ok(Plan {
        defaulted,
        revision: revs.write,
        update_revision: revs.update,
        current_revision: current,
        prune_pods_to_delete: scale::pruned_pods_to_delete(&cs, &owned.active),
        stuck: status::stuck_pods(&owned.active, &ctx.update),
        actions,
        status: st,
        status_changed,
        delete_revisions,
        requeue_after: requeue,
        errors,
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
#[allow(clippy::too_many_lines)] // table-driven tests
mod tests;
