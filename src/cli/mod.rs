//! The command tree (clap definitions only). What each command does lives in the `cmd` module.

pub mod completion;
pub mod controller;
pub mod crds;
pub mod drive;
pub mod get;
pub mod global;
pub mod rollout;
pub mod scale;
pub mod set;
pub mod version;

use clap::{Parser, Subcommand};

pub use drive::DriveArgs;
pub use global::{
    DryRun, GlobalArgs, OutputArgs, OutputFormat, ReportFormat, TableOutputArgs, WriteArgs,
};

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-kruise",
    bin_name = "kubectl kruise",
    version = crate::VERSION,
    about = "Manage OpenKruise workloads and Kruise Rollout releases",
    long_about = "kubectl kruise manages OpenKruise workloads and Kruise Rollout releases with the flags and \
habits of kubectl. Where no OpenKruise operator is installed, its embedded controller performs the same \
reconciliation from the terminal.",
    after_help = "Examples:
  kubectl kruise set image cloneset/web nginx=nginx:1.27 --inplace   # in place, pods kept
  kubectl kruise rollout status cloneset/web
  kubectl kruise get cloneset/web -w                                 # revisions and pods, redrawn
  kubectl kruise scale cloneset/web --replicas 4 --delete-pod web-4x7kp
  kubectl kruise rollout approve rollout/web                         # a Kruise Rollout's next step
  kubectl kruise rollout undo asts/db
  kubectl kruise crds install && kubectl kruise controller run -n default   # no operator here

Exit codes: 0 ok, 1 error, 2 usage, 3 timeout, 4 release failed or degraded, 5 paused.",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the client and server versions, and which Kruise operators and CRDs the cluster has
    Version(version::VersionArgs),
    /// Manage the rollout of a workload or a Kruise Rollout: approve, pause, resume, restart,
    /// status, history, undo
    #[command(
        subcommand,
        after_help = "Examples:
  kubectl kruise rollout status cloneset/web          # CloneSet (cs), in place or recreate
  kubectl kruise rollout pause asts/db                # Advanced StatefulSet (asts)
  kubectl kruise rollout history ads/log-agent        # Advanced DaemonSet (ads)
  kubectl kruise rollout undo deployment/api          # Deployments, StatefulSets, DaemonSets too
  kubectl kruise rollout approve rollout/web          # a Kruise Rollout waiting at a step
  kubectl kruise rollout status rollout/web --until-paused"
    )]
    Rollout(rollout::RolloutCommand),
    /// Install, inspect and compare the Kruise CRDs (for clusters without the operator)
    #[command(
        subcommand,
        after_help = "Examples:
  kubectl kruise crds status                 # which Kruise CRDs the cluster has, and who installed them
  kubectl kruise crds install
  kubectl kruise crds diff                   # ours against the cluster's
  kubectl kruise crds print > kruise-crds.yaml"
    )]
    Crds(crds::CrdsCommand),
    /// Show an object as a tree: workload → revisions → pods, or Rollout → steps → pods
    Get(get::GetArgs),
    /// Show an object's tree with its conditions and latest events
    Describe(get::DescribeArgs),
    /// Set the number of replicas, deleting chosen pods first
    Scale(scale::ScaleArgs),
    /// Change a workload: images (in place for CloneSet)
    #[command(
        subcommand,
        after_help = "Examples:
  kubectl kruise set image cloneset/web nginx=nginx:1.27 --inplace
  kubectl kruise set image asts/db db=postgres:17
  kubectl kruise set image deployment/api app=api:v2   # released by its Kruise Rollout, if one names it"
    )]
    Set(set::SetCommand),
    /// Run the embedded controllers (CloneSet, Advanced StatefulSet and DaemonSet, Kruise
    /// Rollout) for clusters without the operator
    #[command(
        subcommand,
        after_help = "Examples:
  kubectl kruise controller run -n default
  kubectl kruise controller run -A --controllers cloneset,statefulset"
    )]
    Controller(controller::ControllerCommand),
    /// Write the shell completion script (bash, zsh, fish, powershell)
    Completion(completion::CompletionArgs),
}
