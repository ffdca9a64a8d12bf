//! The per-pod half of a rolling update every kind shares (CloneSet, Advanced StatefulSet,
//! Advanced DaemonSet; reference notes §2.4, §2.5): refresh a pod (finish a grace period, move
//! its lifecycle state, set `InPlaceUpdateReady`), and try to update it in place through the
//! `inPlaceUpdate` hook. Pure: it returns the [`Action`]s that `podsync` writes. What a kind
//! does when a pod cannot be updated in place (mark it for deletion, delete it, refuse) is the
//! kind's own.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value};

use crate::api::common::{Lifecycle, LifecycleHook};
use crate::controller::actions::{Action, PodMarks};
use crate::controller::inplace::{self, InPlaceChange};
use crate::controller::inplace_state::{InPlaceGrace, InPlaceState, rfc3339};
use crate::controller::pod::{self, keys, state};

/// How a kind's update policy treats a pod whose template changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    ReCreate,
    InPlaceIfPossible,
    InPlaceOnly,
}

/// What the per-pod update reads of the workload.
pub struct Cx<'a> {
    pub lifecycle: Option<&'a Lifecycle>,
    pub now: Timestamp,
    /// The update revision's name.
    pub update: &'a str,
    /// The templates of the workload's revisions, by name.
    pub templates: &'a BTreeMap<String, Map<String, Value>>,
    pub policy: Policy,
    /// `inPlaceUpdateStrategy.gracePeriodSeconds`.
    pub grace: i32,
    /// A pod leaves PreparingNormal (without a preNormal hook) only once scheduled: CloneSet
    /// waits for the node, Advanced StatefulSet does not.
    pub normal_waits_for_node: bool,
    /// Label pods with `pod-template-hash` when they lack it (CloneSet).
    pub template_hash_label: bool,
}

impl Cx<'_> {
    pub fn pre_delete(&self) -> Option<&LifecycleHook> {
        self.lifecycle.and_then(|l| l.pre_delete.as_ref())
    }
    pub fn inplace_hook(&self) -> Option<&LifecycleHook> {
        self.lifecycle.and_then(|l| l.in_place_update.as_ref())
    }
    pub fn pre_normal(&self) -> Option<&LifecycleHook> {
        self.lifecycle.and_then(|l| l.pre_normal.as_ref())
    }
    /// The lifecycle state after a completed in-place update.
    pub fn after_update(&self, p: &Pod) -> &'static str {
        if self.lifecycle.is_some() && !hooked(p, self.inplace_hook(), true) {
            state::UPDATED
        } else {
            state::NORMAL
        }
    }
    pub fn template_of_revision(&self, rev: &str) -> Option<&Map<String, Value>> {
        self.templates.get(rev).or_else(|| {
            self.templates
                .iter()
                .find(|(n, _)| pod::revision_matches(rev, n))
                .map(|(_, t)| t)
        })
    }
}

