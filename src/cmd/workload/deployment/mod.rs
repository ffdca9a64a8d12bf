//! Deployment (apps/v1), at parity with kubectl: its commands and its phase. Its controller is
//! kube-controller-manager's; nothing here drives it.

mod kubectl;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

use super::Driver;
use super::gate;
use super::images::image_ops;
use super::{
    Cx, Embedded, Observed, Phase, Verb, Workload, Written, list_names, pods, watch_judged,
};
use crate::cli::rollout::HistoryArgs;
use crate::cli::{DryRun, OutputFormat};
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, Outcome, guarded};
use crate::cmd::common::now_rfc3339;
use crate::controller::pod::keys;
use crate::controller::rollout::workload::TargetKind;
use crate::controller::runtime::{Progress, Stuck};
use crate::error::{Error, Result, Target, from_kube};
use crate::output::{self, table::KubeTable};

pub struct DeploymentWorkload;
pub static DEPLOYMENT: DeploymentWorkload = DeploymentWorkload;

const RESOURCE: &str = "deployments.apps";

/// The lowest deletion cost there is: the ReplicaSet controller deletes these pods first.
const FIRST_TO_GO: &str = "-2147483648";

fn api(kube: &Kube) -> Api<Deployment> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: RESOURCE,
        name,
        namespace: &kube.namespace,
    }
}

async fn get(kube: &Kube, name: &str) -> Result<Deployment> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

fn object(d: &Deployment) -> Result<serde_json::Value> {
    serde_json::to_value(d).map_err(|e| Error::other(e.to_string()))
}

/// kubectl's status viewer, with paused (and not rolled out) told apart.
fn judged(d: &Deployment, revision: i64) -> Result<Observed> {
    let (line, done) = kubectl::status(d, revision)?;
    let (desired, updated, ready, available) = kubectl::progress(d);
    let paused = kubectl::paused(d);
    let (line, phase) = match (done, paused) {
        (true, _) => (line, Phase::Complete),
        (false, true) => (
            format!("deployment \"{}\" is paused: {line}", d.name_any()),
            Phase::Paused,
        ),
        (false, false) => (line, Phase::Progressing),
    };
    Ok(Observed {
        line,
        phase,
        progress: Progress {
            desired,
            updated,
            ready,
            available,
            total: d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0),
            paused,
        },
    })
}

async fn owned_replicasets(kube: &Kube, d: &Deployment) -> Result<Vec<ReplicaSet>> {
    let api: Api<ReplicaSet> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let labels = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let list = api
        .list(&ListParams::default().labels(&labels))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    Ok(list.items)
}

impl Workload for DeploymentWorkload {
    fn kind(&self) -> Kind {
        kinds::DEPLOYMENT
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        list_names::<Deployment>(kube, labels).boxed()
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
        history(kube, name, a).boxed()
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
        revision: i64,
    ) -> BoxFuture<'a, Result<Observed>> {
        async move { judged(&get(kube, name).await?, revision) }.boxed()
    }

    fn revision_objects(&self) -> super::RevisionObjects {
        super::RevisionObjects::ReplicaSets
    }

    fn judge(
        &self,
        object: &serde_json::Value,
        _nodes: &[k8s_openapi::api::core::v1::Node],
    ) -> Result<Observed> {
        judged(&super::typed::<Deployment>(object, self.kind())?, 0)
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        watch_judged(kube, name, move |d: &Deployment| judged(d, revision))
    }

    /// kubectl does not look at a Deployment's pods; neither do we.
    /// Kubernetes' controller judges progress by its deadline; a release's canary pods are looked at.
    fn reports_stuck(&self, release: bool) -> bool {
        release
    }

    fn stuck<'a>(
        &'a self,
        _kube: &'a Kube,
        _name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Stuck>>> {
        async { Ok(None) }.boxed()
    }

    /// During a Kruise Rollout canary the new pods belong to the canary Deployment, which
    /// shares this one's selector: a pod it lists whose `pod-template-hash` is not the stable
    /// one.
    fn release_stuck<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        stable: &'a str,
    ) -> BoxFuture<'a, Result<Option<Stuck>>> {
        release_stuck(kube, name, stable).boxed()
    }

    fn driver<'a>(&'a self, _kube: &'a Kube) -> BoxFuture<'a, Driver> {
        async { Driver::Builtin("kube-controller-manager".into()) }.boxed()
    }

    fn embedded(&self) -> Option<Embedded> {
        None
    }
}

