//! One pass of the Rollout controller, pure (Kruise Rollout v0.6.2 `Reconcile`, reference
//! notes §2): the plan hash, the phase machine (`calculateRolloutStatus`), then the
//! Progressing sub-machine with its step machine, finalisation and traffic routing. Out come
//! the writes in order and the new status; the reconciler carries them out.
//!
//! Upstream's in-memory grace timers are kept by the reconciler and handed in as `graces`
//! (what is still to wait, per action); a restarted controller loses them, as upstream's does.

mod canary;
mod conditions;
mod net;
mod progress;
pub use progress::BLUE_GREEN_REFUSES;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::hash;
use super::workload::{Facts, TargetKind};
use crate::api::batchrelease::BatchRelease;
use crate::api::gateway::HttpRoute;
use crate::api::rollout::{CanaryStep, CommonStatus, Rollout, RolloutStatus, TrafficRoutingRef};

pub use conditions::{PROGRESSING, SUCCEEDED, TERMINATING};

pub const INITIAL: &str = "Initial";
pub const HEALTHY: &str = "Healthy";
pub const PHASE_PROGRESSING: &str = "Progressing";
pub const PHASE_TERMINATING: &str = "Terminating";
pub const DISABLING: &str = "Disabling";
pub const DISABLED: &str = "Disabled";

pub const BEFORE_STEP_UPGRADE: &str = "BeforeStepUpgrade";
pub const STEP_UPGRADE: &str = "StepUpgrade";
pub const STEP_TRAFFIC_ROUTING: &str = "StepTrafficRouting";
pub const STEP_METRICS_ANALYSIS: &str = "StepMetricsAnalysis";
pub const STEP_PAUSED: &str = "StepPaused";
pub const STEP_READY: &str = "StepReady";
pub const COMPLETED: &str = "Completed";

/// Upstream's `defaultGracePeriodSeconds`: the recheck of a waiting Rollout.
pub const RECHECK: Duration = Duration::from_secs(3);

/// The network objects of the first traffic routing, as the caches hold them.
#[derive(Debug, Clone, Default)]
pub struct Net {
    pub stable_service: Option<Service>,
    pub canary_service: Option<Service>,
    pub ingress: Option<Ingress>,
    pub canary_ingress: Option<Ingress>,
    pub route: Option<HttpRoute>,
}

/// Upstream's in-memory grace expectations, by action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grace {
    PatchService,
    RestoreService,
    RestoreGateway,
    RemoveCanaryService,
    UpdateRoute,
}

/// What one pass reads.
pub struct Snapshot<'a> {
    pub rollout: &'a Rollout,
    pub kind: Option<TargetKind>,
    /// `None`: the workload does not exist.
    pub workload: Option<Facts>,
    pub br: Option<&'a BatchRelease>,
    pub net: &'a Net,
    pub now: Timestamp,
    /// Grace still to wait, per action.
    pub graces: &'a BTreeMap<Grace, Duration>,
}

/// A write of the Rollout controller.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Merge patch of the Rollout's metadata (the plan hash, finalizers).
    PatchRollout(Value),
    PatchWorkload(Value),
    CreateBatchRelease(Box<BatchRelease>),
    /// Spec and annotations replaced on the read object (resourceVersion kept).
    UpdateBatchRelease(Box<BatchRelease>),
    PatchBatchRelease(Value),
    DeleteBatchRelease,
    CreateService(Box<Service>),
    /// Strategic merge patch of a Service.
    PatchService {
        name: String,
        patch: Value,
    },
    DeleteService(String),
    CreateIngress(Box<Ingress>),
    PatchIngress {
        name: String,
        patch: Value,
    },
    DeleteIngress(String),
    /// The HTTPRoute's `spec.rules` replaced (resourceVersion kept).
    ReplaceRouteRules(Value),
}

/// An Event on the Rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub writes: Vec<Write>,
    pub status: RolloutStatus,
    pub requeue: Option<Duration>,
    /// Grace waits started by this pass's writes.
    pub graces: Vec<(Grace, Duration)>,
    pub events: Vec<Said>,
    /// The Rollout cannot be acted on (what upstream's webhook would have refused).
    pub refused: Option<String>,
}

impl Plan {
    pub fn recheck(&mut self, d: Duration) {
        if self.requeue.is_none_or(|r| d < r) {
            self.requeue = Some(d);
        }
    }
}

/// The working state of a pass.
pub(crate) struct Cx<'a> {
    pub s: &'a Snapshot<'a>,
    pub plan: Plan,
    /// The plan hash the Rollout's annotation holds once this pass's writes land (upstream
    /// `calculateRolloutHash` updates the annotation of the Rollout it goes on with).
    pub hash: String,
}

impl<'a> Cx<'a> {
    pub fn r(&self) -> &'a Rollout {
        self.s.rollout
    }
    pub fn now(&self) -> Time {
        Time(self.s.now)
    }
    pub fn steps(&self) -> &'a [CanaryStep] {
        steps(self.s.rollout)
    }
    pub fn routing(&self) -> Option<&'a TrafficRoutingRef> {
        routings(self.s.rollout).first()
    }
    pub fn write(&mut self, w: Write) {
        self.plan.writes.push(w);
    }
    pub fn say(&mut self, reason: &'static str, message: String) {
        self.plan.events.push(Said {
            warning: false,
            reason,
            message,
        });
    }
    /// The sub-status (canary or blue-green common part).
    pub fn common(&mut self) -> Option<&mut CommonStatus> {
        let st = &mut self.plan.status;
        match (&mut st.canary_status, &mut st.blue_green_status) {
            (Some(c), _) => Some(&mut c.common),
            (None, Some(b)) => Some(&mut b.common),
            _ => None,
        }
    }
}

