//! The scale step (reference notes §3.8): regret PreparingDelete pods when replicas grew back,
//! create missing pods, delete the ones marked or in excess.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodReadinessGate, PodSpec,
    PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use serde_json::{Map, Value};

use super::super::revision;
use super::super::sort;
use super::ctx::{Ctx, hooked, state_marks};
use super::limits::specified;
use super::{Action, Diffs, PlanError, diffs, rfc3339};
use crate::api::cloneset::CloneSet;
use crate::controller::pod::{self, keys, state};

/// The scale step (reference notes §3.8). Returns whether anything was written.
pub(super) fn scale(
    ctx: &Ctx,
    active: &[&Pod],
    owned_pvcs: &[&PersistentVolumeClaim],
    free_ids: &mut BTreeSet<String>,
    rng: &mut fastrand::Rng,
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> Result<bool, PlanError> {
    let planned = planned_deletes(ctx, active);
    if regret(ctx, active.len() as i32, &planned, actions) {
        return Ok(true);
    }
    let d = diffs(
        &ctx.lim,
        active,
        &ctx.update,
        &ctx.pods_to_delete,
        ctx.exclude_preparing_delete,
        ctx.now,
    );
    // Upstream returns here whenever pods are missing, even when none may be created now
    // (scaleUpLimit 0: the unavailable budget is spent), and so never reaches the deletes
    // below: a PreparingDelete pod its hook has let go then holds that budget for good and the
    // release stalls. We go on to the deletes instead (see the README).
    if d.scale_up_num > 0 && d.scale_up_limit > 0 {
        if d.scale_up_limit < d.scale_up_num {
            tracing::debug!(
                cloneset = %ctx.name,
                "scale up limited to {} of {} by scaleStrategy.maxUnavailable",
                d.scale_up_limit,
                d.scale_up_num
            );
        }
        let ids = instance_ids(active, owned_pvcs, free_ids, rng, d.scale_up_limit);
        let old_n = d.scale_up_limit.min(d.scale_up_num_old).max(0) as usize;
        create_pods(ctx, &ids, old_n, owned_pvcs, actions, errors)?;
        return Ok(true);
    }
    Ok(delete(ctx, active, &planned, &d, actions))
}

/// The pods on their way out: marked to be deleted, or in PreparingDelete.
fn planned_deletes<'a>(ctx: &Ctx, active: &[&'a Pod]) -> Vec<&'a Pod> {
    active
        .iter()
        .copied()
        .filter(|p| {
            specified(p, &ctx.pods_to_delete) || pod::lifecycle_state(p) == state::PREPARING_DELETE
        })
        .collect()
}

/// Delete the `planned` pods, and with none planned the pods in excess, the ready ones as
/// deleteReadyLimit allows. Returns whether anything was written.
fn delete(
    ctx: &Ctx,
    active: &[&Pod],
    planned: &[&Pod],
    d: &Diffs,
    actions: &mut Vec<Action>,
) -> bool {
    let before = actions.len();
    // Pods already in PreparingDelete: delete once their hook lets go.
    for p in planned {
        if pod::lifecycle_state(p) == state::PREPARING_DELETE {
            delete_pod(ctx, p, "preparing delete", actions);
        }
    }
    // Specified deletes, in list order, ready ones rationed by deleteReadyLimit.
    let specified = planned
        .iter()
        .copied()
        .filter(|p| pod::lifecycle_state(p) != state::PREPARING_DELETE);
    delete_rationed(
        ctx,
        specified,
        d.delete_ready_limit,
        "specified delete",
        actions,
    );
    if d.scale_down_num > 0 && planned.is_empty() {
        let victims = scale_in_victims(ctx, active, d);
        delete_rationed(ctx, victims, d.delete_ready_limit, "scale in", actions);
    }
    actions.len() > before
}

/// `scaleStrategy.podsToDelete` without the names of pods that are gone, if it names any.
pub(super) fn pruned_pods_to_delete(cs: &CloneSet, active: &[&Pod]) -> Option<Vec<String>> {
    cs.spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.pods_to_delete.clone())
        .filter(|names| {
            names
                .iter()
                .any(|n| !active.iter().any(|p| pod::name(p) == n))
        })
        .map(|names| {
            names
                .into_iter()
                .filter(|n| active.iter().any(|p| pod::name(p) == n))
                .collect()
        })
}

