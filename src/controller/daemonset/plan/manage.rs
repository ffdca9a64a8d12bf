//! manage (upstream `manage`, `podsShouldBeOnNode`, `syncNodes`): a pod on every node that
//! should run one, none where none should; failed and pre-deleting pods deleted; duplicates
//! pruned (without surge the oldest stays; with surge the oldest new and oldest old, the old
//! one going once the new one is available); unscheduled pods bound to nodes that are gone
//! deleted; creations limited by partitioned scaling; every write capped at burstReplicas;
//! pods hooked by `lifecycle.preDelete` moved to PreparingDelete instead of deleted.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, PodReadinessGate};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;

use super::{Action, Ctx, HASH_LABEL, Outcome, TEMPLATE_GENERATION_LABEL, available, node};
use super::{pre_deleting, revisions, sort_pods};
use crate::controller::pod::{self, keys, state};
use crate::controller::podupdate;

/// Pod names as the API server's generateName makes them (`<ds>-` and five characters of its
/// alphabet), chosen in the plan so the pass can expect them, clear of every pod's name.
pub(in crate::controller::daemonset) struct Namer<'a> {
    base: String,
    taken: BTreeSet<String>,
    rng: &'a mut fastrand::Rng,
}

impl<'a> Namer<'a> {
    pub fn new(ds: &str, taken: &[&str], rng: &'a mut fastrand::Rng) -> Namer<'a> {
        let mut end = ds.len().min(57);
        while !ds.is_char_boundary(end) {
            end -= 1;
        }
        Namer {
            base: format!("{}-", &ds[..end]),
            taken: taken.iter().map(|s| s.to_string()).collect(),
            rng,
        }
    }

    fn next(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        loop {
            let suffix: String = (0..5)
                .map(|_| ALPHABET[self.rng.usize(..ALPHABET.len())] as char)
                .collect();
            let name = format!("{}{suffix}", self.base);
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }
}

/// What one node asks for.
#[derive(Default)]
struct NodeWork {
    create: Vec<String>,
    delete: Vec<String>,
}

/// manage: the creations and deletions of every node, then syncNodes.
pub(in crate::controller::daemonset) fn manage(
    cx: &Ctx,
    namer: &mut Namer,
    actions: &mut Vec<Action>,
    out: &mut Outcome,
) {
    let mut work = NodeWork::default();
    let (mut desired, mut new_pods) = (0, 0);
    for n in &cx.nodes {
        let fit = cx.fit(n);
        pods_should_be_on_node(cx, &n.name_any(), fit, &mut work, out);
        desired += i32::from(fit.run);
        if matches!(
            updated_on_node(cx, cx.pods_on(&n.name_any())),
            Some((Some(_), _))
        ) {
            new_pods += 1;
        }
    }
    work.delete.extend(unscheduled_without_node(cx));
    if let Some(p) = cx.partition().filter(|p| *p != 0) {
        work.create = nodes_needing_pods(new_pods, desired, p, progressive(cx), work.create);
    }
    sync_nodes(cx, namer, &work.delete, &work.create, actions);
}

fn progressive(cx: &Ctx) -> bool {
    cx.ds
        .spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.partitioned_scaling)
        .unwrap_or(false)
}

/// findUpdatedPodsOnNode: the node's new and old pod (not terminating), or `None` when it has
/// two of either.
pub(in crate::controller::daemonset) fn updated_on_node<'a>(
    cx: &Ctx,
    pods: &[&'a Pod],
) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let (mut new, mut old) = (None, None);
    for p in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let slot = if cx.updated(p) { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(*p);
    }
    Some((new, old))
}

/// podsShouldBeOnNode.
fn pods_should_be_on_node(
    cx: &Ctx,
    name: &str,
    fit: node::Fit,
    work: &mut NodeWork,
    out: &mut Outcome,
) {
    let pods = cx.pods_on(name);
    if fit.run && pods.is_empty() {
        work.create.push(name.to_string());
    } else if fit.keep {
        let mut running: Vec<&Pod> = Vec::new();
        for p in pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
        {
            if pod::phase(p) == "Failed" {
                let ns = p.namespace().unwrap_or_default();
                out.warnings.push((
                    "FailedDaemonPod".into(),
                    format!(
                        "Found failed daemon pod {ns}/{} on node {name}, will try to kill it",
                        pod::name(p)
                    ),
                ));
                work.delete.push(pod::name(p).into());
            } else if pre_deleting(p) {
                work.delete.push(pod::name(p).into());
            } else {
                running.push(p);
            }
        }
        sort_pods(&mut running);
        if !cx.surge_allowed() {
            work.delete
                .extend(running.iter().skip(1).map(|p| pod::name(p).to_string()));
        } else if running.is_empty() && fit.run {
            work.create.push(name.to_string());
        } else if running.len() > 1 {
            surge_prune(cx, &running, work, out);
        }
    } else {
        let live = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none());
        work.delete.extend(live.map(|p| pod::name(p).to_string()));
    }
}

