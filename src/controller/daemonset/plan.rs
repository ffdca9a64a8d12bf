//! One reconcile pass of an Advanced DaemonSet, as a pure function (reference notes §5;
//! OpenKruise v1.9.0 `pkg/controller/daemonset`): the DaemonSet, the nodes, its pods and the
//! namespace's revisions go in; the writes to make, the status and when to come back come out.
//!
//! The steps, in upstream's order and each in its own module: refuse an invalid spec
//! (`status`), claim pods (`claim`), construct the history (`revisions`), manage pods on
//! nodes (`manage`: create where missing, delete where a pod should not be, failed, duplicate,
//! or pre-deleting; burstReplicas; partitioned scaling), and, only when manage wrote nothing,
//! refresh in-place states and roll the update out (`update`: maxUnavailable, maxSurge,
//! partition, node selector, paused, in place), then the history to prune and the status. Node
//! eligibility is `node`.

// Each function one step that reads at once (threshold in clippy.toml).
#![deny(clippy::too_many_lines)]

mod claim;
mod manage;
pub mod node;
mod revisions;
mod status;
mod update;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::Serialize;

use super::validate;
use crate::api::daemonset::{
    DaemonSet, DaemonSetStatus, DaemonSetUpdateStrategyType, RollingUpdateDaemonSet,
    RollingUpdateType,
};
pub use crate::controller::actions::{Action, PodMarks, RevisionWrite};
use crate::controller::intstr;
use crate::controller::pod::{self, keys, state};
pub use status::{REFUSED_CONDITION, REFUSED_REASON};

/// The label pods of a DaemonSet with the deprecated template generation carry.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The DaemonSet annotation that holds the deprecated template generation.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// What the pass sees. `seed` makes the random pod name suffixes reproducible.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub daemonset: DaemonSet,
    /// Every node of the cluster.
    pub nodes: Vec<Arc<Node>>,
    /// Pods of the namespace (the plan keeps those the DaemonSet controls).
    pub pods: Vec<Arc<Pod>>,
    /// ControllerRevisions of the namespace.
    pub revisions: Vec<ControllerRevision>,
    pub now: Timestamp,
    pub seed: u64,
}

/// The outcome of one pass.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionWrite>,
    /// The `controller-revision-hash` of the template's revision.
    pub update_revision: String,
    pub actions: Vec<Action>,
    #[serde(skip)]
    pub status: DaemonSetStatus,
    /// The status differs from the stored one in a way upstream writes.
    #[serde(skip)]
    pub status_changed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delete_revisions: Vec<String>,
    #[serde(skip)]
    pub requeue_after: Option<Duration>,
    /// Errors of the plan (a refused spec).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Warning Events upstream records (reason, message): failed daemon pods.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<(String, String)>,
}

/// What every step of a pass reads.
pub(super) struct Ctx<'a> {
    /// The DaemonSet with the webhook's defaults.
    pub ds: &'a DaemonSet,
    pub now: Timestamp,
    /// The update revision's hash.
    pub hash: String,
    /// The deprecated template generation, if the DaemonSet carries one.
    pub generation: Option<String>,
    /// The daemon pod as NewPod makes it: the template's spec plus the daemon tolerations.
    pub pod_spec: PodSpec,
    /// Every node, by name.
    pub nodes: Vec<&'a Node>,
    /// The DaemonSet's pods by the node they are for (including terminating ones).
    pub by_node: BTreeMap<String, Vec<&'a Pod>>,
    pub min_ready: i32,
}

impl Ctx<'_> {
    pub fn rolling(&self) -> Option<&RollingUpdateDaemonSet> {
        let us = self.ds.spec.update_strategy.as_ref()?;
        (us.type_ == Some(DaemonSetUpdateStrategyType::RollingUpdate))
            .then_some(us.rolling_update.as_ref())
            .flatten()
    }

    pub fn in_place(&self) -> bool {
        self.rolling()
            .is_some_and(|r| r.type_ == Some(RollingUpdateType::InPlaceIfPossible))
    }

    /// The stored status's desiredNumberScheduled (what upstream scales burstReplicas and
    /// partition against).
    pub fn last_desired(&self) -> i32 {
        self.ds
            .status
            .as_ref()
            .map_or(0, |s| s.desired_number_scheduled)
    }

    /// Upstream's strict GetScaledValueFromIntOrPercent (the webhook admitted only integer
    /// percentages); an unparsable value counts 0, as upstream's ignored error.
    pub fn scaled(v: Option<&IntOrString>, total: i32, up: bool) -> i32 {
        v.and_then(|v| intstr::kruise(v, total, up)).unwrap_or(0)
    }

    /// Most pods created (or deleted) in one pass: burstReplicas of the last desired count,
    /// rounded down.
    pub fn burst(&self) -> usize {
        let b = Self::scaled(
            self.ds.spec.burst_replicas.as_ref(),
            self.last_desired(),
            false,
        );
        usize::try_from(b).unwrap_or(0)
    }

    /// `rollingUpdate.partition` against the last desired count, rounded down.
    pub fn partition(&self) -> Option<i32> {
        let p = self.rolling()?.partition.as_ref()?;
        Some(Self::scaled(Some(p), self.last_desired(), false))
    }

    /// maxSurge allows more than one pod on a node (surgeCount of 1 > 0).
    pub fn surge_allowed(&self) -> bool {
        self.rolling()
            .is_some_and(|r| Self::scaled(r.max_surge.as_ref(), 1, true) > 0)
    }

    /// IsPodUpdated: the pod's hash is the update revision's, or its template generation is
    /// the DaemonSet's.
    pub fn updated(&self, p: &Pod) -> bool {
        let gen_ok = self
            .generation
            .as_deref()
            .is_some_and(|g| pod::label(p, TEMPLATE_GENERATION_LABEL) == Some(g));
        gen_ok || (!self.hash.is_empty() && pod::revision(p) == self.hash)
    }

    pub fn fit(&self, n: &Node) -> node::Fit {
        node::fit(&self.pod_spec, n)
    }

    pub fn pods_on(&self, node: &str) -> &[&Pod] {
        self.by_node
            .get(node)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

/// podutil.IsPodAvailable: Ready, for more than minReadySeconds.
pub fn available(p: &Pod, min_ready: i32, now: Timestamp) -> bool {
    if !pod::is_ready(p) {
        return false;
    }
    if min_ready <= 0 {
        return true;
    }
    pod::ready_since(p).is_some_and(|t| t.as_second() + i64::from(min_ready) < now.as_second())
}

/// The pod is in lifecycle state PreparingDelete.
pub fn pre_deleting(p: &Pod) -> bool {
    pod::lifecycle_state(p) == state::PREPARING_DELETE
}

/// Scheduled pods first, then the oldest, then by name (podByCreationTimestampAndPhase).
pub fn sort_pods(pods: &mut [&Pod]) {
    pods.sort_by(|a, b| {
        pod::node(a)
            .is_empty()
            .cmp(&pod::node(b).is_empty())
            .then_with(|| pod::created(a).cmp(&pod::created(b)))
            .then_with(|| pod::name(a).cmp(pod::name(b)))
    });
}

/// Why no plan can be made at all.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("daemonset {0:?} has an invalid pod template: {1}")]
    Template(String, String),
}

