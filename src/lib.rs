//! kubectl-kruise: a kubectl plugin for OpenKruise workloads and Kruise Rollout releases.
//! See DESIGN.md in the shared notes for the layout: `cli` (clap definitions), `cmd` (what
//! each command does), `client` (cluster access), `output` (printers).

pub mod api;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod controller;
pub mod error;
pub mod output;

/// The version this binary reports (`version`, user agent).
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// Layering runs one way: `main → cli → cmd → {client, controller, output} → api`. `cli` is
/// clap definitions only; `cmd` reads them and hands the layers below their own option types;
/// nothing below `cmd` names `cli` or `cmd`, and `api` names none of them.
#[cfg(test)]
mod layering {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// What each layer may name, besides itself and `error`.
    const MAY_USE: &[(&str, &[&str])] = &[
        ("api", &[]),
        ("client", &["api"]),
        ("controller", &["api"]),
        ("output", &["api"]),
        ("cmd", &["cli", "client", "controller", "output", "api"]),
        ("cli", &[]),
    ];
    const LAYERS: &[&str] = &["api", "cli", "client", "cmd", "controller", "output"];

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// `crate::<layer>` references in a source file (comments and strings included: a
    /// doc link to a layer above is a hint of the same arrow).
    fn uses(text: &str) -> Vec<&'static str> {
        LAYERS
            .iter()
            .filter(|l| {
                text.contains(&format!("crate::{l}::")) || text.contains(&format!("crate::{l}}}"))
            })
            .copied()
            .collect()
    }

    #[test]
    fn no_arrow_runs_back() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut bad: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (layer, may) in MAY_USE {
            let mut files = Vec::new();
            sources(&src.join(layer), &mut files);
            assert!(!files.is_empty(), "no sources under src/{layer}");
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap();
                for used in uses(&text) {
                    if used != *layer && !may.contains(&used) {
                        bad.entry(f.display().to_string()).or_default().push(used);
                    }
                }
            }
        }
        assert!(bad.is_empty(), "imports against the layering: {bad:#?}");
    }

    /// Within `cmd`, the workload layer and the drive path import one way: `drive` uses
    /// `workload`, never the reverse; the commands use both.
    #[test]
    fn workload_layer_does_not_import_the_commands() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cmd/workload");
        let mut files = Vec::new();
        sources(&dir, &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for m in ["drive", "rollout", "scale", "set", "controller"] {
                assert!(
                    !text.contains(&format!("crate::cmd::{m}")),
                    "{} imports cmd::{m}",
                    f.display()
                );
            }
        }
    }

    /// Kinds are known in one place: no `if kind == …` dispatch in the commands outside the
    /// workload layer, and the runtime names no kind at all.
    #[test]
    fn kinds_are_named_only_where_they_live() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root.join("cmd"), &mut files);
        // The workload layer knows the workload kinds; `cmd/rollout_cr` is the Kruise Rollout's
        // own layer (a Rollout is not a workload: it releases one).
        for f in files.iter().filter(|f| {
            !f.starts_with(root.join("cmd/workload")) && !f.starts_with(root.join("cmd/rollout_cr"))
        }) {
            let text = std::fs::read_to_string(f).unwrap();
            for needle in [
                "kind == kinds",
                "kinds::CLONESET",
                "kinds::DEPLOYMENT",
                "== CLONESET",
                "== DEPLOYMENT",
            ] {
                assert!(
                    !text.contains(needle),
                    "{} dispatches on a kind ({needle})",
                    f.display()
                );
            }
        }
        let mut files = Vec::new();
        sources(&root.join("controller/runtime"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap().to_lowercase();
            for kind in [
                "cloneset",
                "statefulset",
                "daemonset",
                "deployment",
                "rollout",
            ] {
                assert!(
                    !text.contains(kind),
                    "{} names the kind {kind}",
                    f.display()
                );
            }
        }
    }
}
