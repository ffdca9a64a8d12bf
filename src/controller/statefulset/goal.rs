//! Where an Advanced StatefulSet rests, and the `rollout status` line: kubectl's StatefulSet
//! status viewer with Kruise's partition (pods kept at the old revision) and `paused`.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use super::ordinals;
use crate::api::statefulset::{StatefulSet, StatefulSetUpdateStrategyType};
use crate::controller::pod;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Progressing,
    Complete,
    /// Paused with pods still to update: nothing moves until it is resumed.
    Paused,
}

/// Whether the set rests where its spec asks: its status says so, and (unless paused) every
/// pod the rolling update reaches runs the update revision. The status alone cannot say it:
/// Kruise's partition counts pods kept at an old revision, yet in ordered mode the update
/// reaches the pods by position (every ordinal from the partition up), so after a rollback
/// the count can be met while the top ordinals still run the other revision.
pub fn at_goal(set: &StatefulSet, pods: &[Arc<Pod>]) -> bool {
    match status(set) {
        Ok((_, Phase::Paused)) => true,
        Ok((_, Phase::Complete)) => paused(set) || reached(set, pods),
        _ => false,
    }
}

fn paused(set: &StatefulSet) -> bool {
    set.spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.paused)
        .unwrap_or(false)
}

/// Every active pod at an ordinal from the partition up runs the update revision (ordered
/// mode; unordered updates count, and the status has counted).
fn reached(set: &StatefulSet, pods: &[Arc<Pod>]) -> bool {
    let ru = set
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.clone())
        .unwrap_or_default();
    if ru.unordered_update.is_some() {
        return true;
    }
    let update = set
        .status
        .as_ref()
        .and_then(|s| s.update_revision.clone())
        .unwrap_or_default();
    let partition = i64::from(ru.partition.unwrap_or(0));
    let name = set.name_any();
    pods.iter()
        .filter(|p| pod::is_active(p))
        .filter(|p| ordinals::of(&name, pod::name(p)).is_some_and(|o| i64::from(o) >= partition))
        .all(|p| pod::revision(p) == update)
}

/// The rollout status line and where it stands; an error for OnDelete, as kubectl says.
pub fn status(set: &StatefulSet) -> Result<(String, Phase), String> {
    let us = set.spec.update_strategy.clone().unwrap_or_default();
    if us.type_ == Some(StatefulSetUpdateStrategyType::OnDelete) {
        return Err("rollout status is only available for RollingUpdate strategy type".into());
    }
    let ru = us.rolling_update.unwrap_or_default();
    let st = set.status.clone().unwrap_or_default();
    let observed = st.observed_generation.unwrap_or(0);
    if observed == 0 || set.metadata.generation.unwrap_or(0) > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...".into(),
            Phase::Progressing,
        ));
    }
    let want = set.spec.replicas.unwrap_or(1);
    if st.ready_replicas < want || st.replicas > want {
        let line = if st.replicas > want {
            format!(
                "Waiting for {} pods to be terminated...",
                st.replicas - want
            )
        } else {
            format!(
                "Waiting for {} pods to be ready...",
                want - st.ready_replicas
            )
        };
        return Ok((line, Phase::Progressing));
    }
    let paused = ru.paused.unwrap_or(false);
    let partition = ru.partition.unwrap_or(0).clamp(0, want);
    let target = want - partition;
    let update_revision = st.update_revision.clone().unwrap_or_default();
    if st.updated_replicas < target {
        let line = if partition > 0 {
            format!(
                "Waiting for partitioned roll out to finish: {} out of {target} new pods have been updated...",
                st.updated_replicas
            )
        } else {
            format!(
                "waiting for statefulset rolling update to complete {} pods at revision {update_revision}...",
                st.updated_replicas
            )
        };
        let phase = if paused {
            Phase::Paused
        } else {
            Phase::Progressing
        };
        return Ok((line, phase));
    }
    if partition > 0 {
        return Ok((
            format!(
                "partitioned roll out complete: {} new pods have been updated...",
                st.updated_replicas
            ),
            Phase::Complete,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {update_revision}...",
            st.updated_replicas
        ),
        Phase::Complete,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(spec: serde_json::Value, status: serde_json::Value) -> StatefulSet {
        let mut v = json!({"metadata": {"name": "s", "generation": 2},
            "spec": {"replicas": 5, "selector": {}, "template": {}}});
        for (k, val) in spec.as_object().unwrap() {
            v["spec"][k] = val.clone();
        }
        v["status"] = status;
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn lines_in_kubectls_order_with_the_partition() {
        let s = set(json!({}), json!({"observedGeneration": 1}));
        assert_eq!(status(&s).unwrap().1, Phase::Progressing);
        let s = set(
            json!({}),
            json!({"observedGeneration": 2, "replicas": 5, "readyReplicas": 3}),
        );
        assert_eq!(status(&s).unwrap().0, "Waiting for 2 pods to be ready...");
        let part = json!({"updateStrategy": {"rollingUpdate": {"partition": 3}}});
        let s = set(
            part.clone(),
            json!({"observedGeneration": 2, "replicas": 5, "readyReplicas": 5, "updatedReplicas": 1}),
        );
        assert_eq!(
            status(&s).unwrap().0,
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."
        );
        let s = set(
            part,
            json!({"observedGeneration": 2, "replicas": 5, "readyReplicas": 5, "updatedReplicas": 2}),
        );
        assert_eq!(status(&s).unwrap().1, Phase::Complete);
        let s = set(
            json!({}),
            json!({"observedGeneration": 2, "replicas": 5, "readyReplicas": 5,
            "updatedReplicas": 5, "updateRevision": "s-1"}),
        );
        assert_eq!(
            status(&s).unwrap(),
            (
                "statefulset rolling update complete 5 pods at revision s-1...".into(),
                Phase::Complete
            )
        );
        let s = set(json!({"updateStrategy": {"type": "OnDelete"}}), json!({}));
        assert!(status(&s).is_err());
    }
}
