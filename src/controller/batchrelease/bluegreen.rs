//! Blue-green style (v1beta1 `blueGreen`, Deployment and CloneSet; upstream
//! `control/bluegreenstyle`). No extra workload and no partition: the workload's own surge
//! brings new pods up beside the old ones, and a `minReadySeconds` of about 68 years keeps
//! every pod "unavailable", so with `maxUnavailable: 0` the native controller never removes an
//! old pod. The user's settings are saved in `rollouts.kruise.io/original-deployment-strategy`
//! and put back at the end, when the old pods go. An HPA aimed at the workload is pointed
//! elsewhere meanwhile (its target name gets `-DisableByRollout`). Pure.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::target::Target;
use crate::controller::intstr;
use crate::controller::rollout::keys;
use crate::controller::rollout::workload::TargetKind;

/// `v1beta1.MaxProgressSeconds` and `MaxReadySeconds` (one less).
pub const MAX_PROGRESS_SECONDS: i32 = i32::MAX;
pub const MAX_READY_SECONDS: i32 = MAX_PROGRESS_SECONDS - 1;
/// Where the user's strategy is kept during the release.
pub const ORIGINAL: &str = "rollouts.kruise.io/original-deployment-strategy";
/// Added to an HPA's target name to make it miss the workload.
pub const HPA_DISABLE_SUFFIX: &str = "-DisableByRollout";

/// What blue-green reads of the workload beyond the common target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// `spec.strategy.type` (Deployment) or `spec.updateStrategy.type` (CloneSet).
    pub strategy_type: Option<String>,
    /// Deployment: `spec.strategy.rollingUpdate` is set.
    pub has_rolling_update: bool,
    pub max_surge: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub min_ready: i32,
    pub progress_deadline: Option<i32>,
    /// The saved settings, as written (absent: not claimed, or already restored).
    pub original: Option<String>,
    pub paused: bool,
    pub being_deleted: bool,
    /// Status: all pods, ready pods, available pods.
    pub status_replicas: i32,
    pub ready: i32,
    pub available: i32,
    /// Deployment: the stable ReplicaSet (the oldest active one) and its `minReadySeconds`.
    pub stable_rs: Option<(String, i32)>,
    /// The HPA aimed at the workload, read when claiming and releasing it.
    pub hpa: Option<Hpa>,
}

/// An HPA aimed at the workload (found by kind, API version and name less the suffix).
#[derive(Debug, Clone, PartialEq)]
pub struct Hpa {
    pub name: String,
    /// Its `spec.scaleTargetRef` as read.
    pub api_version: String,
    pub kind: String,
    pub target: String,
}

/// The user's settings (upstream `OriginalDeploymentStrategy`; the same JSON keys).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Original {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_surge: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_ready_seconds: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_deadline_seconds: Option<i32>,
}

/// The saved settings as they are (`GetOriginalSetting`): what `Finalize` puts back.
pub fn saved(f: &Facts) -> Result<Original, String> {
    match f.original.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => serde_json::from_str(s)
            .map_err(|e| format!("the annotation {ORIGINAL} is not valid JSON: {e}")),
        None => Ok(Original::default()),
    }
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

