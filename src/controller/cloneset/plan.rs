//! One reconcile pass of a CloneSet, as a pure function: a snapshot of the CloneSet, its pods,
//! revisions and PVCs goes in; the writes to make and the status to report come out
//! (reference notes §3.6–§3.11). All the arithmetic lives here, so `--dry-run=client` can
//! show exactly what the controller would do, and the tests can check it without a cluster.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodReadinessGate,
    PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Map, Value};

use super::defaults;
use super::inplace::{self, InPlaceChange};
pub use super::inplace_state::{ImageId, InPlaceGrace, InPlaceState, rfc3339};
use super::revision;
use super::sort;
use super::validate;
use crate::api::cloneset::{
    CloneSet, CloneSetCondition, CloneSetStatus, CloneSetUpdateStrategyType,
};
use crate::api::common::LifecycleHook;
use crate::controller::intstr;
use crate::controller::pod::{self, keys, state};
use crate::controller::selector;

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

/// A write to a revision.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum RevisionWrite {
    Create {
        #[serde(skip)]
        revision: Box<ControllerRevision>,
        name: String,
    },
    /// An older revision equal to the template becomes the newest again (a rollback).
    Renumber {
        name: String,
        revision: i64,
        #[serde(skip)]
        vct_hash: String,
    },
}

/// A change to a pod's labels/annotations, and possibly its `InPlaceUpdateReady` condition.
/// With a condition it is written through `pods/status` (which also takes metadata), so a
/// freshly scheduled pod costs one request to become Normal and Ready.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMarks {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Option<String>>,
    /// Set `InPlaceUpdateReady` True.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gate_ready: bool,
    /// Finalizers to add (a hook re-armed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_finalizers: Vec<String>,
}

impl PodMarks {
    fn is_empty(&self) -> bool {
        *self == PodMarks::default()
    }
}

/// One write to the cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Create a pod (and its missing PVCs first).
    Create {
        pod: String,
        revision: String,
        #[serde(skip)]
        object: Box<Pod>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pvcs: Vec<String>,
        #[serde(skip)]
        pvc_objects: Vec<PersistentVolumeClaim>,
    },
    /// Delete a pod and the PVCs of its instance id.
    Delete {
        pod: String,
        #[serde(skip)]
        uid: String,
        reason: &'static str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pvcs: Vec<String>,
    },
    /// Update a pod in place: `InPlaceUpdateReady` False, then the new images and revision.
    UpdateInPlace {
        pod: String,
        from: String,
        to: String,
        #[serde(flatten)]
        change: InPlaceChange,
        #[serde(skip_serializing_if = "is_zero")]
        grace_seconds: i32,
    },
    /// Finish an in-place update whose grace period has passed: write the images.
    FinishGrace {
        pod: String,
        images: BTreeMap<String, String>,
    },
    /// Labels, annotations, readiness condition.
    Mark {
        pod: String,
        reason: &'static str,
        #[serde(flatten)]
        marks: PodMarks,
    },
    /// The pod no longer matches the selector: drop our controller reference.
    Release { pod: String },
    /// Delete a PVC no pod will use.
    DeletePvc { pvc: String },
    /// With PVC reuse off, hand the PVC of an inactive pod to that pod (the CloneSet's
    /// reference replaced by the pod's), so it goes with the pod.
    ReownPvc {
        pvc: String,
        pod: String,
        #[serde(skip)]
        resource_version: String,
        #[serde(skip)]
        owner_references: Vec<OwnerReference>,
    },
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

impl Action {
    /// The pod the action writes, to rename it (none for a PVC's own action).
    pub fn pod_mut(&mut self) -> Option<&mut String> {
        match self {
            Action::Create { pod, .. }
            | Action::Delete { pod, .. }
            | Action::UpdateInPlace { pod, .. }
            | Action::FinishGrace { pod, .. }
            | Action::Mark { pod, .. }
            | Action::Release { pod }
            | Action::ReownPvc { pod, .. } => Some(pod),
            Action::DeletePvc { .. } => None,
        }
    }

    pub fn pod(&self) -> &str {
        match self {
            Action::Create { pod, .. }
            | Action::Delete { pod, .. }
            | Action::UpdateInPlace { pod, .. }
            | Action::FinishGrace { pod, .. }
            | Action::Mark { pod, .. }
            | Action::Release { pod }
            | Action::ReownPvc { pod, .. } => pod,
            Action::DeletePvc { pvc } => pvc,
        }
    }
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

/// A pod of the update revision that cannot start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stuck {
    pub pod: String,
    pub container: String,
    pub reason: String,
    pub message: String,
}

/// The active pods of the update revision that are stuck (`pod::stuck`).
fn stuck_pods(active: &[&Pod], update: &str) -> Vec<Stuck> {
    active
        .iter()
        .filter(|p| pod::revision_matches(pod::revision(p), update))
        .filter_map(|p| {
            pod::stuck(p).map(|(container, reason, message)| Stuck {
                pod: pod::name(p).into(),
                container,
                reason,
                message,
            })
        })
        .collect()
}

/// Why no plan can be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cloneset {0:?} has an invalid selector: {1}")]
    Selector(String, String),
    #[error("cloneset {0:?} has an invalid pod template: {1}")]
    Template(String, String),
}

/// The numbers of a pass (reference notes §3.7), derived from the spec.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub replicas: i32,
    pub partition: i32,
    pub partition_valid: bool,
    pub max_surge: i32,
    pub max_unavailable: i32,
    pub scale_max_unavailable: i64,
    pub min_ready: i32,
    pub paused: bool,
}

impl Limits {
    pub fn of(cs: &CloneSet) -> Limits {
        let r = cs.spec.replicas.unwrap_or(1);
        let us = cs.spec.update_strategy.clone().unwrap_or_default();
        let paused = us.paused.unwrap_or(false);
        let max_surge = if paused {
            0
        } else {
            us.max_surge
                .as_ref()
                .map(|v| intstr::lenient(v, r, true).unwrap_or(0))
                .unwrap_or(0)
        };
        let max_unavailable = intstr::lenient(
            us.max_unavailable.as_ref().unwrap_or(
                &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("20%".into()),
            ),
            r,
            max_surge == 0,
        )
        .unwrap_or(0);
        let scale_max_unavailable = cs
            .spec
            .scale_strategy
            .as_ref()
            .and_then(|s| s.max_unavailable.as_ref())
            .map(|v| i64::from(intstr::lenient(v, r, true).unwrap_or(0)))
            .unwrap_or(i64::from(i32::MAX));
        let p = intstr::partition(us.partition.as_ref(), r);
        Limits {
            replicas: r,
            partition: p.unwrap_or(0),
            partition_valid: p.is_some(),
            max_surge,
            max_unavailable,
            scale_max_unavailable,
            min_ready: cs.spec.min_ready_seconds.unwrap_or(0),
            paused,
        }
    }
}

