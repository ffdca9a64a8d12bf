//! What every step of a pass reads: the defaulted CloneSet, its limits, its revisions, and
//! the lifecycle hooks that hold pods.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::Limits;
use crate::api::cloneset::{CloneSet, CloneSetUpdateStrategyType};
use crate::api::common::{Lifecycle, LifecycleHook};
use crate::controller::pod::{self, keys};
use crate::controller::podupdate;

pub(super) struct Ctx<'a> {
    pub(super) cs: &'a CloneSet,
    pub(super) name: String,
    pub(super) lim: Limits,
    pub(super) now: Timestamp,
    pub(super) update: String,
    pub(super) current: String,
    pub(super) templates: BTreeMap<String, Map<String, Value>>,
    pub(super) pods_to_delete: BTreeSet<String>,
    pub(super) exclude_preparing_delete: bool,
    pub(super) policy: CloneSetUpdateStrategyType,
    pub(super) grace: i32,
    /// The CloneSet's PVCs by instance id (a deleted pod's go with it).
    pub(super) pvcs_by_id: BTreeMap<String, Vec<String>>,
}

impl<'a> Ctx<'a> {
    /// The context of a pass over `cs` (defaulted) whose update and current revisions are
    /// known, with the templates of its revisions by name.
    pub(super) fn new(
        cs: &'a CloneSet,
        now: Timestamp,
        update: String,
        current: String,
        templates: BTreeMap<String, Map<String, Value>>,
        pvcs_by_id: BTreeMap<String, Vec<String>>,
    ) -> Ctx<'a> {
        let us = cs.spec.update_strategy.clone().unwrap_or_default();
        Ctx {
            cs,
            name: cs.name_any(),
            lim: Limits::of(cs),
            now,
            update,
            current,
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
        }
    }
}

impl Ctx<'_> {
    fn lifecycle(&self) -> Option<&Lifecycle> {
        self.cs.spec.lifecycle.as_ref()
    }
    pub(super) fn pre_delete(&self) -> Option<&LifecycleHook> {
        self.lifecycle().and_then(|l| l.pre_delete.as_ref())
    }
    pub(super) fn inplace_hook(&self) -> Option<&LifecycleHook> {
        self.lifecycle().and_then(|l| l.in_place_update.as_ref())
    }
    pub(super) fn template_of_revision(&self, rev: &str) -> Option<&Map<String, Value>> {
        self.templates.get(rev).or_else(|| {
            self.templates
                .iter()
                .find(|(n, _)| pod::revision_matches(rev, n))
                .map(|(_, t)| t)
        })
    }
}

/// The per-pod update's view of the pass (shared with the other kinds).
impl Ctx<'_> {
    pub(super) fn pods(&self) -> podupdate::Cx<'_> {
        podupdate::Cx {
            lifecycle: self.cs.spec.lifecycle.as_ref(),
            now: self.now,
            update: &self.update,
            templates: &self.templates,
            policy: match self.policy {
                CloneSetUpdateStrategyType::InPlaceIfPossible => {
                    podupdate::Policy::InPlaceIfPossible
                }
                CloneSetUpdateStrategyType::InPlaceOnly => podupdate::Policy::InPlaceOnly,
                _ => podupdate::Policy::ReCreate,
            },
            grace: self.grace,
            normal_waits_for_node: true,
            template_hash_label: true,
        }
    }
}

pub(super) use crate::controller::podupdate::{hooked, state_marks};