/// Regret PreparingDelete pods when replicas grew back (unless a hook marks pods not ready):
/// move as many as are missing back to PreparingNormal. Returns whether any was.
fn regret(ctx: &Ctx, n: i32, planned: &[&Pod], actions: &mut Vec<Action>) -> bool {
    let mark_not_ready = ctx.pre_delete().and_then(|h| h.mark_pod_not_ready) == Some(true)
        || ctx.inplace_hook().and_then(|h| h.mark_pod_not_ready) == Some(true);
    if mark_not_ready {
        return false;
    }
    let mut diff = ctx.lim.replicas - n + planned.len() as i32;
    let mut regretted = false;
    for p in planned {
        if diff <= 0 {
            break;
        }
        if pod::lifecycle_state(p) == state::PREPARING_DELETE && !specified(p, &ctx.pods_to_delete)
        {
            actions.push(Action::Mark {
                pod: pod::name(p).into(),
                reason: "replicas grew back",
                marks: state_marks(state::PREPARING_NORMAL, ctx.now),
            });
            diff -= 1;
            regretted = true;
        }
    }
    regretted
}

/// `count` instance ids for new pods, sorted: free ones (of PVCs left behind) first, then
/// random ones no pod or PVC has.
fn instance_ids(
    active: &[&Pod],
    owned_pvcs: &[&PersistentVolumeClaim],
    free_ids: &mut BTreeSet<String>,
    rng: &mut fastrand::Rng,
    count: i32,
) -> Vec<String> {
    let mut taken: BTreeSet<String> = active
        .iter()
        .filter_map(|p| pod::label(p, keys::INSTANCE_ID).map(String::from))
        .collect();
    taken.extend(
        owned_pvcs
            .iter()
            .filter_map(|c| c.labels().get(keys::INSTANCE_ID).cloned()),
    );
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..count {
        if let Some(id) = free_ids.pop_first() {
            ids.push(id);
        } else {
            let id = instance_id(rng, &taken);
            taken.insert(id.clone());
            ids.push(id);
        }
    }
    ids.sort();
    ids
}

/// Create a pod for each id, the first `old_n` at the current revision and the rest at the
/// update revision, each with the PVCs it lacks.
fn create_pods(
    ctx: &Ctx,
    ids: &[String],
    old_n: usize,
    owned_pvcs: &[&PersistentVolumeClaim],
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> Result<(), PlanError> {
    for (i, id) in ids.iter().enumerate() {
        let rev = if i < old_n { &ctx.current } else { &ctx.update };
        let Some(template) = ctx.template_of_revision(rev) else {
            errors.push(format!("scale: revision {rev} not found"));
            break;
        };
        let (p, pvcs) = new_pod(ctx.cs, template, rev, id, ctx.now)
            .map_err(|e| PlanError::Template(ctx.name.clone(), e))?;
        let existing: BTreeSet<String> = owned_pvcs.iter().map(|c| c.name_any()).collect();
        let pvcs: Vec<PersistentVolumeClaim> = pvcs
            .into_iter()
            .filter(|c| !existing.contains(&c.name_any()))
            .collect();
        actions.push(Action::Create {
            pod: p.name_any(),
            revision: rev.clone(),
            pvcs: pvcs.iter().map(|c| c.name_any()).collect(),
            object: Box::new(p),
            pvc_objects: pvcs,
        });
    }
    Ok(())
}

/// The pods to scale in: `scaleDownNumOld` of the old revision and the rest of the new, each
/// group in deletion order.
fn scale_in_victims<'a>(ctx: &Ctx, active: &[&'a Pod], d: &Diffs) -> Vec<&'a Pod> {
    let ranks = sort::node_ranks(active);
    let (mut old, mut new): (Vec<&Pod>, Vec<&Pod>) = active
        .iter()
        .copied()
        .partition(|p| !pod::revision_matches(pod::revision(p), &ctx.update));
    let by_deletion = |v: &mut Vec<&Pod>| {
        v.sort_by(|a, b| sort::deletion(a, b, &ranks, ctx.lim.min_ready, ctx.now));
    };
    let mut victims: Vec<&Pod> = Vec::new();
    let want_old = d.scale_down_num_old.min(d.scale_down_num) as usize;
    if want_old < old.len() {
        by_deletion(&mut old);
    }
    victims.extend(old.iter().take(want_old));
    let want_new = (d.scale_down_num as usize).saturating_sub(victims.len());
    if want_new < new.len() {
        by_deletion(&mut new);
    }
    victims.extend(new.iter().take(want_new));
    victims
}

/// Delete `pods` in order, the ready ones only while `ready_limit` lasts.
fn delete_rationed<'a>(
    ctx: &Ctx,
    pods: impl IntoIterator<Item = &'a Pod>,
    mut ready_limit: i32,
    reason: &'static str,
    actions: &mut Vec<Action>,
) {
    for p in pods {
        if pod::available(p, 0, ctx.now) {
            if ready_limit <= 0 {
                continue;
            }
            ready_limit -= 1;
        }
        delete_pod(ctx, p, reason, actions);
    }
}