/// The result of upstream's "diffs with expectation".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Diffs {
    pub scale_up_num: i32,
    pub scale_up_num_old: i32,
    pub scale_up_limit: i32,
    pub scale_down_num: i32,
    pub scale_down_num_old: i32,
    pub delete_ready_limit: i32,
    pub use_surge: i32,
    pub use_surge_old: i32,
    pub update_num: i32,
    pub update_max_unavailable: i32,
}

/// Is the pod marked to be deleted (label, or named in podsToDelete)?
fn specified(p: &Pod, pods_to_delete: &BTreeSet<String>) -> bool {
    pod::label(p, keys::SPECIFIED_DELETE).is_some() || pods_to_delete.contains(pod::name(p))
}

/// Upstream's `calculateDiffsWithExpectation`.
pub fn diffs(
    lim: &Limits,
    pods: &[&Pod],
    update_revision: &str,
    pods_to_delete: &BTreeSet<String>,
    exclude_preparing_delete: bool,
    now: Timestamp,
) -> Diffs {
    let (r, p, s, u) = (
        lim.replicas,
        lim.partition,
        lim.max_surge,
        lim.max_unavailable,
    );
    let (mut new_active, mut old_active, mut old_count) = (0, 0, 0);
    let (mut pre_del_new, mut pre_del_old) = (0, 0);
    let (mut to_del_new, mut to_del_old) = (0, 0);
    let (mut unavail_new, mut unavail_old) = (0, 0);
    for pd in pods {
        let is_new = pod::revision_matches(pod::revision(pd), update_revision);
        if !is_new {
            old_count += 1;
        }
        if pod::lifecycle_state(pd) == state::PREPARING_DELETE {
            if is_new {
                pre_del_new += 1
            } else {
                pre_del_old += 1
            }
            continue;
        }
        if is_new {
            new_active += 1
        } else {
            old_active += 1
        }
        if specified(pd, pods_to_delete) {
            if is_new {
                to_del_new += 1
            } else {
                to_del_old += 1
            }
        } else if !pod::available(pd, lim.min_ready, now) {
            if is_new {
                unavail_new += 1
            } else {
                unavail_old += 1
            }
        }
    }
    let n = pods.len() as i32;
    let mut update_old_diff = old_active - p;
    let mut update_new_diff = new_active - (r - p);
    update_old_diff = update_old_diff.max(0);
    update_new_diff = update_new_diff.min(0);
    let total_unavailable = pre_del_new + pre_del_old + unavail_new + unavail_old;
    let mut d = Diffs::default();
    if s > 0 {
        let to_del = to_del_new + to_del_old;
        let (mut scale_surge, mut scale_old_surge) = (0, 0);
        if to_del > 0 {
            scale_surge = (total_unavailable + to_del - u).max(0).min(to_del);
            scale_old_surge = (scale_surge - to_del_new).max(0);
        }
        let (mut update_surge, mut update_old_surge) = (0, 0);
        if (update_old_diff > 0 && update_new_diff < 0)
            || (update_old_diff < 0 && update_new_diff > 0)
        {
            if update_old_diff.abs() <= update_new_diff.abs() {
                update_surge = update_old_diff.abs();
                if update_old_diff < 0 {
                    update_old_surge = update_surge;
                }
            } else {
                update_surge = update_new_diff.abs();
                if update_new_diff > 0 {
                    update_old_surge = update_surge;
                }
            }
        }
        if scale_surge >= update_surge {
            d.use_surge = s.min(scale_surge);
            d.use_surge_old = d.use_surge.min(scale_old_surge);
        } else {
            d.use_surge = s.min(update_surge);
            d.use_surge_old = d.use_surge.min(update_old_surge);
        }
    }
    let (mut current_total, mut current_total_old) = (n, old_count);
    if exclude_preparing_delete {
        current_total -= pre_del_new + pre_del_old;
        current_total_old -= pre_del_old;
    }
    let expected_total = r + d.use_surge;
    let expected_total_old = p + d.use_surge_old;
    if expected_total - current_total > 0 {
        d.scale_up_num = expected_total - current_total;
        d.scale_up_num_old = (expected_total_old - current_total_old).max(0);
        let budget = (lim.scale_max_unavailable - i64::from(total_unavailable)).max(0);
        d.scale_up_limit = i64::from(d.scale_up_num).min(budget) as i32;
    }
    let to_del = to_del_new + to_del_old;
    if current_total - to_del - expected_total > 0 {
        d.scale_down_num = current_total - to_del - expected_total;
        d.scale_down_num_old = (current_total_old - to_del_old - expected_total_old).max(0);
    }
    if to_del > 0 || d.scale_down_num > 0 {
        d.delete_ready_limit = (u + (n - r) - total_unavailable).max(0);
    }
    d.update_num = if update_old_diff.abs() <= update_new_diff.abs() {
        update_old_diff
    } else {
        -update_new_diff
    };
    if d.update_num != 0 {
        d.update_max_unavailable = u + n - r;
    }
    d
}

/// Upstream's `IsPodHooked` (`all == false`: any handler present) and `IsPodAllHooked`
/// (`all == true`: every handler present). A hook with no handlers is never hooked and always
/// all-hooked, so an empty hook (`preNormal: {}`, `inPlaceUpdate: {markPodNotReady: true}`)
/// lets the pod pass at once; no hook at all is neither.
fn hooked(p: &Pod, hook: Option<&LifecycleHook>, all: bool) -> bool {
    let Some(h) = hook else { return false };
    let labels = h.labels_handler.clone().unwrap_or_default();
    let finalizers = h.finalizers_handler.clone().unwrap_or_default();
    let has_label = |(k, v): (&String, &String)| pod::label(p, k) == Some(v.as_str());
    let pf = p.metadata.finalizers.clone().unwrap_or_default();
    let has_fin = |f: &String| pf.contains(f);
    if all {
        labels.iter().all(has_label) && finalizers.iter().all(has_fin)
    } else {
        labels.iter().any(has_label) || finalizers.iter().any(has_fin)
    }
}

