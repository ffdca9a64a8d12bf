//! Kruise Rollout `BatchRelease`, `rollouts.kruise.io/v1beta1` (storage version): the batch
//! plan a Rollout hands to the batch controller, one batch per step. Written by the Rollout
//! controller (named like its Rollout), not by users.

// kube's `printcolumn(...)` arguments repeat `type_ = "string"` by design.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rollout::{PatchPodTemplateMetadata, RolloutCondition, WorkloadRef};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1beta1",
    kind = "BatchRelease",
    namespaced,
    status = "BatchReleaseStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "KIND", type_ = "string", json_path = ".spec.workloadRef.kind"),
    printcolumn(name = "PHASE", type_ = "string", json_path = ".status.phase"),
    printcolumn(
        name = "BATCH",
        type_ = "integer",
        json_path = ".status.canaryStatus.currentBatch"
    ),
    printcolumn(
        name = "BATCH-STATE",
        type_ = "string",
        json_path = ".status.canaryStatus.batchState"
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct BatchReleaseSpec {
    pub workload_ref: WorkloadRef,
    pub release_plan: ReleasePlan,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum FinalizingPolicy {
    /// Finish once the whole workload is updated and ready.
    WaitResume,
    /// Finish at once (the default).
    Immediate,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum RollingStyle {
    Canary,
    Partition,
    BlueGreen,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_release_plan)]
pub struct ReleasePlan {
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub batches: Vec<ReleaseBatch>,
    /// Release batches 0..=batchPartition; unset: finalise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_partition: Option<i32>,
    #[serde(rename = "rolloutID", default, skip_serializing_if = "Option::is_none")]
    pub rollout_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub failure_threshold: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalizing_policy: Option<FinalizingPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod_template_metadata: Option<PatchPodTemplateMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_style: Option<RollingStyle>,
    /// Always written, as upstream (used when rollingStyle is empty).
    #[serde(default)]
    pub enable_extra_workload_for_canary: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseBatch {
    /// Pods on the new version after this batch (number or percent of replicas).
    #[schemars(schema_with = "crate::api::schema::int_or_any_percent")]
    pub canary_replicas: IntOrString,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchReleaseStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<RolloutCondition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_status: Option<BatchReleaseCanaryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(
        rename = "observedRolloutID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub observed_rollout_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_workload_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_release_plan_hash: Option<String>,
    /// Preparing, Progressing, Finalizing, Completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_batch_release_canary_status)]
pub struct BatchReleaseCanaryStatus {
    /// Upgrading, Verifying, Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_state: Option<String>,
    /// 0-based.
    #[serde(default)]
    pub current_batch: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_ready_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_ready_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_need_update_replicas: Option<i32>,
}

fn required_batch_release_canary_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["currentBatch"]);
}

fn required_release_plan(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["enableExtraWorkloadForCanary"]);
}
