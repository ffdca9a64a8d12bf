//! An Advanced StatefulSet's ControllerRevision: CloneSet's payload and hash (reference notes
//! §2.2, §4.4), labelled with the template's labels and the hash, annotated with the set's
//! annotations, owned by the set; no claim-template hash.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use serde_json::Value;

use crate::api::statefulset::StatefulSet;
use crate::controller::pod::keys;
use crate::controller::revision::{hash, name, payload};

pub fn owner_reference(set: &StatefulSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps.kruise.io/v1beta1".into(),
        kind: "StatefulSet".into(),
        name: set.name_any(),
        uid: set.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A new revision object for the set's template.
pub fn build(set: &StatefulSet, collision_count: i32, number: i64) -> ControllerRevision {
    let bytes = payload(&set.spec.template.0);
    let h = hash(&bytes, collision_count);
    let mut labels: BTreeMap<String, String> = set.spec.template.labels();
    labels.insert(keys::REVISION_HASH.into(), h.clone());
    let data: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name(&set.name_any(), &h)),
            namespace: set.namespace(),
            labels: Some(labels),
            annotations: Some(set.metadata.annotations.clone().unwrap_or_default()),
            owner_references: Some(vec![owner_reference(set)]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision: number,
    }
}
