//! The BatchRelease controller on the shared runtime: what it watches, the target it reads
//! from the caches, and one pass (plan, then the writes in order, then the status).

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet as NativeStatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::Patch;
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::bluegreen;
use super::plan::{self, Plan, Write};
use super::target::{Canary, Style, Target};
use crate::api::batchrelease::BatchRelease;
use crate::api::cloneset::CloneSet;
use crate::api::statefulset::StatefulSet;
use crate::controller::pod;
use crate::controller::rollout::io;
use crate::controller::rollout::keys;
use crate::controller::rollout::workload::{self, TargetKind};
use crate::controller::runtime::{
    Context, Key, Pass, Progress, Reconciler, Slim, StatusWrite, Stores, Watches,
};

pub const NAME: &str = "batchrelease";

pub struct BatchReleaseReconciler;

/// The BatchReleases of `ns` (a workload or pod change wakes each: there are few).
fn all_in(stores: &Stores, ns: Option<String>) -> Vec<Key> {
    crate::controller::runtime::keys_where::<BatchRelease>(stores, ns, |_| true)
}

fn referring(stores: &Stores, ns: Option<String>, kind: &str, name: &str) -> Vec<Key> {
    crate::controller::runtime::keys_where::<BatchRelease>(stores, ns, |o| {
        o.spec.workload_ref.kind == kind && o.spec.workload_ref.name == name
    })
}

impl Reconciler for BatchReleaseReconciler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_source(&self) -> &'static str {
        "batchrelease-controller"
    }

    /// The Rollout's: the two only work together (upstream's one manager leader-elects both),
    /// so a namespace's releases have one writer and one Lease to renew.
    fn lease(&self) -> &'static str {
        crate::controller::rollout::reconciler::NAME
    }

    fn watches(&self, w: &mut Watches) {
        w.primary::<BatchRelease>();
        w.secondary::<Deployment>(|d, s| {
            let mut keys = referring(s, d.namespace(), "Deployment", &d.name_any());
            keys.extend(crate::controller::runtime::owner_keys(
                d,
                "BatchRelease",
                "rollouts.kruise.io",
            ));
            keys
        });
        w.secondary::<ReplicaSet>(|r, s| all_in(s, r.namespace()));
        w.secondary::<CloneSet>(|c, s| referring(s, c.namespace(), "CloneSet", &c.name_any()));
        w.secondary::<StatefulSet>(|c, s| {
            referring(s, c.namespace(), "StatefulSet", &c.name_any())
        });
        w.secondary::<NativeStatefulSet>(|c, s| {
            referring(s, c.namespace(), "StatefulSet", &c.name_any())
        });
        w.secondary_slim::<Pod>(
            |p, s| all_in(s, p.namespace()),
            Slim {
                name: pod::SLIM,
                apply: pod::slim,
            },
        );
    }

    fn keys(&self, stores: &Stores) -> Vec<Key> {
        stores
            .all::<BatchRelease>()
            .iter()
            .map(|b| (b.namespace().unwrap_or_default(), b.name_any()))
            .collect()
    }

    fn at_goal(&self, stores: &Stores, key: &Key) -> bool {
        stores.get::<BatchRelease>(key).is_none_or(|b| {
            let phase = b.status.as_ref().and_then(|s| s.phase.as_deref());
            let state = b
                .status
                .as_ref()
                .and_then(|s| s.canary_status.as_ref())
                .and_then(|c| c.batch_state.as_deref());
            phase == Some(plan::COMPLETED) || state == Some(plan::READY)
        })
    }

    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>> {
        async move {
            let br = cx.stores.get::<BatchRelease>(key)?;
            Some(pass(cx, key, &br).await)
        }
        .boxed()
    }
}

fn controlled_by<K: Resource>(o: &K, uid: &str) -> bool {
    o.annotations()
        .get(keys::CONTROL_INFO)
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .is_some_and(|v| v["uid"] == uid)
}

fn pods_with(stores: &Stores, ns: &str, key: &'static str, value: &str) -> Vec<Arc<Pod>> {
    stores.list::<Pod>(ns, |p| {
        p.labels().get(key).map(String::as_str) == Some(value)
    })
}

