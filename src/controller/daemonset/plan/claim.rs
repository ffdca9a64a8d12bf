//! The DaemonSet's pods: those it controls whose labels still match its selector; a pod it
//! controls whose labels no longer match is released (kube's ClaimPods), unless the pod is
//! going anyway. Orphans that match are not adopted (see the module notes of `reconciler`).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;

use super::Action;
use crate::api::daemonset::DaemonSet;
use crate::controller::{pod, selector};

/// The pods `ds` controls and keeps (terminating and finished ones included: upstream counts
/// them), pushing a release for each one it lets go.
pub(super) fn claim<'a>(
    ds: &DaemonSet,
    pods: &'a [Arc<Pod>],
    actions: &mut Vec<Action>,
) -> Vec<&'a Pod> {
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let mut owned = Vec::new();
    for p in pods.iter().map(|p| p.as_ref()) {
        let refs = p.metadata.owner_references.as_deref().unwrap_or_default();
        let ctrl = refs.iter().find(|r| r.controller == Some(true));
        if ctrl.is_none_or(|c| c.uid != uid) {
            continue;
        }
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if selector::matches(&ds.spec.selector, &labels).unwrap_or(false) {
            owned.push(p);
        } else if ds.metadata.deletion_timestamp.is_none()
            && p.metadata.deletion_timestamp.is_none()
        {
            actions.push(Action::Release {
                pod: pod::name(p).into(),
            });
        }
    }
    owned
}
