//! `rollout status rollout/NAME`, and the watch a change ends with when someone else drives
//! the Rollout: one line per change of where it stands (bars on a terminal), and the exit
//! codes of `rollout status` (0 rolled out, 3 timeout, 4 failed or cancelled, 5 waiting at a
//! pause with `--watch=false`).

use std::time::Duration;

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_openapi::jiff::Timestamp;

use super::view::{self, State, View};
use super::{After, api, get, workload_of, workload_replicas};
use crate::api::Rollout;
use crate::client::Kube;
use crate::cmd::drive::{Outcome, with_timeout};
use crate::cmd::workload;
use crate::controller::runtime::Stuck;
use crate::error::{Error, Result};
use crate::output;

/// How often a watch looks for a pod of the new revision that cannot start.
const STUCK_EVERY: Duration = Duration::from_secs(5);

/// Bars on a terminal (steps done of all, new pods ready of the step's), plain lines otherwise.
pub struct Ui {
    bars: Option<(MultiProgress, ProgressBar, ProgressBar)>,
    last: String,
    outcome: Outcome,
}

impl Ui {
    pub fn new(outcome: Outcome) -> Ui {
        let bars = output::progress::enabled().then(|| {
            let m = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>6} [{bar:30}] {pos}/{len} {msg}")
                .expect("static template")
                .progress_chars("=> ");
            let mk = |name: &str| {
                let b = m.add(ProgressBar::new(1));
                b.set_style(style.clone());
                b.set_prefix(name.to_string());
                b
            };
            let (s, p) = (mk("steps"), mk("pods"));
            (m, s, p)
        });
        Ui {
            bars,
            last: String::new(),
            outcome,
        }
    }

    pub fn note(&self, line: &str) {
        match &self.bars {
            Some((m, ..)) => m.suspend(|| output::note(line)),
            None => output::note(line),
        }
    }

    /// A new view: the bars on a terminal, else its line once.
    pub fn show(&mut self, v: &View) -> Result<()> {
        if let Some((_, steps, pods)) = &self.bars {
            let (index, total) = v.step.unwrap_or((0, 0));
            steps.set_length(total.max(1) as u64);
            steps.set_position(index.clamp(0, total as i32) as u64);
            steps.set_message(if v.step_state.is_empty() {
                v.line.clone()
            } else {
                v.step_state.clone()
            });
            let p = v.pods.clone().unwrap_or_default();
            pods.set_length(p.target.unwrap_or(p.replicas).max(p.ready).max(1) as u64);
            pods.set_position(p.ready.max(0) as u64);
            pods.set_message(match &v.traffic {
                Some(t) => format!("ready, traffic {t}"),
                None => "ready".into(),
            });
            return Ok(());
        }
        if v.line != self.last {
            self.last = v.line.clone();
            match self.outcome {
                Outcome::Stdout => output::outln(&v.line)?,
                Outcome::Stderr => output::note(&v.line),
            }
        }
        Ok(())
    }

    pub fn clear(&self) {
        if let Some((m, ..)) = &self.bars {
            let _ = m.clear();
        }
    }

    /// The last line, once, where the lines go.
    pub fn finish(&mut self, v: &View) -> Result<()> {
        self.clear();
        if self.bars.is_none() && self.last == v.line {
            return Ok(());
        }
        self.last = v.line.clone();
        match self.outcome {
            Outcome::Stdout => output::outln(&v.line),
            Outcome::Stderr => {
                output::note(&v.line);
                Ok(())
            }
        }
    }
}

/// How a watch of a Rollout ends.
#[derive(Debug, Clone)]
pub struct WatchMode {
    pub outcome: Outcome,
    /// Stop at any pause (`--until-paused`); a change's watch stops where the Rollout rests.
    pub until_paused: bool,
    pub timeout: Duration,
    /// After a change (approve, resume, undo): rest counts once the controller reacted.
    pub after: Option<After>,
}

impl WatchMode {
    fn done(&self, v: &View) -> bool {
        match &self.after {
            Some(a) => a.moved(v) && v.state.rests(),
            None => {
                v.state.failed()
                    || matches!(v.state, State::Succeeded | State::Idle | State::Disabled)
                    || (self.until_paused && v.state.paused())
            }
        }
    }
}

/// The exit of a watch or a drive that ended at `v`: 4 for a release that failed or was
/// cancelled, unless the command cancelled it (undo) or it had already ended so.
pub fn verdict(v: &View, after: Option<&After>, was_failed: bool) -> Result<()> {
    let expected = after.is_some_and(|a| a.cancel_expected) && v.state == State::Cancelled;
    if v.state.failed() && !expected && !was_failed {
        return Err(Error::Failed(v.line.clone()));
    }
    Ok(())
}

