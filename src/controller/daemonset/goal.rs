//! Where an Advanced DaemonSet rests, and the rollout status line (kubectl's DaemonSet viewer
//! words): shared by `rollout status`, the commands that drive it, and the controller.
//!
//! How many pods an update leaves new depends on the nodes (the `rollingUpdate.selector`
//! picks them, the partition keeps some old), so the judgement reads the nodes too.

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;

use super::plan::{self, REFUSED_CONDITION};
use super::validate;
use crate::api::daemonset::{DaemonSet, DaemonSetUpdateStrategyType};
use crate::controller::selector;

pub use crate::controller::cloneset::goal::Phase;

/// Where the DaemonSet rests: observed, every desired pod available, as many updated as the
/// partition and node selector allow (a paused one rests with updates pending).
pub fn at_goal(ds: &DaemonSet, nodes: &[&Node]) -> bool {
    matches!(status(ds, nodes).1, Phase::Complete | Phase::Paused)
}

/// How many of the desired pods the update makes new, at rest.
pub fn expected_updated(ds: &DaemonSet, nodes: &[&Node]) -> i32 {
    let ds = validate::defaults(ds);
    let st = ds.status.clone().unwrap_or_default();
    let us = ds.spec.update_strategy.clone().unwrap_or_default();
    let Some(ru) = us
        .rolling_update
        .filter(|_| us.type_ == Some(DaemonSetUpdateStrategyType::RollingUpdate))
    else {
        return 0;
    };
    let Ok(t) = ds.spec.template.typed() else {
        return st.desired_number_scheduled;
    };
    let mut spec = t.spec.unwrap_or_default();
    plan::node::add_daemon_tolerations(&mut spec);
    let desired: Vec<&&Node> = nodes
        .iter()
        .filter(|n| plan::node::fit(&spec, n).run)
        .collect();
    let chosen = match &ru.selector {
        Some(sel) => desired
            .iter()
            .filter(|n| selector::matches(sel, n.labels()).unwrap_or(false))
            .count() as i32,
        None => desired.len() as i32,
    };
    let partition = ru
        .partition
        .as_ref()
        .and_then(|p| crate::controller::intstr::kruise(p, st.desired_number_scheduled, false))
        .unwrap_or(0);
    chosen.min(desired.len() as i32 - partition).max(0)
}

/// The rollout status line and where it stands.
pub fn status(ds: &DaemonSet, nodes: &[&Node]) -> (String, Phase) {
    let name = ds.name_any();
    let Some(st) = ds.status.as_ref() else {
        return (
            format!("Waiting for daemon set \"{name}\" to be observed by a controller..."),
            Phase::Progressing,
        );
    };
    if st.observed_generation.unwrap_or(0) < ds.metadata.generation.unwrap_or(0) {
        return (
            "Waiting for daemon set spec update to be observed...".into(),
            Phase::Progressing,
        );
    }
    if let Some(c) = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == REFUSED_CONDITION)
    {
        let why = c.message.clone().unwrap_or_default();
        return (
            format!("daemon set \"{name}\" failed: {why}"),
            Phase::Failed,
        );
    }
    let desired = st.desired_number_scheduled;
    let updated = st.updated_number_scheduled;
    let available = st.number_available.unwrap_or(0);
    let expected = expected_updated(ds, nodes);
    let paused = ds
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.paused)
        .unwrap_or(false);
    if updated < expected {
        let line = format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {updated} out of {expected} new pods have been updated..."
        );
        return (
            line,
            if paused {
                Phase::Paused
            } else {
                Phase::Progressing
            },
        );
    }
    if available < desired {
        return (
            format!(
                "Waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available..."
            ),
            Phase::Progressing,
        );
    }
    (
        format!("daemon set \"{name}\" successfully rolled out"),
        Phase::Complete,
    )
}