fn state_marks(new_state: &str, now: Timestamp) -> PodMarks {
    let mut m = PodMarks::default();
    m.labels
        .insert(keys::STATE.into(), Some(new_state.to_string()));
    m.annotations
        .insert(keys::STATE_TIMESTAMP.into(), Some(rfc3339(now)));
    m
}

fn with_latest(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// Has the pod's last in-place update completed (reference notes §2.5 D, without a node
/// agent)? A pod without the state annotation has.
pub fn inplace_completed(p: &Pod) -> bool {
    if pod::annotation(p, keys::INPLACE_GRACE).is_some() {
        return false;
    }
    let Some(raw) = pod::annotation(p, keys::INPLACE_STATE) else {
        return true;
    };
    let Ok(st) = serde_json::from_str::<InPlaceState>(raw) else {
        return true;
    };
    let Some(last) = st.last_container_statuses.filter(|l| !l.is_empty()) else {
        return true;
    };
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let spec_images: BTreeMap<String, String> = p
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for name in last.keys() {
        if !statuses.iter().any(|s| &s.name == name) {
            return false;
        }
    }
    for s in &statuses {
        if let Some(rec) = last.get(&s.name) {
            let want = with_latest(spec_images.get(&s.name).map(String::as_str).unwrap_or(""));
            if s.image_id == rec.image_id && with_latest(&s.image) != want {
                return false;
            }
        }
    }
    true
}

struct Ctx<'a> {
    cs: &'a CloneSet,
    name: String,
    lim: Limits,
    now: Timestamp,
    update: String,
    current: String,
    templates: BTreeMap<String, Map<String, Value>>,
    pods_to_delete: BTreeSet<String>,
    exclude_preparing_delete: bool,
    policy: CloneSetUpdateStrategyType,
    grace: i32,
    /// The CloneSet's PVCs by instance id (a deleted pod's go with it).
    pvcs_by_id: BTreeMap<String, Vec<String>>,
}

impl Ctx<'_> {
    fn lifecycle(&self) -> Option<&crate::api::common::Lifecycle> {
        self.cs.spec.lifecycle.as_ref()
    }
    fn pre_delete(&self) -> Option<&LifecycleHook> {
        self.lifecycle().and_then(|l| l.pre_delete.as_ref())
    }
    fn inplace_hook(&self) -> Option<&LifecycleHook> {
        self.lifecycle().and_then(|l| l.in_place_update.as_ref())
    }
    fn pre_normal(&self) -> Option<&LifecycleHook> {
        self.lifecycle().and_then(|l| l.pre_normal.as_ref())
    }
    /// The lifecycle state after a completed in-place update.
    fn after_update(&self, p: &Pod) -> &'static str {
        if self.lifecycle().is_some() && !hooked(p, self.inplace_hook(), true) {
            state::UPDATED
        } else {
            state::NORMAL
        }
    }
    fn template_of_revision(&self, rev: &str) -> Option<&Map<String, Value>> {
        self.templates.get(rev).or_else(|| {
            self.templates
                .iter()
                .find(|(n, _)| pod::revision_matches(rev, n))
                .map(|(_, t)| t)
        })
    }
}

