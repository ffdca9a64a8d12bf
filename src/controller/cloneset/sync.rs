//! Carry out a plan: the thin I/O half of the CloneSet controller. Each action is one request
//! in the common case (two for an in-place update's readiness flip and patch), retried on a
//! conflict from a fresh read; what was written is returned as expectations, so the next pass
//! waits until the watch has seen it.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::inplace_state;
use super::plan::{Action, Plan, PodMarks, RevisionWrite, rfc3339};
use crate::api::cloneset::CloneSet;
use crate::controller::pod::{self, keys};

pub const FIELD_MANAGER: &str = "kubectl-kruise";

/// Requests in flight at once. The client speaks HTTP/1.1, so each one holds a connection with
/// its TLS buffers: 256 at once (the last slow-start batch of a 500-pod scale) cost ~40 MB of
/// memory and bought no speed on a local API server.
const IN_FLIGHT: usize = 32;

/// What a write leaves for the watch to confirm.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expect {
    /// The pod exists in the cache.
    PodSeen(String),
    /// The pod with this uid is gone from the cache (or terminating).
    PodGone(String, String),
    /// The pod is at least at this resourceVersion.
    PodAt(String, u64),
    RevisionSeen(String),
    /// The CloneSet is at least at this resourceVersion.
    CloneSetAt(u64),
}

#[derive(Debug, Default)]
pub struct Applied {
    pub expect: Vec<Expect>,
    pub errors: Vec<String>,
    /// Pods created, deleted and updated in place (for progress and logs).
    pub created: usize,
    pub deleted: usize,
    pub updated: usize,
}

fn rv(s: Option<&String>) -> u64 {
    s.and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn pp() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}

fn post() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}

fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// Write the webhook defaults into the stored CloneSet, once.
pub async fn write_defaults(
    client: &Client,
    cs: &CloneSet,
    defaulted: &CloneSet,
) -> Result<u64, String> {
    let api: Api<CloneSet> = Api::namespaced(client.clone(), &cs.namespace().unwrap_or_default());
    let patch = json!({
        "metadata": {"resourceVersion": cs.resource_version()},
        "spec": defaulted.spec,
    });
    api.patch(&cs.name_any(), &pp(), &Patch::Merge(&patch))
        .await
        .map(|o| rv(o.metadata.resource_version.as_ref()))
        .map_err(|e| {
            format!(
                "writing defaults to cloneset {}: {}",
                cs.name_any(),
                describe(&e)
            )
        })
}

