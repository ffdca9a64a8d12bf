//! Can a pod move from one revision to another in place, and what changes (reference notes
//! §2.5 A)? Only regular containers' images and the template's labels and annotations can;
//! anything else means the pod must be recreated.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::goencode;

/// The template annotation `rollout restart` writes.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// What an in-place update writes into the pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InPlaceChange {
    /// Container name → new image.
    pub images: BTreeMap<String, String>,
    /// Labels to set (`Some`) or remove (`None`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Option<String>>,
}

/// Why a change cannot be done in place, for `set image --inplace` and InPlaceOnly errors.
pub fn calculate(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<InPlaceChange, String> {
    // Compare the templates as upstream does, both decoded from revisions, i.e. in Go's typed
    // form: a template taken straight from the CloneSet and one read back from a revision
    // payload then differ only where the pod really changes.
    let old_v = goencode::pod_template(&Value::Object(old.clone()));
    let new_v = goencode::pod_template(&Value::Object(new.clone()));
    let patch = json_patch::diff(&old_v, &new_v);
    let mut change = InPlaceChange::default();
    for op in patch.0.iter() {
        let (kind, path) = match op {
            json_patch::PatchOperation::Add(o) => ("add", o.path.to_string()),
            json_patch::PatchOperation::Remove(o) => ("remove", o.path.to_string()),
            json_patch::PatchOperation::Replace(o) => ("replace", o.path.to_string()),
            json_patch::PatchOperation::Move(o) => ("move", o.path.to_string()),
            json_patch::PatchOperation::Copy(o) => ("copy", o.path.to_string()),
            json_patch::PatchOperation::Test(o) => ("test", o.path.to_string()),
        };
        if path.starts_with("/metadata/") || path == "/metadata" {
            continue; // collected below, as a two-way merge of labels and annotations
        }
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        let is_image = kind == "replace"
            && parts.len() == 4
            && parts[0] == "spec"
            && parts[1] == "containers"
            && parts[3] == "image";
        if !is_image {
            return Err(describe(kind, &path));
        }
        let idx: usize = parts[2].parse().map_err(|_| describe(kind, &path))?;
        let old_name = old_v
            .pointer(&format!("/spec/containers/{idx}/name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let image = new_v
            .pointer(&path)
            .and_then(Value::as_str)
            .unwrap_or_default();
        change
            .images
            .insert(old_name.to_string(), image.to_string());
    }
    for (field, out) in [
        ("labels", &mut change.labels),
        ("annotations", &mut change.annotations),
    ] {
        let get = |v: &Value| -> BTreeMap<String, String> {
            v.pointer(&format!("/metadata/{field}"))
                .and_then(|m| serde_json::from_value(m.clone()).ok())
                .unwrap_or_default()
        };
        let (o, n) = (get(&old_v), get(&new_v));
        for (k, v) in &n {
            if o.get(k) != Some(v) {
                out.insert(k.clone(), Some(v.clone()));
            }
        }
        for k in o.keys() {
            if !n.contains_key(k) {
                out.insert(k.clone(), None);
            }
        }
    }
    // `rollout restart` asks for new containers. Upstream would patch this annotation in place
    // and restart nothing; the embedded controller recreates the pods instead, so the command
    // does what it says (a deliberate difference, documented in the README).
    if change.annotations.contains_key(RESTARTED_AT) {
        return Err(format!(
            "a change of the template annotation {RESTARTED_AT} (rollout restart) needs new containers"
        ));
    }
    Ok(change)
}

fn describe(op: &str, path: &str) -> String {
    let field = path
        .trim_start_matches('/')
        .replace('/', ".")
        .replace("spec.containers.", "spec.containers[")
        .replace("spec.initContainers.", "spec.initContainers[");
    format!(
        "{op} of template {field} cannot be done in place (only container images, labels and annotations can)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn image_and_label_changes_are_in_place() {
        let old = m(
            json!({"metadata":{"labels":{"app":"a","x":"1"}},"spec":{"containers":[{"name":"nginx","image":"nginx:alpine"}]}}),
        );
        let new = m(
            json!({"metadata":{"labels":{"app":"a","y":"2"}},"spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}),
        );
        let c = calculate(&old, &new).unwrap();
        assert_eq!(
            c.images.get("nginx").map(String::as_str),
            Some("nginx:latest")
        );
        assert_eq!(c.labels.get("y"), Some(&Some("2".into())));
        assert_eq!(c.labels.get("x"), Some(&None));
    }

    #[test]
    fn env_or_new_container_is_not() {
        let old = m(json!({"spec":{"containers":[{"name":"nginx","image":"a"}]}}));
        let env = m(
            json!({"spec":{"containers":[{"name":"nginx","image":"a","env":[{"name":"X","value":"1"}]}]}}),
        );
        assert!(calculate(&old, &env).unwrap_err().contains("env"));
        let two = m(
            json!({"spec":{"containers":[{"name":"nginx","image":"a"},{"name":"b","image":"b"}]}}),
        );
        assert!(calculate(&old, &two).is_err());
    }
}
