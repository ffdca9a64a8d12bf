//! Where a Kruise Rollout stands, read from its status alone (pure): the one line `rollout
//! status` prints, the state a command decides on (rest, approval, failure), and the counts for
//! the bars. Any status is judged without a panic, however partial or odd (no sub-status, a
//! step index out of range, no steps, state strings this build does not know).

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::api::rollout::{CanaryStep, CommonStatus, Rollout, RolloutCondition};
use crate::controller::intstr;

/// Step states (`currentStepState`), as upstream spells them.
pub mod step {
    pub const BEFORE_UPGRADE: &str = "BeforeStepUpgrade";
    pub const UPGRADE: &str = "StepUpgrade";
    pub const TRAFFIC_ROUTING: &str = "StepTrafficRouting";
    pub const METRICS_ANALYSIS: &str = "StepMetricsAnalysis";
    pub const PAUSED: &str = "StepPaused";
    pub const READY: &str = "StepReady";
    pub const COMPLETED: &str = "Completed";
}

/// What a command decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No controller has taken the object (or its last spec change) in yet.
    Pending,
    /// A release moves (or a controller cleans up after one).
    Progressing,
    /// `StepPaused` with a `pause.duration`: it goes on by itself.
    TimedPause,
    /// `StepPaused` with no duration: waiting for `rollout approve`.
    WaitingApproval,
    /// `spec.strategy.paused` in a release, taken in by the controller.
    Paused,
    /// Healthy, and the last release succeeded.
    Succeeded,
    /// Healthy with no release in progress (and no verdict on a last one).
    Idle,
    Disabled,
    /// Healthy after a cancelled release (rolled back, or disabled mid-flight).
    Cancelled,
    /// Healthy with `Succeeded` False for another reason.
    Failed,
}

impl State {
    /// Where a driving command stops: the object waits for a person, or nothing moves.
    pub fn rests(self) -> bool {
        !matches!(
            self,
            State::Pending | State::Progressing | State::TimedPause
        )
    }

    /// A pause of any kind (what `--until-paused` stops at).
    pub fn paused(self) -> bool {
        matches!(
            self,
            State::TimedPause | State::WaitingApproval | State::Paused
        )
    }

    /// The release ended badly (exit 4).
    pub fn failed(self) -> bool {
        matches!(self, State::Cancelled | State::Failed)
    }
}

/// Canary (or blue-green "updated") pods of the current step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pods {
    pub replicas: i32,
    pub ready: i32,
    /// The step's replicas against the workload's: `None` when either is unknown.
    pub target: Option<i32>,
}

/// The judgement of one Rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub line: String,
    pub state: State,
    /// 1-based current step and the number of steps, during a release.
    pub step: Option<(i32, usize)>,
    /// The raw `currentStepState` during a release.
    pub step_state: String,
    pub pods: Option<Pods>,
    pub traffic: Option<String>,
    /// `metadata.resourceVersion`, to tell a controller's write from none.
    pub resource_version: String,
}

/// The sub-status in use: canary or blue-green, with its pod counts.
pub struct Sub<'a> {
    pub common: &'a CommonStatus,
    pub field: &'static str,
    pub replicas: i32,
    pub ready: i32,
    /// `canary` or `new` (blue-green's updated pods).
    pub noun: &'static str,
}

pub fn sub(ro: &Rollout) -> Option<Sub<'_>> {
    let st = ro.status.as_ref()?;
    if let Some(c) = &st.canary_status {
        return Some(Sub {
            common: &c.common,
            field: "canaryStatus",
            replicas: c.canary_replicas,
            ready: c.canary_ready_replicas,
            noun: "canary",
        });
    }
    st.blue_green_status.as_ref().map(|b| Sub {
        common: &b.common,
        field: "blueGreenStatus",
        replicas: b.updated_replicas,
        ready: b.updated_ready_replicas,
        noun: "new",
    })
}

/// The strategy's steps (canary or blue-green; none when it has neither).
pub fn steps(ro: &Rollout) -> &[CanaryStep] {
    let s = &ro.spec.strategy;
    s.canary
        .as_ref()
        .map(|c| c.steps.as_slice())
        .or(s.blue_green.as_ref().map(|b| b.steps.as_slice()))
        .unwrap_or_default()
}

