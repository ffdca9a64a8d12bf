//! PodUnavailableBudget, `policy.kruise.io/v1alpha1` — its storage version in OpenKruise 1.9:
//! like a PodDisruptionBudget, but also guarding in-place updates and deletions by Kruise
//! controllers.
//!
//! CRD rules for what upstream's webhook refuses: exactly one of selector and targetRef,
//! exactly one of maxUnavailable and minAvailable, each a non-negative integer or a percentage
//! from 0% to 100%.

// kube's `printcolumn(...)` arguments repeat `type_ = "integer"` by design.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "policy.kruise.io",
    version = "v1alpha1",
    kind = "PodUnavailableBudget",
    namespaced,
    status = "PodUnavailableBudgetStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "pub",
    printcolumn(
        name = "Allowed",
        type_ = "integer",
        json_path = ".status.unavailableAllowed",
        description = "UnavailableAllowed number of pod unavailable that are currently allowed"
    ),
    printcolumn(
        name = "Current",
        type_ = "integer",
        json_path = ".status.currentAvailable",
        description = "CurrentAvailable current number of available pods"
    ),
    printcolumn(
        name = "Desired",
        type_ = "integer",
        json_path = ".status.desiredAvailable",
        description = "DesiredAvailable minimum desired number of available pods"
    ),
    printcolumn(
        name = "Total",
        type_ = "integer",
        json_path = ".status.totalReplicas",
        description = "TotalReplicas total number of pods counted by this budget"
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.selector) != has(self.targetRef)",
     "message": "set exactly one of spec.selector and spec.targetRef"},
    {"rule": "has(self.maxUnavailable) != has(self.minAvailable)",
     "message": "set exactly one of spec.maxUnavailable and spec.minAvailable"}
]))]
pub struct PodUnavailableBudgetSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub selector: Option<LabelSelector>,
    /// The workload whose pods are guarded (wins over selector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<PubTargetReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub max_unavailable: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub min_available: Option<IntOrString>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PubTargetReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_pod_unavailable_budget_status)]
pub struct PodUnavailableBudgetStatus {
    #[serde(default)]
    pub observed_generation: i64,
    /// Pods whose deletion or eviction was allowed, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disrupted_pods: Option<BTreeMap<String, Time>>,
    /// Pods made unavailable (updated in place), and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_pods: Option<BTreeMap<String, Time>>,
    #[serde(default)]
    pub unavailable_allowed: i32,
    #[serde(default)]
    pub current_available: i32,
    #[serde(default)]
    pub desired_available: i32,
    #[serde(default)]
    pub total_replicas: i32,
}

fn required_pod_unavailable_budget_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &[
            "unavailableAllowed",
            "currentAvailable",
            "desiredAvailable",
            "totalReplicas",
        ],
    );
}
