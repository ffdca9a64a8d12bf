//! The Advanced DaemonSet on the shared runtime: what it watches (its pods and revisions by
//! owner, and the nodes: a node that appears, goes or changes in what placement reads wakes
//! every DaemonSet), the snapshot it plans from, and one pass: plan, the shared pod writer,
//! status.
//!
//! Differences from upstream's controller, on purpose: pods are created with a name chosen in
//! the plan (upstream sends `generateName`; the runtime's expectations need the name), orphan
//! pods matching the selector are not adopted (as the CloneSet here), and a failed pod is
//! deleted on the next pass without upstream's in-memory per-node backoff.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch};
use kube::runtime::reflector::ObjectRef;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use super::goal;
use super::plan::{self, Plan, Snapshot};
use crate::api::daemonset::{DaemonSet, DaemonSetStatus};
use crate::controller::pod;
use crate::controller::podsync::{self, SyncError, Writer, Writes, pp, rv};
use crate::controller::runtime::{
    self, Context, Expect, Key, Pass, Progress, Reconciler, Slim, StatusWrite, Stores, Watches,
};

pub const NAME: &str = "daemonset";

/// The Advanced DaemonSet controller.
pub struct DaemonSetReconciler;

fn owner<K: Resource>(obj: &K) -> Vec<Key> {
    runtime::owner_keys(obj, "DaemonSet", "apps.kruise.io")
}

fn owned_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid)
}

fn every_daemonset(stores: &Stores) -> Vec<Key> {
    stores
        .all::<DaemonSet>()
        .iter()
        .map(|d| (d.namespace().unwrap_or_default(), d.name_any()))
        .collect()
}

/// What placement reads of a node (upstream's shouldIgnoreNodeUpdate compares the rest less
/// its resourceVersion and the conditions that are not True): labels, taints, and the True
/// conditions. Heartbeats change none of it.
fn fingerprint(n: &Node) -> String {
    let mut conds: Vec<&str> = n
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .filter(|c| c.status == "True")
        .map(|c| c.type_.as_str())
        .collect();
    conds.sort_unstable();
    let spec = n.spec.as_ref();
    json!([
        n.labels(),
        spec.map(|s| &s.taints),
        spec.map(|s| &s.unschedulable),
        conds
    ])
    .to_string()
}

/// A node's change wakes every DaemonSet when it is new, gone, or changed in what placement
/// reads.
fn node_mapper() -> impl Fn(&Node, &Stores) -> Vec<Key> + Send + Sync + 'static {
    let seen: Mutex<HashMap<String, String>> = Mutex::new(HashMap::new());
    move |n, stores| {
        let name = n.name_any();
        let present = stores
            .store::<Node>()
            .and_then(|s| s.get(&ObjectRef::new(&name)))
            .is_some();
        let print = fingerprint(n);
        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        let changed = if present {
            seen.insert(name, print.clone()).as_ref() != Some(&print)
        } else {
            seen.remove(&name);
            true
        };
        if changed {
            every_daemonset(stores)
        } else {
            vec![]
        }
    }
}

impl Reconciler for DaemonSetReconciler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_source(&self) -> &'static str {
        "daemonset-controller"
    }

    fn watches(&self, w: &mut Watches) {
        w.primary::<DaemonSet>();
        w.secondary_slim::<Pod>(
            |p, _| owner(p),
            Slim {
                name: pod::SLIM,
                apply: pod::slim,
            },
        );
        w.secondary::<ControllerRevision>(|r, _| owner(r));
        w.cluster::<Node>(node_mapper());
    }

    fn keys(&self, stores: &Stores) -> Vec<Key> {
        every_daemonset(stores)
    }

    fn at_goal(&self, stores: &Stores, key: &Key) -> bool {
        let nodes = stores.all::<Node>();
        let nodes: Vec<&Node> = nodes.iter().map(|n| n.as_ref()).collect();
        stores
            .get::<DaemonSet>(key)
            .is_some_and(|d| goal::at_goal(&d, &nodes))
    }

    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>> {
        async move {
            let ds = cx.stores.get::<DaemonSet>(key)?;
            Some(pass(cx, key, ds.as_ref().clone()).await)
        }
        .boxed()
    }
}

/// The DaemonSet's pods, the namespace's revisions and every node, from the caches.
fn snapshot(stores: &Stores, ds: DaemonSet) -> Snapshot {
    let ns = ds.namespace().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    Snapshot {
        nodes: stores.all::<Node>(),
        pods: stores.list::<Pod>(&ns, |p| owned_by(p, &uid)),
        revisions: stores
            .list::<ControllerRevision>(&ns, |_| true)
            .iter()
            .map(|r| r.as_ref().clone())
            .collect(),
        daemonset: ds,
        now: Timestamp::now(),
        seed: fastrand::u64(..),
    }
}

