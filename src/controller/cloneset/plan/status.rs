//! The status a pass reports (reference notes §3.10): counts, revisions, conditions, and the
//! refusal of a CloneSet the controller must not act on.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::super::validate;
use super::ctx::Ctx;
use super::{Limits, Plan, Stuck};
use crate::api::cloneset::{CloneSet, CloneSetCondition, CloneSetStatus};
use crate::controller::pod;

/// The reason of the condition that says why the controller refuses to act on an object.
pub const REFUSED_REASON: &str = "InvalidSpec";

/// Why the controller must not act on this CloneSet, if it must not: what upstream's
/// validating webhook refuses (`validate`, which applies the webhook's defaults itself).
/// Without the webhook such objects arrive anyway (CRDs from elsewhere), and acting on them
/// can be unbounded: a selector that misses the template releases every pod it creates and
/// creates more. One exception: `OnDelete`, which the v1alpha1 webhook refuses but upstream's
/// controller honours (and a v1beta1 CloneSet may carry); acting on it is safe.
pub(super) fn refusal(cs: &CloneSet) -> Option<String> {
    let invalid: Vec<validate::Invalid> = validate::validate(cs, None)
        .err()?
        .into_iter()
        .filter(|e| !(e.field == "spec.updateStrategy.type" && e.value == "\"OnDelete\""))
        .collect();
    (!invalid.is_empty()).then(|| validate::Refusals(&invalid).to_string())
}

/// The plan for a CloneSet the controller refuses: no write but the status, which keeps its
/// counts and gains a `FailedScale` condition (reason `InvalidSpec`) saying why.
pub(super) fn refused(cs: &CloneSet, now: Timestamp, label_selector: String, why: String) -> Plan {
    let old = cs.status.clone().unwrap_or_default();
    let mut st = old.clone();
    st.observed_generation = cs.metadata.generation.unwrap_or(0);
    st.label_selector = Some(label_selector);
    let message = format!("the controller does not act on this CloneSet: {why}");
    let prev = old
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "FailedScale")
        .cloned();
    let new_condition = prev.as_ref().and_then(|c| c.message.as_ref()) != Some(&message);
    if new_condition {
        let conds = st.conditions.get_or_insert_with(Vec::new);
        conds.retain(|c| c.type_ != "FailedScale");
        let t = Some(Time(Timestamp::from_second(now.as_second()).unwrap_or(now)));
        conds.push(CloneSetCondition {
            type_: "FailedScale".into(),
            status: "True".into(),
            reason: Some(REFUSED_REASON.into()),
            message: Some(message.clone()),
            last_update_time: t.clone(),
            last_transition_time: t,
        });
    }
    let status_changed = new_condition || status_differs(&old, &st);
    Plan {
        defaulted: None,
        revision: None,
        update_revision: old.update_revision.clone().unwrap_or_default(),
        current_revision: old.current_revision.clone().unwrap_or_default(),
        actions: Vec::new(),
        status: st,
        status_changed,
        prune_pods_to_delete: None,
        delete_revisions: Vec::new(),
        requeue_after: None,
        errors: vec![format!("scale: {message}")],
        stuck: Vec::new(),
    }
}

