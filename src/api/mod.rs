//! Rust types for the Kruise kinds this tool reads and writes, at their storage versions, and
//! the CRDs generated from them (written to `manifests/`; a test fails when they drift).
//!
//! The CRDs serve without conversion webhooks, carry status (and scale) subresources and
//! upstream's printer columns, and encode as CEL rules what upstream's validating webhooks
//! refuse, so a cluster without the operator still refuses bad objects.

pub mod batchrelease;
pub mod cloneset;
pub mod common;
pub mod containerrecreaterequest;
pub mod daemonset;
pub mod gateway;
pub mod guard;
pub mod images;
pub mod jobs;
pub mod podunavailablebudget;
pub mod probe;
pub mod rollout;
pub mod rollout_v1alpha1;
pub mod rollout_wire;
pub mod schema;
pub mod sidecarset;
pub mod statefulset;
pub mod workloadspread;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use batchrelease::BatchRelease;
pub use cloneset::{CloneSet, CloneSetSpec, CloneSetStatus};
pub use containerrecreaterequest::ContainerRecreateRequest;
pub use daemonset::DaemonSet;
pub use images::{ImagePullJob, NodeImage};
pub use jobs::{AdvancedCronJob, BroadcastJob};
pub use podunavailablebudget::PodUnavailableBudget;
pub use probe::{NodePodProbe, PodProbeMarker};
pub use rollout::Rollout;
pub use rollout_v1alpha1::{RolloutV1alpha1, TrafficRouting};
pub use sidecarset::SidecarSet;
pub use statefulset::StatefulSet;
pub use workloadspread::WorkloadSpread;

/// The label our CRDs carry, so `crds status` can tell who installed a CRD.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-kruise");

/// Every CRD this tool installs, generated from the types.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        finish(CloneSet::crd()),
        finish(StatefulSet::crd()),
        finish(DaemonSet::crd()),
        finish(SidecarSet::crd()),
        finish(BroadcastJob::crd()),
        finish(AdvancedCronJob::crd()),
        finish(ImagePullJob::crd()),
        finish(NodeImage::crd()),
        finish(WorkloadSpread::crd()),
        finish(ContainerRecreateRequest::crd()),
        finish(PodUnavailableBudget::crd()),
        finish(Rollout::crd()),
        finish(BatchRelease::crd()),
        finish(TrafficRouting::crd()),
        finish(NodePodProbe::crd()),
        finish(with_root_rule(
            PodProbeMarker::crd(),
            "self.metadata.name.matches('^[a-zA-Z0-9-]+$')",
            "metadata.name may only contain letters, digits and '-'",
        )),
    ]
}

/// Adds a CEL rule at the root of every version's schema (where `self.metadata.name` is
/// visible); derived types only reach `spec` and below.
fn with_root_rule(
    mut crd: CustomResourceDefinition,
    rule: &str,
    message: &str,
) -> CustomResourceDefinition {
    for v in &mut crd.spec.versions {
        if let Some(schema) = v
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            schema
                .x_kubernetes_validations
                .get_or_insert_with(Vec::new)
                .push(
                    serde_json::from_value(serde_json::json!({"rule": rule, "message": message}))
                        .expect("a validation rule"),
                );
        }
    }
    crd
}

/// Shapes the derived schema like upstream's: no `nullable` (an unset field is omitted, never
/// null), only upstream's declared defaults (serde's are for reading, not for the API server),
/// and the root's apiVersion/kind/metadata declared.
fn tidy_schema(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            if m.get("nullable") == Some(&Value::Bool(true)) {
                m.remove("nullable");
                if let Some(Value::Array(e)) = m.get_mut("enum") {
                    e.retain(|x| !x.is_null());
                }
            }
            // Only the defaults upstream's CRDs declare;
            // serde's `default` is for reading, the API server must not fill it in.
            m.remove("default");
            // Our types carry upstream's declared defaults as `example` (the only free-form
            // keyword a typed CRD schema keeps).
            if let Some(d) = m.remove("x-kruise-default").or_else(|| m.remove("example")) {
                m.insert("default".into(), d);
            }
            // Defaults upstream's CRDs carry on embedded core types (from their Go markers).
            if let Some(Value::Object(props)) = m.get_mut("properties") {
                if props.contains_key("containerPort")
                    && let Some(Value::Object(p)) = props.get_mut("protocol")
                {
                    p.insert("x-kruise-default".into(), Value::String("TCP".into()));
                }
                if props.len() == 2
                    && props.contains_key("port")
                    && let Some(Value::Object(p)) = props.get_mut("service")
                {
                    p.insert("x-kruise-default".into(), Value::String(String::new()));
                }
            }
            if let Some(Value::Object(props)) = m.get_mut("properties") {
                for p in props.values_mut() {
                    tidy_schema(p);
                }
            }
            for k in ["items", "additionalProperties"] {
                if let Some(x) = m.get_mut(k) {
                    tidy_schema(x);
                }
            }
            if let Some(Value::Array(a)) = m.get_mut("anyOf") {
                a.iter_mut().for_each(tidy_schema);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy_schema),
        _ => {}
    }
}