pub fn progress(ds: &DaemonSet, st: &DaemonSetStatus) -> Progress {
    Progress {
        desired: st.desired_number_scheduled,
        updated: st.updated_number_scheduled,
        ready: st.number_ready,
        available: st.number_available.unwrap_or(0),
        total: st.current_number_scheduled,
        paused: ds
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.paused)
            .unwrap_or(false),
    }
}

async fn pass(cx: &Context, key: &Key, ds: DaemonSet) -> Pass {
    let mut out = Pass::new(
        NAME,
        key,
        progress(&ds, &ds.status.clone().unwrap_or_default()),
    );
    let snapshot = snapshot(&cx.stores, ds);
    let plan = match plan::plan(&snapshot) {
        Ok(p) => p,
        Err(e) => {
            out.report.errors.push(e.to_string());
            return out;
        }
    };
    let ds = &snapshot.daemonset;
    let w = Writer::new(
        &cx.client,
        &cx.recorder,
        ds,
        crate::controller::podsync::OwnerKind::DaemonSet,
    );
    for (reason, message) in &plan.warnings {
        w.warning(reason, message.clone());
    }
    let pods: BTreeMap<String, Arc<Pod>> = snapshot
        .pods
        .iter()
        .map(|p| (p.name_any(), p.clone()))
        .collect();
    let writes = Writes {
        revision: plan.revision.as_ref(),
        actions: &plan.actions,
        update_revision: &plan.update_revision,
        delete_revisions: &plan.delete_revisions,
    };
    let applied = podsync::apply(&w, writes, &pods).await;
    podsync::into_pass(&mut out, applied, &plan.errors, &[], plan.requeue_after);
    out.report.progress = progress(ds, &plan.status);
    out.report.waiting = waiting(&snapshot, &plan.update_revision);
    out.status = status_write(cx, ds, &snapshot, &plan);
    out
}

/// The pods not yet updated or not yet available: a few names, then how many more.
fn waiting(s: &Snapshot, hash: &str) -> Vec<String> {
    let min_ready = s.daemonset.spec.min_ready_seconds.unwrap_or(0);
    let names: Vec<String> = s
        .pods
        .iter()
        .filter(|p| pod::is_active(p))
        .filter(|p| pod::revision(p) != hash || !plan::available(p, min_ready, s.now))
        .map(|p| p.name_any())
        .collect();
    runtime::few(names)
}

/// The status write, when the plan changed it. Urgent: a new generation observed, or the
/// resting state; otherwise the runtime coalesces.
fn status_write(cx: &Context, ds: &DaemonSet, s: &Snapshot, plan: &Plan) -> Option<StatusWrite> {
    if !plan.status_changed {
        return None;
    }
    let at_rest = plan.actions.is_empty() && plan.revision.is_none();
    let mut after = ds.clone();
    after.status = Some(plan.status.clone());
    let nodes: Vec<&Node> = s.nodes.iter().map(|n| n.as_ref()).collect();
    let observed = ds.status.as_ref().and_then(|s| s.observed_generation);
    let urgent =
        plan.status.observed_generation > observed || (at_rest && goal::at_goal(&after, &nodes));
    let client = cx.client.clone();
    let status = plan.status.clone();
    let ds = ds.clone();
    Some(StatusWrite {
        urgent,
        write: async move {
            write_status(client, &ds, &status)
                .await
                .map_err(|e| e.to_string())
        }
        .boxed(),
    })
}

/// Write the status whole (a JSON patch `add /status`), as upstream's UpdateStatus replaces it.
pub async fn write_status(
    client: Client,
    ds: &DaemonSet,
    status: &DaemonSetStatus,
) -> Result<Expect, SyncError> {
    let ns = ds.namespace().unwrap_or_default();
    let name = ds.name_any();
    let api: Api<DaemonSet> = Api::namespaced(client, &ns);
    let patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/status", "value": status}]))
            .map_err(|source| SyncError::Encode {
                what: format!("status of daemonset {name}"),
                source,
            })?;
    api.patch_status(&name, &pp(), &Patch::<()>::Json(patch))
        .await
        .map(|o| Expect::at::<DaemonSet>(&ns, &name, rv(o.metadata.resource_version.as_ref())))
        .map_err(SyncError::api(format!(
            "writing status of daemonset {name}"
        )))
}
