//! The Rollout controller on the shared runtime: what it watches, the snapshot (workload
//! facts, BatchRelease, Services, Ingresses, the HTTPRoute), one pass (plan, the writes in
//! order, the status replaced with the read resourceVersion so a concurrent approval is
//! never overwritten), the grace timers upstream keeps in memory, and the gate on a workload
//! changed behind the Rollout's back.

use std::any::TypeId;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet as NativeStatefulSet};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use super::gate;
use super::io;
use super::keys;
use super::plan::{self, Grace, Net, Plan, Snapshot, Write};
use super::workload::{self, Facts, TargetKind};
use crate::api::batchrelease::BatchRelease;
use crate::api::cloneset::CloneSet;
use crate::api::gateway::HttpRoute;
use crate::api::rollout::Rollout;
use crate::api::statefulset::StatefulSet;
use crate::controller::events;
use crate::controller::runtime::{
    Context, Expect, Key, Pass, Progress, Reconciler, StatusWrite, Stores, Watches,
};

pub const NAME: &str = "rollout";

/// The Rollout controller; holds upstream's in-memory grace timers.
#[derive(Default)]
pub struct RolloutReconciler {
    graces: Mutex<HashMap<(Key, Grace), Instant>>,
}

fn referring(stores: &Stores, ns: Option<String>, kind: &str, name: &str) -> Vec<Key> {
    crate::controller::runtime::keys_where::<Rollout>(stores, ns, |o| {
        o.spec.workload_ref.kind == kind && o.spec.workload_ref.name == name
    })
}

fn all_in(stores: &Stores, ns: Option<String>) -> Vec<Key> {
    crate::controller::runtime::keys_where::<Rollout>(stores, ns, |_| true)
}

impl Reconciler for RolloutReconciler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn event_source(&self) -> &'static str {
        "rollout-controller"
    }

    fn watches(&self, w: &mut Watches) {
        w.primary::<Rollout>();
        w.secondary::<BatchRelease>(|b, _| {
            b.namespace()
                .map(|ns| vec![(ns, b.name_any())])
                .unwrap_or_default()
        });
        w.secondary::<Deployment>(|d, s| {
            let name = d
                .labels()
                .get(keys::CANARY_DEPLOYMENT)
                .cloned()
                .unwrap_or_else(|| d.name_any());
            referring(s, d.namespace(), "Deployment", &name)
        });
        w.secondary::<ReplicaSet>(|r, s| all_in(s, r.namespace()));
        w.secondary::<CloneSet>(|c, s| referring(s, c.namespace(), "CloneSet", &c.name_any()));
        w.secondary::<StatefulSet>(|c, s| {
            referring(s, c.namespace(), "StatefulSet", &c.name_any())
        });
        w.secondary::<NativeStatefulSet>(|c, s| {
            referring(s, c.namespace(), "StatefulSet", &c.name_any())
        });
        w.secondary::<Service>(|x, s| all_in(s, x.namespace()));
        w.secondary::<Ingress>(|x, s| all_in(s, x.namespace()));
    }

    fn keys(&self, stores: &Stores) -> Vec<Key> {
        stores
            .all::<Rollout>()
            .iter()
            .map(|r| (r.namespace().unwrap_or_default(), r.name_any()))
            .collect()
    }

    fn at_goal(&self, stores: &Stores, key: &Key) -> bool {
        stores.get::<Rollout>(key).is_none_or(|r| rests(stores, &r))
    }

    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>> {
        async move {
            let r = cx.stores.get::<Rollout>(key)?;
            Some(self.pass(cx, key, &r).await)
        }
        .boxed()
    }
}