/// Step `index` (1-based), if there is one.
pub fn step_at(ro: &Rollout, index: i32) -> Option<&CanaryStep> {
    let i = usize::try_from(index).ok()?.checked_sub(1)?;
    steps(ro).get(i)
}

/// A step's replicas against the workload's, as upstream scales them (percentages round up),
/// capped to the workload.
pub fn step_replicas(step: &CanaryStep, workload_replicas: i32) -> Option<i32> {
    let v = intstr::kruise(step.replicas.as_ref()?, workload_replicas, true)?;
    Some(v.clamp(0, workload_replicas.max(0)))
}

fn condition<'a>(ro: &'a Rollout, type_: &str) -> Option<&'a RolloutCondition> {
    ro.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// `spec.strategy.paused`.
pub fn spec_paused(ro: &Rollout) -> bool {
    ro.spec.strategy.paused == Some(true)
}

/// The controller has not taken the latest spec in yet.
fn behind(ro: &Rollout) -> Option<(i64, i64)> {
    let generation = ro.metadata.generation?;
    let observed = ro.status.as_ref()?.observed_generation?;
    (observed < generation).then_some((observed, generation))
}

fn cancelled_message(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    m.contains("cancelled") || m.contains("canceled")
}

/// Judge `ro`; `workload_replicas` scales the step's replicas (unknown: counts only).
pub fn judge(ro: &Rollout, workload_replicas: Option<i32>, now: Timestamp) -> View {
    let name = ro.name_any();
    let st = ro.status.clone().unwrap_or_default();
    let phase = st.phase.clone().unwrap_or_default();
    let message = st.message.clone().unwrap_or_default();
    let progressing = condition(ro, "Progressing");
    let succeeded = condition(ro, "Succeeded");
    let reason = progressing.map(|c| c.reason.as_str()).unwrap_or_default();
    let sub = sub(ro);
    let total = steps(ro).len();
    let mut view = View {
        line: String::new(),
        state: State::Progressing,
        step: None,
        step_state: String::new(),
        pods: None,
        traffic: None,
        resource_version: ro.resource_version().unwrap_or_default(),
    };
    let head = format!("rollout \"{name}\"");
    let with_message = |s: String| {
        if message.is_empty() {
            s
        } else {
            format!("{s}: {message}")
        }
    };
    // Whole-object states first: they say nothing about steps.
    let whole: Option<(State, String)> = if ro.metadata.deletion_timestamp.is_some()
        || phase == "Terminating"
    {
        Some((State::Progressing, format!("{head}: terminating")))
    } else if phase == "Disabled" {
        Some((State::Disabled, format!("{head}: disabled")))
    } else if phase == "Disabling" {
        Some((
            State::Progressing,
            with_message(format!("{head}: disabling")),
        ))
    } else if phase.is_empty() || phase == "Initial" {
        let p = if phase.is_empty() { "none" } else { &phase };
        Some((
            State::Pending,
            with_message(format!(
                "{head}: waiting for a controller to take it in (phase {p})"
            )),
        ))
    } else if let Some((observed, generation)) = behind(ro) {
        Some((
            State::Pending,
            format!(
                "{head}: waiting for the controller to observe generation {generation} (observed {observed})"
            ),
        ))
    } else if phase == "Healthy" {
        let paused = if spec_paused(ro) { " (paused)" } else { "" };
        Some(match (succeeded.map(|c| c.status.as_str()), progressing) {
            (Some("True"), _) => (
                State::Succeeded,
                format!("{head} successfully rolled out{paused}"),
            ),
            (_, Some(p)) if p.reason == "Completed" && cancelled_message(&p.message) => (
                State::Cancelled,
                format!("{head}: release cancelled ({}){paused}", p.message),
            ),
            (Some("False"), _) => {
                let why = progressing
                    .map(|p| p.message.clone())
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| message.clone());
                if cancelled_message(&why) {
                    (
                        State::Cancelled,
                        format!("{head}: release cancelled ({why}){paused}"),
                    )
                } else if why.is_empty() {
                    (State::Failed, format!("{head}: release failed{paused}"))
                } else {
                    (
                        State::Failed,
                        format!("{head}: release failed ({why}){paused}"),
                    )
                }
            }
            _ => (
                State::Idle,
                format!("{head}: healthy, no release in progress{paused}"),
            ),
        })
    } else if phase != "Progressing" {
        Some((
            State::Progressing,
            with_message(format!("{head}: phase {phase}")),
        ))
    } else {
        None
    };
    if let Some((state, line)) = whole {
        view.state = state;
        view.line = line;
        return view;
    }

    // In a release.
    let Some(sub) = sub else {
        view.line = match reason {
            "" => with_message(format!("{head}: progressing")),
            r => with_message(format!("{head}: progressing ({r})")),
        };
        if spec_paused(ro) {
            view.state = State::Paused;
            view.line = format!(
                "{}, paused (resume with `kubectl kruise rollout resume rollout/{name}`)",
                view.line
            );
        }
        return view;
    };
    let index = sub.common.current_step_index;
    let state = sub.common.current_step_state.clone();
    let step = step_at(ro, index);
    view.step = Some((index, total));
    view.step_state = state.clone();
    let pods = Pods {
        replicas: sub.replicas,
        ready: sub.ready,
        target: step
            .zip(workload_replicas)
            .and_then(|(s, r)| step_replicas(s, r)),
    };
    view.traffic = step.and_then(|s| s.traffic.clone());
    let mut parts = vec![format!(
        "step {index}/{total} {}",
        if state.is_empty() {
            "(no state)"
        } else {
            &state
        }
    )];
    parts.push(match pods.target {
        Some(t) => format!("{} pods {}/{t} ready", sub.noun, pods.ready),
        None => format!(
            "{} pods {} ready of {}",
            sub.noun, pods.ready, pods.replicas
        ),
    });
    match (&view.traffic, step.and_then(|s| s.matches.as_ref())) {
        (Some(t), _) => parts.push(format!("traffic {t}")),
        (None, Some(m)) if !m.is_empty() => parts.push("traffic by request match".into()),
        _ => {}
    }
    view.pods = Some(pods);
    // Canary's last step at 100 % needs no approval; blue-green's does.
    let last_full = index as usize == total
        && ro.spec.strategy.blue_green.is_none()
        && matches!(
            step.and_then(|s| s.replicas.as_ref()),
            Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(r)) if r == "100%"
        );
    let (state_kind, tail): (State, String) = if spec_paused(ro) || reason == "Paused" {
        (
            State::Paused,
            format!("paused (resume with `kubectl kruise rollout resume rollout/{name}`)"),
        )
    } else if reason == "Cancelling" {
        (State::Progressing, "cancelling the release".into())
    } else if reason == "Finalising" {
        let f = &sub.common.finalising_step;
        (
            State::Progressing,
            if f.is_empty() {
                "finalising".into()
            } else {
                format!("finalising ({f})")
            },
        )
    } else if state == step::PAUSED && !last_full {
        match step.and_then(|s| s.pause.duration) {
            None => (State::WaitingApproval, "waiting for approval".into()),
            Some(d) => {
                let left = sub
                    .common
                    .last_update_time
                    .as_ref()
                    .map(|t| d as i64 - now.duration_since(t.0).as_secs());
                (
                    State::TimedPause,
                    match left {
                        Some(l) if l > 0 => format!("pausing {d}s, {l}s left"),
                        _ => format!("pausing {d}s"),
                    },
                )
            }
        }
    } else {
        let doing = match state.as_str() {
            step::BEFORE_UPGRADE => "starting the step",
            step::UPGRADE => "updating pods",
            step::TRAFFIC_ROUTING => "routing traffic",
            step::METRICS_ANALYSIS => "analysing",
            // The last step at 100 % needs no approval.
            step::PAUSED => "completing",
            step::READY => "approved, moving on",
            step::COMPLETED => "completing",
            _ => "",
        };
        (State::Progressing, doing.to_string())
    };
    if !tail.is_empty() {
        parts.push(tail);
    }
    view.state = state_kind;
    view.line = format!("{head}: {}", parts.join(", "));
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn now() -> Timestamp {
        "2026-11-23T12:00:10Z".parse().unwrap()
    }

    fn ro(status: Value) -> Rollout {
        ro_with(status, json!({}))
    }

    fn ro_with(status: Value, strategy_extra: Value) -> Rollout {
        let mut strategy = json!({"canary": {"steps": [
            {"replicas": 1, "traffic": "5%", "pause": {}},
            {"replicas": "50%", "traffic": "50%", "pause": {"duration": 30}},
            {"replicas": "100%", "pause": {}}
        ]}});
        if let (Some(s), Some(e)) = (strategy.as_object_mut(), strategy_extra.as_object()) {
            for (k, v) in e {
                s.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(json!({
            "apiVersion": "rollouts.kruise.io/v1beta1", "kind": "Rollout",
            "metadata": {"name": "web", "namespace": "ns", "generation": 2, "resourceVersion": "7"},
            "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "strategy": strategy},
            "status": status
        }))
        .unwrap()
    }

    fn canary(index: i32, state: &str) -> Value {
        json!({"observedGeneration": 2, "phase": "Progressing", "currentStepIndex": index,
               "currentStepState": state,
               "conditions": [{"type": "Progressing", "status": "True", "reason": "InRolling", "message": ""}],
               "canaryStatus": {"currentStepIndex": index, "currentStepState": state,
                   "nextStepIndex": index + 1, "podTemplateHash": "h", "finalisingStep": "",
                   "canaryRevision": "r", "canaryReplicas": 1, "canaryReadyReplicas": 1,
                   "lastUpdateTime": "2026-11-23T12:00:00Z"}})
    }

    #[test]
    fn waiting_for_approval_reads_like_the_brief() {
        let v = judge(&ro(canary(1, "StepPaused")), Some(10), now());
        assert_eq!(
            v.line,
            "rollout \"web\": step 1/3 StepPaused, canary pods 1/1 ready, traffic 5%, waiting for approval"
        );
        assert_eq!(v.state, State::WaitingApproval);
        assert!(v.state.rests() && v.state.paused() && !v.state.failed());
    }

    #[test]
    fn a_timed_pause_goes_on_by_itself() {
        let v = judge(&ro(canary(2, "StepPaused")), Some(10), now());
        assert_eq!(v.state, State::TimedPause);
        assert!(!v.state.rests() && v.state.paused());
        assert!(v.line.contains("canary pods 1/5 ready"), "{}", v.line);
        assert!(v.line.ends_with("pausing 30s, 20s left"), "{}", v.line);
    }

    #[test]
    fn the_last_full_step_needs_no_approval() {
        let v = judge(&ro(canary(3, "StepPaused")), Some(10), now());
        assert_eq!(v.state, State::Progressing);
    }

    #[test]
    fn step_states_and_unknown_ones() {
        let v = judge(&ro(canary(1, "StepUpgrade")), None, now());
        assert_eq!(v.state, State::Progressing);
        assert_eq!(
            v.line,
            "rollout \"web\": step 1/3 StepUpgrade, canary pods 1 ready of 1, traffic 5%, updating pods"
        );
        let v = judge(&ro(canary(1, "SomethingNew")), Some(3), now());
        assert_eq!(v.state, State::Progressing);
        assert!(v.line.contains("step 1/3 SomethingNew"), "{}", v.line);
        let v = judge(&ro(canary(9, "StepPaused")), Some(3), now());
        assert_eq!(v.state, State::WaitingApproval);
        assert!(v.line.contains("step 9/3 StepPaused"), "{}", v.line);
        let v = judge(&ro(canary(0, "")), Some(3), now());
        assert!(v.line.contains("step 0/3 (no state)"), "{}", v.line);
        let v = judge(&ro(canary(-4, "StepPaused")), Some(3), now());
        assert_eq!(v.state, State::WaitingApproval);
    }

    #[test]
    fn no_steps_at_all() {
        let mut r = ro(canary(1, "StepPaused"));
        r.spec.strategy.canary = None;
        let v = judge(&r, Some(3), now());
        assert!(v.line.contains("step 1/0 StepPaused"), "{}", v.line);
        assert_eq!(v.state, State::WaitingApproval);
    }

    #[test]
    fn healthy_succeeded_cancelled_failed_idle() {
        let healthy = |conds: Value| {
            ro(
                json!({"observedGeneration": 2, "phase": "Healthy", "conditions": conds,
                      "currentStepIndex": 3, "currentStepState": "Completed"}),
            )
        };
        let v = judge(
            &healthy(json!([
                {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been completed"},
                {"type": "Succeeded", "status": "True", "reason": "", "message": ""}])),
            None,
            now(),
        );
        assert_eq!(v.state, State::Succeeded);
        assert_eq!(v.line, "rollout \"web\" successfully rolled out");
        let v = judge(
            &healthy(json!([
                {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been cancelled"},
                {"type": "Succeeded", "status": "False", "reason": "", "message": ""}])),
            None,
            now(),
        );
        assert_eq!(v.state, State::Cancelled);
        assert!(v.state.failed() && v.state.rests());
        let v = judge(
            &healthy(
                json!([{"type": "Succeeded", "status": "False", "reason": "", "message": ""}]),
            ),
            None,
            now(),
        );
        assert_eq!(v.state, State::Failed);
        let v = judge(&healthy(json!([])), None, now());
        assert_eq!(v.state, State::Idle);
        assert_eq!(v.line, "rollout \"web\": healthy, no release in progress");
    }

    #[test]
    fn partial_and_odd_statuses_never_panic() {
        for status in [
            json!({}),
            json!({"phase": "Progressing"}),
            json!({"phase": "Progressing", "observedGeneration": 2}),
            json!({"phase": "Initial", "message": "Workload Not Found"}),
            json!({"phase": "Terminating"}),
            json!({"phase": "Disabled"}),
            json!({"phase": "Disabling"}),
            json!({"phase": "Whatever", "observedGeneration": 2}),
            json!({"phase": "Progressing", "observedGeneration": 1}),
            json!({"phase": "Progressing", "observedGeneration": 2,
                   "blueGreenStatus": {"currentStepIndex": 2, "currentStepState": "StepPaused",
                       "nextStepIndex": 3, "podTemplateHash": "", "finalisingStep": "",
                       "updatedRevision": "", "updatedReplicas": 2, "updatedReadyReplicas": 0}}),
        ] {
            let v = judge(&ro(status.clone()), Some(4), now());
            assert!(
                v.line.starts_with("rollout \"web\""),
                "{status}: {}",
                v.line
            );
        }
        assert_eq!(judge(&ro(json!({})), None, now()).state, State::Pending);
        let v = judge(
            &ro(json!({"phase": "Progressing", "observedGeneration": 1})),
            None,
            now(),
        );
        assert_eq!(v.state, State::Pending);
        let v = judge(
            &ro(json!({"phase": "Progressing", "observedGeneration": 2})),
            None,
            now(),
        );
        assert_eq!(
            (v.state, v.line.as_str()),
            (State::Progressing, "rollout \"web\": progressing")
        );
        let mut r = ro(json!({"phase": "Progressing", "observedGeneration": 2}));
        r.status = None;
        assert_eq!(judge(&r, None, now()).state, State::Pending);
    }

    #[test]
    fn paused_by_spec() {
        let v = judge(
            &ro_with(canary(1, "StepUpgrade"), json!({"paused": true})),
            Some(10),
            now(),
        );
        assert_eq!(v.state, State::Paused);
        assert!(v.line.contains("paused (resume with"), "{}", v.line);
    }

    #[test]
    fn step_replicas_scale_up_and_cap() {
        let s = |r: Value| -> CanaryStep {
            serde_json::from_value(json!({"replicas": r, "pause": {}})).unwrap()
        };
        assert_eq!(step_replicas(&s(json!("20%")), 3), Some(1));
        assert_eq!(step_replicas(&s(json!("60%")), 5), Some(3));
        assert_eq!(step_replicas(&s(json!(7)), 5), Some(5));
        assert_eq!(step_replicas(&s(json!("x")), 5), None);
    }
}
