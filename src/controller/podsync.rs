//! Carry out a workload plan's [`Action`]s: the thin I/O half every pod-owning controller
//! shares (CloneSet, Advanced StatefulSet, Advanced DaemonSet). Each action is one request in
//! the common case (two for an in-place update's readiness flip and patch), retried on a
//! conflict from a fresh read; what was written is returned as expectations, so the next pass
//! waits until the watch has seen it. Each pod write records the Event upstream records, on
//! the owner.

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

use k8s_openapi::api::core::v1::ObjectReference;

use crate::controller::actions::{Action, PodMarks, RevisionWrite};
use crate::controller::events::Recorder;
use crate::controller::inplace_state::{self, rfc3339};
use crate::controller::pod::{self, keys};
use crate::controller::runtime::Expect;

pub const FIELD_MANAGER: &str = "kubectl-kruise";

/// Requests in flight at once. The client speaks HTTP/1.1, so each one holds a connection with
/// its TLS buffers: 256 at once (the last slow-start batch of a 500-pod scale) cost ~40 MB of
/// memory and bought no speed on a local API server.
const IN_FLIGHT: usize = 32;

/// Why a write failed: what was being written, and the API server's answer.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{what}: {}", describe(source))]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error(
        "creating pod {pod}: pvc {pvc} already exists and is not owned by this {kind}; \
         delete or rename that claim"
    )]
    ForeignPvc {
        pod: String,
        pvc: String,
        kind: &'static str,
    },
    #[error("pod {0} vanished before its in-place update")]
    Vanished(String),
    #[error("{0}: conflicts kept happening")]
    Conflicts(String),
    #[error("encoding {what}: {source}")]
    Encode {
        what: String,
        #[source]
        source: serde_json::Error,
    },
}

impl SyncError {
    pub fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> SyncError {
        let what = what.into();
        move |source| SyncError::Api { what, source }
    }
}

#[derive(Debug, Default)]
pub struct Applied {
    pub expect: Vec<Expect>,
    pub errors: Vec<SyncError>,
    /// Pods created, deleted and updated in place (for progress and logs).
    pub created: usize,
    pub deleted: usize,
    pub updated: usize,
}

pub fn rv(s: Option<&String>) -> u64 {
    s.and_then(|v| v.parse().ok()).unwrap_or(0)
}

pub fn pp() -> PatchParams {
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

pub fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// A pod Event whose words differ by kind (each upstream controller words its own).
#[derive(Clone, Copy)]
pub enum Said<'r> {
    Created,
    NotCreated,
    Deleted,
    NotDeleted,
    /// Updated in place to this revision.
    UpdatedInPlace(&'r str),
}

/// The kind of workload the pods belong to: where upstream's controllers differ in what
/// they write, said in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    CloneSet,
    StatefulSet,
    DaemonSet,
}

impl OwnerKind {
    /// As a person reads it in errors ("CloneSet").
    pub fn name(self) -> &'static str {
        match self {
            OwnerKind::CloneSet => "CloneSet",
            OwnerKind::StatefulSet => "StatefulSet",
            OwnerKind::DaemonSet => "DaemonSet",
        }
    }

    /// A StatefulSet's claims outlive their pods and are the same claim for the same
    /// ordinal: one that exists is the pod's own (upstream creates only missing ones).
    fn reuses_claims(self) -> bool {
        self == OwnerKind::StatefulSet
    }

    /// The message upstream's controller of this kind writes for `said` about `pod` of `set`.
    fn said(self, said: Said, pod: &str, set: &str, err: &str) -> String {
        use OwnerKind::*;
        match (self, said) {
            (StatefulSet, Said::Created) => {
                format!("create Pod {pod} in StatefulSet {set} successful")
            }
            (StatefulSet, Said::NotCreated) => {
                format!("create Pod {pod} in StatefulSet {set} failed error: {err}")
            }
            (StatefulSet, Said::Deleted) => {
                format!("delete Pod {pod} in StatefulSet {set} successful")
            }
            (DaemonSet, Said::Created) => format!("Created pod: {pod}"),
            (DaemonSet, Said::NotCreated) => format!("Error creating: {err}"),
            (DaemonSet, Said::Deleted) => format!("Deleted pod: {pod}"),
            (DaemonSet, Said::NotDeleted) => format!("Error deleting: {err}"),
            (_, Said::Created) => format!("succeed to create pod {pod}"),
            (_, Said::NotCreated) => format!("failed to create pod: {err}, pod: {pod}"),
            (_, Said::Deleted) => format!("succeed to delete pod {pod}"),
            (_, Said::NotDeleted) => format!("failed to delete pod {pod}: {err}"),
            (_, Said::UpdatedInPlace(_)) if self == DaemonSet => {
                format!("successfully update pod {pod} in-place")
            }
            (_, Said::UpdatedInPlace(to)) => {
                format!("successfully update pod {pod} in-place(revision {to})")
            }
        }
    }
}