/// The BatchRelease's view of its workload, from the caches.
pub fn target(stores: &Stores, br: &BatchRelease) -> Option<Target> {
    let ns = br.namespace().unwrap_or_default();
    let r = &br.spec.workload_ref;
    let kind = TargetKind::of(&r.api_version, &r.kind)?;
    let key = (ns.clone(), r.name.clone());
    let uid = br.uid().unwrap_or_default();
    let blue_green = plan::style(br) == Style::BlueGreen;
    match kind {
        TargetKind::Deployment if blue_green => blue_green_deployment(stores, &key, &uid),
        TargetKind::Deployment => deployment_target(stores, &key, &uid),
        TargetKind::CloneSet => {
            let cs = stores.get::<CloneSet>(&key)?;
            let f = workload::cloneset(&cs);
            let s = cs.status.clone().unwrap_or_default();
            let u = cs.spec.update_strategy.clone().unwrap_or_default();
            let in_rollback = f.stable_revision == f.canary_revision;
            Some(Target {
                kind,
                name: r.name.clone(),
                replicas: f.replicas,
                consistent: f.consistent,
                stable_revision: f.stable_revision,
                update_revision: f.canary_revision,
                updated: s.updated_replicas,
                updated_ready: s.updated_ready_replicas,
                controlled: controlled_by(cs.as_ref(), &uid),
                partition: u.partition,
                paused: u.paused.unwrap_or(false),
                stable: None,
                canary: None,
                stable_rolled: false,
                in_rollback,
                blue_green: blue_green.then(|| cloneset_facts(&cs)),
                pod_revision: s
                    .update_revision
                    .map(|v| (keys::CONTROLLER_REVISION_HASH, v)),
            })
        }
        TargetKind::AdvancedStatefulSet => {
            let s = stores.get::<StatefulSet>(&key)?;
            let f = workload::advanced_statefulset(&s);
            let st = s.status.clone().unwrap_or_default();
            let ru = s
                .spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.rolling_update.clone())
                .unwrap_or_default();
            sts_target(
                stores,
                &ns,
                kind,
                &r.name,
                f,
                controlled_by(s.as_ref(), &uid),
                ru.partition
                    .map(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int),
                ru.paused.unwrap_or(false),
                st.updated_replicas,
            )
        }
        TargetKind::StatefulSet => {
            let s = stores.get::<NativeStatefulSet>(&key)?;
            let f = workload::native_statefulset(&s);
            let partition = s.spec.as_ref().and_then(|x| {
                x.update_strategy
                    .as_ref()?
                    .rolling_update
                    .as_ref()?
                    .partition
            });
            let updated = s
                .status
                .as_ref()
                .and_then(|x| x.updated_replicas)
                .unwrap_or(0);
            sts_target(
                stores,
                &ns,
                kind,
                &r.name,
                f,
                controlled_by(s.as_ref(), &uid),
                partition.map(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int),
                false,
                updated,
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sts_target(
    stores: &Stores,
    ns: &str,
    kind: TargetKind,
    name: &str,
    f: workload::Facts,
    controlled: bool,
    partition: Option<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>,
    paused: bool,
    updated: i32,
) -> Option<Target> {
    let pods = pods_with(
        stores,
        ns,
        keys::CONTROLLER_REVISION_HASH,
        &f.canary_revision,
    );
    let ready = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && pod::is_ready(p))
        .count() as i32;
    Some(Target {
        kind,
        name: name.to_string(),
        replicas: f.replicas,
        consistent: f.consistent,
        stable_revision: f.stable_revision,
        update_revision: f.canary_revision.clone(),
        updated,
        updated_ready: ready,
        controlled,
        partition,
        paused,
        stable: None,
        canary: None,
        stable_rolled: false,
        pod_revision: Some((keys::CONTROLLER_REVISION_HASH, f.canary_revision)),
        in_rollback: false,
        blue_green: None,
    })
}

fn deployment_target(stores: &Stores, key: &Key, uid: &str) -> Option<Target> {
    let d = stores.get::<Deployment>(key)?;
    let ns = &key.0;
    let rss: Vec<Arc<ReplicaSet>> = stores.list::<ReplicaSet>(ns, |_| true);
    let rs_refs: Vec<&ReplicaSet> = rss.iter().map(|r| r.as_ref()).collect();
    let canary = canary_of(stores, ns, uid);
    let canary_pair = canary.as_ref().map(|c| (c.as_ref(), rs_refs.clone()));
    let f = workload::deployment(&d, &rs_refs, canary_pair);
    let c = canary.map(|c| {
        let pod_hash = canary_hash(&c, &rs_refs);
        let st = c.status.clone().unwrap_or_default();
        Canary {
            name: c.name_any(),
            replicas: c.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            consistent: st.observed_generation == c.metadata.generation,
            status_replicas: st.replicas.unwrap_or(0),
            available: st.available_replicas.unwrap_or(0),
            has_finalizer: c.finalizers().iter().any(|x| x == keys::CANARY_FINALIZER),
            pod_hash,
        }
    });
    let st = d.status.clone().unwrap_or_default();
    let replicas = f.replicas;
    let max_unavailable = d
        .spec
        .as_ref()
        .and_then(|s| {
            s.strategy
                .as_ref()?
                .rolling_update
                .as_ref()?
                .max_unavailable
                .clone()
        })
        .and_then(|m| crate::controller::intstr::kruise(&m, replicas, false))
        .unwrap_or(0);
    let stable_rolled = st.updated_replicas.unwrap_or(0) == replicas
        && st.available_replicas.unwrap_or(0) + max_unavailable >= replicas
        && st.observed_generation == d.metadata.generation;
    let pod_revision = c
        .as_ref()
        .and_then(|c| c.pod_hash.clone())
        .map(|h| (keys::POD_TEMPLATE_HASH, h));
    Some(Target {
        kind: TargetKind::Deployment,
        name: d.name_any(),
        replicas,
        consistent: f.consistent,
        stable_revision: f.stable_revision,
        update_revision: f.canary_revision,
        updated: st.updated_replicas.unwrap_or(0),
        updated_ready: 0,
        controlled: controlled_by(d.as_ref(), uid),
        partition: None,
        paused: f.paused,
        stable: Some(d.as_ref().clone()),
        canary: c,
        stable_rolled,
        pod_revision,
        in_rollback: false,
        blue_green: None,
    })
}

/// What blue-green reads of a CloneSet.
fn cloneset_facts(cs: &CloneSet) -> bluegreen::Facts {
    let u = cs.spec.update_strategy.clone().unwrap_or_default();
    let st = cs.status.clone().unwrap_or_default();
    bluegreen::Facts {
        strategy_type: u
            .type_
            .and_then(|t| serde_json::to_value(t).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        has_rolling_update: false,
        max_surge: u.max_surge,
        max_unavailable: u.max_unavailable,
        min_ready: cs.spec.min_ready_seconds.unwrap_or(0),
        progress_deadline: cs.spec.progress_deadline_seconds,
        original: cs.annotations().get(bluegreen::ORIGINAL).cloned(),
        paused: u.paused.unwrap_or(false),
        being_deleted: cs.metadata.deletion_timestamp.is_some(),
        status_replicas: st.replicas,
        ready: st.ready_replicas,
        available: st.available_replicas,
        stable_rs: None,
        hpa: None,
    }
}

/// A Deployment released blue-green (upstream's "advanced Deployment" finder and
/// `getWorkloadInfo`): the stable revision is the `stable-revision` label, the new pods are
/// those of the ReplicaSet whose template is the Deployment's, and a rollback is that
/// ReplicaSet being the stable one again.
fn blue_green_deployment(stores: &Stores, key: &Key, uid: &str) -> Option<Target> {
    let d = stores.get::<Deployment>(key)?;
    let rss: Vec<Arc<ReplicaSet>> = stores.list::<ReplicaSet>(&key.0, |_| true);
    let rs_refs: Vec<&ReplicaSet> = rss.iter().map(|r| r.as_ref()).collect();
    let spec = d.spec.clone().unwrap_or_default();
    let st = d.status.clone().unwrap_or_default();
    let owner = d.uid().unwrap_or_default();
    let (new_rs, _) = workload::new_and_old(&d, &rs_refs);
    let new_hash = new_rs.and_then(|rs| rs.labels().get(keys::POD_TEMPLATE_HASH).cloned());
    let stable_label = d
        .labels()
        .get(keys::STABLE_REVISION)
        .cloned()
        .unwrap_or_default();
    let strategy = spec.strategy.clone().unwrap_or_default();
    let ru = strategy.rolling_update.clone();
    let stable_rs = workload::stable_replicaset(&owner, &rs_refs).map(|rs| {
        let min = rs
            .spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0);
        (rs.name_any(), min)
    });
    let f = bluegreen::Facts {
        strategy_type: strategy.type_.clone(),
        has_rolling_update: ru.is_some(),
        max_surge: ru.as_ref().and_then(|r| r.max_surge.clone()),
        max_unavailable: ru.as_ref().and_then(|r| r.max_unavailable.clone()),
        min_ready: spec.min_ready_seconds.unwrap_or(0),
        progress_deadline: spec.progress_deadline_seconds,
        original: d.annotations().get(bluegreen::ORIGINAL).cloned(),
        paused: spec.paused.unwrap_or(false),
        being_deleted: d.metadata.deletion_timestamp.is_some(),
        status_replicas: st.replicas.unwrap_or(0),
        ready: st.ready_replicas.unwrap_or(0),
        available: st.available_replicas.unwrap_or(0),
        stable_rs,
        hpa: None,
    };
    Some(Target {
        kind: TargetKind::Deployment,
        name: d.name_any(),
        replicas: spec.replicas.unwrap_or(1),
        consistent: st.observed_generation == d.metadata.generation,
        stable_revision: stable_label.clone(),
        update_revision: crate::controller::rollout::hash::template_hash(&spec.template),
        updated: st.updated_replicas.unwrap_or(0),
        updated_ready: new_rs
            .and_then(|rs| rs.status.as_ref()?.ready_replicas)
            .unwrap_or(0),
        controlled: controlled_by(d.as_ref(), uid),
        partition: None,
        paused: spec.paused.unwrap_or(false),
        stable: None,
        canary: None,
        stable_rolled: false,
        in_rollback: !stable_label.is_empty() && new_hash.as_deref() == Some(&stable_label),
        pod_revision: new_hash.map(|h| (keys::POD_TEMPLATE_HASH, h)),
        blue_green: Some(f),
    })
}

/// The HPA aimed at the BatchRelease's workload, listed only while blue-green claims or
/// releases it (upstream lists them then too); none when the list fails.
async fn hpa_for(cx: &Context, ns: &str, br: &BatchRelease) -> Option<bluegreen::Hpa> {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let api: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(cx.client.clone(), ns);
    let list = match api.list(&Default::default()).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("listing HPAs in {ns}: {e}");
            return None;
        }
    };
    let r = &br.spec.workload_ref;
    list.items.iter().find_map(|h| {
        let t = &h.spec.as_ref()?.scale_target_ref;
        let hpa = bluegreen::Hpa {
            name: h.name_any(),
            api_version: t.api_version.clone().unwrap_or_default(),
            kind: t.kind.clone(),
            target: t.name.clone(),
        };
        bluegreen::aims_at(&hpa, &r.api_version, &r.kind, &r.name).then_some(hpa)
    })
}