/// Carry out `plan` for `cs`; `pods` is the cache the plan was made from (by name).
pub async fn apply(
    client: &Client,
    cs: &CloneSet,
    plan: &Plan,
    pods: &BTreeMap<String, Arc<Pod>>,
) -> Applied {
    let ns = cs.namespace().unwrap_or_default();
    let mut out = Applied::default();
    let revs: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns);
    match &plan.revision {
        Some(RevisionWrite::Create { revision, name }) => {
            match revs.create(&post(), revision).await {
                Ok(_) => out.expect.push(Expect::RevisionSeen(name.clone())),
                Err(e) if is_code(&e, 409) => out.expect.push(Expect::RevisionSeen(name.clone())),
                Err(e) => {
                    out.errors.push(format!(
                        "creating controllerrevision {name}: {}",
                        describe(&e)
                    ));
                    return out;
                }
            }
        }
        Some(RevisionWrite::Renumber {
            name,
            revision,
            vct_hash,
        }) => {
            let patch = json!({"metadata": {"annotations": {keys::VCT_HASH: vct_hash}}, "revision": revision});
            if let Err(e) = revs.patch(name, &pp(), &Patch::Merge(&patch)).await {
                out.errors.push(format!(
                    "renumbering controllerrevision {name}: {}",
                    describe(&e)
                ));
                return out;
            }
        }
        None => {}
    }

    let pod_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pvc_api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);

    // Creations in slow-start batches (1, 2, 4, …); the first failing batch stops the rest.
    let creates: Vec<&Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .collect();
    let mut batch = 1usize;
    let mut i = 0;
    while i < creates.len() {
        let chunk = &creates[i..(i + batch).min(creates.len())];
        let results: Vec<_> = stream::iter(chunk.iter().map(|a| create(&pod_api, &pvc_api, a)))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut failed = false;
        for r in results {
            match r {
                Ok(name) => {
                    out.created += 1;
                    out.expect.push(Expect::PodSeen(name));
                }
                Err(e) => {
                    failed = true;
                    out.errors.push(e);
                }
            }
        }
        if failed {
            break;
        }
        i += chunk.len();
        batch *= 2;
    }

    let others = plan
        .actions
        .iter()
        .filter(|a| !matches!(a, Action::Create { .. }));
    let results: Vec<_> = stream::iter(others.map(|a| other(&pod_api, &pvc_api, a, pods)))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for r in results {
        match r {
            Ok((e, kind)) => {
                match kind {
                    Done::Deleted => out.deleted += 1,
                    Done::Updated => out.updated += 1,
                    Done::Other => {}
                }
                out.expect.extend(e);
            }
            Err(e) => out.errors.push(e),
        }
    }

    let cs_api: Api<CloneSet> = Api::namespaced(client.clone(), &ns);
    if let Some(names) = &plan.prune_pods_to_delete {
        // Emptied, the field goes (Go's omitempty on upstream's spec update), not `[]`.
        let value = if names.is_empty() {
            json!(null)
        } else {
            json!(names)
        };
        let patch = json!({
            "metadata": {"resourceVersion": cs.resource_version()},
            "spec": {"scaleStrategy": {"podsToDelete": value}},
        });
        match cs_api
            .patch(&cs.name_any(), &pp(), &Patch::Merge(&patch))
            .await
        {
            Ok(o) => out
                .expect
                .push(Expect::CloneSetAt(rv(o.metadata.resource_version.as_ref()))),
            Err(e) if is_code(&e, 409) => {}
            Err(e) => out.errors.push(format!(
                "pruning podsToDelete of cloneset {}: {}",
                cs.name_any(),
                describe(&e)
            )),
        }
    }
    for name in &plan.delete_revisions {
        if let Err(e) = revs.delete(name, &DeleteParams::default()).await
            && !is_code(&e, 404)
        {
            out.errors.push(format!(
                "deleting controllerrevision {name}: {}",
                describe(&e)
            ));
        }
    }
    out
}

/// Write the status computed by the plan, whole, as upstream's status update does: a JSON
/// patch `add /status` replaces the field, so a condition or field the plan dropped is dropped
/// on the server too (a merge patch would keep what it omits).
pub async fn write_status(client: &Client, cs: &CloneSet, plan: &Plan) -> Result<u64, String> {
    let api: Api<CloneSet> = Api::namespaced(client.clone(), &cs.namespace().unwrap_or_default());
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/status", "value": plan.status}
    ]))
    .map_err(|e| format!("encoding status of cloneset {}: {e}", cs.name_any()))?;
    api.patch_status(&cs.name_any(), &pp(), &Patch::<()>::Json(patch))
        .await
        .map(|o| rv(o.metadata.resource_version.as_ref()))
        .map_err(|e| {
            format!(
                "writing status of cloneset {}: {}",
                cs.name_any(),
                describe(&e)
            )
        })
}

async fn create(
    pods: &Api<Pod>,
    pvcs: &Api<PersistentVolumeClaim>,
    a: &Action,
) -> Result<String, String> {
    let Action::Create {
        pod,
        object,
        pvc_objects,
        ..
    } = a
    else {
        unreachable!()
    };
    // The plan creates only the claims the CloneSet does not own yet: one that exists is
    // someone else's, and the pod is not created on it (upstream: AlreadyExists, FailedCreate).
    for c in pvc_objects {
        match pvcs.create(&post(), c).await {
            Ok(_) => {}
            Err(e) if is_code(&e, 409) => {
                return Err(format!(
                    "creating pod {pod}: pvc {} already exists and is not owned by this CloneSet; \
                     delete or rename that claim",
                    c.name_any()
                ));
            }
            Err(e) => return Err(format!("creating pvc {}: {}", c.name_any(), describe(&e))),
        }
    }
    pods.create(&post(), object)
        .await
        .map(|_| pod.clone())
        .map_err(|e| format!("creating pod {pod}: {}", describe(&e)))
}

