//! Advanced StatefulSet (`apps.kruise.io/v1beta1` StatefulSet): its commands, its phase, and
//! its embedded controller. `scale --delete-pod` reserves the pod's ordinal
//! (`reserveOrdinals`) and sets the replicas in one guarded write, as users do by hand.

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::gate;
use super::images::image_ops;
use super::plan_text;
use super::{
    Cx, Driver, Embedded, Observed, Phase, Verb, Workload, Written, history, kruise_driver,
};
use super::{list_names, pods, watch_judged};
use crate::api::statefulset::{PodUpdatePolicy, StatefulSet, StatefulSetUpdateStrategyType};
use crate::cli::DryRun;
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, Outcome, apply_locally, guarded};
use crate::cmd::common::now_rfc3339;
use crate::controller::inplace::{self, RESTARTED_AT};
use crate::controller::pod::keys;
use crate::controller::revision;
use crate::controller::rollout::workload::TargetKind;
use crate::controller::runtime::{Goal, Stuck};
use crate::controller::statefulset::plan::{Action, Snapshot};
use crate::controller::statefulset::preview::{self, Preview};
use crate::controller::statefulset::reconciler::{self, StatefulSetReconciler};
use crate::controller::statefulset::{defaults, goal, ordinals};
use crate::error::{Error, Result, Target, from_kube};

pub struct AdvancedStatefulSetWorkload;
pub static ADVANCED_STATEFULSET: AdvancedStatefulSetWorkload = AdvancedStatefulSetWorkload;

const RESOURCE: &str = "statefulset.apps.kruise.io";
const KIND: &str = "statefulset";

fn api(kube: &Kube) -> Api<StatefulSet> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: "statefulsets.apps.kruise.io",
        name,
        namespace: &kube.namespace,
    }
}

async fn get(kube: &Kube, name: &str) -> Result<StatefulSet> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

fn rolling(s: &StatefulSet) -> Option<&crate::api::statefulset::RollingUpdateStatefulSetStrategy> {
    s.spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
}

fn paused(s: &StatefulSet) -> bool {
    rolling(s).and_then(|r| r.paused).unwrap_or(false)
}

fn on_delete(s: &StatefulSet) -> bool {
    s.spec.update_strategy.as_ref().and_then(|u| u.type_)
        == Some(StatefulSetUpdateStrategyType::OnDelete)
}

fn judged(s: &StatefulSet) -> Result<Observed> {
    let (line, phase) = goal::status(s).map_err(Error::other)?;
    Ok(Observed {
        line,
        phase: match phase {
            goal::Phase::Progressing => Phase::Progressing,
            goal::Phase::Complete => Phase::Complete,
            goal::Phase::Paused => Phase::Paused,
        },
        progress: reconciler::progress(s, &s.status.clone().unwrap_or_default()),
    })
}

fn changed(obj: &StatefulSet, done: String, notes: Vec<String>, drives: bool) -> Result<Written> {
    Ok(Written::Changed {
        object: serde_json::to_value(obj).map_err(|e| Error::other(e.to_string()))?,
        done,
        notes,
        drives,
    })
}

impl Workload for AdvancedStatefulSetWorkload {
    fn kind(&self) -> Kind {
        kinds::ADVANCED_STATEFULSET
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        list_names::<StatefulSet>(kube, labels).boxed()
    }

    fn rollout<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        verb: Verb,
    ) -> BoxFuture<'a, Result<Written>> {
        rollout(cx, name, verb).boxed()
    }

    fn undo<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        to_revision: i64,
    ) -> BoxFuture<'a, Result<Written>> {
        undo(cx, name, to_revision).boxed()
    }

    fn history<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        a: &'a HistoryArgs,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let s = get(kube, name).await?;
            history::print(RESOURCE, KIND, name, &revisions(kube, &s).await?, a)
        }
        .boxed()
    }

    fn set_image<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        pairs: &'a [(String, String)],
        inplace: bool,
    ) -> BoxFuture<'a, Result<Written>> {
        set_image(cx, name, pairs, inplace).boxed()
    }

    fn scale<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        replicas: i32,
        delete_pods: &'a [String],
    ) -> BoxFuture<'a, Result<Written>> {
        scale(cx, name, replicas, delete_pods).boxed()
    }

    fn observe<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        _revision: i64,
    ) -> BoxFuture<'a, Result<Observed>> {
        async move { judged(&get(kube, name).await?) }.boxed()
    }

    fn judge(
        &self,
        object: &Value,
        _nodes: &[k8s_openapi::api::core::v1::Node],
    ) -> Result<Observed> {
        judged(&super::typed::<StatefulSet>(object, self.kind())?)
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        _revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        watch_judged(kube, name, judged)
    }

    fn stuck<'a>(&'a self, kube: &'a Kube, name: &'a str) -> BoxFuture<'a, Result<Option<Stuck>>> {
        stuck(kube, name).boxed()
    }

    fn driver<'a>(&'a self, kube: &'a Kube) -> BoxFuture<'a, Driver> {
        kruise_driver(kube, reconciler::NAME).boxed()
    }

    fn embedded(&self) -> Option<Embedded> {
        Some(Embedded {
            controller: reconciler::NAME,
            reconciler: || Box::new(StatefulSetReconciler),
            settled,
        })
    }
}

