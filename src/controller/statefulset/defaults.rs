//! The defaults OpenKruise's webhook writes into an Advanced StatefulSet (v1.9.0
//! `SetDefaultsStatefulSet`, with the gates at their defaults: StatefulSetAutoDeletePVC on,
//! StatefulSetAutoResizePVCGate off). Without the operator nobody else applies them, and the
//! revision is computed from the stored template, so the controller writes them once.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::api::statefulset::{
    PersistentVolumeClaimRetentionPolicyType as Retention, PodManagementPolicy, PodUpdatePolicy,
    StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetUpdateStrategy,
    StatefulSetUpdateStrategyType,
};
use crate::controller::cloneset::defaults::pod_template;

/// The set with the webhook's defaults filled in.
pub fn apply(set: &StatefulSet) -> StatefulSet {
    let mut set = set.clone();
    let spec = &mut set.spec;
    spec.pod_management_policy
        .get_or_insert(PodManagementPolicy::OrderedReady);
    let us = spec
        .update_strategy
        .get_or_insert_with(StatefulSetUpdateStrategy::default);
    let t = *us
        .type_
        .get_or_insert(StatefulSetUpdateStrategyType::RollingUpdate);
    if t == StatefulSetUpdateStrategyType::RollingUpdate {
        let ru = us.rolling_update.get_or_insert_with(Default::default);
        ru.partition.get_or_insert(0);
        ru.max_unavailable.get_or_insert(IntOrString::Int(1));
        ru.pod_update_policy
            .get_or_insert(PodUpdatePolicy::ReCreate);
        ru.min_ready_seconds.get_or_insert(0);
    }
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(StatefulSetPersistentVolumeClaimRetentionPolicy::default);
    retention.when_deleted.get_or_insert(Retention::Retain);
    retention.when_scaled.get_or_insert(Retention::Retain);
    spec.replicas.get_or_insert(1);
    spec.revision_history_limit.get_or_insert(10);
    pod_template(&mut spec.template.0);
    for vct in spec.volume_claim_templates.iter_mut().flatten() {
        claim_template(vct);
    }
    set
}

/// `SetDefaults_PersistentVolumeClaim`: a claim's volumeMode is Filesystem unless given.
fn claim_template(vct: &mut Value) {
    if let Some(spec) = vct.get_mut("spec").and_then(Value::as_object_mut) {
        match spec.get("volumeMode") {
            Some(v) if !v.is_null() => {}
            _ => {
                spec.insert("volumeMode".into(), json!("Filesystem"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_defaults() {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "s"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "d"}, "spec": {}}]}
        }))
        .unwrap();
        let d = apply(&set);
        let v = serde_json::to_value(&d.spec).unwrap();
        assert_eq!(v["replicas"], 1);
        assert_eq!(v["podManagementPolicy"], "OrderedReady");
        assert_eq!(v["revisionHistoryLimit"], 10);
        let ru = &v["updateStrategy"]["rollingUpdate"];
        assert_eq!(v["updateStrategy"]["type"], "RollingUpdate");
        assert_eq!(ru["partition"], 0);
        assert_eq!(ru["maxUnavailable"], 1);
        assert_eq!(ru["podUpdatePolicy"], "ReCreate");
        assert_eq!(ru["minReadySeconds"], 0);
        assert_eq!(
            v["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(
            v["volumeClaimTemplates"][0]["spec"]["volumeMode"],
            "Filesystem"
        );
        assert_eq!(apply(&d), d, "defaults are written once");
    }

    #[test]
    fn on_delete_gets_no_rolling_update() {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "s"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "updateStrategy": {"type": "OnDelete"},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}
        }))
        .unwrap();
        let d = apply(&set);
        assert!(d.spec.update_strategy.unwrap().rolling_update.is_none());
    }
}
