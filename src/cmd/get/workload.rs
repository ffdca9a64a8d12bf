//! A workload's tree (pure): the workload, its revisions newest first (ControllerRevisions, or
//! ReplicaSets for a Deployment), and under each the pods that run it. Any object is read
//! without a panic, however partial: fields are read from JSON, not assumed.

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::ResourceExt;
use serde_json::Value;

use super::pods;
use crate::client::kinds::Kind;
use crate::cmd::workload::{Observed, Phase};
use crate::controller::rollout::hash;
use crate::output::tree::{Detail, Health, Node, Status, Tree};

/// One revision of a workload.
#[derive(Debug, Clone)]
pub struct Revision {
    pub kind: String,
    pub name: String,
    pub uid: String,
    /// `revision` of a ControllerRevision, `deployment.kubernetes.io/revision` of a ReplicaSet.
    pub number: i64,
    /// The name pods carry for it: the ControllerRevision's name, the ReplicaSet's
    /// `pod-template-hash`.
    pub pod_label: String,
    pub images: Vec<String>,
    pub created: Option<String>,
    /// A ReplicaSet's pod template (a Deployment's update one is the one equal to its own).
    pub template: Option<Value>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn int_at(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_i64()
}

fn images_of(template: Option<&Value>) -> Vec<String> {
    template
        .and_then(|t| t.pointer("/spec/containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image")?.as_str().map(str::to_string))
        .collect()
}

/// `items` that are revisions of the workload `uid` (its controller reference says so).
pub fn revisions(uid: &str, items: &[Value]) -> Vec<Revision> {
    let mut out: Vec<Revision> = items
        .iter()
        .filter(|v| controlled_by(v, uid))
        .filter_map(revision)
        .collect();
    out.sort_by(|a, b| b.number.cmp(&a.number).then(a.name.cmp(&b.name)));
    out
}

fn revision(v: &Value) -> Option<Revision> {
    let kind = str_at(v, &["kind"]);
    let name = str_at(v, &["metadata", "name"]).to_string();
    let (number, pod_label, template) = match kind {
        "ReplicaSet" => (
            str_at(
                v,
                &[
                    "metadata",
                    "annotations",
                    "deployment.kubernetes.io/revision",
                ],
            )
            .parse()
            .unwrap_or(0),
            str_at(v, &["metadata", "labels", "pod-template-hash"]).to_string(),
            v.pointer("/spec/template"),
        ),
        "ControllerRevision" => (
            int_at(v, &["revision"]).unwrap_or(0),
            name.clone(),
            v.pointer("/data/spec/template"),
        ),
        _ => return None,
    };
    Some(Revision {
        kind: kind.to_string(),
        uid: str_at(v, &["metadata", "uid"]).to_string(),
        number,
        pod_label,
        images: images_of(template),
        template: (kind == "ReplicaSet").then(|| template.cloned()).flatten(),
        created: Some(str_at(v, &["metadata", "creationTimestamp"]).to_string())
            .filter(|s| !s.is_empty()),
        name,
    })
}

fn controlled_by(v: &Value, uid: &str) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
}

/// The pods of the workload `uid`: its own, or its ReplicaSets' (`owners`).
pub fn owned_pods<'a>(pods: &'a [Pod], owners: &[&str]) -> Vec<&'a Pod> {
    pods.iter()
        .filter(|p| {
            p.owner_references()
                .iter()
                .any(|r| owners.contains(&r.uid.as_str()))
        })
        .collect()
}

/// A workload phase as a status.
pub fn phase_status(p: Phase) -> Status {
    match p {
        Phase::Complete => Status::new(Health::Healthy, "Healthy"),
        Phase::Progressing => Status::new(Health::Progressing, "Progressing"),
        Phase::Paused => Status::new(Health::Paused, "Paused"),
        Phase::Failed => Status::new(Health::Degraded, "Degraded"),
    }
}

