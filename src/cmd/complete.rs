//! kubectl's plugin completion protocol: invoked as `kubectl_complete-kruise ARGS… PARTIAL`
//! (a link to this binary) or `kubectl-kruise __complete ARGS… PARTIAL`, print one candidate a
//! line (`value<TAB>description`) and a last line `:<directive>` (cobra's: 4 no file completion,
//! 0 the shell's default). Subcommands and flags come from the clap definitions, kinds from the
//! known kinds, object names from the cluster the line points at (`-n`, `--context`,
//! `--kubeconfig` already typed). Nothing is ever printed to stderr: a shell shows it.

use std::time::Duration;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::client::config::ConnectOptions;
use crate::client::kinds::{self, Kind};

/// The name kubectl looks for on PATH to complete `kubectl kruise …`.
pub const HELPER: &str = "kubectl_complete-kruise";

const NO_FILES: u8 = 4;
const DEFAULT: u8 = 0;

/// How long the cluster may take before the names are left out.
const LOOKUP: Duration = Duration::from_millis(1500);

/// What the words before the partial one say.
#[derive(Debug, Default)]
pub struct Line {
    /// The subcommand path (`["rollout", "status"]`).
    pub path: Vec<String>,
    /// Positional words typed so far.
    pub positionals: Vec<String>,
    /// The flag whose value the partial word is, if any.
    pub value_of: Option<String>,
    pub connect: ConnectOptions,
}

fn takes_value(a: &clap::Arg) -> bool {
    a.get_action().takes_values()
}

/// The command tree, built once per answer.
pub fn tree() -> clap::Command {
    let mut root = Cli::command();
    root.build();
    root
}

/// Reads the typed words against the command tree.
pub fn read(root: &clap::Command, words: &[String]) -> Line {
    let mut line = Line::default();
    let mut cmd = root;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        let (flag, inline) = match w.strip_prefix("--") {
            Some(rest) => match rest.split_once('=') {
                Some((f, v)) => (Some(f.to_string()), Some(v.to_string())),
                None => (Some(rest.to_string()), None),
            },
            None => match w.strip_prefix('-').filter(|r| !r.is_empty()) {
                Some(rest) => {
                    let mut cs = rest.chars();
                    let c = cs.next().map(String::from);
                    let tail: String = cs.collect();
                    (c, (!tail.is_empty()).then_some(tail))
                }
                None => (None, None),
            },
        };
        let Some(flag) = flag else {
            match cmd
                .get_subcommands()
                .find(|s| s.get_name() == w || s.get_all_aliases().any(|a| a == w))
            {
                Some(sub) => {
                    line.path.push(sub.get_name().to_string());
                    cmd = sub;
                }
                None => line.positionals.push(w.clone()),
            }
            continue;
        };
        let arg = cmd.get_arguments().find(|a| {
            a.get_long() == Some(flag.as_str())
                || (flag.len() == 1 && a.get_short() == flag.chars().next())
        });
        let Some(arg) = arg.filter(|a| takes_value(a)) else {
            continue;
        };
        let value = match inline {
            Some(v) => Some(v),
            None if i < words.len() => {
                i += 1;
                Some(words[i - 1].clone())
            }
            None => {
                line.value_of = Some(arg.get_id().to_string());
                None
            }
        };
        if let Some(v) = value {
            set_connect(&mut line.connect, arg.get_id().as_str(), v);
        }
    }
    line
}

fn set_connect(c: &mut ConnectOptions, id: &str, v: String) {
    match id {
        "namespace" => c.namespace = Some(v),
        "context" => c.context = Some(v),
        "kubeconfig" => c.kubeconfig = Some(v.into()),
        "cluster" => c.cluster = Some(v),
        "user" => c.user = Some(v),
        "server" => c.server = Some(v),
        "token" => c.token = Some(v),
        "as_user" => c.as_user = Some(v),
        "insecure_skip_tls_verify" => c.insecure_skip_tls_verify = v == "true",
        _ => {}
    }
}

/// Candidates that need no cluster, or `None` when the answer is object names.
pub fn offline(
    root: &clap::Command,
    line: &Line,
    partial: &str,
) -> Option<(Vec<(String, String)>, u8)> {
    let mut cmd = root;
    for p in &line.path {
        cmd = cmd.find_subcommand(p)?;
    }
    if let Some(id) = &line.value_of {
        if id == "namespace" {
            return None;
        }
        let arg = cmd.get_arguments().find(|a| a.get_id() == id)?;
        let values: Vec<(String, String)> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| {
                let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                (v.get_name().to_string(), help)
            })
            .collect();
        let directive = if values.is_empty() { DEFAULT } else { NO_FILES };
        return Some((values, directive));
    }
    if partial.starts_with('-') {
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                a.get_long().map(|l| (format!("--{l}"), help))
            })
            .collect();
        return Some((flags, NO_FILES));
    }
    let subs: Vec<(String, String)> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| {
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            (s.get_name().to_string(), about)
        })
        .collect();
    if !subs.is_empty() {
        return Some((subs, NO_FILES));
    }
    let positionals: Vec<&clap::Arg> = cmd.get_arguments().filter(|a| a.is_positional()).collect();
    let Some(next) = positionals.get(line.positionals.len()).or(positionals
        .last()
        .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1)))
    else {
        return Some((vec![], NO_FILES));
    };
    let values: Vec<(String, String)> = next
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| (v.get_name().to_string(), String::new()))
        .collect();
    if !values.is_empty() {
        return Some((values, NO_FILES));
    }
    if line.positionals.is_empty() && !partial.contains('/') {
        let kinds = kinds::KINDS
            .iter()
            .map(|k| (k.singular(), k.resource()))
            .collect();
        return Some((kinds, NO_FILES));
    }
    None
}

