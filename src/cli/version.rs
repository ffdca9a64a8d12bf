use clap::{Args, ValueEnum};

use super::OutputFormat;

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
    pub output: Option<VersionFormat>,
}

/// `version` prints one report, not objects: JSON or YAML as `kubectl version` does, no `name`
/// (there is nothing to name) and no table headers to hide.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionFormat {
    Json,
    Yaml,
}

impl From<VersionFormat> for OutputFormat {
    fn from(f: VersionFormat) -> OutputFormat {
        match f {
            VersionFormat::Json => OutputFormat::Json,
            VersionFormat::Yaml => OutputFormat::Yaml,
        }
    }
}
