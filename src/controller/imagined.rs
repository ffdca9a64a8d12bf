//! The imagined cluster the plan previews (and the plan tests) run against: the writes of a
//! pass applied to pods, claims and revisions held in memory, and a scheduler and kubelet that
//! act at once (every pod placed, every container started, changed images restarted, Ready
//! from the readiness gates). Shared by every kind's preview.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{
    ContainerStatus, PersistentVolumeClaim, Pod, PodCondition, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use crate::controller::actions::{Action, PodMarks, RevisionWrite};
use crate::controller::inplace_state::{self, set_meta};
use crate::controller::pod::{self, keys};

const NODES: [&str; 3] = ["node-a", "node-b", "node-c"];

/// What a pass writes to, in memory.
pub struct World<'a> {
    pub pods: &'a mut Vec<Arc<Pod>>,
    pub pvcs: &'a mut Vec<PersistentVolumeClaim>,
    pub now: Timestamp,
}

pub fn set_cond(p: &mut Pod, type_: &str, status: &str, now: Timestamp) {
    let st = p.status.get_or_insert_with(PodStatus::default);
    let conds = st.conditions.get_or_insert_with(Vec::new);
    let t = Some(Time(now));
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => {}
        Some(c) => {
            c.status = status.into();
            c.last_transition_time = t;
            c.reason = None;
            c.message = None;
        }
        None => conds.push(PodCondition {
            type_: type_.into(),
            status: status.into(),
            last_transition_time: t,
            ..Default::default()
        }),
    }
}

/// The revision write: a new revision, or an older one renumbered.
pub fn apply_revision(
    revisions: &mut Vec<ControllerRevision>,
    write: Option<&RevisionWrite>,
    now: Timestamp,
) {
    match write {
        Some(RevisionWrite::Create { revision, .. }) => {
            let mut r = (**revision).clone();
            r.metadata.creation_timestamp = Some(Time(now));
            revisions.push(r);
        }
        Some(RevisionWrite::Renumber { name, revision, .. }) => {
            if let Some(r) = revisions.iter_mut().find(|r| &r.name_any() == name) {
                r.revision = *revision;
            }
        }
        None => {}
    }
}

/// The imagined pod of that name, to change.
fn pod_mut<'a>(pods: &'a mut [Arc<Pod>], name: &str) -> Option<&'a mut Pod> {
    pods.iter_mut()
        .map(Arc::make_mut)
        .find(|p| pod::name(p) == name)
}

/// One write to a pod or PVC.
pub fn apply_action(w: &mut World, a: &Action) {
    let now = w.now;
    match a {
        Action::Create { object, .. } => {
            let mut pod = (**object).clone();
            pod.metadata.uid = Some(format!("uid-{}", pod.name_any()));
            pod.metadata.creation_timestamp = Some(Time(now));
            pod.status = Some(PodStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            });
            w.pods.push(Arc::new(pod));
        }
        Action::Delete { pod: name, .. } => w.pods.retain(|p| pod::name(p) != name),
        Action::DeletePvc { pvc } => w.pvcs.retain(|c| &c.name_any() != pvc),
        Action::ReownPvc {
            pvc,
            owner_references,
            ..
        } => {
            if let Some(c) = w.pvcs.iter_mut().find(|c| &c.name_any() == pvc) {
                c.metadata.owner_references = Some(owner_references.clone());
            }
        }
        Action::Release { pod: name } => {
            if let Some(p) = pod_mut(w.pods, name)
                && let Some(refs) = p.metadata.owner_references.as_mut()
            {
                refs.retain(|r| r.controller != Some(true));
            }
        }
        Action::Mark {
            pod: name, marks, ..
        } => {
            if let Some(p) = pod_mut(w.pods, name) {
                mark(p, marks, now);
            }
        }
        Action::UpdateInPlace {
            pod: name,
            to,
            change,
            grace_seconds,
            template_hash,
            lifecycle,
            ..
        } => {
            if let Some(p) = pod_mut(w.pods, name) {
                let (hash, life) = (*template_hash, *lifecycle);
                inplace_state::begin(p, to, hash, life, change, *grace_seconds, now);
                if pod::has_gate(p, keys::INPLACE_READY) {
                    set_cond(p, keys::INPLACE_READY, "False", now);
                    set_cond(p, "Ready", "False", now);
                }
            }
        }
        Action::FinishGrace { pod: name, .. } => {
            if let Some(p) = pod_mut(w.pods, name) {
                inplace_state::finish_grace(p, now);
            }
        }
    }
}

/// Labels, annotations, finalizers and the `InPlaceUpdateReady` condition.
fn mark(p: &mut Pod, marks: &PodMarks, now: Timestamp) {
    set_meta(&mut p.metadata.labels, &marks.labels);
    set_meta(&mut p.metadata.annotations, &marks.annotations);
    if !marks.add_finalizers.is_empty() {
        let f = p.metadata.finalizers.get_or_insert_with(Vec::new);
        f.extend(marks.add_finalizers.iter().cloned());
    }
    if marks.gate_ready {
        set_cond(p, keys::INPLACE_READY, "True", now);
    }
}

/// The scheduler and the kubelet, instantly: place pods, start containers, restart changed
/// ones, and compute Ready from the readiness gates.
/// The node a required node affinity `matchFields metadata.name In [node]` pins the pod to
/// (a DaemonSet's pods): the scheduler places it there.
fn pinned_node(spec: &k8s_openapi::api::core::v1::PodSpec) -> Option<String> {
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

pub fn settle(pods: &mut [Arc<Pod>], now: Timestamp) {
    for (i, p) in pods.iter_mut().map(Arc::make_mut).enumerate() {
        if !pod::is_active(p) {
            continue;
        }
        let spec = p.spec.get_or_insert_with(Default::default);
        if spec.node_name.is_none() {
            let node = pinned_node(spec).unwrap_or_else(|| NODES[i % NODES.len()].to_string());
            spec.node_name = Some(node);
        }
        let containers: Vec<(String, String)> = spec
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
            .collect();
        let st = p.status.get_or_insert_with(PodStatus::default);
        st.phase = Some("Running".into());
        let statuses = st.container_statuses.get_or_insert_with(Vec::new);
        for (name, image) in containers {
            let id = format!("sim/{image}");
            match statuses.iter_mut().find(|c| c.name == name) {
                Some(c) if c.image != image => {
                    c.image = image;
                    c.image_id = id;
                    c.restart_count += 1;
                }
                Some(_) => {}
                None => statuses.push(ContainerStatus {
                    name,
                    image,
                    image_id: id,
                    ready: true,
                    ..Default::default()
                }),
            }
        }
        let gates_ok = p
            .spec
            .as_ref()
            .and_then(|s| s.readiness_gates.clone())
            .unwrap_or_default()
            .iter()
            .all(|g| pod::condition(p, &g.condition_type).is_some_and(|c| c.status == "True"));
        set_cond(p, "ContainersReady", "True", now);
        set_cond(p, "Ready", if gates_ok { "True" } else { "False" }, now);
    }
}

/// A pod the preview imagines creating gets its real name only when it is created (a random
/// instance id), so the preview calls it `<new N>`, in every batch that touches it.
pub fn as_new(mut a: Action, imagined: &mut BTreeMap<String, String>) -> Action {
    if let Action::Create { pod, .. } = &a {
        let n = imagined.len() + 1;
        imagined.insert(pod.clone(), format!("<new {n}>"));
    }
    let name = a.pod_mut();
    if let Some(pod) = name
        && let Some(new) = imagined.get(pod.as_str())
    {
        *pod = new.clone();
    }
    a
}