/// The newest live canary Deployment this BatchRelease owns.
fn canary_of(stores: &Stores, ns: &str, uid: &str) -> Option<Arc<Deployment>> {
    let mut owned = stores.list::<Deployment>(ns, |d| {
        d.metadata.deletion_timestamp.is_none()
            && d.owner_references()
                .iter()
                .any(|o| o.uid == uid && o.controller == Some(true))
    });
    owned.sort_by_key(|d| std::cmp::Reverse((d.creation_timestamp().map(|t| t.0), d.name_any())));
    owned.into_iter().next()
}

fn canary_hash(c: &Deployment, rss: &[&ReplicaSet]) -> Option<String> {
    let uid = c.uid()?;
    rss.iter()
        .filter(|rs| rs.owner_references().iter().any(|o| o.uid == uid))
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .min_by_key(|rs| (rs.creation_timestamp().map(|t| t.0), rs.name_any()))
        .and_then(|rs| rs.labels().get(keys::POD_TEMPLATE_HASH).cloned())
}

async fn pass(cx: &Context, key: &Key, br: &BatchRelease) -> Pass {
    let mut t = target(&cx.stores, br);
    let phase = br
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    let claims_or_releases = !matches!(phase, plan::PROGRESSING | plan::COMPLETED);
    if let Some(f) = t.as_mut().and_then(|t| t.blue_green.as_mut())
        && claims_or_releases
    {
        f.hpa = hpa_for(cx, &key.0, br).await;
    }
    let pods: Vec<Arc<Pod>> = match t.as_ref().and_then(|t| t.pod_revision.clone()) {
        Some((k, v)) => pods_with(&cx.stores, &key.0, k, &v),
        None => vec![],
    };
    let refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
    let p = plan::settle(br, t.as_ref(), &refs, Timestamp::now());
    let mut out = Pass::new(NAME, key, progress(&p));
    if let Some(m) = &p.message {
        tracing::debug!("batchrelease {}/{}: {m}", key.0, key.1);
    }
    let Some(kind) = t.as_ref().map(|t| t.kind).or_else(|| {
        TargetKind::of(
            &br.spec.workload_ref.api_version,
            &br.spec.workload_ref.kind,
        )
    }) else {
        out.report.plan_errors.push(format!(
            "the workload type {}/{} is not supported",
            br.spec.workload_ref.api_version, br.spec.workload_ref.kind
        ));
        return out;
    };
    for w in &p.writes {
        match apply(cx, key, br, kind, w).await {
            Ok(e) => {
                out.expect.push(e);
                out.report.updated += matches!(w, Write::LabelPod { .. }) as usize;
            }
            Err(e) => {
                out.report.errors.push(e);
                out.retry = true;
                return out;
            }
        }
    }
    out.requeue_after = p.requeue.map(std::time::Duration::from_secs);
    // The finalizer just removed, the object is gone: no status to write.
    let gone = p.writes.contains(&Write::RemoveFinalizer);
    if !gone && br.status.as_ref() != Some(&p.status) {
        let mut after = br.clone();
        after.status = Some(p.status.clone());
        let client = cx.client.clone();
        out.status = Some(StatusWrite {
            // Always at once: the executor stops a pass until its status is written, so a
            // deferred write would hold the batch back (measured: +4 s in the bench).
            urgent: true,
            write: async move { io::replace_status(&client, &after).await }.boxed(),
        });
    }
    out
}