/// Watch `name` until `mode` says it is done (0), it fails (4), a pod of the new revision
/// cannot start (4), or the timeout passes (3).
pub async fn watch(kube: &Kube, name: &str, mode: WatchMode) -> Result<()> {
    let ro = get(kube, name).await?;
    let mut replicas = workload_replicas(kube, &ro).await;
    let mut ui = Ui::new(mode.outcome);
    let first = view::judge(&ro, replicas, Timestamp::now());
    let was_failed = mode.after.is_some() && first.state.failed();
    ui.show(&first)?;
    if mode.done(&first) {
        ui.finish(&first)?;
        return verdict(&first, mode.after.as_ref(), was_failed);
    }
    let what = format!("rollout \"{name}\"");
    let mut stream = kube::runtime::watcher::watch_object(api(kube), name).boxed();
    let mut tick = tokio::time::interval(STUCK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut current = ro;
    let mut step = first.step;
    let ns = kube.namespace.clone();
    let fut = async {
        loop {
            tokio::select! {
                ev = stream.next() => match ev {
                    Some(Ok(Some(ro))) => {
                        let v0 = view::judge(&ro, replicas, Timestamp::now());
                        // A new step may follow a change of the workload's size: read it again.
                        let v = if v0.step != step {
                            step = v0.step;
                            replicas = workload_replicas(kube, &ro).await;
                            view::judge(&ro, replicas, Timestamp::now())
                        } else {
                            v0
                        };
                        current = ro;
                        if mode.done(&v) {
                            return Ok(v);
                        }
                        ui.show(&v)?;
                    }
                    Some(Ok(None)) => {
                        return Err(Error::other(format!("{what} was deleted while waiting for it")));
                    }
                    Some(Err(e)) => tracing::warn!("watch of {what} interrupted ({e}); resuming"),
                    None => return Err(Error::other("the watch ended unexpectedly")),
                },
                _ = tick.tick() => {
                    if let Some(p) = stuck(kube, &current).await? {
                        return Err(stuck_error(name, &ns, &p));
                    }
                }
            }
        }
    };
    match with_timeout(fut, mode.timeout, &what).await {
        Ok(v) => {
            ui.finish(&v)?;
            verdict(&v, mode.after.as_ref(), was_failed)
        }
        Err(e) => {
            ui.clear();
            Err(e)
        }
    }
}

/// Exit 4 for a pod that cannot start, with the way back.
pub fn stuck_error(name: &str, ns: &str, p: &Stuck) -> Error {
    let detail = if p.message.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.message)
    };
    Error::Failed(format!(
        "rollout \"{name}\" cannot progress: pod {} container {} is {}{detail}; fix the image or roll back with `kubectl kruise rollout undo rollout/{name} -n {ns}`",
        p.pod, p.container, p.reason
    ))
}

/// A pod of the release's new revision that cannot start, during a release (the workload
/// layer knows where a kind's new pods are).
pub async fn stuck(kube: &Kube, ro: &Rollout) -> Result<Option<Stuck>> {
    let phase = ro.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase != Some("Progressing") {
        return Ok(None);
    }
    let Ok((kind, wname)) = workload_of(ro) else {
        return Ok(None);
    };
    let stable = view::sub(ro)
        .and_then(|s| s.common.stable_revision.clone())
        .unwrap_or_default();
    workload::of(kind)
        .release_stuck(kube, &wname, &stable)
        .await
}

/// `rollout status rollout/NAME`: the line; with `-w` (the default) watch until it is rolled
/// out (0), fails or is cancelled (4), or `--timeout` passes (3); `--until-paused` stops at a
/// pause (0). `--watch=false` prints once: 0, or 4 for a failed release, or 5 waiting for
/// approval or paused.
pub async fn status(
    kube: &Kube,
    name: &str,
    watch_: bool,
    until_paused: bool,
    timeout: Duration,
) -> Result<()> {
    if !watch_ {
        let ro = get(kube, name).await?;
        let replicas = workload_replicas(kube, &ro).await;
        let v = view::judge(&ro, replicas, Timestamp::now());
        return match v.state {
            s if s.failed() => Err(Error::Failed(v.line)),
            State::WaitingApproval | State::Paused => Err(Error::Paused(v.line)),
            _ => output::outln(&v.line),
        };
    }
    if let crate::cmd::workload::Driver::Nobody = super::drive::driver(kube).await {
        output::note(&format!(
            "note: no controller reconciles rollout \"{name}\": run `kubectl kruise controller run -n {}` in another terminal",
            kube.namespace
        ));
    }
    watch(
        kube,
        name,
        WatchMode {
            outcome: Outcome::Stdout,
            until_paused,
            timeout,
            after: None,
        },
    )
    .await
}
