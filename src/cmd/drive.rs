//! After a change: who carries it out? A live operator or another embedded controller (then we
//! say so and, with `-w`, watch), or this process, which runs the kind's embedded reconciler for
//! this one object until it rests. Also `rollout status`'s watch: one loop for every kind.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::{DriveArgs, DryRun, OutputFormat};
use crate::client::Kube;
use crate::cmd::common::dry_suffix;
use crate::cmd::workload::{Cx, Driver, Observed, Phase, Workload, Written};
use crate::controller::lease;
use crate::controller::runtime::{self, Notice, Options, Progress, Report, Scope, Stuck};
use crate::error::{Error, Result};
use crate::output;

/// How a mutating command ends after its write.
#[derive(Debug, Clone, Copy)]
pub struct Drive {
    pub no_wait: bool,
    pub watch: bool,
    pub timeout: Duration,
}

impl From<&DriveArgs> for Drive {
    fn from(a: &DriveArgs) -> Drive {
        Drive {
            no_wait: a.no_wait,
            watch: a.watch,
            timeout: a.timeout,
        }
    }
}

/// Print what a change did, as `-o` asks (stdout carries only that), then drive or watch it.
pub async fn finish(
    cx: &Cx<'_>,
    w: &dyn Workload,
    name: &str,
    written: Written,
    drive: Option<Drive>,
) -> Result<()> {
    let held = match &written {
        Written::Changed { object, .. } => held_by(object),
        _ => None,
    };
    let drives = print_written(cx, w, name, written)?;
    match (drive, held) {
        (Some(d), Some(rollout)) if drives => drive_rollout(cx.kube, &rollout, d).await,
        (Some(d), None) if drives => self::drive(cx.kube, w, name, d).await,
        _ => Ok(()),
    }
}

/// The Rollout a written workload is held for (its `in-progressing` mark): a change that a
/// release carries out, step by step.
fn held_by(object: &serde_json::Value) -> Option<String> {
    let annotations = serde_json::from_value(object["metadata"]["annotations"].clone()).ok();
    crate::controller::rollout::gate::held_for(annotations.as_ref())
}

/// A change held for a Rollout is driven as the release: to its next pause, or its end.
async fn drive_rollout(kube: &Kube, rollout: &str, d: Drive) -> Result<()> {
    let ro = crate::cmd::rollout_cr::get(kube, rollout).await?;
    let after = crate::cmd::rollout_cr::After {
        moved_from: ro.metadata.resource_version.clone(),
        // Changing back to the stable template mid-release cancels it, as asked.
        cancel_expected: true,
    };
    crate::cmd::rollout_cr::drive(kube, rollout, d, after).await
}

/// Print what a change did, as `-o` asks (stdout carries only that); true when a controller
/// must now carry it out (a real write that drives).
pub fn print_written(cx: &Cx<'_>, w: &dyn Workload, name: &str, written: Written) -> Result<bool> {
    let prefix = format!("{}/{name}", w.kind().name_prefix());
    match written {
        Written::Skipped(line) => output::outln(&line).map(|_| false),
        Written::Preview { value, text } => match cx.output {
            Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                output::print_value(&value, f.into())
            }
            _ => output::out(&text),
        }
        .map(|_| false),
        Written::Changed {
            object,
            done,
            notes,
            drives,
        } => {
            match cx.output {
                Some(OutputFormat::Name) => output::outln(&prefix)?,
                Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                    output::print_objects(std::slice::from_ref(&object), f.into())?
                }
                _ => output::outln(&format!("{prefix} {done}{}", dry_suffix(cx.dry_run())))?,
            }
            for n in notes {
                output::note(&n);
            }
            Ok(drives && cx.dry_run() == DryRun::None)
        }
    }
}

/// After a write to `name`: drive it to rest with the embedded reconciler, or say who does.
pub async fn drive(kube: &Kube, w: &dyn Workload, name: &str, d: Drive) -> Result<()> {
    let ns = kube.namespace.clone();
    let prefix = format!("{}/{name}", w.kind().name_prefix());
    let who = match w.driver(kube).await {
        Driver::Builtin(_) if !d.watch => return Ok(()),
        Driver::Operator(who) | Driver::Builtin(who) => who,
        Driver::Embedded(h, controller) => format!(
            "the embedded controller of {} (lease {ns}/{})",
            h.describe(),
            lease::name(controller)
        ),
        Driver::Nobody if d.no_wait => {
            output::note(&format!(
                "{prefix} written; no controller is running: reconcile it with `kubectl kruise controller run -n {ns}` (or run this command without --no-wait)"
            ));
            return Ok(());
        }
        Driver::Nobody => return run_embedded(kube, w, name, d.timeout).await,
    };
    output::note(&format!("{prefix} is reconciled by {who}"));
    if d.watch {
        return watch(kube, w, name, Wait::change(d.timeout)).await;
    }
    Ok(())
}