/// Where a pass writes: the owner's namespace, and the owner its Events are about.
pub struct Writer<'a> {
    pub client: &'a Client,
    pub events: &'a Recorder,
    /// The workload the pods belong to (its namespace is where every write goes).
    pub owner: ObjectReference,
    pub kind: OwnerKind,
}

impl<'a> Writer<'a> {
    pub fn new<K>(
        client: &'a Client,
        events: &'a Recorder,
        owner: &K,
        kind: OwnerKind,
    ) -> Writer<'a>
    where
        K: kube::Resource<DynamicType = ()>,
    {
        Writer {
            client,
            events,
            owner: crate::controller::events::reference(owner),
            kind,
        }
    }

    /// The message upstream's controller of this kind writes for `said` about `pod`.
    pub fn said(&self, said: Said, pod: &str, err: Option<&str>) -> String {
        let set = self.owner.name.as_deref().unwrap_or_default();
        self.kind.said(said, pod, set, err.unwrap_or_default())
    }

    pub fn ns(&self) -> String {
        self.owner.namespace.clone().unwrap_or_default()
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.ns())
    }

    pub fn normal(&self, reason: &str, message: String) {
        self.events.normal(&self.owner, reason, message);
    }

    pub fn warning(&self, reason: &str, message: String) {
        self.events.warning(&self.owner, reason, message);
    }

    fn pod_at(&self, pod: &str, p: &Pod) -> Expect {
        Expect::at::<Pod>(&self.ns(), pod, rv(p.metadata.resource_version.as_ref()))
    }
}

/// What a plan asks to write, in the order it is written: the revision, the creations (in
/// slow-start batches), every other action at once, then the revisions history drops.
#[derive(Clone, Copy)]
pub struct Writes<'p> {
    pub revision: Option<&'p RevisionWrite>,
    pub actions: &'p [Action],
    /// The update revision (named in Events of pods recreated for an update).
    pub update_revision: &'p str,
    pub delete_revisions: &'p [String],
}

/// Carry out a plan's writes; `pods` is the cache the plan was made from (by name).
pub async fn apply(w: &Writer<'_>, plan: Writes<'_>, pods: &BTreeMap<String, Arc<Pod>>) -> Applied {
    let mut out = Applied::default();
    if let Err(e) = write_revision(w, plan, &mut out).await {
        out.errors.push(e);
        return out;
    }
    create_pods(w, plan, &mut out).await;
    let others = plan
        .actions
        .iter()
        .filter(|a| !matches!(a, Action::Create { .. }));
    // Collected first: a lazy `map` inside the stream makes the future not provably `Send`.
    let writes: Vec<_> = others.map(|a| other(w, plan, a, pods)).collect();
    let results: Vec<_> = stream::iter(writes)
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
    delete_revisions(w, plan, &mut out).await;
    out
}