pub fn steps(r: &Rollout) -> &[CanaryStep] {
    let s = &r.spec.strategy;
    match (&s.canary, &s.blue_green) {
        (Some(c), _) => &c.steps,
        (None, Some(b)) => &b.steps,
        _ => &[],
    }
}

pub fn routings(r: &Rollout) -> &[TrafficRoutingRef] {
    let s = &r.spec.strategy;
    let v = match (&s.canary, &s.blue_green) {
        (Some(c), _) => c.traffic_routings.as_ref(),
        (None, Some(b)) => b.traffic_routings.as_ref(),
        _ => None,
    };
    v.map(Vec::as_slice).unwrap_or(&[])
}

pub fn is_blue_green(r: &Rollout) -> bool {
    r.spec.strategy.canary.is_none() && r.spec.strategy.blue_green.is_some()
}

/// Partition style (`IsRealPartition`): every canary strategy but a Deployment with an extra
/// canary workload; blue-green never.
pub fn is_real_partition(r: &Rollout, kind: Option<TargetKind>) -> bool {
    let Some(c) = &r.spec.strategy.canary else {
        return false;
    };
    !(c.enable_extra_workload_for_canary == Some(true) && kind == Some(TargetKind::Deployment))
}

/// The Progressing condition's reason (empty without one).
pub fn conditions_reason(st: &RolloutStatus) -> String {
    conditions::reason(st)
}

/// The pass.
pub fn plan(s: &Snapshot) -> Plan {
    let mut cx = Cx {
        s,
        plan: Plan {
            status: s.rollout.status.clone().unwrap_or_default(),
            ..Default::default()
        },
        hash: String::new(),
    };
    if let Some(why) = super::validate::refusal(s.rollout, s.kind) {
        cx.plan.refused = Some(why.clone());
        cx.plan.status.message = Some(why);
        cx.plan.status.observed_generation = s.rollout.metadata.generation;
        return cx.plan;
    }
    let want = hash::rollout_hash(&s.rollout.spec.strategy);
    cx.hash = want.clone();
    let have = s
        .rollout
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(super::keys::HASH));
    if have != Some(&want) {
        cx.write(Write::PatchRollout(serde_json::json!({
            "metadata": {"annotations": {super::keys::HASH: want}}
        })));
    }
    if !progress::calculate(&mut cx, &want) {
        // Upstream retries before building a status: nothing of it is written, not even
        // observedGeneration.
        return cx.plan;
    }
    match cx.plan.status.phase.as_deref() {
        Some(PHASE_PROGRESSING) => progress::progressing(&mut cx),
        Some(PHASE_TERMINATING) => progress::terminating(&mut cx),
        Some(DISABLING) => progress::disabling(&mut cx),
        _ => {}
    }
    cx.plan.status.observed_generation = s.rollout.metadata.generation;
    mirror(&mut cx.plan.status);
    cx.plan
}

/// Passes in a row, in memory: upstream writes the status after every pass and that write wakes
/// the next one, so a state machine stepping through states with nothing else to do costs a
/// status write (and a round trip) per state. A pass whose only output is a new status is run
/// again here on that status, until one has writes to make (taken, and the chain ends there) or
/// changes nothing more; only the last status is written. Same objects, same end state; the
/// statuses in between are never seen by anyone. Bounded, as a state machine with a cycle would
/// otherwise spin.
pub fn settle(s: &Snapshot) -> Plan {
    let mut p = plan(s);
    let mut rollout = s.rollout.clone();
    for _ in 0..SETTLE_PASSES {
        let quiet = p.writes.is_empty() && p.graces.is_empty() && p.refused.is_none();
        if !quiet || rollout.status.as_ref() == Some(&p.status) {
            break;
        }
        rollout.status = Some(p.status.clone());
        let next = plan(&Snapshot {
            rollout: &rollout,
            kind: s.kind,
            workload: s.workload.clone(),
            br: s.br,
            net: s.net,
            now: s.now,
            graces: s.graces,
        });
        if next.status == p.status && next.writes.is_empty() {
            break;
        }
        let mut events = std::mem::take(&mut p.events);
        p = next;
        events.append(&mut p.events);
        p.events = events;
    }
    p
}

/// At most this many passes chained in memory.
pub const SETTLE_PASSES: usize = 8;

/// The top-level `currentStepIndex`/`currentStepState` copy the sub-status before every write.
fn mirror(st: &mut RolloutStatus) {
    let c = st
        .canary_status
        .as_ref()
        .map(|c| &c.common)
        .or(st.blue_green_status.as_ref().map(|b| &b.common));
    if let Some(c) = c {
        st.current_step_index = c.current_step_index;
        st.current_step_state = c.current_step_state.clone();
    }
}