/// Plan one pass.
pub fn plan(s: &Snapshot) -> Result<Plan, PlanError> {
    let cs = defaults::apply(&s.cloneset);
    let defaulted = (cs.spec != s.cloneset.spec).then(|| Box::new(cs.clone()));
    let name = cs.name_any();
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    let sel = &cs.spec.selector;
    let label_selector = selector::render(sel).map_err(|e| PlanError::Selector(name.clone(), e))?;
    if let Some(why) = refusal(&s.cloneset) {
        return Ok(refused(&cs, s.now, label_selector, why));
    }
    let lim = Limits::of(&cs);
    let mut actions = Vec::new();

    // Owned pods, claimed: active ones whose controller is us and whose labels still match.
    let mut active: Vec<&Pod> = Vec::new();
    let mut inactive: Vec<&Pod> = Vec::new();
    for p in s.pods.iter().map(|p| p.as_ref()) {
        let refs = p.metadata.owner_references.as_deref().unwrap_or_default();
        if !refs.iter().any(|r| r.uid == uid) {
            continue;
        }
        if !pod::is_active(p) {
            inactive.push(p);
            continue;
        }
        let ctrl = refs.iter().find(|r| r.controller == Some(true));
        if ctrl.is_some_and(|c| c.uid != uid) {
            continue;
        }
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if !selector::matches(sel, &labels).unwrap_or(false) {
            if cs.metadata.deletion_timestamp.is_none() {
                actions.push(Action::Release {
                    pod: pod::name(p).into(),
                });
            }
            continue;
        }
        active.push(p);
    }

    // PVCs owned by the CloneSet.
    let owned_pvcs: Vec<&PersistentVolumeClaim> = s
        .pvcs
        .iter()
        .filter(|c| {
            c.metadata.deletion_timestamp.is_none()
                && c.metadata
                    .owner_references
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|r| r.uid == uid)
        })
        .collect();
    let active_ids: BTreeSet<String> = active
        .iter()
        .filter_map(|p| pod::label(p, keys::INSTANCE_ID).map(String::from))
        .collect();
    let reuse = !cs
        .spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.disable_pvc_reuse)
        .unwrap_or(false);
    let mut free_ids: BTreeSet<String> = BTreeSet::new();
    for c in &owned_pvcs {
        let id = c
            .labels()
            .get(keys::INSTANCE_ID)
            .cloned()
            .unwrap_or_default();
        if id.is_empty() || active_ids.contains(&id) {
            continue;
        }
        if reuse {
            free_ids.insert(id);
        } else if let Some(p) = inactive
            .iter()
            .find(|p| pod::label(p, keys::INSTANCE_ID) == Some(id.as_str()))
        {
            actions.push(reown_pvc(c, p, &uid));
        } else {
            actions.push(Action::DeletePvc { pvc: c.name_any() });
        }
    }
    let pvcs_by_id: BTreeMap<String, Vec<String>> =
        owned_pvcs.iter().fold(BTreeMap::new(), |mut m, c| {
            if let Some(id) = c.labels().get(keys::INSTANCE_ID) {
                m.entry(id.clone())
                    .or_insert_with(Vec::new)
                    .push(c.name_any());
            }
            m
        });

    // Revisions: ours (or orphans) matching the selector, oldest first.
    let mut revs: Vec<&ControllerRevision> = s
        .revisions
        .iter()
        .filter(|r| {
            let refs = r.metadata.owner_references.as_deref().unwrap_or_default();
            let ctrl = refs.iter().find(|o| o.controller == Some(true));
            ctrl.is_none_or(|c| c.uid == uid)
                && selector::matches(sel, &r.labels().clone()).unwrap_or(false)
        })
        .collect();
    revs.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| {
                a.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0)
                    .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
            })
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    let bytes = revision::payload(&cs.spec.template.0);
    let mut collision = cs
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let next_number = revs.last().map(|r| r.revision + 1).unwrap_or(1);
    let equal = revs
        .iter()
        .rposition(|r| revision::stored_payload(r) == bytes);
    let mut templates: BTreeMap<String, Map<String, Value>> = revs
        .iter()
        .filter_map(|r| revision::template_of(r).map(|t| (r.name_any(), t)))
        .collect();
    let (update, revision_write) = match equal {
        Some(i) if i + 1 == revs.len() => (revs[i].name_any(), None),
        Some(i) => (
            revs[i].name_any(),
            Some(RevisionWrite::Renumber {
                name: revs[i].name_any(),
                revision: next_number,
                vct_hash: revision::vct_hash(&cs),
            }),
        ),
        None => {
            let mut rev;
            loop {
                rev = revision::build(&cs, collision, next_number);
                let n = rev.name_any();
                if !s.revisions.iter().any(|r| r.name_any() == n) {
                    break;
                }
                collision += 1;
            }
            let n = rev.name_any();
            // The template as the revision stores it (Go's typed form), like every other
            // revision's, so the in-place calculation compares like with like.
            if let Some(t) = revision::template_of(&rev) {
                templates.insert(n.clone(), t);
            }
            (
                n.clone(),
                Some(RevisionWrite::Create {
                    revision: Box::new(rev),
                    name: n,
                }),
            )
        }
    };
    let old_status = cs.status.clone().unwrap_or_default();
    let current = old_status
        .current_revision
        .clone()
        .filter(|c| revs.iter().any(|r| &r.name_any() == c))
        .unwrap_or_else(|| update.clone());

    let us = cs.spec.update_strategy.clone().unwrap_or_default();
    let ctx = Ctx {
        cs: &cs,
        name: name.clone(),
        lim,
        now: s.now,
        update: update.clone(),
        current: current.clone(),
        templates,
        pods_to_delete: cs
            .spec
            .scale_strategy
            .as_ref()
            .and_then(|s| s.pods_to_delete.clone())
            .unwrap_or_default()
            .into_iter()
            .collect(),
        exclude_preparing_delete: cs
            .labels()
            .get(keys::EXCLUDE_PREPARING_DELETE)
            .is_some_and(|v| v == "true"),
        policy: us.type_.unwrap_or(CloneSetUpdateStrategyType::ReCreate),
        grace: us
            .in_place_update_strategy
            .as_ref()
            .and_then(|i| i.grace_period_seconds)
            .unwrap_or(0),
        pvcs_by_id,
    };

    let mut errors = Vec::new();
    let mut requeue: Option<Duration> = None;
    if cs.metadata.deletion_timestamp.is_none() {
        let before = actions.len();
        let mut rng = fastrand::Rng::with_seed(s.seed);
        let modified = scale(
            &ctx,
            &active,
            &owned_pvcs,
            &mut free_ids,
            &mut rng,
            &mut actions,
            &mut errors,
        )?;
        let _ = before;
        if !modified {
            update_step(&ctx, &active, &mut actions, &mut errors, &mut requeue);
        }
    }

    // Status (reference notes §3.10).
    let mut st = CloneSetStatus {
        observed_generation: cs.metadata.generation.unwrap_or(0),
        update_revision: Some(update.clone()),
        current_revision: Some(current.clone()),
        collision_count: Some(collision),
        label_selector: Some(label_selector),
        // A refusal's condition goes once the object is valid (upstream never refuses, so it
        // has no such condition to keep).
        conditions: old_status
            .conditions
            .clone()
            .map(|c| {
                c.into_iter()
                    .filter(|c| c.reason.as_deref() != Some(REFUSED_REASON))
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty()),
        ..Default::default()
    };
    let mut updated_available = 0;
    for p in &active {
        st.replicas += 1;
        let ready = pod::update_ready(p, 0, s.now);
        let avail = pod::available(p, lim.min_ready, s.now);
        let updated = pod::revision_matches(pod::revision(p), &update);
        st.ready_replicas += i32::from(ready);
        st.available_replicas += i32::from(avail);
        st.updated_replicas += i32::from(updated);
        st.updated_ready_replicas += i32::from(updated && ready);
        updated_available += i32::from(updated && avail);
    }
    st.updated_available_replicas = Some(updated_available);
    if st.updated_replicas == st.replicas && st.replicas == lim.replicas {
        st.current_revision = Some(update.clone());
    }
    st.expected_updated_replicas = Some(if lim.partition_valid {
        lim.replicas - lim.partition
    } else {
        0
    });
    progressing(&cs, &lim, &mut st, s.now, &mut requeue);
    for e in &errors {
        let type_ = if e.starts_with("scale:") {
            "FailedScale"
        } else {
            "FailedUpdate"
        };
        set_condition(
            &mut st,
            CloneSetCondition {
                type_: type_.into(),
                status: "True".into(),
                message: Some(e.split_once(": ").map(|x| x.1).unwrap_or(e).to_string()),
                ..Default::default()
            },
            s.now,
        );
    }
    let status_changed = status_differs(&old_status, &st);

    // Prune podsToDelete names of pods that are gone.
    let prune_pods_to_delete = cs
        .spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.pods_to_delete.clone())
        .filter(|names| {
            names
                .iter()
                .any(|n| !active.iter().any(|p| pod::name(p) == n))
        })
        .map(|names| {
            names
                .into_iter()
                .filter(|n| active.iter().any(|p| pod::name(p) == n))
                .collect()
        });

    // History: keep at most revisionHistoryLimit revisions nobody uses.
    let limit = cs.spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    let live = |n: &str| {
        n == update
            || n == st.current_revision.as_deref().unwrap_or_default()
            || s.pods
                .iter()
                .any(|p| pod::revision_matches(pod::revision(p), n))
    };
    let non_live: Vec<String> = revs
        .iter()
        .map(|r| r.name_any())
        .filter(|n| !live(n))
        .collect();
    let delete_revisions = non_live
        .iter()
        .take(non_live.len().saturating_sub(limit))
        .cloned()
        .collect();

    if lim.min_ready > 0 && st.available_replicas != st.ready_replicas {
        let d = Duration::from_secs(lim.min_ready as u64);
        requeue = Some(requeue.map_or(d, |r| r.min(d)));
    }

    let stuck = stuck_pods(&active, &update);
    Ok(Plan {
        defaulted,
        revision: revision_write,
        update_revision: update,
        current_revision: st.current_revision.clone().unwrap_or_default(),
        actions,
        status: st,
        status_changed,
        prune_pods_to_delete,
        delete_revisions,
        requeue_after: requeue,
        errors,
        stuck,
    })
}

