//! What every CloneSet command shares: reading it, the plan preview (`--dry-run=client`), the
//! rollout status line, and "drive": after a write, who makes it happen? A live operator or
//! another embedded controller (then we say so and, with `-w`, watch), or this process, which
//! runs the embedded reconciler for this one CloneSet until it rests.

use std::cell::RefCell;
use std::time::Duration;

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};

use crate::api::cloneset::CloneSet;
use crate::cli::OutputFormat;
use crate::client::{Kube, detect};
use crate::controller::cloneset::plan::{Action, Snapshot};
use crate::controller::cloneset::preview::{self, Preview};
use crate::controller::lease;
use crate::controller::runtime::{self, Options, Scope};
use crate::error::{Error, Result, Target, from_kube};
use crate::output::{self, progress, table::KubeTable};

pub const RESOURCE: &str = "cloneset.apps.kruise.io";

pub fn api(kube: &Kube) -> Api<CloneSet> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

pub fn target<'a>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: "clonesets.apps.kruise.io",
        name,
        namespace: &kube.namespace,
    }
}

pub async fn get(kube: &Kube, name: &str) -> Result<CloneSet> {
    api(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target(kube, name))))
}

/// What a command prints after writing the CloneSet: kubectl's line, or the object.
pub fn print_written(
    name: &str,
    obj: &CloneSet,
    done: &str,
    dry: crate::cli::DryRun,
    fmt: Option<OutputFormat>,
) -> Result<()> {
    match fmt {
        Some(OutputFormat::Name) => output::outln(&format!("{RESOURCE}/{name}")),
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(std::slice::from_ref(obj), f)
        }
        _ => output::outln(&format!(
            "{RESOURCE}/{name} {done}{}",
            crate::cmd::rollout::dry_suffix(dry)
        )),
    }
}

/// Pods, revisions and PVCs of the namespace, for a plan.
pub async fn snapshot(kube: &Kube, cs: &CloneSet) -> Result<Snapshot> {
    let ns = &kube.namespace;
    let sel = crate::controller::selector::render(&cs.spec.selector).unwrap_or_default();
    let lp = ListParams::default().labels(&sel);
    let pods: Api<Pod> = Api::namespaced(kube.client.clone(), ns);
    let revs: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), ns);
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(kube.client.clone(), ns);
    let (p, r, c) = futures::join!(pods.list(&lp), revs.list(&lp), pvcs.list(&lp));
    let e = |e| from_kube(e, &kube.server, None);
    Ok(Snapshot {
        cloneset: cs.clone(),
        pods: p
            .map_err(e)?
            .items
            .into_iter()
            .map(std::sync::Arc::new)
            .collect(),
        revisions: r.map_err(e)?.items,
        pvcs: c.map_err(e)?.items,
        now: Timestamp::now(),
        seed: 1,
    })
}

/// Print the preview of what the reconciler would do with `after` (the CloneSet as the command
/// would leave it).
pub async fn print_preview(kube: &Kube, after: &CloneSet, fmt: Option<OutputFormat>) -> Result<()> {
    let s = snapshot(kube, after).await?;
    let pv = preview::preview(&s, 500).map_err(|e| Error::other(e.to_string()))?;
    show_preview(&pv, fmt)
}

pub fn show_preview(pv: &Preview, fmt: Option<OutputFormat>) -> Result<()> {
    match fmt {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => output::print_value(pv, f),
        _ => {
            output::outln(&format!(
                "{RESOURCE}/{} plan (dry run): {} batch(es), rests at {} with {} pods, {} at revision {}",
                pv.cloneset,
                pv.batches.len(),
                pv.rests_at,
                pv.replicas,
                pv.updated,
                pv.update_revision
            ))?;
            for e in &pv.errors {
                output::outln(&format!("  error: {e}"))?;
            }
            if pv.batches.is_empty() {
                return output::outln("  nothing to do");
            }
            let mut t = KubeTable::new(&["BATCH", "ACTION", "POD", "DETAIL"], true).gap(3);
            for b in &pv.batches {
                for a in &b.actions {
                    let (verb, detail) = describe(a);
                    t.row([
                        b.batch.to_string(),
                        verb.to_string(),
                        a.pod().to_string(),
                        detail,
                    ]);
                }
            }
            output::out(&t.render())
        }
    }
}

