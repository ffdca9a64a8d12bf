//! `kubectl kruise rollout …`. Each subcommand resolves its targets with no discovery request,
//! acts on each in turn through its [`Workload`] (an error on one does not stop the others; the
//! exit code reports it), and prints kubectl's lines or the objects (`-o json|yaml|name`).

use crate::cli::rollout::{
    HistoryArgs, MutateArgs, Resources, RolloutCommand, StatusArgs, UndoArgs,
};
use crate::cli::{DriveArgs, GlobalArgs, OutputFormat};
use crate::client::Kube;
use crate::client::kinds::Kind;
use crate::cmd::common::connect;
use crate::cmd::common::{WRITTEN_FORMATS, check_output, for_each, names, selection};
use crate::cmd::drive::{self, Drive, Outcome, Wait};
use crate::cmd::workload::{self, Cx, Driver, Phase, Verb};
use crate::error::{Error, Result};
use crate::output;

pub async fn run(global: &GlobalArgs, cmd: &RolloutCommand) -> Result<()> {
    match cmd {
        RolloutCommand::Pause(a) => {
            let m = a.as_mutate();
            change(global, &m, Verb::Pause, None).await
        }
        RolloutCommand::Resume(a) => change(global, a, Verb::Resume, Some(&a.drive)).await,
        RolloutCommand::Restart(a) => change(global, a, Verb::Restart, Some(&a.drive)).await,
        RolloutCommand::Status(a) => status(global, a).await,
        RolloutCommand::History(a) => history(global, a).await,
        RolloutCommand::Undo(a) => undo(global, a).await,
    }
}

/// The common start of every subcommand: check the arguments (before any request), connect,
/// and list the targets.
async fn prepare(
    global: &GlobalArgs,
    target: &Resources,
    verb: Verb,
    output: Option<Option<OutputFormat>>,
) -> Result<(Kube, Vec<(Kind, String)>)> {
    let command = format!("rollout {}", format!("{verb:?}").to_lowercase());
    let sel = selection(target, &command, verb)?;
    if let Some(o) = output {
        check_output(o, WRITTEN_FORMATS)?;
    }
    let kube = connect(global).await?;
    let targets = names(&kube, sel).await?;
    Ok((kube, targets))
}

/// Pause, resume, restart.
async fn change(
    global: &GlobalArgs,
    a: &MutateArgs,
    verb: Verb,
    drive: Option<&DriveArgs>,
) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, verb, Some(a.output.output)).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    for_each(targets, |kind, name| {
        let cx = &cx;
        async move {
            let w = workload::of(kind);
            let written = w.rollout(cx, &name, verb).await?;
            drive::finish(cx, w, &name, written, drive.map(Drive::from)).await
        }
    })
    .await
}

async fn undo(global: &GlobalArgs, a: &UndoArgs) -> Result<()> {
    if a.to_revision < 0 {
        return Err(Error::usage(format!(
            "--to-revision must be 0 (previous) or a revision number, not {}",
            a.to_revision
        )));
    }
    let (kube, targets) = prepare(global, &a.target, Verb::Undo, Some(a.output.output)).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    for_each(targets, |kind, name| {
        let cx = &cx;
        async move {
            let w = workload::of(kind);
            let written = w.undo(cx, &name, a.to_revision).await?;
            drive::finish(cx, w, &name, written, Some(Drive::from(&a.drive))).await
        }
    })
    .await
}

async fn history(global: &GlobalArgs, a: &HistoryArgs) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, Verb::History, Some(a.output.output)).await?;
    for_each(targets, |kind, name| {
        let kube = &kube;
        async move { workload::of(kind).history(kube, &name, a).await }
    })
    .await
}

/// Print the status; with `-w` (the default) watch until it completes (0), fails (4), or the
/// timeout passes (3). Paused is not rolled out: `--watch=false` exits 5, watching waits for a
/// resume unless `--until-paused`.
async fn status(global: &GlobalArgs, a: &StatusArgs) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, Verb::Status, None).await?;
    for (kind, name) in targets {
        let w = workload::of(kind);
        let o = w.observe(&kube, &name, a.revision).await?;
        match o.phase {
            Phase::Failed => return Err(Error::Failed(o.line)),
            Phase::Paused if !a.watch => return Err(Error::Paused(o.line)),
            Phase::Paused if a.until_paused => {
                output::outln(&o.line)?;
                continue;
            }
            Phase::Complete => {
                output::outln(&o.line)?;
                continue;
            }
            _ if !a.watch => {
                output::outln(&o.line)?;
                continue;
            }
            _ => {}
        }
        if let Driver::Nobody = w.driver(&kube).await {
            output::note(&format!(
                "note: no controller reconciles {} \"{name}\": run `kubectl kruise controller run -n {}` in another terminal",
                kind.singular(),
                kube.namespace
            ));
        }
        let wait = Wait {
            timeout: a.timeout,
            outcome: Outcome::Stdout,
            until_paused: a.until_paused,
            revision: a.revision,
        };
        drive::watch(&kube, w, &name, wait).await?;
    }
    Ok(())
}
