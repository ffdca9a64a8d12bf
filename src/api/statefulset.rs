//! Advanced StatefulSet, `apps.kruise.io/v1beta1` (kind `StatefulSet`) — the storage version
//! in every OpenKruise release. Beyond the built-in StatefulSet: in-place update policies,
//! `partition` as a number of pods kept at the old revision, `maxUnavailable`, `paused`,
//! `reserveOrdinals`, lifecycle hooks, scale strategy and PVC retention.
//!
//! CRD: status and scale subresources, upstream's printer columns, and CEL rules for what
//! upstream's webhook refuses: replicas ≥ 0, selector non-empty and matching the template,
//! restartPolicy Always, partition ≥ 0, maxUnavailable format (and only 1 unless Parallel),
//! minReadySeconds 0–300, no rollingUpdate with OnDelete, in-place policies need the
//! `InPlaceUpdateReady` readiness gate, unordered updates need Parallel, reserveOrdinals as
//! integers or `a-b` ranges.

// kube's `printcolumn(...)` arguments repeat `type_ = "integer"` by design.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{
    Condition, InPlaceUpdateStrategy, Lifecycle, PodTemplate, UpdatePriorityStrategy,
};
use super::schema::{HAS_INPLACE_GATE, push_rules};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "apps.kruise.io",
    version = "v1beta1",
    kind = "StatefulSet",
    namespaced,
    status = "StatefulSetStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "sts",
    shortname = "asts",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.labelSelector"
    ),
    printcolumn(
        name = "DESIRED",
        type_ = "integer",
        json_path = ".spec.replicas",
        description = "The desired number of pods."
    ),
    printcolumn(
        name = "CURRENT",
        type_ = "integer",
        json_path = ".status.replicas",
        description = "The number of currently all pods."
    ),
    printcolumn(
        name = "UPDATED",
        type_ = "integer",
        json_path = ".status.updatedReplicas",
        description = "The number of pods updated."
    ),
    printcolumn(
        name = "READY",
        type_ = "integer",
        json_path = ".status.readyReplicas",
        description = "The number of pods ready."
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
        description = "The containers of currently advanced statefulset.",
        priority = "1"
    ),
    printcolumn(
        name = "IMAGES",
        type_ = "string",
        json_path = ".spec.template.spec.containers[*].image",
        description = "The images of currently advanced statefulset.",
        priority = "1"
    )
)]
#[schemars(transform = crate::api::schema::long_running_workload_rules)]
#[schemars(transform = spec_rules)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    /// Desired number of pods (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub selector: LabelSelector,
    pub template: PodTemplate,
    /// PVCs created for every pod (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::preserved_objects")]
    pub volume_claim_templates: Option<Vec<Value>>,
    /// How template changes reach existing PVCs (feature gate StatefulSetAutoResizePVCGate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claim_update_strategy: Option<VolumeClaimUpdateStrategy>,
    /// The governing headless Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// `OrderedReady` (default) or `Parallel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_management_policy: Option<PodManagementPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<StatefulSetUpdateStrategy>,
    /// ControllerRevisions kept (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
    /// Ordinals skipped: integers or ranges such as `"3-5"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "reserve_ordinals")]
    pub reserve_ordinals: Option<Vec<IntOrString>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_strategy: Option<StatefulSetScaleStrategy>,
    /// What happens to PVCs when the set is deleted or scaled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim_retention_policy:
        Option<StatefulSetPersistentVolumeClaimRetentionPolicy>,
    /// The first ordinal (feature gate StatefulSetStartOrdinal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinals: Option<StatefulSetOrdinals>,
}

