use clap::{Args, Subcommand};

use super::{OutputArgs, ReportFormat, TableOutputArgs, WriteArgs};

#[derive(Subcommand, Debug)]
pub enum CrdsCommand {
    /// Install or update the Kruise CRDs this tool serves (server-side apply), and wait until
    /// they are Established. CRDs installed by someone else (e.g. the OpenKruise chart) are left
    /// alone unless --force
    #[command(
        after_help = "Examples:\n  kubectl kruise crds install\n  kubectl kruise crds install --dry-run=server\n  kubectl kruise crds install --force        # take over CRDs installed by an operator\n  kubectl kruise crds install --with-guard   # also refuse template changes that bypass a Rollout\n  kubectl kruise crds install --with-guard --dry-run=client -o yaml > kruise.yaml"
    )]
    Install(InstallArgs),
    /// List the Kruise CRDs in the cluster: who installed them, versions, and whether they match
    /// ours; and whether the rollout guard (install --with-guard) is installed
    #[command(
        after_help = "Examples:\n  kubectl kruise crds status\n  kubectl kruise crds status -o json"
    )]
    Status(StatusArgs),
    /// Show how the cluster's Kruise CRDs differ from this tool's: versions, conversion,
    /// subresources, printer columns, fields and validations, each marked `chosen` when it is a
    /// difference this tool makes on purpose (exit 0: same, 1: different)
    #[command(
        after_help = "Examples:\n  kubectl kruise crds diff\n  kubectl kruise crds diff -o json"
    )]
    Diff(DiffArgs),
    /// Print this tool's CRDs as YAML (e.g. for GitOps: kubectl kruise crds print > crds.yaml)
    #[command(
        after_help = "Examples:\n  kubectl kruise crds print > kruise-crds.yaml\n  kubectl kruise crds print | kubectl apply --server-side -f -"
    )]
    Print,
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Replace CRDs installed by someone else (an operator's chart, another tool)
    #[arg(long)]
    pub force: bool,
    /// Also install the rollout guard: a ValidatingAdmissionPolicy and its binding
    /// (kubectl-kruise-rollout-guard) that refuse a pod template change to a workload under a
    /// Kruise Rollout (label rollouts.kruise.io/workload-type) unless the same write gates it
    /// for the Rollout (pause or partition, and the annotation rollouts.kruise.io/in-progressing),
    /// as `kubectl kruise set image` and `kubectl kruise rollout` do. Without
    /// the operator's webhook, a plain `kubectl set image`, `kubectl apply` or `helm upgrade`
    /// would roll the new template out at once. Remove it with `kubectl delete
    /// validatingadmissionpolicybinding,validatingadmissionpolicy kubectl-kruise-rollout-guard`
    #[arg(long)]
    pub with_guard: bool,
    /// How long to wait for the CRDs to be Established (and the guard to be type-checked)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::cli::global::parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub write: WriteArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub output: TableOutputArgs,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Output format: json or yaml
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<ReportFormat>,
}
