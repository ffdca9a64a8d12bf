//! Where a CloneSet rests, and the rollout status line that says how far it is: shared by
//! `rollout status`, the commands that drive a CloneSet, and the controller's status writes.

use kube::ResourceExt;

use crate::api::cloneset::CloneSet;
use crate::controller::intstr;

/// Where the CloneSet should rest: observed, all replicas present and available, and (unless
/// paused) as many pods updated as the partition allows. A paused CloneSet with updates
/// pending rests too: its controller has nothing to do until it is resumed.
pub fn at_goal(cs: &CloneSet) -> bool {
    matches!(status(cs).1, Phase::Complete | Phase::Paused)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Progressing,
    Complete,
    /// At rest but not rolled out: paused with pods still to update.
    Paused,
    Failed,
}

/// The rollout status line and where it stands.
pub fn status(cs: &CloneSet) -> (String, Phase) {
    let name = cs.name_any();
    let want = cs.spec.replicas.unwrap_or(1);
    let Some(st) = cs.status.as_ref() else {
        return (
            format!("Waiting for cloneset \"{name}\" to be observed by a controller..."),
            Phase::Progressing,
        );
    };
    if st.observed_generation < cs.metadata.generation.unwrap_or(0) {
        return (
            format!("Waiting for cloneset spec update of \"{name}\" to be observed..."),
            Phase::Progressing,
        );
    }
    if let Some(c) = st.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    }) {
        return (
            format!(
                "cloneset \"{name}\" failed: {}",
                c.message.clone().unwrap_or_default()
            ),
            Phase::Failed,
        );
    }
    let us = cs.spec.update_strategy.clone().unwrap_or_default();
    let partition = intstr::partition(us.partition.as_ref(), want).unwrap_or(0);
    let expected = want - partition;
    let paused = us.paused.unwrap_or(false);
    let updated_avail = st.updated_available_replicas.unwrap_or(0);
    if st.replicas > want {
        return (
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                st.replicas - want
            ),
            Phase::Progressing,
        );
    }
    if !paused && st.updated_replicas < expected {
        return (
            format!(
                "Waiting for rollout to finish: {} out of {expected} new replicas have been updated...",
                st.updated_replicas
            ),
            Phase::Progressing,
        );
    }
    if st.available_replicas < want || st.replicas < want {
        return (
            format!(
                "Waiting for rollout to finish: {} of {want} replicas are available...",
                st.available_replicas
            ),
            Phase::Progressing,
        );
    }
    if !paused && updated_avail < expected {
        return (
            format!(
                "Waiting for rollout to finish: {updated_avail} of {expected} updated replicas are available..."
            ),
            Phase::Progressing,
        );
    }
    if paused && st.updated_replicas < expected {
        return (
            format!(
                "cloneset \"{name}\" is paused with {} of {want} pods updated; `kubectl kruise rollout resume cloneset/{name}` goes on",
                st.updated_replicas
            ),
            Phase::Paused,
        );
    }
    let line = if partition > 0 {
        format!(
            "cloneset \"{name}\" partition rolled out: {} of {want} pods updated, {partition} kept at the old revision by the partition",
            st.updated_replicas
        )
    } else {
        format!("cloneset \"{name}\" successfully rolled out")
    };
    (line, Phase::Complete)
}
