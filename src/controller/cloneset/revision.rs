//! ControllerRevisions for CloneSet history, byte-for-byte as the operator writes them
//! (reference notes §2.2): the payload is `{"spec":{"template":{…,"$patch":"replace"}}}` with
//! sorted keys and Go's HTML escaping; the name is `<cloneset>-<hash>` where the hash is FNV-1
//! over the payload and the collision count, spelled in Kubernetes' safe alphabet.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use serde_json::{Map, Value};

use crate::api::cloneset::CloneSet;
use crate::controller::pod::keys;

/// The revision payload for a template, as canonical bytes.
pub fn payload(template: &Map<String, Value>) -> Vec<u8> {
    let mut t = template.clone();
    // Go's typed encoder always writes these two; the operator's bytes carry them.
    let meta = t
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = meta {
        m.entry("creationTimestamp").or_insert(Value::Null);
    }
    if let Some(Value::Array(cs)) = t.get_mut("spec").and_then(|s| s.get_mut("containers")) {
        for c in cs {
            if let Value::Object(c) = c {
                c.entry("resources")
                    .or_insert_with(|| Value::Object(Map::new()));
            }
        }
    }
    t.insert("$patch".into(), Value::String("replace".into()));
    let v = serde_json::json!({"spec": {"template": Value::Object(t)}});
    canonical(&v)
}

/// Sorted keys, no whitespace, `<`, `>`, `&`, U+2028 and U+2029 escaped as Go does.
pub fn canonical(v: &Value) -> Vec<u8> {
    // serde_json's Map is ordered by key (no preserve_order feature), so keys come out sorted.
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

/// FNV-1 (not 1a), 32 bits, over the payload then the decimal collision count; each decimal
/// digit of the result mapped through `bcdfghjklmnpqrstvwxz2456789`.
pub fn hash(payload: &[u8], collision_count: i32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let count = collision_count.to_string();
    for b in payload.iter().chain(count.as_bytes()) {
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(*b);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|d| ALPHABET[usize::from(d) % ALPHABET.len()] as char)
        .collect()
}

pub fn name(cloneset: &str, hash: &str) -> String {
    let mut base = cloneset;
    while base.len() > 223 {
        let mut end = 223;
        while !base.is_char_boundary(end) {
            end -= 1;
        }
        base = &base[..end];
    }
    format!("{base}-{hash}")
}

/// The payload stored in a revision, re-encoded canonically (what equality compares).
pub fn stored_payload(rev: &ControllerRevision) -> Vec<u8> {
    rev.data
        .as_ref()
        .map(|d| canonical(&d.0))
        .unwrap_or_default()
}

/// The template a revision holds.
pub fn template_of(rev: &ControllerRevision) -> Option<Map<String, Value>> {
    let mut t = rev
        .data
        .as_ref()?
        .0
        .get("spec")?
        .get("template")?
        .as_object()?
        .clone();
    t.remove("$patch");
    Some(t)
}

pub fn owner_reference(cs: &CloneSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps.kruise.io/v1alpha1".into(),
        kind: "CloneSet".into(),
        name: cs.name_any(),
        uid: cs.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Opaque hash of the volume claim templates (names and specs), empty when there are none.
pub fn vct_hash(cs: &CloneSet) -> String {
    let Some(vcts) = cs
        .spec
        .volume_claim_templates
        .as_ref()
        .filter(|v| !v.is_empty())
    else {
        return String::new();
    };
    let mut reduced: Vec<(String, Value)> = vcts
        .iter()
        .map(|v| {
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (name, v.get("spec").cloned().unwrap_or(Value::Null))
        })
        .collect();
    reduced.sort_by(|a, b| a.0.cmp(&b.0));
    let bytes = canonical(&serde_json::to_value(&reduced).unwrap_or_default());
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string()
}

/// A new revision object for the CloneSet's template.
pub fn build(cs: &CloneSet, collision_count: i32, number: i64) -> ControllerRevision {
    let bytes = payload(&cs.spec.template.0);
    let hash = hash(&bytes, collision_count);
    let mut labels: BTreeMap<String, String> = cs.spec.template.labels();
    labels.insert(keys::REVISION_HASH.into(), hash.clone());
    let mut annotations = cs.metadata.annotations.clone().unwrap_or_default();
    annotations.insert(keys::VCT_HASH.into(), vct_hash(cs));
    let data: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name(&cs.name_any(), &hash)),
            namespace: cs.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![owner_reference(cs)]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision: number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_uses_the_safe_digit_alphabet() {
        let h = hash(b"{}", 0);
        assert!(h.chars().all(|c| "456789bcdf".contains(c)), "{h}");
        assert!(!h.is_empty() && h.len() <= 10);
        assert_ne!(hash(b"{}", 0), hash(b"{}", 1));
    }

    #[test]
    fn fnv1_matches_the_reference_vector() {
        // FNV-1 32 of "a" is 0x050c5d7e = 84696446; the empty collision suffix is "0" here,
        // so check the raw function on a known input by removing that suffix effect.
        let mut h: u32 = 0x811c_9dc5;
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(b'a');
        assert_eq!(h, 0x050c_5d7e);
    }

    #[test]
    fn payload_is_sorted_escaped_and_replaces_the_template() {
        let t: Map<String, Value> = serde_json::from_str(
            r#"{"spec":{"containers":[{"name":"c","image":"a<b>&"}]},"metadata":{"labels":{"z":"1","a":"2"}}}"#,
        )
        .unwrap();
        let p = String::from_utf8(payload(&t)).unwrap();
        assert_eq!(
            p,
            r#"{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"a":"2","z":"1"}},"spec":{"containers":[{"image":"a\u003cb\u003e\u0026","name":"c","resources":{}}]}}}}"#
        );
    }

    #[test]
    fn long_names_are_cut_at_223_bytes() {
        let long = "a".repeat(300);
        assert_eq!(name(&long, "xyz").len(), 223 + 4);
    }
}
