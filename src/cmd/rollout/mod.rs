//! `kubectl kruise rollout …`. Each subcommand resolves its targets with no discovery request,
//! acts on each in turn (an error on one does not stop the others; the exit code reports it),
//! and prints kubectl's lines (`deployment.apps/web paused`) or the objects (`-o json|yaml|name`).

pub mod cloneset;
pub mod deployment;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use crate::cli::rollout::{
    HistoryArgs, MutateArgs, Resources, RolloutCommand, StatusArgs, UndoArgs,
};
use crate::cli::{DryRun, GlobalArgs, OutputArgs, OutputFormat};
use crate::client::kinds::{CLONESET, DEPLOYMENT, Kind};
use crate::client::resolve::{self, Selection};
use crate::client::write::{Change, Outcome, guarded};
use crate::client::{Kube, connect};
use crate::error::{Error, Result, Target, from_kube};
use crate::output::{self, progress, table::KubeTable};

const SUPPORTED: &[Kind] = &[DEPLOYMENT, CLONESET];

pub async fn run(global: &GlobalArgs, cmd: &RolloutCommand) -> Result<()> {
    match cmd {
        RolloutCommand::Pause(a) => mutate(global, &a.as_mutate(), Verb::Pause).await,
        RolloutCommand::Resume(a) => mutate(global, a, Verb::Resume).await,
        RolloutCommand::Restart(a) => mutate(global, a, Verb::Restart).await,
        RolloutCommand::Status(a) => status(global, a).await,
        RolloutCommand::History(a) => history(global, a).await,
        RolloutCommand::Undo(a) => undo(global, a).await,
    }
}

/// Parses and checks the arguments before anything touches the network.
fn selection(r: &Resources, command: &str) -> Result<Selection> {
    selection_for(r, command, SUPPORTED)
}

pub(crate) fn selection_for(r: &Resources, command: &str, supported: &[Kind]) -> Result<Selection> {
    let sel = resolve::parse(&r.resources, r.selector.as_deref())?;
    resolve::check_kinds(&sel, command, supported)?;
    Ok(sel)
}

/// Names of the selected objects (a label selector costs one LIST).
pub(crate) async fn names(kube: &Kube, sel: Selection) -> Result<Vec<(Kind, String)>> {
    match sel {
        Selection::Named(v) => Ok(v),
        Selection::Selector(kind, labels) => {
            let lp = ListParams::default().labels(&labels);
            let names: Vec<String> = if kind == CLONESET {
                let api: Api<crate::api::cloneset::CloneSet> =
                    Api::namespaced(kube.client.clone(), &kube.namespace);
                api.list_metadata(&lp)
                    .await
                    .map(|l| l.items.iter().map(|m| m.name_any()).collect())
            } else {
                let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
                api.list_metadata(&lp)
                    .await
                    .map(|l| l.items.iter().map(|m| m.name_any()).collect())
            }
            .map_err(|e| from_kube(e, &kube.server, None))?;
            if names.is_empty() {
                output::note(&format!(
                    "No resources found in {} namespace.",
                    kube.namespace
                ));
            }
            Ok(names.into_iter().map(|n| (kind, n)).collect())
        }
    }
}

/// The common start of every subcommand: check the arguments (before any request), connect,
/// and list the targets.
async fn prepare(
    global: &GlobalArgs,
    target: &Resources,
    command: &str,
    output: Option<&OutputArgs>,
) -> Result<(Kube, Vec<(Kind, String)>)> {
    let sel = selection(target, command)?;
    if let Some(o) = output {
        check_output(
            o,
            &[OutputFormat::Json, OutputFormat::Yaml, OutputFormat::Name],
        )?;
    }
    let kube = connect(global).await?;
    let targets = names(&kube, sel).await?;
    Ok((kube, targets))
}