/// With surge, a node keeps its oldest new and oldest old pod (`running`, oldest first); the
/// old one goes once the new one is available, or when it is not ready itself.
fn surge_prune(cx: &Ctx, running: &[&Pod], work: &mut NodeWork, out: &mut Outcome) {
    let (mut new, mut old): (Option<&Pod>, Option<&Pod>) = (None, None);
    for p in running {
        let slot = if pod::revision(p) == cx.hash {
            &mut new
        } else {
            &mut old
        };
        if slot.is_none() {
            *slot = Some(p);
        } else {
            work.delete.push(pod::name(p).into());
        }
    }
    let (Some(new), Some(old)) = (new, old) else {
        return;
    };
    if !pod::is_ready(old) || available(new, cx.min_ready, cx.now) {
        work.delete.push(pod::name(old).into());
    } else if pod::is_ready(new) && cx.min_ready > 0 {
        let since = pod::ready_since(new).map_or(0, |t| t.as_second());
        let left = since + i64::from(cx.min_ready) - cx.now.as_second();
        out.requeue_after(Duration::from_secs(left.max(1) as u64));
    }
}

/// getUnscheduledPodsWithoutNode: pods bound (by affinity) to a node that does not exist and
/// not scheduled, which the pod GC never deletes.
fn unscheduled_without_node(cx: &Ctx) -> Vec<String> {
    let exists: BTreeSet<String> = cx.nodes.iter().map(|n| n.name_any()).collect();
    cx.by_node
        .iter()
        .filter(|(n, _)| !exists.contains(*n))
        .flat_map(|(_, pods)| pods.iter())
        .filter(|p| pod::node(p).is_empty())
        .map(|p| pod::name(p).to_string())
        .collect()
}

/// GetNodesNeedingPods: by name; with partitioned scaling at most `desired − new − partition`.
pub fn nodes_needing_pods(
    new_pods: i32,
    desired: i32,
    partition: i32,
    progressive: bool,
    mut nodes: Vec<String>,
) -> Vec<String> {
    nodes.sort();
    if !progressive {
        return nodes;
    }
    let partition = partition.min(desired).max(0);
    let max_create = (desired - new_pods - partition).max(0) as usize;
    nodes.truncate(max_create);
    nodes
}

/// syncNodes: pods hooked by preDelete go to PreparingDelete instead; creations and deletions
/// each capped at burstReplicas.
pub(in crate::controller::daemonset) fn sync_nodes(
    cx: &Ctx,
    namer: &mut Namer,
    delete: &[String],
    create: &[String],
    actions: &mut Vec<Action>,
) {
    let hook = cx
        .ds
        .spec
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_delete.as_ref());
    let mut deletable: Vec<&Pod> = Vec::new();
    for name in delete {
        let Some(p) = cx.by_node.values().flatten().find(|p| pod::name(p) == name) else {
            continue;
        };
        if hook.is_none() || !podupdate::hooked(p, hook, false) {
            deletable.push(p);
        } else if !pre_deleting(p) {
            actions.push(Action::Mark {
                pod: name.clone(),
                reason: "preDelete hook",
                marks: podupdate::state_marks(state::PREPARING_DELETE, cx.now),
            });
        }
    }
    let burst = cx.burst();
    for n in create.iter().take(burst) {
        let name = namer.next();
        actions.push(Action::Create {
            pod: name.clone(),
            revision: cx.hash.clone(),
            object: Box::new(new_pod(cx, &name, n)),
            pvcs: Vec::new(),
            pvc_objects: Vec::new(),
        });
    }
    for p in deletable.into_iter().take(burst) {
        actions.push(Action::Delete {
            pod: pod::name(p).into(),
            uid: p.metadata.uid.clone().unwrap_or_default(),
            reason: "daemon",
            pvcs: Vec::new(),
        });
    }
}

/// The daemon pod for `node` (NewPod, CreatePodTemplate, the node affinity pin): the template
/// with the daemon tolerations, labelled with the revision hash (and the template generation
/// if any), with `InPlaceUpdateReady` among its gates under InPlaceIfPossible.
pub(in crate::controller::daemonset) fn new_pod(cx: &Ctx, name: &str, node: &str) -> Pod {
    let meta = cx
        .ds
        .spec
        .template
        .typed()
        .ok()
        .and_then(|t| t.metadata)
        .unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    if let Some(g) = &cx.generation {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.clone());
    }
    labels.insert(HASH_LABEL.into(), cx.hash.clone());
    let mut spec = cx.pod_spec.clone();
    if cx.in_place() {
        spec.readiness_gates
            .get_or_insert_with(Vec::new)
            .push(PodReadinessGate {
                condition_type: keys::INPLACE_READY.into(),
            });
    }
    node::pin(&mut spec, node);
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            generate_name: Some(format!("{}-", cx.ds.name_any())),
            namespace: cx.ds.namespace(),
            labels: Some(labels),
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![revisions::owner_reference(cx.ds)]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}