/// How a watch ends and where its lines go.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    /// Stdout when the lines are the command's output (`rollout status`), stderr after a
    /// change, whose stdout carries only what `-o` asked for.
    pub outcome: Outcome,
    /// A pause ends the wait (a change's `-w`: the object rests; `rollout status`: only
    /// when asked, since paused is not rolled out).
    pub until_paused: bool,
    /// The revision `rollout status --revision` waits for (0: any).
    pub revision: i64,
}

impl Wait {
    pub fn change(timeout: Duration) -> Wait {
        Wait {
            timeout,
            outcome: Outcome::Stderr,
            until_paused: true,
            revision: 0,
        }
    }

    fn done(&self, phase: Phase) -> bool {
        match phase {
            Phase::Progressing => false,
            Phase::Paused => self.until_paused,
            Phase::Complete | Phase::Failed => true,
        }
    }
}

/// Where a wait's lines belong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stdout,
    Stderr,
}

/// How often a watched change looks for a pod that cannot start.
const STUCK_EVERY: Duration = Duration::from_secs(5);

/// Without any change of the object or its pods for this long, a driven release has stalled
/// (exit 4), as a Deployment's default `progressDeadlineSeconds` would say.
const STALL: Duration = Duration::from_secs(600);

/// Watch the object until it rests (0), fails (4) or the timeout passes (3). After a change
/// (`Outcome::Stderr`), a pod of the new revision that cannot start ends it too (4).
pub async fn watch(kube: &Kube, w: &dyn Workload, name: &str, wait: Wait) -> Result<()> {
    let first = w.observe(kube, name, wait.revision).await?;
    let object = format!("{}/{name}", w.kind().singular());
    let mut ui = Ui::new(&object, &first.progress, wait.outcome, false);
    ui.show(&first)?;
    if wait.done(first.phase) {
        return ui.finish(&first.line, first.phase);
    }
    let mut stream = w.watch(kube, name, wait.revision);
    let what = format!("{} \"{name}\"", w.kind().singular());
    let check_stuck = wait.outcome == Outcome::Stderr;
    let mut tick = tokio::time::interval(STUCK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let fut = async {
        loop {
            tokio::select! {
                ev = stream.next() => match ev.transpose()? {
                    Some(Some(o)) if wait.done(o.phase) => return Ok(o),
                    Some(Some(o)) => ui.show(&o)?,
                    Some(None) => {
                        return Err(Error::other(format!(
                            "{what} was deleted while waiting for it"
                        )));
                    }
                    None => return Err(Error::other("the watch ended unexpectedly")),
                },
                _ = tick.tick(), if check_stuck => {
                    if let Some(p) = w.stuck(kube, name).await? {
                        return Err(stuck_error(&what, &kube.namespace, w, name, &p));
                    }
                }
            }
        }
    };
    let result = with_timeout(fut, wait.timeout, &what).await;
    match result {
        Ok(o) => ui.finish(&o.line, o.phase),
        Err(e) => {
            ui.clear();
            Err(e)
        }
    }
}

/// Exit 4 for a pod that cannot start, with the way back.
fn stuck_error(what: &str, ns: &str, w: &dyn Workload, name: &str, p: &Stuck) -> Error {
    let undo = format!(
        "kubectl kruise rollout undo {}/{name} -n {ns}",
        w.kind().singular()
    );
    let detail = if p.message.is_empty() {
        String::new()
    } else {
        format!(" ({})", p.message)
    };
    Error::Failed(format!(
        "{what} cannot progress: pod {} container {} is {}{detail}; fix the image or roll back with `{undo}`",
        p.pod, p.container, p.reason
    ))
}

pub async fn with_timeout<T>(
    fut: impl std::future::Future<Output = Result<T>>,
    timeout: Duration,
    what: &str,
) -> Result<T> {
    if timeout.is_zero() {
        return fut.await;
    }
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(format!(
            "timed out after {} waiting for {what} to finish",
            humanize(timeout)
        ))),
    }
}

pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if d.subsec_millis() == 0 {
        format!("{s}s")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// What the embedded run saw that decides how it ends.
#[derive(Default)]
struct Seen {
    failure: Option<String>,
    stuck: Option<Stuck>,
    signal: Option<u8>,
    /// Pods the last pass still waited for (not updated or not available), for a timeout.
    waiting: Vec<String>,
    /// Nothing changed for `STALL`.
    stalled: bool,
}

/// Run the kind's embedded reconciler for this object until it rests.
async fn run_embedded(kube: &Kube, w: &dyn Workload, name: &str, timeout: Duration) -> Result<()> {
    let ns = kube.namespace.clone();
    let what = format!("{} \"{name}\"", w.kind().singular());
    let prefix = format!("{}/{name}", w.kind().name_prefix());
    let Some(embedded) = w.embedded() else {
        return Err(Error::other(format!(
            "no controller reconciles {what} and this tool has no embedded controller for it"
        )));
    };
    let first = w.observe(kube, name, 0).await?;
    let object = format!("{}/{name}", w.kind().singular());
    let ui = RefCell::new(Ui::new(&object, &first.progress, Outcome::Stderr, true));
    ui.borrow().note(&format!(
        "no controller is running: reconciling {prefix} with the embedded controller"
    ));
    let opts = Options {
        scope: Scope::Namespace(ns.clone()),
        only: Some((ns.clone(), name.to_string())),
        also: vec![],
        identity: lease::identity(),
        unwatched: vec![],
        until: Some(runtime::Until::Goal((embedded.settled)())),
    };
    let seen = RefCell::new(Seen::default());
    let signalled = Cell::new(None);
    // A new pod that cannot start ends the wait (exit 4) instead of waiting forever.
    let stuck_seen = tokio::sync::Notify::new();
    // A release in which nothing moves for `STALL` ends too (exit 4).
    let moved = Cell::new(std::time::Instant::now());
    let last_progress = RefCell::new(first.progress.clone());
    let stalled = Cell::new(false);
    let stall = async {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if moved.get().elapsed() >= STALL {
                stalled.set(true);
                return;
            }
        }
    };
    let stop = async {
        tokio::select! {
            s = stop_signal() => signalled.set(Some(s)),
            _ = stuck_seen.notified() => {}
            _ = stall => {}
        }
    };
    let on_report = |r: &Report| {
        ui.borrow_mut().report(r);
        if r.created + r.deleted + r.updated > 0 || *last_progress.borrow() != r.progress {
            moved.set(std::time::Instant::now());
            *last_progress.borrow_mut() = r.progress.clone();
        }
        let mut s = seen.borrow_mut();
        if let Some(e) = r.plan_errors.first() {
            s.failure.get_or_insert(e.clone());
        }
        s.waiting = r.waiting.clone();
        if let Some(p) = r.stuck.first()
            && s.stuck.is_none()
        {
            s.stuck = Some(p.clone());
            stuck_seen.notify_one();
        }
    };
    let on_notice = |n: &Notice| ui.borrow().note(&notice_line(n));
    let run = runtime::run(
        kube.client.clone(),
        vec![(embedded.reconciler)()],
        opts,
        stop,
        on_report,
        on_notice,
    );
    let result = with_timeout(run, timeout, &what).await;
    let ui = ui.into_inner();
    let mut seen = seen.into_inner();
    seen.signal = signalled.get();
    seen.stalled = stalled.get();
    match result {
        Ok(()) => {}
        Err(Error::Timeout(m)) if !seen.waiting.is_empty() => {
            ui.clear();
            return Err(Error::Timeout(format!(
                "{m}; still waiting for pod(s) {}",
                seen.waiting.join(", ")
            )));
        }
        Err(e) => {
            ui.clear();
            return Err(e);
        }
    }
    let last = w.observe(kube, name, 0).await?;
    if last.phase == Phase::Progressing {
        ui.clear();
        return Err(unfinished(&what, &ns, w, name, &last.line, seen));
    }
    ui.finish(&last.line, last.phase)
}

