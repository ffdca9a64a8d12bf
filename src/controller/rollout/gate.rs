//! What upstream's mutating webhook does to a workload whose template changes under an
//! enabled Rollout (reference notes §5.1), as one merge patch: the workload is held (paused,
//! or its partition set to hold every pod) and marked `in-progressing`, in the same write as
//! the change (our commands) or at once after it (the reconciler, for a change made behind
//! its back).

use serde_json::{Value, json};

use super::keys;
use super::workload::TargetKind;
use crate::api::rollout::Rollout;

/// An enabled Rollout gates its workload: not disabled (by phase, as the webhook reads it),
/// not being deleted, with a strategy.
pub fn gates(r: &Rollout) -> bool {
    let phase = r.status.as_ref().and_then(|s| s.phase.as_deref());
    phase != Some("Disabled")
        && !r.spec.disabled
        && r.metadata.deletion_timestamp.is_none()
        && (r.spec.strategy.canary.is_some() || r.spec.strategy.blue_green.is_some())
}

/// The annotation value naming the Rollout.
pub fn in_progressing(rollout: &str) -> String {
    json!({"rolloutName": rollout}).to_string()
}

/// The Rollout named by a workload's `in-progressing` mark, if it carries one.
pub fn held_for(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Option<String> {
    let v: Value = serde_json::from_str(annotations?.get(keys::IN_PROGRESSING)?).ok()?;
    v["rolloutName"].as_str().map(str::to_string)
}

/// The hold and mark, merged into the user's change. `stable`: the Deployment's stable
/// ReplicaSet hash (the `stable-revision` label), when there is one.
pub fn patch(kind: TargetKind, rollout: &str, stable: Option<&str>) -> Value {
    let mut meta = json!({"annotations": {keys::IN_PROGRESSING: in_progressing(rollout)}});
    match kind {
        TargetKind::Deployment => {
            if let Some(s) = stable {
                meta["labels"] = json!({keys::STABLE_REVISION: s});
            }
            json!({"metadata": meta, "spec": {"paused": true}})
        }
        TargetKind::CloneSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"partition": "100%"}}}),
        TargetKind::StatefulSet | TargetKind::AdvancedStatefulSet => json!({"metadata": meta,
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": i16::MAX}}}}),
    }
}

/// Deep-merges `b` into `a` (JSON merge patch semantics, nulls kept as deletions).
pub fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(x) if x.is_object() && v.is_object() => merge(x, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_each_kind_in_one_patch() {
        let d = patch(TargetKind::Deployment, "web", Some("abc"));
        assert_eq!(d["spec"]["paused"], true);
        assert_eq!(d["metadata"]["labels"][keys::STABLE_REVISION], "abc");
        assert_eq!(
            d["metadata"]["annotations"][keys::IN_PROGRESSING],
            r#"{"rolloutName":"web"}"#
        );
        let c = patch(TargetKind::CloneSet, "web", None);
        assert_eq!(c["spec"]["updateStrategy"]["partition"], "100%");
        let s = patch(TargetKind::AdvancedStatefulSet, "web", None);
        assert_eq!(
            s["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
            32767
        );
    }

    #[test]
    fn merge_keeps_both_sides() {
        let mut a = json!({"spec": {"template": {"x": 1}}, "metadata": {"labels": {"a": "1"}}});
        merge(&mut a, &patch(TargetKind::Deployment, "web", None));
        assert_eq!(a["spec"]["template"]["x"], 1);
        assert_eq!(a["spec"]["paused"], true);
        assert_eq!(a["metadata"]["labels"]["a"], "1");
    }
}