async fn rollout(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let now = now_rfc3339();
    let d = get(cx.kube, name).await?;
    let held = match verb {
        Verb::Restart => {
            let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            gate::for_change(cx.kube, TargetKind::Deployment, &d, replicas).await?
        }
        _ => None,
    };
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |d| {
            if verb == Verb::Resume && let Some(r) = crate::controller::rollout::gate::held_for(d.metadata.annotations.as_ref()) {
                return Err(Error::other(format!(
                    "{RESOURCE} \"{name}\" is held by rollout/{r} mid-release (Kruise Rollout's webhook would pause it again); approve the step with `kubectl kruise rollout approve rollout/{r}`, or resume the Rollout with `kubectl kruise rollout resume rollout/{r}`"
                )));
            }
            let mut patch = match verb {
                Verb::Pause => kubectl::pause_patch(d),
                Verb::Resume => kubectl::resume_patch(d),
                _ => kubectl::restart_patch(d, &now),
            }
            .map_err(|e| Error::other(format!("{RESOURCE} \"{name}\" {e}")))?;
            if let Some(g) = &held {
                crate::controller::rollout::gate::merge(&mut patch, &g.patch);
            }
            Ok(Some(Change::Merge(patch)))
        },
    )
    .await?;
    Ok(Written::Changed {
        object: object(outcome.object())?,
        done: verb.done().into(),
        notes: held.iter().map(|g| g.note(&cx.kube.namespace)).collect(),
        drives: verb != Verb::Pause,
    })
}

async fn history(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let d = get(kube, name).await?;
    let rss = owned_replicasets(kube, &d).await?;
    let owned = kubectl::owned(&d, &rss);
    if a.revision > 0 && !owned.iter().any(|(r, _)| *r == a.revision) {
        return Err(Error::other(format!(
            "unable to find the specified revision {} of deployment \"{name}\"",
            a.revision
        )));
    }
    let picked: Vec<&ReplicaSet> = owned
        .iter()
        .filter(|(r, _)| a.revision == 0 || *r == a.revision)
        .map(|(_, rs)| *rs)
        .collect();
    let prefix = kinds::DEPLOYMENT.name_prefix();
    match a.output.output {
        Some(OutputFormat::Name) => {
            for rs in picked {
                output::outln(&format!("replicaset.apps/{}", rs.name_any()))?;
            }
            Ok(())
        }
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(&picked, f.into())
        }
        _ if a.revision > 0 => {
            let template = picked[0]
                .spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default();
            output::outln(&format!("{prefix}/{name} with revision #{}", a.revision))?;
            output::outln("Pod Template:")?;
            let yaml =
                serde_saphyr::to_string(&serde_json::to_value(&template).unwrap_or_default())
                    .map_err(|e| Error::other(e.to_string()))?;
            output::out(&yaml.lines().map(|l| format!("  {l}\n")).collect::<String>())
        }
        _ => {
            output::outln(&format!("{prefix}/{name}"))?;
            let mut t = KubeTable::new(&["revision", "change-cause"], !a.output.no_headers).gap(2);
            for (rev, cause) in kubectl::history(&d, &rss) {
                t.row([rev.to_string(), cause]);
            }
            output::out(&t.render())
        }
    }
}

async fn undo(cx: &Cx<'_>, name: &str, to_revision: i64) -> Result<Written> {
    let d = get(cx.kube, name).await?;
    let rss = owned_replicasets(cx.kube, &d).await?;
    let rs = kubectl::rollback_target(&d, &rss, to_revision)?.clone();
    let rev = kubectl::revision_of(&rs).unwrap_or(0);
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |cur| {
            Ok(kubectl::undo_patch(cur, &rs)
                .map_err(|e| Error::other(format!("{RESOURCE} \"{name}\": {e}")))?
                .map(Change::Json))
        },
    )
    .await?;
    match outcome {
        Outcome::Unchanged(_) => Ok(Written::Skipped(format!(
            "{}/{name} skipped rollback (current template already matches revision {rev})",
            kinds::DEPLOYMENT.name_prefix()
        ))),
        Outcome::Changed(obj) => Ok(Written::Changed {
            object: object(&obj)?,
            done: "rolled back".into(),
            notes: vec![],
            drives: true,
        }),
    }
}

