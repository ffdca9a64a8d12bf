//! The `rollout` commands on a Kruise Rollout (`rollout/NAME`, `rollouts.rollouts.kruise.io/NAME`,
//! `ro/NAME`): `approve`, `pause`, `resume`, `undo` (of its workload, or `--fast` to an earlier
//! step), `status` and `history` (its workload's). After a change, [`drive::drive`] carries it
//! out: with the Kruise Rollout operator (or another embedded controller) it says who does;
//! with nobody, it runs the embedded Rollout and BatchRelease reconcilers (and the workload's,
//! when it has one) until the Rollout rests.

pub mod approve;
pub mod drive;
pub mod status;
pub mod view;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use serde_json::json;

use crate::api::Rollout;
use crate::cli::rollout::HistoryArgs;
use crate::cli::{DryRun, OutputFormat};
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, guarded};
use crate::cmd::common::dry_suffix;
use crate::cmd::drive::Drive;
use crate::cmd::workload::{self, Cx, Verb, Written};
use crate::error::{Error, Result, Target, from_kube};
use crate::output;

pub use drive::{After, drive};

/// `rollout.rollouts.kruise.io`: the prefix of the written lines and `-o name`.
pub fn prefix(name: &str) -> String {
    format!("{}/{name}", kinds::ROLLOUT.name_prefix())
}

pub fn is_rollout(kind: Kind) -> bool {
    kind == kinds::ROLLOUT
}

pub fn api(kube: &Kube) -> Api<Rollout> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

pub fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: "rollouts.rollouts.kruise.io",
        name,
        namespace: &kube.namespace,
    }
}

pub async fn get(kube: &Kube, name: &str) -> Result<Rollout> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

/// Names of the Rollouts matching a label selector (one LIST of metadata).
pub async fn names(kube: &Kube, labels: &str) -> Result<Vec<String>> {
    workload::list_names::<Rollout>(kube, labels).await
}

/// The workload a Rollout releases, as a kind this tool's commands take.
pub fn workload_of(ro: &Rollout) -> Result<(Kind, String)> {
    let r = &ro.spec.workload_ref;
    let kind = workload::by_reference(&r.api_version, &r.kind).ok_or_else(|| {
        Error::other(format!(
            "rollout \"{}\" releases {} {:?} ({}), which the rollout commands do not take; use kubectl on it",
            ro.name_any(),
            r.kind,
            r.name,
            r.api_version
        ))
    })?;
    if r.name.is_empty() {
        return Err(Error::other(format!(
            "rollout \"{}\" names no workload (spec.workloadRef.name is empty)",
            ro.name_any()
        )));
    }
    Ok((kind, r.name.clone()))
}

/// The workload's replicas (a DaemonSet's: the pods it wants), to scale step replicas; `None`
/// when it cannot be read (then lines show counts only).
pub async fn workload_replicas(kube: &Kube, ro: &Rollout) -> Option<i32> {
    let (kind, name) = workload_of(ro).ok()?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(kube.client.clone(), &kube.namespace, &kind.api_resource());
    let o = api.get(&name).await.ok()?;
    replicas_of(&o.data)
}

/// A workload's replicas as read (its `spec` and `status`): a DaemonSet has none, so the pods
/// it wants; unset counts 1.
pub fn replicas_of(workload: &serde_json::Value) -> Option<i32> {
    let v = workload["spec"]["replicas"]
        .as_i64()
        .or(workload["status"]["desiredNumberScheduled"].as_i64())
        .unwrap_or(1);
    i32::try_from(v).ok()
}

