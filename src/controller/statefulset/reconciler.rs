//! The Advanced StatefulSet on the shared runtime: what it watches (its pods by owner, the
//! namespace's revisions, its claims by name), the snapshot it plans from, and one pass:
//! defaults, plan, apply (the shared `podsync`), status.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, ResourceExt};

use super::goal;
use super::ordinals;
use super::plan::{self, Plan, Snapshot};
use crate::api::statefulset::{StatefulSet, StatefulSetStatus};
use crate::controller::pod;
use crate::controller::podsync::{self, Writer, Writes};
use crate::controller::runtime::{
    self, Context, Key, Pass, Progress, Reconciler, Slim, StatusWrite, Stores, Watches,
};

pub const NAME: &str = "statefulset";
const KIND: &str = "StatefulSet";

/// The Advanced StatefulSet controller.
pub struct StatefulSetReconciler;

fn owner<K: Resource>(obj: &K) -> Vec<Key> {
    runtime::owner_keys(obj, KIND, "apps.kruise.io")
}

/// The sets a claim named `<template>-<set>-<ordinal>` may belong to.
fn claim_owners(c: &PersistentVolumeClaim, stores: &Stores) -> Vec<Key> {
    let name = c.name_any();
    let (Some(ns), Some((prefix, _))) = (c.namespace(), ordinals::parse(&name)) else {
        return vec![];
    };
    stores
        .list::<StatefulSet>(&ns, |s| prefix.ends_with(&format!("-{}", s.name_any())))
        .iter()
        .map(|s| (ns.clone(), s.name_any()))
        .collect()
}

fn controlled_by(p: &Pod, uid: &str) -> bool {
    p.owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

impl Reconciler for StatefulSetReconciler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_source(&self) -> &'static str {
        "statefulset-controller"
    }

    fn watches(&self, w: &mut Watches) {
        w.primary::<StatefulSet>();
        w.secondary_slim::<Pod>(
            |p, _| owner(p),
            Slim {
                name: pod::SLIM,
                apply: pod::slim,
            },
        );
        w.secondary::<ControllerRevision>(|r, _| owner(r));
        w.secondary::<PersistentVolumeClaim>(claim_owners);
    }

    fn keys(&self, stores: &Stores) -> Vec<Key> {
        stores
            .all::<StatefulSet>()
            .iter()
            .map(|s| (s.namespace().unwrap_or_default(), s.name_any()))
            .collect()
    }

    fn at_goal(&self, stores: &Stores, key: &Key) -> bool {
        settled(stores, key, false)
    }

    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>> {
        async move {
            let set = cx.stores.get::<StatefulSet>(key)?;
            Some(pass(cx, key, set.as_ref().clone()).await)
        }
        .boxed()
    }
}

/// Whether the set rests (or, with `paused_too`, is paused or rests), judged from the caches:
/// its status and its pods.
pub fn settled(stores: &Stores, key: &Key, paused_too: bool) -> bool {
    let Some(set) = stores.get::<StatefulSet>(key) else {
        return false;
    };
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let pods = stores.list::<Pod>(&key.0, |p| controlled_by(p, &uid));
    if paused_too && matches!(goal::status(&set), Ok((_, goal::Phase::Paused))) {
        return true;
    }
    goal::at_goal(&set, &pods)
}

/// The set's pods, the namespace's revisions and claims, from the caches.
pub fn snapshot(stores: &Stores, set: StatefulSet) -> Snapshot {
    let ns = set.namespace().unwrap_or_default();
    let uid = set.metadata.uid.clone().unwrap_or_default();
    Snapshot {
        pods: stores.list::<Pod>(&ns, |p| controlled_by(p, &uid)),
        revisions: stores
            .list::<ControllerRevision>(&ns, |_| true)
            .iter()
            .map(|r| r.as_ref().clone())
            .collect(),
        pvcs: stores
            .list::<PersistentVolumeClaim>(&ns, |_| true)
            .iter()
            .map(|c| c.as_ref().clone())
            .collect(),
        set,
        now: Timestamp::now(),
    }
}

pub fn progress(set: &StatefulSet, st: &StatefulSetStatus) -> Progress {
    Progress {
        desired: set.spec.replicas.unwrap_or(1),
        updated: st.updated_replicas,
        ready: st.ready_replicas,
        available: st.available_replicas,
        total: st.replicas,
        paused: set
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.paused)
            .unwrap_or(false),
    }
}

async fn pass(cx: &Context, key: &Key, set: StatefulSet) -> Pass {
    let mut out = Pass::new(
        NAME,
        key,
        progress(&set, &set.status.clone().unwrap_or_default()),
    );
    let snapshot = snapshot(&cx.stores, set);
    let plan = match plan::plan(&snapshot) {
        Ok(p) => p,
        Err(e) => {
            out.report.errors.push(e.to_string());
            out.report.plan_errors.push(e.to_string());
            return out;
        }
    };
    let set = &snapshot.set;
    let w = Writer::new(
        &cx.client,
        &cx.recorder,
        set,
        crate::controller::podsync::OwnerKind::StatefulSet,
    );
    if let Some(d) = &plan.defaulted {
        match podsync::write_defaults(&w, set, &d.spec).await {
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
    let writes = Writes {
        revision: plan.revision.as_ref(),
        actions: &plan.actions,
        update_revision: &plan.update_revision,
        delete_revisions: &plan.delete_revisions,
    };
    let applied = podsync::apply(&w, writes, &pods).await;
    podsync::into_pass(
        &mut out,
        applied,
        &plan.errors,
        &plan.stuck,
        plan.requeue_after,
    );
    out.report.progress = progress(set, &plan.status);
    out.report.waiting = waiting(&snapshot, &plan);
    out.status = status_write(cx, set, &plan);
    out
}

/// The pods not yet updated or not yet Ready: a few names, then how many more.
fn waiting(s: &Snapshot, plan: &Plan) -> Vec<String> {
    let names: Vec<String> = s
        .pods
        .iter()
        .filter(|p| pod::is_active(p))
        .filter(|p| pod::revision(p) != plan.update_revision || !pod::is_ready(p))
        .map(|p| p.name_any())
        .collect();
    runtime::few(names)
}

/// The status write, when upstream would write one. Urgent: a new generation observed, or the
/// resting state.
fn status_write(cx: &Context, set: &StatefulSet, plan: &Plan) -> Option<StatusWrite> {
    if !plan.status_changed {
        return None;
    }
    let mut after = set.clone();
    after.status = Some(plan.status.clone());
    let observed = set
        .status
        .as_ref()
        .and_then(|s| s.observed_generation)
        .unwrap_or(0);
    let at_rest = plan.actions.is_empty() && plan.revision.is_none();
    let urgent = plan.status.observed_generation.unwrap_or(0) > observed
        || (at_rest && goal::at_goal(&after, &[]));
    let client = cx.client.clone();
    let status = plan.status.clone();
    let set = set.clone();
    Some(StatusWrite {
        urgent,
        write: async move {
            podsync::write_status(client, &set, "statefulset", &status)
                .await
                .map_err(|e| e.to_string())
        }
        .boxed(),
    })
}
