//! The status (upstream `updateStatus`, `completeRollingUpdate`, `inconsistentStatus`): the
//! counters over the replicas and the condemned, the revisions, and whether upstream would
//! write it.

use std::time::Duration;

use super::ctx::{Ctx, available, created, running_and_ready, terminating};
use super::slots::Slot;
use super::update::Moved;
use crate::api::statefulset::{StatefulSetStatus, StatefulSetUpdateStrategyType};
use crate::controller::pod;

pub(super) fn status(
    ctx: &Ctx,
    label_selector: String,
    collision_count: i32,
    lists: &[&[Slot]],
    moved: &Moved,
) -> StatefulSetStatus {
    let old = ctx.set.status.clone().unwrap_or_default();
    let mut st = StatefulSetStatus {
        observed_generation: ctx.set.metadata.generation,
        current_revision: Some(ctx.current.clone()),
        update_revision: Some(ctx.update.clone()),
        collision_count: Some(collision_count),
        label_selector: Some(label_selector),
        conditions: old.conditions.clone(),
        volume_claims: old.volume_claims.clone(),
        ..Default::default()
    };
    let (mut ready, mut avail, mut upd_ready, mut upd_avail) = (0, 0, 0, 0);
    for s in lists.iter().flat_map(|l| l.iter()) {
        let p = s.pod.as_ref();
        if created(p) {
            st.replicas += 1;
        }
        let updated = pod::revision(p) == ctx.update;
        if running_and_ready(p) {
            ready += 1;
            let a = available(p, ctx.min_ready, ctx.now).0;
            if updated {
                upd_ready += 1;
                upd_avail += i32::from(a);
            }
            avail += i32::from(a);
        }
        if created(p) && !terminating(p) {
            st.current_replicas += i32::from(pod::revision(p) == ctx.current);
            st.updated_replicas += i32::from(updated);
        }
    }
    st.ready_replicas = ready;
    st.available_replicas = avail;
    st.updated_ready_replicas = Some(upd_ready);
    st.updated_available_replicas = Some(upd_avail);
    st.current_replicas -= moved.current;
    st.updated_replicas -= moved.updated;
    complete(ctx, &mut st);
    st
}

/// `completeRollingUpdate`: every replica updated and Ready makes the update revision current.
fn complete(ctx: &Ctx, st: &mut StatefulSetStatus) {
    let rolling = ctx.set.spec.update_strategy.as_ref().and_then(|u| u.type_)
        == Some(StatefulSetUpdateStrategyType::RollingUpdate);
    if rolling && st.updated_replicas == st.replicas && st.ready_replicas == st.replicas {
        st.current_replicas = st.updated_replicas;
        st.current_revision = st.update_revision.clone();
    }
}

/// `inconsistentStatus`: what upstream compares before it writes (not the updated-ready
/// counters, which ride along with the next write).
pub(super) fn differs(old: &StatefulSetStatus, new: &StatefulSetStatus) -> bool {
    new.observed_generation.unwrap_or(0) > old.observed_generation.unwrap_or(0)
        || new.replicas != old.replicas
        || new.current_replicas != old.current_replicas
        || new.ready_replicas != old.ready_replicas
        || new.available_replicas != old.available_replicas
        || new.updated_replicas != old.updated_replicas
        || new.current_revision != old.current_revision
        || new.update_revision != old.update_revision
        || new.label_selector != old.label_selector
}

/// Come back when a Ready pod becomes available.
pub(super) fn requeue_for_min_ready(ctx: &Ctx, st: &StatefulSetStatus) -> Option<Duration> {
    (ctx.min_ready > 0 && st.ready_replicas != st.available_replicas)
        .then(|| Duration::from_secs(1))
}
