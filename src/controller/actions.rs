//! The writes a workload controller's pure plan asks for: create, delete, update in place,
//! mark or release a pod, a PVC's hand-over, a revision. Every kind's plan speaks this
//! vocabulary and `podsync` carries it out, so the in-place update, the hooks' marks and the
//! Events are written one way for every kind.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::Serialize;

use crate::controller::inplace::InPlaceChange;

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
        /// Annotations to set with the new number (CloneSet's volume-claim-template hash).
        #[serde(skip)]
        annotations: BTreeMap<String, String>,
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
    pub fn is_empty(&self) -> bool {
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
        /// Also label the pod `pod-template-hash` (CloneSet).
        #[serde(skip)]
        template_hash: bool,
        /// Move the pod's lifecycle state to `Updating` (CloneSet, Advanced StatefulSet; the
        /// Advanced DaemonSet's in-place update writes no lifecycle state).
        #[serde(skip)]
        lifecycle: bool,
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

pub use crate::controller::runtime::Stuck;
