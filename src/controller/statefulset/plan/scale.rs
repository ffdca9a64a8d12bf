//! Scaling (upstream `processReplica` and `processCondemned`): replicas in ordinal order —
//! failed pods replaced, missing pods created, OrderedReady waiting for each to be Running and
//! available before the next, Parallel bounded by `scaleStrategy.maxUnavailable` — then the
//! condemned from the highest ordinal down.

use k8s_openapi::api::core::v1::Pod;

use super::claims;
use super::ctx::{Ctx, Out, available, created, running_and_ready, terminating};
use super::slots::{self, POD_INDEX, POD_NAME, Slot};
use crate::controller::actions::{Action, PodMarks};
use crate::controller::pod::{self, state};
use crate::controller::podupdate::{self, hooked, state_marks};

/// What one replica lets the loop do next.
enum Flow {
    Continue,
    /// Stop the replica loop, go on with the condemned and the update.
    Break,
    /// Stop the pass (in OrderedReady; Parallel goes on).
    Exit,
}

/// `decreaseAndCheckMaxUnavailable`.
fn spend(budget: &mut Option<i32>) -> bool {
    match budget {
        None => false,
        Some(b) => {
            *b -= 1;
            *b <= 0
        }
    }
}

/// Process every replica; `true` when the pass must end here (OrderedReady blocked).
pub(super) fn replicas(ctx: &Ctx, slots: &[Slot], out: &mut Out) -> bool {
    let mut budget = ctx.scale_budget;
    for s in slots {
        match replica(ctx, s, &mut budget, out) {
            Flow::Exit if ctx.monotonic => return true,
            Flow::Break => break,
            _ => {}
        }
    }
    false
}

fn replica(ctx: &Ctx, s: &Slot, budget: &mut Option<i32>, out: &mut Out) -> Flow {
    let p = s.pod.as_ref();
    let phase = pod::phase(p);
    if phase == "Failed" || phase == "Succeeded" {
        if spend(budget) {
            return Flow::Break;
        }
        if !terminating(p) {
            delete(ctx, p, "failed", out);
        }
        return Flow::Exit;
    }
    if !created(p) {
        if claims::stale(ctx, s.ord, p) {
            return Flow::Exit;
        }
        create(ctx, s, out);
        if ctx.monotonic {
            return Flow::Exit;
        }
        return if spend(budget) {
            Flow::Break
        } else {
            Flow::Continue
        };
    }
    if terminating(p) {
        if ctx.monotonic {
            return Flow::Exit;
        }
        if spend(budget) {
            return Flow::Break;
        }
    }
    let before = out.actions.len();
    podupdate::refresh(&ctx.pods(), p, &mut out.actions, &mut out.requeue);
    out.refreshed |= out.actions.len() > before;
    if ctx.monotonic || budget.is_some() {
        let (avail, wait) = available(p, ctx.min_ready, ctx.now);
        if !avail && ctx.monotonic {
            out.requeue(wait);
            return Flow::Exit;
        }
        if !avail && spend(budget) {
            out.requeue(wait);
            return Flow::Break;
        }
    }
    fix_identity(s, out);
    claims::retain(ctx, s.ord, p, true, out);
    Flow::Continue
}

fn create(ctx: &Ctx, s: &Slot, out: &mut Out) {
    let claims = match slots::claims(ctx, s.ord) {
        Ok(c) => c,
        Err(e) => {
            out.errors.push(e);
            return;
        }
    };
    let missing: Vec<_> = claims
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| {
            !ctx.pvcs
                .contains_key(c.metadata.name.as_deref().unwrap_or_default())
        })
        .collect();
    out.actions.push(Action::Create {
        pod: pod::name(&s.pod).to_string(),
        revision: pod::revision(&s.pod).to_string(),
        object: Box::new(s.pod.as_ref().clone()),
        pvcs: missing
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .collect(),
        pvc_objects: missing,
    });
}

/// `identityMatches` or else `updateIdentity`: the pod-name (and pod-index) labels.
fn fix_identity(s: &Slot, out: &mut Out) {
    let name = pod::name(&s.pod);
    if pod::label(&s.pod, POD_NAME) == Some(name) {
        return;
    }
    let mut marks = PodMarks::default();
    marks.labels.insert(POD_NAME.into(), Some(name.to_string()));
    marks
        .labels
        .insert(POD_INDEX.into(), Some(s.ord.to_string()));
    out.actions.push(Action::Mark {
        pod: name.to_string(),
        reason: "identity",
        marks,
    });
}

/// `deletePod`: a pod held by the preDelete hook goes to PreparingDelete instead (once).
/// Returns (modified, actually deleting).
pub(super) fn delete(ctx: &Ctx, p: &Pod, reason: &'static str, out: &mut Out) -> (bool, bool) {
    let cx = ctx.pods();
    if hooked(p, cx.pre_delete(), false) {
        if pod::lifecycle_state(p) == state::PREPARING_DELETE {
            return (false, false);
        }
        out.actions.push(Action::Mark {
            pod: pod::name(p).into(),
            reason: "preDelete hook",
            marks: state_marks(state::PREPARING_DELETE, ctx.now),
        });
        return (true, false);
    }
    out.actions.push(Action::Delete {
        pod: pod::name(p).into(),
        uid: p.metadata.uid.clone().unwrap_or_default(),
        reason,
        pvcs: vec![],
    });
    (true, true)
}

/// The condemned, highest ordinal first; `true` when the pass must end here. OrderedReady
/// deletes one at a time, and only once every replica before it is Running and available
/// (or it is the first unhealthy pod).
pub(super) fn condemned(
    ctx: &Ctx,
    condemned: &[Slot],
    first_unhealthy: Option<&str>,
    out: &mut Out,
) -> bool {
    for s in condemned {
        claims::retain(ctx, s.ord, &s.pod, false, out);
    }
    for s in condemned {
        let p = s.pod.as_ref();
        let is_first = first_unhealthy == Some(pod::name(p));
        if terminating(p) {
            if ctx.monotonic {
                return true;
            }
            continue;
        }
        if ctx.monotonic && !running_and_ready(p) && !is_first {
            return true;
        }
        let (avail, wait) = available(p, ctx.min_ready, ctx.now);
        if ctx.monotonic && !avail && !is_first {
            out.requeue(wait);
            return true;
        }
        let (modified, _) = delete(ctx, p, "scale in", out);
        if ctx.monotonic && modified {
            return true;
        }
    }
    false
}
