//! The claims' owner references under `persistentVolumeClaimRetentionPolicy` (upstream
//! `claimOwnerMatchesSetAndPod` / `updateClaimOwnerRefForSetAndPod`): a claim is owned by the
//! set when it goes with the set, by its pod when it goes with a scale-in, by neither when
//! retained; and a claim still owned by a previous pod of the ordinal is stale.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;

use super::ctx::{Ctx, Out};
use super::slots;
use crate::api::statefulset::PersistentVolumeClaimRetentionPolicyType as Retention;
use crate::controller::actions::Action;
use crate::controller::pod;

/// `PodClaimIsStale`: with whenScaled Delete, a claim of the ordinal owned by a pod of the same
/// name but another UID waits for the garbage collector before the pod is recreated.
pub(super) fn stale(ctx: &Ctx, ord: i64, p: &Pod) -> bool {
    if ctx.when_scaled == Retention::Retain {
        return false;
    }
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let name = pod::name(p);
    claim_names(ctx, ord).iter().any(|n| {
        ctx.pvcs.get(n).is_some_and(|c| {
            c.owner_references()
                .iter()
                .any(|r| r.name == name && r.uid != uid)
        })
    })
}

fn claim_names(ctx: &Ctx, ord: i64) -> Vec<String> {
    slots::claims(ctx, ord)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, c)| c.metadata.name)
        .collect()
}

/// Hand each existing claim of the pod's ordinal the owner references the policy asks for;
/// `in_range`: the pod is a replica (else it is being scaled in).
pub(super) fn retain(ctx: &Ctx, ord: i64, p: &Pod, in_range: bool, out: &mut Out) {
    let Some(pod_uid) = p.metadata.uid.clone() else {
        return;
    };
    for n in claim_names(ctx, ord) {
        let Some(c) = ctx.pvcs.get(&n) else { continue };
        let want = wanted(ctx, c, pod::name(p), &pod_uid, in_range);
        if want != c.owner_references() {
            out.actions.push(Action::ReownPvc {
                pvc: n.clone(),
                pod: pod::name(p).to_string(),
                resource_version: c.resource_version().unwrap_or_default(),
                owner_references: want,
            });
        }
    }
}

fn wanted(
    ctx: &Ctx,
    c: &PersistentVolumeClaim,
    pod_name: &str,
    pod_uid: &str,
    in_range: bool,
) -> Vec<OwnerReference> {
    let set_uid = ctx.set.metadata.uid.clone().unwrap_or_default();
    let (by_set, by_pod) = match (ctx.when_scaled, ctx.when_deleted) {
        (Retention::Retain, Retention::Retain) => (false, false),
        (Retention::Retain, Retention::Delete) => (true, false),
        (Retention::Delete, Retention::Retain) => (false, !in_range),
        (Retention::Delete, Retention::Delete) => (in_range, !in_range),
    };
    let mut refs: Vec<OwnerReference> = c
        .owner_references()
        .iter()
        .filter(|r| r.uid != set_uid && r.uid != pod_uid)
        .cloned()
        .collect();
    let keep = |uid: &str| c.owner_references().iter().find(|r| r.uid == uid).cloned();
    if by_set {
        refs.push(keep(&set_uid).unwrap_or_else(|| OwnerReference {
            api_version: "apps.kruise.io/v1beta1".into(),
            kind: "StatefulSet".into(),
            name: ctx.name.clone(),
            uid: set_uid.clone(),
            ..Default::default()
        }));
    }
    if by_pod {
        refs.push(keep(pod_uid).unwrap_or_else(|| OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: pod_name.to_string(),
            uid: pod_uid.to_string(),
            ..Default::default()
        }));
    }
    // Upstream appends and removes in place: a claim whose references are already right,
    // in whatever order, is left alone.
    let key = |r: &OwnerReference| r.uid.clone();
    let (mut have, mut want) = (c.owner_references().to_vec(), refs.clone());
    have.sort_by_key(key);
    want.sort_by_key(key);
    if have == want {
        c.owner_references().to_vec()
    } else {
        refs
    }
}