/// The reason of the condition that says why the controller refuses to act on an object.
pub const REFUSED_REASON: &str = "InvalidSpec";

/// Why the controller must not act on this CloneSet, if it must not: what upstream's
/// validating webhook refuses (`validate`, which applies the webhook's defaults itself).
/// Without the webhook such objects arrive anyway (CRDs from elsewhere), and acting on them
/// can be unbounded: a selector that misses the template releases every pod it creates and
/// creates more. One exception: `OnDelete`, which the v1alpha1 webhook refuses but upstream's
/// controller honours (and a v1beta1 CloneSet may carry); acting on it is safe.
fn refusal(cs: &CloneSet) -> Option<String> {
    let invalid: Vec<validate::Invalid> = validate::validate(cs, None)
        .err()?
        .into_iter()
        .filter(|e| !(e.field == "spec.updateStrategy.type" && e.value == "\"OnDelete\""))
        .collect();
    (!invalid.is_empty()).then(|| validate::Refusals(&invalid).to_string())
}

/// The plan for a CloneSet the controller refuses: no write but the status, which keeps its
/// counts and gains a `FailedScale` condition (reason `InvalidSpec`) saying why.
fn refused(cs: &CloneSet, now: Timestamp, label_selector: String, why: String) -> Plan {
    let old = cs.status.clone().unwrap_or_default();
    let mut st = old.clone();
    st.observed_generation = cs.metadata.generation.unwrap_or(0);
    st.label_selector = Some(label_selector);
    let message = format!("the controller does not act on this CloneSet: {why}");
    let prev = old
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "FailedScale")
        .cloned();
    let new_condition = prev.as_ref().and_then(|c| c.message.as_ref()) != Some(&message);
    if new_condition {
        let conds = st.conditions.get_or_insert_with(Vec::new);
        conds.retain(|c| c.type_ != "FailedScale");
        let t = Some(Time(Timestamp::from_second(now.as_second()).unwrap_or(now)));
        conds.push(CloneSetCondition {
            type_: "FailedScale".into(),
            status: "True".into(),
            reason: Some(REFUSED_REASON.into()),
            message: Some(message.clone()),
            last_update_time: t.clone(),
            last_transition_time: t,
        });
    }
    let status_changed = new_condition || status_differs(&old, &st);
    Plan {
        defaulted: None,
        revision: None,
        update_revision: old.update_revision.clone().unwrap_or_default(),
        current_revision: old.current_revision.clone().unwrap_or_default(),
        actions: Vec::new(),
        status: st,
        status_changed,
        prune_pods_to_delete: None,
        delete_revisions: Vec::new(),
        requeue_after: None,
        errors: vec![format!("scale: {message}")],
        stuck: Vec::new(),
    }
}

/// Upstream's "is the status worth writing" test.
fn status_differs(old: &CloneSetStatus, new: &CloneSetStatus) -> bool {
    let prog = |s: &CloneSetStatus| {
        s.conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Progressing")
            .map(|c| (c.status.clone(), c.reason.clone()))
    };
    new.observed_generation > old.observed_generation
        || old.replicas != new.replicas
        || old.ready_replicas != new.ready_replicas
        || old.available_replicas != new.available_replicas
        || old.updated_replicas != new.updated_replicas
        || old.updated_ready_replicas != new.updated_ready_replicas
        // Read back, a zero or empty field is absent (omitempty): absent equals zero.
        || old.updated_available_replicas.unwrap_or(0) != new.updated_available_replicas.unwrap_or(0)
        || old.expected_updated_replicas.unwrap_or(0) != new.expected_updated_replicas.unwrap_or(0)
        || old.update_revision.as_deref().unwrap_or("") != new.update_revision.as_deref().unwrap_or("")
        || old.current_revision.as_deref().unwrap_or("") != new.current_revision.as_deref().unwrap_or("")
        || old.label_selector.as_deref().unwrap_or("") != new.label_selector.as_deref().unwrap_or("")
        || prog(old) != prog(new)
}