pub(crate) fn check_output(o: &OutputArgs, allowed: &[OutputFormat]) -> Result<()> {
    match o.output {
        Some(f) if !allowed.contains(&f) => Err(Error::usage(format!(
            "-o {} is not supported here; use one of: {}",
            format!("{f:?}").to_lowercase(),
            allowed
                .iter()
                .map(|f| format!("{f:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn dry_suffix(d: DryRun) -> &'static str {
    match d {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    }
}

/// Runs `each` on every target, printing errors as they come; the first error decides the exit.
pub(crate) async fn for_each<F, Fut>(targets: Vec<(Kind, String)>, mut each: F) -> Result<()>
where
    F: FnMut(Kind, String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let many = targets.len() > 1;
    let mut first: Option<Error> = None;
    for (k, n) in targets {
        match each(k, n).await {
            Ok(()) => {}
            Err(Error::BrokenPipe) => return Err(Error::BrokenPipe),
            Err(e) if many => {
                output::note(&format!("error: {e}"));
                first.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match first {
        // Already printed: exit with its code, without printing it again.
        Some(e) => Err(Error::Reported(e.exit_code())),
        None => Ok(()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Pause,
    Resume,
    Restart,
}

impl Verb {
    fn done(self) -> &'static str {
        match self {
            Verb::Pause => "paused",
            Verb::Resume => "resumed",
            Verb::Restart => "restarted",
        }
    }
}

pub(crate) fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

async fn mutate(global: &GlobalArgs, a: &MutateArgs, verb: Verb) -> Result<()> {
    let cmd = format!(
        "rollout {}",
        match verb {
            Verb::Pause => "pause",
            Verb::Resume => "resume",
            Verb::Restart => "restart",
        }
    );
    let (kube, targets) = prepare(global, &a.target, &cmd, Some(&a.output)).await?;
    let now = now_rfc3339();
    for_each(targets, |kind, name| {
        let kube = kube.clone();
        let now = now.clone();
        async move {
            if kind == CLONESET {
                return cloneset::mutate(&kube, &name, a, verb).await;
            }
            let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
            let resource = kind.resource();
            let target = Target {
                resource: &resource,
                name: &name,
                namespace: &kube.namespace,
            };
            let outcome = guarded(
                &api,
                None,
                &target,
                &kube.server,
                a.write.dry_run,
                &a.write.field_manager,
                |d| {
                    let patch = match verb {
                        Verb::Pause => deployment::pause_patch(d),
                        Verb::Resume => deployment::resume_patch(d),
                        Verb::Restart => deployment::restart_patch(d, &now),
                    }
                    .map_err(|e| Error::other(format!("{resource} \"{name}\" {e}")))?;
                    Ok(Some(Change::Merge(patch)))
                },
            )
            .await?;
            print_result(
                kind,
                &name,
                outcome.object(),
                verb.done(),
                a.write.dry_run,
                a.output.output,
            )
        }
    })
    .await
}

fn print_result(
    kind: Kind,
    name: &str,
    obj: &Deployment,
    done: &str,
    dry: DryRun,
    fmt: Option<OutputFormat>,
) -> Result<()> {
    match fmt {
        Some(OutputFormat::Name) => output::outln(&format!("{}/{}", kind.name_prefix(), name)),
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(std::slice::from_ref(obj), f)
        }
        _ => output::outln(&format!(
            "{}/{} {done}{}",
            kind.name_prefix(),
            name,
            dry_suffix(dry)
        )),
    }
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

pub(crate) async fn get_deployment(kube: &Kube, kind: Kind, name: &str) -> Result<Deployment> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let resource = kind.resource();
    let target = Target {
        resource: &resource,
        name,
        namespace: &kube.namespace,
    };
    api.get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target)))
}

async fn history(global: &GlobalArgs, a: &HistoryArgs) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, "rollout history", Some(&a.output)).await?;
    for_each(targets, |kind, name| {
        let kube = kube.clone();
        async move {
            if kind == CLONESET {
                return cloneset::history(&kube, &name, a).await;
            }
            let d = get_deployment(&kube, kind, &name).await?;
            let rss = owned_replicasets(&kube, &d).await?;
            let owned = deployment::owned(&d, &rss);
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
            match a.output.output {
                Some(OutputFormat::Name) => {
                    for rs in picked {
                        output::outln(&format!("replicaset.apps/{}", rs.name_any()))?;
                    }
                    Ok(())
                }
                Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                    output::print_objects(&picked, f)
                }
                _ if a.revision > 0 => {
                    let rs = picked[0];
                    let template = rs
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.clone())
                        .unwrap_or_default();
                    output::outln(&format!(
                        "{}/{name} with revision #{}",
                        kind.name_prefix(),
                        a.revision
                    ))?;
                    output::outln("Pod Template:")?;
                    let yaml = serde_saphyr::to_string(
                        &serde_json::to_value(&template).unwrap_or_default(),
                    )
                    .map_err(|e| Error::other(e.to_string()))?;
                    output::out(&indent(&yaml, "  "))
                }
                _ => {
                    output::outln(&format!("{}/{name}", kind.name_prefix()))?;
                    let mut t =
                        KubeTable::new(&["revision", "change-cause"], !a.output.no_headers).gap(2);
                    for (rev, cause) in deployment::history(&d, &rss) {
                        t.row([rev.to_string(), cause]);
                    }
                    output::out(&t.render())
                }
            }
        }
    })
    .await
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

async fn undo(global: &GlobalArgs, a: &UndoArgs) -> Result<()> {
    if a.to_revision < 0 {
        return Err(Error::usage(format!(
            "--to-revision must be 0 (previous) or a revision number, not {}",
            a.to_revision
        )));
    }
    let (kube, targets) = prepare(global, &a.target, "rollout undo", Some(&a.output)).await?;
    for_each(targets, |kind, name| {
        let kube = kube.clone();
        async move {
            if kind == CLONESET {
                return cloneset::undo(&kube, &name, a).await;
            }
            let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
            let resource = kind.resource();
            let target = Target {
                resource: &resource,
                name: &name,
                namespace: &kube.namespace,
            };
            let d = get_deployment(&kube, kind, &name).await?;
            let rss = owned_replicasets(&kube, &d).await?;
            let rs = deployment::rollback_target(&d, &rss, a.to_revision)?.clone();
            let rev = deployment::revision_of(&rs).unwrap_or(0);
            let outcome = guarded(
                &api,
                Some(d),
                &target,
                &kube.server,
                a.write.dry_run,
                &a.write.field_manager,
                |cur| {
                    Ok(deployment::undo_patch(cur, &rs)
                        .map_err(|e| Error::other(format!("{resource} \"{name}\": {e}")))?
                        .map(Change::Json))
                },
            )
            .await?;
            match outcome {
                Outcome::Unchanged(_) => output::outln(&format!(
                    "{}/{name} skipped rollback (current template already matches revision {rev})",
                    kind.name_prefix()
                )),
                Outcome::Changed(obj) => print_result(
                    kind,
                    &name,
                    &obj,
                    "rolled back",
                    a.write.dry_run,
                    a.output.output,
                ),
            }
        }
    })
    .await
}

async fn status(global: &GlobalArgs, a: &StatusArgs) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, "rollout status", None).await?;
    for (kind, name) in targets {
        if kind == CLONESET {
            cloneset::status(&kube, &name, a).await?;
        } else {
            watch_status(&kube, kind, &name, a).await?;
        }
    }
    Ok(())
}

/// Watches one Deployment until its rollout completes (exit 0), fails (4) or `--timeout`
/// passes (3). On a terminal a bar shows updated / ready / available; otherwise each new
/// status line is printed once.
async fn watch_status(kube: &Kube, kind: Kind, name: &str, a: &StatusArgs) -> Result<()> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let first = get_deployment(kube, kind, name).await?;
    let (line, done) = deployment::status(&first, a.revision)?;
    if done || !a.watch {
        return output::outln(&line);
    }
    if a.until_paused && deployment::paused(&first) {
        return output::outln(&format!("deployment \"{name}\" is paused: {line}"));
    }
    let bar = progress::bar(
        deployment::progress(&first).0.max(0) as u64,
        &format!("{}/{name}", kind.name_prefix()),
    );
    let mut last_line = String::new();
    let mut show = |d: &Deployment, line: &str| -> Result<()> {
        match &bar {
            Some(pb) => {
                let (want, updated, ready, available) = deployment::progress(d);
                pb.set_length(want.max(0) as u64);
                pb.set_position(updated.max(0) as u64);
                pb.set_message(format!("updated, {ready} ready, {available} available"));
                Ok(())
            }
            None if line != last_line => {
                last_line = line.to_string();
                output::outln(line)
            }
            None => Ok(()),
        }
    };
    show(&first, &line)?;
    let stream = kube::runtime::watcher::watch_object(api, name);
    futures::pin_mut!(stream);
    let watch = async {
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(Some(d)) => {
                    let (line, done) = deployment::status(&d, a.revision)?;
                    if done {
                        return Ok(line);
                    }
                    if a.until_paused && deployment::paused(&d) {
                        return Ok(format!("deployment \"{name}\" is paused: {line}"));
                    }
                    show(&d, &line)?;
                }
                Ok(None) => {
                    return Err(Error::other(format!(
                        "deployment \"{name}\" was deleted while waiting for its rollout"
                    )));
                }
                Err(e) => tracing::warn!("watch of deployment {name} interrupted ({e}); resuming"),
            }
        }
        Err(Error::other("the watch ended unexpectedly"))
    };
    let result = if a.timeout.is_zero() {
        watch.await
    } else {
        match tokio::time::timeout(a.timeout, watch).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout(format!(
                "timed out after {} waiting for the rollout of deployment \"{name}\" to finish",
                humanize(a.timeout)
            ))),
        }
    };
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    output::outln(&result?)
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if d.subsec_millis() == 0 {
        format!("{s}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
