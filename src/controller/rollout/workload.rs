//! What the Rollout controller knows of its workload (upstream's `util.Workload`, reference
//! notes §2.3): replicas, the stable and canary revisions, the label selecting canary pods,
//! and whether a release is in progress or being rolled back. Pure: built from the objects
//! the reconciler read.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet as NativeStatefulSet};
use kube::{Resource, ResourceExt};

use super::hash;
use super::keys;
use crate::api::cloneset::CloneSet;
use crate::api::statefulset::StatefulSet;

/// The workload kinds a Rollout drives here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Deployment,
    CloneSet,
    /// A native `apps/v1` StatefulSet.
    StatefulSet,
    AdvancedStatefulSet,
}

impl TargetKind {
    /// From a `workloadRef`; `None` for what this controller does not drive (ReplicaSet,
    /// Advanced DaemonSet, anything else), named in the Rollout's status instead.
    pub fn of(api_version: &str, kind: &str) -> Option<TargetKind> {
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        match (group, kind) {
            ("apps", "Deployment") => Some(TargetKind::Deployment),
            ("apps", "StatefulSet") => Some(TargetKind::StatefulSet),
            ("apps.kruise.io", "CloneSet") => Some(TargetKind::CloneSet),
            ("apps.kruise.io", "StatefulSet") => Some(TargetKind::AdvancedStatefulSet),
            _ => None,
        }
    }

    /// The `rollouts.kruise.io/workload-type` value (by kind only, as upstream).
    pub fn type_label(self) -> &'static str {
        match self {
            TargetKind::Deployment => "deployment",
            TargetKind::CloneSet => "cloneset",
            TargetKind::StatefulSet | TargetKind::AdvancedStatefulSet => "statefulset",
        }
    }

    /// The pod label that tells revisions apart (the Services' selector key).
    pub fn revision_key(self) -> &'static str {
        match self {
            TargetKind::Deployment | TargetKind::CloneSet => keys::POD_TEMPLATE_HASH,
            _ => keys::CONTROLLER_REVISION_HASH,
        }
    }

    /// The embedded reconciler that moves its pods in this process, if any (Deployments and
    /// native StatefulSets are kube-controller-manager's).
    pub fn embedded(self) -> Option<&'static str> {
        match self {
            TargetKind::CloneSet => Some(crate::controller::cloneset::reconciler::NAME),
            TargetKind::AdvancedStatefulSet => {
                Some(crate::controller::statefulset::reconciler::NAME)
            }
            _ => None,
        }
    }
}

/// Upstream's `Workload` record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub replicas: i32,
    pub generation: i64,
    pub stable_revision: String,
    pub canary_revision: String,
    pub pod_template_hash: String,
    pub in_progressing: bool,
    pub in_rollback: bool,
    /// generation == observedGeneration (and, for a Deployment, a stable ReplicaSet exists).
    pub consistent: bool,
    /// The workload's `rollouts.kruise.io/rollout-id` label.
    pub rollout_id: Option<String>,
    /// The workload's own pause (Deployment `spec.paused`, CloneSet `updateStrategy.paused`).
    pub paused: bool,
    /// Its template is not the stable one (a release is due or under way).
    pub changed: bool,
    /// It carries the `rollouts.kruise.io/workload-type` label.
    pub has_type_label: bool,
    /// The stable revision a hold writes when it differs from `stable_revision` (a blue-green
    /// Deployment's label is written only by the hold).
    pub hold_revision: Option<String>,
    /// A blue-green release has claimed it (its strategy saved): it runs unpaused.
    pub surging: bool,
}

fn suffix(revision: &str) -> String {
    revision.rsplit('-').next().unwrap_or_default().to_string()
}

fn common<K: kube::Resource>(o: &K) -> Facts {
    Facts {
        generation: o.meta().generation.unwrap_or(0),
        in_progressing: o.annotations().contains_key(keys::IN_PROGRESSING),
        rollout_id: o.labels().get(keys::ROLLOUT_ID).cloned(),
        has_type_label: o.labels().contains_key(keys::WORKLOAD_TYPE),
        ..Default::default()
    }
}