fn describe(a: &Action) -> (&'static str, String) {
    match a {
        Action::Create { revision, pvcs, .. } => (
            "create",
            if pvcs.is_empty() {
                format!("revision {revision}")
            } else {
                format!("revision {revision}, pvcs {}", pvcs.join(","))
            },
        ),
        Action::Delete { reason, .. } => ("delete", reason.to_string()),
        Action::UpdateInPlace { change, to, .. } => (
            "update-in-place",
            format!(
                "{} → {to}",
                change
                    .images
                    .iter()
                    .map(|(c, i)| format!("{c}={i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        Action::FinishGrace { .. } => ("update-images", "grace period over".into()),
        Action::ReownPvc { pvc, .. } => ("hand-pvc", format!("pvc {pvc} goes with the pod")),
        Action::Mark { reason, marks, .. } => (
            "mark",
            format!(
                "{reason}: {}",
                marks
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("-")))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        Action::Release { .. } => ("release", "no longer matches the selector".into()),
        Action::DeletePvc { .. } => ("delete-pvc", "no pod uses it".into()),
    }
}

pub use crate::controller::cloneset::goal::{Phase, at_goal, status};

/// How a mutating command ends after its write.
#[derive(Debug, Clone, Copy)]
pub struct Drive {
    pub no_wait: bool,
    pub watch: bool,
    pub timeout: Duration,
}

/// Who reconciles CloneSets in this namespace.
pub enum Driver {
    Operator(String),
    Embedded(lease::Holder),
    Nobody,
}

pub async fn driver(kube: &Kube) -> Driver {
    let op = detect::operator(kube, &detect::openkruise()).await;
    if op.live {
        return Driver::Operator(format!(
            "the OpenKruise manager in namespace {:?}",
            op.namespace
        ));
    }
    match lease::holder(&kube.client, &kube.namespace, "cloneset").await {
        Ok(Some(h)) if h.identity != lease::identity() => Driver::Embedded(h),
        _ => Driver::Nobody,
    }
}

/// After a write to `name`: drive it to rest with the embedded reconciler, or say who does.
pub async fn drive(kube: &Kube, name: &str, d: Drive) -> Result<()> {
    let ns = kube.namespace.clone();
    match driver(kube).await {
        Driver::Operator(who) => {
            output::note(&format!("{RESOURCE}/{name} is reconciled by {who}"));
            if d.watch {
                return watch(kube, name, d.timeout, Outcome::Stderr, true).await;
            }
            Ok(())
        }
        Driver::Embedded(h) => {
            output::note(&format!(
                "{RESOURCE}/{name} is reconciled by the embedded controller of {} (lease {ns}/{})",
                h.describe(),
                lease::name("cloneset")
            ));
            if d.watch {
                return watch(kube, name, d.timeout, Outcome::Stderr, true).await;
            }
            Ok(())
        }
        Driver::Nobody if d.no_wait => {
            output::note(&format!(
                "{RESOURCE}/{name} written; no controller is running: reconcile it with `kubectl kruise controller run -n {ns}` (or run this command without --no-wait)"
            ));
            Ok(())
        }
        Driver::Nobody => run_embedded(kube, name, d.timeout).await,
    }
}

/// Watch the CloneSet until it rests (0), fails (4) or the timeout passes (3); a pause ends the
/// wait only `until_paused` (a change's `-w`: the CloneSet rests; `rollout status`: only when
/// asked, since paused is not rolled out). The last line goes where `outcome` says.
pub async fn watch(
    kube: &Kube,
    name: &str,
    timeout: Duration,
    outcome: Outcome,
    until_paused: bool,
) -> Result<()> {
    let done = |phase: Phase| match phase {
        Phase::Progressing => false,
        Phase::Paused => until_paused,
        Phase::Complete | Phase::Failed => true,
    };
    let first = get(kube, name).await?;
    let mut ui = Ui::new(&first, outcome);
    let (line, phase) = status(&first);
    ui.show(&first, &line);
    if done(phase) {
        return ui.finish(&line, phase);
    }
    let stream = kube::runtime::watcher::watch_object(api(kube), name);
    futures::pin_mut!(stream);
    let fut = async {
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(Some(cs)) => {
                    let (line, phase) = status(&cs);
                    ui.show(&cs, &line);
                    if done(phase) {
                        return Ok((line, phase));
                    }
                }
                Ok(None) => {
                    return Err(Error::other(format!(
                        "cloneset \"{name}\" was deleted while waiting for it"
                    )));
                }
                Err(e) => tracing::warn!("watch of cloneset {name} interrupted ({e}); resuming"),
            }
        }
        Err(Error::other("the watch ended unexpectedly"))
    };
    let result = with_timeout(fut, timeout, name).await;
    match result {
        Ok((line, phase)) => ui.finish(&line, phase),
        Err(e) => {
            ui.clear();
            Err(e)
        }
    }
}

async fn with_timeout<T>(
    fut: impl std::future::Future<Output = Result<T>>,
    timeout: Duration,
    name: &str,
) -> Result<T> {
    if timeout.is_zero() {
        return fut.await;
    }
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(format!(
            "timed out after {}s waiting for cloneset \"{name}\" to finish",
            timeout.as_secs()
        ))),
    }
}

