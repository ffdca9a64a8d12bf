//! Kruise Rollout `Rollout`, `rollouts.kruise.io/v1beta1` — the storage version of Kruise
//! Rollout 0.6: a release plan (canary, partition or blue-green steps, with traffic routing
//! through nginx Ingress, Gateway API or custom providers) for a workload in the same
//! namespace. The v1alpha1 shape users still write is read by [`super::rollout_v1alpha1`].
//!
//! CRD rules for what upstream's webhook refuses: exactly one of canary and blueGreen, at
//! least one step (at most 50), every step with replicas above 0 (a percentage at most 100%),
//! traffic a percentage from 0% to 100% (above 0% for canary), at most one traffic routing,
//! naming an Ingress, an HTTPRoute or custom references, a non-negative grace period, a
//! supported workload kind (blue-green: Deployment or CloneSet only).

// kube's `printcolumn(...)` arguments repeat `type_ = "string"` by design.
#![allow(clippy::duplicated_attributes)]

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1beta1",
    kind = "Rollout",
    namespaced,
    status = "RolloutStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(
        name = "STATUS",
        type_ = "string",
        json_path = ".status.phase",
        description = "The rollout status phase"
    ),
    printcolumn(
        name = "CANARY_STEP",
        type_ = "integer",
        json_path = ".status.currentStepIndex",
        description = "The rollout canary status step"
    ),
    printcolumn(
        name = "CANARY_STATE",
        type_ = "string",
        json_path = ".status.currentStepState",
        description = "The rollout canary status step state"
    ),
    printcolumn(
        name = "MESSAGE",
        type_ = "string",
        json_path = ".status.message",
        description = "The rollout canary status message"
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.strategy.blueGreen) || self.workloadRef.kind in ['Deployment', 'CloneSet']",
     "message": "a blue-green Rollout supports only Deployment and CloneSet workloads"}
]))]
pub struct RolloutSpec {
    /// The workload to release, in the Rollout's namespace.
    pub workload_ref: WorkloadRef,
    pub strategy: RolloutStrategy,
    /// Stop watching the workload (an in-flight release is finalised).
    #[serde(default)]
    #[schemars(extend("example" = false))]
    pub disabled: bool,
}

/// A workload reference (`apiVersion`, `kind`, `name`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "(self.apiVersion.startsWith('apps/') && self.kind in ['Deployment', 'StatefulSet', 'ReplicaSet']) || (self.apiVersion.startsWith('apps.kruise.io/') && self.kind in ['CloneSet', 'DaemonSet', 'StatefulSet'])",
     "message": "workloadRef must be an apps Deployment, StatefulSet or ReplicaSet, or an apps.kruise.io CloneSet, DaemonSet or StatefulSet"}
]))]
pub struct WorkloadRef {
    #[schemars(length(min = 1, max = 253))]
    pub api_version: String,
    #[schemars(length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Any object reference (custom network providers).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.canary) != has(self.blueGreen)",
     "message": "spec.strategy needs exactly one of canary and blueGreen"}
]))]
pub struct RolloutStrategy {
    /// Pause the whole release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green: Option<BlueGreenStrategy>,
}

/// A traffic share: a percentage from 0% to 100%.
const TRAFFIC: &str = r"^(100([.]0+)?|[0-9]{1,2}([.][0-9]+)?)%$";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.steps.all(s, !has(s.traffic) || !s.traffic.matches('^0+([.]0+)?%$'))",
     "message": "a canary step's traffic must be above 0%"}
]))]
pub struct CanaryStrategy {
    /// The batches, in order (replicas cumulative).
    #[schemars(length(min = 1, max = 50))]
    pub steps: Vec<CanaryStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1))]
    pub traffic_routings: Option<Vec<TrafficRoutingRef>>,
    /// Updated pods allowed to be unready when a batch is judged (number or percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub failure_threshold: Option<IntOrString>,
    /// Merged into the canary Deployment's pod template (canary style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod_template_metadata: Option<PatchPodTemplateMetadata>,
    /// true: an extra canary Deployment (canary style); false: partition style.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_extra_workload_for_canary: Option<bool>,
    /// A standalone TrafficRouting to drive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routing_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_generate_canary_service: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenStrategy {
    #[schemars(length(min = 1, max = 50))]
    pub steps: Vec<CanaryStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1))]
    pub traffic_routings: Option<Vec<TrafficRoutingRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int_or_percent")]
    pub failure_threshold: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routing_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_generate_canary_service: Option<bool>,
}

/// One batch: how many pods run the new version, how much traffic they get, and the pause.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.replicas)", "message": "every step needs replicas"}
]))]
pub struct CanaryStep {
    /// Share of traffic for the new version, e.g. `"20%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TRAFFIC), length(max = 16))]
    pub traffic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    /// Requests sent to the new version (any entry matching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub matches: Option<Vec<HttpRouteMatch>>,
    /// Pods on the new version after this step (cumulative; number or percent, above 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "step_replicas")]
    pub replicas: Option<IntOrString>,
    /// Always written (`{}` waits for approval), as upstream.
    #[serde(default)]
    pub pause: RolloutPause,
}