/// ReplicaSets of `d` that count (controlled by it, not being deleted).
fn live_replicasets<'a>(uid: &str, rss: &'a [&'a ReplicaSet]) -> Vec<&'a ReplicaSet> {
    rss.iter()
        .copied()
        .filter(|rs| rs.meta().deletion_timestamp.is_none())
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|o| o.uid == uid && o.controller == Some(true))
        })
        .collect()
}

/// The stable ReplicaSet: the oldest live one with replicas above 0 (`GetDeploymentStableRs`).
/// `uid`: the Deployment's.
pub fn stable_replicaset<'a>(uid: &str, rss: &'a [&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let mut live: Vec<_> = live_replicasets(uid, rss)
        .into_iter()
        .filter(|rs| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0)
        .collect();
    live.sort_by_key(|rs| (rs.creation_timestamp().map(|t| t.0), rs.name_any()));
    live.first().copied()
}

fn hash_label(rs: &ReplicaSet) -> String {
    rs.labels()
        .get(keys::POD_TEMPLATE_HASH)
        .cloned()
        .unwrap_or_default()
}

/// A Deployment released canary style (`getDeployment`): `canary` is the newest canary
/// Deployment with its ReplicaSets.
pub fn deployment(
    d: &Deployment,
    rss: &[&ReplicaSet],
    canary: Option<(&Deployment, Vec<&ReplicaSet>)>,
) -> Facts {
    let mut f = common(d);
    let spec = d.spec.clone().unwrap_or_default();
    f.replicas = spec.replicas.unwrap_or(1);
    f.paused = spec.paused.unwrap_or(false);
    f.canary_revision = hash::template_hash(&spec.template);
    let observed = d.status.as_ref().and_then(|s| s.observed_generation);
    let stable = stable_replicaset(&d.uid().unwrap_or_default(), rss);
    f.consistent = observed == Some(f.generation) && stable.is_some();
    let Some(stable) = stable else {
        return f;
    };
    f.stable_revision = hash_label(stable);
    let same = stable
        .spec
        .as_ref()
        .and_then(|s| s.template.as_ref())
        .is_some_and(|t| hash::same_template(t, &spec.template));
    f.changed = !same;
    if !f.in_progressing {
        return f;
    }
    if same {
        f.in_rollback = true;
        return f;
    }
    if let Some((c, crs)) = canary {
        let mut live = live_replicasets(&c.uid().unwrap_or_default(), &crs);
        live.sort_by_key(|rs| (rs.creation_timestamp().map(|t| t.0), rs.name_any()));
        if let Some(rs) = live.first() {
            f.pod_template_hash = hash_label(rs);
        }
    }
    f
}

/// A Deployment's new ReplicaSet (the last active one whose template is the Deployment's) and
/// its old one (the first active one whose template is not), among the active (scaled-up)
/// ReplicaSets in revision order, as `GetReplicaSetsForDeployment` and
/// `FindCanaryAndStableReplicaSet` read them.
pub fn new_and_old<'a>(
    d: &Deployment,
    rss: &'a [&'a ReplicaSet],
) -> (Option<&'a ReplicaSet>, Option<&'a ReplicaSet>) {
    let template = d.spec.as_ref().map(|s| &s.template);
    let mut active: Vec<&ReplicaSet> = live_replicasets(&d.uid().unwrap_or_default(), rss)
        .into_iter()
        .filter(|rs| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0)
        .collect();
    active.sort_by_key(|rs| {
        let rev = rs
            .annotations()
            .get("deployment.kubernetes.io/revision")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        (rev, rs.creation_timestamp().map(|t| t.0))
    });
    let same = |rs: &ReplicaSet| {
        let t = rs.spec.as_ref().and_then(|s| s.template.as_ref());
        matches!((t, template), (Some(a), Some(b)) if hash::same_template(a, b))
    };
    let new = active.iter().rev().find(|rs| same(rs)).copied();
    let old = active.iter().find(|rs| !same(rs)).copied();
    (new, old)
}