/// `rollout pause` / `resume` of a Rollout: `spec.strategy.paused` (a merge patch guarded by
/// resourceVersion), refused when it already is so, as kruise-tools does.
pub async fn pause_or_resume(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let pause = verb == Verb::Pause;
    let outcome = guarded(
        &api(cx.kube),
        None,
        &target(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |ro: &Rollout| match (pause, view::spec_paused(ro)) {
            (true, true) => Err(Error::other(format!(
                "rollouts.rollouts.kruise.io \"{name}\" is already paused"
            ))),
            (false, false) => Err(Error::other(format!(
                "rollouts.rollouts.kruise.io \"{name}\" is not paused"
            ))),
            _ => Ok(Some(Change::Merge(
                json!({"spec": {"strategy": {"paused": pause}}}),
            ))),
        },
    )
    .await?;
    let object = serde_json::to_value(outcome.object()).map_err(|e| Error::other(e.to_string()))?;
    let notes = if pause {
        vec![]
    } else {
        let ro = outcome.object();
        match view::sub(ro) {
            Some(s) if s.common.current_step_state == view::step::PAUSED => vec![format!(
                "note: resuming does not approve the step it waits at: run `kubectl kruise rollout approve rollout/{name} -n {}`",
                cx.kube.namespace
            )],
            _ => vec![],
        }
    };
    Ok(Written::Changed {
        object,
        done: verb.done().to_string(),
        notes,
        drives: !pause,
    })
}

/// Print what a change of a Rollout did, as `-o` asks; true when a controller must now carry
/// it out.
pub fn print_written(cx: &Cx<'_>, name: &str, written: Written) -> Result<bool> {
    match written {
        Written::Skipped(line) => {
            output::outln(&line)?;
            Ok(false)
        }
        Written::Preview { value, text } => {
            match cx.output {
                Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                    output::print_value(&value, f.into())?
                }
                _ => output::out(&text)?,
            }
            Ok(false)
        }
        Written::Changed {
            object,
            done,
            notes,
            drives,
        } => {
            match cx.output {
                Some(OutputFormat::Name) => output::outln(&prefix(name))?,
                Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                    output::print_objects(std::slice::from_ref(&object), f.into())?
                }
                _ => output::outln(&format!(
                    "{} {done}{}",
                    prefix(name),
                    dry_suffix(cx.dry_run())
                ))?,
            }
            for n in notes {
                output::note(&n);
            }
            Ok(drives && cx.dry_run() == DryRun::None)
        }
    }
}

/// What a drive after a write to the Rollout itself waits for: a controller's next write (the
/// resourceVersion moved on from the one written), unless the Rollout is paused, where no
/// controller writes and it rests as it is.
pub fn after_write(written: &Written) -> After {
    let moved_from = match written {
        Written::Changed { object, .. } if object["spec"]["strategy"]["paused"] != true => {
            object["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        }
        _ => None,
    };
    After {
        moved_from,
        cancel_expected: false,
    }
}

/// Pause or resume a Rollout, then (resume) drive it.
pub async fn change(cx: &Cx<'_>, name: &str, verb: Verb, d: Option<Drive>) -> Result<()> {
    let written = pause_or_resume(cx, name, verb).await?;
    let after = after_write(&written);
    if print_written(cx, name, written)?
        && let Some(d) = d
    {
        return drive(cx.kube, name, d, after).await;
    }
    Ok(())
}

/// `rollout undo rollout/NAME`: its workload's undo (as kruise-tools does), then the Rollout
/// driven while it takes the rollback in (a release in progress is cancelled).
pub async fn undo(cx: &Cx<'_>, name: &str, to_revision: i64, d: Drive, yes: bool) -> Result<()> {
    let ro = get(cx.kube, name).await?;
    let (kind, wname) = workload_of(&ro)?;
    let w = workload::of(kind);
    if cx.dry_run() == crate::cli::DryRun::None
        && ro.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Progressing")
    {
        output::confirm(
            yes,
            &format!(
                "Roll {}/{wname} back, cancelling rollout \"{name}\"'s release in progress?",
                kind.singular()
            ),
        )?;
    }
    output::note(&format!(
        "rollout \"{name}\" releases {}/{wname}: rolling that back",
        kind.singular()
    ));
    let written = w.undo(cx, &wname, to_revision).await?;
    // Only a release in progress has something for the Rollout controller to react to.
    let in_release = ro.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Progressing");
    let drives = crate::cmd::drive::print_written(cx, w, &wname, written)?;
    if !drives {
        return Ok(());
    }
    drive(
        cx.kube,
        name,
        d,
        After {
            moved_from: in_release.then(|| ro.resource_version()).flatten(),
            cancel_expected: true,
        },
    )
    .await
}

/// `rollout history rollout/NAME`: its workload's revisions, after a line naming it.
pub async fn history(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let ro = get(kube, name).await?;
    let (kind, wname) = workload_of(&ro)?;
    if a.output.output.is_none() {
        output::outln(&format!(
            "{}: workload {}/{wname}",
            prefix(name),
            kind.name_prefix()
        ))?;
    }
    workload::of(kind).history(kube, &wname, a).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_rollout_is_not_waited_for_to_move() {
        let w = |paused: bool| Written::Changed {
            object: json!({"metadata": {"resourceVersion": "9"},
                           "spec": {"strategy": {"paused": paused}}}),
            done: "approved".into(),
            notes: vec![],
            drives: true,
        };
        assert_eq!(after_write(&w(false)).moved_from.as_deref(), Some("9"));
        assert_eq!(after_write(&w(true)).moved_from, None);
        assert_eq!(
            after_write(&Written::Skipped(String::new())).moved_from,
            None
        );
    }
}