fn pct(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

/// The saved settings, the fields not saved yet filled from the workload
/// (`GetOriginalSetting` + `InitOriginalSetting`; a kept value is never overwritten, so a
/// second claim keeps the user's first settings). Defaults as the native controllers':
/// Deployment 25 %/25 %, 600 s; CloneSet 0 % surge, 20 % unavailable.
pub fn original(kind: TargetKind, f: &Facts) -> Result<Original, String> {
    let mut o = saved(f)?;
    let deployment = kind == TargetKind::Deployment;
    let (surge, unavailable) = if deployment {
        ("25%", "25%")
    } else {
        ("0%", "20%")
    };
    if o.max_surge.is_none() {
        o.max_surge = Some(f.max_surge.clone().unwrap_or_else(|| pct(surge)));
    }
    if o.max_unavailable.is_none() {
        o.max_unavailable = Some(
            f.max_unavailable
                .clone()
                .unwrap_or_else(|| pct(unavailable)),
        );
    }
    if deployment && o.progress_deadline_seconds.is_none() {
        o.progress_deadline_seconds = Some(f.progress_deadline.unwrap_or(600));
    }
    if o.min_ready_seconds == 0 {
        o.min_ready_seconds = f.min_ready;
    }
    Ok(o)
}

/// The claim (`Initialize`): settings saved, control-info written, surge 1 and unavailable 0,
/// `minReadySeconds` at its maximum (and the Deployment's progress deadline). A Deployment's
/// stable ReplicaSet gets the same `minReadySeconds` first, so its pods stay put if the
/// release is rolled back before the traffic has moved.
pub fn claim(t: &Target, f: &Facts, info: &str) -> Result<(Option<Value>, Value), String> {
    let o = original(t.kind, f)?;
    let saved = serde_json::to_string(&o).map_err(|e| e.to_string())?;
    let meta = json!({"annotations": {ORIGINAL: saved, keys::CONTROL_INFO: info}});
    let rs = f
        .stable_rs
        .as_ref()
        .filter(|_| t.kind == TargetKind::Deployment)
        .map(|_| json!({"spec": {"minReadySeconds": MAX_READY_SECONDS}}));
    let patch = match t.kind {
        TargetKind::Deployment => json!({"metadata": meta, "spec": {
            "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "minReadySeconds": MAX_READY_SECONDS,
            "progressDeadlineSeconds": MAX_PROGRESS_SECONDS}}),
        _ => json!({"metadata": meta, "spec": {
            "updateStrategy": {"paused": false, "maxSurge": 1, "maxUnavailable": 0},
            "minReadySeconds": MAX_READY_SECONDS}}),
    };
    Ok((rs, patch))
}

/// Why the workload is not ready for a batch (`ValidateReadyForBlueGreenRelease`).
pub fn not_ready(t: &Target, f: &Facts) -> Option<String> {
    if !t.controlled {
        return Some("workload has no control info annotation".into());
    }
    let ty = f.strategy_type.as_deref().filter(|s| !s.is_empty());
    match t.kind {
        TargetKind::Deployment => {
            if ty.is_some_and(|t| t != "RollingUpdate") {
                return Some("deployment strategy type is not RollingUpdate".into());
            }
            if !f.has_rolling_update {
                return Some("deployment strategy rollingUpdate is nil".into());
            }
            if f.min_ready != MAX_READY_SECONDS || f.progress_deadline != Some(MAX_PROGRESS_SECONDS)
            {
                return Some("deployment strategy minReadySeconds or progressDeadlineSeconds is not MaxReadySeconds or MaxProgressSeconds".into());
            }
        }
        _ => {
            if ty.is_some_and(|t| t != "ReCreate") {
                return Some("cloneSet strategy type is not ReCreate".into());
            }
            if f.min_ready != MAX_READY_SECONDS {
                return Some("cloneSet strategy minReadySeconds is not MaxReadySeconds".into());
            }
        }
    }
    None
}

/// The surge now, as a count: upstream reads a surge of exactly 1 as its own initial value,
/// that is none yet.
fn current_surge(f: &Facts, replicas: i32) -> i32 {
    match &f.max_surge {
        None | Some(IntOrString::Int(1)) => 0,
        Some(s) => intstr::kruise(s, replicas, true).unwrap_or(0),
    }
}

/// The batch move (`UpgradeBatch`): the surge raised to the batch, never lowered; the
/// Deployment unpaused (the gate paused it), the CloneSet's partition removed.
pub fn upgrade(t: &Target, f: &Facts, batch: &IntOrString) -> Result<Option<Value>, String> {
    if let Some(why) = not_ready(t, f) {
        return Err(format!(
            "cannot upgrade batch, because {} {} doesn't satisfy conditions: {why}",
            t.kind.type_label(),
            t.name
        ));
    }
    let desired = intstr::kruise(batch, t.replicas, true).unwrap_or(0);
    if current_surge(f, t.replicas) >= desired {
        return Ok(None);
    }
    Ok(Some(match t.kind {
        TargetKind::Deployment => json!({"spec": {"paused": false, "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": batch, "maxUnavailable": 0}}}}),
        _ => json!({"spec": {"updateStrategy": {"partition": null, "maxSurge": batch}}}),
    }))
}