async fn write_revision(
    w: &Writer<'_>,
    plan: Writes<'_>,
    out: &mut Applied,
) -> Result<(), SyncError> {
    let revs: Api<ControllerRevision> = w.api();
    match plan.revision {
        Some(RevisionWrite::Create { revision, name }) => {
            match revs.create(&post(), revision).await {
                Ok(_) => {}
                Err(e) if is_code(&e, 409) => {}
                Err(e) => {
                    return Err(SyncError::api(format!(
                        "creating controllerrevision {name}"
                    ))(e));
                }
            }
            out.expect
                .push(Expect::seen::<ControllerRevision>(&w.ns(), name));
        }
        Some(RevisionWrite::Renumber {
            name,
            revision,
            annotations,
        }) => {
            let patch = json!({"metadata": {"annotations": annotations}, "revision": revision});
            revs.patch(name, &pp(), &Patch::Merge(&patch))
                .await
                .map_err(SyncError::api(format!(
                    "renumbering controllerrevision {name}"
                )))?;
        }
        None => {}
    }
    Ok(())
}

/// Creations in slow-start batches (1, 2, 4, …); the first failing batch stops the rest.
async fn create_pods(w: &Writer<'_>, plan: Writes<'_>, out: &mut Applied) {
    let creates: Vec<&Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .collect();
    let mut batch = 1usize;
    let mut i = 0;
    while i < creates.len() {
        let chunk = &creates[i..(i + batch).min(creates.len())];
        let writes: Vec<_> = chunk.iter().map(|a| create(w, a)).collect();
        let results: Vec<_> = stream::iter(writes)
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut failed = false;
        for r in results {
            match r {
                Ok(name) => {
                    out.created += 1;
                    out.expect.push(Expect::seen::<Pod>(&w.ns(), &name));
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
}

async fn delete_revisions(w: &Writer<'_>, plan: Writes<'_>, out: &mut Applied) {
    let revs: Api<ControllerRevision> = w.api();
    for name in plan.delete_revisions {
        if let Err(e) = revs.delete(name, &DeleteParams::default()).await
            && !is_code(&e, 404)
        {
            out.errors.push(SyncError::api(format!(
                "deleting controllerrevision {name}"
            ))(e));
        }
    }
}

async fn create(w: &Writer<'_>, a: &Action) -> Result<String, SyncError> {
    let Action::Create {
        pod,
        object,
        pvc_objects,
        ..
    } = a
    else {
        unreachable!()
    };
    let pvcs: Api<PersistentVolumeClaim> = w.api();
    // The plan creates only the claims the owner does not own yet: one that exists is
    // someone else's, and the pod is not created on it (upstream: AlreadyExists, FailedCreate).
    for c in pvc_objects {
        let result = match pvcs.create(&post(), c).await {
            Ok(_) => continue,
            Err(e) if is_code(&e, 409) && w.kind.reuses_claims() => continue,
            Err(e) if is_code(&e, 409) => Err(SyncError::ForeignPvc {
                pod: pod.clone(),
                pvc: c.name_any(),
                kind: w.kind.name(),
            }),
            Err(e) => Err(SyncError::api(format!("creating pvc {}", c.name_any()))(e)),
        };
        if let Err(e) = &result {
            w.warning(
                "FailedCreate",
                format!("failed to create pvc: {e}, pvc: {}", c.name_any()),
            );
        }
        result?;
    }
    match w.api::<Pod>().create(&post(), object).await {
        Ok(_) => {
            w.normal("SuccessfulCreate", w.said(Said::Created, pod, None));
            Ok(pod.clone())
        }
        Err(e) => {
            w.warning(
                "FailedCreate",
                w.said(Said::NotCreated, pod, Some(&describe(&e))),
            );
            Err(SyncError::api(format!("creating pod {pod}"))(e))
        }
    }
}

enum Done {
    Deleted,
    Updated,
    Other,
}

type Wrote = Result<(Vec<Expect>, Done), SyncError>;

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
    w: &Writer<'_>,
    plan: Writes<'_>,
    a: &Action,
    cache: &BTreeMap<String, Arc<Pod>>,
) -> Wrote {
    match a {
        Action::Create { .. } => unreachable!(),
        Action::Delete {
            pod,
            uid,
            pvcs: claims,
            ..
        } => delete_pod(w, pod, uid, claims).await,
        Action::ReownPvc {
            pvc,
            pod,
            resource_version,
            owner_references,
        } => reown_pvc(w, pvc, pod, resource_version, owner_references).await,
        Action::DeletePvc { pvc } => delete_pvc(w, pvc).await,
        Action::Release { pod } => release(w, pod, cache).await,
        Action::Mark { pod, marks, reason } => {
            let wrote = mark(w, pod, marks).await;
            if *reason == "recreate" {
                recreate_event(w, pod, plan.update_revision, &wrote);
            }
            wrote
        }
        Action::UpdateInPlace {
            pod,
            to,
            change,
            grace_seconds,
            template_hash,
            lifecycle,
            ..
        } => {
            let to = (to.as_str(), *template_hash, *lifecycle);
            let wrote = update_in_place(w, pod, to, change, *grace_seconds, cache).await;
            let to = to.0;
            match &wrote {
                Ok(_) => w.normal(
                    "SuccessfulUpdatePodInPlace",
                    w.said(Said::UpdatedInPlace(to), pod, None),
                ),
                Err(e) => w.warning(
                    "FailedUpdatePodInPlace",
                    format!("failed to update pod {pod} in-place(revision {to}): {e}"),
                ),
            }
            wrote
        }
        Action::FinishGrace { pod, .. } => finish_grace(w, pod, cache).await,
    }
}

async fn delete_pod(w: &Writer<'_>, pod: &str, uid: &str, claims: &[String]) -> Wrote {
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let gone = vec![Expect::gone::<Pod>(&w.ns(), pod, uid)];
    match w.api::<Pod>().delete(pod, &dp).await {
        Ok(_) => {}
        // Gone already, or the name now belongs to a new pod (the UID precondition):
        // its claims are not ours to delete now; the next pass sees the truth.
        Err(e) if is_code(&e, 404) || is_code(&e, 409) => return Ok((gone, Done::Other)),
        Err(e) => {
            w.warning(
                "FailedDelete",
                w.said(Said::NotDeleted, pod, Some(&describe(&e))),
            );
            return Err(SyncError::api(format!("deleting pod {pod}"))(e));
        }
    }
    w.normal("SuccessfulDelete", w.said(Said::Deleted, pod, None));
    let pvcs: Api<PersistentVolumeClaim> = w.api();
    for c in claims {
        if let Err(e) = pvcs.delete(c, &DeleteParams::default()).await
            && !is_code(&e, 404)
        {
            w.warning(
                "FailedDelete",
                format!("failed to delete pvc {c}: {}", describe(&e)),
            );
            return Err(SyncError::api(format!("deleting pvc {c}"))(e));
        }
    }
    Ok((gone, Done::Deleted))
}

async fn reown_pvc(
    w: &Writer<'_>,
    pvc: &str,
    pod: &str,
    resource_version: &str,
    owner_references: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference],
) -> Wrote {
    let patch = json!({"metadata": {
        "resourceVersion": resource_version,
        "ownerReferences": owner_references,
    }});
    match w
        .api::<PersistentVolumeClaim>()
        .patch(pvc, &pp(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok((vec![], Done::Other)),
        Err(e) if is_code(&e, 404) || is_code(&e, 409) => Ok((vec![], Done::Other)),
        Err(e) => {
            w.warning(
                "FailedUpdate",
                format!("failed to update PVC {pvc}: {}", describe(&e)),
            );
            Err(SyncError::api(format!(
                "handing pvc {pvc} to its pod {pod}"
            ))(e))
        }
    }
}

async fn delete_pvc(w: &Writer<'_>, pvc: &str) -> Wrote {
    match w
        .api::<PersistentVolumeClaim>()
        .delete(pvc, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok((vec![], Done::Other)),
        Err(e) if is_code(&e, 404) => Ok((vec![], Done::Other)),
        Err(e) => {
            w.warning(
                "FailedDelete",
                format!("failed to clean up PVC {pvc}: {}", describe(&e)),
            );
            Err(SyncError::api(format!("deleting pvc {pvc}"))(e))
        }
    }
}

async fn release(w: &Writer<'_>, pod: &str, cache: &BTreeMap<String, Arc<Pod>>) -> Wrote {
    let uid = cache
        .get(pod)
        .and_then(|p| p.metadata.owner_references.as_ref())
        .and_then(|r| r.iter().find(|o| o.controller == Some(true)))
        .map(|o| o.uid.clone())
        .unwrap_or_default();
    let patch = json!({"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid}]}});
    w.api::<Pod>()
        .patch(pod, &pp(), &Patch::Strategic(&patch))
        .await
        .map(|p| (vec![w.pod_at(pod, &p)], Done::Other))
        .map_err(SyncError::api(format!("releasing pod {pod}")))
}

async fn mark(w: &Writer<'_>, pod: &str, marks: &PodMarks) -> Wrote {
    let pods: Api<Pod> = w.api();
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
        Ok(p) => Ok((vec![w.pod_at(pod, &p)], Done::Other)),
        Err(e) if is_code(&e, 404) => Ok((vec![], Done::Other)),
        Err(e) => Err(SyncError::api(format!("updating pod {pod}"))(e)),
    }
}

/// Upstream's Events for a pod marked to be recreated by an update.
fn recreate_event(w: &Writer<'_>, pod: &str, revision: &str, wrote: &Wrote) {
    match wrote {
        Ok(_) => w.normal(
            "SuccessfulUpdatePodReCreate",
            format!(
                "successfully patch pod {pod} specified-delete for update(revision {revision})"
            ),
        ),
        Err(e) => w.warning(
            "FailedUpdatePodReCreate",
            format!(
                "failed to patch pod specified-delete {pod} for update(revision {revision}): {e}"
            ),
        ),
    }
}

/// `InPlaceUpdateReady` False (and Ready False with it), then the new images and revision.
async fn update_in_place(
    w: &Writer<'_>,
    pod: &str,
    to: (&str, bool, bool),
    change: &crate::controller::inplace::InPlaceChange,
    grace_seconds: i32,
    cache: &BTreeMap<String, Arc<Pod>>,
) -> Wrote {
    let Some(cached) = cache.get(pod) else {
        return Err(SyncError::Vanished(pod.to_string()));
    };
    let pods: Api<Pod> = w.api();
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
            .map_err(SyncError::api(format!(
                "marking pod {pod} not ready for its in-place update"
            )))?;
    }
    let what = format!("updating pod {pod} in place");
    let rv = replace_pod(&pods, pod, current, &what, |p| {
        inplace_state::begin(p, to.0, to.1, to.2, change, grace_seconds, Timestamp::now());
    })
    .await?;
    Ok((vec![Expect::at::<Pod>(&w.ns(), pod, rv)], Done::Updated))
}

async fn finish_grace(w: &Writer<'_>, pod: &str, cache: &BTreeMap<String, Arc<Pod>>) -> Wrote {
    let Some(cached) = cache.get(pod) else {
        return Ok((vec![], Done::Other));
    };
    let what = format!("finishing the in-place update of pod {pod}");
    let rv = replace_pod(&w.api(), pod, cached.as_ref().clone(), &what, |p| {
        inplace_state::finish_grace(p, Timestamp::now());
    })
    .await?;
    Ok((vec![Expect::at::<Pod>(&w.ns(), pod, rv)], Done::Other))
}

/// Write the pod changed by `change` as a JSON patch of what changed, with the cached
/// resourceVersion as its precondition (a conflict re-reads and re-applies): upstream PUTs the
/// whole pod, but our cache keeps only what the plan reads, so a PUT of it would drop fields.
/// The new resourceVersion. `what` names the write in errors.
async fn replace_pod(
    pods: &Api<Pod>,
    pod: &str,
    mut current: Pod,
    what: &str,
    change: impl Fn(&mut Pod),
) -> Result<u64, SyncError> {
    for attempt in 0..5 {
        let patch = change_patch(&current, &change).map_err(|source| SyncError::Encode {
            what: format!("the change of pod {pod}"),
            source,
        })?;
        match pods.patch(pod, &pp(), &Patch::<()>::Json(patch)).await {
            Ok(p) => return Ok(rv(p.metadata.resource_version.as_ref())),
            Err(e) if is_code(&e, 409) && attempt < 4 => {
                current = pods
                    .get(pod)
                    .await
                    .map_err(SyncError::api(format!("reading pod {pod}")))?;
            }
            Err(e) => return Err(SyncError::api(what)(e)),
        }
    }
    Err(SyncError::Conflicts(what.to_string()))
}

/// The JSON patch from `current` to `current` changed by `change`, replacing the
/// resourceVersion with the one read: the server refuses it (409) if the pod moved since.
fn change_patch(
    current: &Pod,
    change: &impl Fn(&mut Pod),
) -> Result<json_patch::Patch, serde_json::Error> {
    let mut changed = current.clone();
    change(&mut changed);
    let diff = json_patch::diff(
        &serde_json::to_value(current)?,
        &serde_json::to_value(&changed)?,
    );
    let mut ops = serde_json::to_value(diff)?;
    if let (Some(list), Some(v)) = (ops.as_array_mut(), &current.metadata.resource_version) {
        list.push(json!({"op": "replace", "path": "/metadata/resourceVersion", "value": v}));
    }
    serde_json::from_value(ops)
}

/// What a pass did, into its report and what it leaves the runtime: the counts, the plan's
/// refusals (retrying will not help) and the writes' errors (retry), the stuck pods, the
/// expectations, when to come back.
pub fn into_pass(
    out: &mut crate::controller::runtime::Pass,
    applied: Applied,
    plan_errors: &[String],
    stuck: &[crate::controller::runtime::Stuck],
    requeue_after: Option<std::time::Duration>,
) {
    let r = &mut out.report;
    r.created = applied.created;
    r.deleted = applied.deleted;
    r.updated = applied.updated;
    r.errors.extend(plan_errors.iter().cloned());
    r.plan_errors = plan_errors.to_vec();
    r.errors
        .extend(applied.errors.iter().map(|e| e.to_string()));
    r.stuck = stuck.to_vec();
    out.retry = !applied.errors.is_empty();
    out.expect = applied.expect;
    out.requeue_after = requeue_after;
}

/// Write the webhook defaults (`spec`, serialized) into the stored object, once, guarded by
/// the resourceVersion the plan read.
pub async fn write_defaults<K>(
    w: &Writer<'_>,
    obj: &K,
    spec: &impl serde::Serialize,
) -> Result<Expect, SyncError>
where
    K: crate::controller::runtime::Watched + serde::Serialize,
{
    let patch = json!({
        "metadata": {"resourceVersion": obj.resource_version()},
        "spec": spec,
    });
    let name = obj.name_any();
    w.api::<K>()
        .patch(&name, &pp(), &Patch::Merge(&patch))
        .await
        .map(|o| Expect::at::<K>(&w.ns(), &name, rv(o.meta().resource_version.as_ref())))
        .map_err(SyncError::api(format!(
            "writing defaults to {} {name}",
            w.kind.name().to_lowercase()
        )))
}

/// Write the status computed by a plan, whole, as upstream's status update does: a JSON patch
/// `add /status` replaces the field, so a condition or field the plan dropped is dropped on
/// the server too (a merge patch would keep what it omits).
pub async fn write_status<K>(
    client: Client,
    obj: &K,
    kind: &str,
    status: &impl serde::Serialize,
) -> Result<Expect, SyncError>
where
    K: crate::controller::runtime::Watched + serde::Serialize,
{
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<K> = Api::namespaced(client, &ns);
    let patch: json_patch::Patch = serde_json::from_value(json!([
        {"op": "add", "path": "/status", "value": status}
    ]))
    .map_err(|source| SyncError::Encode {
        what: format!("status of {kind} {name}"),
        source,
    })?;
    api.patch_status(&name, &pp(), &Patch::<()>::Json(patch))
        .await
        .map(|o| Expect::at::<K>(&ns, &name, rv(o.meta().resource_version.as_ref())))
        .map_err(SyncError::api(format!("writing status of {kind} {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place write patches only what changed, with the resourceVersion read as its
    /// precondition; applied to the whole pod the server holds (which the slim cache lacks),
    /// it leaves every other field as it was.
    #[test]
    fn the_change_patch_touches_only_what_changed() {
        let full = json!({
            "metadata": {"name": "p", "resourceVersion": "7", "labels": {"a": "1"}},
            "spec": {"containers": [
                {"name": "c", "image": "x:1", "env": [{"name": "E", "value": "1"}]},
                {"name": "d", "image": "y:1"}],
                "volumes": [{"name": "v", "emptyDir": {}}]}
        });
        let mut cached: Pod = serde_json::from_value(full.clone()).unwrap();
        cached.spec.as_mut().unwrap().volumes = None;
        cached.spec.as_mut().unwrap().containers[0].env = None;
        let patch = change_patch(&cached, &|p: &mut Pod| {
            p.spec.as_mut().unwrap().containers[1].image = Some("y:2".into());
            let labels = p.metadata.labels.as_mut().unwrap();
            labels.insert("b".into(), "2".into());
        })
        .unwrap();
        let mut ops: Vec<String> = serde_json::to_value(&patch)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{} {} {}", o["op"], o["path"], o["value"]))
            .collect();
        ops.sort();
        assert_eq!(
            ops,
            [
                r#""add" "/metadata/labels/b" "2""#,
                r#""replace" "/metadata/resourceVersion" "7""#,
                r#""replace" "/spec/containers/1/image" "y:2""#,
            ]
        );
        let mut server = full.clone();
        json_patch::patch(&mut server, &patch).unwrap();
        let mut want = full;
        want["spec"]["containers"][1]["image"] = json!("y:2");
        want["metadata"]["labels"]["b"] = json!("2");
        assert_eq!(server, want);
    }

    /// Each kind's pod Events in its upstream controller's words.
    #[test]
    fn each_kind_words_its_events_as_upstream() {
        let say = |k: OwnerKind, said| k.said(said, "p-0", "s", "boom");
        assert_eq!(
            say(OwnerKind::CloneSet, Said::Created),
            "succeed to create pod p-0"
        );
        assert_eq!(
            say(OwnerKind::StatefulSet, Said::Created),
            "create Pod p-0 in StatefulSet s successful"
        );
        assert_eq!(say(OwnerKind::DaemonSet, Said::Deleted), "Deleted pod: p-0");
        assert_eq!(
            say(OwnerKind::StatefulSet, Said::UpdatedInPlace("s-1")),
            "successfully update pod p-0 in-place(revision s-1)"
        );
        assert_eq!(
            say(OwnerKind::DaemonSet, Said::UpdatedInPlace("abc")),
            "successfully update pod p-0 in-place"
        );
        assert!(OwnerKind::StatefulSet.reuses_claims() && !OwnerKind::CloneSet.reuses_claims());
    }
}