fn spec_rules(schema: &mut schemars::Schema) {
    let in_place = format!(
        "!has(self.updateStrategy) || !has(self.updateStrategy.rollingUpdate) || !has(self.updateStrategy.rollingUpdate.podUpdatePolicy) || self.updateStrategy.rollingUpdate.podUpdatePolicy == 'ReCreate' || ({HAS_INPLACE_GATE})"
    );
    push_rules(
        schema,
        &[
            (
                "!has(self.updateStrategy) || !has(self.updateStrategy.type) || self.updateStrategy.type != 'OnDelete' || !has(self.updateStrategy.rollingUpdate)",
                "spec.updateStrategy.rollingUpdate must be empty with type OnDelete",
            ),
            (
                "(has(self.podManagementPolicy) && self.podManagementPolicy == 'Parallel') || !has(self.updateStrategy) || !has(self.updateStrategy.rollingUpdate) || !has(self.updateStrategy.rollingUpdate.maxUnavailable) || self.updateStrategy.rollingUpdate.maxUnavailable == 1",
                "spec.updateStrategy.rollingUpdate.maxUnavailable can only be 1 unless podManagementPolicy is Parallel",
            ),
            (
                "(has(self.podManagementPolicy) && self.podManagementPolicy == 'Parallel') || !has(self.updateStrategy) || !has(self.updateStrategy.rollingUpdate) || !has(self.updateStrategy.rollingUpdate.unorderedUpdate)",
                "spec.updateStrategy.rollingUpdate.unorderedUpdate needs podManagementPolicy Parallel",
            ),
            (
                &in_place,
                "spec.template.spec.readinessGates must contain InPlaceUpdateReady for an in-place podUpdatePolicy",
            ),
        ],
    );
}

fn reserve_ordinals(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "maxItems": 1024,
        "items": {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": true,
            "maxLength": 32,
            "x-kubernetes-validations": [{
                "rule": "type(self) == int ? self >= 0 : self.matches('^[0-9]+-[0-9]+$')",
                "message": "a reserved ordinal is a non-negative integer or a range such as \"3-5\""
            }]
        }
    })
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PodManagementPolicy {
    OrderedReady,
    Parallel,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum StatefulSetUpdateStrategyType {
    RollingUpdate,
    OnDelete,
}

/// How a pod moves to a new revision (shared with CloneSet v1beta1).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PodUpdatePolicy {
    /// Delete and recreate (the default).
    ReCreate,
    /// In place when only images (and labels/annotations) change, else recreate.
    InPlaceIfPossible,
    /// Only in place; other changes are refused.
    InPlaceOnly,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetUpdateStrategy {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<StatefulSetUpdateStrategyType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdateStatefulSetStrategy>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateStatefulSetStrategy {
    /// Pods kept at the old revision (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub partition: Option<i32>,
    /// Most pods unavailable during the update (default 1; percent rounded down, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub max_unavailable: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_update_policy: Option<PodUpdatePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unordered_update: Option<UnorderedUpdateStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_place_update_strategy: Option<InPlaceUpdateStrategy>,
    /// Seconds a new pod must be ready to count as available (0–300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 300))]
    pub min_ready_seconds: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.priorityStrategy) || !has(self.priorityStrategy.weightPriority) || !has(self.priorityStrategy.orderPriority)",
     "message": "priorityStrategy may set weightPriority or orderPriority, not both"}
]))]
pub struct UnorderedUpdateStrategy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_strategy: Option<UpdatePriorityStrategy>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetScaleStrategy {
    /// Most pods unavailable while scaling (Parallel only; percent rounded down, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_any_percent")]
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PersistentVolumeClaimRetentionPolicyType {
    Retain,
    Delete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetPersistentVolumeClaimRetentionPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_deleted: Option<PersistentVolumeClaimRetentionPolicyType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_scaled: Option<PersistentVolumeClaimRetentionPolicyType>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetOrdinals {
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub start: i32,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum VolumeClaimUpdateStrategyType {
    OnPodRollingUpdate,
    OnDelete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimUpdateStrategy {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<VolumeClaimUpdateStrategyType>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_stateful_set_status)]
pub struct StatefulSetStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default)]
    pub replicas: i32,
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default)]
    pub available_replicas: i32,
    #[serde(default)]
    pub current_replicas: i32,
    #[serde(default)]
    pub updated_replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_ready_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_available_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// The selector as a string, for the scale subresource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_claims: Option<Vec<VolumeClaimStatus>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_volume_claim_status)]
pub struct VolumeClaimStatus {
    pub volume_claim_name: String,
    #[serde(default)]
    pub compatible_replicas: i32,
    #[serde(default)]
    pub compatible_ready_replicas: i32,
}

fn required_stateful_set_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &[
            "replicas",
            "readyReplicas",
            "availableReplicas",
            "currentReplicas",
            "updatedReplicas",
        ],
    );
}
fn required_volume_claim_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["compatibleReplicas", "compatibleReadyReplicas"]);
}
