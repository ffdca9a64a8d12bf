//! Advanced DaemonSet, `apps.kruise.io/v1beta1` (kind `DaemonSet`) — the storage version from
//! OpenKruise 1.9. Beyond the built-in DaemonSet: in-place rolling updates, `partition` (nodes
//! kept at the old version), a node `selector` for the update, `paused`, `maxSurge`,
//! `burstReplicas`, a preDelete hook and partitioned scaling.
//!
//! CRD: status subresource (no scale, as upstream), upstream's printer columns, and CEL rules
//! for what upstream's webhook refuses: selector non-empty and matching the template,
//! restartPolicy Always, partition / maxUnavailable / maxSurge formats, maxUnavailable and
//! maxSurge not both 0, no rollingUpdate with OnDelete.

// kube's `printcolumn(...)` arguments repeat `type_ = "integer"` by design.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Condition, Lifecycle, PodTemplate};
use super::schema::push_rules;

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "apps.kruise.io",
    version = "v1beta1",
    kind = "DaemonSet",
    namespaced,
    status = "DaemonSetStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "daemon",
    shortname = "ads",
    printcolumn(
        name = "DESIRED",
        type_ = "integer",
        json_path = ".status.desiredNumberScheduled",
        description = "The desired number of pods."
    ),
    printcolumn(
        name = "CURRENT",
        type_ = "integer",
        json_path = ".status.currentNumberScheduled",
        description = "The current number of pods."
    ),
    printcolumn(
        name = "READY",
        type_ = "integer",
        json_path = ".status.numberReady",
        description = "The ready number of pods."
    ),
    printcolumn(
        name = "UP-TO-DATE",
        type_ = "integer",
        json_path = ".status.updatedNumberScheduled",
        description = "The updated number of pods."
    ),
    printcolumn(
        name = "AVAILABLE",
        type_ = "integer",
        json_path = ".status.numberAvailable",
        description = "The available number of pods."
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "CONTAINERS",
        type_ = "string",
        json_path = ".spec.template.spec.containers[*].name",
        description = "The containers of currently advanced daemonset.",
        priority = "1"
    ),
    printcolumn(
        name = "IMAGES",
        type_ = "string",
        json_path = ".spec.template.spec.containers[*].image",
        description = "The images of currently advanced daemonset.",
        priority = "1"
    )
)]
#[schemars(transform = crate::api::schema::long_running_workload_rules)]
#[schemars(transform = spec_rules)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpec {
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub selector: LabelSelector,
    pub template: PodTemplate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<DaemonSetUpdateStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub min_ready_seconds: Option<i32>,
    /// Most pods created or deleted in one pass (default 250).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_any_percent")]
    pub burst_replicas: Option<IntOrString>,
    /// ControllerRevisions kept (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
    /// Only `preDelete` is honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_strategy: Option<DaemonSetScaleStrategy>,
}

fn spec_rules(schema: &mut schemars::Schema) {
    push_rules(
        schema,
        &[(
            "!has(self.updateStrategy) || !has(self.updateStrategy.type) || self.updateStrategy.type != 'OnDelete' || !has(self.updateStrategy.rollingUpdate)",
            "spec.updateStrategy.rollingUpdate must be empty with type OnDelete",
        )],
    );
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum DaemonSetUpdateStrategyType {
    RollingUpdate,
    OnDelete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetUpdateStrategy {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<DaemonSetUpdateStrategyType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateDaemonSet>,
}

/// How pods are replaced: `Standard` (delete and create) or `InPlaceIfPossible`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RollingUpdateType {
    Standard,
    InPlaceIfPossible,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.maxUnavailable) && (self.maxUnavailable == 0 || self.maxUnavailable == '0%') && (!has(self.maxSurge) || self.maxSurge == 0 || self.maxSurge == '0%'))",
     "message": "maxUnavailable and maxSurge cannot both be 0"}
]))]
pub struct RollingUpdateDaemonSet {
    /// JSON key `rollingUpdateType`, as upstream.
    #[serde(
        rename = "rollingUpdateType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub type_: Option<RollingUpdateType>,
    /// Percent of desired pods, rounded up (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub max_unavailable: Option<IntOrString>,
    /// Percent rounded up (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub max_surge: Option<IntOrString>,
    /// Only nodes matching this label selector are updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub selector: Option<LabelSelector>,
    /// Nodes (number or percent) that keep the old version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub partition: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetScaleStrategy {
    /// Limit pod creation on new nodes by the partition too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioned_scaling: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_daemon_set_status)]
pub struct DaemonSetStatus {
    #[serde(default)]
    pub current_number_scheduled: i32,
    #[serde(default)]
    pub number_misscheduled: i32,
    #[serde(default)]
    pub desired_number_scheduled: i32,
    #[serde(default)]
    pub number_ready: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub updated_number_scheduled: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_available: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_unavailable: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The `controller-revision-hash` of the newest revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_revision: Option<String>,
}

fn required_daemon_set_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &[
            "currentNumberScheduled",
            "numberMisscheduled",
            "desiredNumberScheduled",
            "numberReady",
            "updatedNumberScheduled",
        ],
    );
}
