//! Types shared by several Kruise kinds (upstream `apis/apps/pub`): the pod template kept as
//! sent, lifecycle hooks, update priorities, scatter terms.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A pod template kept exactly as the API server stores it: fields this build does not know
/// (a newer Kubernetes) survive a read-modify-write. [`PodTemplate::typed`] gives a typed view.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(transparent)]
#[schemars(schema_with = "crate::api::schema::pod_template")]
pub struct PodTemplate(pub Map<String, Value>);

impl PodTemplate {
    /// The template as a typed PodTemplateSpec (unknown fields dropped from the view only).
    pub fn typed(&self) -> Result<PodTemplateSpec, serde_json::Error> {
        serde_json::from_value(Value::Object(self.0.clone()))
    }

    pub fn from_typed(t: &PodTemplateSpec) -> Result<Self, serde_json::Error> {
        match serde_json::to_value(t)? {
            Value::Object(m) => Ok(PodTemplate(m)),
            _ => Ok(PodTemplate::default()),
        }
    }

    /// `metadata.labels`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.0
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default()
    }
}

/// A lifecycle hook: a pod is "hooked" while it carries any of these labels (exact value) or
/// finalizers (upstream `LifecycleHook`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels_handler: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizers_handler: Option<Vec<String>>,
    /// Mark the pod NotReady (KruisePodReady=False) while the hook holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_pod_not_ready: Option<bool>,
}

/// Hooks around deleting, updating in place and starting a pod (upstream `Lifecycle`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_delete: Option<LifecycleHook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_place_update: Option<LifecycleHook>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_normal: Option<LifecycleHook>,
}

/// Which pods update first (upstream `UpdatePriorityStrategy`): by weighted selectors, or by
/// the integer value of a label. Only one of the two may be set.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePriorityStrategy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_priority: Option<Vec<UpdatePriorityOrderTerm>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_priority: Option<Vec<UpdatePriorityWeightTerm>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePriorityOrderTerm {
    pub ordered_key: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePriorityWeightTerm {
    #[schemars(range(min = 0, max = 100))]
    pub weight: i32,
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub match_selector: LabelSelector,
}

/// Spread updated pods over label values (upstream `UpdateScatterTerm`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct UpdateScatterTerm {
    pub key: String,
    pub value: String,
}

/// In-place update options (upstream `InPlaceUpdateStrategy`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InPlaceUpdateStrategy {
    /// Seconds between marking a pod NotReady and patching its images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i32>,
}

/// A workload condition (the apps/v1 StatefulSetCondition / DaemonSetCondition shape), used by
/// CloneSet, Advanced StatefulSet and Advanced DaemonSet.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