/// The kind and the prefix the names are offered with (`cloneset/` or none).
fn kind_for(line: &Line, partial: &str) -> Option<(Kind, String)> {
    if let Some((t, _)) = partial.split_once('/') {
        return kinds::resolve(t).ok().map(|k| (k, format!("{t}/")));
    }
    let t = line.positionals.first()?;
    kinds::resolve(t).ok().map(|k| (k, String::new()))
}

async fn names(line: &Line, partial: &str) -> Vec<(String, String)> {
    let lookup = async {
        let kube = crate::client::connect(&line.connect).await.ok()?;
        if line.value_of.as_deref() == Some("namespace") {
            let api: kube::Api<k8s_openapi::api::core::v1::Namespace> =
                kube::Api::all(kube.client.clone());
            let l = api.list_metadata(&Default::default()).await.ok()?;
            return Some(
                l.items
                    .iter()
                    .map(|n| (kube::ResourceExt::name_any(n), String::new()))
                    .collect(),
            );
        }
        let (kind, prefix) = kind_for(line, partial)?;
        let ar = kind.api_resource();
        let api: kube::Api<kube::api::DynamicObject> = if kind.namespaced {
            kube::Api::namespaced_with(kube.client.clone(), &kube.namespace, &ar)
        } else {
            kube::Api::all_with(kube.client.clone(), &ar)
        };
        let l = api.list_metadata(&Default::default()).await.ok()?;
        let ns = kube.namespace.clone();
        Some(
            l.items
                .iter()
                .map(|o| {
                    let name = kube::ResourceExt::name_any(o);
                    (format!("{prefix}{name}"), format!("{} in {ns}", kind.kind))
                })
                .collect(),
        )
    };
    tokio::time::timeout(LOOKUP, lookup)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The answer for `words` (the last one is the partial word, `""` for a fresh one).
pub async fn answer(words: &[String]) -> String {
    let (typed, partial) = match words.split_last() {
        Some((p, rest)) => (rest, p.as_str()),
        None => (&[][..], ""),
    };
    let root = tree();
    let line = read(&root, typed);
    let (candidates, directive) = match offline(&root, &line, partial) {
        Some(x) => x,
        None => (names(&line, partial).await, NO_FILES),
    };
    let mut out = String::new();
    for (value, help) in candidates.iter().filter(|(v, _)| v.starts_with(partial)) {
        let help = help.lines().next().unwrap_or("").replace('\t', " ");
        if help.is_empty() {
            out.push_str(&format!("{value}\n"));
        } else {
            out.push_str(&format!("{value}\t{help}\n"));
        }
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_line_is_read_against_the_command_tree() {
        let root = tree();
        let l = read(
            &root,
            &w(&[
                "-n",
                "prod",
                "rollout",
                "status",
                "--context=c1",
                "cloneset",
            ]),
        );
        assert_eq!(l.path, vec!["rollout", "status"]);
        assert_eq!(l.positionals, vec!["cloneset"]);
        assert_eq!(l.connect.namespace.as_deref(), Some("prod"));
        assert_eq!(l.connect.context.as_deref(), Some("c1"));
        let l = read(&root, &w(&["scale", "-n"]));
        assert_eq!(l.value_of.as_deref(), Some("namespace"));
    }

    #[test]
    fn subcommands_flags_values_and_kinds_need_no_cluster() {
        let root = tree();
        let names = |words: &[&str], partial: &str| -> Vec<String> {
            let line = read(&root, &w(words));
            offline(&root, &line, partial)
                .map(|(c, _)| c.into_iter().map(|(v, _)| v).collect())
                .unwrap_or_default()
        };
        assert!(names(&[], "").contains(&"rollout".to_string()));
        assert!(names(&["rollout"], "").contains(&"approve".to_string()));
        assert!(names(&["rollout", "approve"], "--").contains(&"--timeout".to_string()));
        assert!(names(&["completion"], "").contains(&"zsh".to_string()));
        assert!(names(&["rollout", "status"], "").contains(&"cloneset".to_string()));
        let line = read(&root, &w(&["rollout", "status"]));
        assert!(offline(&root, &line, "cloneset/").is_none());
        let line = read(&root, &w(&["rollout", "status", "cloneset"]));
        assert!(offline(&root, &line, "").is_none());
    }
}
