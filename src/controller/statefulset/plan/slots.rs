//! The set's pods by ordinal (upstream `updateStatefulSet`'s first half): the replicas, one per
//! slot in range, each an existing pod or a new pod object at the revision its position asks
//! for; and the condemned, pods of a valid ordinal outside the range, highest first.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use serde_json::Value;

use super::super::{ordinals, revision};
use super::ctx::Ctx;
use crate::controller::inplace_state::rfc3339;
use crate::controller::pod::{self, keys, state};
use crate::controller::podupdate::hooked;

/// `statefulset.kubernetes.io/pod-name` and `apps.kubernetes.io/pod-index`.
pub const POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX: &str = "apps.kubernetes.io/pod-index";

/// One slot: its ordinal and its pod (a new one has no status yet).
pub(super) struct Slot {
    pub(super) ord: i64,
    pub(super) pod: Arc<Pod>,
}

pub(super) struct Split {
    pub(super) replicas: Vec<Slot>,
    pub(super) condemned: Vec<Slot>,
}

/// Sort the set's pods into replicas and condemned, and fill empty slots with new pods.
pub(super) fn split(ctx: &Ctx, pods: &[Arc<Pod>]) -> Result<Split, String> {
    let mut replicas: Vec<Slot> = Vec::new();
    let mut condemned: Vec<Slot> = Vec::new();
    for p in pods {
        let Some(ord) = ordinals::of(&ctx.name, pod::name(p)).map(i64::from) else {
            continue; // an ordinal that does not parse: ignored, as upstream
        };
        let slot = Slot {
            ord,
            pod: p.clone(),
        };
        if ctx.in_range(ord) {
            replicas.push(slot);
        } else {
            condemned.push(slot);
        }
    }
    replicas.sort_by_key(|s| s.ord);
    condemned.sort_by_key(|s| std::cmp::Reverse(s.ord));
    let mut filled: Vec<Slot> = Vec::with_capacity(ctx.replicas.max(0) as usize);
    let later_not_updated = |ord: i64| {
        replicas
            .iter()
            .filter(|s| s.ord > ord && !pod::revision_matches(pod::revision(&s.pod), &ctx.update))
            .count()
    };
    let mut existing = replicas.iter().peekable();
    for ord in (ctx.start..ctx.end).filter(|o| !ctx.reserved.has(*o)) {
        if let Some(s) = existing.next_if(|s| s.ord == ord) {
            filled.push(Slot {
                ord,
                pod: s.pod.clone(),
            });
            continue;
        }
        let rev = revision_for(ctx, &filled, later_not_updated(ord));
        let p = new_pod(ctx, ord, &rev)?;
        filled.push(Slot {
            ord,
            pod: Arc::new(p),
        });
    }
    Ok(Split {
        replicas: filled,
        condemned,
    })
}

/// `isCurrentRevisionNeeded`: the current revision for a new pod below the partition (ordered:
/// counting the slots before it; unordered: while fewer pods than the partition are not
/// updated), else the update revision; always the update revision with OnDelete.
fn revision_for(ctx: &Ctx, before: &[Slot], later_not_updated: usize) -> String {
    if ctx.on_delete {
        return ctx.update.clone();
    }
    let current = if ctx.unordered.is_none() {
        (before.len() as i64) < i64::from(ctx.partition)
    } else {
        let not_updated = later_not_updated
            + before
                .iter()
                .filter(|s| !pod::revision_matches(pod::revision(&s.pod), &ctx.update))
                .count();
        (not_updated as i64) < i64::from(ctx.partition)
    };
    if current {
        ctx.current.clone()
    } else {
        ctx.update.clone()
    }
}

/// `newStatefulSetPod` at `rev`: the revision's template, named `<set>-<ord>` with its identity
/// (pod-name and pod-index labels, hostname, subdomain), its claims mounted, its revision, its
/// lifecycle state (Normal, or PreparingNormal while a preNormal hook is not all there).
pub(super) fn new_pod(ctx: &Ctx, ord: i64, rev: &str) -> Result<Pod, String> {
    let template = ctx
        .templates
        .get(rev)
        .ok_or_else(|| format!("revision {rev} has no template"))?;
    let t: PodTemplateSpec =
        serde_json::from_value(Value::Object(template.clone())).map_err(|e| e.to_string())?;
    let name = ctx.pod_name(ord);
    let meta = t.metadata.unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(POD_NAME.into(), name.clone());
    labels.insert(POD_INDEX.into(), ord.to_string());
    labels.insert(keys::REVISION.into(), rev.into());
    let mut spec = t.spec.unwrap_or_default();
    spec.hostname = Some(name.clone());
    spec.subdomain = ctx.set.spec.service_name.clone().filter(|s| !s.is_empty());
    mount_claims(ctx, ord, &mut spec.volumes)?;
    let mut p = Pod {
        metadata: ObjectMeta {
            name: Some(name),
            generate_name: Some(format!("{}-", ctx.name)),
            namespace: ctx.set.namespace(),
            labels: Some(labels),
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![revision::owner_reference(ctx.set)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    };
    let pre_normal = ctx.pods().pre_normal().cloned();
    let st = if pre_normal.is_none() || hooked(&p, pre_normal.as_ref(), true) {
        state::NORMAL
    } else {
        state::PREPARING_NORMAL
    };
    p.labels_mut().insert(keys::STATE.into(), st.into());
    p.annotations_mut()
        .insert(keys::STATE_TIMESTAMP.into(), rfc3339(ctx.now));
    Ok(p)
}

/// `updateStorage`: one volume per claim template, named as the template, on the claim
/// `<template>-<set>-<ord>`, ahead of the template's other volumes.
fn mount_claims(ctx: &Ctx, ord: i64, volumes: &mut Option<Vec<Volume>>) -> Result<(), String> {
    let claims = claims(ctx, ord)?;
    let mut out: Vec<Volume> = claims
        .iter()
        .map(|(vname, c)| Volume {
            name: vname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: c.name_any(),
                read_only: Some(false),
            }),
            ..Default::default()
        })
        .collect();
    for v in volumes.take().into_iter().flatten() {
        if !claims.iter().any(|(n, _)| *n == v.name) {
            out.push(v);
        }
    }
    *volumes = (!out.is_empty()).then_some(out);
    Ok(())
}

/// `getPersistentVolumeClaims`: the claims of ordinal `ord`, by template name, labelled with
/// the template's labels and the selector's matchLabels.
pub(super) fn claims(ctx: &Ctx, ord: i64) -> Result<Vec<(String, PersistentVolumeClaim)>, String> {
    let mut out = Vec::new();
    for vct in ctx.set.spec.volume_claim_templates.iter().flatten() {
        let mut claim: PersistentVolumeClaim = serde_json::from_value(vct.clone())
            .map_err(|e| format!("volumeClaimTemplates: {e}"))?;
        let vname = claim.metadata.name.clone().unwrap_or_default();
        let mut labels = claim.metadata.labels.take().unwrap_or_default();
        labels.extend(
            ctx.set
                .spec
                .selector
                .match_labels
                .clone()
                .unwrap_or_default(),
        );
        claim.metadata = ObjectMeta {
            name: Some(format!("{vname}-{}-{ord}", ctx.name)),
            namespace: ctx.set.namespace(),
            labels: Some(labels),
            annotations: claim.metadata.annotations.take(),
            ..Default::default()
        };
        claim.status = None;
        out.push((vname, claim));
    }
    Ok(out)
}
