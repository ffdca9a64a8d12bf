//! What an in-place update writes into a pod, as upstream's in-place engine writes it (OpenKruise
//! v1.9.0 `pkg/util/inplaceupdate`): the `apps.kruise.io/inplace-update-state` annotation, and,
//! while a grace period runs, the update spec in `apps.kruise.io/inplace-update-grace`.
//!
//! One pure implementation, used by the controller's writes (`sync`) and by the imagined cluster
//! of the plan preview, so both change a pod the same way:
//! - [`begin`]: the update itself: new revision labels, state `Updating`, the state annotation;
//!   then either the change applied at once ([`patch_spec_to_pod`]) or, with a grace period, the
//!   whole change (images *and* template metadata) parked in the grace annotation;
//! - [`finish_grace`]: the grace period is over: the parked change is applied.
//!
//! The JSON shapes are upstream's, so an operator installed later reads them as its own.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::inplace::InPlaceChange;
use crate::controller::pod::{self, keys, state};

/// `apps.kruise.io/inplace-update-state` (upstream's InPlaceUpdateState; fields we do not
/// write are kept when read back).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InPlaceState {
    pub revision: String,
    pub update_timestamp: String,
    /// Not omitempty upstream: written as null until the change is applied.
    pub last_container_statuses: Option<BTreeMap<String, ImageId>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update_images: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_batches_record: Vec<ContainerBatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ImageId {
    #[serde(rename = "imageID", default)]
    pub image_id: String,
}

/// One batch of containers updated together (InPlaceUpdateContainerBatch).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ContainerBatch {
    pub timestamp: String,
    pub containers: Vec<String>,
}

/// `apps.kruise.io/inplace-update-grace`: upstream's UpdateSpec, parked while the grace period
/// runs. `metaDataPatch` is a strategic-merge patch of the template's labels and annotations,
/// base64 in JSON (a Go `[]byte`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InPlaceGrace {
    pub revision: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub container_images: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub meta_data_patch: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub grace_seconds: i32,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

impl InPlaceGrace {
    /// The parked form of `change` towards revision `to`.
    pub fn of(to: &str, change: &InPlaceChange, grace_seconds: i32) -> InPlaceGrace {
        InPlaceGrace {
            revision: to.into(),
            container_images: change.images.clone(),
            meta_data_patch: metadata_patch(change)
                .map(|p| base64::engine::general_purpose::STANDARD.encode(p))
                .unwrap_or_default(),
            grace_seconds,
        }
    }

    /// The change it parks (a patch it cannot read counts as no metadata change).
    pub fn change(&self) -> InPlaceChange {
        let mut change = InPlaceChange {
            images: self.container_images.clone(),
            ..Default::default()
        };
        let patch: Option<Value> = base64::engine::general_purpose::STANDARD
            .decode(&self.meta_data_patch)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        let read = |v: Option<&Value>| -> BTreeMap<String, Option<String>> {
            v.and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().map(String::from)))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(p) = patch {
            change.labels = read(p.pointer("/metadata/labels"));
            change.annotations = read(p.pointer("/metadata/annotations"));
        }
        change
    }
}

/// CreateTwoWayMergePatch of the template metadata: `{"metadata":{"annotations":{…},
/// "labels":{…}}}`, null for a removed key, keys sorted as Go writes a map.
fn metadata_patch(change: &InPlaceChange) -> Option<Vec<u8>> {
    if change.labels.is_empty() && change.annotations.is_empty() {
        return None;
    }
    let mut meta = serde_json::Map::new();
    if !change.annotations.is_empty() {
        meta.insert("annotations".into(), json!(change.annotations));
    }
    if !change.labels.is_empty() {
        meta.insert("labels".into(), json!(change.labels));
    }
    serde_json::to_vec(&json!({ "metadata": meta })).ok()
}

/// RFC 3339 at whole seconds, as metav1.Time writes it.
pub fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// Set (`Some`) or remove (`None`) keys of a label or annotation map.
pub fn set_meta(
    map: &mut Option<BTreeMap<String, String>>,
    changes: &BTreeMap<String, Option<String>>,
) {
    let m = map.get_or_insert_with(BTreeMap::new);
    for (k, v) in changes {
        match v {
            Some(v) => m.insert(k.clone(), v.clone()),
            None => m.remove(k),
        };
    }
}

