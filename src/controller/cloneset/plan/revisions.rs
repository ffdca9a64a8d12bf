//! Revisions: the CloneSet's history, the update revision its template makes (created, or an
//! older equal one renumbered), the current revision, and the history to prune.

use k8s_openapi::api::apps::v1::ControllerRevision;

use super::super::revision;
use crate::api::cloneset::CloneSet;
use crate::controller::pod::keys;
pub(super) use crate::controller::revision::{Owner, history, resolve};

/// The CloneSet's view of the shared history resolution.
pub(super) fn owner<'a>(
    cs: &'a CloneSet,
    build: &'a dyn Fn(i32, i64) -> ControllerRevision,
) -> Owner<'a> {
    let st = cs.status.as_ref();
    Owner {
        uid: cs.metadata.uid.as_deref().unwrap_or_default(),
        selector: &cs.spec.selector,
        template: &cs.spec.template.0,
        collision_count: st.and_then(|s| s.collision_count).unwrap_or(0),
        current: st.and_then(|s| s.current_revision.as_deref()),
        build,
        renumber_annotations: [(keys::VCT_HASH.to_string(), revision::vct_hash(cs))].into(),
        history_limit: cs.spec.revision_history_limit.unwrap_or(10),
    }
}