enum Done {
    Deleted,
    Updated,
    Other,
}

fn metadata_patch(marks: &PodMarks) -> Value {
    let mut meta = serde_json::Map::new();
    if !marks.labels.is_empty() {
        meta.insert("labels".into(), json!(marks.labels));
    }
    if !marks.annotations.is_empty() {
        meta.insert("annotations".into(), json!(marks.annotations));
    }
    if !marks.add_finalizers.is_empty() {
        meta.insert("finalizers".into(), json!(marks.add_finalizers));
    }
    Value::Object(meta)
}

fn now_time() -> String {
    rfc3339(Timestamp::now())
}

async fn other(
    pods: &Api<Pod>,
    pvcs: &Api<PersistentVolumeClaim>,
    a: &Action,
    cache: &BTreeMap<String, Arc<Pod>>,
) -> Result<(Vec<Expect>, Done), String> {
    match a {
        Action::Create { .. } => unreachable!(),
        Action::Delete {
            pod,
            uid,
            pvcs: claims,
            ..
        } => {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: Some(uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match pods.delete(pod, &dp).await {
                Ok(_) => {}
                // Gone already, or the name now belongs to a new pod (the UID precondition):
                // its claims are not ours to delete now; the next pass sees the truth.
                Err(e) if is_code(&e, 404) || is_code(&e, 409) => {
                    return Ok((vec![Expect::PodGone(pod.clone(), uid.clone())], Done::Other));
                }
                Err(e) => return Err(format!("deleting pod {pod}: {}", describe(&e))),
            }
            for c in claims {
                if let Err(e) = pvcs.delete(c, &DeleteParams::default()).await
                    && !is_code(&e, 404)
                {
                    return Err(format!("deleting pvc {c}: {}", describe(&e)));
                }
            }
            Ok((
                vec![Expect::PodGone(pod.clone(), uid.clone())],
                Done::Deleted,
            ))
        }
        Action::ReownPvc {
            pvc,
            pod,
            resource_version,
            owner_references,
        } => {
            let patch = json!({"metadata": {
                "resourceVersion": resource_version,
                "ownerReferences": owner_references,
            }});
            match pvcs.patch(pvc, &pp(), &Patch::Merge(&patch)).await {
                Ok(_) => Ok((vec![], Done::Other)),
                Err(e) if is_code(&e, 404) || is_code(&e, 409) => Ok((vec![], Done::Other)),
                Err(e) => Err(format!(
                    "handing pvc {pvc} to its pod {pod}: {}",
                    describe(&e)
                )),
            }
        }
        Action::DeletePvc { pvc } => match pvcs.delete(pvc, &DeleteParams::default()).await {
            Ok(_) => Ok((vec![], Done::Other)),
            Err(e) if is_code(&e, 404) => Ok((vec![], Done::Other)),
            Err(e) => Err(format!("deleting pvc {pvc}: {}", describe(&e))),
        },
        Action::Release { pod } => {
            let uid = cache
                .get(pod)
                .and_then(|p| p.metadata.owner_references.as_ref())
                .and_then(|r| r.iter().find(|o| o.controller == Some(true)))
                .map(|o| o.uid.clone())
                .unwrap_or_default();
            let patch =
                json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid}]}});
            pods.patch(pod, &pp(), &Patch::Strategic(&patch))
                .await
                .map(|p| {
                    (
                        vec![Expect::PodAt(
                            pod.clone(),
                            rv(p.metadata.resource_version.as_ref()),
                        )],
                        Done::Other,
                    )
                })
                .map_err(|e| format!("releasing pod {pod}: {}", describe(&e)))
        }
        Action::Mark { pod, marks, .. } => {
            let result = if marks.gate_ready {
                // pods/status takes the labels too: one request makes the pod Normal and Ready.
                let mut patch = json!({"status": {"conditions": [{
                    "type": keys::INPLACE_READY, "status": "True", "lastTransitionTime": now_time(),
                    "reason": null, "message": null,
                }]}});
                let meta = metadata_patch(marks);
                if meta.as_object().is_some_and(|m| !m.is_empty()) {
                    patch["metadata"] = meta;
                }
                pods.patch_status(pod, &pp(), &Patch::Strategic(&patch))
                    .await
            } else {
                let patch = json!({"metadata": metadata_patch(marks)});
                pods.patch(pod, &pp(), &Patch::Strategic(&patch)).await
            };
            match result {
                Ok(p) => Ok((
                    vec![Expect::PodAt(
                        pod.clone(),
                        rv(p.metadata.resource_version.as_ref()),
                    )],
                    Done::Other,
                )),
                Err(e) if is_code(&e, 404) => Ok((vec![], Done::Other)),
                Err(e) => Err(format!("updating pod {pod}: {}", describe(&e))),
            }
        }
        Action::UpdateInPlace {
            pod,
            to,
            change,
            grace_seconds,
            ..
        } => {
            let Some(cached) = cache.get(pod) else {
                return Err(format!("pod {pod} vanished before its in-place update"));
            };
            let mut current: Pod = cached.as_ref().clone();
            if pod::has_gate(cached, keys::INPLACE_READY) {
                let mut conds = vec![json!({
                    "type": keys::INPLACE_READY, "status": "False",
                    "reason": "StartInPlaceUpdate", "lastTransitionTime": now_time(),
                })];
                let containers_ready =
                    pod::condition(cached, "ContainersReady").is_some_and(|c| c.status == "True");
                if pod::condition(cached, "Ready").is_some() && containers_ready {
                    conds.push(json!({
                        "type": "Ready", "status": "False", "reason": "ReadinessGatesNotReady",
                        "message": format!("the status of pod readiness gate {:?} is not \"True\"", keys::INPLACE_READY),
                        "lastTransitionTime": now_time(),
                    }));
                }
                let patch = json!({"status": {"conditions": conds}});
                current = pods
                    .patch_status(pod, &pp(), &Patch::Strategic(&patch))
                    .await
                    .map_err(|e| {
                        format!(
                            "marking pod {pod} not ready for its in-place update: {}",
                            describe(&e)
                        )
                    })?;
            }
            let rv = replace_pod(pods, pod, current, "updating pod {pod} in place", |p| {
                inplace_state::begin(p, to, change, *grace_seconds, Timestamp::now());
            })
            .await?;
            Ok((vec![Expect::PodAt(pod.clone(), rv)], Done::Updated))
        }
        Action::FinishGrace { pod, .. } => {
            let Some(cached) = cache.get(pod) else {
                return Ok((vec![], Done::Other));
            };
            let what = "finishing the in-place update of pod {pod}";
            let rv = replace_pod(pods, pod, cached.as_ref().clone(), what, |p| {
                inplace_state::finish_grace(p, Timestamp::now());
            })
            .await?;
            Ok((vec![Expect::PodAt(pod.clone(), rv)], Done::Other))
        }
    }
}

/// PUT the pod changed by `change`, re-reading and re-applying on a conflict; the new
/// resourceVersion. `what` names the write in errors (`{pod}` is replaced).
async fn replace_pod(
    pods: &Api<Pod>,
    pod: &str,
    mut current: Pod,
    what: &str,
    change: impl Fn(&mut Pod),
) -> Result<u64, String> {
    let what = what.replace("{pod}", pod);
    for attempt in 0..5 {
        let mut p = current.clone();
        change(&mut p);
        match pods.replace(pod, &post(), &p).await {
            Ok(p) => return Ok(rv(p.metadata.resource_version.as_ref())),
            Err(e) if is_code(&e, 409) && attempt < 4 => {
                current = pods
                    .get(pod)
                    .await
                    .map_err(|e| format!("reading pod {pod}: {}", describe(&e)))?;
            }
            Err(e) => return Err(format!("{what}: {}", describe(&e))),
        }
    }
    Err(format!("{what}: conflicts kept happening"))
}
