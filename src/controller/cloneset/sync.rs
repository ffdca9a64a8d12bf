//! The CloneSet's own writes: the webhook defaults, `podsToDelete` pruning and the status.
//! Pod, PVC and revision writes are the shared [`podsync`].

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Patch;
use kube::{Client, ResourceExt};
use serde_json::json;

use super::plan::Plan;
use crate::api::cloneset::CloneSet;
use crate::controller::podsync::{self, Applied, SyncError, Writes, is_code, pp, rv};
use crate::controller::runtime::Expect;

pub use crate::controller::podsync::{FIELD_MANAGER, Writer};

/// Write the webhook defaults into the stored CloneSet, once.
pub async fn write_defaults(
    w: &Writer<'_>,
    cs: &CloneSet,
    defaulted: &CloneSet,
) -> Result<Expect, SyncError> {
    podsync::write_defaults(w, cs, &defaulted.spec).await
}

/// Carry out `plan` for the CloneSet; `pods` is the cache the plan was made from (by name).
pub async fn apply(
    w: &Writer<'_>,
    cs: &CloneSet,
    plan: &Plan,
    pods: &BTreeMap<String, Arc<Pod>>,
) -> Applied {
    let writes = Writes {
        revision: plan.revision.as_ref(),
        actions: &plan.actions,
        update_revision: &plan.update_revision,
        delete_revisions: &plan.delete_revisions,
    };
    let mut out = podsync::apply(w, writes, pods).await;
    prune_pods_to_delete(w, cs, plan, &mut out).await;
    out
}

async fn prune_pods_to_delete(w: &Writer<'_>, cs: &CloneSet, plan: &Plan, out: &mut Applied) {
    let Some(names) = &plan.prune_pods_to_delete else {
        return;
    };
    // Emptied, the field goes (Go's omitempty on upstream's spec update), not `[]`.
    let value = if names.is_empty() {
        json!(null)
    } else {
        json!(names)
    };
    let patch = json!({
        "metadata": {"resourceVersion": cs.resource_version()},
        "spec": {"scaleStrategy": {"podsToDelete": value}},
    });
    let name = cs.name_any();
    match w
        .api::<CloneSet>()
        .patch(&name, &pp(), &Patch::Merge(&patch))
        .await
    {
        Ok(o) => out.expect.push(Expect::at::<CloneSet>(
            &w.ns(),
            &name,
            rv(o.metadata.resource_version.as_ref()),
        )),
        Err(e) if is_code(&e, 409) => {}
        Err(e) => out.errors.push(SyncError::api(format!(
            "pruning podsToDelete of cloneset {name}"
        ))(e)),
    }
}

/// Write the status computed by the plan, whole, as upstream's status update does: a JSON
/// patch `add /status` replaces the field, so a condition or field the plan dropped is dropped
/// on the server too (a merge patch would keep what it omits).
pub async fn write_status(
    client: Client,
    cs: &CloneSet,
    status: &crate::api::cloneset::CloneSetStatus,
) -> Result<Expect, SyncError> {
    podsync::write_status(client, cs, "cloneset", status).await
}