fn finish(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let mut v = serde_json::to_value(&crd).expect("a CRD serialises");
    for ver in v["spec"]["versions"].as_array_mut().into_iter().flatten() {
        let root = &mut ver["schema"]["openAPIV3Schema"];
        tidy_schema(root);
        if let Some(props) = root["properties"].as_object_mut() {
            props.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
            props.insert("kind".into(), serde_json::json!({"type": "string"}));
            props.insert("metadata".into(), serde_json::json!({"type": "object"}));
        }
    }
    let mut crd: CustomResourceDefinition = serde_json::from_value(v).expect("a CRD");
    // As upstream's CRDs (the API server would default it anyway).
    if crd.spec.names.list_kind.is_none() {
        crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    }
    crd.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string());
    crd
}

/// A CRD as YAML, as written to `manifests/`.
pub fn to_yaml(crd: &CustomResourceDefinition) -> String {
    let v = serde_json::to_value(crd).expect("a CRD serialises");
    serde_saphyr::to_string(&v).expect("a CRD renders as YAML")
}

/// The file name of a CRD in `manifests/` (`apps.kruise.io_clonesets.yaml`, like upstream).
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// All CRDs in one multi-document YAML (`manifests/crds.yaml`).
pub fn all_in_one() -> String {
    crds()
        .iter()
        .map(|c| format!("---\n{}", to_yaml(c)))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Reads `v` as `K` and writes it back; nothing may be lost or added.
    fn same_after_round_trip<K: serde::de::DeserializeOwned + serde::Serialize>(v: Value) {
        let typed: K = serde_json::from_value(v.clone()).expect("upstream object reads");
        assert_eq!(serde_json::to_value(&typed).unwrap(), v);
    }

    /// Objects as upstream's controllers write them (fields always emitted by Go, renamed JSON
    /// keys) read into our types without loss.
    #[test]
    fn objects_written_by_upstream_read_without_loss() {
        same_after_round_trip::<Rollout>(json!({
            "apiVersion": "rollouts.kruise.io/v1beta1", "kind": "Rollout",
            "metadata": {"name": "demo", "namespace": "default"},
            "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echoserver"},
                "strategy": {"canary": {"steps": [
                    {"traffic": "5%", "replicas": "20%", "pause": {}},
                    {"replicas": "100%", "pause": {"duration": 60},
                     "matches": [{"headers": [{"type": "Exact", "name": "user", "value": "beta"}]}]}],
                    "trafficRoutings": [{"service": "echoserver", "gracePeriodSeconds": 3,
                        "ingress": {"classType": "nginx", "name": "echoserver"}}],
                    "enableExtraWorkloadForCanary": true}},
                "disabled": false},
            "status": {"observedGeneration": 2, "phase": "Progressing", "message": "Rollout is in step(1/2)",
                "currentStepIndex": 1, "currentStepState": "StepPaused",
                "conditions": [{"type": "Progressing", "status": "True", "reason": "InRolling", "message": "",
                    "lastUpdateTime": "2026-11-01T10:00:00Z", "lastTransitionTime": "2026-11-01T10:00:00Z"}],
                "canaryStatus": {"observedWorkloadGeneration": 3, "observedRolloutID": "5b8c",
                    "rolloutHash": "x2v4", "stableRevision": "6d6dfb59f6", "podTemplateHash": "7c9d8f",
                    "currentStepIndex": 1, "nextStepIndex": 2, "finalisingStep": "", "currentStepState": "StepPaused",
                    "lastUpdateTime": "2026-11-01T10:00:05Z",
                    "canaryRevision": "58cb9f5688", "canaryReplicas": 1, "canaryReadyReplicas": 1}}
        }));
        same_after_round_trip::<BatchRelease>(json!({
            "apiVersion": "rollouts.kruise.io/v1beta1", "kind": "BatchRelease",
            "metadata": {"name": "demo", "namespace": "default"},
            "spec": {"workloadRef": {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "name": "web"},
                "releasePlan": {"batches": [{"canaryReplicas": "20%"}, {"canaryReplicas": 5}],
                    "batchPartition": 0, "rolloutID": "5b8c", "finalizingPolicy": "Immediate",
                    "rollingStyle": "Partition", "enableExtraWorkloadForCanary": false}},
            "status": {"canaryStatus": {"currentBatch": 0, "batchState": "Ready", "updatedReplicas": 1,
                "updatedReadyReplicas": 1, "batchReadyTime": "2026-11-01T10:00:05Z"},
                "stableRevision": "a", "updateRevision": "b", "observedGeneration": 1,
                "observedRolloutID": "5b8c", "observedWorkloadReplicas": 5,
                "observedReleasePlanHash": "0f3e", "phase": "Progressing"}
        }));
        same_after_round_trip::<DaemonSet>(json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "busybox"}]}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"rollingUpdateType": "InPlaceIfPossible",
                    "maxUnavailable": 1, "partition": "10%", "paused": false,
                    "selector": {"matchLabels": {"pool": "a"}}}},
                "scaleStrategy": {"partitionedScaling": true}, "burstReplicas": 250, "revisionHistoryLimit": 10},
            "status": {"currentNumberScheduled": 3, "numberMisscheduled": 0, "desiredNumberScheduled": 3,
                "numberReady": 3, "observedGeneration": 1, "updatedNumberScheduled": 3, "numberAvailable": 3,
                "updateRevision": "agent-5f7d"}
        }));
        same_after_round_trip::<StatefulSet>(json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"replicas": 3, "serviceName": "db", "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": {"app": "db"}}, "reserveOrdinals": [1, "4-6"],
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "busybox"}],
                    "readinessGates": [{"conditionType": "InPlaceUpdateReady"}]}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1, "maxUnavailable": "50%",
                    "podUpdatePolicy": "InPlaceIfPossible", "minReadySeconds": 10,
                    "inPlaceUpdateStrategy": {"gracePeriodSeconds": 5}}},
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}}}}]},
            "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "availableReplicas": 3,
                "currentReplicas": 2, "updatedReplicas": 1, "updatedReadyReplicas": 1,
                "currentRevision": "db-1", "updateRevision": "db-2", "collisionCount": 0, "labelSelector": "app=db",
                "volumeClaims": [{"volumeClaimName": "data", "compatibleReplicas": 3, "compatibleReadyReplicas": 3}]}
        }));
        same_after_round_trip::<BroadcastJob>(json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "BroadcastJob",
            "metadata": {"name": "warm", "namespace": "default"},
            "spec": {"parallelism": "50%", "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "w", "image": "busybox"}]}},
                "completionPolicy": {"type": "Always", "ttlSecondsAfterFinished": 30},
                "failurePolicy": {"type": "FailFast", "restartLimit": 3}},
            "status": {"active": 0, "succeeded": 3, "failed": 0, "desired": 3, "phase": "completed",
                "startTime": "2026-11-01T10:00:00Z", "completionTime": "2026-11-01T10:01:00Z",
                "conditions": [{"type": "Complete", "status": "True", "lastProbeTime": "2026-11-01T10:01:00Z",
                    "lastTransitionTime": "2026-11-01T10:01:00Z", "reason": "Complete", "message": "done"}]}
        }));
        same_after_round_trip::<NodeImage>(json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "NodeImage", "metadata": {"name": "node-1"},
            "spec": {"images": {"nginx": {"tags": [{"tag": "1.25", "version": 2, "createdAt": "2026-11-01T10:00:00Z",
                "pullPolicy": {"timeoutSeconds": 600, "backoffLimit": 3},
                "ownerReferences": [{"apiVersion": "apps.kruise.io/v1beta1", "kind": "ImagePullJob", "name": "pre", "namespace": "default", "uid": "u"}]}]}}},
            "status": {"desired": 1, "succeeded": 1, "failed": 0, "pulling": 0, "waiting": 0,
                "imageStatuses": {"nginx": {"tags": [{"tag": "1.25", "phase": "Succeeded", "progress": 100,
                    "version": 2, "imageID": "docker.io/library/nginx@sha256:abc"}]}}}
        }));
        same_after_round_trip::<ContainerRecreateRequest>(json!({
            "apiVersion": "apps.kruise.io/v1alpha1", "kind": "ContainerRecreateRequest",
            "metadata": {"name": "r", "namespace": "default", "labels": {"crr.apps.kruise.io/node-name": "node-1"}},
            "spec": {"podName": "web-abc", "containers": [{"name": "app",
                "statusContext": {"containerID": "containerd://123", "restartCount": 0}}],
                "strategy": {"failurePolicy": "Fail", "orderedRecreate": false, "unreadyGracePeriodSeconds": 3},
                "activeDeadlineSeconds": 300, "ttlSecondsAfterFinished": 1800},
            "status": {"phase": "Completed", "completionTime": "2026-11-01T10:00:00Z",
                "containerRecreateStates": [{"name": "app", "phase": "Succeeded", "isKilled": true}]}
        }));
        same_after_round_trip::<WorkloadSpread>(json!({
            "apiVersion": "apps.kruise.io/v1alpha1", "kind": "WorkloadSpread",
            "metadata": {"name": "ws", "namespace": "default"},
            "spec": {"targetRef": {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "name": "web"},
                "subsets": [{"name": "zone-a", "maxReplicas": 3,
                    "requiredNodeSelectorTerm": {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-a"]}]},
                    "patch": {"metadata": {"labels": {"zone": "a"}}}},
                    {"name": "zone-b"}],
                "scheduleStrategy": {"type": "Adaptive", "adaptive": {"rescheduleCriticalSeconds": 30}}},
            "status": {"observedGeneration": 1, "subsetStatuses": [{"name": "zone-a", "replicas": 3, "missingReplicas": 0,
                "creatingPods": {"web-x": "2026-11-01T10:00:00Z"}}, {"name": "zone-b", "replicas": 1, "missingReplicas": -1}]}
        }));
        same_after_round_trip::<PodUnavailableBudget>(json!({
            "apiVersion": "policy.kruise.io/v1alpha1", "kind": "PodUnavailableBudget",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"targetRef": {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "name": "web"}, "maxUnavailable": "25%"},
            "status": {"observedGeneration": 1, "unavailableAllowed": 1, "currentAvailable": 4, "desiredAvailable": 3,
                "totalReplicas": 4, "disruptedPods": {"web-x": "2026-11-01T10:00:00Z"}}
        }));
        same_after_round_trip::<SidecarSet>(json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "SidecarSet", "metadata": {"name": "log"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}},
                "containers": [{"name": "log", "image": "busybox", "command": ["sleep", "1d"],
                    "volumeMounts": [{"name": "logs", "mountPath": "/logs"}],
                    "podInjectPolicy": "AfterAppContainer", "upgradeStrategy": {"upgradeType": "ColdUpgrade"},
                    "shareVolumePolicy": {"type": "disabled"},
                    "transferEnv": [{"sourceContainerName": "app", "envName": "TZ"}]}],
                "volumes": [{"name": "logs", "emptyDir": {}}],
                "updateStrategy": {"type": "RollingUpdate", "partition": "90%", "maxUnavailable": 1,
                    "scatterStrategy": [{"key": "zone", "value": "a"}]},
                "injectionStrategy": {"revision": {"customVersion": "v1", "policy": "Partial"}}},
            "status": {"observedGeneration": 1, "matchedPods": 4, "updatedPods": 1, "readyPods": 4,
                "updatedReadyPods": 1, "latestRevision": "log-7d9", "collisionCount": 0}
        }));
    }
}
