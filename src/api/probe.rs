//! PodProbeMarker and NodePodProbe, `apps.kruise.io/v1alpha1` (their only version): custom
//! probes whose results become pod conditions, labels and annotations. A PodProbeMarker
//! selects pods; its probes are written into the NodePodProbe of each pod's node (one per
//! node, named like the node), whose status the node agent fills.
//!
//! CRD rules reproduce upstream's webhook: probe names unique (a list-map keyed by name), a
//! probe needs a podConditionType or a markerPolicy, reserved condition types are refused,
//! one policy per state (a list-map keyed by state), each policy sets labels or annotations,
//! and the PodProbeMarker's name matches `^[a-zA-Z0-9-]+$`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Probe;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "apps.kruise.io",
    version = "v1alpha1",
    kind = "PodProbeMarker",
    namespaced,
    status = "PodProbeMarkerStatus",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct PodProbeMarkerSpec {
    /// Pods of this namespace to probe.
    #[schemars(schema_with = "crate::api::schema::label_selector")]
    pub selector: LabelSelector,
    /// The probes to run in each selected pod.
    #[schemars(length(min = 1), extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["name"]))]
    pub probes: Vec<PodContainerProbe>,
}

/// One probe of a container, and what its result marks on the pod.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.podConditionType) || (has(self.markerPolicy) && size(self.markerPolicy) > 0)",
     "message": "a probe needs a podConditionType or a markerPolicy"},
    {"rule": "!has(self.podConditionType) || !(self.podConditionType in ['PodScheduled', 'Initialized', 'Ready', 'ContainersReady', 'KruisePodReady', 'InPlaceUpdateReady'])",
     "message": "podConditionType must not be one of the conditions Kubernetes or Kruise manage (PodScheduled, Initialized, Ready, ContainersReady, KruisePodReady, InPlaceUpdateReady)"}
]))]
pub struct PodContainerProbe {
    /// Unique within the PodProbeMarker.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    pub container_name: String,
    /// A core Probe (exec, tcpSocket, httpGet or grpc, and its timing).
    pub probe: Probe,
    /// Labels and annotations to set on the pod per probe result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["state"]))]
    pub marker_policy: Option<Vec<ProbeMarkerPolicy>>,
    /// A pod condition that mirrors the probe result (Succeeded: True, Failed: False).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 316))]
    pub pod_condition_type: Option<String>,
}

/// The result of a probe a marker policy applies to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ProbeMarkerState {
    Succeeded,
    Failed,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "(has(self.labels) && size(self.labels) > 0) || (has(self.annotations) && size(self.annotations) > 0)",
     "message": "a markerPolicy must set labels or annotations"}
]))]
pub struct ProbeMarkerPolicy {
    pub state: ProbeMarkerState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 64))]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("maxProperties" = 64))]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_pod_probe_marker_status)]
pub struct PodProbeMarkerStatus {
    #[serde(default)]
    pub observed_generation: i64,
    /// Pods the selector matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_pods: Option<i64>,
}

/// The probes of the pods on one node (the object is named like the node).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "apps.kruise.io",
    version = "v1alpha1",
    kind = "NodePodProbe",
    status = "NodePodProbeStatus",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct NodePodProbeSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_probes: Option<Vec<PodProbe>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[schemars(transform = required_pod_probe)]
pub struct PodProbe {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// The pod IP (upstream's JSON key is the capitalised `IP`).
    #[serde(rename = "IP", default)]
    pub ip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<ContainerProbe>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProbe {
    /// `<PodProbeMarker name>#<probe name>`.
    pub name: String,
    pub container_name: String,
    pub probe: Probe,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodePodProbeStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_probe_statuses: Option<Vec<PodProbeStatus>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodProbeStatus {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_states: Option<Vec<ContainerProbeState>>,
}

/// The result of one probe as the node agent last saw it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ProbeState {
    Succeeded,
    Failed,
    Unknown,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProbeState {
    pub name: String,
    pub state: ProbeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn required_pod_probe(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["IP"]);
}

fn required_pod_probe_marker_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(schema, &["observedGeneration"]);
}
