//! Claim and release: which pods and PVCs are the CloneSet's, the pods it lets go because
//! their labels no longer match, and the PVCs no active pod uses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;

use super::Action;
use crate::api::cloneset::CloneSet;
use crate::controller::pod::{self, keys};
use crate::controller::selector;

/// What the CloneSet owns in a pass.
pub(super) struct Owned<'a> {
    /// Active pods whose controller is the CloneSet and whose labels still match.
    pub(super) active: Vec<&'a Pod>,
    /// PVCs owned by the CloneSet and not being deleted.
    pub(super) pvcs: Vec<&'a PersistentVolumeClaim>,
    /// With PVC reuse on, the instance ids of owned PVCs no active pod uses: new pods take them
    /// first.
    pub(super) free_ids: BTreeSet<String>,
    /// The owned PVCs by instance id.
    pub(super) pvcs_by_id: BTreeMap<String, Vec<String>>,
}

/// Sort out the pods and PVCs of `cs` (its uid) among the namespace's, and push the releases
/// and PVC hand-overs or deletes this calls for.
pub(super) fn claim<'a>(
    cs: &CloneSet,
    pods: &'a [Arc<Pod>],
    pvcs: &'a [PersistentVolumeClaim],
    actions: &mut Vec<Action>,
) -> Owned<'a> {
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    let (active, inactive) = claim_pods(cs, &uid, pods, actions);
    let pvcs = owned_pvcs(pvcs, &uid);
    let free_ids = sort_out_pvcs(cs, &uid, &pvcs, &active, &inactive, actions);
    let pvcs_by_id = pvcs_by_id(&pvcs);
    Owned {
        active,
        pvcs,
        free_ids,
        pvcs_by_id,
    }
}

/// Owned pods, claimed: the active ones whose controller is us and whose labels still match,
/// and the inactive ones; an active pod whose labels no longer match is released (unless the
/// CloneSet is being deleted).
fn claim_pods<'a>(
    cs: &CloneSet,
    uid: &str,
    pods: &'a [Arc<Pod>],
    actions: &mut Vec<Action>,
) -> (Vec<&'a Pod>, Vec<&'a Pod>) {
    let sel = &cs.spec.selector;
    let mut active: Vec<&Pod> = Vec::new();
    let mut inactive: Vec<&Pod> = Vec::new();
    for p in pods.iter().map(|p| p.as_ref()) {
        let refs = p.metadata.owner_references.as_deref().unwrap_or_default();
        if !refs.iter().any(|r| r.uid == uid) {
            continue;
        }
        if !pod::is_active(p) {
            inactive.push(p);
            continue;
        }
        // Only the pods we control are ours: a pod that merely refers to us (no controller
        // flag) would otherwise be released every pass by a patch that changes nothing.
        let ctrl = refs.iter().find(|r| r.controller == Some(true));
        if ctrl.is_none_or(|c| c.uid != uid) {
            continue;
        }
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if !selector::matches(sel, &labels).unwrap_or(false) {
            if cs.metadata.deletion_timestamp.is_none() {
                actions.push(Action::Release {
                    pod: pod::name(p).into(),
                });
            }
            continue;
        }
        active.push(p);
    }
    (active, inactive)
}

/// PVCs owned by the CloneSet.
fn owned_pvcs<'a>(pvcs: &'a [PersistentVolumeClaim], uid: &str) -> Vec<&'a PersistentVolumeClaim> {
    pvcs.iter()
        .filter(|c| {
            c.metadata.deletion_timestamp.is_none()
                && c.metadata
                    .owner_references
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .any(|r| r.uid == uid)
        })
        .collect()
}

/// The owned PVCs of instance ids no active pod has: with PVC reuse on, their ids are free
/// for new pods (returned); with it off, each goes to its inactive pod, or is deleted.
fn sort_out_pvcs(
    cs: &CloneSet,
    uid: &str,
    owned: &[&PersistentVolumeClaim],
    active: &[&Pod],
    inactive: &[&Pod],
    actions: &mut Vec<Action>,
) -> BTreeSet<String> {
    let active_ids: BTreeSet<String> = active
        .iter()
        .filter_map(|p| pod::label(p, keys::INSTANCE_ID).map(String::from))
        .collect();
    let reuse = !cs
        .spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.disable_pvc_reuse)
        .unwrap_or(false);
    let mut free_ids: BTreeSet<String> = BTreeSet::new();
    for c in owned {
        let id = c
            .labels()
            .get(keys::INSTANCE_ID)
            .cloned()
            .unwrap_or_default();
        if id.is_empty() || active_ids.contains(&id) {
            continue;
        }
        if reuse {
            free_ids.insert(id);
        } else if let Some(p) = inactive
            .iter()
            .find(|p| pod::label(p, keys::INSTANCE_ID) == Some(id.as_str()))
        {
            actions.push(reown_pvc(c, p, uid));
        } else {
            actions.push(Action::DeletePvc { pvc: c.name_any() });
        }
    }
    free_ids
}

fn pvcs_by_id(owned: &[&PersistentVolumeClaim]) -> BTreeMap<String, Vec<String>> {
    owned.iter().fold(BTreeMap::new(), |mut m, c| {
        if let Some(id) = c.labels().get(keys::INSTANCE_ID) {
            m.entry(id.clone())
                .or_insert_with(Vec::new)
                .push(c.name_any());
        }
        m
    })
}

/// updateClaimOwnerRefToPod: the CloneSet's reference out, the pod's in.
fn reown_pvc(c: &PersistentVolumeClaim, p: &Pod, cloneset_uid: &str) -> Action {
    let mut refs: Vec<OwnerReference> = c
        .metadata
        .owner_references
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.uid != cloneset_uid)
        .collect();
    refs.push(OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: pod::name(p).into(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        ..Default::default()
    });
    Action::ReownPvc {
        pvc: c.name_any(),
        pod: pod::name(p).into(),
        resource_version: c.resource_version().unwrap_or_default(),
        owner_references: refs,
    }
}
