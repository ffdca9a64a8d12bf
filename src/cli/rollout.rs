use clap::{Args, Subcommand};

use super::drive::DriveArgs;
use super::{OutputArgs, TableOutputArgs, WriteArgs};

#[derive(Subcommand, Debug)]
pub enum RolloutCommand {
    /// Pause a rollout: the controller stops updating pods until resumed
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout pause deployment/web\n  kubectl kruise rollout pause deploy web api -n prod"
    )]
    Pause(PauseArgs),
    /// Resume a paused rollout
    #[command(after_help = "Examples:\n  kubectl kruise rollout resume deployment/web")]
    Resume(MutateArgs),
    /// Restart every pod of a workload through a new rollout
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout restart deployment/web\n  kubectl kruise rollout restart deployment -l app=web"
    )]
    Restart(MutateArgs),
    /// Show the status of a rollout, and watch it until it completes
    #[command(
        after_help = "Exit codes: 0 complete (or paused, with --until-paused), 1 error, 3 --timeout reached, 4 failed (progress deadline exceeded), 5 paused with updates pending (CloneSet, --watch=false; watching waits for `rollout resume` unless --until-paused).\n\nExamples:\n  kubectl kruise rollout status deployment/web\n  kubectl kruise rollout status deployment/web --timeout 5m\n  kubectl kruise rollout status deployment/web --watch=false"
    )]
    Status(StatusArgs),
    /// Show the revisions of a workload
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout history deployment/web\n  kubectl kruise rollout history deployment/web --revision 2\n  kubectl kruise rollout history deployment/web -o yaml"
    )]
    History(HistoryArgs),
    /// Roll back to a previous revision
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout undo deployment/web\n  kubectl kruise rollout undo deployment/web --to-revision 2\n  kubectl kruise rollout undo deployment/web --dry-run=client"
    )]
    Undo(UndoArgs),
}

/// Resources: `TYPE/NAME …`, `TYPE NAME …`, or `TYPE -l SELECTOR`.
#[derive(Args, Debug, Clone)]
pub struct Resources {
    /// TYPE/NAME …, or TYPE NAME …
    #[arg(value_name = "RESOURCE", required = true)]
    pub resources: Vec<String>,
    /// Label selector (e.g. app=web,tier!=cache) instead of names
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
}

/// `rollout pause` writes and returns: nothing to drive or wait for.
#[derive(Args, Debug)]
pub struct PauseArgs {
    #[command(flatten)]
    pub target: Resources,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl PauseArgs {
    /// The same write as resume and restart, with nothing to drive.
    pub fn as_mutate(&self) -> MutateArgs {
        MutateArgs {
            target: self.target.clone(),
            drive: DriveArgs::default(),
            write: self.write.clone(),
            output: self.output.clone(),
        }
    }
}

#[derive(Args, Debug)]
pub struct MutateArgs {
    #[command(flatten)]
    pub target: Resources,
    #[command(flatten)]
    pub drive: DriveArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: Resources,
    /// Watch until the rollout completes (--watch=false prints the status once)
    #[arg(short = 'w', long = "watch", default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub watch: bool,
    /// Watching, stop (exit 0) once the object is paused instead of waiting for it to be
    /// resumed and rolled out
    #[arg(long = "until-paused")]
    pub until_paused: bool,
    /// Wait for this revision to be the one rolled out (Deployment)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub revision: i64,
    /// Give up after this long (e.g. 5m); 0 waits forever
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = crate::cli::global::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub target: Resources,
    /// Show the pod template of this revision
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub revision: i64,
    #[command(flatten)]
    pub output: TableOutputArgs,
}

#[derive(Args, Debug)]
pub struct UndoArgs {
    #[command(flatten)]
    pub target: Resources,
    /// The revision to roll back to; 0 is the previous one
    #[arg(long = "to-revision", value_name = "N", default_value_t = 0)]
    pub to_revision: i64,
    #[command(flatten)]
    pub drive: DriveArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