fn progress(p: &Plan) -> Progress {
    let c = p.status.canary_status.clone().unwrap_or_default();
    Progress {
        desired: 0,
        updated: c.updated_replicas.unwrap_or(0),
        ready: c.updated_ready_replicas.unwrap_or(0),
        available: c.updated_ready_replicas.unwrap_or(0),
        total: 0,
        paused: false,
    }
}

async fn apply(
    cx: &Context,
    key: &Key,
    br: &BatchRelease,
    kind: TargetKind,
    w: &Write,
) -> Result<crate::controller::runtime::Expect, String> {
    let (ns, c) = (&key.0, &cx.client);
    match w {
        Write::AddFinalizer | Write::RemoveFinalizer => {
            let mut f: Vec<String> = br
                .finalizers()
                .iter()
                .filter(|f| *f != keys::BR_FINALIZER)
                .cloned()
                .collect();
            if matches!(w, Write::AddFinalizer) {
                f.push(keys::BR_FINALIZER.into());
            }
            let p =
                json!({"metadata": {"finalizers": f, "resourceVersion": br.resource_version()}});
            io::merge::<BatchRelease>(c, ns, &key.1, &p).await
        }
        Write::PatchWorkload(p) => {
            io::patch_workload(c, ns, kind, &br.spec.workload_ref.name, p).await
        }
        Write::CreateCanary(d) => io::create(c, ns, d.as_ref()).await.map(|(_, e)| e),
        Write::PatchCanary { name, patch } => io::merge::<Deployment>(c, ns, name, patch).await,
        Write::LabelPod { name, patch } => {
            io::patch::<Pod>(c, ns, name, Patch::Strategic(patch)).await
        }
        Write::PatchReplicaSet { name, patch } => io::merge::<ReplicaSet>(c, ns, name, patch).await,
        Write::PatchHpa { name, patch } => {
            use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
            let api: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(c.clone(), ns);
            api.patch(
                name,
                &crate::controller::podsync::pp(),
                &Patch::Merge(patch),
            )
            .await
            .map_err(|e| format!("patching horizontalpodautoscaler {ns}/{name}: {e}"))?;
            Ok(crate::controller::runtime::Expect::seen::<BatchRelease>(
                ns, &key.1,
            ))
        }
    }
}
