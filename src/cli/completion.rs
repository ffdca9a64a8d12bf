use clap::{Args, ValueEnum};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  # bash, for this shell
  source <(kubectl kruise completion bash)
  # zsh, for every new shell
  kubectl kruise completion zsh > \"${fpath[1]}/_kubectl-kruise\"
  # fish
  kubectl kruise completion fish > ~/.config/fish/completions/kubectl-kruise.fish
  # PowerShell
  kubectl kruise completion powershell | Out-String | Invoke-Expression
  # `kubectl kruise <TAB>` through kubectl's own completion (kubectl 1.26+), with live names
  kubectl kruise completion kubectl-plugin --install

The scripts complete the `kubectl-kruise` command (subcommands, flags and their values); the
same scripts, pre-generated, are in the repository's completions/ folder.")]
pub struct CompletionArgs {
    /// The shell to write the completion script for; `kubectl-plugin`: the helper kubectl runs
    /// to complete `kubectl kruise …` (live object names included)
    #[arg(value_enum)]
    pub shell: ShellName,
    /// With kubectl-plugin: link the helper `kubectl_complete-kruise` to this binary in DIR
    /// (default `${KREW_ROOT:-~/.krew}/bin`) instead of printing a script
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub install: Option<Option<std::path::PathBuf>>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
    Powershell,
    /// The helper kubectl runs to complete `kubectl kruise …`
    KubectlPlugin,
}