/// The status after the pass: revisions and counts of the active pods, the Progressing
/// condition, and a FailedScale / FailedUpdate condition for each error.
pub(super) fn status(
    ctx: &Ctx,
    active: &[&Pod],
    collision_count: i32,
    label_selector: String,
    errors: &[String],
    requeue: &mut Option<Duration>,
) -> CloneSetStatus {
    let (cs, lim) = (ctx.cs, &ctx.lim);
    let old = cs.status.clone().unwrap_or_default();
    let mut st = CloneSetStatus {
        observed_generation: cs.metadata.generation.unwrap_or(0),
        update_revision: Some(ctx.update.clone()),
        current_revision: Some(ctx.current.clone()),
        collision_count: Some(collision_count),
        label_selector: Some(label_selector),
        // A refusal's condition goes once the object is valid (upstream never refuses, so it
        // has no such condition to keep).
        conditions: old
            .conditions
            .map(|c| {
                c.into_iter()
                    .filter(|c| c.reason.as_deref() != Some(REFUSED_REASON))
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty()),
        ..Default::default()
    };
    count(&mut st, active, &ctx.update, lim.min_ready, ctx.now);
    if st.updated_replicas == st.replicas && st.replicas == lim.replicas {
        st.current_revision = Some(ctx.update.clone());
    }
    st.expected_updated_replicas = Some(if lim.partition_valid {
        lim.replicas - lim.partition
    } else {
        0
    });
    progressing(cs, lim, &mut st, ctx.now, requeue);
    for e in errors {
        let type_ = if e.starts_with("scale:") {
            "FailedScale"
        } else {
            "FailedUpdate"
        };
        set_condition(
            &mut st,
            CloneSetCondition {
                type_: type_.into(),
                status: "True".into(),
                message: Some(e.split_once(": ").map(|x| x.1).unwrap_or(e).to_string()),
                ..Default::default()
            },
            ctx.now,
        );
    }
    st
}

/// The replica counts of the active pods (`update`: the update revision).
fn count(st: &mut CloneSetStatus, active: &[&Pod], update: &str, min_ready: i32, now: Timestamp) {
    let mut updated_available = 0;
    for p in active {
        st.replicas += 1;
        let ready = pod::update_ready(p, 0, now);
        let avail = pod::available(p, min_ready, now);
        let updated = pod::revision_matches(pod::revision(p), update);
        st.ready_replicas += i32::from(ready);
        st.available_replicas += i32::from(avail);
        st.updated_replicas += i32::from(updated);
        st.updated_ready_replicas += i32::from(updated && ready);
        updated_available += i32::from(updated && avail);
    }
    st.updated_available_replicas = Some(updated_available);
}

/// With minReadySeconds, come back when ready pods may have become available.
pub(super) fn requeue_for_min_ready(
    lim: &Limits,
    st: &CloneSetStatus,
    requeue: &mut Option<Duration>,
) {
    if lim.min_ready > 0 && st.available_replicas != st.ready_replicas {
        let d = Duration::from_secs(lim.min_ready as u64);
        *requeue = Some(requeue.map_or(d, |r| r.min(d)));
    }
}

/// The active pods of the update revision that are stuck (`pod::stuck`).
pub(super) fn stuck_pods(active: &[&Pod], update: &str) -> Vec<Stuck> {
    active
        .iter()
        .filter(|p| pod::revision_matches(pod::revision(p), update))
        .filter_map(|p| {
            pod::stuck(p).map(|(container, reason, message)| Stuck {
                pod: pod::name(p).into(),
                container,
                reason,
                message,
            })
        })
        .collect()
}

/// Upstream's "is the status worth writing" test.
pub(super) fn status_differs(old: &CloneSetStatus, new: &CloneSetStatus) -> bool {
    let prog = |s: &CloneSetStatus| {
        s.conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "Progressing")
            .map(|c| (c.status.clone(), c.reason.clone()))
    };
    new.observed_generation > old.observed_generation
        || old.replicas != new.replicas
        || old.ready_replicas != new.ready_replicas
        || old.available_replicas != new.available_replicas
        || old.updated_replicas != new.updated_replicas
        || old.updated_ready_replicas != new.updated_ready_replicas
        // Read back, a zero or empty field is absent (omitempty): absent equals zero.
        || old.updated_available_replicas.unwrap_or(0) != new.updated_available_replicas.unwrap_or(0)
        || old.expected_updated_replicas.unwrap_or(0) != new.expected_updated_replicas.unwrap_or(0)
        || old.update_revision.as_deref().unwrap_or("") != new.update_revision.as_deref().unwrap_or("")
        || old.current_revision.as_deref().unwrap_or("") != new.current_revision.as_deref().unwrap_or("")
        || old.label_selector.as_deref().unwrap_or("") != new.label_selector.as_deref().unwrap_or("")
        || prog(old) != prog(new)
}