/// A driving command stops when the set rests or is paused.
fn settled() -> Goal {
    Box::new(|stores, key| reconciler::settled(stores, key, true))
}

async fn revisions(kube: &Kube, s: &StatefulSet) -> Result<Vec<ControllerRevision>> {
    history::owned(
        kube,
        &s.spec.selector,
        s.metadata.uid.as_deref().unwrap_or_default(),
    )
    .await
}

/// The first pod of the update revision whose container cannot start.
async fn stuck(kube: &Kube, name: &str) -> Result<Option<Stuck>> {
    let s = get(kube, name).await?;
    let st = s.status.clone().unwrap_or_default();
    if st.observed_generation.unwrap_or(0) < s.metadata.generation.unwrap_or(0) {
        return Ok(None);
    }
    let Some(update) = st.update_revision else {
        return Ok(None);
    };
    let uid = s.metadata.uid.clone().unwrap_or_default();
    pods::first_stuck(kube, &s.spec.selector, &uid, |r| r == update).await
}

async fn rollout(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let now = now_rfc3339();
    let held = match verb {
        Verb::Restart => {
            let s = get(cx.kube, name).await?;
            gate::for_change(
                cx.kube,
                TargetKind::AdvancedStatefulSet,
                &s,
                s.spec.replicas.unwrap_or(1),
            )
            .await?
        }
        _ => None,
    };
    let outcome = guarded(
        &api(cx.kube),
        None,
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |s| {
            if on_delete(s) && matches!(verb, Verb::Pause | Verb::Resume) {
                return Err(Error::usage(format!(
                    "{RESOURCE}/{name} uses updateStrategy OnDelete, which has no rolling update to {}; nothing was changed",
                    if verb == Verb::Pause { "pause" } else { "resume" }
                )));
            }
            Ok(Some(Change::Merge(match verb {
                Verb::Pause if paused(s) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is already paused")));
                }
                Verb::Pause => json!({"spec": {"updateStrategy": {"rollingUpdate": {"paused": true}}}}),
                Verb::Resume if !paused(s) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is not paused")));
                }
                Verb::Resume => json!({"spec": {"updateStrategy": {"rollingUpdate": {"paused": false}}}}),
                _ => {
                    if rolling(s).and_then(|r| r.pod_update_policy) == Some(PodUpdatePolicy::InPlaceOnly) {
                        return Err(Error::other(format!(
                            "{RESOURCE}/{name} uses podUpdatePolicy InPlaceOnly, which never recreates pods, and an in-place update cannot restart containers without the Kruise daemon; switch to InPlaceIfPossible or ReCreate to restart"
                        )));
                    }
                    let mut p = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}});
                    if let Some(g) = &held {
                        crate::controller::rollout::gate::merge(&mut p, &g.patch);
                    }
                    p
                }
            })))
        },
    )
    .await?;
    changed(
        outcome.object(),
        verb.done().into(),
        held.iter().map(|g| g.note(&cx.kube.namespace)).collect(),
        verb != Verb::Pause,
    )
}

async fn undo(cx: &Cx<'_>, name: &str, to_revision: i64) -> Result<Written> {
    let s = get(cx.kube, name).await?;
    let revs = revisions(cx.kube, &s).await?;
    let current = revision::payload(&defaults::apply(&s).spec.template.0);
    let target_rev = history::undo_target(KIND, "asts", name, &revs, &current, to_revision)?;
    let template = revision::template_of(target_rev).ok_or_else(|| {
        Error::other(format!(
            "controllerrevision {} holds no pod template",
            target_rev.name_any()
        ))
    })?;
    let number = target_rev.revision;
    if revision::payload(&template) == current {
        return Ok(Written::Skipped(format!(
            "{RESOURCE}/{name} skipped rollback (current template already matches revision {number})"
        )));
    }
    let patch =
        json!([{"op": "replace", "path": "/spec/template", "value": Value::Object(template)}]);
    if cx.dry_run() == DryRun::Client {
        return preview_of(cx.kube, &apply_locally(&s, &Change::Json(patch))?).await;
    }
    let outcome = guarded(
        &api(cx.kube),
        Some(s),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |_| Ok(Some(Change::Json(patch.clone()))),
    )
    .await?;
    let obj = match outcome {
        Outcome::Changed(o) | Outcome::Unchanged(o) => o,
    };
    changed(
        &obj,
        format!("rolled back to revision {number}"),
        vec![],
        true,
    )
}

