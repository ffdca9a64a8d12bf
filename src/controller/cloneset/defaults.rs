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

use crate::controller::goencode::{self, quantity::Quantity};

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

/// Go's `if x == nil` for a pointer, map or slice field: absent or null.
fn default(m: &mut Map<String, Value>, key: &str, value: Value) {
    match m.get_mut(key) {
        Some(v) if !v.is_null() => {}
        Some(v) => *v = value,
        None => {
            m.insert(key.into(), value);
        }
    }
}

/// Go's `if x == ""` / `if x == 0` for a plain field: absent, null or the zero value.
fn default_zero(m: &mut Map<String, Value>, key: &str, value: Value) {
    let zero = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(_) => false,
    };
    if zero {
        m.insert(key.into(), value);
    }
}

fn each<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(obj)
}

/// Kruise's `SetDefaultPodSpec` (apis/apps/defaults/pod.go, v1.9.0) over the Kubernetes v1.32
/// defaulters it calls, with Kruise's twist: a regular container without `imagePullPolicy`
/// gets `Always`, so in-place image updates always pull.
pub fn pod_template(t: &mut Map<String, Value>) {
    let spec = t.entry("spec").or_insert_with(|| Value::Object(Map::new()));
    let Some(spec) = obj(spec) else { return };
    // SetDefaults_PodSpec.
    default_zero(spec, "dnsPolicy", json!("ClusterFirst"));
    default_zero(spec, "restartPolicy", json!("Always"));
    default(spec, "securityContext", json!({}));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default_zero(spec, "schedulerName", json!("default-scheduler"));
    for v in each(spec, "volumes") {
        volume(v);
    }
    for c in each(spec, "initContainers") {
        container_defaults(c);
        container_common(c);
    }
    for c in each(spec, "containers") {
        default_zero(c, "imagePullPolicy", json!("Always"));
        container_defaults(c);
        container_common(c);
    }
    for c in each(spec, "ephemeralContainers") {
        container_common(c);
    }
    if let Some(o) = spec.get_mut("overhead").and_then(obj) {
        resource_list(o);
    }
}

/// SetDefaults_Container: the image pull policy by tag, and the termination message.
fn container_defaults(c: &mut Map<String, Value>) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let policy = if image_tag(image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    default_zero(c, "imagePullPolicy", json!(policy));
    default_zero(c, "terminationMessagePath", json!("/dev/termination-log"));
    default_zero(c, "terminationMessagePolicy", json!("File"));
}

/// The tag `parsers.ParseImageName` reports: the explicit tag, `latest` when there is neither a
/// tag nor a digest, nothing for a digest-only reference or a reference it cannot parse.
fn image_tag(image: &str) -> Option<String> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or_default();
    let (repo_last, tag) = match last.split_once(':') {
        Some((r, t)) => (r, Some(t)),
        None => (last, None),
    };
    let path = name.strip_suffix(last).unwrap_or_default();
    let valid_path = {
        // The domain (a first component with '.', ':' or "localhost") may hold capitals; the
        // repository path may not.
        let mut comps: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if let Some(first) = comps.first()
            && (first.contains('.') || first.contains(':') || *first == "localhost")
        {
            comps.remove(0);
        }
        comps.push(repo_last);
        comps.iter().all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        })
    };
    let valid_tag = tag.is_none_or(|t| {
        !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && !t.starts_with(['.', '-'])
    });
    let valid_digest = digest.is_none_or(|d| {
        d.split_once(':')
            .is_some_and(|(a, h)| !a.is_empty() && h.len() >= 32)
    });
    if !valid_path || !valid_tag || !valid_digest {
        return None;
    }
    match (tag, digest) {
        (Some(t), _) => Some(t.to_string()),
        (None, None) => Some("latest".into()),
        (None, Some(_)) => None,
    }
}

/// What Kruise applies to every container kind: ports, env, resources, probes, lifecycle.
fn container_common(c: &mut Map<String, Value>) {
    for p in each(c, "ports") {
        default_zero(p, "protocol", json!("TCP"));
    }
    for e in each(c, "env") {
        if let Some(f) = e
            .get_mut("valueFrom")
            .and_then(obj)
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(obj)
        {
            field_selector(f);
        }
    }
    if let Some(r) = c.get_mut("resources").and_then(obj) {
        for key in ["limits", "requests"] {
            if let Some(l) = r.get_mut(key).and_then(obj) {
                resource_list(l);
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).and_then(obj) {
            default_zero(p, "timeoutSeconds", json!(1));
            default_zero(p, "periodSeconds", json!(10));
            default_zero(p, "successThreshold", json!(1));
            default_zero(p, "failureThreshold", json!(3));
            if let Some(h) = p.get_mut("httpGet").and_then(obj) {
                http_get(h);
            }
        }
    }
    if let Some(l) = c.get_mut("lifecycle").and_then(obj) {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = l
                .get_mut(hook)
                .and_then(obj)
                .and_then(|h| h.get_mut("httpGet"))
                .and_then(obj)
            {
                http_get(h);
            }
        }
    }
}

fn http_get(h: &mut Map<String, Value>) {
    default_zero(h, "path", json!("/"));
    default_zero(h, "scheme", json!("HTTP"));
}

fn field_selector(f: &mut Map<String, Value>) {
    default_zero(f, "apiVersion", json!("v1"));
}

/// SetDefaults_ResourceList: every quantity rounded up to milli scale, written as Go writes it.
fn resource_list(l: &mut Map<String, Value>) {
    for v in l.values_mut() {
        let raw = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Some(mut q) = Quantity::parse(raw.trim()) {
            q.round_up(-3);
            *v = Value::String(q.marshal());
        }
    }
}

/// SetDefaultPodVolumes.
fn volume(v: &mut Map<String, Value>) {
    // SetDefaults_Volume: a volume with no source at all is an emptyDir.
    let has_source = goencode::core_fields("Volume")
        .iter()
        .filter(|f| f.json != "name")
        .any(|f| v.get(&f.json).is_some_and(|s| !s.is_null()));
    if !has_source {
        v.insert("emptyDir".into(), json!({}));
    }
    if let Some(s) = v.get_mut("hostPath").and_then(obj) {
        default(s, "type", json!(""));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(s) = v.get_mut(key).and_then(obj) {
            default(s, "defaultMode", json!(420));
        }
    }
    if let Some(d) = v.get_mut("downwardAPI").and_then(obj) {
        for item in each(d, "items") {
            if let Some(f) = item.get_mut("fieldRef").and_then(obj) {
                field_selector(f);
            }
        }
    }
    if let Some(p) = v.get_mut("projected").and_then(obj) {
        for src in each(p, "sources") {
            if let Some(d) = src.get_mut("downwardAPI").and_then(obj) {
                for item in each(d, "items") {
                    if let Some(f) = item.get_mut("fieldRef").and_then(obj) {
                        field_selector(f);
                    }
                }
            }
            if let Some(t) = src.get_mut("serviceAccountToken").and_then(obj) {
                default(t, "expirationSeconds", json!(3600));
            }
        }
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