fn set_condition(st: &mut CloneSetStatus, mut c: CloneSetCondition, now: Timestamp) {
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let t = Some(Time(Timestamp::from_second(now.as_second()).unwrap_or(now)));
    // As upstream's SetCloneSetCondition: same status and reason keep the old condition; a
    // changed one is taken out and appended, so the latest set condition comes last.
    c.last_update_time = t.clone();
    c.last_transition_time = t;
    if let Some(old) = conds.iter().find(|o| o.type_ == c.type_) {
        if old.status == c.status && old.reason == c.reason {
            return;
        }
        if old.status == c.status {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    conds.retain(|o| o.type_ != c.type_);
    conds.push(c);
}

fn progressing(
    cs: &CloneSet,
    lim: &Limits,
    st: &mut CloneSetStatus,
    now: Timestamp,
    requeue: &mut Option<Duration>,
) {
    let deadline = cs.spec.progress_deadline_seconds.filter(|d| *d != i32::MAX);
    let Some(deadline) = deadline else {
        if let Some(c) = st.conditions.as_mut() {
            c.retain(|c| c.type_ != "Progressing");
            if c.is_empty() {
                st.conditions = None;
            }
        }
        return;
    };
    let r = lim.replicas;
    let updated_avail = st.updated_available_replicas.unwrap_or(0);
    let expected = st.expected_updated_replicas.unwrap_or(0);
    let cond = |status: &str, reason: &str, msg: String| CloneSetCondition {
        type_: "Progressing".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(msg),
        ..Default::default()
    };
    let existing = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .cloned();
    let c = if st.current_revision == st.update_revision
        && st.replicas == r
        && st.updated_replicas == r
        && updated_avail == r
    {
        cond("True", "CloneSetAvailable", "CloneSet is available".into())
    } else if lim.paused {
        cond("True", "CloneSetPaused", "CloneSet is paused".into())
    } else if expected < r && expected <= updated_avail {
        cond(
            "True",
            "ProgressPartitionAvailable",
            "CloneSet has been paused due to partition ready".into(),
        )
    } else {
        // Upstream (`CloneSetDeadlineExceeded`) measures from the existing condition's
        // lastUpdateTime whatever its reason.
        let since = existing
            .as_ref()
            .and_then(|c| c.last_update_time.as_ref().map(|t| t.0.as_second()));
        let exceeded = existing
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
            || since.is_some_and(|t| t + i64::from(deadline) < now.as_second());
        if exceeded {
            cond(
                "False",
                "ProgressDeadlineExceeded",
                format!(
                    "CloneSet revision {} has timed out progressing",
                    st.update_revision.clone().unwrap_or_default()
                ),
            )
        } else {
            let left = since.map_or(i64::from(deadline), |t| {
                t + i64::from(deadline) - now.as_second()
            });
            let d = Duration::from_secs(left.max(0) as u64 + 1);
            *requeue = Some(requeue.map_or(d, |r| r.min(d)));
            cond("True", "CloneSetUpdated", "CloneSet is progressing".into())
        }
    };
    set_condition(st, c, now);
}

/// A random 5-character instance id from Kubernetes' safe alphabet.
fn instance_id(rng: &mut fastrand::Rng, taken: &BTreeSet<String>) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    loop {
        let id: String = (0..5)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
            .collect();
        if !taken.contains(&id) {
            return id;
        }
    }
}

/// The pod a CloneSet creates for `revision` with instance id `id` (reference notes §3.5).
pub fn new_pod(
    cs: &CloneSet,
    template: &Map<String, Value>,
    revision: &str,
    id: &str,
    now: Timestamp,
) -> Result<(Pod, Vec<PersistentVolumeClaim>), String> {
    let t: PodTemplateSpec =
        serde_json::from_value(Value::Object(template.clone())).map_err(|e| e.to_string())?;
    let name = cs.name_any();
    let meta = t.metadata.unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(keys::INSTANCE_ID.into(), id.into());
    labels.insert(keys::REVISION.into(), revision.into());
    labels.insert(
        keys::POD_TEMPLATE_HASH.into(),
        pod::short_hash(revision).into(),
    );
    labels.insert(keys::STATE.into(), state::PREPARING_NORMAL.into());
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(keys::STATE_TIMESTAMP.into(), rfc3339(now));
    let mut spec = t.spec.unwrap_or_default();
    let gates = spec.readiness_gates.get_or_insert_with(Vec::new);
    if !gates
        .iter()
        .any(|g| g.condition_type == keys::INPLACE_READY)
    {
        gates.push(PodReadinessGate {
            condition_type: keys::INPLACE_READY.into(),
        });
    }
    let mut pvcs = Vec::new();
    for vct in cs.spec.volume_claim_templates.iter().flatten() {
        let mut claim: PersistentVolumeClaim =
            serde_json::from_value(vct.clone()).map_err(|e| e.to_string())?;
        let vname = claim.metadata.name.clone().unwrap_or_default();
        let pvc_name = format!("{vname}-{name}-{id}");
        let mut l = claim.metadata.labels.take().unwrap_or_default();
        l.extend(cs.spec.selector.match_labels.clone().unwrap_or_default());
        l.insert(keys::INSTANCE_ID.into(), id.into());
        claim.metadata = ObjectMeta {
            name: Some(pvc_name.clone()),
            namespace: cs.namespace(),
            labels: Some(l),
            annotations: claim.metadata.annotations.take(),
            owner_references: Some(vec![revision::owner_reference(cs)]),
            ..Default::default()
        };
        claim.status = None;
        let vols = spec.volumes.get_or_insert_with(Vec::new);
        vols.retain(|v| v.name != vname);
        vols.push(Volume {
            name: vname,
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: pvc_name,
                read_only: None,
            }),
            ..Default::default()
        });
        pvcs.push(claim);
    }
    let pod = Pod {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{id}")),
            generate_name: Some(format!("{name}-")),
            namespace: cs.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            finalizers: meta.finalizers,
            owner_references: Some(vec![revision::owner_reference(cs)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    };
    Ok((pod, pvcs))
}

/// The PVCs that go with a deleted pod: the CloneSet's PVCs of its instance id (by label,
/// as upstream's deletePods; not by template names, which may have changed since).
fn pvc_names_of(p: &Pod, ctx: &Ctx) -> Vec<String> {
    pod::label(p, keys::INSTANCE_ID)
        .and_then(|id| ctx.pvcs_by_id.get(id))
        .cloned()
        .unwrap_or_default()
}

/// updateClaimOwnerRefToPod: the CloneSet's reference out, the pod's in.
fn reown_pvc(c: &PersistentVolumeClaim, p: &Pod, cloneset_uid: &str) -> Action {
    let mut refs: Vec<OwnerReference> = c
        .metadata
        .owner_references
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.uid != cloneset_uid)
        .collect();
    refs.push(OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: pod::name(p).into(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        ..Default::default()
    });
    Action::ReownPvc {
        pvc: c.name_any(),
        pod: pod::name(p).into(),
        resource_version: c.resource_version().unwrap_or_default(),
        owner_references: refs,
    }
}

