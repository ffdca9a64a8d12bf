//! `kubectl kruise rollout …`. Each subcommand resolves its targets with no discovery request,
//! acts on each in turn through its [`Workload`] (an error on one does not stop the others; the
//! exit code reports it), and prints kubectl's lines or the objects (`-o json|yaml|name`).
//! Targets that are Kruise Rollouts (`rollout/NAME`) go to [`rollout_cr`].

use crate::cli::rollout::{
    HistoryArgs, MutateArgs, Resources, RolloutCommand, StatusArgs, UndoArgs,
};
use crate::cli::{DriveArgs, GlobalArgs, OutputFormat};
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::resolve::{self, Selection};
use crate::cmd::common::connect;
use crate::cmd::common::{WRITTEN_FORMATS, check_output, for_each, names};
use crate::cmd::drive::{self, Drive, Outcome, Wait};
use crate::cmd::rollout_cr;
use crate::cmd::workload::{self, Cx, Driver, Phase, Verb};
use crate::error::{Error, Result};
use crate::output;

pub async fn run(global: &GlobalArgs, cmd: &RolloutCommand) -> Result<()> {
    match cmd {
        RolloutCommand::Approve(a) => approve(global, a).await,
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

/// The kinds the arguments name (no request).
fn kinds_of(target: &Resources) -> Result<Vec<Kind>> {
    Ok(
        match resolve::parse(&target.resources, target.selector.as_deref())? {
            Selection::Named(v) => v.into_iter().map(|(k, _)| k).collect(),
            Selection::Selector(k, _) => vec![k],
        },
    )
}

/// What a subcommand takes: `verb` on workloads, and Kruise Rollouts unless it is `restart`.
/// `None` is `approve`, which only Rollouts take.
fn check(sel: &Selection, command: &str, verb: Option<Verb>) -> Result<()> {
    let kinds: Vec<Kind> = match sel {
        Selection::Named(v) => v.iter().map(|(k, _)| *k).collect(),
        Selection::Selector(k, _) => vec![*k],
    };
    let Some(verb) = verb else {
        return match kinds.iter().find(|k| !rollout_cr::is_rollout(**k)) {
            Some(k) => Err(Error::usage(format!(
                "approving is not supported for {}; only rollout/NAME (a Kruise Rollout) can be approved",
                k.resource()
            ))),
            None => Ok(()),
        };
    };
    let mut supported = workload::supporting(verb);
    if verb != Verb::Restart {
        supported.push(kinds::ROLLOUT);
    }
    resolve::check_kinds(sel, command, &supported)
}

/// The common start of every subcommand: check the arguments (before any request), connect,
/// and list the targets.
async fn prepare(
    global: &GlobalArgs,
    target: &Resources,
    verb: Option<Verb>,
    output: Option<Option<OutputFormat>>,
) -> Result<(Kube, Vec<(Kind, String)>)> {
    let command = match verb {
        Some(v) => format!("rollout {}", format!("{v:?}").to_lowercase()),
        None => "rollout approve".into(),
    };
    let sel = resolve::parse(&target.resources, target.selector.as_deref())?;
    check(&sel, &command, verb)?;
    if let Some(o) = output {
        check_output(o, WRITTEN_FORMATS)?;
    }
    let kube = connect(global).await?;
    let targets = match sel {
        Selection::Selector(kind, labels) if rollout_cr::is_rollout(kind) => {
            let n = rollout_cr::names(&kube, &labels).await?;
            if n.is_empty() {
                output::note(&format!(
                    "No resources found in {} namespace.",
                    kube.namespace
                ));
            }
            n.into_iter().map(|n| (kind, n)).collect()
        }
        sel => names(&kube, sel).await?,
    };
    Ok((kube, targets))
}

/// `rollout approve rollout/NAME …`.
async fn approve(global: &GlobalArgs, a: &MutateArgs) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, None, Some(a.output.output)).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    for_each(targets, |_, name| {
        let cx = &cx;
        async move {
            let written = rollout_cr::approve::approve(cx, &name).await?;
            let after = rollout_cr::after_write(&written);
            if rollout_cr::print_written(cx, &name, written)? {
                return rollout_cr::drive(cx.kube, &name, Drive::from(&a.drive), after).await;
            }
            Ok(())
        }
    })
    .await
}

