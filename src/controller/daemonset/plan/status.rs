//! The status a pass reports (upstream `updateDaemonSetStatus`): per node that should run a
//! pod, its oldest pod decides ready, available (with `InPlaceUpdateReady` True when it has
//! the gate) and updated; pods on nodes that should not run one are misscheduled. The
//! observed generation moves only at the end of a full pass (manage wrote nothing), as
//! upstream's. And the refusal of a DaemonSet the controller must not act on.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::{Ctx, Outcome, Plan, available, sort_pods};
use crate::api::common::Condition;
use crate::api::daemonset::{DaemonSet, DaemonSetStatus};
use crate::controller::cloneset::validate::{Invalid, Refusals};
use crate::controller::pod::{self, keys};

/// The reason of the condition that says why the controller refuses to act on an object.
pub const REFUSED_REASON: &str = "InvalidSpec";
/// Its type.
pub const REFUSED_CONDITION: &str = "Refused";

/// isDaemonPodAvailable: available, and `InPlaceUpdateReady` not False-ish when gated.
fn daemon_available(p: &k8s_openapi::api::core::v1::Pod, cx: &Ctx) -> bool {
    available(p, cx.min_ready, cx.now)
        && (!pod::has_gate(p, keys::INPLACE_READY)
            || pod::condition(p, keys::INPLACE_READY).is_none_or(|c| c.status == "True"))
}

pub(super) fn status(cx: &Ctx, collision: i32, full: bool, out: &mut Outcome) -> DaemonSetStatus {
    let old = cx.ds.status.clone().unwrap_or_default();
    let (mut desired, mut current, mut mis, mut ready, mut updated, mut avail) = (0, 0, 0, 0, 0, 0);
    for n in &cx.nodes {
        let mut pods = cx.pods_on(&n.name_any()).to_vec();
        if !cx.fit(n).run {
            mis += i32::from(!pods.is_empty());
            continue;
        }
        desired += 1;
        sort_pods(&mut pods);
        let Some(p) = pods.first() else { continue };
        current += 1;
        if pod::is_ready(p) {
            ready += 1;
            avail += i32::from(daemon_available(p, cx));
        }
        updated += i32::from(cx.updated(p));
    }
    if ready != avail && cx.min_ready > 0 {
        out.requeue_after(Duration::from_secs(cx.min_ready as u64));
    }
    let generation = cx.ds.metadata.generation;
    DaemonSetStatus {
        current_number_scheduled: current,
        number_misscheduled: mis,
        desired_number_scheduled: desired,
        number_ready: ready,
        observed_generation: if full {
            generation.or(old.observed_generation)
        } else {
            old.observed_generation
        },
        updated_number_scheduled: updated,
        number_available: Some(avail),
        number_unavailable: Some(desired - avail),
        collision_count: (collision > 0 || old.collision_count.is_some()).then_some(collision),
        conditions: old
            .conditions
            .clone()
            .map(|c| {
                c.into_iter()
                    .filter(|c| c.type_ != REFUSED_CONDITION)
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty()),
        update_revision: Some(cx.hash.clone()),
    }
}

/// Whether `st` must be written: what storeDaemonSetStatus compares (and the collision count
/// and conditions, which upstream writes on their own paths).
pub(super) fn differs(ds: &DaemonSet, st: &DaemonSetStatus) -> bool {
    let old = ds.status.clone().unwrap_or_default();
    let behind = old.observed_generation.unwrap_or(0) < ds.metadata.generation.unwrap_or(0)
        && st.observed_generation != old.observed_generation;
    old.desired_number_scheduled != st.desired_number_scheduled
        || old.current_number_scheduled != st.current_number_scheduled
        || old.number_misscheduled != st.number_misscheduled
        || old.number_ready != st.number_ready
        || old.updated_number_scheduled != st.updated_number_scheduled
        || old.number_available.unwrap_or(0) != st.number_available.unwrap_or(0)
        || old.number_unavailable.unwrap_or(0) != st.number_unavailable.unwrap_or(0)
        || behind
        || old.update_revision != st.update_revision
        || old.collision_count != st.collision_count
        || old.conditions != st.conditions
}

/// The plan for a DaemonSet the controller refuses (what upstream's validating webhook would
/// have refused): no write but the status, which keeps its counts, observes the generation and
/// gains a `Refused` condition (reason `InvalidSpec`) saying why.
pub(super) fn refused(ds: &DaemonSet, now: Timestamp, invalid: &[Invalid]) -> Plan {
    let old = ds.status.clone().unwrap_or_default();
    let message = format!(
        "the controller does not act on this DaemonSet: {}",
        Refusals(invalid)
    );
    let mut st = old.clone();
    st.observed_generation = ds.metadata.generation;
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let same = conds
        .iter()
        .any(|c| c.type_ == REFUSED_CONDITION && c.message.as_deref() == Some(&message));
    if !same {
        conds.retain(|c| c.type_ != REFUSED_CONDITION);
        conds.push(Condition {
            type_: REFUSED_CONDITION.into(),
            status: "True".into(),
            last_transition_time: Some(Time(
                Timestamp::from_second(now.as_second()).unwrap_or(now),
            )),
            reason: Some(REFUSED_REASON.into()),
            message: Some(message.clone()),
        });
    }
    Plan {
        revision: None,
        update_revision: old.update_revision.clone().unwrap_or_default(),
        actions: Vec::new(),
        status_changed: st != old,
        status: st,
        delete_revisions: Vec::new(),
        requeue_after: None,
        errors: vec![format!("daemonset {:?}: {message}", ds.name_any())],
        warnings: Vec::new(),
    }
}