/// `--replicas N [--delete-pod P…]`: each named pod must be one of the set's ordinals; its
/// ordinal joins `reserveOrdinals` with the new replicas, in one write guarded by the
/// resourceVersion read.
async fn scale(cx: &Cx<'_>, name: &str, replicas: i32, delete_pods: &[String]) -> Result<Written> {
    let s = get(cx.kube, name).await?;
    let uid = s.metadata.uid.clone().unwrap_or_default();
    let mut reserve: Vec<i32> = Vec::new();
    for p in delete_pods {
        let pod = pods::get(cx.kube, p).await?;
        if pods::controller_of(&pod).is_none_or(|(_, _, u)| u != uid) {
            return Err(pods::not_owned(p, &format!("{KIND} \"{name}\""), &pod));
        }
        let Some(ord) = ordinals::of(name, p) else {
            return Err(Error::usage(format!(
                "pod \"{p}\" has no ordinal of {KIND} \"{name}\"; nothing was changed"
            )));
        };
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(Error::usage(format!(
                "pod \"{p}\" is already being deleted; nothing was changed"
            )));
        }
        reserve.push(ord);
    }
    let change = |cur: &StatefulSet| -> Result<Option<Change>> {
        let mut spec = json!({"replicas": replicas});
        if !reserve.is_empty() {
            let mut list: Vec<IntOrString> = cur.spec.reserve_ordinals.clone().unwrap_or_default();
            let taken = ordinals::Reserved::parse(&list);
            for o in &reserve {
                if !taken.has(i64::from(*o)) {
                    list.push(IntOrString::Int(*o));
                }
            }
            spec["reserveOrdinals"] = serde_json::to_value(list).unwrap_or_default();
        }
        Ok(Some(Change::Merge(json!({"spec": spec}))))
    };
    let outcome = guarded(
        &api(cx.kube),
        Some(s),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        change,
    )
    .await?;
    if cx.dry_run() == DryRun::Client {
        return preview_of(cx.kube, outcome.object()).await;
    }
    let notes = if reserve.is_empty() {
        vec![]
    } else {
        vec![format!(
            "reserveOrdinals now holds {}: those ordinals stay empty until removed from the list",
            reserve
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )]
    };
    changed(outcome.object(), "scaled".into(), notes, true)
}

/// The template the pods run now (the current revision's), to judge in-place feasibility.
async fn running_template(kube: &Kube, s: &StatefulSet) -> Result<serde_json::Map<String, Value>> {
    let current = s.status.as_ref().and_then(|st| st.current_revision.clone());
    if let Some(cur) = current {
        let revs = revisions(kube, s).await?;
        if let Some(t) = revs
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(&cur))
            .and_then(revision::template_of)
        {
            return Ok(t);
        }
    }
    Ok(defaults::apply(s).spec.template.0)
}

/// `--inplace`: refuse what cannot be done in place (OnDelete, init containers, no
/// InPlaceUpdateReady gate, a template differing in more than images), and switch a
/// recreating set to InPlaceIfPossible; the note says so.
async fn inplace_ops(
    cx: &Cx<'_>,
    s: &StatefulSet,
    ops: &mut Vec<Value>,
    init: &[String],
    what: &str,
) -> Result<Option<String>> {
    if on_delete(s) {
        return Err(Error::usage(format!(
            "{what} uses updateStrategy OnDelete: pods change only when someone deletes them, so --inplace cannot apply; nothing was changed"
        )));
    }
    if !init.is_empty() {
        return Err(Error::usage(format!(
            "cannot update {what} in place: init container(s) {} cannot be updated in place (only regular containers' images can); nothing was changed",
            init.join(", ")
        )));
    }
    let gated = s
        .spec
        .template
        .0
        .get("spec")
        .and_then(|t| t.get("readinessGates"))
        .and_then(Value::as_array)
        .is_some_and(|g| {
            g.iter().any(|x| {
                x.get("conditionType").and_then(Value::as_str) == Some(keys::INPLACE_READY)
            })
        });
    if !gated {
        return Err(Error::usage(format!(
            "cannot update {what} in place: its pod template has no readiness gate {} (spec.template.spec.readinessGates), which in-place updates of an Advanced StatefulSet require; add it first (the pods are recreated once); nothing was changed",
            keys::INPLACE_READY
        )));
    }
    let after = apply_locally(s, &Change::Json(Value::Array(ops.clone())))?;
    let from = running_template(cx.kube, s).await?;
    let to = defaults::apply(&after).spec.template.0;
    if let Err(why) = inplace::calculate(&from, &to) {
        return Err(Error::usage(format!(
            "cannot update {what} in place: the pods run a template that differs in more than images: {why}; nothing was changed"
        )));
    }
    let policy = rolling(s).and_then(|r| r.pod_update_policy);
    if matches!(
        policy,
        Some(PodUpdatePolicy::InPlaceIfPossible | PodUpdatePolicy::InPlaceOnly)
    ) {
        return Ok(None);
    }
    let mut ru = serde_json::to_value(rolling(s).cloned().unwrap_or_default())
        .map_err(|e| Error::other(e.to_string()))?;
    ru["podUpdatePolicy"] = json!("InPlaceIfPossible");
    ops.push(json!({"op": "add", "path": "/spec/updateStrategy",
        "value": {"type": "RollingUpdate", "rollingUpdate": ru}}));
    Ok(Some(
        "updateStrategy.rollingUpdate.podUpdatePolicy set to InPlaceIfPossible so the pods are updated in place".into(),
    ))
}

