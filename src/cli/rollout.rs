use clap::{Args, Subcommand};

use super::drive::DriveArgs;
use super::{OutputArgs, TableOutputArgs, WriteArgs};

#[derive(Subcommand, Debug)]
pub enum RolloutCommand {
    /// Approve the step a Kruise Rollout waits at (StepPaused), so the release goes on
    #[command(
        long_about = "Approve the step a Kruise Rollout waits at, so the release goes on to the next step.\n\n\
Only a Rollout whose current step is StepPaused can be approved; anything else is an error (exit 1) and \
nothing is written. The approval is one status write guarded by the resourceVersion it was decided on: of \
two approvals at once, one succeeds and the other says the step was already approved. Without the Kruise \
Rollout operator, the embedded Rollout controller then drives the release to its next resting point.",
        after_help = "Examples:\n  kubectl kruise rollout approve rollout/web\n  kubectl kruise rollout approve ro/web -n prod --no-wait"
    )]
    Approve(MutateArgs),
    /// Pause a rollout: the controller stops updating pods until resumed
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout pause cloneset/web\n  kubectl kruise rollout pause asts/db -n prod        # an Advanced StatefulSet\n  kubectl kruise rollout pause deploy web api -n prod\n  kubectl kruise rollout pause rollout/web      # spec.strategy.paused: the release stops where it is"
    )]
    Pause(PauseArgs),
    /// Resume a paused rollout
    #[command(
        long_about = "Resume a paused rollout.\n\nOn a Kruise Rollout this clears spec.strategy.paused; it does not approve a step that waits \
for approval (StepPaused): that is `kubectl kruise rollout approve rollout/NAME`.",
        after_help = "Examples:\n  kubectl kruise rollout resume cloneset/web\n  kubectl kruise rollout resume ads/log-agent     # an Advanced DaemonSet\n  kubectl kruise rollout resume deployment/api\n  kubectl kruise rollout resume rollout/web"
    )]
    Resume(MutateArgs),
    /// Restart every pod of a workload through a new rollout
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout restart cloneset/web\n  kubectl kruise rollout restart asts/db\n  kubectl kruise rollout restart deployment -l app=web"
    )]
    Restart(MutateArgs),
    /// Show the status of a rollout, and watch it until it completes
    #[command(
        after_help = "Exit codes: 0 complete (or paused, with --until-paused), 1 error, 3 --timeout reached, 4 failed (progress deadline exceeded; a Kruise Rollout release that failed or was cancelled, or whose new pod cannot start), 5 paused with updates pending (CloneSet, or a Kruise Rollout waiting for approval or paused; --watch=false; watching waits for `rollout resume` or `rollout approve` unless --until-paused).\n\nExamples:\n  kubectl kruise rollout status cloneset/web\n  kubectl kruise rollout status asts/db --timeout 5m\n  kubectl kruise rollout status deployment/api --watch=false\n  kubectl kruise rollout status rollout/web --until-paused   # returns when a step waits for approval"
    )]
    Status(StatusArgs),
    /// Show the revisions of a workload
    #[command(
        after_help = "Examples:\n  kubectl kruise rollout history cloneset/web\n  kubectl kruise rollout history cloneset/web --revision 2\n  kubectl kruise rollout history asts/db -o yaml\n  kubectl kruise rollout history deployment/api\n  kubectl kruise rollout history rollout/web   # its workload's revisions"
    )]
    History(HistoryArgs),
    /// Roll back to a previous revision
    #[command(
        long_about = "Roll back to a previous revision.\n\nOn a Kruise Rollout (rollout/NAME) this rolls back the workload it releases (a release in \
progress is then cancelled); with --fast it goes back instead to the latest earlier step that has no traffic \
and the most replicas (the Rollout's nextStepIndex), keeping the new revision.",
        after_help = "Examples:\n  kubectl kruise rollout undo cloneset/web\n  kubectl kruise rollout undo cloneset/web --to-revision 2\n  kubectl kruise rollout undo asts/db --dry-run=client\n  kubectl kruise rollout undo deployment/api\n  kubectl kruise rollout undo rollout/web --yes   # mid-release: cancels it (asked first on a terminal)\n  kubectl kruise rollout undo rollout/web --fast"
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
    /// Watching, stop (exit 0) once the object is paused (a Kruise Rollout: at a step's pause)
    /// instead of waiting for it to be resumed and rolled out
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
    /// Kruise Rollout only: go back to the latest earlier step with no traffic and the most
    /// replicas instead of rolling the workload back
    #[arg(long = "fast", conflicts_with = "to_revision")]
    pub fast: bool,
    #[command(flatten)]
    pub drive: DriveArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
