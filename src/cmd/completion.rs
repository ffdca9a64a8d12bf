//! `completion SHELL`, and the man pages: both generated from the clap definitions, so they
//! never describe a flag the binary does not take. The committed copies (`completions/`,
//! `man/`) are checked against these by `tests/generated.rs`.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::cli::completion::{CompletionArgs, ShellName};
use crate::error::Result;

/// The name the scripts complete.
pub const BIN: &str = "kubectl-kruise";

fn shell(s: ShellName) -> Option<Shell> {
    match s {
        ShellName::Bash => Some(Shell::Bash),
        ShellName::Zsh => Some(Shell::Zsh),
        ShellName::Fish => Some(Shell::Fish),
        ShellName::Powershell => Some(Shell::PowerShell),
        ShellName::KubectlPlugin => None,
    }
}

/// The tree named as the binary is (`kubectl-kruise rollout approve`), not as kubectl shows
/// it (`kubectl kruise …`): the generators mangle a name with a space.
fn named(cmd: clap::Command, bin: &str) -> clap::Command {
    cmd.name(bin.to_string())
        .bin_name(bin.to_string())
        .mut_subcommands(|sc| {
            let b = format!("{bin} {}", sc.get_name());
            let name = sc.get_name().to_string();
            named(sc, &b).name(name)
        })
}

/// The completion script for `s`.
pub fn script(s: ShellName) -> String {
    // clap_complete's bash output mangles a hyphenated name (its subcommand cases never match),
    // so bash's script is made for `kubectl_kruise` and only its `complete` line names the
    // binary.
    let Some(sh) = shell(s) else {
        return SHIM.to_string();
    };
    let bin = if s == ShellName::Bash { BASH_BIN } else { BIN };
    let mut out = Vec::new();
    let mut cmd = named(Cli::command(), bin);
    clap_complete::generate(sh, &mut cmd, bin, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    if s != ShellName::Bash {
        return text;
    }
    text.lines()
        .map(|l| match l.trim_start().starts_with("complete -F") {
            true => l.replace(&format!(" {BASH_BIN}"), &format!(" {BIN}")),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

const BASH_BIN: &str = "kubectl_kruise";

/// Each shell's script with the file name it is committed under.
pub fn scripts() -> Vec<(String, String)> {
    [
        (ShellName::Bash, "kubectl-kruise.bash"),
        (ShellName::Zsh, "_kubectl-kruise"),
        (ShellName::Fish, "kubectl-kruise.fish"),
        (ShellName::Powershell, "_kubectl-kruise.ps1"),
    ]
    .into_iter()
    .map(|(s, f)| (f.to_string(), script(s)))
    .collect()
}

/// One man page per command and subcommand (`kubectl-kruise-rollout-approve.1`, …).
pub fn man_pages() -> Result<Vec<(String, String)>> {
    let mut cmd = named(Cli::command(), BIN);
    cmd.build();
    let mut out = vec![];
    pages(&cmd, BIN, &mut out)?;
    Ok(out)
}

fn pages(cmd: &clap::Command, name: &str, out: &mut Vec<(String, String)>) -> Result<()> {
    let mut buf = Vec::new();
    let page = cmd.clone().name(name.to_string());
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .map_err(|e| crate::error::Error::other(format!("rendering the man page {name}: {e}")))?;
    out.push((
        format!("{name}.1"),
        String::from_utf8_lossy(&buf).into_owned(),
    ));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        pages(sub, &format!("{name}-{}", sub.get_name()), out)?;
    }
    Ok(())
}

pub fn run(a: &CompletionArgs) -> Result<()> {
    if a.shell != ShellName::KubectlPlugin {
        if a.install.is_some() {
            return Err(crate::error::Error::usage(
                "--install is for `completion kubectl-plugin`; a shell's script is printed, to be sourced or saved",
            ));
        }
        return crate::output::out(&script(a.shell));
    }
    match &a.install {
        None => crate::output::out(&script(a.shell)),
        Some(dir) => install(dir.clone()),
    }
}

/// The helper as a script, for where a link will not do: kubectl runs it with the plugin's
/// words, it asks the plugin.
const SHIM: &str = "#!/bin/sh\n# kubectl's completion helper for `kubectl kruise`: save as kubectl_complete-kruise on PATH\nexec kubectl-kruise __complete \"$@\"\n";

/// Links `kubectl_complete-kruise` to this binary in `dir` (default krew's bin).
fn install(dir: Option<std::path::PathBuf>) -> Result<()> {
    use crate::error::Error;
    let dir = match dir {
        Some(d) => d,
        None => match std::env::var_os("KREW_ROOT") {
            Some(r) => std::path::PathBuf::from(r).join("bin"),
            None => std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".krew/bin"))
                .ok_or_else(|| {
                    Error::usage("no HOME and no KREW_ROOT: give the folder, --install DIR")
                })?,
        },
    };
    let me = std::env::current_exe()
        .map_err(|e| Error::other(format!("finding this binary to link to: {e}")))?;
    let link = dir.join(crate::cmd::complete::HELPER);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::other(format!("creating {}: {e}", dir.display())))?;
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(&link)
            .map_err(|e| Error::other(format!("replacing {}: {e}", link.display())))?,
        Ok(_) => {
            return Err(Error::other(format!(
                "{} exists and is not a link; remove it first",
                link.display()
            )));
        }
        Err(_) => {}
    }
    std::os::unix::fs::symlink(&me, &link)
        .map_err(|e| Error::other(format!("linking {}: {e}", link.display())))?;
    crate::output::outln(&format!("{} -> {}", link.display(), me.display()))
}
