use clap::Args;

use super::ReportFormat;
use super::rollout::Resources;

#[derive(Args, Debug)]
#[command(
    long_about = "Show an object as a tree: a workload with its revisions and their pods (image, ready, restarts, \
in-place state, lifecycle state, node), or a Kruise Rollout with its steps (the current one marked), each step's \
canary pods, the stable pods and the traffic weights.\n\nWith --watch the view is redrawn on every change of the \
object, its revisions, its pods and its routes (watches, no polling). With --until-done it stops once the object \
rests, with the exit codes of `rollout status`.",
    after_help = "Exit codes with --until-done: 0 rolled out, 1 error, 3 --timeout reached, 4 failed (or a new pod cannot start), 5 paused with updates pending (a Kruise Rollout waiting for approval or paused).\n\nExamples:\n  kubectl kruise get cloneset/web\n  kubectl kruise get asts/db -w\n  kubectl kruise get rollout/web -w --until-done\n  kubectl kruise get ads log-agent -o json\n  kubectl kruise get deployment/api -n prod\n  kubectl kruise get cs -n prod                # every CloneSet in the namespace"
)]
pub struct GetArgs {
    #[command(flatten)]
    pub target: Resources,
    /// Redraw the view on every change (one object)
    #[arg(short = 'w', long = "watch")]
    pub watch: bool,
    /// Watch (implies --watch) and exit once the object rests: 0 rolled out, 4 failed, 5 paused
    #[arg(long = "until-done")]
    pub until_done: bool,
    /// Give up watching after this long (e.g. 5m); 0 waits forever
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = crate::cli::global::parse_duration)]
    pub timeout: std::time::Duration,
    /// Output format: json or yaml (the computed view)
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<ReportFormat>,
}

#[derive(Args, Debug)]
#[command(
    long_about = "Show an object as `get` does, with its conditions and its latest events.",
    after_help = "Examples:\n  kubectl kruise describe cloneset/web\n  kubectl kruise describe asts/db -n prod\n  kubectl kruise describe rollout/web -o yaml"
)]
pub struct DescribeArgs {
    #[command(flatten)]
    pub target: Resources,
    /// Output format: json or yaml (the computed view)
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<ReportFormat>,
}