/// deletePods: a pod held by the preDelete hook goes to PreparingDelete instead.
fn delete_pod(ctx: &Ctx, p: &Pod, reason: &'static str, actions: &mut Vec<Action>) {
    if hooked(p, ctx.pre_delete(), false) {
        if pod::lifecycle_state(p) != state::PREPARING_DELETE {
            actions.push(Action::Mark {
                pod: pod::name(p).into(),
                reason: "preDelete hook",
                marks: state_marks(state::PREPARING_DELETE, ctx.now),
            });
        }
        return;
    }
    actions.push(Action::Delete {
        pod: pod::name(p).into(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        reason,
        pvcs: pvc_names_of(p, ctx),
    });
}

/// The scale step (reference notes §3.8). Returns whether anything was written.
fn scale(
    ctx: &Ctx,
    active: &[&Pod],
    owned_pvcs: &[&PersistentVolumeClaim],
    free_ids: &mut BTreeSet<String>,
    rng: &mut fastrand::Rng,
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> Result<bool, PlanError> {
    let lim = &ctx.lim;
    let planned: Vec<&Pod> = active
        .iter()
        .copied()
        .filter(|p| {
            specified(p, &ctx.pods_to_delete) || pod::lifecycle_state(p) == state::PREPARING_DELETE
        })
        .collect();
    let n = active.len() as i32;
    // Regret PreparingDelete pods when replicas grew back.
    let mark_not_ready = ctx.pre_delete().and_then(|h| h.mark_pod_not_ready) == Some(true)
        || ctx.inplace_hook().and_then(|h| h.mark_pod_not_ready) == Some(true);
    if !mark_not_ready {
        let mut diff = lim.replicas - n + planned.len() as i32;
        let mut regretted = false;
        for p in &planned {
            if diff <= 0 {
                break;
            }
            if pod::lifecycle_state(p) == state::PREPARING_DELETE
                && !specified(p, &ctx.pods_to_delete)
            {
                actions.push(Action::Mark {
                    pod: pod::name(p).into(),
                    reason: "replicas grew back",
                    marks: state_marks(state::PREPARING_NORMAL, ctx.now),
                });
                diff -= 1;
                regretted = true;
            }
        }
        if regretted {
            return Ok(true);
        }
    }
    let d = diffs(
        lim,
        active,
        &ctx.update,
        &ctx.pods_to_delete,
        ctx.exclude_preparing_delete,
        ctx.now,
    );
    // Upstream returns here whenever pods are missing, even when none may be created now
    // (scaleUpLimit 0: the unavailable budget is spent), and so never reaches the deletes
    // below: a PreparingDelete pod its hook has let go then holds that budget for good and the
    // release stalls. We go on to the deletes instead (see the README).
    if d.scale_up_num > 0 && d.scale_up_limit > 0 {
        if d.scale_up_limit < d.scale_up_num {
            tracing::debug!(
                cloneset = %ctx.name,
                "scale up limited to {} of {} by scaleStrategy.maxUnavailable",
                d.scale_up_limit,
                d.scale_up_num
            );
        }
        let mut taken: BTreeSet<String> = active
            .iter()
            .filter_map(|p| pod::label(p, keys::INSTANCE_ID).map(String::from))
            .collect();
        taken.extend(
            owned_pvcs
                .iter()
                .filter_map(|c| c.labels().get(keys::INSTANCE_ID).cloned()),
        );
        let mut ids: Vec<String> = Vec::new();
        for _ in 0..d.scale_up_limit {
            if let Some(id) = free_ids.pop_first() {
                ids.push(id);
            } else {
                let id = instance_id(rng, &taken);
                taken.insert(id.clone());
                ids.push(id);
            }
        }
        ids.sort();
        let old_n = d.scale_up_limit.min(d.scale_up_num_old).max(0) as usize;
        for (i, id) in ids.iter().enumerate() {
            let rev = if i < old_n { &ctx.current } else { &ctx.update };
            let Some(template) = ctx.template_of_revision(rev) else {
                errors.push(format!("scale: revision {rev} not found"));
                break;
            };
            match new_pod(ctx.cs, template, rev, id, ctx.now) {
                Ok((p, pvcs)) => {
                    let existing: BTreeSet<String> =
                        owned_pvcs.iter().map(|c| c.name_any()).collect();
                    let pvcs: Vec<PersistentVolumeClaim> = pvcs
                        .into_iter()
                        .filter(|c| !existing.contains(&c.name_any()))
                        .collect();
                    actions.push(Action::Create {
                        pod: p.name_any(),
                        revision: rev.clone(),
                        pvcs: pvcs.iter().map(|c| c.name_any()).collect(),
                        object: Box::new(p),
                        pvc_objects: pvcs,
                    });
                }
                Err(e) => {
                    return Err(PlanError::Template(ctx.name.clone(), e));
                }
            }
        }
        return Ok(d.scale_up_limit > 0);
    }
    let before = actions.len();
    // Pods already in PreparingDelete: delete once their hook lets go.
    for p in &planned {
        if pod::lifecycle_state(p) == state::PREPARING_DELETE {
            delete_pod(ctx, p, "preparing delete", actions);
        }
    }
    // Specified deletes, in list order, ready ones rationed by deleteReadyLimit.
    let mut ready_limit = d.delete_ready_limit;
    for p in &planned {
        if pod::lifecycle_state(p) == state::PREPARING_DELETE {
            continue;
        }
        let ready = pod::available(p, 0, ctx.now);
        if ready {
            if ready_limit <= 0 {
                continue;
            }
            ready_limit -= 1;
        }
        delete_pod(ctx, p, "specified delete", actions);
    }
    if d.scale_down_num > 0 && planned.is_empty() {
        let ranks = sort::node_ranks(active);
        let (mut old, mut new): (Vec<&Pod>, Vec<&Pod>) = active
            .iter()
            .copied()
            .partition(|p| !pod::revision_matches(pod::revision(p), &ctx.update));
        let by_deletion = |v: &mut Vec<&Pod>| {
            v.sort_by(|a, b| sort::deletion(a, b, &ranks, lim.min_ready, ctx.now));
        };
        let mut victims: Vec<&Pod> = Vec::new();
        let want_old = d.scale_down_num_old.min(d.scale_down_num) as usize;
        if want_old < old.len() {
            by_deletion(&mut old);
        }
        victims.extend(old.iter().take(want_old));
        let want_new = (d.scale_down_num as usize).saturating_sub(victims.len());
        if want_new < new.len() {
            by_deletion(&mut new);
        }
        victims.extend(new.iter().take(want_new));
        let mut ready_limit = d.delete_ready_limit;
        for p in victims {
            if pod::available(p, 0, ctx.now) {
                if ready_limit <= 0 {
                    continue;
                }
                ready_limit -= 1;
            }
            delete_pod(ctx, p, "scale in", actions);
        }
    }
    Ok(actions.len() > before)
}

/// Refresh one pod: finish grace periods, move lifecycle states, set `InPlaceUpdateReady`.
fn refresh(ctx: &Ctx, p: &Pod, actions: &mut Vec<Action>, requeue: &mut Option<Duration>) {
    let name = pod::name(p).to_string();
    if let Some(raw) = pod::annotation(p, keys::INPLACE_GRACE) {
        let grace: InPlaceGrace = serde_json::from_str(raw).unwrap_or_default();
        // Upstream (`finishGracePeriod`) drops the pending change only when the pod's own
        // revision moved away from the one the grace spec was written for; a newer template
        // does not cancel it: the change is finished, and the update step moves the pod on.
        if !pod::revision_matches(pod::revision(p), &grace.revision) {
            let mut marks = PodMarks::default();
            marks.annotations.insert(keys::INPLACE_GRACE.into(), None);
            actions.push(Action::Mark {
                pod: name,
                reason: "revision changed during grace period",
                marks,
            });
            return;
        }
        let started = pod::annotation(p, keys::INPLACE_STATE)
            .and_then(|s| serde_json::from_str::<InPlaceState>(s).ok())
            .and_then(|s| s.update_timestamp.parse::<Timestamp>().ok())
            .map(|t| t.as_second())
            .unwrap_or(0);
        let left = started + i64::from(grace.grace_seconds) - ctx.now.as_second();
        if left > 0 {
            let d = Duration::from_secs(left as u64);
            *requeue = Some(requeue.map_or(d, |r| r.min(d)));
        } else {
            actions.push(Action::FinishGrace {
                pod: name,
                images: grace.container_images,
            });
        }
        return;
    }
    let completed = inplace_completed(p);
    let mut marks = PodMarks::default();
    let st = pod::lifecycle_state(p);
    let scheduled = !pod::node(p).is_empty();
    let mut wait_for_schedule = false;
    match st {
        state::PREPARING_NORMAL => match ctx.pre_normal() {
            None if scheduled => marks = state_marks(state::NORMAL, ctx.now),
            None => wait_for_schedule = true,
            Some(h) if hooked(p, Some(h), true) => marks = state_marks(state::NORMAL, ctx.now),
            Some(_) => {}
        },
        state::UPDATING if completed => marks = state_marks(ctx.after_update(p), ctx.now),
        state::UPDATED if ctx.inplace_hook().is_none() || hooked(p, ctx.inplace_hook(), true) => {
            marks = state_marks(state::NORMAL, ctx.now)
        }
        state::PREPARING_UPDATE if pod::revision_matches(pod::revision(p), &ctx.update) => {
            marks = state_marks(ctx.after_update(p), ctx.now)
        }
        _ => {}
    }
    if pod::label(p, keys::POD_TEMPLATE_HASH).is_none() && !pod::revision(p).is_empty() {
        marks.labels.insert(
            keys::POD_TEMPLATE_HASH.into(),
            Some(pod::short_hash(pod::revision(p)).into()),
        );
    }
    let gate_true = pod::condition(p, keys::INPLACE_READY)
        .is_some_and(|c| c.status == "True" && c.reason.is_none() && c.message.is_none());
    // Kubernetes makes nothing of the gate before the pod is scheduled; waiting lets the
    // state change and the gate go out in one write.
    if pod::has_gate(p, keys::INPLACE_READY) && !gate_true && completed && !wait_for_schedule {
        marks.gate_ready = true;
    }
    if !marks.is_empty() {
        actions.push(Action::Mark {
            pod: name,
            reason: "refresh",
            marks,
        });
    }
}

/// The update step (reference notes §3.9).
fn update_step(
    ctx: &Ctx,
    active: &[&Pod],
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
    requeue: &mut Option<Duration>,
) {
    let before = actions.len();
    for p in active {
        refresh(ctx, p, actions, requeue);
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
    waiting.truncate(d.update_num as usize);

    let mut unavailable = active
        .iter()
        .filter(|p| !pod::available(p, ctx.lim.min_ready, ctx.now))
        .count() as i32;
    let target_unavailable = active
        .iter()
        .filter(|p| {
            !pod::available(p, ctx.lim.min_ready, ctx.now)
                && pod::revision_matches(pod::revision(p), &ctx.update)
        })
        .count() as i32;
    let mut picked: Vec<&Pod> = Vec::new();
    for p in waiting {
        if target_unavailable + picked.len() as i32 >= d.update_max_unavailable {
            break;
        }
        if pod::available(p, ctx.lim.min_ready, ctx.now) {
            if unavailable >= d.update_max_unavailable {
                break;
            }
            unavailable += 1;
        }
        picked.push(p);
    }
    for p in picked {
        update_pod(ctx, p, actions, errors);
    }
}

fn update_pod(ctx: &Ctx, p: &Pod, actions: &mut Vec<Action>, errors: &mut Vec<String>) {
    let name = pod::name(p).to_string();
    let in_place_policy = matches!(
        ctx.policy,
        CloneSetUpdateStrategyType::InPlaceIfPossible | CloneSetUpdateStrategyType::InPlaceOnly
    );
    let change = if in_place_policy {
        let from = ctx.template_of_revision(pod::revision(p));
        let to = ctx.template_of_revision(&ctx.update);
        match (from, to) {
            (Some(f), Some(t)) => inplace::calculate(f, t),
            _ => Err(format!(
                "the pod's revision {} is no longer in the history",
                pod::revision(p)
            )),
        }
    } else {
        Err("updateStrategy.type is ReCreate".into())
    };
    match change {
        Ok(change) => {
            let st = pod::lifecycle_state(p);
            let hook = ctx.inplace_hook();
            match st {
                "" | state::PREPARING_NORMAL | state::NORMAL if hooked(p, hook, false) => {
                    actions.push(Action::Mark {
                        pod: name,
                        reason: "inPlaceUpdate hook",
                        marks: state_marks(state::PREPARING_UPDATE, ctx.now),
                    });
                    return;
                }
                state::UPDATED => {
                    let mut marks = state_marks(state::PREPARING_UPDATE, ctx.now);
                    if let Some(h) = hook {
                        for (k, v) in h.labels_handler.iter().flatten() {
                            marks.labels.insert(k.clone(), Some(v.clone()));
                        }
                        marks.add_finalizers = h.finalizers_handler.clone().unwrap_or_default();
                    }
                    actions.push(Action::Mark {
                        pod: name,
                        reason: "inPlaceUpdate hook re-armed",
                        marks,
                    });
                    return;
                }
                state::PREPARING_UPDATE if hooked(p, hook, false) => return,
                ""
                | state::PREPARING_NORMAL
                | state::NORMAL
                | state::PREPARING_UPDATE
                | state::UPDATING => {}
                other => {
                    errors.push(format!(
                        "update: pod {name} is in lifecycle state {other} and cannot be updated"
                    ));
                    return;
                }
            }
            actions.push(Action::UpdateInPlace {
                pod: name,
                from: pod::revision(p).to_string(),
                to: ctx.update.clone(),
                change,
                grace_seconds: ctx.grace,
            });
        }
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

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
