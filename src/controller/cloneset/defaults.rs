//! The defaults OpenKruise's mutating webhook writes into a CloneSet (reference notes §3.3).
//! Without the operator nobody else applies them, and the revision hash is computed from the
//! stored template, so the embedded controller persists them exactly once, the way the webhook
//! would have at creation.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Map, Value, json};

use crate::api::cloneset::{
    CloneSet, CloneSetScaleStrategy, CloneSetUpdateStrategy, CloneSetUpdateStrategyType,
};
use crate::api::common::InPlaceUpdateStrategy;

/// The spec with the webhook's defaults filled in.
pub fn apply(cs: &CloneSet) -> CloneSet {
    let mut cs = cs.clone();
    let spec = &mut cs.spec;
    spec.replicas.get_or_insert(1);
    spec.revision_history_limit.get_or_insert(10);
    let us = spec
        .update_strategy
        .get_or_insert_with(CloneSetUpdateStrategy::default);
    let t = *us.type_.get_or_insert(CloneSetUpdateStrategyType::ReCreate);
    us.partition.get_or_insert(IntOrString::Int(0));
    us.max_unavailable
        .get_or_insert(IntOrString::String("20%".into()));
    us.max_surge.get_or_insert(IntOrString::Int(0));
    if matches!(
        t,
        CloneSetUpdateStrategyType::InPlaceIfPossible | CloneSetUpdateStrategyType::InPlaceOnly
    ) {
        us.in_place_update_strategy
            .get_or_insert_with(InPlaceUpdateStrategy::default);
    }
    if spec.scale_strategy.is_none() {
        spec.scale_strategy = Some(CloneSetScaleStrategy::default());
    }
    pod_template(&mut spec.template.0);
    cs
}

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

fn default(m: &mut Map<String, Value>, key: &str, value: Value) {
    m.entry(key).or_insert(value);
}

/// Kubernetes' own pod defaults, with Kruise's twist: a regular container without
/// `imagePullPolicy` gets `Always`, so in-place image updates always pull.
pub fn pod_template(t: &mut Map<String, Value>) {
    let spec = t.entry("spec").or_insert_with(|| Value::Object(Map::new()));
    let Some(spec) = obj(spec) else { return };
    default(spec, "restartPolicy", json!("Always"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "securityContext", json!({}));
    default(spec, "schedulerName", json!("default-scheduler"));
    for (key, regular) in [("containers", true), ("initContainers", false)] {
        if let Some(Value::Array(cs)) = spec.get_mut(key) {
            for c in cs.iter_mut().filter_map(obj) {
                container(c, regular);
            }
        }
    }
    if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
        for v in vols.iter_mut().filter_map(obj) {
            volume(v);
        }
    }
}

fn container(c: &mut Map<String, Value>, regular: bool) {
    let policy = if regular {
        "Always"
    } else {
        let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
        let tag = image.rsplit('/').next().unwrap_or_default();
        if !image.contains('@') && (!tag.contains(':') || tag.ends_with(":latest")) {
            "Always"
        } else {
            "IfNotPresent"
        }
    };
    default(c, "imagePullPolicy", json!(policy));
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    default(c, "resources", json!({}));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for p in ports.iter_mut().filter_map(obj) {
            default(p, "protocol", json!("TCP"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(obj) {
            default(p, "timeoutSeconds", json!(1));
            default(p, "periodSeconds", json!(10));
            default(p, "successThreshold", json!(1));
            default(p, "failureThreshold", json!(3));
            if let Some(h) = p.get_mut("httpGet").and_then(obj) {
                default(h, "path", json!("/"));
                default(h, "scheme", json!("HTTP"));
            }
        }
    }
    if let Some(Value::Array(env)) = c.get_mut("env") {
        for e in env.iter_mut().filter_map(obj) {
            if let Some(f) = e
                .get_mut("valueFrom")
                .and_then(obj)
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(obj)
            {
                default(f, "apiVersion", json!("v1"));
            }
        }
    }
}

fn volume(v: &mut Map<String, Value>) {
    for (key, mode) in [("configMap", true), ("secret", true), ("projected", true)] {
        if let Some(s) = v.get_mut(key).and_then(obj)
            && mode
        {
            default(s, "defaultMode", json!(420));
        }
    }
    if let Some(s) = v.get_mut("hostPath").and_then(obj) {
        default(s, "type", json!(""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::PodTemplate;

    #[test]
    fn webhook_defaults() {
        let mut cs = CloneSet::new("web", Default::default());
        cs.spec.template = PodTemplate(
            serde_json::from_value(json!({"spec":{"containers":[{"name":"nginx","image":"nginx:alpine","ports":[{"containerPort":80}]}],
              "initContainers":[{"name":"i","image":"busybox:1"}]}}))
            .unwrap(),
        );
        let d = apply(&cs);
        assert_eq!(d.spec.replicas, Some(1));
        assert_eq!(d.spec.revision_history_limit, Some(10));
        let us = d.spec.update_strategy.unwrap();
        assert_eq!(us.type_, Some(CloneSetUpdateStrategyType::ReCreate));
        assert_eq!(us.max_unavailable, Some(IntOrString::String("20%".into())));
        let t = Value::Object(d.spec.template.0);
        assert_eq!(
            t.pointer("/spec/containers/0/imagePullPolicy"),
            Some(&json!("Always"))
        );
        assert_eq!(
            t.pointer("/spec/initContainers/0/imagePullPolicy"),
            Some(&json!("IfNotPresent"))
        );
        assert_eq!(
            t.pointer("/spec/containers/0/ports/0/protocol"),
            Some(&json!("TCP"))
        );
        // Idempotent.
        let again = apply(&apply(&cs));
        assert_eq!(again, apply(&cs));
    }
}