async fn set_image(
    cx: &Cx<'_>,
    name: &str,
    pairs: &[(String, String)],
    inplace: bool,
) -> Result<Written> {
    if inplace {
        return Err(Error::usage(
            "deployments cannot update pods in place (a new ReplicaSet recreates them); drop --inplace, or use a CloneSet",
        ));
    }
    let d = get(cx.kube, name).await?;
    let template = serde_json::to_value(d.spec.as_ref().map(|s| &s.template)).unwrap_or_default();
    let what = format!("deployment \"{name}\"");
    let (mut ops, _) = image_ops(&template, "/spec/template", pairs, &what)?;
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let held = gate::for_change(cx.kube, TargetKind::Deployment, &d, replicas).await?;
    if let Some(g) = &held {
        ops.extend(gate::ops(
            &serde_json::to_value(&d).unwrap_or_default(),
            &g.patch,
        ));
    }
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |_| Ok(Some(Change::Json(serde_json::Value::Array(ops.clone())))),
    )
    .await?;
    Ok(Written::Changed {
        object: object(outcome.object())?,
        done: "image updated".into(),
        notes: held.iter().map(|g| g.note(&cx.kube.namespace)).collect(),
        drives: true,
    })
}

/// Pods to delete first: each must belong to one of the Deployment's ReplicaSets.
async fn check_pods(kube: &Kube, d: &Deployment, name: &str, pods_: &[String]) -> Result<()> {
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(kube.client.clone(), &kube.namespace);
    for pod in pods_ {
        let p = pods::get(kube, pod).await?;
        let owned = match pods::controller_of(&p) {
            Some((k, rs, _)) if k == "ReplicaSet" => rs_api.get(&rs).await.ok().is_some_and(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|r| r.uid == uid && r.controller == Some(true))
            }),
            _ => false,
        };
        if !owned {
            return Err(pods::not_owned(pod, &format!("deployment \"{name}\""), &p));
        }
    }
    Ok(())
}

async fn scale(cx: &Cx<'_>, name: &str, replicas: i32, delete_pods: &[String]) -> Result<Written> {
    let d = get(cx.kube, name).await?;
    check_pods(cx.kube, &d, name, delete_pods).await?;
    if cx.dry_run() != DryRun::Client {
        let pod_api: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(cx.kube.client.clone(), &cx.kube.namespace);
        let pp = PatchParams {
            field_manager: Some(cx.write.field_manager.clone()),
            dry_run: cx.dry_run() == DryRun::Server,
            ..Default::default()
        };
        for p in delete_pods {
            let patch = json!({"metadata": {"annotations": {keys::DELETION_COST: FIRST_TO_GO}}});
            pod_api
                .patch(p, &pp, &Patch::Merge(&patch))
                .await
                .map_err(|e| from_kube(e, &cx.kube.server, None))?;
        }
    }
    let outcome = guarded(
        &api(cx.kube),
        Some(d),
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |_| Ok(Some(Change::Merge(json!({"spec": {"replicas": replicas}})))),
    )
    .await?;
    let notes = if delete_pods.is_empty() {
        vec![]
    } else {
        vec![format!(
            "pods {} marked with {}={FIRST_TO_GO}: the ReplicaSet controller deletes them first",
            delete_pods.join(", "),
            keys::DELETION_COST
        )]
    };
    Ok(Written::Changed {
        object: object(outcome.object())?,
        done: "scaled".into(),
        notes,
        drives: true,
    })
}

/// A pod the Deployment's selector lists, not at the stable `pod-template-hash`, that cannot
/// start (one GET, one LIST).
async fn release_stuck(kube: &Kube, name: &str, stable: &str) -> Result<Option<Stuck>> {
    if stable.is_empty() {
        return Ok(None);
    }
    let Some(d) = api(kube)
        .get_opt(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))?
    else {
        return Ok(None);
    };
    let Some(sel) = d
        .spec
        .as_ref()
        .and_then(|s| crate::controller::selector::render(&s.selector).ok())
    else {
        return Ok(None);
    };
    let pod_api: Api<k8s_openapi::api::core::v1::Pod> =
        Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = pod_api
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    Ok(list
        .items
        .iter()
        .filter(|p| crate::controller::pod::is_active(p))
        .filter(|p| {
            crate::controller::pod::label(p, "pod-template-hash").is_some_and(|h| h != stable)
        })
        .find_map(|p| {
            crate::controller::pod::stuck(p).map(|(container, reason, message)| Stuck {
                pod: p.name_any(),
                container,
                reason,
                message,
            })
        }))
}
