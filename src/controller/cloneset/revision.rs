//! ControllerRevisions for CloneSet history, byte-for-byte as the operator writes them
//! (reference notes §2.2): the payload is `{"spec":{"template":{…,"$patch":"replace"}}}` with
//! sorted keys and Go's HTML escaping; the name is `<cloneset>-<hash>` where the hash is FNV-1
//! over the payload and the collision count, spelled in Kubernetes' safe alphabet.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use serde_json::Value;

use crate::api::cloneset::CloneSet;
use crate::controller::pod::keys;

pub use crate::controller::revision::*;

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
    use serde_json::Map;

    #[test]
    fn hash_uses_the_safe_digit_alphabet() {
        let h = hash(b"{}", 0);
        assert!(h.chars().all(|c| "456789bcdf".contains(c)), "{h}");
        assert!(!h.is_empty() && h.len() <= 10);
        assert_ne!(hash(b"{}", 0), hash(b"{}", 1));
    }

    #[test]
    fn fnv1_matches_the_reference_vectors() {
        // Published FNV-1 32-bit test vectors.
        assert_eq!(fnv1_32(*b""), 0x811c_9dc5);
        assert_eq!(fnv1_32(*b"a"), 0x050c_5d7e);
        assert_eq!(fnv1_32(*b"foobar"), 0x31f0_b262);
    }

    #[test]
    fn hash_appends_the_collision_count_and_spells_digits_safely() {
        // fnv1("{}0") printed in decimal, each digit d mapped to ALPHABET[d % 27].
        let expected: String = fnv1_32(*b"{}0")
            .to_string()
            .bytes()
            .map(|d| b"bcdfghjklmnpqrstvwxz2456789"[usize::from(d) % 27] as char)
            .collect();
        assert_eq!(hash(b"{}", 0), expected);
        // The oracle's name for the corpus' "basic" CloneSet (tests/fixtures/revisions).
        let basic = r#"{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"basic"}},"spec":{"containers":[{"image":"nginx:alpine","imagePullPolicy":"Always","name":"nginx","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"dnsPolicy":"ClusterFirst","restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"terminationGracePeriodSeconds":30}}}}"#;
        assert_eq!(hash(basic.as_bytes(), 0), "558c5cf5d9");
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

/// The corpus in tests/fixtures/revisions: every CloneSet, defaulted and turned into a
/// revision by our code, must get the name (and the bytes) OpenKruise v1.9.0's own code gives
/// it — expected.json is written by the Go oracle in tests/oracle (see its README).
#[cfg(test)]
mod corpus {
    use std::path::Path;

    use serde::Deserialize;
    use serde_json::Value;

    use super::{build, payload};
    use crate::api::cloneset::CloneSet;
    use crate::controller::cloneset::defaults;

    #[derive(Deserialize)]
    struct Expected {
        name: String,
        revision: String,
        payload: String,
    }

    #[test]
    fn corpus_revision_names_match_the_oracle() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/revisions");
        let corpus = std::fs::read_to_string(dir.join("corpus.yaml")).unwrap();
        let expected: Vec<Expected> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let mut seen = 0;
        let mut failures = Vec::new();
        // Split as the oracle does.
        for doc in corpus.split("\n---\n") {
            let v: Value = serde_saphyr::from_str(doc).unwrap();
            if v.is_null() {
                continue;
            }
            let cs: CloneSet = serde_json::from_value(v).unwrap();
            let name = cs.metadata.name.clone().unwrap_or_default();
            let want = expected
                .iter()
                .find(|e| e.name == name)
                .unwrap_or_else(|| panic!("{name}: not in expected.json; regenerate it"));
            seen += 1;
            let cs = defaults::apply(&cs);
            let got = String::from_utf8(payload(&cs.spec.template.0)).unwrap();
            let rev = build(&cs, 0, 1).metadata.name.unwrap_or_default();
            if rev != want.revision || got != want.payload {
                failures.push(format!(
                    "{name}: got {rev}, oracle {}\n  ours:   {got}\n  oracle: {}",
                    want.revision, want.payload
                ));
            }
        }
        assert_eq!(seen, expected.len(), "corpus and expected.json disagree");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
