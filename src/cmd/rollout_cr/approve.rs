//! Writes to a Rollout's status that a person makes: `rollout approve` (the step paused for
//! approval becomes `StepReady`) and `rollout undo --fast` (`nextStepIndex` back to an earlier
//! step without traffic). Each is one merge patch of the status subresource carrying the
//! resourceVersion it was computed from, so a concurrent write (the controller's, or another
//! approve) makes it fail with 409 instead of being overwritten. On a conflict the object is
//! read again once: if it still stands where it stood, the write is retried; if it moved, the
//! command says so and writes nothing (two approves at once advance exactly one step).

use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use super::view::{self, step};
use super::{api, get, target};
use crate::api::Rollout;
use crate::cli::DryRun;
use crate::client::write::{Change, apply_locally};
use crate::cmd::workload::{Cx, Written};
use crate::error::{Error, Result, from_kube};

/// Where a Rollout's sub-status stands: the part a status write depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Standing {
    index: i32,
    state: String,
}

fn standing(ro: &Rollout) -> Option<Standing> {
    view::sub(ro).map(|s| Standing {
        index: s.common.current_step_index,
        state: s.common.current_step_state.clone(),
    })
}

/// `step 1/3`.
fn step_of(ro: &Rollout, index: i32) -> String {
    format!("step {index}/{}", view::steps(ro).len())
}

/// The approve patch for `ro` (without resourceVersion), or why it is refused.
pub fn approve_patch(ro: &Rollout) -> Result<Value> {
    let name = ro.name_any();
    let phase = ro
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let not_waiting = |why: String| {
        Error::other(format!(
            "rollout \"{name}\" is not waiting for approval: {why}"
        ))
    };
    let sub = view::sub(ro);
    let Some(sub) = sub.filter(|_| phase == "Progressing") else {
        let p = if phase.is_empty() { "none" } else { &phase };
        return Err(not_waiting(format!("no release in progress (phase {p})")));
    };
    let (index, state) = (
        sub.common.current_step_index,
        sub.common.current_step_state.as_str(),
    );
    let at = step_of(ro, index);
    let total = view::steps(ro).len();
    if index < 1 || index as usize > total {
        return Err(not_waiting(format!(
            "its current step {index} is not one of its {total} steps ({state:?}); look at it with `kubectl get rollout {name} -o yaml`"
        )));
    }
    match state {
        step::PAUSED => Ok(json!({"status": {
            sub.field: {"currentStepState": step::READY},
            "currentStepState": step::READY,
        }})),
        step::READY => Err(not_waiting(format!("{at} is already approved (StepReady)"))),
        "" => Err(not_waiting(format!("{at} has no state yet"))),
        other => Err(not_waiting(format!("{at} is {other}"))),
    }
}

/// The `undo --fast` patch: `nextStepIndex` to the previous step without traffic that has the
/// most replicas (kruise-tools' "fast rollback"), or why there is none.
pub fn fast_patch(ro: &Rollout, workload_replicas: Option<i32>) -> Result<(Value, i32)> {
    let name = ro.name_any();
    let phase = ro
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let Some(sub) = view::sub(ro).filter(|_| phase == "Progressing") else {
        return Err(Error::other(format!(
            "rollout \"{name}\" has no release in progress to roll back step by step; `kubectl kruise rollout undo rollout/{name}` rolls its workload back"
        )));
    };
    let steps = view::steps(ro);
    let current = sub.common.current_step_index;
    if current < 1 || current as usize > steps.len() {
        return Err(Error::other(format!(
            "rollout \"{name}\" has {} steps, but its current step is {current}",
            steps.len()
        )));
    }
    if current == 1 {
        return Err(Error::other(format!(
            "rollout \"{name}\" is already at the first step"
        )));
    }
    let target = previous_quiet_step(steps, current, workload_replicas).ok_or_else(|| {
        Error::other(format!(
            "rollout \"{name}\" has no step before step {current} without traffic to go back to"
        ))
    })?;
    Ok((
        json!({"status": {sub.field: {"nextStepIndex": target}}}),
        target,
    ))
}

fn has_traffic(s: &crate::api::rollout::CanaryStep) -> bool {
    match s.traffic.as_deref() {
        None => false,
        // An unparsable share counts as traffic (not a quiet step).
        Some(t) => !t
            .trim_end_matches('%')
            .parse::<f64>()
            .is_ok_and(|v| v == 0.0),
    }
}

