//! `controller run`: the embedded controllers in the foreground.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::GlobalArgs;
use crate::cli::controller::{ControllerCommand, RunArgs};
use crate::client::{self, detect};
use crate::cmd::drive::{notice_line, stop_signal, summary};
use crate::controller::runtime::{self, Key, Options, Report, Scope};
use crate::controller::{REGISTRY, lease};
use crate::error::{Error, Result, from_kube};
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

/// Without `--controllers`: those whose kind the cluster serves, and (the Rollout pair) not
/// beside a live Kruise Rollout operator; what is left out is said once.
async fn available(kube: &client::Kube) -> Result<Vec<String>> {
    let rollout_op = detect::operator(kube, &detect::kruise_rollout()).await;
    let mut served: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut names = vec![];
    for r in REGISTRY {
        let (gv, plural) = r.serves;
        if !served.contains_key(gv) {
            let list = match kube.client.list_api_group_resources(gv).await {
                Ok(l) => l.resources.into_iter().map(|x| x.name).collect(),
                Err(kube::Error::Api(s)) if s.code == 404 => vec![],
                Err(e) => return Err(from_kube(e, &kube.server, None)),
            };
            served.insert(gv, list);
        }
        if !served[gv].iter().any(|x| x == plural) {
            output::note(&format!(
                "kubectl-kruise controller: {} not started: {plural}.{} is not served (install the CRDs with `kubectl kruise crds install`)",
                r.name,
                gv.split('/').next().unwrap_or_default()
            ));
            continue;
        }
        if r.rollout && rollout_op.live {
            output::note(&format!(
                "kubectl-kruise controller: {} not started: the Kruise Rollout operator is live in namespace {:?}",
                r.name, rollout_op.namespace
            ));
            continue;
        }
        names.push(r.name.to_string());
    }
    Ok(names)
}

/// The reconcilers `--controllers` names, from the registry; an unknown name is refused.
fn chosen(names: &[String]) -> Result<Vec<Box<dyn runtime::Reconciler>>> {
    let known: Vec<&str> = REGISTRY.iter().map(|r| r.name).collect();
    if let Some(c) = names.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(Error::usage(format!(
            "unknown controller {c:?}: this version runs {}",
            known.join(", ")
        )));
    }
    Ok(REGISTRY
        .iter()
        .filter(|r| names.is_empty() || names.iter().any(|c| c == r.name))
        .map(|r| (r.make)())
        .collect())
}

async fn run_controllers(global: &GlobalArgs, a: &RunArgs) -> Result<()> {
    chosen(&a.controllers)?;
    let kube = crate::cmd::common::connect(global).await?;
    // An unreachable cluster is an error now, not a watch retrying for ever.
    kube.client
        .apiserver_version()
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    refuse_beside_operator(&kube).await?;
    let names = if a.controllers.is_empty() {
        available(&kube).await?
    } else {
        a.controllers.clone()
    };
    if names.is_empty() {
        return Err(Error::other(
            "no embedded controller can run here: none of their kinds is served; install the CRDs with `kubectl kruise crds install`",
        ));
    }
    let reconcilers = chosen(&names)?;
    let scope = if a.all_namespaces {
        Scope::All
    } else {
        Scope::Namespace(kube.namespace.clone())
    };
    let opts = Options {
        scope,
        only: None,
        also: vec![],
        identity: lease::identity(),
        unwatched: vec![],
        until: a.exit_when_done.then_some(runtime::Until::AllAtGoal),
    };
    // `controller run` is a foreground server: stopping it on request is its normal end (0).
    let shutdown = async {
        stop_signal().await;
    };
    let names: Vec<&str> = reconcilers.iter().map(|r| r.name()).collect();
    output::note(&format!(
        "kubectl-kruise controller: running {} as {}; Ctrl-C to stop",
        names.join(","),
        lease::identity()
    ));
    let lines = RefCell::new(Lines::new());
    let result = runtime::run(
        kube.client.clone(),
        reconcilers,
        opts,
        shutdown,
        |r| lines.borrow_mut().report(r),
        |n| lines.borrow().note(&notice_line(n)),
    )
    .await;
    lines.into_inner().finish();
    output::note("kubectl-kruise controller: stopped, lease released");
    result
}

/// One spinner line per object on a terminal; otherwise a line when an object's summary
/// changes.
struct Lines {
    live: bool,
    multi: MultiProgress,
    bars: BTreeMap<Key, ProgressBar>,
    last: BTreeMap<Key, String>,
}

impl Lines {
    fn new() -> Lines {
        Lines {
            live: std::io::stderr().is_terminal() && output::progress::enabled(),
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: BTreeMap::new(),
            last: BTreeMap::new(),
        }
    }

    fn note(&self, msg: &str) {
        if self.live {
            self.multi.suspend(|| output::note(msg))
        } else {
            output::note(msg)
        }
    }

    fn report(&mut self, r: &Report) {
        for e in &r.errors {
            self.note(&format!("{} {}/{}: {e}", r.controller, r.key.0, r.key.1));
        }
        let line = summary(r);
        if self.live {
            let multi = &self.multi;
            let pb = self.bars.entry(r.key.clone()).or_insert_with(|| {
                let pb = multi.add(ProgressBar::new_spinner());
                pb.set_style(
                    ProgressStyle::with_template("{spinner} {msg}").expect("static template"),
                );
                pb.enable_steady_tick(std::time::Duration::from_millis(200));
                pb
            });
            pb.set_message(line);
        } else if self.last.get(&r.key) != Some(&line) {
            output::note(&line);
            self.last.insert(r.key.clone(), line);
        }
    }

    fn finish(self) {
        for pb in self.bars.values() {
            pb.finish();
        }
    }
}
