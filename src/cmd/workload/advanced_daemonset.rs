//! Advanced DaemonSet (apps.kruise.io/v1beta1 `DaemonSet`, `ads`): its commands, its phase,
//! and its embedded controller. `pause`/`resume` toggle `rollingUpdate.paused`, `restart`
//! writes the template annotation, `undo`/`history` read its ControllerRevisions, `set image
//! --inplace` needs `rollingUpdateType: InPlaceIfPossible` (only pods created under it carry
//! the readiness gate an in-place update needs), and `scale` is refused: the kind has no scale
//! subresource. Where it rests depends on the nodes (see `controller::daemonset::goal`).

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::images::image_ops;
use super::{Cx, Driver, Embedded, Observed, Phase, Verb, Workload, Written};
use super::{history, plan_text, pods};
use super::{kruise_driver, list_names, watch_judged};
use crate::api::daemonset::{DaemonSet, DaemonSetUpdateStrategyType, RollingUpdateType};
use crate::cli::DryRun;
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, Outcome, apply_locally, guarded};
use crate::cmd::common::now_rfc3339;
use crate::controller::daemonset::goal;
use crate::controller::daemonset::plan::{self, Action, Snapshot};
use crate::controller::daemonset::preview;
use crate::controller::daemonset::reconciler::{self, DaemonSetReconciler};
use crate::controller::daemonset::validate;
use crate::controller::inplace::{self, RESTARTED_AT};
use crate::controller::runtime::{Goal, Stuck};
use crate::controller::{revision, selector};
use crate::error::{Error, Result, Target, from_kube};

pub struct AdvancedDaemonSetWorkload;
pub static ADVANCED_DAEMONSET: AdvancedDaemonSetWorkload = AdvancedDaemonSetWorkload;

const RESOURCE: &str = "daemonset.apps.kruise.io";

fn api(kube: &Kube) -> Api<DaemonSet> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: "daemonsets.apps.kruise.io",
        name,
        namespace: &kube.namespace,
    }
}

async fn get(kube: &Kube, name: &str) -> Result<DaemonSet> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

async fn nodes(kube: &Kube) -> Result<Vec<Node>> {
    let api: Api<Node> = Api::all(kube.client.clone());
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| from_kube(e, &kube.server, None))
}

fn paused(d: &DaemonSet) -> bool {
    reconciler::progress(d, &Default::default()).paused
}

fn judged(d: &DaemonSet, nodes: &[&Node]) -> Observed {
    let (line, phase) = goal::status(d, nodes);
    Observed {
        line,
        phase: match phase {
            goal::Phase::Progressing => Phase::Progressing,
            goal::Phase::Complete => Phase::Complete,
            goal::Phase::Paused => Phase::Paused,
            goal::Phase::Failed => Phase::Failed,
        },
        progress: reconciler::progress(d, &d.status.clone().unwrap_or_default()),
    }
}

fn changed(obj: &DaemonSet, done: String, notes: Vec<String>, drives: bool) -> Result<Written> {
    Ok(Written::Changed {
        object: serde_json::to_value(obj).map_err(|e| Error::other(e.to_string()))?,
        done,
        notes,
        drives,
    })
}

impl Workload for AdvancedDaemonSetWorkload {
    fn kind(&self) -> Kind {
        kinds::ADVANCED_DAEMONSET
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        list_names::<DaemonSet>(kube, labels).boxed()
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
        to: i64,
    ) -> BoxFuture<'a, Result<Written>> {
        undo(cx, name, to).boxed()
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
        _replicas: i32,
        _delete_pods: &'a [String],
    ) -> BoxFuture<'a, Result<Written>> {
        async move {
            get(cx.kube, name).await?;
            Err(Error::other(format!(
                "{RESOURCE}/{name} cannot be scaled: an Advanced DaemonSet has no replicas and no scale subresource (it runs one pod on each node its selector and tolerations admit); nothing was changed"
            )))
        }
        .boxed()
    }

    fn observe<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        _rev: i64,
    ) -> BoxFuture<'a, Result<Observed>> {
        async move {
            let d = get(kube, name).await?;
            let ns = nodes(kube).await?;
            Ok(judged(&d, &ns.iter().collect::<Vec<_>>()))
        }
        .boxed()
    }

    /// The nodes are read once when the watch starts: a node added while it runs is judged
    /// by the DaemonSet's own counts, which the controller keeps current.
    fn judge(&self, object: &Value, nodes: &[Node]) -> Result<Observed> {
        let d = super::typed::<DaemonSet>(object, self.kind())?;
        Ok(judged(&d, &nodes.iter().collect::<Vec<_>>()))
    }

    fn judged_by_nodes(&self) -> bool {
        true
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        _rev: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        let (kube, name) = (kube.clone(), name.to_string());
        futures::stream::once(async move {
            match nodes(&kube).await {
                Ok(ns) => watch_judged(&kube, &name, move |d: &DaemonSet| {
                    Ok(judged(d, &ns.iter().collect::<Vec<_>>()))
                }),
                Err(e) => futures::stream::once(async { Err(e) }).boxed(),
            }
        })
        .flatten()
        .boxed()
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
            reconciler: || Box::new(DaemonSetReconciler),
            settled,
        })
    }
}