fn set_condition(st: &mut CloneSetStatus, mut c: CloneSetCondition, now: Timestamp) {
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let t = Some(Time(Timestamp::from_second(now.as_second()).unwrap_or(now)));
    // As upstream's SetCloneSetCondition: same status and reason keep the old condition; a
    // changed one is taken out and appended, so the latest set condition comes last.
    c.last_update_time = t.clone();
    c.last_transition_time = t;
    if let Some(old) = conds.iter().find(|o| o.type_ == c.type_) {
        if old.status == c.status && old.reason == c.reason {
            return;
        }
        if old.status == c.status {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    conds.retain(|o| o.type_ != c.type_);
    conds.push(c);
}

fn progressing_condition(status: &str, reason: &str, msg: String) -> CloneSetCondition {
    CloneSetCondition {
        type_: "Progressing".into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(msg),
        ..Default::default()
    }
}

/// The Progressing condition: gone without a progress deadline, else available, paused,
/// held by the partition, or progressing against the deadline.
fn progressing(
    cs: &CloneSet,
    lim: &Limits,
    st: &mut CloneSetStatus,
    now: Timestamp,
    requeue: &mut Option<Duration>,
) {
    let deadline = cs.spec.progress_deadline_seconds.filter(|d| *d != i32::MAX);
    let Some(deadline) = deadline else {
        if let Some(c) = st.conditions.as_mut() {
            c.retain(|c| c.type_ != "Progressing");
            if c.is_empty() {
                st.conditions = None;
            }
        }
        return;
    };
    let r = lim.replicas;
    let updated_avail = st.updated_available_replicas.unwrap_or(0);
    let expected = st.expected_updated_replicas.unwrap_or(0);
    let c = if st.current_revision == st.update_revision
        && st.replicas == r
        && st.updated_replicas == r
        && updated_avail == r
    {
        progressing_condition("True", "CloneSetAvailable", "CloneSet is available".into())
    } else if lim.paused {
        progressing_condition("True", "CloneSetPaused", "CloneSet is paused".into())
    } else if expected < r && expected <= updated_avail {
        progressing_condition(
            "True",
            "ProgressPartitionAvailable",
            "CloneSet has been paused due to partition ready".into(),
        )
    } else {
        against_deadline(st, deadline, now, requeue)
    };
    set_condition(st, c, now);
}

/// A rollout in progress: past the deadline, or progressing with a requeue for when it would
/// be.
fn against_deadline(
    st: &CloneSetStatus,
    deadline: i32,
    now: Timestamp,
    requeue: &mut Option<Duration>,
) -> CloneSetCondition {
    let existing = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing");
    // Upstream (`CloneSetDeadlineExceeded`) measures from the existing condition's
    // lastUpdateTime whatever its reason.
    let since = existing.and_then(|c| c.last_update_time.as_ref().map(|t| t.0.as_second()));
    let exceeded = existing
        .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
        || since.is_some_and(|t| t + i64::from(deadline) < now.as_second());
    if exceeded {
        progressing_condition(
            "False",
            "ProgressDeadlineExceeded",
            format!(
                "CloneSet revision {} has timed out progressing",
                st.update_revision.clone().unwrap_or_default()
            ),
        )
    } else {
        let left = since.map_or(i64::from(deadline), |t| {
            t + i64::from(deadline) - now.as_second()
        });
        let d = Duration::from_secs(left.max(0) as u64 + 1);
        *requeue = Some(requeue.map_or(d, |r| r.min(d)));
        progressing_condition("True", "CloneSetUpdated", "CloneSet is progressing".into())
    }
}