/// Where a Rollout rests: waiting for approval, paused, or with no release in flight (its
/// workload not marked for one it has yet to notice).
pub fn rests(stores: &Stores, r: &Rollout) -> bool {
    let st = r.status.clone().unwrap_or_default();
    let observed = st.observed_generation == r.metadata.generation;
    let reason = plan::conditions_reason(&st);
    let pending = facts(stores, r).is_some_and(|f| f.in_progressing);
    match st.phase.as_deref() {
        Some(plan::HEALTHY) => observed && !pending,
        Some(plan::DISABLED) => observed,
        Some(plan::PHASE_PROGRESSING) => {
            reason == "Paused"
                || (st.current_step_state == plan::STEP_PAUSED && manual(r))
                || st.message.as_deref() == Some(plan::BLUE_GREEN_REFUSES)
        }
        Some(plan::INITIAL) => {
            observed
                && st
                    .message
                    .as_deref()
                    .is_some_and(|m| m != "rollout is healthy")
        }
        _ => false,
    }
}

/// The current step waits for a person (no pause duration): a timed pause is not a rest.
fn manual(r: &Rollout) -> bool {
    let i = r.status.as_ref().map_or(0, |s| s.current_step_index);
    plan::steps(r)
        .get((i.max(1) - 1) as usize)
        .is_none_or(|s| s.pause.duration.is_none())
}

/// The workload types a drive of this one Rollout (and its BatchRelease) never reads: the other
/// kinds a Rollout may name. A Deployment's pair also needs its ReplicaSets.
pub fn unwatched(r: &Rollout) -> Vec<TypeId> {
    let Some(kind) = kind_of(r) else {
        return vec![];
    };
    let all = [
        (TargetKind::Deployment, TypeId::of::<Deployment>()),
        (TargetKind::Deployment, TypeId::of::<ReplicaSet>()),
        (TargetKind::CloneSet, TypeId::of::<CloneSet>()),
        (TargetKind::AdvancedStatefulSet, TypeId::of::<StatefulSet>()),
        (TargetKind::StatefulSet, TypeId::of::<NativeStatefulSet>()),
    ];
    all.into_iter()
        .filter(|(k, _)| *k != kind)
        .map(|(_, t)| t)
        .collect()
}

fn kind_of(r: &Rollout) -> Option<TargetKind> {
    TargetKind::of(&r.spec.workload_ref.api_version, &r.spec.workload_ref.kind)
}

/// The workload's facts from the caches; `None` when it does not exist.
pub fn facts(stores: &Stores, r: &Rollout) -> Option<Facts> {
    let ns = r.namespace().unwrap_or_default();
    let name = r.spec.workload_ref.name.clone();
    let key = (ns.clone(), name.clone());
    match kind_of(r)? {
        TargetKind::Deployment => {
            let d = stores.get::<Deployment>(&key)?;
            let rss = stores.list::<ReplicaSet>(&ns, |_| true);
            let refs: Vec<&ReplicaSet> = rss.iter().map(|r| r.as_ref()).collect();
            if crate::controller::rollout::plan::is_blue_green(r) {
                return Some(workload::blue_green_deployment(&d, &refs));
            }
            let mut canaries = stores.list::<Deployment>(&ns, |c| {
                c.labels().get(keys::CANARY_DEPLOYMENT) == Some(&name)
                    && c.metadata.deletion_timestamp.is_none()
            });
            canaries.sort_by_key(|c| (c.creation_timestamp().map(|t| t.0), c.name_any()));
            let newest = canaries.last().cloned();
            let pair = newest.as_ref().map(|c| (c.as_ref(), refs.clone()));
            Some(workload::deployment(&d, &refs, pair))
        }
        TargetKind::CloneSet => stores.get::<CloneSet>(&key).map(|c| workload::cloneset(&c)),
        TargetKind::AdvancedStatefulSet => stores
            .get::<StatefulSet>(&key)
            .map(|s| workload::advanced_statefulset(&s)),
        TargetKind::StatefulSet => stores
            .get::<NativeStatefulSet>(&key)
            .map(|s| workload::native_statefulset(&s)),
    }
}