/// The 1-based step before `current` with no traffic and the most replicas (scaled against the
/// workload's; against 100 when unknown, as kruise-tools does); on a tie the later step.
pub fn previous_quiet_step(
    steps: &[crate::api::rollout::CanaryStep],
    current: i32,
    workload_replicas: Option<i32>,
) -> Option<i32> {
    let total = workload_replicas.unwrap_or(100);
    let mut best: Option<(i32, i32)> = None;
    for i in (1..current).rev() {
        let Some(s) = steps.get((i - 1) as usize) else {
            continue;
        };
        if has_traffic(s) {
            continue;
        }
        let r = view::step_replicas(s, total).unwrap_or(0);
        if best.is_none_or(|(_, b)| r > b) {
            best = Some((i, r));
        }
    }
    best.map(|(i, _)| i)
}

/// One guarded status write: `compute` decides from the object read; a conflict re-reads once
/// and retries only if the sub-status still stands where it stood.
async fn write_status(
    cx: &Cx<'_>,
    name: &str,
    mut compute: impl FnMut(&Rollout) -> Result<Value>,
) -> Result<Rollout> {
    let api = api(cx.kube);
    let pp = PatchParams {
        field_manager: Some(cx.write.field_manager.clone()),
        dry_run: cx.dry_run() == DryRun::Server,
        ..Default::default()
    };
    let mut ro = get(cx.kube, name).await?;
    let mut first: Option<Standing> = None;
    // The first attempt, and one more after a conflict if nothing moved.
    for _ in 0..2 {
        let now = standing(&ro);
        if let Some(before) = &first
            && now.as_ref() != Some(before)
        {
            return Err(match compute(&ro) {
                Err(e) => Error::other(format!(
                    "{e} (someone else changed it meanwhile; nothing written)"
                )),
                Ok(_) => {
                    let at = now
                        .map(|n| format!("{} is now {}", step_of(&ro, n.index), n.state))
                        .unwrap_or_default();
                    Error::other(format!(
                        "rollout \"{name}\" was moved by someone else meanwhile ({at}); nothing written: look with `kubectl kruise rollout status rollout/{name} --watch=false` and run the command again if still wanted"
                    ))
                }
            });
        }
        first.get_or_insert(now.unwrap_or(Standing {
            index: 0,
            state: String::new(),
        }));
        let mut patch = compute(&ro)?;
        if cx.dry_run() == DryRun::Client {
            return apply_locally(&ro, &Change::Merge(patch));
        }
        patch["metadata"] = json!({"resourceVersion": ro.resource_version().unwrap_or_default()});
        match api.patch_status(name, &pp, &Patch::Merge(&patch)).await {
            Ok(written) => return Ok(written),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                tracing::debug!("conflict writing the status of rollout {name}: re-reading");
                ro = get(cx.kube, name).await?;
            }
            Err(e) => return Err(from_kube(e, &cx.kube.server, Some(&target(cx.kube, name)))),
        }
    }
    Err(Error::Conflict(
        format!("rollouts.rollouts.kruise.io \"{name}\""),
        2,
    ))
}

fn changed(ro: &Rollout, done: String) -> Result<Written> {
    Ok(Written::Changed {
        object: serde_json::to_value(ro).map_err(|e| Error::other(e.to_string()))?,
        done,
        notes: if view::spec_paused(ro) {
            vec![format!(
                "note: rollout \"{}\" is paused: the approval takes effect once it is resumed (`kubectl kruise rollout resume rollout/{}`)",
                ro.name_any(),
                ro.name_any()
            )]
        } else {
            vec![]
        },
        drives: true,
    })
}

/// `rollout approve rollout/NAME`.
pub async fn approve(cx: &Cx<'_>, name: &str) -> Result<Written> {
    let ro = write_status(cx, name, approve_patch).await?;
    changed(&ro, "approved".into())
}

