//! CloneSet (apps.kruise.io): its commands, its phase, and its embedded controller.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Map, Value, json};

use super::gate;
use super::images::image_ops;
use super::{
    Cx, Embedded, Observed, Phase, Verb, Workload, Written, list_names, pods, watch_judged,
};
use super::{Driver, kruise_driver};
use super::{history, plan_text};
use crate::api::cloneset::{CloneSet, CloneSetUpdateStrategyType};
use crate::cli::DryRun;
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, Outcome, apply_locally, guarded};
use crate::cmd::common::now_rfc3339;
use crate::controller::cloneset::plan::{Action, Snapshot};
use crate::controller::cloneset::preview::{self, Preview};
use crate::controller::cloneset::reconciler::{self, CloneSetReconciler};
use crate::controller::cloneset::{defaults, goal, revision};
use crate::controller::inplace::{self, RESTARTED_AT};
use crate::controller::pod;
use crate::controller::rollout::workload::TargetKind;
use crate::controller::runtime::{Goal, Progress, Stuck};
use crate::error::{Error, Result, Target, from_kube};

pub struct CloneSetWorkload;
pub static CLONESET: CloneSetWorkload = CloneSetWorkload;

const RESOURCE: &str = "cloneset.apps.kruise.io";

fn api(kube: &Kube) -> Api<CloneSet> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: "clonesets.apps.kruise.io",
        name,
        namespace: &kube.namespace,
    }
}

async fn get(kube: &Kube, name: &str) -> Result<CloneSet> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

fn paused(c: &CloneSet) -> bool {
    c.spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.paused)
        .unwrap_or(false)
}

fn policy(c: &CloneSet) -> CloneSetUpdateStrategyType {
    c.spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_)
        .unwrap_or(CloneSetUpdateStrategyType::ReCreate)
}

fn judged(c: &CloneSet) -> Observed {
    let (line, phase) = goal::status(c);
    let st = c.status.clone().unwrap_or_default();
    Observed {
        line,
        phase: match phase {
            goal::Phase::Progressing => Phase::Progressing,
            goal::Phase::Complete => Phase::Complete,
            goal::Phase::Paused => Phase::Paused,
            goal::Phase::Failed => Phase::Failed,
        },
        progress: Progress {
            desired: c.spec.replicas.unwrap_or(1),
            updated: st.updated_replicas,
            ready: st.ready_replicas,
            available: st.available_replicas,
            total: st.replicas,
            paused: paused(c),
        },
    }
}

fn changed(obj: &CloneSet, done: String, notes: Vec<String>) -> Result<Written> {
    Ok(Written::Changed {
        object: serde_json::to_value(obj).map_err(|e| Error::other(e.to_string()))?,
        done,
        notes,
        drives: true,
    })
}

impl Workload for CloneSetWorkload {
    fn kind(&self) -> Kind {
        kinds::CLONESET
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        list_names::<CloneSet>(kube, labels).boxed()
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
        print_history(kube, name, a).boxed()
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
        async move { Ok(judged(&get(kube, name).await?)) }.boxed()
    }

    fn judge(
        &self,
        object: &Value,
        _nodes: &[k8s_openapi::api::core::v1::Node],
    ) -> Result<Observed> {
        Ok(judged(&super::typed::<CloneSet>(object, self.kind())?))
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        _revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        watch_judged(kube, name, |c: &CloneSet| Ok(judged(c)))
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
            reconciler: || Box::new(CloneSetReconciler),
            settled,
        })
    }
}

/// The first pod of the update revision whose container cannot start (one LIST of the
/// CloneSet's pods).
async fn stuck(kube: &Kube, name: &str) -> Result<Option<Stuck>> {
    let cs = get(kube, name).await?;
    // Until the controller has seen the change, its update revision is the one before: a pod
    // stuck there is not the news.
    let observed = cs.status.as_ref().map_or(0, |s| s.observed_generation);
    if observed < cs.metadata.generation.unwrap_or(0) {
        return Ok(None);
    }
    let Some(update) = cs.status.as_ref().and_then(|s| s.update_revision.clone()) else {
        return Ok(None);
    };
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    pods::first_stuck(kube, &cs.spec.selector, &uid, |r| {
        pod::revision_matches(r, &update)
    })
    .await
}