/// Run the embedded reconciler for this CloneSet until it rests.
async fn run_embedded(kube: &Kube, name: &str, timeout: Duration) -> Result<()> {
    let ns = kube.namespace.clone();
    let first = get(kube, name).await?;
    let ui = RefCell::new(Ui::new(&first, Outcome::Stderr));
    ui.borrow().note(&format!(
        "no OpenKruise manager is running: reconciling {RESOURCE}/{name} with the embedded controller"
    ));
    let opts = Options {
        scope: Scope::Namespace(ns.clone()),
        only: Some((ns.clone(), name.to_string())),
        identity: lease::identity(),
        until: Some(Box::new(|cs: &CloneSet| status(cs).1 != Phase::Progressing)),
    };
    let failure: RefCell<Option<String>> = RefCell::new(None);
    let signalled: std::cell::Cell<Option<u8>> = std::cell::Cell::new(None);
    // A new pod that cannot start ends the wait (exit 4) instead of waiting forever.
    let stuck: RefCell<Option<crate::controller::cloneset::plan::Stuck>> = RefCell::new(None);
    let stuck_seen = tokio::sync::Notify::new();
    let stop = async {
        tokio::select! {
            s = crate::cmd::controller::stop_signal() => signalled.set(Some(s)),
            _ = stuck_seen.notified() => {}
        }
    };
    let client = kube.client.clone();
    let fut = async {
        runtime::run(
            client,
            opts,
            stop,
            |r| {
                ui.borrow_mut().report(r);
                if let Some(e) = r.plan_errors.first() {
                    failure.borrow_mut().get_or_insert(e.clone());
                }
                if let Some(p) = r.stuck.first()
                    && stuck.borrow().is_none()
                {
                    *stuck.borrow_mut() = Some(p.clone());
                    stuck_seen.notify_one();
                }
            },
            |n| ui.borrow().note(&crate::cmd::controller::notice_line(n)),
        )
        .await
    };
    let result = with_timeout(fut, timeout, name).await;
    let ui = ui.into_inner();
    if let Err(e) = result {
        ui.clear();
        return Err(e);
    }
    let last = get(kube, name).await?;
    let (line, phase) = status(&last);
    if let Some(p) = stuck.into_inner().filter(|_| phase == Phase::Progressing) {
        ui.clear();
        return Err(Error::Failed(format!(
            "cloneset \"{name}\" cannot progress: pod {} container {} is {}{}; fix the image or roll back with `kubectl kruise rollout undo cloneset/{name} -n {ns}`",
            p.pod,
            p.container,
            p.reason,
            if p.message.is_empty() {
                String::new()
            } else {
                format!(" ({})", p.message)
            }
        )));
    }
    if let Some(f) = failure.into_inner().filter(|_| phase == Phase::Progressing) {
        ui.clear();
        return Err(Error::Failed(format!("cloneset \"{name}\": {f}")));
    }
    if phase == Phase::Progressing {
        ui.clear();
        let msg = format!(
            "stopped before cloneset \"{name}\" finished: {line}; continue with `kubectl kruise controller run -n {ns}`"
        );
        return Err(match signalled.get() {
            Some(signal) => Error::Interrupted(signal, msg),
            None => Error::other(msg),
        });
    }
    ui.finish(&line, phase)
}