/// Update one pod in place if the policy allows and the change is one, through the
/// inPlaceUpdate hook: `Ok` when that is under way (or the hook holds it), `Err(why)` when
/// the pod must be recreated instead (the kind decides how, or refuses under InPlaceOnly).
pub fn try_in_place(
    cx: &Cx,
    p: &Pod,
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> Result<(), String> {
    let change = in_place_change(cx, p)?;
    if hook_lets_update(cx, p, actions, errors) {
        actions.push(Action::UpdateInPlace {
            pod: pod::name(p).to_string(),
            from: pod::revision(p).to_string(),
            to: cx.update.to_string(),
            change,
            grace_seconds: cx.grace,
            template_hash: cx.template_hash_label,
            lifecycle: true,
        });
    }
    Ok(())
}

/// Refresh one pod: finish grace periods, move lifecycle states, set `InPlaceUpdateReady`.
pub fn refresh(ctx: &Cx, p: &Pod, actions: &mut Vec<Action>, requeue: &mut Option<Duration>) {
    if let Some(raw) = pod::annotation(p, keys::INPLACE_GRACE) {
        grace(ctx, p, raw, actions, requeue);
        return;
    }
    let completed = inplace_completed(p);
    let (mut marks, wait_for_schedule) = lifecycle_marks(ctx, p, completed);
    if ctx.template_hash_label
        && pod::label(p, keys::POD_TEMPLATE_HASH).is_none()
        && !pod::revision(p).is_empty()
    {
        marks.labels.insert(
            keys::POD_TEMPLATE_HASH.into(),
            Some(pod::short_hash(pod::revision(p)).into()),
        );
    }
    let gate_true = pod::condition(p, keys::INPLACE_READY)
        .is_some_and(|c| c.status == "True" && c.reason.is_none() && c.message.is_none());
    // Kubernetes makes nothing of the gate before the pod is scheduled; waiting lets the
    // state change and the gate go out in one write.
    if pod::has_gate(p, keys::INPLACE_READY) && !gate_true && completed && !wait_for_schedule {
        marks.gate_ready = true;
    }
    if !marks.is_empty() {
        actions.push(Action::Mark {
            pod: pod::name(p).to_string(),
            reason: "refresh",
            marks,
        });
    }
}

/// A pod in an in-place update's grace period (its grace spec `raw`): drop the change if the
/// pod's revision moved, else finish it once the period is over, or come back then.
fn grace(ctx: &Cx, p: &Pod, raw: &str, actions: &mut Vec<Action>, requeue: &mut Option<Duration>) {
    let name = pod::name(p).to_string();
    let grace: InPlaceGrace = serde_json::from_str(raw).unwrap_or_default();
    // Upstream (`finishGracePeriod`) drops the pending change only when the pod's own
    // revision moved away from the one the grace spec was written for; a newer template
    // does not cancel it: the change is finished, and the update step moves the pod on.
    if !pod::revision_matches(pod::revision(p), &grace.revision) {
        let mut marks = PodMarks::default();
        marks.annotations.insert(keys::INPLACE_GRACE.into(), None);
        actions.push(Action::Mark {
            pod: name,
            reason: "revision changed during grace period",
            marks,
        });
        return;
    }
    let started = pod::annotation(p, keys::INPLACE_STATE)
        .and_then(|s| serde_json::from_str::<InPlaceState>(s).ok())
        .and_then(|s| s.update_timestamp.parse::<Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(0);
    let left = started + i64::from(grace.grace_seconds) - ctx.now.as_second();
    if left > 0 {
        let d = Duration::from_secs(left as u64);
        *requeue = Some(requeue.map_or(d, |r| r.min(d)));
    } else {
        actions.push(Action::FinishGrace {
            pod: name,
            images: grace.container_images,
        });
    }
}

/// The marks of the pod's next lifecycle state, if it is due one, and whether it waits to be
/// scheduled first (PreparingNormal without a preNormal hook).
fn lifecycle_marks(ctx: &Cx, p: &Pod, completed: bool) -> (PodMarks, bool) {
    let mut marks = PodMarks::default();
    let scheduled = !pod::node(p).is_empty();
    let mut wait_for_schedule = false;
    match pod::lifecycle_state(p) {
        state::PREPARING_NORMAL => match ctx.pre_normal() {
            None if scheduled || !ctx.normal_waits_for_node => {
                marks = state_marks(state::NORMAL, ctx.now)
            }
            None => wait_for_schedule = true,
            Some(h) if hooked(p, Some(h), true) => marks = state_marks(state::NORMAL, ctx.now),
            Some(_) => {}
        },
        state::UPDATING if completed => marks = state_marks(ctx.after_update(p), ctx.now),
        state::UPDATED if ctx.inplace_hook().is_none() || hooked(p, ctx.inplace_hook(), true) => {
            marks = state_marks(state::NORMAL, ctx.now)
        }
        state::PREPARING_UPDATE if pod::revision_matches(pod::revision(p), ctx.update) => {
            marks = state_marks(ctx.after_update(p), ctx.now)
        }
        _ => {}
    }
    (marks, wait_for_schedule)
}

/// The in-place change from the pod's revision to the update revision, or why there is none.
pub fn in_place_change(ctx: &Cx, p: &Pod) -> Result<InPlaceChange, String> {
    if ctx.policy == Policy::ReCreate {
        return Err("the update policy is ReCreate".into());
    }
    let from = ctx.template_of_revision(pod::revision(p));
    let to = ctx.template_of_revision(ctx.update);
    match (from, to) {
        (Some(f), Some(t)) => inplace::calculate(f, t),
        _ => Err(format!(
            "the pod's revision {} is no longer in the history",
            pod::revision(p)
        )),
    }
}

/// Whether the pod's lifecycle state lets an in-place update go ahead now; if not, push what
/// moves it on (to PreparingUpdate, or the hook re-armed), or the error of a state that never
/// lets it.
fn hook_lets_update(
    ctx: &Cx,
    p: &Pod,
    actions: &mut Vec<Action>,
    errors: &mut Vec<String>,
) -> bool {
    let name = pod::name(p).to_string();
    let hook = ctx.inplace_hook();
    match pod::lifecycle_state(p) {
        "" | state::PREPARING_NORMAL | state::NORMAL if hooked(p, hook, false) => {
            actions.push(Action::Mark {
                pod: name,
                reason: "inPlaceUpdate hook",
                marks: state_marks(state::PREPARING_UPDATE, ctx.now),
            });
            false
        }
        state::UPDATED => {
            let mut marks = state_marks(state::PREPARING_UPDATE, ctx.now);
            if let Some(h) = hook {
                for (k, v) in h.labels_handler.iter().flatten() {
                    marks.labels.insert(k.clone(), Some(v.clone()));
                }
                marks.add_finalizers = h.finalizers_handler.clone().unwrap_or_default();
            }
            actions.push(Action::Mark {
                pod: name,
                reason: "inPlaceUpdate hook re-armed",
                marks,
            });
            false
        }
        state::PREPARING_UPDATE if hooked(p, hook, false) => false,
        ""
        | state::PREPARING_NORMAL
        | state::NORMAL
        | state::PREPARING_UPDATE
        | state::UPDATING => true,
        other => {
            errors.push(format!(
                "update: pod {name} is in lifecycle state {other} and cannot be updated"
            ));
            false
        }
    }
}

fn with_latest(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// Has the pod's last in-place update completed (reference notes §2.5 D, without a node
/// agent)? A pod without the state annotation has.
pub fn inplace_completed(p: &Pod) -> bool {
    if pod::annotation(p, keys::INPLACE_GRACE).is_some() {
        return false;
    }
    let Some(raw) = pod::annotation(p, keys::INPLACE_STATE) else {
        return true;
    };
    let Ok(st) = serde_json::from_str::<InPlaceState>(raw) else {
        return true;
    };
    let Some(last) = st.last_container_statuses.filter(|l| !l.is_empty()) else {
        return true;
    };
    let statuses = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    let spec_images: BTreeMap<String, String> = p
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    for name in last.keys() {
        if !statuses.iter().any(|s| &s.name == name) {
            return false;
        }
    }
    for s in &statuses {
        if let Some(rec) = last.get(&s.name) {
            let want = with_latest(spec_images.get(&s.name).map(String::as_str).unwrap_or(""));
            if s.image_id == rec.image_id && with_latest(&s.image) != want {
                return false;
            }
        }
    }
    true
}
/// Upstream's `IsPodHooked` (`all == false`: any handler present) and `IsPodAllHooked`
/// (`all == true`: every handler present). A hook with no handlers is never hooked and always
/// all-hooked, so an empty hook (`preNormal: {}`, `inPlaceUpdate: {markPodNotReady: true}`)
/// lets the pod pass at once; no hook at all is neither.
pub fn hooked(p: &Pod, hook: Option<&LifecycleHook>, all: bool) -> bool {
    let Some(h) = hook else { return false };
    let labels = h.labels_handler.clone().unwrap_or_default();
    let finalizers = h.finalizers_handler.clone().unwrap_or_default();
    let has_label = |(k, v): (&String, &String)| pod::label(p, k) == Some(v.as_str());
    let pf = p.metadata.finalizers.clone().unwrap_or_default();
    let has_fin = |f: &String| pf.contains(f);
    if all {
        labels.iter().all(has_label) && finalizers.iter().all(has_fin)
    } else {
        labels.iter().any(has_label) || finalizers.iter().any(has_fin)
    }
}

/// The marks that move a pod to lifecycle state `new_state`.
pub fn state_marks(new_state: &str, now: Timestamp) -> PodMarks {
    let mut m = PodMarks::default();
    m.labels
        .insert(keys::STATE.into(), Some(new_state.to_string()));
    m.annotations
        .insert(keys::STATE_TIMESTAMP.into(), Some(rfc3339(now)));
    m
}
