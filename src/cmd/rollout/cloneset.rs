//! `rollout pause|resume|restart|status|history|undo` for CloneSet.

use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use crate::api::cloneset::{CloneSet, CloneSetUpdateStrategyType};
use crate::cli::rollout::{HistoryArgs, MutateArgs, StatusArgs, UndoArgs};
use crate::cli::{DryRun, OutputFormat};
use crate::client::Kube;
use crate::client::write::{Change, Outcome, apply_locally, guarded};
use crate::cmd::cloneset::{self as cs_cmd, RESOURCE};
use crate::controller::cloneset::inplace::RESTARTED_AT;
use crate::controller::cloneset::revision;
use crate::error::{Error, Result, from_kube};
use crate::output::{self, table::KubeTable};

use super::{Verb, now_rfc3339};

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

pub(crate) async fn mutate(kube: &Kube, name: &str, a: &MutateArgs, verb: Verb) -> Result<()> {
    let now = now_rfc3339();
    let api = cs_cmd::api(kube);
    let target = cs_cmd::target(kube, name);
    let mut how = String::new();
    let outcome = guarded(
        &api,
        None,
        &target,
        &kube.server,
        a.write.dry_run,
        &a.write.field_manager,
        |c| {
            Ok(Some(Change::Merge(match verb {
                Verb::Pause => {
                    if paused(c) {
                        return Err(Error::other(format!("{RESOURCE}/{name} is already paused")));
                    }
                    json!({"spec": {"updateStrategy": {"paused": true}}})
                }
                Verb::Resume => {
                    if !paused(c) {
                        return Err(Error::other(format!("{RESOURCE}/{name} is not paused")));
                    }
                    json!({"spec": {"updateStrategy": {"paused": false}}})
                }
                Verb::Restart => {
                    if policy(c) == CloneSetUpdateStrategyType::InPlaceOnly {
                        return Err(Error::other(format!(
                            "{RESOURCE}/{name} uses updateStrategy InPlaceOnly, which never recreates pods, and an in-place update cannot restart containers without the Kruise daemon; switch to InPlaceIfPossible or ReCreate to restart"
                        )));
                    }
                    how = restart_how(c);
                    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}})
                }
            })))
        },
    )
    .await?;
    let obj = outcome.object().clone();
    if a.write.dry_run == DryRun::Client && matches!(verb, Verb::Resume | Verb::Restart) {
        return cs_cmd::print_preview(kube, &obj, a.output.output).await;
    }
    cs_cmd::print_written(name, &obj, verb.done(), a.write.dry_run, a.output.output)?;
    if !how.is_empty() {
        output::note(&how);
    }
    if a.write.dry_run == DryRun::None && matches!(verb, Verb::Resume | Verb::Restart) {
        return cs_cmd::drive(kube, name, a.drive.drive()).await;
    }
    Ok(())
}

