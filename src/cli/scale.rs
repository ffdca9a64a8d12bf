use clap::Args;

use super::drive::DriveArgs;
use super::rollout::Resources;
use super::{OutputArgs, WriteArgs};

#[derive(Args, Debug)]
#[command(
    after_help = "CloneSet: --delete-pod names pods to remove first; replicas and scaleStrategy.podsToDelete are \
written in one guarded update, so `--replicas 4 --delete-pod web-x` removes exactly web-x.\n\
Deployment: the named pods get a negative controller.kubernetes.io/pod-deletion-cost, so they go first.\n\n\
Examples:\n  kubectl kruise scale cloneset/web --replicas 5\n  kubectl kruise scale cloneset/web --replicas 4 --delete-pod web-4x7kp\n  kubectl kruise scale deployment/api --replicas 2 --delete-pod api-7d9c-xk2lp\n  kubectl kruise scale cloneset/web --replicas 10 --dry-run=client"
)]
pub struct ScaleArgs {
    #[command(flatten)]
    pub target: Resources,
    /// The new number of replicas (≥ 0)
    #[arg(long, value_name = "N", allow_hyphen_values = true, required = true)]
    pub replicas: i64,
    /// Pods to delete first (repeat or comma-separate)
    #[arg(long = "delete-pod", value_name = "POD", value_delimiter = ',')]
    pub delete_pod: Vec<String>,
    #[command(flatten)]
    pub drive: DriveArgs,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