/// Another Rollout of the namespace names the same workload (upstream's webhook refuses the
/// second one).
fn conflict(stores: &Stores, r: &Rollout) -> Option<String> {
    let ns = r.namespace().unwrap_or_default();
    let w = &r.spec.workload_ref;
    let mut others = stores.list::<Rollout>(&ns, |o| {
        o.name_any() != r.name_any() && o.spec.workload_ref == *w
    });
    others.sort_by_key(|o| (o.creation_timestamp().map(|t| t.0), o.name_any()));
    let first = others.first()?;
    let older = (first.creation_timestamp().map(|t| t.0), first.name_any())
        < (r.creation_timestamp().map(|t| t.0), r.name_any());
    older.then(|| {
        format!(
            "rollout {} already manages {} {}; one Rollout per workload",
            first.name_any(),
            w.kind,
            w.name
        )
    })
}

fn net(stores: &Stores, r: &Rollout) -> Net {
    let ns = r.namespace().unwrap_or_default();
    let Some(t) = plan::routings(r).first() else {
        return Net::default();
    };
    let get_svc = |n: &str| {
        stores
            .get::<Service>(&(ns.clone(), n.to_string()))
            .map(|s| s.as_ref().clone())
    };
    let get_ing = |n: &str| {
        stores
            .get::<Ingress>(&(ns.clone(), n.to_string()))
            .map(|s| s.as_ref().clone())
    };
    Net {
        stable_service: get_svc(&t.service),
        canary_service: get_svc(&format!("{}-canary", t.service)),
        ingress: t.ingress.as_ref().and_then(|i| get_ing(&i.name)),
        canary_ingress: t
            .ingress
            .as_ref()
            .and_then(|i| get_ing(&format!("{}-canary", i.name))),
        route: None,
    }
}

/// The HTTPRoute, read in the pass (not watched: the Gateway API CRD may be absent).
async fn http_route(client: &Client, r: &Rollout) -> Result<Option<HttpRoute>, String> {
    let Some(name) = plan::routings(r)
        .first()
        .and_then(|t| t.gateway.as_ref()?.http_route_name.clone())
    else {
        return Ok(None);
    };
    let ns = r.namespace().unwrap_or_default();
    let api: Api<HttpRoute> = Api::namespaced(client.clone(), &ns);
    api.get_opt(&name)
        .await
        .map_err(|e| format!("reading httproute {ns}/{name}: {e}"))
}

impl RolloutReconciler {
    fn graces(&self, key: &Key) -> BTreeMap<Grace, Duration> {
        let now = Instant::now();
        let mut g = self.graces.lock().expect("grace timers");
        g.retain(|_, until| *until > now - Duration::from_secs(300));
        g.iter()
            .filter(|((k, _), _)| k == key)
            .map(|((_, a), until)| (*a, until.saturating_duration_since(now)))
            .collect()
    }

    fn start_graces(&self, key: &Key, started: &[(Grace, Duration)]) {
        let mut g = self.graces.lock().expect("grace timers");
        for (a, d) in started {
            g.insert((key.clone(), *a), Instant::now() + *d);
        }
    }

    async fn pass(&self, cx: &Context, key: &Key, r: &Rollout) -> Pass {
        let kind = kind_of(r);
        let workload = facts(&cx.stores, r);
        let mut out = Pass::new(NAME, key, progress(r));
        let mut net = net(&cx.stores, r);
        match http_route(&cx.client, r).await {
            Ok(route) => net.route = route,
            Err(e) => {
                out.report.errors.push(e);
                out.retry = true;
                return out;
            }
        }
        let br = cx.stores.get::<BatchRelease>(key);
        let graces = self.graces(key);
        let snapshot = Snapshot {
            rollout: r,
            kind,
            workload: workload.clone(),
            br: br.as_deref(),
            net: &net,
            now: Timestamp::now(),
            graces: &graces,
        };
        let mut p = plan::settle(&snapshot);
        if let Some(c) = conflict(&cx.stores, r) {
            p = Plan {
                status: r.status.clone().unwrap_or_default(),
                refused: Some(c.clone()),
                ..Default::default()
            };
            p.status.message = Some(c);
        }
        if let Some(why) = &p.refused {
            out.report.plan_errors.push(why.clone());
        } else {
            prelude(r, kind, workload.as_ref(), &mut p);
        }
        self.start_graces(key, &p.graces);
        let reference = events::reference(r);
        for e in &p.events {
            if e.warning {
                cx.recorder.warning(&reference, e.reason, e.message.clone());
            } else {
                cx.recorder.normal(&reference, e.reason, e.message.clone());
            }
        }
        let mut r = r.clone();
        for w in &p.writes {
            if let Write::PatchRollout(patch) = w {
                // Our own metadata write moves the resourceVersion the status is written with.
                match patch_rollout(cx, key, patch).await {
                    Ok(rv) => r.metadata.resource_version = Some(rv),
                    Err(e) => {
                        out.report.errors.push(e);
                        out.retry = true;
                        return out;
                    }
                }
                continue;
            }
            match apply(cx, key, &r, kind, br.as_deref(), net.route.as_ref(), w).await {
                Ok(e) => out.expect.extend(e),
                Err(e) => {
                    out.report.errors.push(e);
                    out.retry = true;
                    return out;
                }
            }
        }
        out.requeue_after = p.requeue;
        if r.status.as_ref() != Some(&p.status) {
            let mut after = r.clone();
            after.status = Some(p.status.clone());
            out.report.progress = progress(&after);
            let client = cx.client.clone();
            out.status = Some(StatusWrite {
                urgent: true,
                write: async move { io::replace_status(&client, &after).await }.boxed(),
            });
        }
        out
    }
}