/// Plan one pass.
pub fn plan(s: &Snapshot) -> Result<Plan, PlanError> {
    let ds = validate::defaults(&s.daemonset);
    if let Err(invalid) = validate::validate(&ds) {
        return Ok(status::refused(&ds, s.now, &invalid));
    }
    let typed = ds
        .spec
        .template
        .typed()
        .map_err(|e| PlanError::Template(ds.name_any(), e.to_string()))?;
    let mut actions = Vec::new();
    let owned = claim::claim(&ds, &s.pods, &mut actions);
    let revs = revisions::resolve(&ds, &s.revisions, &owned, &mut actions);
    let mut pod_spec = typed.spec.unwrap_or_default();
    node::add_daemon_tolerations(&mut pod_spec);
    let mut nodes: Vec<&Node> = s.nodes.iter().map(|n| n.as_ref()).collect();
    nodes.sort_by_key(|a| a.name_any());
    let cx = Ctx {
        ds: &ds,
        now: s.now,
        hash: revs.hash.clone(),
        generation: template_generation(&ds),
        pod_spec,
        nodes,
        by_node: by_node(&owned),
        min_ready: ds.spec.min_ready_seconds.unwrap_or(0),
    };
    let mut out = Outcome::default();
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(finish(&cx, revs, actions, out, false));
    }
    let mut rng = fastrand::Rng::with_seed(s.seed);
    let names: Vec<&str> = s.pods.iter().map(|p| pod::name(p)).collect();
    let mut namer = manage::Namer::new(&ds.name_any(), &names, &mut rng);
    let before = actions.len();
    manage::manage(&cx, &mut namer, &mut actions, &mut out);
    let full = actions.len() == before;
    if full {
        update::refresh(&cx, &revs.templates, &owned, &mut actions, &mut out);
        let paused = cx.rolling().and_then(|r| r.paused).unwrap_or(false);
        if !paused && cx.rolling().is_some() {
            update::rolling_update(&cx, &revs, &mut namer, &mut actions);
        }
    }
    Ok(finish(&cx, revs, actions, out, full))
}

/// What the steps of a pass add besides actions.
#[derive(Default)]
pub(super) struct Outcome {
    pub requeue: Option<Duration>,
    pub warnings: Vec<(String, String)>,
}

impl Outcome {
    pub fn requeue_after(&mut self, d: Duration) {
        self.requeue = Some(self.requeue.map_or(d, |r| r.min(d)));
    }
}

/// The history to prune and the status, after the pass's writes are decided.
fn finish(
    cx: &Ctx,
    revs: revisions::Revisions,
    actions: Vec<Action>,
    mut out: Outcome,
    full: bool,
) -> Plan {
    let delete_revisions = if full {
        revisions::history(cx, &revs)
    } else {
        revs.duplicates.clone()
    };
    let st = status::status(cx, revs.collision_count, full, &mut out);
    let status_changed = status::differs(cx.ds, &st);
    Plan {
        revision: revs.write,
        update_revision: revs.hash,
        actions,
        status: st,
        status_changed: status_changed && cx.ds.metadata.deletion_timestamp.is_none(),
        delete_revisions,
        requeue_after: out.requeue,
        errors: Vec::new(),
        warnings: out.warnings,
    }
}

fn template_generation(ds: &DaemonSet) -> Option<String> {
    let v = ds.annotations().get(TEMPLATE_GENERATION_ANNOTATION)?;
    v.parse::<i64>().ok().map(|g| g.to_string())
}

/// The pods by the node they are for; a pod naming no node is left out, as upstream.
fn by_node<'a>(owned: &[&'a Pod]) -> BTreeMap<String, Vec<&'a Pod>> {
    let mut m: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for p in owned {
        if let Some(n) = node::target_node(p) {
            m.entry(n).or_default().push(p);
        }
    }
    m
}

/// The pod label key of the revision (`controller-revision-hash`).
pub const HASH_LABEL: &str = keys::REVISION;

#[cfg(test)]
#[path = "plan_tests.rs"]
#[allow(clippy::too_many_lines)] // table-driven tests
mod tests;
