use clap::Args;

use super::ReportFormat;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  kubectl kruise version\n  kubectl kruise version --client\n  kubectl kruise version -o json"
)]
pub struct VersionArgs {
    /// Print the client version only (no request to the cluster)
    #[arg(long)]
    pub client: bool,
    /// Output format: json or yaml
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<ReportFormat>,
}
