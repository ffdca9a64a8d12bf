//! Kruise Rollout's v1alpha1 shapes, read only: the `Rollout` users still write (the seeds'
//! articles, older charts) and the standalone `TrafficRouting` (v1alpha1 is its only
//! version). A v1alpha1 Rollout is converted to v1beta1, the storage version this tool
//! writes, as upstream's conversion does: `weight: N` becomes `traffic: "N%"` (and the step's
//! replicas when unset), the `rolling-style` annotation becomes `enableExtraWorkloadForCanary`,
//! the `trafficrouting` annotation becomes `trafficRoutingRef`.

// kube's `printcolumn(...)` arguments repeat `type_ = "string"` by design.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{CustomResource, Resource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rollout::{
    self, GatewayTrafficRouting, HttpHeaderFilter, HttpHeaderMatch, IngressTrafficRouting,
    ObjectRef, PatchPodTemplateMetadata, RolloutPause, WorkloadRef,
};

/// Annotation choosing canary or partition style on a v1alpha1 Rollout.
pub const ROLLING_STYLE: &str = "rollouts.kruise.io/rolling-style";
/// Annotation naming a standalone TrafficRouting on a v1alpha1 Rollout.
pub const TRAFFIC_ROUTING: &str = "rollouts.kruise.io/trafficrouting";

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1alpha1",
    kind = "Rollout",
    root = "RolloutV1alpha1",
    namespaced,
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    pub object_ref: ObjectRefV1alpha1,
    pub strategy: RolloutStrategy,
    #[serde(default)]
    pub disabled: bool,
    /// Deprecated: the workload's `rollouts.kruise.io/rollout-id` label is used instead.
    #[serde(rename = "rolloutID", default, skip_serializing_if = "Option::is_none")]
    pub rollout_id: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRefV1alpha1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_ref: Option<WorkloadRef>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryStrategy>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStrategy {
    #[serde(default)]
    pub steps: Vec<CanaryStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routings: Option<Vec<TrafficRoutingRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_pod_template_metadata: Option<PatchPodTemplateMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_generate_canary_service: Option<bool>,
}

/// The v1alpha1 traffic part of a step (also a TrafficRouting's strategy).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStrategy {
    /// Percent of traffic, as an integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<HttpRouteMatch>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStep {
    #[serde(flatten)]
    pub traffic: TrafficRoutingStrategy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<IntOrString>,
    #[serde(default)]
    pub pause: RolloutPause,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct HttpRouteMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub headers: Option<Vec<HttpHeaderMatch>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingRef {
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressTrafficRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayTrafficRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_network_refs: Option<Vec<ObjectRef>>,
}

impl From<TrafficRoutingRef> for rollout::TrafficRoutingRef {
    fn from(r: TrafficRoutingRef) -> Self {
        rollout::TrafficRoutingRef {
            service: r.service,
            grace_period_seconds: r.grace_period_seconds.unwrap_or(3),
            ingress: r.ingress,
            gateway: r.gateway,
            custom_network_refs: r.custom_network_refs,
        }
    }
}

/// Why a v1alpha1 Rollout cannot be converted.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConversionError {
    #[error("spec.objectRef.workloadRef is missing: a Rollout must name its workload")]
    NoWorkload,
    #[error("spec.strategy.canary is missing")]
    NoCanary,
}

impl RolloutV1alpha1 {
    /// The same Rollout at v1beta1, converted as upstream's conversion webhook does.
    pub fn to_v1beta1(&self) -> Result<rollout::Rollout, ConversionError> {
        let s = &self.spec;
        let workload = s
            .object_ref
            .workload_ref
            .clone()
            .ok_or(ConversionError::NoWorkload)?;
        let canary = s
            .strategy
            .canary
            .as_ref()
            .ok_or(ConversionError::NoCanary)?;
        let mut meta = self.meta().clone();
        let annotations = meta.annotations.get_or_insert_with(Default::default);
        let partition = annotations
            .remove(ROLLING_STYLE)
            .is_some_and(|s| s.eq_ignore_ascii_case("partition"));
        let traffic_routing_ref = annotations.remove(TRAFFIC_ROUTING);
        if annotations.is_empty() {
            meta.annotations = None;
        }
        let steps = canary
            .steps
            .iter()
            .map(|st| {
                let weight = st.traffic.weight;
                rollout::CanaryStep {
                    traffic: weight.map(|w| format!("{w}%")),
                    request_header_modifier: st.traffic.request_header_modifier.clone(),
                    matches: st.traffic.matches.as_ref().map(|ms| {
                        ms.iter()
                            .map(|m| rollout::HttpRouteMatch {
                                headers: m.headers.clone(),
                                ..Default::default()
                            })
                            .collect()
                    }),
                    replicas: st
                        .replicas
                        .clone()
                        .or_else(|| weight.map(|w| IntOrString::String(format!("{w}%")))),
                    pause: st.pause.clone(),
                }
            })
            .collect();
        let mut out = rollout::Rollout::new(
            &self.metadata.name.clone().unwrap_or_default(),
            rollout::RolloutSpec {
                workload_ref: workload,
                strategy: rollout::RolloutStrategy {
                    paused: s.strategy.paused,
                    canary: Some(rollout::CanaryStrategy {
                        steps,
                        traffic_routings: canary
                            .traffic_routings
                            .clone()
                            .map(|rs| rs.into_iter().map(Into::into).collect()),
                        failure_threshold: canary.failure_threshold.clone(),
                        patch_pod_template_metadata: canary.patch_pod_template_metadata.clone(),
                        enable_extra_workload_for_canary: Some(!partition),
                        traffic_routing_ref,
                        disable_generate_canary_service: canary.disable_generate_canary_service,
                    }),
                    blue_green: None,
                },
                disabled: s.disabled,
            },
        );
        out.metadata = meta;
        Ok(out)
    }
}

/// A standalone TrafficRouting (v1alpha1, its only version): shift traffic without a Rollout.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "rollouts.kruise.io",
    version = "v1alpha1",
    kind = "TrafficRouting",
    namespaced,
    status = "TrafficRoutingStatus",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(
        name = "STATUS",
        type_ = "string",
        json_path = ".status.phase",
        description = "The TrafficRouting status phase"
    ),
    printcolumn(
        name = "MESSAGE",
        type_ = "string",
        json_path = ".status.message",
        description = "The TrafficRouting canary status message"
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingSpec {
    /// The providers to drive (at most one, as for a Rollout).
    #[schemars(length(min = 1, max = 1))]
    pub object_ref: Vec<rollout::TrafficRoutingRef>,
    pub strategy: TrafficRoutingStrategyChecked,
}

/// A TrafficRouting's strategy, with the weight bounded as upstream's webhook does.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStrategyChecked {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub weight: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    pub matches: Option<Vec<HttpRouteMatch>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoutingStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Initial, Healthy, Progressing, Finalizing, Terminating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