/// Before the plan's own writes: the finalizer, the workload-type label (only when missing:
/// the v0.6.2 operator re-sends it on every pass), and the gate on a workload whose template
/// changed behind an enabled Rollout's back (or was resumed mid-release).
fn prelude(r: &Rollout, kind: Option<TargetKind>, f: Option<&Facts>, p: &mut Plan) {
    let mut first = vec![];
    let finalizers = r.metadata.finalizers.clone().unwrap_or_default();
    if r.metadata.deletion_timestamp.is_none()
        && !finalizers.iter().any(|x| x == keys::ROLLOUT_FINALIZER)
    {
        let mut all = finalizers.clone();
        all.push(keys::ROLLOUT_FINALIZER.into());
        first.push(Write::PatchRollout(json!({"metadata": {
            "finalizers": all, "resourceVersion": r.metadata.resource_version}})));
    }
    if let (Some(kind), Some(f)) = (kind, f) {
        let mut patch = json!({});
        if !f.has_type_label {
            patch = json!({"metadata": {"labels": {keys::WORKLOAD_TYPE: kind.type_label()}}});
        }
        if let Some(g) = behind_back(r, kind, f) {
            gate::merge(&mut patch, &g);
            p.events.push(plan::Said {
                warning: true,
                reason: "Gated",
                message: format!(
                    "{} {} was changed without the Rollout's gate (no webhook runs here); held it, as Kruise Rollout's webhook would have",
                    r.spec.workload_ref.kind, r.spec.workload_ref.name
                ),
            });
        }
        if patch != json!({}) {
            first.push(Write::PatchWorkload(patch));
        }
    }
    first.append(&mut p.writes);
    p.writes = first;
}

/// The hold a workload needs now, if any.
fn behind_back(r: &Rollout, kind: TargetKind, f: &Facts) -> Option<serde_json::Value> {
    if !gate::gates(r) || f.replicas == 0 {
        return None;
    }
    let phase = r.status.as_ref().and_then(|s| s.phase.as_deref());
    let name = r.name_any();
    match kind {
        // In flight, a canary-style Deployment must stay paused (the webhook forces it); one
        // claimed by a blue-green release runs unpaused.
        TargetKind::Deployment if f.in_progressing && !f.paused && !f.surging => {
            Some(json!({"spec": {"paused": true}}))
        }
        _ if f.in_progressing || !f.changed || phase != Some(plan::HEALTHY) => None,
        TargetKind::Deployment => Some(gate::patch(
            kind,
            &name,
            Some(f.hold_revision.as_ref().unwrap_or(&f.stable_revision)),
        )),
        _ => Some(gate::patch(kind, &name, None)),
    }
}

