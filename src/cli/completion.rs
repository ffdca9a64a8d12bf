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

The scripts complete the `kubectl-kruise` command (subcommands, flags and their values); the
same scripts, pre-generated, are in the repository's completions/ folder.")]
pub struct CompletionArgs {
    /// The shell to write the completion script for
    #[arg(value_enum)]
    pub shell: ShellName,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
    Powershell,
}
