//! Revisions: the CloneSet's history, the update revision its template makes (created, or an
//! older equal one renumbered), the current revision, and the history to prune.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::super::revision;
use super::RevisionWrite;
use crate::api::cloneset::CloneSet;
use crate::controller::pod::{self, keys};
use crate::controller::selector;

/// The revisions of a pass.
pub(super) struct Revisions<'a> {
    /// Ours (or orphans) matching the selector, oldest first.
    pub(super) owned: Vec<&'a ControllerRevision>,
    pub(super) update: String,
    pub(super) current: String,
    /// The write that makes `update` the newest revision, if it is not.
    pub(super) write: Option<RevisionWrite>,
    pub(super) collision_count: i32,
    /// The template of every revision by name, `update` included.
    pub(super) templates: BTreeMap<String, Map<String, Value>>,
}

/// The revisions of `cs` (defaulted) among the namespace's `all`.
pub(super) fn resolve<'a>(cs: &CloneSet, all: &'a [ControllerRevision]) -> Revisions<'a> {
    let owned = owned_revisions(cs, all);
    let mut collision_count = cs
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let mut templates: BTreeMap<String, Map<String, Value>> = owned
        .iter()
        .filter_map(|r| revision::template_of(r).map(|t| (r.name_any(), t)))
        .collect();
    let (update, write) = update_revision(cs, &owned, all, &mut collision_count, &mut templates);
    let current = current_revision(cs, &owned, &update);
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
fn owned_revisions<'a>(
    cs: &CloneSet,
    all: &'a [ControllerRevision],
) -> Vec<&'a ControllerRevision> {
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    let sel = &cs.spec.selector;
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
    cs: &CloneSet,
    owned: &[&ControllerRevision],
    all: &[ControllerRevision],
    collision: &mut i32,
    templates: &mut BTreeMap<String, Map<String, Value>>,
) -> (String, Option<RevisionWrite>) {
    let bytes = revision::payload(&cs.spec.template.0);
    let next_number = owned.last().map(|r| r.revision + 1).unwrap_or(1);
    let equal = owned
        .iter()
        .rposition(|r| revision::stored_payload(r) == bytes);
    match equal {
        Some(i) if i + 1 == owned.len() => (owned[i].name_any(), None),
        Some(i) => (
            owned[i].name_any(),
            Some(RevisionWrite::Renumber {
                name: owned[i].name_any(),
                revision: next_number,
                annotations: [(keys::VCT_HASH.to_string(), revision::vct_hash(cs))].into(),
            }),
        ),
        None => {
            let mut rev;
            loop {
                rev = revision::build(cs, *collision, next_number);
                let n = rev.name_any();
                if !all.iter().any(|r| r.name_any() == n) {
                    break;
                }
                *collision += 1;
            }
            let n = rev.name_any();
            // The template as the revision stores it (Go's typed form), like every other
            // revision's, so the in-place calculation compares like with like.
            if let Some(t) = revision::template_of(&rev) {
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
fn current_revision(cs: &CloneSet, owned: &[&ControllerRevision], update: &str) -> String {
    cs.status
        .as_ref()
        .and_then(|s| s.current_revision.clone())
        .filter(|c| owned.iter().any(|r| &r.name_any() == c))
        .unwrap_or_else(|| update.to_string())
}

/// History: the revisions to delete so that at most revisionHistoryLimit revisions nobody
/// uses (not the update or current revision, nor any pod's) are kept, oldest first.
pub(super) fn history(
    cs: &CloneSet,
    owned: &[&ControllerRevision],
    update: &str,
    current: &str,
    pods: &[Arc<Pod>],
) -> Vec<String> {
    let limit = cs.spec.revision_history_limit.unwrap_or(10).max(0) as usize;
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
