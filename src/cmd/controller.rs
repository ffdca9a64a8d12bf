//! `controller run`: the embedded controllers in the foreground.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::cli::controller::{ControllerCommand, RunArgs};
use crate::client::{self, detect};
use crate::controller::lease;
use crate::controller::runtime::{self, Key, Notice, Options, Report, Scope};
use crate::error::{Error, Result};
use crate::output;

pub const KNOWN: &[&str] = &["cloneset"];

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

pub fn summary(r: &Report) -> String {
    let s = &r.status;
    let mut line = format!(
        "cloneset {}/{}: {} desired, {} updated, {} ready, {} available, {} total",
        r.key.0,
        r.key.1,
        r.spec_replicas,
        s.updated_replicas,
        s.ready_replicas,
        s.available_replicas,
        s.replicas
    );
    if r.paused {
        line.push_str(", paused");
    }
    if r.created + r.deleted + r.updated > 0 {
        line.push_str(&format!(
            " (this pass: {} created, {} deleted, {} updated in place)",
            r.created, r.deleted, r.updated
        ));
    }
    line
}

pub fn notice_line(n: &Notice) -> String {
    match n {
        Notice::Standby { namespace, holder } => format!(
            "standby: the cloneset controller in namespace {namespace:?} is driven by {} (lease {}/{} renewed {}s ago); taking over when it stops",
            holder.describe(),
            namespace,
            lease::name("cloneset"),
            holder.renewed_seconds_ago
        ),
        Notice::Acquired { namespace } => {
            format!(
                "driving clonesets in namespace {namespace:?} (lease {namespace}/{})",
                lease::name("cloneset")
            )
        }
        Notice::Lost { namespace } => {
            format!("lost the lease in namespace {namespace:?}; standing by")
        }
    }
}

/// Ctrl-C or SIGTERM; returns the signal's number (2 or 15), for kubectl's exit code 128 + n.
pub async fn stop_signal() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return 2,
                _ = term.recv() => return 15,
            }
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    2
}

async fn run_controllers(global: &GlobalArgs, a: &RunArgs) -> Result<()> {
    for c in &a.controllers {
        if !KNOWN.contains(&c.as_str()) {
            return Err(Error::usage(format!(
                "unknown controller {c:?}: this version runs {}",
                KNOWN.join(", ")
            )));
        }
    }
    let kube = client::connect(global).await?;
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
        until: a
            .exit_when_done
            .then(|| Box::new(crate::cmd::cloneset::at_goal) as runtime::Goal),
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
        opts,
        shutdown,
        |r| {
            let line = summary(r);
            for e in &r.errors {
                let msg = format!("cloneset {}/{}: {e}", r.key.0, r.key.1);
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
