//! The command tree (clap definitions only). What each command does lives in the `cmd` module.

pub mod completion;
pub mod controller;
pub mod crds;
pub mod drive;
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
    after_help = "Exit codes: 0 ok, 1 error, 2 usage, 3 timeout, 4 release failed or degraded.",
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
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// Install, inspect and compare the Kruise CRDs (for clusters without the operator)
    #[command(subcommand)]
    Crds(crds::CrdsCommand),
    /// Set the number of replicas, deleting chosen pods first
    Scale(scale::ScaleArgs),
    /// Change a workload: images (in place for CloneSet)
    #[command(subcommand)]
    Set(set::SetCommand),
    /// Run the embedded controllers (CloneSet) for clusters without the operator
    #[command(subcommand)]
    Controller(controller::ControllerCommand),
    /// Write the shell completion script (bash, zsh, fish, powershell)
    Completion(completion::CompletionArgs),
}
