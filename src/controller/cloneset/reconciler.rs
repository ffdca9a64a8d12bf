//! The CloneSet on the shared runtime: what it watches (its pods, revisions and claims, by
//! owner), the snapshot it plans from, and one pass: defaults, plan, apply, status.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};

use super::goal;
use super::plan::{self, Plan, Snapshot};
use super::sync::{self, Writer};
use crate::api::cloneset::CloneSet;
use crate::controller::pod;
use crate::controller::runtime::{
    self, Context, Key, Pass, Progress, Reconciler, Slim, StatusWrite, Stores, Watches,
};

pub const NAME: &str = "cloneset";

/// The CloneSet controller.
pub struct CloneSetReconciler;

fn owner<K: Resource>(obj: &K) -> Vec<Key> {
    runtime::owner_keys(obj, "CloneSet", "apps.kruise.io")
}

fn owned_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid)
}

impl Reconciler for CloneSetReconciler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_source(&self) -> &'static str {
        "cloneset-controller"
    }

    fn watches(&self, w: &mut Watches) {
        w.primary::<CloneSet>();
        w.secondary_slim::<Pod>(
            |p, _| owner(p),
            Slim {
                name: pod::SLIM,
                apply: pod::slim,
            },
        );
        w.secondary::<ControllerRevision>(|r, _| owner(r));
        w.secondary::<PersistentVolumeClaim>(|c, _| owner(c));
    }

    fn keys(&self, stores: &Stores) -> Vec<Key> {
        stores
            .all::<CloneSet>()
            .iter()
            .map(|c| (c.namespace().unwrap_or_default(), c.name_any()))
            .collect()
    }

    fn at_goal(&self, stores: &Stores, key: &Key) -> bool {
        stores
            .get::<CloneSet>(key)
            .is_some_and(|cs| goal::at_goal(&cs))
    }

    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>> {
        async move {
            let cs = cx.stores.get::<CloneSet>(key)?;
            Some(pass(cx, key, cs.as_ref().clone()).await)
        }
        .boxed()
    }
}

/// The CloneSet's pods, the namespace's revisions and the CloneSet's claims, from the caches.
fn snapshot(stores: &Stores, cs: CloneSet) -> Snapshot {
    let ns = cs.namespace().unwrap_or_default();
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    Snapshot {
        pods: stores.list::<Pod>(&ns, |p| owned_by(p, &uid)),
        revisions: stores
            .list::<ControllerRevision>(&ns, |_| true)
            .iter()
            .map(|r| r.as_ref().clone())
            .collect(),
        pvcs: stores
            .list::<PersistentVolumeClaim>(&ns, |c| owned_by(c, &uid))
            .iter()
            .map(|c| c.as_ref().clone())
            .collect(),
        cloneset: cs,
        now: Timestamp::now(),
        seed: fastrand::u64(..),
    }
}

fn progress(cs: &CloneSet, st: &crate::api::cloneset::CloneSetStatus) -> Progress {
    Progress {
        desired: cs.spec.replicas.unwrap_or(1),
        updated: st.updated_replicas,
        ready: st.ready_replicas,
        available: st.available_replicas,
        total: st.replicas,
        paused: cs
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.paused)
            .unwrap_or(false),
    }
}

async fn pass(cx: &Context, key: &Key, cs: CloneSet) -> Pass {
    let mut out = Pass::new(
        NAME,
        key,
        progress(&cs, &cs.status.clone().unwrap_or_default()),
    );
    let snapshot = snapshot(&cx.stores, cs);
    let plan = match plan::plan(&snapshot) {
        Ok(p) => p,
        Err(e) => {
            out.report.errors.push(e.to_string());
            return out;
        }
    };
    let cs = &snapshot.cloneset;
    let w = Writer::new(
        &cx.client,
        &cx.recorder,
        cs,
        crate::controller::podsync::OwnerKind::CloneSet,
    );
    if let Some(d) = &plan.defaulted {
        match sync::write_defaults(&w, cs, d).await {
            Ok(e) => out.expect.push(e),
            Err(e) => out.report.errors.push(e.to_string()),
        }
        return out;
    }
    let pods: BTreeMap<String, Arc<Pod>> = snapshot
        .pods
        .iter()
        .map(|p| (p.name_any(), p.clone()))
        .collect();
    let applied = sync::apply(&w, cs, &plan, &pods).await;
    crate::controller::podsync::into_pass(
        &mut out,
        applied,
        &plan.errors,
        &plan.stuck,
        plan.requeue_after,
    );
    out.report.progress = progress(cs, &plan.status);
    out.report.waiting = waiting(&snapshot, &plan.update_revision);
    out.status = status_write(cx, cs, &plan);
    out
}

/// The active pods not yet updated or not yet available: a few names, then how many more.
fn waiting(s: &Snapshot, update: &str) -> Vec<String> {
    let min_ready = s.cloneset.spec.min_ready_seconds.unwrap_or(0);
    let names: Vec<String> = s
        .pods
        .iter()
        .filter(|p| pod::is_active(p))
        .filter(|p| {
            !pod::revision_matches(pod::revision(p), update) || !pod::available(p, min_ready, s.now)
        })
        .map(|p| p.name_any())
        .collect();
    runtime::few(names)
}

/// The status write, when the plan changed it. Urgent: a new generation observed, or the
/// resting state (`rollout status` waits on both); otherwise the runtime coalesces.
fn status_write(cx: &Context, cs: &CloneSet, plan: &Plan) -> Option<StatusWrite> {
    if !plan.status_changed {
        return None;
    }
    let at_rest = plan.actions.is_empty() && plan.revision.is_none();
    let mut after = cs.clone();
    after.status = Some(plan.status.clone());
    let observed = cs.status.as_ref().map_or(0, |s| s.observed_generation);
    let urgent = plan.status.observed_generation > observed || (at_rest && goal::at_goal(&after));
    let client = cx.client.clone();
    let status = plan.status.clone();
    let cs = cs.clone();
    Some(StatusWrite {
        urgent,
        write: async move {
            sync::write_status(client, &cs, &status)
                .await
                .map_err(|e| e.to_string())
        }
        .boxed(),
    })
}
