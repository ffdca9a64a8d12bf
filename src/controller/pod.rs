//! What a controller reads off a pod: active or not, Ready and for how long, available, the
//! lifecycle state, the revision — the predicates upstream's workload controllers share.

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::jiff::Timestamp;

/// Well-known keys (reference notes §2.1).
pub mod keys {
    pub const REVISION: &str = "controller-revision-hash";
    pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
    pub const INSTANCE_ID: &str = "apps.kruise.io/cloneset-instance-id";
    pub const STATE: &str = "lifecycle.apps.kruise.io/state";
    pub const STATE_TIMESTAMP: &str = "lifecycle.apps.kruise.io/timestamp";
    pub const SPECIFIED_DELETE: &str = "apps.kruise.io/specified-delete";
    pub const INPLACE_STATE: &str = "apps.kruise.io/inplace-update-state";
    pub const INPLACE_GRACE: &str = "apps.kruise.io/inplace-update-grace";
    pub const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";
    pub const INPLACE_READY: &str = "InPlaceUpdateReady";
    pub const REVISION_HASH: &str = "controller.kubernetes.io/hash";
    pub const VCT_HASH: &str = "kruise.io/cloneset-volumeclaimtemplate-hash";
    pub const EXCLUDE_PREPARING_DELETE: &str =
        "apps.kruise.io/cloneset-scaling-exclude-preparing-delete";
}

/// Lifecycle states (`lifecycle.apps.kruise.io/state`).
pub mod state {
    pub const PREPARING_NORMAL: &str = "PreparingNormal";
    pub const NORMAL: &str = "Normal";
    pub const PREPARING_UPDATE: &str = "PreparingUpdate";
    pub const UPDATING: &str = "Updating";
    pub const UPDATED: &str = "Updated";
    pub const PREPARING_DELETE: &str = "PreparingDelete";
}

/// The name every workload controller caches pods slimmed under: the runtime keeps one pod
/// cache, slimmed only when every reader asks for the same slimming (`runtime::Slim`).
pub const SLIM: &str = "workload-pod";

/// What the workload controllers read of a pod: all of its metadata, its containers' names and
/// images, its node (and the node affinity that pins a DaemonSet pod not yet scheduled), its
/// hostname and subdomain, the claims it mounts, its readiness gates, and its status less
/// addresses. Env, probes, resources, other volumes and the rest are most of a pod's bytes and
/// never read; the in-place update writes a patch of what it changes, never the cached pod.
pub fn slim(p: &mut Pod) {
    use k8s_openapi::api::core::v1::{Affinity, Container, PodSpec, Volume};
    if let Some(spec) = p.spec.take() {
        p.spec = Some(PodSpec {
            containers: spec
                .containers
                .into_iter()
                .map(|c| Container {
                    name: c.name,
                    image: c.image,
                    ..Default::default()
                })
                .collect(),
            node_name: spec.node_name,
            readiness_gates: spec.readiness_gates,
            hostname: spec.hostname,
            subdomain: spec.subdomain,
            affinity: spec
                .affinity
                .and_then(|a| a.node_affinity)
                .map(|n| Affinity {
                    node_affinity: Some(n),
                    ..Default::default()
                }),
            volumes: spec.volumes.map(|v| {
                v.into_iter()
                    .filter(|v| v.persistent_volume_claim.is_some())
                    .map(|v| Volume {
                        name: v.name,
                        persistent_volume_claim: v.persistent_volume_claim,
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        });
    }
    if let Some(st) = p.status.as_mut() {
        st.host_ip = None;
        st.host_ips = None;
        st.pod_ip = None;
        st.pod_ips = None;
        st.qos_class = None;
    }
}

pub fn label<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

pub fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

/// Not Succeeded/Failed and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    let p = phase(pod);
    p != "Succeeded" && p != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

pub fn condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

pub fn is_ready(pod: &Pod) -> bool {
    condition(pod, "Ready").is_some_and(|c| c.status == "True")
}

/// When the pod last became Ready (None when not Ready or unknown).
pub fn ready_since(pod: &Pod) -> Option<Timestamp> {
    condition(pod, "Ready")
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref().map(|t| t.0))
}

pub fn has_gate(pod: &Pod, gate: &str) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_ref())
        .is_some_and(|g| g.iter().any(|g| g.condition_type == gate))
}

/// Ready for at least `min_ready` seconds (`now` given, so planning stays pure).
pub fn ready_for(pod: &Pod, min_ready: i32, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready <= 0 {
        return true;
    }
    match ready_since(pod) {
        Some(t) => t.as_second() + i64::from(min_ready) <= now.as_second(),
        None => false,
    }
}

/// Upstream's "update-ready": Running, Ready for `min_ready` seconds, and `InPlaceUpdateReady`
/// absent or True.
pub fn update_ready(pod: &Pod, min_ready: i32, now: Timestamp) -> bool {
    phase(pod) == "Running"
        && ready_for(pod, min_ready, now)
        && condition(pod, keys::INPLACE_READY).is_none_or(|c| c.status == "True")
}

pub fn lifecycle_state(pod: &Pod) -> &str {
    label(pod, keys::STATE).unwrap_or_default()
}

/// Upstream's "available": lifecycle state empty or Normal, and update-ready.
pub fn available(pod: &Pod, min_ready: i32, now: Timestamp) -> bool {
    let s = lifecycle_state(pod);
    (s.is_empty() || s == state::NORMAL) && update_ready(pod, min_ready, now)
}

/// Does the pod's revision label name `revision`? Either the full name or the short hash.
pub fn revision_matches(pod_revision: &str, revision: &str) -> bool {
    if pod_revision.is_empty() {
        return false;
    }
    pod_revision == revision || short_hash(pod_revision) == short_hash(revision)
}

/// The text after the last `-` of a revision name.
pub fn short_hash(revision: &str) -> &str {
    revision.rsplit('-').next().unwrap_or(revision)
}

pub fn revision(pod: &Pod) -> &str {
    label(pod, keys::REVISION).unwrap_or_default()
}

/// Highest restart count over regular containers.
pub fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// `controller.kubernetes.io/pod-deletion-cost`: a canonical int32, anything else counts 0.
pub fn deletion_cost(pod: &Pod) -> i32 {
    let Some(v) = annotation(pod, keys::DELETION_COST) else {
        return 0;
    };
    match v.parse::<i32>() {
        Ok(n) if n.to_string() == v => n,
        _ => 0,
    }
}

pub fn created(pod: &Pod) -> Option<Timestamp> {
    pod.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

pub fn node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or_default()
}

/// Waiting reasons the kubelet reports for a container that will not start by waiting:
/// a release whose new pods show one cannot progress without a change of template.
pub const STUCK_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
];

/// The first container of the pod that is stuck (see [`STUCK_REASONS`]): its name, the
/// kubelet's reason and message.
pub fn stuck(pod: &Pod) -> Option<(String, String, String)> {
    let st = pod.status.as_ref()?;
    st.init_container_statuses
        .iter()
        .flatten()
        .chain(st.container_statuses.iter().flatten())
        .find_map(|c| {
            let w = c.state.as_ref()?.waiting.as_ref()?;
            let reason = w.reason.clone()?;
            STUCK_REASONS.contains(&reason.as_str()).then(|| {
                (
                    c.name.clone(),
                    reason,
                    w.message.clone().unwrap_or_default(),
                )
            })
        })
}