fn step_replicas(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": true,
        "maxLength": 32,
        "x-kubernetes-validations": [{
            "rule": "type(self) == int ? self > 0 : (self.matches('^(100([.]0+)?|[0-9]{1,2}([.][0-9]+)?)%$') && !self.matches('^0+([.]0+)?%$'))",
            "message": "step replicas must be above 0 (an integer, or a percentage above 0% and at most 100%)"
        }]
    })
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct RolloutPause {
    /// Seconds before the next step; unset waits for `rollout approve`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub duration: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PatchPodTemplateMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// Where traffic is shifted: a Service and the Ingress / HTTPRoute / custom objects routing it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.ingress) || has(self.gateway) || (has(self.customNetworkRefs) && size(self.customNetworkRefs) > 0)",
     "message": "a traffic routing needs an ingress, a gateway or customNetworkRefs"}
]))]
pub struct TrafficRoutingRef {
    /// The stable Service.
    #[schemars(length(min = 1))]
    pub service: String,
    /// Seconds for the provider to take a change in (default 3).
    #[serde(default = "three")]
    #[schemars(range(min = 0), extend("example" = 3))]
    pub grace_period_seconds: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressTrafficRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayTrafficRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_network_refs: Option<Vec<ObjectRef>>,
}

fn three() -> i32 {
    3
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressTrafficRouting {
    /// `nginx` (the default), `aliyun-alb`, `mse`, `higress`, or a custom Lua class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_type: Option<String>,
    /// An Ingress in the Rollout's namespace.
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayTrafficRouting {
    /// An HTTPRoute in the Rollout's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_route_name: Option<String>,
}

/// Gateway API `HTTPHeaderFilter`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct HttpHeaderFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub set: Option<Vec<HttpHeader>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub add: Option<Vec<HttpHeader>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "set"))]
    pub remove: Option<Vec<String>>,
}

const HEADER_NAME: &str = r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct HttpHeader {
    #[schemars(length(min = 1, max = 256), regex(pattern = HEADER_NAME))]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

/// Which requests go to the new version: all conditions of one entry must hold.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub headers: Option<Vec<HttpHeaderMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub query_params: Option<Vec<HttpQueryParamMatch>>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum MatchType {
    Exact,
    RegularExpression,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HttpHeaderMatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("example" = "Exact"))]
    pub type_: Option<MatchType>,
    #[schemars(length(min = 1, max = 256), regex(pattern = HEADER_NAME))]
    pub name: String,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
pub struct HttpQueryParamMatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("example" = "Exact"))]
    pub type_: Option<MatchType>,
    #[schemars(length(min = 1, max = 256), regex(pattern = HEADER_NAME))]
    pub name: String,
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PathMatchType {
    Exact,
    PathPrefix,
    RegularExpression,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct HttpPathMatch {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("example" = "PathPrefix"))]
    pub type_: Option<PathMatchType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024), extend("example" = "/"))]
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_rollout_status)]
pub struct RolloutStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_status: Option<CanaryStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blue_green_status: Option<BlueGreenStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<RolloutCondition>>,
    /// Initial, Healthy, Progressing, Terminating, Disabling, Disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Mirror of the sub-status (always written, as upstream).
    #[serde(default)]
    pub current_step_index: i32,
    #[serde(default)]
    pub current_step_state: String,
}

/// Fields common to the canary and blue-green sub-statuses (inlined in both).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_common_status)]
pub struct CommonStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_workload_generation: Option<i64>,
    #[serde(
        rename = "observedRolloutID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub observed_rollout_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_revision: Option<String>,
    /// The label value selecting the new version's pods.
    #[serde(default)]
    pub pod_template_hash: String,
    /// 1-based.
    #[serde(default)]
    pub current_step_index: i32,
    /// Users may patch it to jump to a step.
    #[serde(default)]
    pub next_step_index: i32,
    #[serde(default)]
    pub finalising_step: String,
    #[serde(default)]
    pub current_step_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_canary_status)]
pub struct CanaryStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    #[serde(default)]
    pub canary_revision: String,
    #[serde(default)]
    pub canary_replicas: i32,
    #[serde(default)]
    pub canary_ready_replicas: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_blue_green_status)]
pub struct BlueGreenStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    #[serde(default)]
    pub updated_revision: String,
    #[serde(default)]
    pub updated_replicas: i32,
    #[serde(default)]
    pub updated_ready_replicas: i32,
}

/// A condition (Progressing, Succeeded, Terminating) as Kruise Rollout writes it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_rollout_condition)]
pub struct RolloutCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

fn required_rollout_condition(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["reason", "message"]);
}

fn required_blue_green_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &["updatedRevision", "updatedReplicas", "updatedReadyReplicas"],
    );
}

fn required_canary_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &["canaryRevision", "canaryReplicas", "canaryReadyReplicas"],
    );
}

fn required_common_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &[
            "podTemplateHash",
            "nextStepIndex",
            "finalisingStep",
            "currentStepState",
        ],
    );
}

fn required_rollout_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["currentStepIndex", "currentStepState"]);
}