/// Progress bars on a terminal (pods updated / ready / available of N), plain lines otherwise.
struct Ui {
    bars: Option<(MultiProgress, ProgressBar, ProgressBar, ProgressBar)>,
    last: String,
    /// Where the resting line goes: stdout when it is the command's output (`rollout
    /// status`), stderr after a change, whose stdout carries only what `-o` asked for.
    outcome: Outcome,
}

/// Where a wait's last line belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stdout,
    Stderr,
}

impl Ui {
    fn new(cs: &CloneSet, outcome: Outcome) -> Ui {
        let bars = progress::enabled().then(|| {
            let m = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let want = cs.spec.replicas.unwrap_or(1).max(0) as u64;
            let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
                .expect("static template")
                .progress_chars("=> ");
            let mk = |p: &str| {
                let b = m.add(ProgressBar::new(want));
                b.set_style(style.clone());
                b.set_prefix(p.to_string());
                b
            };
            let (u, r, a) = (mk("updated"), mk("ready"), mk("available"));
            (m, u, r, a)
        });
        Ui {
            bars,
            outcome,
            last: String::new(),
        }
    }

    fn note(&self, line: &str) {
        match &self.bars {
            Some((m, ..)) => m.suspend(|| output::note(line)),
            None => output::note(line),
        }
    }

    fn set(&self, want: i32, updated: i32, ready: i32, available: i32, msg: &str) {
        if let Some((_, u, r, a)) = &self.bars {
            for (b, v) in [(u, updated), (r, ready), (a, available)] {
                b.set_length(want.max(0) as u64);
                b.set_position(v.max(0) as u64);
            }
            u.set_message(msg.to_string());
        }
    }

    fn show(&mut self, cs: &CloneSet, line: &str) {
        let st = cs.status.clone().unwrap_or_default();
        let want = cs.spec.replicas.unwrap_or(1);
        if self.bars.is_some() {
            self.set(
                want,
                st.updated_replicas,
                st.ready_replicas,
                st.available_replicas,
                "",
            );
        } else if line != self.last {
            self.last = line.to_string();
            output::note(line);
        }
    }

    fn report(&mut self, r: &runtime::Report) {
        for e in &r.errors {
            self.note(&format!("cloneset {}/{}: {e}", r.key.0, r.key.1));
        }
        let s = &r.status;
        if self.bars.is_some() {
            self.set(
                r.spec_replicas,
                s.updated_replicas,
                s.ready_replicas,
                s.available_replicas,
                "",
            );
        } else {
            let line = crate::cmd::controller::summary(r);
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
            _ if self.outcome == Outcome::Stdout => output::outln(line),
            _ => {
                output::note(line);
                Ok(())
            }
        }
    }
}
