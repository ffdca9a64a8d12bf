use clap::Args;

use super::OutputArgs;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  kubectl kruise version\n  kubectl kruise version --client\n  kubectl kruise version -o json"
)]
pub struct VersionArgs {
    /// Print the client version only (no request to the cluster)
    #[arg(long)]
    pub client: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}