/// Why a driven object did not rest: a stuck pod (4), a refused spec (4), a signal (130/143).
fn unfinished(what: &str, ns: &str, w: &dyn Workload, name: &str, line: &str, seen: Seen) -> Error {
    if let Some(p) = &seen.stuck {
        return stuck_error(what, ns, w, name, p);
    }
    if let Some(f) = seen.failure {
        return Error::Failed(format!("{what}: {f}"));
    }
    if seen.stalled {
        return Error::Failed(format!(
            "{what} made no progress in {}: {line}; still waiting for pod(s) {}; look at them with `kubectl get pods -n {ns}`, or roll back with `kubectl kruise rollout undo {}/{name} -n {ns}`",
            humanize(STALL),
            if seen.waiting.is_empty() {
                "-".to_string()
            } else {
                seen.waiting.join(", ")
            },
            w.kind().singular()
        ));
    }
    let msg = format!(
        "stopped before {what} finished: {line}; continue with `kubectl kruise controller run -n {ns}`"
    );
    match seen.signal {
        Some(signal) => Error::Interrupted(signal, msg),
        None => Error::other(msg),
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

/// One line for a pass: `cloneset ns/web: 4 desired, 2 updated, …`.
pub fn summary(r: &Report) -> String {
    let s = &r.progress;
    let mut line = format!(
        "{} {}/{}: {} desired, {} updated, {} ready, {} available, {} total",
        r.controller, r.key.0, r.key.1, s.desired, s.updated, s.ready, s.available, s.total
    );
    if s.paused {
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
        Notice::Standby {
            controller,
            namespace,
            holder,
        } => format!(
            "standby: the {controller} controller in namespace {namespace:?} is driven by {} (lease {}/{} renewed {}s ago); taking over when it stops",
            holder.describe(),
            namespace,
            lease::name(controller),
            holder.renewed_seconds_ago
        ),
        Notice::Acquired {
            controller,
            namespace,
        } => format!(
            "driving {controller}s in namespace {namespace:?} (lease {namespace}/{})",
            lease::name(controller)
        ),
        Notice::Lost {
            controller,
            namespace,
        } => format!("lost the {controller} lease in namespace {namespace:?}; standing by"),
    }
}

/// Progress bars on a terminal (pods updated / ready / available of N, each naming the
/// object, starting where the object stands), plain lines otherwise.
struct Ui {
    bars: Option<(MultiProgress, ProgressBar, ProgressBar, ProgressBar)>,
    /// The bars are drawn (a driven change draws them from its first pass's status: the
    /// status read before it still counts the old template's pods as updated).
    drawn: bool,
    last: String,
    outcome: Outcome,
}

impl Ui {
    /// Bars drawn at once from `p` (a watch), or at the first report (`fresh`: a drive).
    fn new(object: &str, p: &Progress, outcome: Outcome, fresh: bool) -> Ui {
        let bars = output::progress::enabled().then(|| {
            let target = if fresh {
                ProgressDrawTarget::hidden()
            } else {
                ProgressDrawTarget::stderr()
            };
            let m = MultiProgress::with_draw_target(target);
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                .expect("static template")
                .progress_chars("=> ");
            let width = "available".len();
            // Each bar is at its count before it is first drawn (no frame at 0).
            let mk = |what: &str, at: i32| {
                let b = ProgressBar::new(p.desired.max(0) as u64)
                    .with_style(style.clone())
                    .with_prefix(format!("{object} {what:>width$}"))
                    .with_position(at.max(0) as u64);
                m.add(b)
            };
            let (u, r, a) = (
                mk("updated", p.updated),
                mk("ready", p.ready),
                mk("available", p.available),
            );
            (m, u, r, a)
        });
        let ui = Ui {
            bars,
            drawn: !fresh,
            outcome,
            last: String::new(),
        };
        ui.set(p);
        ui
    }

    fn note(&self, line: &str) {
        match &self.bars {
            Some((m, ..)) => m.suspend(|| output::note(line)),
            None => output::note(line),
        }
    }

    fn set(&self, p: &Progress) {
        if let Some((_, u, r, a)) = &self.bars {
            for (b, v) in [(u, p.updated), (r, p.ready), (a, p.available)] {
                b.set_length(p.desired.max(0) as u64);
                b.set_position(v.max(0) as u64);
            }
        }
    }

    /// A new status line: the bars on a terminal, else the line once (kubectl's habit).
    fn show(&mut self, o: &Observed) -> Result<()> {
        if self.bars.is_some() {
            self.set(&o.progress);
        } else if o.line != self.last {
            self.last = o.line.clone();
            match self.outcome {
                Outcome::Stdout => output::outln(&o.line)?,
                Outcome::Stderr => output::note(&o.line),
            }
        }
        Ok(())
    }

    fn report(&mut self, r: &Report) {
        for e in &r.errors {
            self.note(&format!("{} {}/{}: {e}", r.controller, r.key.0, r.key.1));
        }
        if let Some((m, ..)) = &self.bars {
            let first = !self.drawn;
            self.drawn = true;
            self.set(&r.progress);
            if first {
                m.set_draw_target(ProgressDrawTarget::stderr());
            }
            return;
        }
        let line = summary(r);
        let key = line
            .split(" (this pass")
            .next()
            .unwrap_or_default()
            .to_string();
        if key != self.last || line.contains("this pass") {
            self.last = key;
            output::note(&line);
        }
    }

    fn clear(&self) {
        if let Some((m, ..)) = &self.bars {
            let _ = m.clear();
        }
    }

    fn finish(&self, line: &str, phase: Phase) -> Result<()> {
        self.clear();
        match phase {
            Phase::Failed => Err(Error::Failed(line.to_string())),
            _ if self.outcome == Outcome::Stdout && self.last != line => output::outln(line),
            _ if self.outcome == Outcome::Stdout => Ok(()),
            _ => {
                output::note(line);
                Ok(())
            }
        }
    }
}