/// A driving command stops when the DaemonSet rests, is paused, or failed (judged with the
/// nodes in the controller's cache).
fn settled() -> Goal {
    Box::new(|stores, key| {
        let ns = stores.all::<Node>();
        let ns: Vec<&Node> = ns.iter().map(|n| n.as_ref()).collect();
        stores
            .get::<DaemonSet>(key)
            .is_some_and(|d| goal::status(&d, &ns).1 != goal::Phase::Progressing)
    })
}

/// The first pod of the update revision whose container cannot start.
async fn stuck(kube: &Kube, name: &str) -> Result<Option<Stuck>> {
    let d = get(kube, name).await?;
    let st = d.status.clone().unwrap_or_default();
    if st.observed_generation.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
        return Ok(None);
    }
    let Some(hash) = st.update_revision else {
        return Ok(None);
    };
    let uid = d.metadata.uid.clone().unwrap_or_default();
    pods::first_stuck(kube, &d.spec.selector, &uid, |r| r == hash).await
}

fn rolling_update_type(d: &DaemonSet) -> Option<DaemonSetUpdateStrategyType> {
    validate::defaults(d)
        .spec
        .update_strategy
        .and_then(|u| u.type_)
}

async fn rollout(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let now = now_rfc3339();
    let outcome = guarded(
        &api(cx.kube),
        None,
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |d| {
            let on_delete = rolling_update_type(d) == Some(DaemonSetUpdateStrategyType::OnDelete);
            Ok(Some(Change::Merge(match verb {
                Verb::Pause | Verb::Resume if on_delete => {
                    return Err(Error::other(format!(
                        "{RESOURCE}/{name} uses updateStrategy OnDelete, which has no rolling update to pause or resume"
                    )));
                }
                Verb::Pause if paused(d) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is already paused")));
                }
                Verb::Pause => json!({"spec": {"updateStrategy": {"rollingUpdate": {"paused": true}}}}),
                Verb::Resume if !paused(d) => {
                    return Err(Error::other(format!("{RESOURCE}/{name} is not paused")));
                }
                Verb::Resume => json!({"spec": {"updateStrategy": {"rollingUpdate": {"paused": false}}}}),
                _ => json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}),
            })))
        },
    )
    .await?;
    let obj = outcome.object().clone();
    if cx.dry_run() == DryRun::Client && verb != Verb::Pause {
        return preview_of(cx.kube, &obj).await;
    }
    changed(&obj, verb.done().into(), vec![], verb != Verb::Pause)
}

/// Revisions owned by the DaemonSet, oldest first.
async fn revisions(kube: &Kube, d: &DaemonSet) -> Result<Vec<ControllerRevision>> {
    history::owned(
        kube,
        &d.spec.selector,
        d.metadata.uid.as_deref().unwrap_or_default(),
    )
    .await
}

async fn print_history(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let d = get(kube, name).await?;
    history::print(RESOURCE, "daemonset", name, &revisions(kube, &d).await?, a)
}

async fn undo(cx: &Cx<'_>, name: &str, to_revision: i64) -> Result<Written> {
    let d = get(cx.kube, name).await?;
    let revs = revisions(cx.kube, &d).await?;
    let current = revision::payload(&d.spec.template.0);
    let target_rev = history::undo_target("daemonset", "ads", name, &revs, &current, to_revision)?;
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
        let after = apply_locally(&d, &Change::Json(patch))?;
        return preview_of(cx.kube, &after).await;
    }
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
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