/// Which revision is the update one and which the current one: the status says (CloneSet,
/// StatefulSets, `daemonSetHash` of an Advanced DaemonSet); a Deployment's is the ReplicaSet
/// whose template is its own but for `pod-template-hash` (none until it is created, as
/// Kubernetes finds it); else the newest.
fn roles(root: &Value, revs: &[Revision]) -> (String, String) {
    let status = |k: &str| str_at(root, &["status", k]).to_string();
    let own: Option<PodTemplateSpec> = root
        .pointer("/spec/template")
        .and_then(|t| serde_json::from_value(t.clone()).ok());
    let replica_sets = revs.iter().any(|r| r.template.is_some());
    let update = [status("updateRevision"), status("daemonSetHash")]
        .into_iter()
        .find(|s| !s.is_empty())
        .or_else(|| {
            if !replica_sets {
                return revs.first().map(|r| r.pod_label.clone());
            }
            let own = own.as_ref()?;
            revs.iter()
                .find(|r| {
                    r.template
                        .as_ref()
                        .and_then(|t| serde_json::from_value::<PodTemplateSpec>(t.clone()).ok())
                        .is_some_and(|t| hash::same_template(&t, own))
                })
                .map(|r| r.pod_label.clone())
        })
        .unwrap_or_default();
    (update, status("currentRevision"))
}

fn role(r: &Revision, update: &str, current: &str) -> &'static str {
    let (u, c) = (
        pods::same_revision(&r.pod_label, update) || pods::same_revision(&r.name, update),
        pods::same_revision(&r.pod_label, current) || pods::same_revision(&r.name, current),
    );
    match (u, c) {
        (true, true) => "update,current",
        (true, false) => "update",
        (false, true) => "current",
        _ => "old",
    }
}

fn revision_status(pods: &[&Pod]) -> Status {
    if pods.is_empty() {
        Status::new(Health::Idle, "ScaledDown")
    } else if pods
        .iter()
        .all(|p| pods::status(p).health == Health::Healthy)
    {
        Status::new(Health::Healthy, "Healthy")
    } else if pods
        .iter()
        .any(|p| pods::status(p).health == Health::Warning)
    {
        Status::new(Health::Warning, "Degraded")
    } else {
        Status::new(Health::Progressing, "Progressing")
    }
}

