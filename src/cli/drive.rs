use clap::Args;

/// How a command that changes a workload ends: with no controller running it drives the object
/// with the embedded controller until it rests; when one runs (an operator, another embedded
/// controller, kube-controller-manager) it returns, or watches with -w.
#[derive(Args, Debug, Clone, Default)]
pub struct DriveArgs {
    /// Only write; do not reconcile or wait (prints how to reconcile later)
    #[arg(long = "no-wait")]
    pub no_wait: bool,
    /// When an operator or another controller reconciles, watch until the object rests (exit 4
    /// if a new pod cannot start)
    #[arg(short = 'w', long = "watch")]
    pub watch: bool,
    /// Give up after this long (e.g. 5m); 0 waits forever
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = crate::cli::global::parse_duration)]
    pub timeout: std::time::Duration,
}
