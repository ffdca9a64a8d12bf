//! What every step of a pass reads: the defaulted set, its numbers, its revisions, the claims
//! in its namespace; and the pod predicates upstream's StatefulSet controller uses.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::super::ordinals::Reserved;
use crate::api::common::UpdatePriorityStrategy;
use crate::api::statefulset::{
    PersistentVolumeClaimRetentionPolicyType as Retention, PodManagementPolicy, PodUpdatePolicy,
    StatefulSet, StatefulSetUpdateStrategyType,
};
use crate::controller::intstr;
use crate::controller::pod::{self, state};
use crate::controller::podupdate;

pub(super) struct Ctx<'a> {
    pub(super) set: &'a StatefulSet,
    pub(super) name: String,
    pub(super) now: Timestamp,
    pub(super) update: String,
    pub(super) current: String,
    pub(super) templates: BTreeMap<String, Map<String, Value>>,
    /// OrderedReady: one pod at a time, in ordinal order.
    pub(super) monotonic: bool,
    pub(super) replicas: i32,
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) reserved: Reserved,
    pub(super) min_ready: i32,
    pub(super) on_delete: bool,
    pub(super) paused: bool,
    pub(super) partition: i32,
    /// `rollingUpdate.maxUnavailable` (percent of replicas rounded down), at least 1.
    pub(super) max_unavailable: i32,
    /// `scaleStrategy.maxUnavailable`, at least 1, when set.
    pub(super) scale_budget: Option<i32>,
    /// `rollingUpdate.unorderedUpdate`: its priority strategy, if any.
    pub(super) unordered: Option<Option<UpdatePriorityStrategy>>,
    pub(super) policy: podupdate::Policy,
    pub(super) grace: i32,
    pub(super) when_scaled: Retention,
    pub(super) when_deleted: Retention,
    /// The claims of the namespace by name.
    pub(super) pvcs: BTreeMap<String, &'a PersistentVolumeClaim>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        set: &'a StatefulSet,
        now: Timestamp,
        revisions: (String, String, BTreeMap<String, Map<String, Value>>),
        end: i64,
        reserved: Reserved,
        pvcs: &'a [PersistentVolumeClaim],
    ) -> Ctx<'a> {
        let spec = &set.spec;
        let replicas = spec.replicas.unwrap_or(1);
        let us = spec.update_strategy.clone().unwrap_or_default();
        let ru = us.rolling_update.clone().unwrap_or_default();
        let retention = spec
            .persistent_volume_claim_retention_policy
            .clone()
            .unwrap_or_default();
        let (update, current, templates) = revisions;
        Ctx {
            set,
            name: set.name_any(),
            now,
            update,
            current,
            templates,
            monotonic: spec.pod_management_policy != Some(PodManagementPolicy::Parallel),
            replicas,
            start: 0,
            end,
            reserved,
            min_ready: ru.min_ready_seconds.unwrap_or(0),
            on_delete: us.type_ == Some(StatefulSetUpdateStrategyType::OnDelete),
            paused: ru.paused.unwrap_or(false),
            partition: ru.partition.unwrap_or(0),
            max_unavailable: ru
                .max_unavailable
                .as_ref()
                .and_then(|v| intstr::lenient(v, replicas, false))
                .unwrap_or(1)
                .max(1),
            scale_budget: spec
                .scale_strategy
                .as_ref()
                .and_then(|s| s.max_unavailable.as_ref())
                .map(|v| intstr::lenient(v, replicas, false).unwrap_or(1).max(1)),
            unordered: ru.unordered_update.map(|u| u.priority_strategy),
            policy: match ru.pod_update_policy {
                Some(PodUpdatePolicy::InPlaceIfPossible) => podupdate::Policy::InPlaceIfPossible,
                Some(PodUpdatePolicy::InPlaceOnly) => podupdate::Policy::InPlaceOnly,
                _ => podupdate::Policy::ReCreate,
            },
            grace: ru
                .in_place_update_strategy
                .and_then(|i| i.grace_period_seconds)
                .unwrap_or(0),
            when_scaled: retention.when_scaled.unwrap_or(Retention::Retain),
            when_deleted: retention.when_deleted.unwrap_or(Retention::Retain),
            pvcs: pvcs.iter().map(|c| (c.name_any(), c)).collect(),
        }
    }

    /// The per-pod update's view (shared with CloneSet): PreparingNormal does not wait for a
    /// node, and only `controller-revision-hash` is written.
    pub(super) fn pods(&self) -> podupdate::Cx<'_> {
        podupdate::Cx {
            lifecycle: self.set.spec.lifecycle.as_ref(),
            now: self.now,
            update: &self.update,
            templates: &self.templates,
            policy: self.policy,
            grace: self.grace,
            normal_waits_for_node: false,
            template_hash_label: false,
        }
    }

    pub(super) fn pod_name(&self, ord: i64) -> String {
        format!("{}-{ord}", self.name)
    }

    /// Whether `ord` is one of the set's slots (in range, not reserved).
    pub(super) fn in_range(&self, ord: i64) -> bool {
        ord >= self.start && ord < self.end && !self.reserved.has(ord)
    }
}

/// What a pass produced so far.
#[derive(Default)]
pub(super) struct Out {
    pub(super) actions: Vec<super::Action>,
    pub(super) errors: Vec<String>,
    pub(super) requeue: Option<Duration>,
    /// A pod's state was refreshed: the rolling update waits for the next pass.
    pub(super) refreshed: bool,
}

impl Out {
    pub(super) fn requeue(&mut self, d: Option<Duration>) {
        if let Some(d) = d.filter(|d| !d.is_zero()) {
            self.requeue = Some(self.requeue.map_or(d, |r| r.min(d)));
        }
    }
}

/// Scheduled to a phase at all (a pod object not yet created has none).
pub(super) fn created(p: &Pod) -> bool {
    !pod::phase(p).is_empty()
}

pub(super) fn terminating(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

pub(super) fn running_and_ready(p: &Pod) -> bool {
    pod::phase(p) == "Running" && pod::is_ready(p)
}

fn normal(p: &Pod) -> bool {
    let s = pod::lifecycle_state(p);
    s.is_empty() || s == state::NORMAL
}

/// `isHealthy`: Normal, Running and Ready, not terminating.
pub(super) fn healthy(p: &Pod) -> bool {
    normal(p) && running_and_ready(p) && !terminating(p)
}

/// `isRunningAndAvailable`: Normal, Running and Ready for `min_ready` seconds; else how long
/// until it may be.
pub(super) fn available(p: &Pod, min_ready: i32, now: Timestamp) -> (bool, Option<Duration>) {
    if !normal(p) || !running_and_ready(p) {
        return (false, None);
    }
    if min_ready <= 0 {
        return (true, None);
    }
    let Some(since) = pod::ready_since(p) else {
        return (false, Some(Duration::from_secs(min_ready as u64)));
    };
    let left = since.as_second() + i64::from(min_ready) - now.as_second();
    if left > 0 {
        (false, Some(Duration::from_secs(left as u64)))
    } else {
        (true, None)
    }
}