/// deletePods: a pod held by the preDelete hook goes to PreparingDelete instead.
fn delete_pod(ctx: &Ctx, p: &Pod, reason: &'static str, actions: &mut Vec<Action>) {
    if hooked(p, ctx.pre_delete(), false) {
        if pod::lifecycle_state(p) != state::PREPARING_DELETE {
            actions.push(Action::Mark {
                pod: pod::name(p).into(),
                reason: "preDelete hook",
                marks: state_marks(state::PREPARING_DELETE, ctx.now),
            });
        }
        return;
    }
    actions.push(Action::Delete {
        pod: pod::name(p).into(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        reason,
        pvcs: pvc_names_of(p, ctx),
    });
}

/// The PVCs that go with a deleted pod: the CloneSet's PVCs of its instance id (by label,
/// as upstream's deletePods; not by template names, which may have changed since).
fn pvc_names_of(p: &Pod, ctx: &Ctx) -> Vec<String> {
    pod::label(p, keys::INSTANCE_ID)
        .and_then(|id| ctx.pvcs_by_id.get(id))
        .cloned()
        .unwrap_or_default()
}

/// A random 5-character instance id from Kubernetes' safe alphabet.
fn instance_id(rng: &mut fastrand::Rng, taken: &BTreeSet<String>) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    loop {
        let id: String = (0..5)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())] as char)
            .collect();
        if !taken.contains(&id) {
            return id;
        }
    }
}

/// The pod a CloneSet creates for `revision` with instance id `id` (reference notes §3.5).
pub fn new_pod(
    cs: &CloneSet,
    template: &Map<String, Value>,
    revision: &str,
    id: &str,
    now: Timestamp,
) -> Result<(Pod, Vec<PersistentVolumeClaim>), String> {
    let t: PodTemplateSpec =
        serde_json::from_value(Value::Object(template.clone())).map_err(|e| e.to_string())?;
    let name = cs.name_any();
    let meta = t.metadata.unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(keys::INSTANCE_ID.into(), id.into());
    labels.insert(keys::REVISION.into(), revision.into());
    labels.insert(
        keys::POD_TEMPLATE_HASH.into(),
        pod::short_hash(revision).into(),
    );
    labels.insert(keys::STATE.into(), state::PREPARING_NORMAL.into());
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(keys::STATE_TIMESTAMP.into(), rfc3339(now));
    let mut spec = t.spec.unwrap_or_default();
    let gates = spec.readiness_gates.get_or_insert_with(Vec::new);
    if !gates
        .iter()
        .any(|g| g.condition_type == keys::INPLACE_READY)
    {
        gates.push(PodReadinessGate {
            condition_type: keys::INPLACE_READY.into(),
        });
    }
    let pvcs = volume_claims(cs, id, &mut spec)?;
    let pod = Pod {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{id}")),
            generate_name: Some(format!("{name}-")),
            namespace: cs.namespace(),
            labels: Some(labels),
            annotations: Some(annotations),
            finalizers: meta.finalizers,
            owner_references: Some(vec![revision::owner_reference(cs)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    };
    Ok((pod, pvcs))
}

/// The PVCs of instance `id` from the CloneSet's volumeClaimTemplates, each mounted in `spec`
/// in place of any volume of its name.
fn volume_claims(
    cs: &CloneSet,
    id: &str,
    spec: &mut PodSpec,
) -> Result<Vec<PersistentVolumeClaim>, String> {
    let name = cs.name_any();
    let mut pvcs = Vec::new();
    for vct in cs.spec.volume_claim_templates.iter().flatten() {
        let mut claim: PersistentVolumeClaim =
            serde_json::from_value(vct.clone()).map_err(|e| e.to_string())?;
        let vname = claim.metadata.name.clone().unwrap_or_default();
        let pvc_name = format!("{vname}-{name}-{id}");
        let mut l = claim.metadata.labels.take().unwrap_or_default();
        l.extend(cs.spec.selector.match_labels.clone().unwrap_or_default());
        l.insert(keys::INSTANCE_ID.into(), id.into());
        claim.metadata = ObjectMeta {
            name: Some(pvc_name.clone()),
            namespace: cs.namespace(),
            labels: Some(l),
            annotations: claim.metadata.annotations.take(),
            owner_references: Some(vec![revision::owner_reference(cs)]),
            ..Default::default()
        };
        claim.status = None;
        let vols = spec.volumes.get_or_insert_with(Vec::new);
        vols.retain(|v| v.name != vname);
        vols.push(Volume {
            name: vname,
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: pvc_name,
                read_only: None,
            }),
            ..Default::default()
        });
        pvcs.push(claim);
    }
    Ok(pvcs)
}
