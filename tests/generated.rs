//! `completions/` and `man/` hold what the binary generates from its clap definitions: this
//! test fails when they drift. Regenerate with `cargo xtask gen` (runs this test with
//! KRUISE_UPDATE_MANIFESTS=1).

use std::path::{Path, PathBuf};

use kubectl_kruise::cmd::completion;

fn check(dir: &Path, expected: &[(String, String)], what: &str) {
    if std::env::var_os("KRUISE_UPDATE_MANIFESTS").is_some() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        for (name, text) in expected {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let mut stale = vec![];
    for (name, text) in expected {
        if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    for entry in std::fs::read_dir(dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !expected.iter().any(|(n, _)| *n == name) {
            stale.push(format!("{name} (not generated any more)"));
        }
    }
    assert!(
        stale.is_empty(),
        "{what} drifted from the clap definitions: {}; run `cargo xtask gen` and commit the result",
        stale.join(", ")
    );
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn completion_scripts_match_the_commands() {
    let scripts = completion::scripts();
    assert!(
        scripts
            .iter()
            .all(|(_, s)| s.contains("rollout") && s.contains("approve"))
    );
    check(&root().join("completions"), &scripts, "completions/");
}

#[test]
fn man_pages_match_the_commands() {
    let pages = completion::man_pages().unwrap();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "kubectl-kruise.1",
        "kubectl-kruise-rollout.1",
        "kubectl-kruise-rollout-approve.1",
        "kubectl-kruise-completion.1",
    ] {
        assert!(names.contains(&want), "{want} among {names:?}");
    }
    check(&root().join("man"), &pages, "man/");
}

/// The bash script completes subcommands and flags at every depth, as bash runs it (the
/// generator's own output for a hyphenated name never matched a subcommand).
#[test]
fn bash_completes_subcommands_and_flags() {
    let script = completion::script(kubectl_kruise::cli::completion::ShellName::Bash);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubectl-kruise.bash");
    std::fs::write(&path, script).unwrap();
    let complete = |words: &[&str]| -> String {
        let cword = words.len() - 1;
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let prog = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; _kubectl_kruise kubectl-kruise '{}' '{}'; echo \"${{COMPREPLY[@]}}\"",
            path.display(),
            quoted.join(" "),
            words[cword],
            words[cword - 1],
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &prog])
            .output()
            .expect("bash");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete(&["kubectl-kruise", "ro"]), "rollout");
    assert_eq!(complete(&["kubectl-kruise", "rollout", "ap"]), "approve");
    assert_eq!(
        complete(&["kubectl-kruise", "rollout", "approve", "--ti"]),
        "--timeout"
    );
    assert!(complete(&["kubectl-kruise", "completion", ""]).contains("powershell"));
}

/// Every command's help shows how to use it: at least one example, in `--help` and so in its
/// man page.
#[test]
fn every_command_has_an_example() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: String, missing: &mut Vec<String>) {
        let help = cmd
            .get_after_long_help()
            .or(cmd.get_after_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        if !help.contains("Examples:") {
            missing.push(path.clone());
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = vec![];
    walk(
        &kubectl_kruise::cli::Cli::command(),
        "kubectl kruise".into(),
        &mut missing,
    );
    assert!(missing.is_empty(), "no example in the help of: {missing:?}");
}