/// How `restart` restarts every pod, in a sentence.
fn restart_how(c: &CloneSet) -> String {
    let us = c.spec.update_strategy.clone().unwrap_or_default();
    let text = |v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| match v {
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i) => i.to_string(),
        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
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
pub async fn revisions(kube: &Kube, c: &CloneSet) -> Result<Vec<ControllerRevision>> {
    let api: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let sel = crate::controller::selector::render(&c.spec.selector).unwrap_or_default();
    let uid = c.metadata.uid.clone().unwrap_or_default();
    let mut list: Vec<ControllerRevision> = api
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?
        .items
        .into_iter()
        .filter(|r| r.owner_references().iter().any(|o| o.uid == uid))
        .collect();
    list.sort_by_key(|r| r.revision);
    Ok(list)
}

pub async fn history(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let c = cs_cmd::get(kube, name).await?;
    let revs = revisions(kube, &c).await?;
    if a.revision > 0 && !revs.iter().any(|r| r.revision == a.revision) {
        return Err(Error::other(format!(
            "unable to find the specified revision {} of cloneset \"{name}\"",
            a.revision
        )));
    }
    let picked: Vec<&ControllerRevision> = revs
        .iter()
        .filter(|r| a.revision == 0 || r.revision == a.revision)
        .collect();
    match a.output.output {
        Some(OutputFormat::Name) => {
            for r in picked {
                output::outln(&format!("controllerrevision.apps/{}", r.name_any()))?;
            }
            Ok(())
        }
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => output::print_objects(&picked, f),
        _ if a.revision > 0 => {
            let t = revision::template_of(picked[0]).unwrap_or_default();
            output::outln(&format!("{RESOURCE}/{name} with revision #{}", a.revision))?;
            output::outln("Pod Template:")?;
            let yaml = serde_saphyr::to_string(&Value::Object(t))
                .map_err(|e| Error::other(e.to_string()))?;
            output::out(&yaml.lines().map(|l| format!("  {l}\n")).collect::<String>())
        }
        _ => {
            output::outln(&format!("{RESOURCE}/{name}"))?;
            let mut t =
                KubeTable::new(&["REVISION", "NAME", "CHANGE-CAUSE"], !a.output.no_headers).gap(2);
            for r in revs {
                let cause = r
                    .annotations()
                    .get("kubernetes.io/change-cause")
                    .cloned()
                    .unwrap_or_else(|| "<none>".into());
                t.row([r.revision.to_string(), r.name_any(), cause]);
            }
            output::out(&t.render())
        }
    }
}

pub async fn undo(kube: &Kube, name: &str, a: &UndoArgs) -> Result<()> {
    let c = cs_cmd::get(kube, name).await?;
    let revs = revisions(kube, &c).await?;
    let current_bytes = revision::payload(&c.spec.template.0);
    let current = revs
        .iter()
        .rfind(|r| revision::stored_payload(r) == current_bytes);
    let target = if a.to_revision > 0 {
        revs.iter().find(|r| r.revision == a.to_revision).ok_or_else(|| {
            Error::other(format!(
                "unable to find the specified revision {} of cloneset \"{name}\" (see `kubectl kruise rollout history cloneset/{name}`)",
                a.to_revision
            ))
        })?
    } else {
        let below = current.map(|c| c.revision).unwrap_or(i64::MAX);
        revs.iter()
            .rfind(|r| r.revision < below && revision::stored_payload(r) != current_bytes)
            .ok_or_else(|| {
                Error::other(format!("no rollout history found for cloneset \"{name}\""))
            })?
    };
    let template = revision::template_of(target).ok_or_else(|| {
        Error::other(format!(
            "controllerrevision {} holds no pod template",
            target.name_any()
        ))
    })?;
    let number = target.revision;
    if revision::payload(&template) == current_bytes {
        return output::outln(&format!(
            "{RESOURCE}/{name} skipped rollback (current template already matches revision {number})"
        ));
    }
    let api = cs_cmd::api(kube);
    let tgt = cs_cmd::target(kube, name);
    // `replace /spec/template`: exactly the revision's template, no merge leftovers.
    let patch =
        json!([{"op": "replace", "path": "/spec/template", "value": Value::Object(template)}]);
    if a.write.dry_run == DryRun::Client {
        let after = apply_locally(&c, &Change::Json(patch))?;
        return cs_cmd::print_preview(kube, &after, a.output.output).await;
    }
    let outcome = guarded(
        &api,
        Some(c),
        &tgt,
        &kube.server,
        a.write.dry_run,
        &a.write.field_manager,
        |_| Ok(Some(Change::Json(patch.clone()))),
    )
    .await?;
    let obj = match outcome {
        Outcome::Changed(o) | Outcome::Unchanged(o) => o,
    };
    cs_cmd::print_written(
        name,
        &obj,
        &format!("rolled back to revision {number}"),
        a.write.dry_run,
        a.output.output,
    )?;
    if a.write.dry_run == DryRun::None {
        return cs_cmd::drive(kube, name, a.drive.drive()).await;
    }
    Ok(())
}

pub async fn status(kube: &Kube, name: &str, a: &StatusArgs) -> Result<()> {
    let c = cs_cmd::get(kube, name).await?;
    let (line, phase) = cs_cmd::status(&c);
    match phase {
        cs_cmd::Phase::Failed => return Err(Error::Failed(line)),
        cs_cmd::Phase::Paused if !a.watch => return Err(Error::Paused(line)),
        cs_cmd::Phase::Paused if a.until_paused => return output::outln(&line),
        cs_cmd::Phase::Complete => return output::outln(&line),
        _ if !a.watch => return output::outln(&line),
        _ => {}
    }
    if let cs_cmd::Driver::Nobody = cs_cmd::driver(kube).await {
        output::note(&format!(
            "note: no controller reconciles cloneset \"{name}\": run `kubectl kruise controller run -n {}` in another terminal",
            kube.namespace
        ));
    }
    cs_cmd::watch(
        kube,
        name,
        a.timeout,
        cs_cmd::Outcome::Stdout,
        a.until_paused,
    )
    .await
}