/// Pause, resume, restart.
async fn change(
    global: &GlobalArgs,
    a: &MutateArgs,
    verb: Verb,
    drive: Option<&DriveArgs>,
) -> Result<()> {
    let (kube, targets) = prepare(global, &a.target, Some(verb), Some(a.output.output)).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    for_each(targets, |kind, name| {
        let cx = &cx;
        async move {
            if rollout_cr::is_rollout(kind) {
                return rollout_cr::change(cx, &name, verb, drive.map(Drive::from)).await;
            }
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
    if a.fast
        && let Some(k) = kinds_of(&a.target)?
            .into_iter()
            .find(|k| !rollout_cr::is_rollout(*k))
    {
        return Err(Error::usage(format!(
            "--fast goes back to an earlier step of a Kruise Rollout (rollout/NAME); {} has no steps: drop --fast",
            k.resource()
        )));
    }
    let (kube, targets) =
        prepare(global, &a.target, Some(Verb::Undo), Some(a.output.output)).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    // A workload named directly is rolled back once, not again through its Rollout.
    let named: Vec<(Kind, String)> = targets
        .iter()
        .filter(|(k, _)| !rollout_cr::is_rollout(*k))
        .cloned()
        .collect();
    let done = std::sync::Mutex::new(named.clone());
    for_each(targets, |kind, name| {
        let (cx, done, named) = (&cx, &done, &named);
        async move {
            if rollout_cr::is_rollout(kind) {
                let d = Drive::from(&a.drive);
                if a.fast {
                    let written = rollout_cr::approve::fast_undo(cx, &name).await?;
                    let after = rollout_cr::after_write(&written);
                    if rollout_cr::print_written(cx, &name, written)? {
                        return rollout_cr::drive(cx.kube, &name, d, after).await;
                    }
                    return Ok(());
                }
                let ro = rollout_cr::get(cx.kube, &name).await?;
                let w = rollout_cr::workload_of(&ro)?;
                let first = {
                    let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
                    let seen = done.contains(&w);
                    if !seen {
                        done.push(w.clone());
                    }
                    !seen
                };
                if !first {
                    let how = if named.contains(&w) {
                        "named on the command line"
                    } else {
                        "released by another Rollout given"
                    };
                    output::note(&format!(
                        "rollout \"{name}\": {}/{} is {how}; rolled back once",
                        w.0.singular(),
                        w.1
                    ));
                    return Ok(());
                }
                return rollout_cr::undo(cx, &name, a.to_revision, d, global.yes).await;
            }
            let w = workload::of(kind);
            let written = w.undo(cx, &name, a.to_revision).await?;
            drive::finish(cx, w, &name, written, Some(Drive::from(&a.drive))).await
        }
    })
    .await
}

async fn history(global: &GlobalArgs, a: &HistoryArgs) -> Result<()> {
    let (kube, targets) = prepare(
        global,
        &a.target,
        Some(Verb::History),
        Some(a.output.output),
    )
    .await?;
    for_each(targets, |kind, name| {
        let kube = &kube;
        async move {
            if rollout_cr::is_rollout(kind) {
                return rollout_cr::history(kube, &name, a).await;
            }
            workload::of(kind).history(kube, &name, a).await
        }
    })
    .await
}

/// Print the status; with `-w` (the default) watch until it completes (0), fails (4), or the
/// timeout passes (3). Paused is not rolled out: `--watch=false` exits 5, watching waits for a
/// resume unless `--until-paused`.
async fn status(global: &GlobalArgs, a: &StatusArgs) -> Result<()> {
    if a.revision > 0 && kinds_of(&a.target)?.into_iter().any(rollout_cr::is_rollout) {
        return Err(Error::usage(
            "--revision waits for a workload's revision; a Rollout has none: drop it for rollout/NAME",
        ));
    }
    let (kube, targets) = prepare(global, &a.target, Some(Verb::Status), None).await?;
    for (kind, name) in targets {
        if rollout_cr::is_rollout(kind) {
            rollout_cr::status::status(&kube, &name, a.watch, a.until_paused, a.timeout).await?;
            continue;
        }
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