/// A Deployment released blue-green (upstream's "advanced Deployment" finder): the stable
/// revision is its `stable-revision` label; while a release is in progress the pods of the
/// ReplicaSet whose template is the Deployment's are the new ones, and that ReplicaSet being
/// the stable one is a rollback.
pub fn blue_green_deployment(d: &Deployment, rss: &[&ReplicaSet]) -> Facts {
    let mut f = common(d);
    let spec = d.spec.clone().unwrap_or_default();
    f.replicas = spec.replicas.unwrap_or(1);
    f.paused = spec.paused.unwrap_or(false);
    f.canary_revision = hash::template_hash(&spec.template);
    let observed = d.status.as_ref().and_then(|s| s.observed_generation);
    f.consistent = observed == Some(f.generation);
    f.stable_revision = d
        .labels()
        .get(keys::STABLE_REVISION)
        .cloned()
        .unwrap_or_default();
    f.surging = d
        .annotations()
        .contains_key(crate::controller::batchrelease::bluegreen::ORIGINAL);
    let (new_rs, old_rs) = new_and_old(d, rss);
    f.changed = old_rs.is_some();
    // What the webhook's hold labels as stable (no label yet before the first release).
    f.hold_revision = old_rs.map(hash_label);
    if !f.in_progressing {
        return f;
    }
    if let Some(rs) = new_rs {
        f.pod_template_hash = hash_label(rs);
    }
    f.in_rollback = !f.stable_revision.is_empty() && f.stable_revision == f.pod_template_hash;
    f
}

/// A CloneSet: revisions are the suffixes of `currentRevision` / `updateRevision`.
pub fn cloneset(cs: &CloneSet) -> Facts {
    let mut f = common(cs);
    f.surging = cs
        .annotations()
        .contains_key(crate::controller::batchrelease::bluegreen::ORIGINAL);
    f.replicas = cs.spec.replicas.unwrap_or(1);
    f.paused = cs
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.paused)
        .unwrap_or(false);
    let s = cs.status.clone().unwrap_or_default();
    f.consistent = s.observed_generation == f.generation;
    f.stable_revision = suffix(s.current_revision.as_deref().unwrap_or_default());
    f.canary_revision = suffix(s.update_revision.as_deref().unwrap_or_default());
    f.pod_template_hash = f.canary_revision.clone();
    // Status replicas, as upstream: a blue-green release's surge pods count.
    f.in_rollback = f.in_progressing
        && s.current_revision.is_some()
        && s.current_revision == s.update_revision
        && s.updated_replicas != s.replicas;
    f.changed = s.current_revision != s.update_revision;
    f
}

/// What a StatefulSet-like status says (native and Advanced share the shape).
pub struct StsStatus<'a> {
    pub replicas: i32,
    pub observed_generation: Option<i64>,
    pub current_revision: Option<&'a str>,
    pub update_revision: Option<&'a str>,
    pub updated_replicas: i32,
}

/// A StatefulSet-like workload: full revision names, key `controller-revision-hash`.
pub fn statefulset_like<K: kube::Resource>(o: &K, s: StsStatus) -> Facts {
    let mut f = common(o);
    f.replicas = s.replicas;
    f.consistent = s.observed_generation == Some(f.generation);
    f.stable_revision = s.current_revision.unwrap_or_default().to_string();
    f.canary_revision = s.update_revision.unwrap_or_default().to_string();
    f.pod_template_hash = f.canary_revision.clone();
    f.in_rollback = s.current_revision.is_some()
        && s.current_revision == s.update_revision
        && s.updated_replicas != s.replicas;
    f.changed = s.current_revision != s.update_revision;
    f
}

pub fn native_statefulset(s: &NativeStatefulSet) -> Facts {
    let st = s.status.clone().unwrap_or_default();
    statefulset_like(
        s,
        StsStatus {
            replicas: s.spec.as_ref().and_then(|x| x.replicas).unwrap_or(1),
            observed_generation: st.observed_generation,
            current_revision: st.current_revision.as_deref(),
            update_revision: st.update_revision.as_deref(),
            updated_replicas: st.updated_replicas.unwrap_or(0),
        },
    )
}

pub fn advanced_statefulset(s: &StatefulSet) -> Facts {
    let st = s.status.clone().unwrap_or_default();
    statefulset_like(
        s,
        StsStatus {
            replicas: s.spec.replicas.unwrap_or(1),
            observed_generation: st.observed_generation,
            current_revision: st.current_revision.as_deref(),
            update_revision: st.update_revision.as_deref(),
            updated_replicas: st.updated_replicas,
        },
    )
}