fn progress(r: &Rollout) -> Progress {
    let st = r.status.clone().unwrap_or_default();
    let (updated, ready) = st
        .canary_status
        .as_ref()
        .map(|c| (c.canary_replicas, c.canary_ready_replicas))
        .or(st
            .blue_green_status
            .as_ref()
            .map(|b| (b.updated_replicas, b.updated_ready_replicas)))
        .unwrap_or_default();
    Progress {
        desired: 0,
        updated,
        ready,
        available: ready,
        total: st.current_step_index,
        paused: st.current_step_state == plan::STEP_PAUSED,
    }
}

async fn patch_rollout(
    cx: &Context,
    key: &Key,
    patch: &serde_json::Value,
) -> Result<String, String> {
    let api: Api<Rollout> = Api::namespaced(cx.client.clone(), &key.0);
    api.patch(
        &key.1,
        &crate::controller::podsync::pp(),
        &Patch::Merge(patch),
    )
    .await
    .map(|o| o.metadata.resource_version.unwrap_or_default())
    .map_err(|e| format!("patching rollout {}/{}: {e}", key.0, key.1))
}

async fn apply(
    cx: &Context,
    key: &Key,
    r: &Rollout,
    kind: Option<TargetKind>,
    br: Option<&BatchRelease>,
    route: Option<&HttpRoute>,
    w: &Write,
) -> Result<Option<Expect>, String> {
    let (ns, c) = (key.0.as_str(), &cx.client);
    let e = match w {
        Write::PatchRollout(_) => return Ok(None),
        Write::PatchWorkload(p) => {
            let Some(kind) = kind else { return Ok(None) };
            io::patch_workload(c, ns, kind, &r.spec.workload_ref.name, p).await?
        }
        Write::CreateBatchRelease(b) => io::create(c, ns, b.as_ref()).await?.1,
        Write::UpdateBatchRelease(b) => {
            let api: Api<BatchRelease> = Api::namespaced(c.clone(), ns);
            let o = api
                .replace(&key.1, &PostParams::default(), b.as_ref())
                .await
                .map_err(|e| format!("updating batchrelease {ns}/{}: {e}", key.1))?;
            Expect::at::<BatchRelease>(
                ns,
                &key.1,
                crate::controller::podsync::rv(o.meta().resource_version.as_ref()),
            )
        }
        Write::PatchBatchRelease(p) => io::merge::<BatchRelease>(c, ns, &key.1, p).await?,
        Write::DeleteBatchRelease => {
            let uid = br.and_then(|b| b.uid()).unwrap_or_default();
            io::delete::<BatchRelease>(c, ns, &key.1, &uid).await?
        }
        Write::CreateService(s) => io::create(c, ns, s.as_ref()).await?.1,
        Write::PatchService { name, patch } => {
            io::patch::<Service>(c, ns, name, Patch::Strategic(patch)).await?
        }
        Write::DeleteService(name) => {
            let uid = cx
                .stores
                .get::<Service>(&(ns.to_string(), name.clone()))
                .and_then(|s| s.uid())
                .unwrap_or_default();
            io::delete::<Service>(c, ns, name, &uid).await?
        }
        Write::CreateIngress(i) => io::create(c, ns, i.as_ref()).await?.1,
        Write::PatchIngress { name, patch } => io::merge::<Ingress>(c, ns, name, patch).await?,
        Write::DeleteIngress(name) => {
            let uid = cx
                .stores
                .get::<Ingress>(&(ns.to_string(), name.clone()))
                .and_then(|s| s.uid())
                .unwrap_or_default();
            io::delete::<Ingress>(c, ns, name, &uid).await?
        }
        Write::ReplaceRouteRules(rules) => {
            let Some(route) = route else { return Ok(None) };
            let mut new = route.clone();
            new.spec["rules"] = rules.clone();
            let api: Api<HttpRoute> = Api::namespaced(c.clone(), ns);
            let name = route.name_any();
            api.replace(&name, &PostParams::default(), &new)
                .await
                .map_err(|e| format!("updating httproute {ns}/{name}: {e}"))?;
            return Ok(None);
        }
    };
    Ok(Some(e))
}
