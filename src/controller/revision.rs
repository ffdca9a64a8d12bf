//! ControllerRevisions as the operator writes them for CloneSet and Advanced StatefulSet
//! (reference notes §2.2): the payload is `{"spec":{"template":{…,"$patch":"replace"}}}` with
//! sorted keys and Go's HTML escaping; the name is `<owner>-<hash>` where the hash is FNV-1
//! over the payload and the collision count, spelled in Kubernetes' safe alphabet.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::actions::RevisionWrite;
use super::goencode;
use super::pod;
use super::selector;

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

/// The revisions of a pass.
pub struct Revisions<'a> {
    /// Ours (or orphans) matching the selector, oldest first.
    pub owned: Vec<&'a ControllerRevision>,
    pub update: String,
    pub current: String,
    /// The write that makes `update` the newest revision, if it is not.
    pub write: Option<RevisionWrite>,
    pub collision_count: i32,
    /// The template of every revision by name, `update` included.
    pub templates: BTreeMap<String, Map<String, Value>>,
}

/// What the history of a workload is resolved from.
pub struct Owner<'a> {
    pub uid: &'a str,
    pub selector: &'a LabelSelector,
    /// The (defaulted) template.
    pub template: &'a Map<String, Value>,
    /// `status.collisionCount`.
    pub collision_count: i32,
    /// `status.currentRevision`.
    pub current: Option<&'a str>,
    /// A new revision object for the template: (collision count, number).
    pub build: &'a dyn Fn(i32, i64) -> ControllerRevision,
    /// Annotations written with a renumbered revision (CloneSet's claim-template hash).
    pub renumber_annotations: BTreeMap<String, String>,
    /// `revisionHistoryLimit`.
    pub history_limit: i32,
}

/// The revisions of a workload among the namespace's `all`.
pub fn resolve<'a>(o: &Owner, all: &'a [ControllerRevision]) -> Revisions<'a> {
    let owned = owned_revisions(o, all);
    let mut collision_count = o.collision_count;
    let mut templates: BTreeMap<String, Map<String, Value>> = owned
        .iter()
        .filter_map(|r| template_of(r).map(|t| (r.name_any(), t)))
        .collect();
    let (update, write) = update_revision(o, &owned, all, &mut collision_count, &mut templates);
    let current = current_revision(o, &owned, &update);
    Revisions {
        owned,
        update,
        current,
        write,
        collision_count,
        templates,
    }
}

/// Ours (or orphans) matching the selector, oldest first.
fn owned_revisions<'a>(o: &Owner, all: &'a [ControllerRevision]) -> Vec<&'a ControllerRevision> {
    let (uid, sel) = (o.uid, o.selector);
    let mut revs: Vec<&ControllerRevision> = all
        .iter()
        .filter(|r| {
            let refs = r.metadata.owner_references.as_deref().unwrap_or_default();
            let ctrl = refs.iter().find(|o| o.controller == Some(true));
            ctrl.is_none_or(|c| c.uid == uid)
                && selector::matches(sel, &r.labels().clone()).unwrap_or(false)
        })
        .collect();
    revs.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| {
                a.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0)
                    .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
            })
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    revs
}

/// The revision of the template: the newest one if equal, an older equal one renumbered
/// (a rollback), or a new one, named clear of every revision in the namespace (counting
/// collisions). A new revision's template joins `templates`.
fn update_revision(
    o: &Owner,
    owned: &[&ControllerRevision],
    all: &[ControllerRevision],
    collision: &mut i32,
    templates: &mut BTreeMap<String, Map<String, Value>>,
) -> (String, Option<RevisionWrite>) {
    let bytes = payload(o.template);
    let next_number = owned.last().map(|r| r.revision + 1).unwrap_or(1);
    let equal = owned.iter().rposition(|r| stored_payload(r) == bytes);
    match equal {
        Some(i) if i + 1 == owned.len() => (owned[i].name_any(), None),
        Some(i) => (
            owned[i].name_any(),
            Some(RevisionWrite::Renumber {
                name: owned[i].name_any(),
                revision: next_number,
                annotations: o.renumber_annotations.clone(),
            }),
        ),
        None => {
            let mut rev;
            loop {
                rev = (o.build)(*collision, next_number);
                let n = rev.name_any();
                if !all.iter().any(|r| r.name_any() == n) {
                    break;
                }
                *collision += 1;
            }
            let n = rev.name_any();
            // The template as the revision stores it (Go's typed form), like every other
            // revision's, so the in-place calculation compares like with like.
            if let Some(t) = template_of(&rev) {
                templates.insert(n.clone(), t);
            }
            (
                n.clone(),
                Some(RevisionWrite::Create {
                    revision: Box::new(rev),
                    name: n,
                }),
            )
        }
    }
}

/// The status's current revision while it is still in the history, else the update revision.
fn current_revision(o: &Owner, owned: &[&ControllerRevision], update: &str) -> String {
    o.current
        .filter(|c| owned.iter().any(|r| r.name_any() == *c))
        .map_or_else(|| update.to_string(), str::to_string)
}

/// History: the revisions to delete so that at most revisionHistoryLimit revisions nobody
/// uses (not the update or current revision, nor any pod's) are kept, oldest first.
pub fn history(
    o: &Owner,
    owned: &[&ControllerRevision],
    update: &str,
    current: &str,
    pods: &[Arc<Pod>],
) -> Vec<String> {
    let limit = o.history_limit.max(0) as usize;
    let live = |n: &str| {
        n == update
            || n == current
            || pods
                .iter()
                .any(|p| pod::revision_matches(pod::revision(p), n))
    };
    let non_live: Vec<String> = owned
        .iter()
        .map(|r| r.name_any())
        .filter(|n| !live(n))
        .collect();
    non_live
        .iter()
        .take(non_live.len().saturating_sub(limit))
        .cloned()
        .collect()
}
