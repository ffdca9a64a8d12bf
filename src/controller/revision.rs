//! ControllerRevisions as the operator writes them for CloneSet and Advanced StatefulSet
//! (reference notes §2.2): the payload is `{"spec":{"template":{…,"$patch":"replace"}}}` with
//! sorted keys and Go's HTML escaping; the name is `<owner>-<hash>` where the hash is FNV-1
//! over the payload and the collision count, spelled in Kubernetes' safe alphabet.

use k8s_openapi::api::apps::v1::ControllerRevision;
use serde_json::{Map, Value};

use super::goencode;

/// The revision payload for a template, as the operator writes it: the template decoded into
/// Go's `corev1.PodTemplateSpec` and encoded again (see `goencode`), then
/// `{"spec":{"template":{…,"$patch":"replace"}}}` written from a generic map.
pub fn payload(template: &Map<String, Value>) -> Vec<u8> {
    let mut t = goencode::pod_template(&Value::Object(template.clone()));
    if let Value::Object(m) = &mut t {
        m.insert("$patch".into(), Value::String("replace".into()));
    }
    canonical(&serde_json::json!({"spec": {"template": t}}))
}

/// Go's `encoding/json` on a generic map: sorted keys, no whitespace, `<`, `>`, `&`, U+2028
/// and U+2029 escaped, numbers printed from float64.
pub fn canonical(v: &Value) -> Vec<u8> {
    goencode::marshal_generic(v)
}

/// FNV-1 (not 1a), 32 bits, over the payload then the decimal collision count; each decimal
/// digit of the result mapped through `bcdfghjklmnpqrstvwxz2456789`.
pub fn hash(payload: &[u8], collision_count: i32) -> String {
    let count = collision_count.to_string();
    let h = fnv1_32(payload.iter().chain(count.as_bytes()).copied());
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|d| ALPHABET[usize::from(d) % ALPHABET.len()] as char)
        .collect()
}

/// 32-bit FNV-1: multiply, then xor.
pub(crate) fn fnv1_32(bytes: impl IntoIterator<Item = u8>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h = h.wrapping_mul(0x0100_0193);
        h ^= u32::from(b);
    }
    h
}

pub fn name(owner: &str, hash: &str) -> String {
    let mut base = owner;
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
