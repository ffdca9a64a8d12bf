//! After a change to a Rollout (approve, resume, undo, or a gated change of its workload): who
//! carries it out? The Kruise Rollout operator or another process's embedded controller (then
//! we say so and, with `-w`, watch), or this process: the embedded reconcilers registered as
//! `rollout` and `batchrelease` (looked up by name in [`crate::controller::REGISTRY`]), plus
//! the workload's own embedded reconciler when nobody else drives it (CloneSet, Advanced
//! StatefulSet or DaemonSet; kube-controller-manager drives Deployments and StatefulSets), run
//! for this one Rollout until it rests: waiting for approval, paused, at the end of a release
//! (or with none in progress), failed or cancelled.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::status::{self, Ui, WatchMode};
use super::view::{self, State, View};
use super::{get, prefix, workload_of, workload_replicas};
use crate::api::Rollout;
use crate::client::Kube;
use crate::client::detect;
use crate::cmd::drive::{Drive, Outcome, humanize, notice_line, stop_signal};
use crate::cmd::workload::{self, Driver};
use crate::controller::lease;
use crate::controller::runtime::{
    self, Goal, Key, Notice, Options, Reconciler, Report, Scope, Stuck,
};
use crate::error::{Error, Result};
use k8s_openapi::jiff::Timestamp;

/// The embedded reconcilers a Rollout needs, by their registry names.
pub const ROLLOUT_CONTROLLER: &str = "rollout";
pub const BATCHRELEASE_CONTROLLER: &str = "batchrelease";

/// Without any change of the Rollout or the pods for this long (a timed pause aside), a driven
/// release has stalled (exit 4).
const STALL: Duration = Duration::from_secs(600);

/// How often a driven release looks for a pod that cannot start (the reconcilers report
/// theirs too).
const STUCK_EVERY: Duration = Duration::from_secs(5);

/// What the change that precedes the drive expects of the Rollout.
#[derive(Debug, Clone, Default)]
pub struct After {
    /// Rest counts only once the Rollout's resourceVersion differs from this one: the
    /// controller has reacted to the change (a status it wrote, not the one we read). `None`
    /// when the change gives the controller nothing to write (the Rollout may rest as it is).
    pub moved_from: Option<String>,
    /// A cancelled release is the expected end (`undo` during a release), not a failure.
    pub cancel_expected: bool,
}

impl After {
    pub fn moved(&self, v: &View) -> bool {
        self.moved_from
            .as_ref()
            .is_none_or(|rv| *rv != v.resource_version)
    }
}

/// An embedded reconciler of this build, by its registry name.
pub fn registered(name: &str) -> Result<Box<dyn Reconciler>> {
    crate::controller::REGISTRY
        .iter()
        .find(|r| r.name == name)
        .map(|r| (r.make)())
        .ok_or_else(|| {
            Error::other(format!(
                "this build has no embedded {name} controller, so nothing can drive the Rollout without the Kruise Rollout operator; install the operator, or run the command with --no-wait and drive it later"
            ))
        })
}

/// Who reconciles Rollouts in this namespace: the Kruise Rollout operator if it is live, else
/// another process holding the embedded `rollout` Lease, else nobody.
pub async fn driver(kube: &Kube) -> Driver {
    let op = detect::operator(kube, &detect::kruise_rollout()).await;
    if op.live {
        return Driver::Operator(format!(
            "the Kruise Rollout operator in namespace {:?}",
            op.namespace
        ));
    }
    match lease::holder(&kube.client, &kube.namespace, ROLLOUT_CONTROLLER).await {
        Ok(Some(h)) if h.identity != lease::identity() => Driver::Embedded(h, ROLLOUT_CONTROLLER),
        _ => Driver::Nobody,
    }
}

/// After a change to Rollout `name`: drive it to rest with the embedded reconcilers, or say
/// who does (and watch with `-w`). The entry point for any command whose write a Rollout
/// carries out (`approve`, `resume`, `undo`, a gated `set image` of its workload).
pub async fn drive(kube: &Kube, name: &str, d: Drive, after: After) -> Result<()> {
    let ns = kube.namespace.clone();
    let who = match driver(kube).await {
        Driver::Operator(who) | Driver::Builtin(who) => who,
        Driver::Embedded(h, controller) => format!(
            "the embedded controller of {} (lease {ns}/{})",
            h.describe(),
            lease::name(controller)
        ),
        Driver::Nobody if d.no_wait => {
            crate::output::note(&format!(
                "{} written; no controller is running: reconcile it with `kubectl kruise controller run -n {ns}` (or run this command without --no-wait)",
                prefix(name)
            ));
            return Ok(());
        }
        Driver::Nobody => return run_embedded(kube, name, d.timeout, after).await,
    };
    crate::output::note(&format!("{} is reconciled by {who}", prefix(name)));
    if d.watch {
        return status::watch(
            kube,
            name,
            WatchMode {
                outcome: Outcome::Stderr,
                until_paused: true,
                timeout: d.timeout,
                after: Some(after),
            },
        )
        .await;
    }
    Ok(())
}

