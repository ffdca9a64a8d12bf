use clap::{Args, Subcommand};

use super::drive::DriveArgs;
use super::{OutputArgs, WriteArgs};

#[derive(Subcommand, Debug)]
pub enum SetCommand {
    /// Update container images of a workload, in place with --inplace
    #[command(
        after_help = "--inplace (CloneSet) makes sure the update is done in place: it sets updateStrategy.type \
InPlaceIfPossible when the CloneSet recreates pods, and refuses when the change cannot be done in place.\n\n\
Examples:\n  kubectl kruise set image cloneset/web nginx=nginx:1.27 --inplace\n  kubectl kruise set image cloneset/web nginx=nginx:1.27 --dry-run=client\n  kubectl kruise set image deployment/api app=api:v2"
    )]
    Image(ImageArgs),
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// TYPE/NAME (or TYPE NAME), then CONTAINER=IMAGE pairs
    #[arg(value_name = "RESOURCE CONTAINER=IMAGE", required = true, num_args = 1..)]
    pub args: Vec<String>,
    /// Update the pods in place (CloneSet)
    #[arg(long)]
    pub inplace: bool,
    #[command(flatten)]
    pub drive: DriveArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
