//! The embedded controller's runtime: watches (re-listing on 410 Gone, with backoff), a queue
//! of CloneSets to reconcile, expectations (a pass waits until the watch has seen the last
//! pass's writes), a Lease per namespace, and a clean stop on Ctrl-C: the pass in flight
//! finishes, the Leases are released.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::cloneset::plan::{self, Snapshot};
use super::cloneset::sync::{self, Expect};
use super::lease::{self, Acquire, Holder};
use crate::api::cloneset::{CloneSet, CloneSetStatus};
use crate::error::{Error, Result};

/// Where the controller acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Namespace(String),
    All,
}

/// A CloneSet, by namespace and name.
pub type Key = (String, String);

/// What a pass did, for the summary line or the progress bars.
#[derive(Debug, Clone)]
pub struct Report {
    pub key: Key,
    pub spec_replicas: i32,
    pub status: CloneSetStatus,
    pub created: usize,
    pub deleted: usize,
    pub updated: usize,
    pub errors: Vec<String>,
    /// Errors of the plan itself (FailedScale / FailedUpdate): retrying will not help.
    pub plan_errors: Vec<String>,
    pub paused: bool,
    /// Pods of the update revision that cannot start (image pull failures, crash loops).
    pub stuck: Vec<super::cloneset::plan::Stuck>,
}

/// Something a person should read once (standby, takeover, lost lease).
#[derive(Debug, Clone)]
pub enum Notice {
    Standby { namespace: String, holder: Holder },
    Acquired { namespace: String },
    Lost { namespace: String },
}

/// When a driving command may stop.
pub type Goal = Box<dyn Fn(&CloneSet) -> bool + Send>;

pub struct Options {
    pub scope: Scope,
    /// Only this CloneSet (a command driving its own object).
    pub only: Option<Key>,
    pub identity: String,
    /// Stop when this returns true for the CloneSet in `only` (or for every CloneSet in scope).
    pub until: Option<Goal>,
}

const CONTROLLER: &str = "cloneset";
const EXPECT_TIMEOUT: Duration = Duration::from_secs(30);
const STATUS_EVERY: Duration = Duration::from_secs(1);
const DEBOUNCE: Duration = Duration::from_millis(15);

enum Trigger {
    Key(Key),
    Synced,
}

fn owner_key<K: Resource>(obj: &K) -> Option<Key> {
    let ns = obj.meta().namespace.clone()?;
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.kind == "CloneSet" && r.api_version.starts_with("apps.kruise.io/"))
        .map(|r| (ns, r.name.clone()))
}

fn watch<K>(
    api: Api<K>,
    cfg: watcher::Config,
    key: fn(&K) -> Option<Key>,
) -> (Store<K>, impl Stream<Item = Trigger> + Send)
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher::watcher(api, cfg).default_backoff())
        .filter_map(move |ev| async move {
            match ev {
                Ok(Event::Apply(o)) | Ok(Event::Delete(o)) => key(&o).map(Trigger::Key),
                Ok(Event::InitDone) => Some(Trigger::Synced),
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!("watch error (retrying): {e}");
                    None
                }
            }
        });
    (reader, stream)
}

fn api<K>(client: &Client, scope: &Scope) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match scope {
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
        Scope::All => Api::all(client.clone()),
    }
}

enum LeaseState {
    Held { renewed: Instant, lease: Box<Lease> },
    Standby { holder: Holder, tried: Instant },
}

struct Runner {
    client: Client,
    identity: String,
    leases: BTreeMap<String, LeaseState>,
    expectations: BTreeMap<Key, (Vec<Expect>, Instant)>,
    last_status: BTreeMap<Key, Instant>,
    requeue: BTreeMap<Key, Instant>,
    sets: Store<CloneSet>,
    pods: Store<Pod>,
    revs: Store<ControllerRevision>,
    pvcs: Store<PersistentVolumeClaim>,
}