async fn set_image(
    cx: &Cx<'_>,
    name: &str,
    pairs: &[(String, String)],
    inplace: bool,
) -> Result<Written> {
    let s = get(cx.kube, name).await?;
    let what = format!("{KIND} \"{name}\"");
    let template = Value::Object(s.spec.template.0.clone());
    let (mut ops, init) = image_ops(&template, "/spec/template", pairs, &what)?;
    let note = if inplace {
        inplace_ops(cx, &s, &mut ops, &init, &what).await?
    } else {
        None
    };
    let held = gate::for_change(
        cx.kube,
        TargetKind::AdvancedStatefulSet,
        &s,
        s.spec.replicas.unwrap_or(1),
    )
    .await?;
    if let Some(g) = &held {
        ops.extend(gate::ops(
            &serde_json::to_value(&s).unwrap_or_default(),
            &g.patch,
        ));
    }
    if cx.dry_run() == DryRun::Client {
        let after = apply_locally(&s, &Change::Json(Value::Array(ops)))?;
        return preview_of(cx.kube, &after).await;
    }
    let expected_generation = s.metadata.generation;
    let outcome = guarded(
        &api(cx.kube),
        Some(s),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |cur| {
            if cur.metadata.generation != expected_generation {
                return Err(Error::Conflict(
                    format!("{what} changed while it was being updated; run the command again"),
                    1,
                ));
            }
            Ok(Some(Change::Json(Value::Array(ops.clone()))))
        },
    )
    .await?;
    changed(
        outcome.object(),
        "image updated".into(),
        note.into_iter()
            .chain(held.iter().map(|g| g.note(&cx.kube.namespace)))
            .collect(),
        true,
    )
}

/// The set's pods, the namespace's revisions and claims, for a plan.
async fn snapshot(kube: &Kube, s: &StatefulSet) -> Result<Snapshot> {
    let ns = &kube.namespace;
    let sel = crate::controller::selector::render(&s.spec.selector).unwrap_or_default();
    let lp = ListParams::default().labels(&sel);
    let pods: Api<Pod> = Api::namespaced(kube.client.clone(), ns);
    let revs: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), ns);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(kube.client.clone(), ns);
    let all = ListParams::default();
    let (p, r, c) = futures::join!(pods.list(&lp), revs.list(&lp), pvcs.list(&all));
    let e = |e| from_kube(e, &kube.server, None);
    let uid = s.metadata.uid.clone().unwrap_or_default();
    Ok(Snapshot {
        set: s.clone(),
        pods: p
            .map_err(e)?
            .items
            .into_iter()
            .filter(|p| {
                p.owner_references()
                    .iter()
                    .any(|r| r.controller == Some(true) && r.uid == uid)
            })
            .map(std::sync::Arc::new)
            .collect(),
        revisions: r.map_err(e)?.items,
        pvcs: c.map_err(e)?.items,
        now: Timestamp::now(),
    })
}

/// What the controller would do with `after` (the set as the command would leave it).
async fn preview_of(kube: &Kube, after: &StatefulSet) -> Result<Written> {
    let s = snapshot(kube, after).await?;
    let pv = preview::preview(&s, 500).map_err(|e| Error::other(e.to_string()))?;
    Ok(Written::Preview {
        value: serde_json::to_value(&pv).map_err(|e| Error::other(e.to_string()))?,
        text: preview_text(&pv),
    })
}

fn preview_text(pv: &Preview) -> String {
    let batches: Vec<(usize, &[Action])> = pv
        .batches
        .iter()
        .map(|b| (b.batch, b.actions.as_slice()))
        .collect();
    plan_text::render(&plan_text::Summary {
        resource: RESOURCE,
        name: &pv.statefulset,
        batches: &batches,
        rests_at: &pv.rests_at,
        replicas: pv.replicas,
        updated: pv.updated,
        update_revision: &pv.update_revision,
        errors: &pv.errors,
    })
}