/// What the embedded run saw that decides how it ends.
#[derive(Default)]
struct Seen {
    failure: Option<String>,
    stuck: Option<Stuck>,
    signal: Option<u8>,
    stalled: bool,
    timed_out: bool,
}

/// Shared between the goal (which sees the stores) and the loop around the run.
struct Shared {
    ui: Ui,
    last: Option<View>,
    rollout: Option<Arc<Rollout>>,
    moved: Instant,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Run the Rollout's reconcilers (and its workload's) for this one Rollout until it rests.
async fn run_embedded(kube: &Kube, name: &str, timeout: Duration, after: After) -> Result<()> {
    let ns = kube.namespace.clone();
    let what = format!("rollout \"{name}\"");
    let mut reconcilers = vec![
        registered(ROLLOUT_CONTROLLER)?,
        registered(BATCHRELEASE_CONTROLLER)?,
    ];
    let ro = get(kube, name).await?;
    let replicas = workload_replicas(kube, &ro).await;
    let first = view::judge(&ro, replicas, Timestamp::now());
    let was_failed = first.state.failed();
    let mut also: Vec<(&'static str, Key)> = vec![];
    let mut workload_goal: Option<(Goal, Key)> = None;
    let mut driven = vec!["Rollout", "BatchRelease"];
    let mut notes = vec![];
    if let Ok((kind, wname)) = workload_of(&ro) {
        let w = workload::of(kind);
        if let Some(e) = w.embedded() {
            let key = (ns.clone(), wname.clone());
            match w.driver(kube).await {
                Driver::Nobody => {
                    reconcilers.push((e.reconciler)());
                    also.push((e.controller, key.clone()));
                    workload_goal = Some(((e.settled)(), key));
                    driven.push(e.controller);
                }
                Driver::Operator(who) | Driver::Builtin(who) => notes.push(format!(
                    "{}/{wname} is reconciled by {who}",
                    kind.name_prefix()
                )),
                Driver::Embedded(h, c) => notes.push(format!(
                    "{}/{wname} is reconciled by the embedded controller of {} (lease {ns}/{})",
                    kind.name_prefix(),
                    h.describe(),
                    lease::name(c)
                )),
            }
        }
    }
    let shared = Arc::new(Mutex::new(Shared {
        ui: Ui::new(Outcome::Stderr),
        last: None,
        rollout: Some(Arc::new(ro)),
        moved: Instant::now(),
    }));
    {
        let mut s = lock(&shared);
        s.ui.note(&format!(
            "no controller is running: reconciling {} with the embedded {} controllers",
            prefix(name),
            driven.join(", ")
        ));
        for n in &notes {
            s.ui.note(n);
        }
        let _ = s.ui.show(&first);
        s.last = Some(first);
    }
    let goal: Goal = {
        let shared = shared.clone();
        let after = after.clone();
        Box::new(move |stores: &runtime::Stores, key: &Key| {
            let Some(ro) = stores.get::<Rollout>(key) else {
                return false;
            };
            let v = view::judge(&ro, replicas, Timestamp::now());
            let mut s = lock(&shared);
            if s.last.as_ref().is_none_or(|l| l.line != v.line) || v.state == State::TimedPause {
                s.moved = Instant::now();
            }
            let _ = s.ui.show(&v);
            s.rollout = Some(ro.clone());
            // The workload marked for a release the controller has yet to take up is not
            // at rest, whatever the Rollout's status still says.
            let rests = after.moved(&v)
                && v.state.rests()
                && crate::controller::rollout::reconciler::rests(stores, &ro);
            s.last = Some(v);
            // A blue-green release keeps its workload short of its own goal on purpose (new
            // pods beside the old, none "available"): the Rollout's rest is the rest.
            let surging = crate::controller::rollout::reconciler::facts(stores, &ro)
                .is_some_and(|f| f.surging);
            rests && (surging || workload_goal.as_ref().is_none_or(|(g, k)| g(stores, k)))
        })
    };
    let unwatched = lock(&shared)
        .rollout
        .as_ref()
        .map(|r| crate::controller::rollout::reconciler::unwatched(r))
        .unwrap_or_default();
    let opts = Options {
        scope: Scope::Namespace(ns.clone()),
        only: Some((ns.clone(), name.to_string())),
        also,
        identity: lease::identity(),
        unwatched,
        until: Some(runtime::Until::Goal(goal)),
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let halt = tokio::sync::Notify::new();
    let stall = async {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if lock(&shared).moved.elapsed() >= STALL {
                lock(&seen).stalled = true;
                return;
            }
        }
    };
    // Pods that cannot start, looked for directly too (a Deployment's canary pods have no
    // embedded reconciler here to report them).
    let pods = async {
        loop {
            tokio::time::sleep(STUCK_EVERY).await;
            // Only a release that stands still can be held by a pod: one that moves is read
            // from the watches alone (two requests a look, every few seconds, otherwise).
            let ro = {
                let s = lock(&shared);
                (s.moved.elapsed() >= STUCK_EVERY)
                    .then(|| s.rollout.clone())
                    .flatten()
            };
            if let Some(ro) = ro
                && let Ok(Some(p)) = status::stuck(kube, &ro).await
            {
                lock(&seen).stuck.get_or_insert(p);
                return;
            }
        }
    };
    // The timeout stops the run like a signal does: the pass in flight finishes and the Leases
    // are released (dropping the run would leave them held for their duration).
    let deadline = async {
        if timeout.is_zero() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(timeout).await;
    };
    let stop = async {
        tokio::select! {
            s = stop_signal() => lock(&seen).signal = Some(s),
            _ = halt.notified() => {}
            _ = stall => {}
            _ = pods => {}
            _ = deadline => lock(&seen).timed_out = true,
        }
    };
    let on_report = |r: &Report| {
        let mut s = lock(&shared);
        for e in &r.errors {
            s.ui.note(&format!("{} {}/{}: {e}", r.controller, r.key.0, r.key.1));
        }
        if r.created + r.deleted + r.updated > 0 {
            s.moved = Instant::now();
        }
        drop(s);
        let mut seen = lock(&seen);
        if let Some(e) = r.plan_errors.first()
            && seen.failure.is_none()
        {
            seen.failure = Some(format!("{} {}/{}: {e}", r.controller, r.key.0, r.key.1));
            halt.notify_one();
        }
        if let Some(p) = r.stuck.first()
            && seen.stuck.is_none()
        {
            seen.stuck = Some(p.clone());
            halt.notify_one();
        }
    };
    let on_notice = |n: &Notice| lock(&shared).ui.note(&notice_line(n));
    let run = runtime::run(
        kube.client.clone(),
        reconcilers,
        opts,
        stop,
        on_report,
        on_notice,
    );
    let result = run.await;
    let seen = std::mem::take(&mut *lock(&seen));
    let last_line = lock(&shared)
        .last
        .as_ref()
        .map(|v| v.line.clone())
        .unwrap_or_default();
    if let Err(e) = result {
        lock(&shared).ui.clear();
        return Err(e);
    }
    if seen.timed_out {
        lock(&shared).ui.clear();
        return Err(Error::Timeout(format!(
            "timed out after {} waiting for {what} to rest; last: {last_line}; continue with `kubectl kruise controller run -n {ns}`",
            humanize(timeout)
        )));
    }
    let unfinished =
        seen.signal.is_some() || seen.stuck.is_some() || seen.failure.is_some() || seen.stalled;
    if unfinished {
        lock(&shared).ui.clear();
        return Err(stopped(name, &ns, &last_line, seen));
    }
    // The copy the goal judged at rest (the watch's latest), not a read after the fact.
    let last = lock(&shared).rollout.clone();
    let ro = match last {
        Some(ro) => ro,
        None => Arc::new(get(kube, name).await?),
    };
    let v = view::judge(&ro, replicas, Timestamp::now());
    lock(&shared).ui.finish(&v)?;
    status::verdict(&v, Some(&after), was_failed)
}

/// Why a driven Rollout did not rest: a stuck pod (4), a refused object (4), no progress (4),
/// a signal (130/143).
fn stopped(name: &str, ns: &str, line: &str, seen: Seen) -> Error {
    if let Some(p) = &seen.stuck {
        return status::stuck_error(name, ns, p);
    }
    if let Some(f) = seen.failure {
        return Error::Failed(format!("rollout \"{name}\" cannot progress: {f}"));
    }
    if seen.stalled {
        return Error::Failed(format!(
            "rollout \"{name}\" made no progress in {}: {line}; look at it with `kubectl kruise rollout status rollout/{name} -n {ns} --watch=false`, or roll back with `kubectl kruise rollout undo rollout/{name} -n {ns}`",
            humanize(STALL)
        ));
    }
    let msg = format!(
        "stopped before rollout \"{name}\" rested: {line}; continue with `kubectl kruise controller run -n {ns}`"
    );
    match seen.signal {
        Some(signal) => Error::Interrupted(signal, msg),
        None => Error::other(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_needs_another_resource_version() {
        let v = |rv: &str| View {
            line: String::new(),
            state: State::WaitingApproval,
            step: None,
            step_state: String::new(),
            pods: None,
            traffic: None,
            resource_version: rv.into(),
        };
        let a = After {
            moved_from: Some("5".into()),
            cancel_expected: false,
        };
        assert!(!a.moved(&v("5")));
        assert!(a.moved(&v("6")));
        assert!(After::default().moved(&v("5")));
    }

    #[test]
    fn the_registry_is_looked_up_by_name() {
        assert!(registered("cloneset").is_ok());
        let e = registered("no-such-controller")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("no embedded no-such-controller controller"),
            "{e}"
        );
    }
}
