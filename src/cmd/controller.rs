//! `controller run`: the embedded controllers in the foreground.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::cli::controller::{ControllerCommand, RunArgs};
use crate::client::{self, detect};
use crate::cmd::drive::{notice_line, stop_signal, summary};
use crate::controller::runtime::{self, Key, Options, Scope};
use crate::controller::{REGISTRY, lease};
use crate::error::{Error, Result};
use crate::output;

pub async fn run(global: &GlobalArgs, cmd: &ControllerCommand) -> Result<()> {
    match cmd {
        ControllerCommand::Run(a) => run_controllers(global, a).await,
    }
}

/// Refuse when a live OpenKruise manager reconciles the same kinds.
pub async fn refuse_beside_operator(kube: &client::Kube) -> Result<()> {
    let op = detect::operator(kube, &detect::openkruise()).await;
    if op.live {
        return Err(Error::other(format!(
            "an OpenKruise manager is live in namespace {:?}{}: it reconciles CloneSets, so the embedded controller will not run beside it (stop the operator, or use commands without `controller run`)",
            op.namespace,
            op.leader
                .as_deref()
                .map(|l| format!(" (leader {l})"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

async fn run_controllers(global: &GlobalArgs, a: &RunArgs) -> Result<()> {
    let known: Vec<&str> = REGISTRY.iter().map(|r| r.name).collect();
    for c in &a.controllers {
        if !known.contains(&c.as_str()) {
            return Err(Error::usage(format!(
                "unknown controller {c:?}: this version runs {}",
                known.join(", ")
            )));
        }
    }
    let reconcilers: Vec<_> = REGISTRY
        .iter()
        .filter(|r| a.controllers.iter().any(|c| c == r.name))
        .map(|r| (r.make)())
        .collect();
    let kube = crate::cmd::common::connect(global).await?;
    refuse_beside_operator(&kube).await?;
    let scope = if a.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(kube.namespace.clone())
    };
    let opts = Options {
        scope,
        only: None,
        identity: lease::identity(),
        until: a.exit_when_done.then_some(runtime::Until::AllAtGoal),
    };
    let live = std::io::stderr().is_terminal() && output::progress::enabled();
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let mut lines: BTreeMap<Key, (ProgressBar, String)> = BTreeMap::new();
    let mut last: BTreeMap<Key, String> = BTreeMap::new();
    // `controller run` is a foreground server: stopping it on request is its normal end (0).
    let shutdown = async {
        stop_signal().await;
    };
    output::note(&format!(
        "kubectl-kruise controller: running {} as {}; Ctrl-C to stop",
        a.controllers.join(","),
        lease::identity()
    ));
    let result = runtime::run(
        kube.client.clone(),
        reconcilers,
        opts,
        shutdown,
        |r| {
            let line = summary(r);
            for e in &r.errors {
                let msg = format!("{} {}/{}: {e}", r.controller, r.key.0, r.key.1);
                if live {
                    multi.suspend(|| output::note(&msg))
                } else {
                    output::note(&msg)
                }
            }
            if live {
                let (pb, _) = lines.entry(r.key.clone()).or_insert_with(|| {
                    let pb = multi.add(ProgressBar::new_spinner());
                    pb.set_style(
                        ProgressStyle::with_template("{spinner} {msg}").expect("static template"),
                    );
                    pb.enable_steady_tick(std::time::Duration::from_millis(200));
                    (pb, String::new())
                });
                pb.set_message(line);
            } else if last.get(&r.key) != Some(&line) {
                output::note(&line);
                last.insert(r.key.clone(), line);
            }
        },
        |n| {
            let msg = notice_line(n);
            if live {
                multi.suspend(|| output::note(&msg))
            } else {
                output::note(&msg)
            }
        },
    )
    .await;
    for (pb, _) in lines.values() {
        pb.finish();
    }
    output::note("kubectl-kruise controller: stopped, lease released");
    result
}
