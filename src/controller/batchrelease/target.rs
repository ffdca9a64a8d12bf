//! What the BatchRelease controller reads of its workload, whatever the kind (upstream's
//! `WorkloadInfo` plus the canary Deployment of canary style), and how each kind is claimed,
//! moved batch by batch and released (reference notes §2.9). Pure.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::controller::intstr;
use crate::controller::rollout::workload::TargetKind;

/// The canary Deployment of a canary-style release.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Canary {
    pub name: String,
    pub replicas: i32,
    /// generation == observedGeneration.
    pub consistent: bool,
    /// `status.replicas` (updated) and `status.availableReplicas` (updated and ready).
    pub status_replicas: i32,
    pub available: i32,
    pub has_finalizer: bool,
    /// The `pod-template-hash` of its ReplicaSet (selects its pods).
    pub pod_hash: Option<String>,
}

/// How the release moves pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// An extra canary Deployment beside the paused stable one.
    Canary,
    /// The workload's own partition.
    Partition,
    /// The workload's own surge, new pods beside the old (Deployment, CloneSet).
    BlueGreen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    pub replicas: i32,
    /// generation == observedGeneration.
    pub consistent: bool,
    pub stable_revision: String,
    pub update_revision: String,
    pub updated: i32,
    pub updated_ready: i32,
    /// The control-info annotation names this BatchRelease.
    pub controlled: bool,
    /// The current partition (partition style).
    pub partition: Option<IntOrString>,
    /// Advanced StatefulSet / CloneSet `paused` (partition style writes `false`).
    pub paused: bool,
    /// Canary style: the stable Deployment (copied into the canary) and the canary.
    pub stable: Option<Deployment>,
    pub canary: Option<Canary>,
    /// Canary style: the stable Deployment's own rollout is complete (WaitResume).
    pub stable_rolled: bool,
    /// The label (key, value) of pods at the update revision.
    pub pod_revision: Option<(&'static str, String)>,
    /// The template is back at the stable revision while the release runs (upstream's
    /// `IsRollback`, judged by template for a Deployment).
    pub in_rollback: bool,
    /// What blue-green style reads (Deployment, CloneSet).
    pub blue_green: Option<super::bluegreen::Facts>,
}

/// Pods wanted at the update revision for a batch: ceil of the percentage, capped to
/// [0, replicas] (`CalculateBatchReplicas`).
pub fn batch_replicas(batch: &IntOrString, replicas: i32) -> i32 {
    intstr::kruise(batch, replicas, true)
        .unwrap_or(0)
        .clamp(0, replicas.max(0))
}

/// The control-info annotation value: the BatchRelease as a JSON owner reference.
pub fn control_info(name: &str, uid: &str) -> String {
    json!({
        "apiVersion": "rollouts.kruise.io/v1beta1",
        "kind": "BatchRelease",
        "name": name,
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    })
    .to_string()
}

/// Partition style's claim: control-info, and every pod held back (`Initialize`).
pub fn claim_patch(t: &Target, info: &str) -> Value {
    let meta = json!({"annotations": {crate::controller::rollout::keys::CONTROL_INFO: info}});
    match t.kind {
        TargetKind::CloneSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"paused": false, "partition": "100%"}}}),
        TargetKind::AdvancedStatefulSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": i16::MAX, "paused": false}}}}),
        TargetKind::StatefulSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": i16::MAX}}}}),
        TargetKind::Deployment => json!({"metadata": meta}),
    }
}

/// Pods kept at the stable revision now, as a count (an unset partition holds none back).
fn held(t: &Target) -> i32 {
    intstr::kruise(
        t.partition.as_ref().unwrap_or(&IntOrString::Int(0)),
        t.replicas,
        true,
    )
    .unwrap_or(0)
}

/// The CloneSet partition for `desired_update` of `replicas`, as upstream writes it: an int
/// for an int batch; for a percentage, a percentage of stable pods rounded down, never 0 %
/// unless the batch is all pods (`"1%"` keeps one stable pod).
pub fn cloneset_partition(batch: &IntOrString, desired_update: i32, replicas: i32) -> IntOrString {
    let stable = replicas - desired_update;
    match batch {
        IntOrString::Int(_) => IntOrString::Int(stable),
        IntOrString::String(s) => {
            if stable >= replicas {
                IntOrString::String("100%".into())
            } else if stable <= 0 {
                IntOrString::String("0%".into())
            } else {
                let pct = (i64::from(stable) * 100 / i64::from(replicas.max(1))) as i32;
                if pct == 0 && s != "100%" {
                    IntOrString::String("1%".into())
                } else {
                    IntOrString::String(format!("{pct}%"))
                }
            }
        }
    }
}