fn rv_of<K: Resource>(o: &K) -> u64 {
    o.meta()
        .resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Runner {
    fn satisfied(&self, key: &Key, e: &Expect) -> bool {
        let ns = &key.0;
        let pod = |n: &str| self.pods.get(&reflector::ObjectRef::new(n).within(ns));
        match e {
            Expect::PodSeen(n) => pod(n).is_some(),
            Expect::PodGone(n, uid) => pod(n).is_none_or(|p| {
                p.metadata.uid.as_deref() != Some(uid.as_str())
                    || p.metadata.deletion_timestamp.is_some()
            }),
            Expect::PodAt(n, rv) => pod(n).is_none_or(|p| rv_of(p.as_ref()) >= *rv),
            Expect::RevisionSeen(n) => self
                .revs
                .get(&reflector::ObjectRef::new(n).within(ns))
                .is_some(),
            Expect::CloneSetAt(rv) => self
                .sets
                .get(&reflector::ObjectRef::new(&key.1).within(ns))
                .is_none_or(|c| rv_of(c.as_ref()) >= *rv),
        }
    }

    /// Make sure we hold the namespace's Lease; false when someone else does.
    async fn hold(&mut self, ns: &str, notices: &mpsc::UnboundedSender<Notice>) -> Result<bool> {
        match self.leases.get(ns) {
            Some(LeaseState::Held { .. }) => return Ok(true),
            Some(LeaseState::Standby { tried, .. }) if tried.elapsed() < lease::RETRY_EVERY => {
                return Ok(false);
            }
            _ => {}
        }
        match lease::acquire(&self.client, ns, CONTROLLER, &self.identity).await? {
            Acquire::Held(lease) => {
                self.leases.insert(
                    ns.into(),
                    LeaseState::Held {
                        renewed: Instant::now(),
                        lease,
                    },
                );
                let _ = notices.send(Notice::Acquired {
                    namespace: ns.into(),
                });
                Ok(true)
            }
            Acquire::Standby(holder) => {
                let changed = !matches!(self.leases.get(ns), Some(LeaseState::Standby { holder: h, .. }) if h.identity == holder.identity);
                if changed {
                    let _ = notices.send(Notice::Standby {
                        namespace: ns.into(),
                        holder: holder.clone(),
                    });
                }
                self.leases.insert(
                    ns.into(),
                    LeaseState::Standby {
                        holder,
                        tried: Instant::now(),
                    },
                );
                Ok(false)
            }
        }
    }

    async fn renew(&mut self, notices: &mpsc::UnboundedSender<Notice>) {
        let due: Vec<(String, Lease)> = self
            .leases
            .iter()
            .filter_map(|(ns, s)| match s {
                LeaseState::Held { renewed, lease } if renewed.elapsed() >= lease::RENEW_EVERY => {
                    Some((ns.clone(), lease.as_ref().clone()))
                }
                _ => None,
            })
            .collect();
        for (ns, held) in due {
            match lease::renew(&self.client, &held, CONTROLLER, &self.identity).await {
                Ok(Acquire::Held(lease)) => {
                    self.leases.insert(
                        ns,
                        LeaseState::Held {
                            renewed: Instant::now(),
                            lease,
                        },
                    );
                }
                Ok(Acquire::Standby(holder)) => {
                    let _ = notices.send(Notice::Lost {
                        namespace: ns.clone(),
                    });
                    self.leases.insert(
                        ns,
                        LeaseState::Standby {
                            holder,
                            tried: Instant::now(),
                        },
                    );
                }
                Err(e) => tracing::warn!("renewing lease in namespace {ns}: {e}"),
            }
        }
    }

    async fn release_all(&mut self) {
        for (ns, s) in std::mem::take(&mut self.leases) {
            if matches!(s, LeaseState::Held { .. })
                && let Err(e) = lease::release(&self.client, &ns, CONTROLLER, &self.identity).await
            {
                tracing::warn!("{e}");
            }
        }
    }

    /// One pass for `key`; returns a report when the CloneSet exists.
    async fn reconcile(&mut self, key: &Key) -> Option<Report> {
        let cs = self
            .sets
            .get(&reflector::ObjectRef::new(&key.1).within(&key.0))?;
        let cs: CloneSet = cs.as_ref().clone();
        if let Some((exp, since)) = self.expectations.get(key) {
            let pending = exp.iter().any(|e| !self.satisfied(key, e));
            if pending && since.elapsed() < EXPECT_TIMEOUT {
                return None;
            }
            if pending {
                tracing::warn!(
                    "cloneset {}/{}: writes not seen after {:?}; going on",
                    key.0,
                    key.1,
                    EXPECT_TIMEOUT
                );
            }
            self.expectations.remove(key);
        }
        let ns = &key.0;
        let uid = cs.metadata.uid.clone().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .state()
            .iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.uid == uid)
            })
            .cloned()
            .collect();
        let revisions: Vec<ControllerRevision> = self
            .revs
            .state()
            .iter()
            .filter(|r| r.metadata.namespace.as_deref() == Some(ns.as_str()))
            .map(|r| r.as_ref().clone())
            .collect();
        let pvcs: Vec<PersistentVolumeClaim> = self
            .pvcs
            .state()
            .iter()
            .filter(|c| c.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|c| {
                c.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.uid == uid)
            })
            .map(|c| c.as_ref().clone())
            .collect();
        let snapshot = Snapshot {
            cloneset: cs.clone(),
            pods,
            revisions,
            pvcs,
            now: Timestamp::now(),
            seed: fastrand::u64(..),
        };
        let mut report = Report {
            key: key.clone(),
            spec_replicas: cs.spec.replicas.unwrap_or(1),
            status: cs.status.clone().unwrap_or_default(),
            created: 0,
            deleted: 0,
            updated: 0,
            errors: vec![],
            plan_errors: vec![],
            paused: cs
                .spec
                .update_strategy
                .as_ref()
                .and_then(|u| u.paused)
                .unwrap_or(false),
            stuck: Vec::new(),
        };
        let plan = match plan::plan(&snapshot) {
            Ok(p) => p,
            Err(e) => {
                report.errors.push(e.to_string());
                return Some(report);
            }
        };
        if let Some(d) = &plan.defaulted {
            match sync::write_defaults(&self.client, &cs, d).await {
                Ok(rv) => {
                    self.expectations
                        .insert(key.clone(), (vec![Expect::CloneSetAt(rv)], Instant::now()));
                }
                Err(e) => report.errors.push(e),
            }
            return Some(report);
        }
        let pod_map: BTreeMap<String, Arc<Pod>> = snapshot
            .pods
            .iter()
            .map(|p| (p.name_any(), p.clone()))
            .collect();
        let applied = sync::apply(&self.client, &cs, &plan, &pod_map).await;
        report.created = applied.created;
        report.deleted = applied.deleted;
        report.updated = applied.updated;
        report.errors.extend(plan.errors.iter().cloned());
        report.plan_errors = plan.errors.clone();
        report.stuck = plan.stuck.clone();
        report.errors.extend(applied.errors.iter().cloned());
        let mut expect = applied.expect;
        let at_rest = plan.actions.is_empty() && plan.revision.is_none();
        if plan.status_changed {
            let recent = self
                .last_status
                .get(key)
                .is_some_and(|t| t.elapsed() < STATUS_EVERY);
            // Status writes are coalesced to one a second while pods move; a new generation
            // and the resting state go out at once (`rollout status` waits on them).
            let mut after = cs.clone();
            after.status = Some(plan.status.clone());
            let urgent = plan.status.observed_generation
                > cs.status.as_ref().map_or(0, |s| s.observed_generation)
                || (at_rest && super::cloneset::goal::at_goal(&after));
            if urgent || !recent {
                match sync::write_status(&self.client, &cs, &plan).await {
                    Ok(rv) => {
                        expect.push(Expect::CloneSetAt(rv));
                        self.last_status.insert(key.clone(), Instant::now());
                        report.status = plan.status.clone();
                    }
                    Err(e) => report.errors.push(e),
                }
            } else {
                self.requeue_after(key, STATUS_EVERY);
            }
        } else {
            report.status = plan.status.clone();
        }
        if !expect.is_empty() {
            self.expectations
                .insert(key.clone(), (expect, Instant::now()));
        }
        if !applied.errors.is_empty() {
            self.requeue_after(key, Duration::from_secs(1));
        }
        if let Some(d) = plan.requeue_after {
            self.requeue_after(key, d);
        }
        Some(report)
    }

    fn requeue_after(&mut self, key: &Key, d: Duration) {
        let at = Instant::now() + d;
        let e = self.requeue.entry(key.clone()).or_insert(at);
        if at < *e {
            *e = at;
        }
    }
}