/// `--inplace`: only a DaemonSet whose pods carry the readiness gate (created under
/// InPlaceIfPossible), and only a change that can be made in place.
async fn check_inplace(
    kube: &Kube,
    d: &DaemonSet,
    ops: &[Value],
    init: &[String],
    what: &str,
) -> Result<()> {
    let ru = validate::defaults(d)
        .spec
        .update_strategy
        .and_then(|u| u.rolling_update);
    if ru.and_then(|r| r.type_) != Some(RollingUpdateType::InPlaceIfPossible) {
        return Err(Error::usage(format!(
            "cannot update {what} in place: its rollingUpdateType is not InPlaceIfPossible, so its pods were created without the InPlaceUpdateReady gate an in-place update needs; set spec.updateStrategy.rollingUpdate.rollingUpdateType to InPlaceIfPossible (pods created after that can be updated in place) or drop --inplace; nothing was changed"
        )));
    }
    if !init.is_empty() {
        return Err(Error::usage(format!(
            "cannot update {what} in place: init container(s) {} cannot be updated in place (only regular containers' images can); nothing was changed",
            init.join(", ")
        )));
    }
    let after = apply_locally(d, &Change::Json(Value::Array(ops.to_vec())))?;
    let from = revisions(kube, d)
        .await?
        .into_iter()
        .find(|r| {
            r.labels().get(plan::HASH_LABEL)
                == d.status.as_ref().and_then(|s| s.update_revision.as_ref())
        })
        .and_then(|r| revision::template_of(&r))
        .unwrap_or_else(|| d.spec.template.0.clone());
    if let Err(why) = inplace::calculate(&from, &after.spec.template.0) {
        return Err(Error::usage(format!(
            "cannot update {what} in place: the pods run a template that differs in more than images: {why}; nothing was changed"
        )));
    }
    Ok(())
}

async fn set_image(
    cx: &Cx<'_>,
    name: &str,
    pairs: &[(String, String)],
    inplace: bool,
) -> Result<Written> {
    let d = get(cx.kube, name).await?;
    let what = format!("daemonset \"{name}\"");
    let template = Value::Object(d.spec.template.0.clone());
    let (ops, init) = image_ops(&template, "/spec/template", pairs, &what)?;
    if inplace {
        check_inplace(cx.kube, &d, &ops, &init, &what).await?;
    }
    if cx.dry_run() == DryRun::Client {
        let after = apply_locally(&d, &Change::Json(Value::Array(ops)))?;
        return preview_of(cx.kube, &after).await;
    }
    let expected_generation = d.metadata.generation;
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |cur| {
            if cur.metadata.generation != expected_generation {
                return Err(Error::Conflict(
                    format!("daemonset \"{name}\" changed while it was being updated; run the command again"),
                    1,
                ));
            }
            Ok(Some(Change::Json(Value::Array(ops.clone()))))
        },
    )
    .await?;
    changed(outcome.object(), "image updated".into(), vec![], true)
}

/// What the controller would do with `after` (the DaemonSet as the command would leave it),
/// pass after pass on the imagined cluster with the cluster's nodes.
async fn preview_of(kube: &Kube, after: &DaemonSet) -> Result<Written> {
    let sel = selector::render(&after.spec.selector).unwrap_or_default();
    let lp = ListParams::default().labels(&sel);
    let pods: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let revs: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let (p, r, n) = futures::join!(pods.list(&lp), revs.list(&lp), nodes(kube));
    let e = |e| from_kube(e, &kube.server, None);
    let s = Snapshot {
        daemonset: after.clone(),
        nodes: n?.into_iter().map(Arc::new).collect(),
        pods: p.map_err(e)?.items.into_iter().map(Arc::new).collect(),
        revisions: r.map_err(e)?.items,
        now: Timestamp::now(),
        seed: 1,
    };
    let pv = preview::preview(&s, 500).map_err(|e| Error::other(e.to_string()))?;
    let batches: Vec<(usize, &[Action])> = pv
        .batches
        .iter()
        .map(|b| (b.batch, b.actions.as_slice()))
        .collect();
    let text = plan_text::render(&plan_text::Summary {
        resource: RESOURCE,
        name: &pv.daemonset,
        batches: &batches,
        rests_at: &pv.rests_at,
        replicas: pv.desired,
        updated: pv.updated,
        update_revision: &pv.update_revision,
        errors: &pv.errors,
    });
    Ok(Written::Preview {
        value: serde_json::to_value(&pv).map_err(|e| Error::other(e.to_string()))?,
        text,
    })
}
