//! The DaemonSet's history (reference notes §5.4; upstream `daemonset_history.go`): the
//! revisions it owns (or orphans matching its selector), the one whose payload bytes equal the
//! template's (the update revision, renumbered to the newest if older; created if none),
//! duplicates of it dropped, and the old revisions to prune.
//!
//! The payload is upstream's (`{"spec":{"template":{…,"$patch":"replace"}}}`, Go's key order);
//! the hash is not: upstream hashes a spew dump of the Go struct, which cannot be reproduced
//! outside Go, so ours is FNV-1 over the payload and the collision count (the CloneSet's),
//! spelled in the same safe alphabet. Matching never reads the hash, only the bytes, so
//! revisions written by the operator are recognised all the same.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::{Action, Ctx, HASH_LABEL, PodMarks, RevisionWrite};
use crate::api::daemonset::DaemonSet;
use crate::controller::{pod, revision, selector};

/// The revisions of a pass.
pub(in crate::controller::daemonset) struct Revisions<'a> {
    /// The update revision's hash (its `controller-revision-hash` label, or its name).
    pub hash: String,
    /// Its name.
    pub name: String,
    /// The other revisions, by revision number.
    pub old: Vec<&'a ControllerRevision>,
    pub write: Option<RevisionWrite>,
    /// Revisions equal to the update revision but older: deleted.
    pub duplicates: Vec<String>,
    pub collision_count: i32,
    /// Every revision's template by name (the update revision's included).
    pub templates: BTreeMap<String, Map<String, Value>>,
    /// The hash of each revision by name.
    pub hashes: BTreeMap<String, String>,
    /// The hashes of the DaemonSet's pods.
    pub live: Vec<String>,
}

pub fn owner_reference(ds: &DaemonSet) -> OwnerReference {
    OwnerReference {
        api_version: "apps.kruise.io/v1beta1".into(),
        kind: "DaemonSet".into(),
        name: ds.name_any(),
        uid: ds.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A revision's hash: its label, or (a revision from before the label) its name.
pub fn hash_of(r: &ControllerRevision) -> String {
    r.labels()
        .get(HASH_LABEL)
        .cloned()
        .unwrap_or_else(|| r.name_any())
}

/// Ours (or orphans) matching the selector, by revision number (then age, then name).
fn owned<'a>(ds: &DaemonSet, all: &'a [ControllerRevision]) -> Vec<&'a ControllerRevision> {
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let mut revs: Vec<&ControllerRevision> = all
        .iter()
        .filter(|r| {
            let refs = r.metadata.owner_references.as_deref().unwrap_or_default();
            let ctrl = refs.iter().find(|o| o.controller == Some(true));
            ctrl.is_none_or(|c| c.uid == uid)
                && selector::matches(&ds.spec.selector, r.labels()).unwrap_or(false)
        })
        .collect();
    revs.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| a.creation_timestamp().cmp(&b.creation_timestamp()))
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
    revs
}

/// A new revision of the template.
pub fn build(ds: &DaemonSet, payload: &[u8], collision: i32, number: i64) -> ControllerRevision {
    let hash = revision::hash(payload, collision);
    let mut labels = ds.spec.template.labels();
    labels.insert(HASH_LABEL.into(), hash.clone());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision::name(&ds.name_any(), &hash)),
            namespace: ds.namespace(),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone(),
            owner_references: Some(vec![owner_reference(ds)]),
            ..Default::default()
        },
        data: Some(RawExtension(
            serde_json::from_slice(payload).unwrap_or(Value::Null),
        )),
        revision: number,
    }
}

/// constructHistory: the update revision among the namespace's `all`, and the writes it
/// takes; pods of a dropped duplicate are relabelled to the kept one.
pub(in crate::controller::daemonset) fn resolve<'a>(
    ds: &DaemonSet,
    all: &'a [ControllerRevision],
    pods: &[&Pod],
    actions: &mut Vec<Action>,
) -> Revisions<'a> {
    let owned = owned(ds, all);
    let payload = revision::payload(&ds.spec.template.0);
    let (current, old): (Vec<_>, Vec<_>) = owned
        .into_iter()
        .partition(|r| revision::stored_payload(r) == payload);
    let next = old.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let mut collision_count = ds
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let mut templates: BTreeMap<String, Map<String, Value>> = old
        .iter()
        .chain(current.iter())
        .filter_map(|r| revision::template_of(r).map(|t| (r.name_any(), t)))
        .collect();
    let mut hashes: BTreeMap<String, String> = old
        .iter()
        .chain(current.iter())
        .map(|r| (r.name_any(), hash_of(r)))
        .collect();
    let (name, write, duplicates) = match current.iter().max_by_key(|r| r.revision) {
        Some(keep) => {
            let dups = duplicates(&current, keep, pods, actions);
            let write = (keep.revision < next).then(|| RevisionWrite::Renumber {
                name: keep.name_any(),
                revision: next,
                annotations: BTreeMap::new(),
            });
            (keep.name_any(), write, dups)
        }
        None => {
            let rev = loop {
                let rev = build(ds, &payload, collision_count, next);
                if !all.iter().any(|r| r.name_any() == rev.name_any()) {
                    break rev;
                }
                collision_count += 1;
            };
            if let Some(t) = revision::template_of(&rev) {
                templates.insert(rev.name_any(), t);
            }
            hashes.insert(rev.name_any(), hash_of(&rev));
            let name = rev.name_any();
            let write = RevisionWrite::Create {
                revision: Box::new(rev),
                name: name.clone(),
            };
            (name, Some(write), Vec::new())
        }
    };
    Revisions {
        hash: hashes.get(&name).cloned().unwrap_or_default(),
        name,
        old,
        write,
        duplicates,
        collision_count,
        templates,
        hashes,
        live: pods.iter().map(|p| pod::revision(p).to_string()).collect(),
    }
}

/// dedupCurHistories: revisions equal to `keep` other than it are deleted; the pods that carry
/// their hash are relabelled with `keep`'s first. (Upstream relabels every pod whose hash is
/// not `keep`'s, old revisions' included, which would count them updated; we relabel only the
/// duplicates' pods.)
fn duplicates(
    current: &[&ControllerRevision],
    keep: &ControllerRevision,
    pods: &[&Pod],
    actions: &mut Vec<Action>,
) -> Vec<String> {
    let keep_hash = hash_of(keep);
    let dups: Vec<&&ControllerRevision> = current
        .iter()
        .filter(|r| r.name_any() != keep.name_any())
        .collect();
    for p in pods {
        if dups.iter().any(|d| hash_of(d) == pod::revision(p)) {
            let mut marks = PodMarks::default();
            marks
                .labels
                .insert(HASH_LABEL.into(), Some(keep_hash.clone()));
            actions.push(Action::Mark {
                pod: pod::name(p).into(),
                reason: "relabel to the kept revision",
                marks,
            });
        }
    }
    dups.iter().map(|d| d.name_any()).collect()
}

/// cleanupHistory: the oldest old revisions no pod carries, beyond revisionHistoryLimit.
pub(in crate::controller::daemonset) fn history(cx: &Ctx, revs: &Revisions) -> Vec<String> {
    let limit = cx.ds.spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    let mut to_kill = revs.old.len().saturating_sub(limit);
    let mut out = revs.duplicates.clone();
    for r in &revs.old {
        if to_kill == 0 {
            break;
        }
        if revs.live.contains(&hash_of(r)) {
            continue;
        }
        out.push(r.name_any());
        to_kill -= 1;
    }
    out
}