/// Run until `shutdown` resolves (or, with `until`, the goal is reached). `on_report` sees
/// every pass; `on_notice` the one-line notices.
pub async fn run(
    client: Client,
    opts: Options,
    shutdown: impl Future<Output = ()>,
    mut on_report: impl FnMut(&Report),
    mut on_notice: impl FnMut(&Notice),
) -> Result<()> {
    let mut cs_cfg = watcher::Config::default();
    if let Some((_, name)) = &opts.only {
        cs_cfg = cs_cfg.fields(&format!("metadata.name={name}"));
    }
    let (sets, s1) = watch::<CloneSet>(api(&client, &opts.scope), cs_cfg, |c| {
        Some((c.namespace()?, c.name_any()))
    });
    let (pods, s2) = watch::<Pod>(
        api(&client, &opts.scope),
        watcher::Config::default(),
        owner_key,
    );
    let (revs, s3) = watch::<ControllerRevision>(
        api(&client, &opts.scope),
        watcher::Config::default(),
        owner_key,
    );
    let (pvcs, s4) = watch::<PersistentVolumeClaim>(
        api(&client, &opts.scope),
        watcher::Config::default(),
        owner_key,
    );
    let mut triggers = pin!(futures::stream::select_all(vec![
        s1.boxed(),
        s2.boxed(),
        s3.boxed(),
        s4.boxed(),
    ]));
    let (ntx, mut nrx) = mpsc::unbounded_channel::<Notice>();
    let mut r = Runner {
        client: client.clone(),
        identity: opts.identity.clone(),
        leases: BTreeMap::new(),
        expectations: BTreeMap::new(),
        last_status: BTreeMap::new(),
        requeue: BTreeMap::new(),
        sets,
        pods,
        revs,
        pvcs,
    };
    if let Scope::Namespace(ns) = &opts.scope {
        r.hold(ns, &ntx).await?;
    }
    while let Ok(n) = nrx.try_recv() {
        on_notice(&n);
    }
    let mut shutdown = pin!(shutdown);
    let mut synced = 0;
    let mut dirty: BTreeSet<Key> = BTreeSet::new();
    let mut all = false;
    let mut renew = tokio::time::interval(Duration::from_secs(1));
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let wanted = |k: &Key| opts.only.as_ref().is_none_or(|o| o == k);
    loop {
        let next_requeue = r.requeue.values().min().copied();
        let sleep_until =
            next_requeue.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            t = triggers.next() => match t {
                Some(Trigger::Key(k)) => { if wanted(&k) { dirty.insert(k); } }
                Some(Trigger::Synced) => { synced += 1; if synced >= 4 { all = true; } }
                None => return Err(Error::other("the watches ended unexpectedly")),
            },
            _ = renew.tick() => r.renew(&ntx).await,
            _ = tokio::time::sleep_until(sleep_until.into()) => {
                let now = Instant::now();
                let due: Vec<Key> = r.requeue.iter().filter(|(_, t)| **t <= now).map(|(k, _)| k.clone()).collect();
                for k in due { r.requeue.remove(&k); dirty.insert(k); }
            }
        }
        while let Ok(n) = nrx.try_recv() {
            on_notice(&n);
        }
        if synced < 4 {
            continue;
        }
        // Let a burst of events land before acting on it.
        let deadline = tokio::time::Instant::now() + DEBOUNCE;
        while let Ok(Some(t)) = tokio::time::timeout_at(deadline, triggers.next()).await {
            match t {
                Trigger::Key(k) => {
                    if wanted(&k) {
                        dirty.insert(k);
                    }
                }
                Trigger::Synced => all = true,
            }
        }
        if all {
            all = false;
            for c in r.sets.state() {
                let k = (c.namespace().unwrap_or_default(), c.name_any());
                if wanted(&k) {
                    dirty.insert(k);
                }
            }
        }
        for key in std::mem::take(&mut dirty) {
            let held = r.hold(&key.0, &ntx).await?;
            while let Ok(n) = nrx.try_recv() {
                on_notice(&n);
            }
            if !held {
                r.requeue_after(&key, lease::RETRY_EVERY);
                continue;
            }
            if let Some(report) = r.reconcile(&key).await {
                on_report(&report);
            }
            while let Ok(n) = nrx.try_recv() {
                on_notice(&n);
            }
        }
        if let Some(until) = &opts.until {
            let done = match &opts.only {
                Some(only) => r
                    .sets
                    .get(&reflector::ObjectRef::new(&only.1).within(&only.0))
                    .is_some_and(|cs| until(&cs)),
                None => {
                    let all = r.sets.state();
                    !all.is_empty() && all.iter().all(|cs| until(cs))
                }
            };
            if done {
                break;
            }
        }
    }
    r.release_all().await;
    Ok(())
}
