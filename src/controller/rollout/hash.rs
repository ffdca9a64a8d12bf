//! The hashes Kruise Rollout keeps: the plan hash (`rollouts.kruise.io/hash`), the
//! BatchRelease release-plan hash, and the canary revision of a pod template.
//!
//! Upstream hashes Go's JSON of its structs; ours hashes serde's JSON of ours, whose field
//! order differs, so the values differ from the operator's. Each is only ever compared with a
//! value this controller wrote (reference notes §8): a Rollout handed over between the two
//! sees one plan-changed recalculation, which changes nothing when the plan did not change.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::keys;
use crate::api::batchrelease::ReleasePlan;
use crate::api::rollout::RolloutStrategy;
use crate::controller::revision;

const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// apimachinery's `rand.SafeEncodeString`: every character mapped into an alphabet without
/// vowels (no words by accident).
pub fn safe_encode(s: &str) -> String {
    s.chars()
        .map(|c| ALPHANUMS[(c as usize) % ALPHANUMS.len()] as char)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `rollouts.kruise.io/hash`: the canary (or blue-green) strategy without `failureThreshold`
/// and with every step's pause emptied, so approving policy changes is not a plan change.
pub fn rollout_hash(strategy: &RolloutStrategy) -> String {
    let mut v = match (&strategy.canary, &strategy.blue_green) {
        (Some(c), _) => serde_json::to_value(c),
        (None, Some(b)) => serde_json::to_value(b),
        (None, None) => Ok(Value::Null),
    }
    .unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("failureThreshold");
        if let Some(steps) = o.get_mut("steps").and_then(Value::as_array_mut) {
            for s in steps {
                s["pause"] = serde_json::json!({});
            }
        }
    }
    safe_encode(&sha256_hex(&revision::canonical(&v)))
}

/// `status.observedReleasePlanHash`: sha256 of the whole release plan, lowercase hex.
pub fn plan_hash(plan: &ReleasePlan) -> String {
    let v = serde_json::to_value(plan).unwrap_or(Value::Null);
    sha256_hex(&revision::canonical(&v))
}

/// The canary revision of a pod template: a hash of its JSON without `pod-template-hash`
/// (upstream: kube's template hash without collision count; only compared with itself).
pub fn template_hash(template: &PodTemplateSpec) -> String {
    let mut v = serde_json::to_value(template).unwrap_or(Value::Null);
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(keys::POD_TEMPLATE_HASH);
        if labels.is_empty() {
            v["metadata"].as_object_mut().map(|m| m.remove("labels"));
        }
    }
    let h = revision::fnv1_32(revision::canonical(&v));
    safe_encode(&h.to_string())
}

/// Two templates equal but for `pod-template-hash` (a ReplicaSet's copy and its Deployment's).
pub fn same_template(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    template_hash(a) == template_hash(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rollout::{CanaryStep, CanaryStrategy, RolloutPause};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn strategy(pause: Option<i32>, threshold: Option<&str>, replicas: i32) -> RolloutStrategy {
        RolloutStrategy {
            canary: Some(CanaryStrategy {
                steps: vec![CanaryStep {
                    replicas: Some(IntOrString::Int(replicas)),
                    pause: RolloutPause { duration: pause },
                    ..Default::default()
                }],
                failure_threshold: threshold.map(|t| IntOrString::String(t.into())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn safe_encode_maps_every_character() {
        assert_eq!(safe_encode("0a"), "4v"); // 48 % 27 = 21, 97 % 27 = 16
        assert_eq!(safe_encode(""), "");
    }

    /// Pauses, the failure threshold and `paused` are not the plan; replicas are.
    #[test]
    fn rollout_hash_ignores_pauses_and_threshold() {
        let a = rollout_hash(&strategy(None, None, 1));
        assert_eq!(a, rollout_hash(&strategy(Some(5), Some("20%"), 1)));
        let mut paused = strategy(None, None, 1);
        paused.paused = Some(true);
        assert_eq!(a, rollout_hash(&paused));
        assert_ne!(a, rollout_hash(&strategy(None, None, 2)));
        assert!(a.chars().all(|c| ALPHANUMS.contains(&(c as u8))));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn template_hash_ignores_pod_template_hash() {
        let mut t = PodTemplateSpec {
            metadata: Some(Default::default()),
            ..Default::default()
        };
        let plain = template_hash(&t);
        t.metadata.as_mut().unwrap().labels =
            Some([(keys::POD_TEMPLATE_HASH.to_string(), "abc".to_string())].into());
        assert_eq!(plain, template_hash(&t));
        t.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert("app".into(), "x".into());
        assert_ne!(plain, template_hash(&t));
    }
}