fn write_state(p: &mut Pod, st: &InPlaceState) {
    p.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(
            keys::INPLACE_STATE.into(),
            serde_json::to_string(st).unwrap_or_default(),
        );
}

/// The in-place update of `p` to revision `to` (upstream's updatePodInPlace): revision labels,
/// lifecycle state `Updating`, the state annotation; the change applied now, or with
/// `grace_seconds > 0` (whatever it changes) parked until [`finish_grace`].
/// `template_hash`: also write `pod-template-hash` (CloneSet's revision adapter does; the
/// StatefulSet's writes `controller-revision-hash` alone). `lifecycle`: also set the state
/// `Updating` (the CloneSet's and StatefulSet's lifecycle mutator; the DaemonSet has none).
pub fn begin(
    p: &mut Pod,
    to: &str,
    template_hash: bool,
    lifecycle: bool,
    change: &InPlaceChange,
    grace_seconds: i32,
    now: Timestamp,
) {
    let mut labels = BTreeMap::new();
    labels.insert(keys::REVISION.to_string(), Some(to.to_string()));
    if template_hash {
        labels.insert(
            keys::POD_TEMPLATE_HASH.to_string(),
            Some(pod::short_hash(to).to_string()),
        );
    }
    if lifecycle {
        labels.insert(keys::STATE.to_string(), Some(state::UPDATING.to_string()));
    }
    set_meta(&mut p.metadata.labels, &labels);
    let annotations = p.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if lifecycle {
        annotations.insert(keys::STATE_TIMESTAMP.into(), rfc3339(now));
    }
    let mut st = InPlaceState {
        revision: to.into(),
        update_timestamp: rfc3339(now),
        update_images: !change.images.is_empty(),
        ..Default::default()
    };
    if grace_seconds > 0 {
        let g = InPlaceGrace::of(to, change, grace_seconds);
        annotations.insert(
            keys::INPLACE_GRACE.into(),
            serde_json::to_string(&g).unwrap_or_default(),
        );
        write_state(p, &st);
    } else {
        annotations.remove(keys::INPLACE_GRACE);
        patch_spec_to_pod(p, change, &mut st, now);
    }
}

/// The grace period is over: apply the parked change (upstream's finishGracePeriod). A pod with
/// no grace annotation is left as it is.
pub fn finish_grace(p: &mut Pod, now: Timestamp) {
    let Some(grace) = p
        .metadata
        .annotations
        .as_mut()
        .and_then(|a| a.remove(keys::INPLACE_GRACE))
    else {
        return;
    };
    let grace: InPlaceGrace = serde_json::from_str(&grace).unwrap_or_default();
    let mut st: InPlaceState = pod::annotation(p, keys::INPLACE_STATE)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| InPlaceState {
            revision: grace.revision.clone(),
            update_timestamp: rfc3339(now),
            ..Default::default()
        });
    patch_spec_to_pod(p, &grace.change(), &mut st, now);
}