/// `rollout undo --fast rollout/NAME`.
pub async fn fast_undo(cx: &Cx<'_>, name: &str) -> Result<Written> {
    let first = get(cx.kube, name).await?;
    let replicas = super::workload_replicas(cx.kube, &first).await;
    let mut to = 0;
    let ro = write_status(cx, name, |ro| {
        let (patch, t) = fast_patch(ro, replicas)?;
        to = t;
        Ok(patch)
    })
    .await?;
    let total = view::steps(&ro).len();
    changed(&ro, format!("rolled back to step {to}/{total}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rollout::CanaryStep;

    fn ro(phase: &str, sub: Option<(&str, i32, &str)>) -> Rollout {
        let mut status = json!({"phase": phase, "currentStepIndex": 0, "currentStepState": ""});
        if let Some((field, index, state)) = sub {
            let mut s = json!({"currentStepIndex": index, "currentStepState": state,
                "nextStepIndex": index + 1, "podTemplateHash": "", "finalisingStep": ""});
            if field == "canaryStatus" {
                s["canaryRevision"] = json!("");
                s["canaryReplicas"] = json!(1);
                s["canaryReadyReplicas"] = json!(1);
            } else {
                s["updatedRevision"] = json!("");
                s["updatedReplicas"] = json!(1);
                s["updatedReadyReplicas"] = json!(1);
            }
            status[field] = s;
        }
        serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "strategy": {"canary": {"steps": [
                        {"replicas": 1, "pause": {}},
                        {"replicas": "40%", "traffic": "0%", "pause": {}},
                        {"replicas": "60%", "traffic": "20%", "pause": {}},
                        {"replicas": "100%", "pause": {}}]}}},
            "status": status
        }))
        .unwrap()
    }

    #[test]
    fn approve_writes_the_sub_status_and_its_mirror() {
        let p = approve_patch(&ro("Progressing", Some(("canaryStatus", 1, "StepPaused")))).unwrap();
        assert_eq!(
            p,
            json!({"status": {"canaryStatus": {"currentStepState": "StepReady"}, "currentStepState": "StepReady"}})
        );
        let p = approve_patch(&ro(
            "Progressing",
            Some(("blueGreenStatus", 2, "StepPaused")),
        ))
        .unwrap();
        assert_eq!(
            p["status"]["blueGreenStatus"]["currentStepState"],
            "StepReady"
        );
    }

    #[test]
    fn approve_refuses_what_does_not_wait() {
        let m = |r: Rollout| approve_patch(&r).unwrap_err().to_string();
        assert_eq!(
            m(ro("Progressing", Some(("canaryStatus", 1, "StepUpgrade")))),
            "rollout \"web\" is not waiting for approval: step 1/4 is StepUpgrade"
        );
        assert!(
            m(ro("Progressing", Some(("canaryStatus", 1, "StepReady"))))
                .contains("already approved")
        );
        assert!(
            m(ro("Healthy", Some(("canaryStatus", 4, "StepPaused"))))
                .contains("no release in progress (phase Healthy)")
        );
        assert!(m(ro("Progressing", None)).contains("no release in progress"));
        assert!(m(ro("", None)).contains("(phase none)"));
        assert!(
            m(ro("Progressing", Some(("canaryStatus", 2, "Weird")))).contains("step 2/4 is Weird")
        );
        assert!(
            m(ro("Progressing", Some(("canaryStatus", 7, "StepPaused"))))
                .contains("its current step 7 is not one of its 4 steps")
        );
    }

    #[test]
    fn fast_rollback_picks_the_quiet_step_with_most_replicas() {
        let r = ro("Progressing", Some(("canaryStatus", 4, "StepUpgrade")));
        let (p, to) = fast_patch(&r, Some(10)).unwrap();
        assert_eq!(to, 2, "step 2 (40%, traffic 0%) beats step 1 (1 pod)");
        assert_eq!(p, json!({"status": {"canaryStatus": {"nextStepIndex": 2}}}));
        let r = ro("Progressing", Some(("canaryStatus", 2, "StepPaused")));
        assert_eq!(fast_patch(&r, Some(10)).unwrap().1, 1);
        for (r, why) in [
            (
                ro("Progressing", Some(("canaryStatus", 1, "StepPaused"))),
                "already at the first step",
            ),
            (
                ro("Progressing", Some(("canaryStatus", 9, "StepPaused"))),
                "has 4 steps, but its current step is 9",
            ),
            (
                ro("Healthy", Some(("canaryStatus", 4, "Completed"))),
                "no release in progress",
            ),
        ] {
            let e = fast_patch(&r, Some(10)).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn no_quiet_step_before() {
        let steps: Vec<CanaryStep> = serde_json::from_value(json!([
            {"replicas": 1, "traffic": "10%", "pause": {}},
            {"replicas": 2, "traffic": "20%", "pause": {}},
            {"replicas": 3, "pause": {}}]))
        .unwrap();
        assert_eq!(previous_quiet_step(&steps, 3, Some(3)), None);
        assert_eq!(previous_quiet_step(&steps, 1, Some(3)), None);
        assert_eq!(previous_quiet_step(&[], 3, None), None);
    }
}