/// `Key` from `camelKey` (a header label).
pub fn capitalized(key: &str) -> String {
    let mut c = key.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A value as one line; nothing for null or an empty object or list.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) if m.is_empty() => None,
        Value::Array(a) if a.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The update strategy, flattened: its type, then every field of it (and of
/// `rollingUpdate`), and `spec.paused` when set.
fn strategy(root: &Value) -> Option<Detail> {
    let spec = root.get("spec")?;
    let s = spec
        .get("updateStrategy")
        .or_else(|| spec.get("strategy"))
        .and_then(Value::as_object);
    let mut items = Vec::new();
    let mut kind = String::new();
    for (k, v) in s.into_iter().flatten() {
        match (k.as_str(), v) {
            ("type", v) => kind = scalar(v).unwrap_or_default(),
            ("rollingUpdate", Value::Object(m)) => {
                for (k, v) in m {
                    if let Some(v) = scalar(v) {
                        items.push(Detail::new(capitalized(k), v));
                    }
                }
            }
            (k, v) => {
                if let Some(v) = scalar(v) {
                    items.push(Detail::new(capitalized(k), v));
                }
            }
        }
    }
    if let Some(p) = spec.get("paused").and_then(scalar) {
        items.push(Detail::new("Paused", p));
    }
    if kind.is_empty() && items.is_empty() {
        return None;
    }
    let kind = if kind.is_empty() {
        "RollingUpdate".into()
    } else {
        kind
    };
    Some(Detail::new("Strategy", kind).with(items))
}

/// Desired, current, updated, ready, available: as the kind's status names them.
fn replicas(root: &Value) -> Detail {
    let first = |paths: &[&[&str]]| {
        paths
            .iter()
            .find_map(|p| int_at(root, p))
            .map(|n| n.to_string())
            .unwrap_or_else(|| "0".into())
    };
    Detail::new("Replicas", "").with(vec![
        Detail::new(
            "Desired",
            first(&[&["spec", "replicas"], &["status", "desiredNumberScheduled"]]),
        ),
        Detail::new(
            "Current",
            first(&[
                &["status", "replicas"],
                &["status", "currentNumberScheduled"],
            ]),
        ),
        Detail::new(
            "Updated",
            first(&[
                &["status", "updatedReplicas"],
                &["status", "updatedNumberScheduled"],
            ]),
        ),
        Detail::new(
            "Ready",
            first(&[&["status", "readyReplicas"], &["status", "numberReady"]]),
        ),
        Detail::new(
            "Available",
            first(&[
                &["status", "availableReplicas"],
                &["status", "numberAvailable"],
            ]),
        ),
    ])
}

/// The tree of workload `root` of `kind`, judged `observed`, from the namespace's
/// revision objects (and whether they own the pods) and pods: only those it controls are
/// shown.
pub fn tree(
    kind: Kind,
    root: &Value,
    observed: &Observed,
    (items, via_revisions): (&[Value], bool),
    pods: &[Pod],
) -> Tree {
    let uid = str_at(root, &["metadata", "uid"]);
    let revs = revisions(uid, items);
    let mut owners: Vec<&str> = vec![uid];
    if via_revisions {
        owners.extend(revs.iter().map(|r| r.uid.as_str()));
    }
    let mine = owned_pods(pods, &owners);
    let (update, current) = roles(root, &revs);
    let mut placed = vec![false; mine.len()];
    let mut children = Vec::new();
    let mut images = Vec::new();
    for r in &revs {
        let mut at: Vec<&Pod> = Vec::new();
        for (i, p) in mine.iter().enumerate() {
            if !placed[i] && pods::same_revision(pods::revision(p), &r.pod_label) {
                placed[i] = true;
                at.push(p);
            }
        }
        let role = role(r, &update, &current);
        if at.is_empty() && role == "old" {
            continue;
        }
        pods::sort(&mut at);
        images.push(format!("{} ({role})", r.images.join(",")));
        children.push(revision_node(r, role, &at));
    }
    let mut strays: Vec<&Pod> = mine
        .iter()
        .zip(&placed)
        .filter(|(_, p)| !**p)
        .map(|(p, _)| *p)
        .collect();
    pods::sort(&mut strays);
    children.extend(strays.into_iter().map(|p| pods::node(p, "")));
    let status = phase_status(observed.phase);
    let name = str_at(root, &["metadata", "name"]).to_string();
    let mut node = Node::new(kind.kind, &name);
    node.status = Some(status.clone());
    node.created = Some(str_at(root, &["metadata", "creationTimestamp"]).to_string())
        .filter(|s| !s.is_empty());
    node.children = children;
    let mut details: Vec<Detail> = strategy(root).into_iter().collect();
    if !images.is_empty() {
        details.push(Detail::new("Images", images.join("\n")));
    }
    details.push(replicas(root));
    Tree {
        kind: kind.kind.into(),
        name,
        namespace: str_at(root, &["metadata", "namespace"]).to_string(),
        status,
        message: observed.line.clone(),
        details,
        tree: node,
    }
}

fn revision_node(r: &Revision, role: &str, at: &[&Pod]) -> Node {
    let mut n = Node::new(&r.kind, &r.name);
    n.status = Some(revision_status(at));
    n.created = r.created.clone();
    n.info
        .add("revision", r.number.to_string())
        .add("role", role)
        .add("image", r.images.join(","))
        .add("pods", at.len().to_string());
    n.children = at.iter().map(|p| pods::node(p, "")).collect();
    n
}
