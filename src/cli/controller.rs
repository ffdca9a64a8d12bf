use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ControllerCommand {
    /// Run the embedded controllers in the foreground (for clusters without the operator)
    #[command(
        long_about = "Run the embedded controllers in the foreground: the same reconciliation the OpenKruise \
manager performs, from this terminal, for clusters where the operator is not installed. One process drives a \
namespace at a time (a Lease per namespace); a second one waits as a standby and takes over when the first \
stops. Refuses to run while a live OpenKruise manager is detected. Ctrl-C finishes the writes in flight, \
releases the Lease and exits.",
        after_help = "Examples:\n  kubectl kruise controller run -n default\n  kubectl kruise controller run -A\n  kubectl kruise controller run --controllers cloneset -n prod\n  kubectl kruise controller run -n ci --exit-when-done"
    )]
    Run(RunArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Controllers to run (comma-separated); default: every one this build has (`version`
    /// lists them)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub controllers: Vec<String>,
    /// Act in every namespace
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Exit (0) once every object of the running controllers rests (done, paused or at its
    /// partition); for scripts and CI
    #[arg(long = "exit-when-done")]
    pub exit_when_done: bool,
}