/// A driving command stops when the CloneSet rests, is paused, or failed.
fn settled() -> Goal {
    Box::new(|stores, key| {
        stores
            .get::<CloneSet>(key)
            .is_some_and(|cs| goal::status(&cs).1 != goal::Phase::Progressing)
    })
}

async fn rollout(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let now = now_rfc3339();
    let held = match verb {
        Verb::Restart => {
            let c = get(cx.kube, name).await?;
            gate::for_change(
                cx.kube,
                TargetKind::CloneSet,
                &c,
                c.spec.replicas.unwrap_or(1),
            )
            .await?
        }
        _ => None,
    };
    let mut how = String::new();
    let outcome = guarded(
        &api(cx.kube),
        None,
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |c| {
            Ok(Some(Change::Merge(match verb {
                Verb::Pause if paused(c) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is already paused")));
                }
                Verb::Pause => json!({"spec": {"updateStrategy": {"paused": true}}}),
                Verb::Resume if !paused(c) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is not paused")));
                }
                Verb::Resume => json!({"spec": {"updateStrategy": {"paused": false}}}),
                _ => {
                    if policy(c) == CloneSetUpdateStrategyType::InPlaceOnly {
                        return Err(Error::other(format!(
                            "{RESOURCE}/{name} uses updateStrategy InPlaceOnly, which never recreates pods, and an in-place update cannot restart containers without the Kruise daemon; switch to InPlaceIfPossible or ReCreate to restart"
                        )));
                    }
                    how = restart_how(c);
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
    let obj = outcome.object().clone();
    if cx.dry_run() == DryRun::Client && verb != Verb::Pause {
        return preview_of(cx.kube, &obj).await;
    }
    let mut notes = if how.is_empty() { vec![] } else { vec![how] };
    notes.extend(held.iter().map(|g| g.note(&cx.kube.namespace)));
    let mut w = changed(&obj, verb.done().into(), notes)?;
    if let Written::Changed { drives, .. } = &mut w {
        *drives = verb != Verb::Pause;
    }
    Ok(w)
}

/// How `restart` restarts every pod, in a sentence.
fn restart_how(c: &CloneSet) -> String {
    let us = c.spec.update_strategy.clone().unwrap_or_default();
    let text = |v: &IntOrString| match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    };
    let mu = us
        .max_unavailable
        .as_ref()
        .map(text)
        .unwrap_or_else(|| "20%".into());
    let partition = us
        .partition
        .as_ref()
        .map(|p| format!(", keeping partition {} pods on the old revision", text(p)))
        .unwrap_or_default();
    format!(
        "restart: the template annotation {RESTARTED_AT} changed, so every pod is recreated (a new pod for each old one; an annotation patched in place would restart no container), at most {mu} unavailable at a time{partition}"
    )
}

/// Revisions owned by the CloneSet, oldest first.
async fn revisions(kube: &Kube, c: &CloneSet) -> Result<Vec<ControllerRevision>> {
    history::owned(
        kube,
        &c.spec.selector,
        c.metadata.uid.as_deref().unwrap_or_default(),
    )
    .await
}

async fn print_history(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let c = get(kube, name).await?;
    let revs = revisions(kube, &c).await?;
    history::print(RESOURCE, "cloneset", name, &revs, a)
}

async fn undo(cx: &Cx<'_>, name: &str, to_revision: i64) -> Result<Written> {
    let c = get(cx.kube, name).await?;
    let revs = revisions(cx.kube, &c).await?;
    let current_bytes = revision::payload(&c.spec.template.0);
    let target_rev = history::undo_target(
        "cloneset",
        "cloneset",
        name,
        &revs,
        &current_bytes,
        to_revision,
    )?;
    let template = revision::template_of(target_rev).ok_or_else(|| {
        Error::other(format!(
            "controllerrevision {} holds no pod template",
            target_rev.name_any()
        ))
    })?;
    let number = target_rev.revision;
    if revision::payload(&template) == current_bytes {
        return Ok(Written::Skipped(format!(
            "{RESOURCE}/{name} skipped rollback (current template already matches revision {number})"
        )));
    }
    // `replace /spec/template`: exactly the revision's template, no merge leftovers.
    let patch =
        json!([{"op": "replace", "path": "/spec/template", "value": Value::Object(template)}]);
    if cx.dry_run() == DryRun::Client {
        let after = apply_locally(&c, &Change::Json(patch))?;
        return preview_of(cx.kube, &after).await;
    }
    let outcome = guarded(
        &api(cx.kube),
        Some(c),
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
    changed(&obj, format!("rolled back to revision {number}"), vec![])
}

async fn scale(cx: &Cx<'_>, name: &str, replicas: i32, delete_pods: &[String]) -> Result<Written> {
    let cs = get(cx.kube, name).await?;
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    for pod in delete_pods {
        let p = pods::get(cx.kube, pod).await?;
        if pods::controller_of(&p).is_none_or(|(_, _, u)| u != uid) {
            return Err(pods::not_owned(pod, &format!("cloneset \"{name}\""), &p));
        }
        if p.metadata.deletion_timestamp.is_some() {
            return Err(Error::usage(format!(
                "pod \"{pod}\" is already being deleted; nothing was changed"
            )));
        }
    }
    let change = |c: &CloneSet| -> Result<Option<Change>> {
        let mut to_delete: Vec<String> = c
            .spec
            .scale_strategy
            .as_ref()
            .and_then(|s| s.pods_to_delete.clone())
            .unwrap_or_default();
        for p in delete_pods {
            if !to_delete.contains(p) {
                to_delete.push(p.clone());
            }
        }
        let mut spec = json!({"replicas": replicas});
        if !delete_pods.is_empty() {
            spec["scaleStrategy"] = json!({"podsToDelete": to_delete});
        }
        Ok(Some(Change::Merge(json!({"spec": spec}))))
    };
    let outcome = guarded(
        &api(cx.kube),
        Some(cs),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        change,
    )
    .await?;
    let obj = outcome.object().clone();
    if cx.dry_run() == DryRun::Client {
        return preview_of(cx.kube, &obj).await;
    }
    changed(&obj, "scaled".into(), vec![])
}

/// The template the pods run now (the current revision's), to judge in-place feasibility.
async fn running_template(kube: &Kube, c: &CloneSet) -> Result<Map<String, Value>> {
    let current = c.status.as_ref().and_then(|s| s.current_revision.clone());
    if let Some(cur) = current {
        let revs = revisions(kube, c).await?;
        if let Some(t) = revs
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(&cur))
            .and_then(revision::template_of)
        {
            return Ok(t);
        }
    }
    Ok(c.spec.template.0.clone())
}

fn with_template(c: &CloneSet, t: Map<String, Value>) -> CloneSet {
    let mut c = c.clone();
    c.spec.template.0 = t;
    c
}

/// `--inplace`: refuse what cannot be done in place, and switch a recreating CloneSet to
/// InPlaceIfPossible; the note says so.
async fn inplace_ops(
    cx: &Cx<'_>,
    c: &CloneSet,
    ops: &mut Vec<Value>,
    init: &[String],
    what: &str,
) -> Result<Option<String>> {
    let policy = c.spec.update_strategy.as_ref().and_then(|u| u.type_);
    if policy == Some(CloneSetUpdateStrategyType::OnDelete) {
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
    let after = apply_locally(c, &Change::Json(Value::Array(ops.clone())))?;
    let from = running_template(cx.kube, c).await?;
    let from_d = defaults::apply(&with_template(c, from)).spec.template.0;
    let to_d = defaults::apply(&after).spec.template.0;
    if let Err(why) = inplace::calculate(&from_d, &to_d) {
        return Err(Error::usage(format!(
            "cannot update {what} in place: the pods run a template that differs in more than images: {why}; nothing was changed"
        )));
    }
    if !matches!(policy, None | Some(CloneSetUpdateStrategyType::ReCreate)) {
        return Ok(None);
    }
    ops.push(if c.spec.update_strategy.is_some() {
        json!({"op": "add", "path": "/spec/updateStrategy/type", "value": "InPlaceIfPossible"})
    } else {
        json!({"op": "add", "path": "/spec/updateStrategy", "value": {"type": "InPlaceIfPossible"}})
    });
    Ok(Some(
        "updateStrategy.type set to InPlaceIfPossible so the pods are updated in place".into(),
    ))
}

async fn set_image(
    cx: &Cx<'_>,
    name: &str,
    pairs: &[(String, String)],
    inplace: bool,
) -> Result<Written> {
    let c = get(cx.kube, name).await?;
    let what = format!("cloneset \"{name}\"");
    let template = Value::Object(c.spec.template.0.clone());
    let (mut ops, init) = image_ops(&template, "/spec/template", pairs, &what)?;
    let note = if inplace {
        inplace_ops(cx, &c, &mut ops, &init, &what).await?
    } else {
        None
    };
    let held = gate::for_change(
        cx.kube,
        TargetKind::CloneSet,
        &c,
        c.spec.replicas.unwrap_or(1),
    )
    .await?;
    if let Some(g) = &held {
        ops.extend(gate::ops(
            &serde_json::to_value(&c).unwrap_or_default(),
            &g.patch,
        ));
    }
    if cx.dry_run() == DryRun::Client {
        let after = apply_locally(&c, &Change::Json(Value::Array(ops)))?;
        return preview_of(cx.kube, &after).await;
    }
    // The in-place check was made against this spec: a spec changed since (a new generation)
    // is refused; a status write of a running controller is not a change of spec.
    let expected_generation = c.metadata.generation;
    let outcome = guarded(
        &api(cx.kube),
        Some(c),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |cur| {
            if cur.metadata.generation != expected_generation {
                return Err(Error::Conflict(
                    format!("cloneset \"{name}\" changed while it was being updated; run the command again"),
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
    )
}

/// Pods, revisions and PVCs of the namespace, for a plan.
async fn snapshot(kube: &Kube, cs: &CloneSet) -> Result<Snapshot> {
    let ns = &kube.namespace;
    let sel = crate::controller::selector::render(&cs.spec.selector).unwrap_or_default();
    let lp = ListParams::default().labels(&sel);
    let pods: Api<Pod> = Api::namespaced(kube.client.clone(), ns);
    let revs: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), ns);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(kube.client.clone(), ns);
    let (p, r, c) = futures::join!(pods.list(&lp), revs.list(&lp), pvcs.list(&lp));
    let e = |e| from_kube(e, &kube.server, None);
    Ok(Snapshot {
        cloneset: cs.clone(),
        pods: p.map_err(e)?.items.into_iter().map(Arc::new).collect(),
        revisions: r.map_err(e)?.items,
        pvcs: c.map_err(e)?.items,
        now: Timestamp::now(),
        seed: 1,
    })
}

/// What the reconciler would do with `after` (the CloneSet as the command would leave it).
async fn preview_of(kube: &Kube, after: &CloneSet) -> Result<Written> {
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
        name: &pv.cloneset,
        batches: &batches,
        rests_at: &pv.rests_at,
        replicas: pv.replicas,
        updated: pv.updated,
        update_revision: &pv.update_revision,
        errors: &pv.errors,
    })
}