/// Apply `change` to the pod (upstream's defaultPatchUpdateSpecToPod, without container launch
/// priorities, which we do not support): template metadata, images, the image IDs the changed
/// containers ran (kept if already recorded), and one container batch.
pub fn patch_spec_to_pod(
    p: &mut Pod,
    change: &InPlaceChange,
    st: &mut InPlaceState,
    now: Timestamp,
) {
    set_meta(&mut p.metadata.labels, &change.labels);
    set_meta(&mut p.metadata.annotations, &change.annotations);
    let mut updated: Vec<String> = Vec::new();
    if let Some(spec) = p.spec.as_mut() {
        for c in spec.containers.iter_mut() {
            if let Some(image) = change.images.get(&c.name) {
                c.image = Some(image.clone());
                updated.push(c.name.clone());
            }
        }
    }
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    for s in statuses.iter().filter(|s| updated.contains(&s.name)) {
        st.last_container_statuses
            .get_or_insert_with(BTreeMap::new)
            .entry(s.name.clone())
            .or_insert_with(|| ImageId {
                image_id: s.image_id.clone(),
            });
    }
    updated.sort();
    st.container_batches_record.push(ContainerBatch {
        timestamp: rfc3339(now),
        containers: updated,
    });
    write_state(p, st);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "labels": {"a": "1", "gone": "x"}},
            "spec": {"containers": [{"name": "main", "image": "i:1"}, {"name": "side", "image": "s:1"}]},
            "status": {"containerStatuses": [
                {"name": "main", "image": "i:1", "imageID": "id-1", "ready": true, "restartCount": 0},
                {"name": "side", "image": "s:1", "imageID": "sid-1", "ready": true, "restartCount": 0}]}
        }))
        .unwrap()
    }

    fn change() -> InPlaceChange {
        InPlaceChange {
            images: [("main".to_string(), "i:2".to_string())].into(),
            labels: [
                ("a".to_string(), Some("2".to_string())),
                ("gone".to_string(), None),
            ]
            .into(),
            annotations: BTreeMap::new(),
        }
    }

    fn state_of(p: &Pod) -> InPlaceState {
        serde_json::from_str(pod::annotation(p, keys::INPLACE_STATE).unwrap()).unwrap()
    }

    /// No grace: everything at once, the old image ID recorded, one batch.
    #[test]
    fn without_grace_the_change_is_applied_at_once() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut p = pod();
        begin(&mut p, "web-2", true, true, &change(), 0, now);
        assert_eq!(
            p.spec.as_ref().unwrap().containers[0].image.as_deref(),
            Some("i:2")
        );
        assert_eq!(pod::label(&p, "a"), Some("2"));
        assert_eq!(pod::label(&p, "gone"), None);
        let st = state_of(&p);
        assert_eq!(st.last_container_statuses.unwrap()["main"].image_id, "id-1");
        assert_eq!(st.container_batches_record.len(), 1);
        assert_eq!(st.container_batches_record[0].containers, vec!["main"]);
        assert!(pod::annotation(&p, keys::INPLACE_GRACE).is_none());
    }

    /// With a grace period nothing of the change is applied (metadata included), and the last
    /// statuses are recorded when the grace ends; the parked spec reads back as the change.
    #[test]
    fn with_grace_everything_waits_for_the_end() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut p = pod();
        begin(&mut p, "web-2", true, true, &change(), 5, now);
        assert_eq!(
            p.spec.as_ref().unwrap().containers[0].image.as_deref(),
            Some("i:1")
        );
        assert_eq!(pod::label(&p, "a"), Some("1"));
        assert_eq!(pod::label(&p, keys::REVISION), Some("web-2"));
        let st = state_of(&p);
        assert!(st.last_container_statuses.is_none());
        assert!(st.container_batches_record.is_empty());
        let raw = pod::annotation(&p, keys::INPLACE_GRACE)
            .unwrap()
            .to_string();
        let g: InPlaceGrace = serde_json::from_str(&raw).unwrap();
        assert_eq!(g.change(), change());
        let v: Value = serde_json::from_str(&raw).unwrap();
        let patch = base64::engine::general_purpose::STANDARD
            .decode(v["metaDataPatch"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(patch).unwrap(),
            r#"{"metadata":{"labels":{"a":"2","gone":null}}}"#
        );
        let later = now
            .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(5))
            .unwrap();
        finish_grace(&mut p, later);
        assert_eq!(
            p.spec.as_ref().unwrap().containers[0].image.as_deref(),
            Some("i:2")
        );
        assert_eq!(pod::label(&p, "a"), Some("2"));
        assert!(pod::annotation(&p, keys::INPLACE_GRACE).is_none());
        let st = state_of(&p);
        assert_eq!(st.last_container_statuses.unwrap()["main"].image_id, "id-1");
        assert_eq!(st.container_batches_record[0].timestamp, rfc3339(later));
    }

    /// A metadata-only change waits for the grace too.
    #[test]
    fn metadata_only_changes_wait_for_the_grace() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut p = pod();
        let only_meta = InPlaceChange {
            images: BTreeMap::new(),
            ..change()
        };
        begin(&mut p, "web-2", true, true, &only_meta, 5, now);
        assert_eq!(pod::label(&p, "a"), Some("1"));
        assert!(pod::annotation(&p, keys::INPLACE_GRACE).is_some());
    }
}