/// New pods a batch waits for: a Deployment's `NewRSReplicasLimit` (a percentage other than
/// 100 % leaves one old pod), a CloneSet's surge rounded up.
pub fn desired_updated(t: &Target, batch: &IntOrString) -> i32 {
    let r = t.replicas;
    let scaled = intstr::kruise(batch, r, true).unwrap_or(0);
    if t.kind != TargetKind::Deployment {
        return scaled;
    }
    let mut limit = scaled.min(r).max(0);
    if r > 1 && matches!(batch, IntOrString::String(s) if s != "100%") {
        limit = limit.min(r - 1);
    }
    limit
}

/// The release's end (`Finalize`). `Ok(writes, done)`. With a batch partition set (a
/// continuous release, which blue-green refuses) nothing is touched. Otherwise the settings
/// come back and the marks go; then it waits until every pod is updated and ready (the old
/// ones gone), and points the HPA back.
pub fn finalize(
    t: &Target,
    f: &Facts,
    finished: bool,
) -> Result<(Vec<Value>, Option<Value>, bool), String> {
    if !finished {
        return Ok((vec![], None, true));
    }
    let mut writes = vec![];
    let restored = f.being_deleted || f.original.as_deref().is_none_or(str::is_empty);
    if !restored {
        let o = saved(f)?;
        writes.push(match t.kind {
            TargetKind::Deployment => json!({
                "metadata": {
                    "annotations": {ORIGINAL: null, keys::CONTROL_INFO: null},
                    "labels": {keys::STABLE_REVISION: null}},
                "spec": {"paused": false,
                    "minReadySeconds": o.min_ready_seconds,
                    "progressDeadlineSeconds": o.progress_deadline_seconds,
                    "strategy": {"rollingUpdate": {
                        "maxSurge": o.max_surge, "maxUnavailable": o.max_unavailable}}}}),
            _ => json!({
                "metadata": {"annotations": {ORIGINAL: null, keys::CONTROL_INFO: null}},
                "spec": {"minReadySeconds": o.min_ready_seconds,
                    "updateStrategy": {
                        "maxSurge": o.max_surge, "maxUnavailable": o.max_unavailable}}}),
        });
        return Ok((writes, None, false));
    }
    if !all_updated_and_ready(t, f) {
        return Ok((writes, None, false));
    }
    Ok((writes, f.hpa.as_ref().and_then(restore_hpa), true))
}

/// Every pod updated and ready. A Deployment also unpaused and within its `maxUnavailable`
/// (`waitAllUpdatedAndReady`); a CloneSet: ready == updated-ready.
fn all_updated_and_ready(t: &Target, f: &Facts) -> bool {
    if f.being_deleted {
        return true;
    }
    match t.kind {
        TargetKind::Deployment => {
            let unavailable = f
                .max_unavailable
                .as_ref()
                .and_then(|m| intstr::kruise(m, t.replicas, false))
                .unwrap_or(0);
            !f.paused
                && t.consistent
                && f.ready == t.updated
                && t.updated == t.replicas
                && f.available + unavailable >= f.status_replicas
        }
        _ => t.consistent && f.ready == t.updated_ready && t.updated == t.replicas,
    }
}

fn strip(name: &str) -> &str {
    let mut n = name;
    while let Some(s) = n.strip_suffix(HPA_DISABLE_SUFFIX) {
        n = s;
    }
    n
}

/// Does this HPA aim at the workload (`findHPA`)?
pub fn aims_at(h: &Hpa, api_version: &str, kind: &str, name: &str) -> bool {
    h.api_version == api_version && h.kind == kind && strip(&h.target) == name
}

fn target_patch(h: &Hpa, name: String) -> Value {
    json!({"spec": {"scaleTargetRef": {
        "apiVersion": h.api_version, "kind": h.kind, "name": name}}})
}

/// `DisableHPA`: the target name gets the suffix (once).
pub fn disable_hpa(h: &Hpa) -> Option<Value> {
    (!h.target.ends_with(HPA_DISABLE_SUFFIX))
        .then(|| target_patch(h, format!("{}{HPA_DISABLE_SUFFIX}", h.target)))
}

/// `RestoreHPA`: every suffix removed.
pub fn restore_hpa(h: &Hpa) -> Option<Value> {
    h.target
        .ends_with(HPA_DISABLE_SUFFIX)
        .then(|| target_patch(h, strip(&h.target).to_string()))
}

#[cfg(test)]
#[path = "bluegreen_tests.rs"]
mod tests;
