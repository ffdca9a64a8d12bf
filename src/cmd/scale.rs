//! `scale TYPE/NAME --replicas N [--delete-pod POD …]`.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::api::cloneset::CloneSet;
use crate::cli::scale::ScaleArgs;
use crate::cli::{DryRun, GlobalArgs, OutputFormat};
use crate::client::kinds::{CLONESET, DEPLOYMENT, Kind};
use crate::client::write::{Change, guarded};
use crate::client::{Kube, connect};
use crate::cmd::cloneset as cs_cmd;
use crate::cmd::rollout::{check_output, dry_suffix, for_each, names, selection_for};
use crate::controller::pod::keys;
use crate::error::{Error, Result, Target, from_kube};
use crate::output;

const SUPPORTED: &[Kind] = &[CLONESET, DEPLOYMENT];

pub async fn run(global: &GlobalArgs, a: &ScaleArgs) -> Result<()> {
    if a.replicas < 0 || a.replicas > i64::from(i32::MAX) {
        return Err(Error::usage(format!(
            "--replicas must be a number of pods from 0 to {}, not {}",
            i32::MAX,
            a.replicas
        )));
    }
    let sel = selection_for(&a.target, "scale", SUPPORTED)?;
    check_output(
        &a.output,
        &[OutputFormat::Json, OutputFormat::Yaml, OutputFormat::Name],
    )?;
    let kube = connect(global).await?;
    let targets = names(&kube, sel).await?;
    if !a.delete_pod.is_empty() && targets.len() != 1 {
        return Err(Error::usage(
            "--delete-pod needs exactly one workload to scale",
        ));
    }
    for_each(targets, |kind, name| {
        let kube = kube.clone();
        async move {
            if kind == CLONESET {
                cloneset(&kube, &name, a).await
            } else {
                deployment(&kube, &name, a).await
            }
        }
    })
    .await
}

async fn get_pod(kube: &Kube, name: &str) -> Result<Pod> {
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let t = Target {
        resource: "pods",
        name,
        namespace: &kube.namespace,
    };
    api.get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&t)))
}

fn controller_of(p: &Pod) -> Option<(String, String, String)> {
    p.owner_references()
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| (r.kind.clone(), r.name.clone(), r.uid.clone()))
}

fn not_owned(pod: &str, owner: &str, p: &Pod) -> Error {
    let by = controller_of(p)
        .map(|(k, n, _)| format!("it belongs to {} \"{n}\"", k.to_lowercase()))
        .unwrap_or_else(|| "it has no controller".into());
    Error::usage(format!(
        "pod \"{pod}\" is not a pod of {owner}: {by}; nothing was changed"
    ))
}

async fn cloneset(kube: &Kube, name: &str, a: &ScaleArgs) -> Result<()> {
    let cs = cs_cmd::get(kube, name).await?;
    let uid = cs.metadata.uid.clone().unwrap_or_default();
    for pod in &a.delete_pod {
        let p = get_pod(kube, pod).await?;
        if controller_of(&p).is_none_or(|(_, _, u)| u != uid) {
            return Err(not_owned(pod, &format!("cloneset \"{name}\""), &p));
        }
        if p.metadata.deletion_timestamp.is_some() {
            return Err(Error::usage(format!(
                "pod \"{pod}\" is already being deleted; nothing was changed"
            )));
        }
    }
    let replicas = a.replicas as i32;
    let change = |c: &CloneSet| -> Result<Option<Change>> {
        let mut to_delete: Vec<String> = c
            .spec
            .scale_strategy
            .as_ref()
            .and_then(|s| s.pods_to_delete.clone())
            .unwrap_or_default();
        for p in &a.delete_pod {
            if !to_delete.contains(p) {
                to_delete.push(p.clone());
            }
        }
        let mut spec = json!({"replicas": replicas});
        if !a.delete_pod.is_empty() {
            spec["scaleStrategy"] = json!({"podsToDelete": to_delete});
        }
        Ok(Some(Change::Merge(json!({"spec": spec}))))
    };
    let api = cs_cmd::api(kube);
    let target = cs_cmd::target(kube, name);
    let outcome = guarded(
        &api,
        Some(cs),
        &target,
        &kube.server,
        a.write.dry_run,
        &a.write.field_manager,
        change,
    )
    .await?;
    let obj = outcome.object().clone();
    if a.write.dry_run == DryRun::Client {
        return cs_cmd::print_preview(kube, &obj, a.output.output).await;
    }
    cs_cmd::print_written(name, &obj, "scaled", a.write.dry_run, a.output.output)?;
    if a.write.dry_run == DryRun::None {
        return cs_cmd::drive(kube, name, a.drive.drive()).await;
    }
    Ok(())
}

/// The lowest deletion cost there is: the ReplicaSet controller deletes these pods first.
const FIRST_TO_GO: &str = "-2147483648";

async fn deployment(kube: &Kube, name: &str, a: &ScaleArgs) -> Result<()> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let target = Target {
        resource: "deployments.apps",
        name,
        namespace: &kube.namespace,
    };
    let d = crate::cmd::rollout::get_deployment(kube, DEPLOYMENT, name).await?;
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let mut pods = Vec::new();
    for pod in &a.delete_pod {
        let p = get_pod(kube, pod).await?;
        let owned = match controller_of(&p) {
            Some((k, rs, _)) if k == "ReplicaSet" => rs_api.get(&rs).await.ok().is_some_and(|rs| {
                rs.owner_references()
                    .iter()
                    .any(|r| r.uid == uid && r.controller == Some(true))
            }),
            _ => false,
        };
        if !owned {
            return Err(not_owned(pod, &format!("deployment \"{name}\""), &p));
        }
        pods.push(pod.clone());
    }
    if a.write.dry_run != DryRun::Client {
        let pod_api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
        let pp = PatchParams {
            field_manager: Some(a.write.field_manager.clone()),
            dry_run: a.write.dry_run == DryRun::Server,
            ..Default::default()
        };
        for p in &pods {
            let patch = json!({"metadata": {"annotations": {keys::DELETION_COST: FIRST_TO_GO}}});
            pod_api
                .patch(p, &pp, &Patch::Merge(&patch))
                .await
                .map_err(|e| from_kube(e, &kube.server, None))?;
        }
    }
    let replicas = a.replicas as i32;
    let outcome = guarded(
        &api,
        Some(d),
        &target,
        &kube.server,
        a.write.dry_run,
        &a.write.field_manager,
        |_| Ok(Some(Change::Merge(json!({"spec": {"replicas": replicas}})))),
    )
    .await?;
    match a.output.output {
        Some(OutputFormat::Name) => output::outln(&format!("deployment.apps/{name}")),
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(std::slice::from_ref(outcome.object()), f)
        }
        _ => {
            output::outln(&format!(
                "deployment.apps/{name} scaled{}",
                dry_suffix(a.write.dry_run)
            ))?;
            if !pods.is_empty() {
                output::note(&format!(
                    "pods {} marked with {}={FIRST_TO_GO}: the ReplicaSet controller deletes them first",
                    pods.join(", "),
                    keys::DELETION_COST
                ));
            }
            Ok(())
        }
    }
}