/// Partition style's batch move: the partition lowered to let `desired` pods update, only
/// ever lowered (`UpgradeBatch`). `None`: nothing to write.
pub fn upgrade_patch(t: &Target, batch: &IntOrString) -> Option<Value> {
    let desired = batch_replicas(batch, t.replicas);
    let partition = match t.kind {
        TargetKind::CloneSet => cloneset_partition(batch, desired, t.replicas),
        _ => IntOrString::Int(t.replicas - desired),
    };
    let new_held = intstr::kruise(&partition, t.replicas, true).unwrap_or(0);
    if new_held >= held(t) {
        return None;
    }
    let p = serde_json::to_value(&partition).ok()?;
    Some(match t.kind {
        TargetKind::CloneSet => json!({"spec": {"updateStrategy": {"partition": p}}}),
        _ => json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": p}}}}),
    })
}

/// Partition style's release: control-info always removed; the partition (and pause) cleared
/// only when the plan is finished (`batchPartition` unset).
pub fn release_patch(t: &Target, finished: bool) -> Value {
    let meta = json!({"annotations": {crate::controller::rollout::keys::CONTROL_INFO: null}});
    if !finished {
        return json!({"metadata": meta});
    }
    match t.kind {
        TargetKind::CloneSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"partition": null, "paused": false}}}),
        TargetKind::Deployment => json!({"metadata": meta}),
        _ => json!({"metadata": meta,
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": null}}}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn batch_replicas_round_up_and_cap() {
        assert_eq!(batch_replicas(&s("20%"), 5), 1);
        assert_eq!(batch_replicas(&s("20%"), 3), 1);
        assert_eq!(batch_replicas(&s("60%"), 5), 3);
        assert_eq!(batch_replicas(&IntOrString::Int(12), 10), 10);
        assert_eq!(batch_replicas(&s("bad"), 10), 0);
    }

    #[test]
    fn cloneset_partition_as_upstream() {
        assert_eq!(
            cloneset_partition(&IntOrString::Int(2), 2, 10),
            IntOrString::Int(8)
        );
        assert_eq!(cloneset_partition(&s("20%"), 2, 10), s("80%"));
        assert_eq!(cloneset_partition(&s("100%"), 10, 10), s("0%"));
        assert_eq!(cloneset_partition(&s("0%"), 0, 10), s("100%"));
        // 1 stable of 200 floors to 0 %: one stable pod stays.
        assert_eq!(cloneset_partition(&s("99.5%"), 199, 200), s("1%"));
        // ceil(33% of 10) = 4 updated, 6 stable = 60 %.
        assert_eq!(cloneset_partition(&s("33%"), 4, 10), s("60%"));
    }

    fn target(kind: TargetKind, partition: Option<IntOrString>) -> Target {
        Target {
            kind,
            name: "w".into(),
            replicas: 10,
            consistent: true,
            stable_revision: "a".into(),
            update_revision: "b".into(),
            updated: 0,
            updated_ready: 0,
            controlled: true,
            partition,
            paused: false,
            stable: None,
            canary: None,
            stable_rolled: false,
            pod_revision: None,
            in_rollback: false,
            blue_green: None,
        }
    }

    /// Partitions only ever come down: a backward jump re-routes traffic but never rolls pods
    /// back.
    #[test]
    fn partitions_only_decrease() {
        let t = target(TargetKind::CloneSet, Some(s("100%")));
        assert_eq!(
            upgrade_patch(&t, &s("20%")),
            Some(json!({"spec": {"updateStrategy": {"partition": "80%"}}}))
        );
        let t = target(TargetKind::CloneSet, Some(s("50%")));
        assert_eq!(upgrade_patch(&t, &s("20%")), None);
        let t = target(
            TargetKind::AdvancedStatefulSet,
            Some(IntOrString::Int(32767)),
        );
        assert_eq!(
            upgrade_patch(&t, &s("30%")),
            Some(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 7}}}}))
        );
        let t = target(TargetKind::StatefulSet, Some(IntOrString::Int(7)));
        assert_eq!(upgrade_patch(&t, &s("30%")), None);
    }

    #[test]
    fn release_clears_partition_only_when_finished() {
        let t = target(TargetKind::CloneSet, Some(s("80%")));
        assert_eq!(
            release_patch(&t, false),
            json!({"metadata": {"annotations": {crate::controller::rollout::keys::CONTROL_INFO: null}}})
        );
        assert_eq!(
            release_patch(&t, true)["spec"]["updateStrategy"],
            json!({"partition": null, "paused": false})
        );
    }
}
