//! A pod as a tree node (pure): kubectl's STATUS word, then ready, restarts, images, in-place
//! state, lifecycle state, release batch and node.

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::controller::pod::{self, keys};
use crate::controller::rollout::keys as rkeys;
use crate::output::tree::{Health, Node, Status};

/// kubectl's STATUS column, with a health for the icon.
pub fn status(p: &Pod) -> Status {
    if p.metadata.deletion_timestamp.is_some() {
        return Status::new(Health::Progressing, "Terminating");
    }
    if let Some((_, reason, _)) = pod::stuck(p) {
        return Status::new(Health::Warning, reason);
    }
    let phase = pod::phase(p);
    let st = p.status.as_ref();
    let waiting = st
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    let terminated = st
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| c.state.as_ref()?.terminated.as_ref()?.reason.clone());
    match phase {
        "Succeeded" => Status::new(Health::Healthy, "Completed"),
        "Failed" => Status::new(
            Health::Degraded,
            st.and_then(|s| s.reason.clone())
                .unwrap_or_else(|| "Error".into()),
        ),
        "Running" if pod::is_ready(p) => Status::new(Health::Healthy, "Running"),
        "Running" => match waiting.or(terminated) {
            Some(r) => Status::new(Health::Degraded, r),
            None => Status::new(Health::Progressing, "Running"),
        },
        "Pending" => Status::new(
            Health::Progressing,
            waiting.unwrap_or_else(|| "Pending".into()),
        ),
        "" => Status::new(Health::Progressing, "Pending"),
        other => Status::new(Health::Unknown, other),
    }
}

/// `ready:1/1`: ready containers of all regular ones.
fn ready(p: &Pod) -> String {
    let total = p.spec.as_ref().map_or(0, |s| s.containers.len());
    let ready = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().filter(|c| c.ready).count());
    format!("{ready}/{total}")
}

/// The images of its containers, comma-separated.
pub fn images(p: &Pod) -> String {
    p.spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

/// `updating` while an in-place update is not yet ready, `updated` once it is; nothing for a
/// pod never updated in place (or whose last in-place update is for another revision).
fn in_place(p: &Pod) -> &'static str {
    let Some(state) = pod::annotation(p, keys::INPLACE_STATE) else {
        return "";
    };
    let revision = serde_json::from_str::<serde_json::Value>(state)
        .ok()
        .and_then(|v| v.get("revision")?.as_str().map(str::to_string))
        .unwrap_or_default();
    if !pod::revision(p).is_empty() && revision != pod::revision(p) {
        return "";
    }
    match pod::condition(p, keys::INPLACE_READY).map(|c| c.status.as_str()) {
        Some("False") => "updating",
        _ if pod::annotation(p, keys::INPLACE_GRACE).is_some() => "updating",
        _ => "updated",
    }
}

/// The pod as a node; `role` is `canary`, `stable` or empty.
pub fn node(p: &Pod, role: &str) -> Node {
    let mut n = Node::new("Pod", p.name_any());
    n.status = Some(status(p));
    n.created = p
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string());
    n.info
        .add("role", role)
        .add("ready", ready(p))
        .add("restarts", pod::max_restarts(p).to_string())
        .add("image", images(p))
        .add("in-place", in_place(p))
        .add("lifecycle", pod::label(p, keys::STATE).unwrap_or_default())
        .add("batch", pod::label(p, rkeys::BATCH_ID).unwrap_or_default())
        .add(
            "node",
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
        );
    n
}

/// The revision a pod runs: `pod-template-hash` (a ReplicaSet's pods), else
/// `controller-revision-hash`.
pub fn revision(p: &Pod) -> &str {
    pod::label(p, rkeys::POD_TEMPLATE_HASH)
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| pod::revision(p))
}

/// Whether revision names `a` and `b` are the same revision (a full name or its hash).
pub fn same_revision(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && (a == b || pod::short_hash(a) == pod::short_hash(b))
}

/// Pods oldest first, by name when created together (ordinals in order).
pub fn sort(pods: &mut [&Pod]) {
    pods.sort_by(|a, b| {
        ordinal(a)
            .cmp(&ordinal(b))
            .then_with(|| a.name_any().cmp(&b.name_any()))
    });
}

/// A StatefulSet pod's ordinal, sorting `db-2` before `db-10`; others sort by name.
fn ordinal(p: &Pod) -> Option<u64> {
    p.name_any().rsplit('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn status_reads_as_kubectl_status_column() {
        let running = pod(
            json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "image": "x", "imageID": ""}]}}),
        );
        assert_eq!(status(&running), Status::new(Health::Healthy, "Running"));
        let pulling = pod(
            json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                "image": "x", "imageID": "", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}),
        );
        assert_eq!(
            status(&pulling),
            Status::new(Health::Warning, "ImagePullBackOff")
        );
        let creating = pod(
            json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                "image": "x", "imageID": "", "state": {"waiting": {"reason": "ContainerCreating"}}}]}}),
        );
        assert_eq!(
            status(&creating),
            Status::new(Health::Progressing, "ContainerCreating")
        );
        let going =
            pod(json!({"metadata": {"name": "a", "deletionTimestamp": "2026-01-01T00:00:00Z"}}));
        assert_eq!(status(&going).text, "Terminating");
        let unscheduled = pod(json!({"metadata": {"name": "a"}}));
        assert_eq!(status(&unscheduled).text, "Pending");
    }

    #[test]
    fn in_place_state_follows_the_readiness_condition() {
        let mk = |ready: &str, rev: &str| {
            pod(
                json!({"metadata": {"name": "a", "labels": {"controller-revision-hash": "web-2"},
                "annotations": {"apps.kruise.io/inplace-update-state": format!("{{\"revision\":\"{rev}\"}}")}},
                "status": {"conditions": [{"type": "InPlaceUpdateReady", "status": ready}]}}),
            )
        };
        assert_eq!(in_place(&mk("False", "web-2")), "updating");
        assert_eq!(in_place(&mk("True", "web-2")), "updated");
        assert_eq!(in_place(&mk("True", "web-1")), "");
        assert_eq!(in_place(&pod(json!({"metadata": {"name": "a"}}))), "");
    }

    #[test]
    fn ordinals_sort_numerically() {
        let (a, b, c) = (
            pod(json!({"metadata": {"name": "db-10"}})),
            pod(json!({"metadata": {"name": "db-2"}})),
            pod(json!({"metadata": {"name": "db-0"}})),
        );
        let mut v = vec![&a, &b, &c];
        sort(&mut v);
        let names: Vec<String> = v.iter().map(|p| p.name_any()).collect();
        assert_eq!(names, ["db-0", "db-2", "db-10"]);
        assert!(same_revision("web-7c9d", "7c9d") && !same_revision("", ""));
    }
}
