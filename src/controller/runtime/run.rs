//! The loop: triggers from the shared watches become keys, keys wait for their expectations
//! and their Lease, then one pass each; status writes follow the reconciler's policy.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::Client;

use super::expect::{self, Expectations};
use super::leases::Leases;
use super::watches::{Mappers, Trigger, Watches};
use super::{Context, Key, Notice, Options, Pass, Reconciler, Report, Stores, Until, WorkKey};
use crate::controller::events::Recorder;
use crate::controller::lease;
use crate::error::{Error, Result};

/// A burst of events lands before the loop acts on it.
const DEBOUNCE: Duration = Duration::from_millis(15);

struct Runner {
    reconcilers: Vec<Box<dyn Reconciler>>,
    contexts: Vec<Context>,
    stores: Stores,
    leases: Leases,
    expectations: Expectations,
    last_status: BTreeMap<WorkKey, Instant>,
    requeue: BTreeMap<WorkKey, Instant>,
    only: Option<Key>,
    also: Vec<WorkKey>,
}

/// Run `reconcilers` until `shutdown` resolves (or `opts.until` holds). `on_report` sees every
/// pass; `on_notice` the one-line notices.
pub async fn run(
    client: Client,
    reconcilers: Vec<Box<dyn Reconciler>>,
    opts: Options,
    shutdown: impl Future<Output = ()>,
    mut on_report: impl FnMut(&Report),
    mut on_notice: impl FnMut(&Notice),
) -> Result<()> {
    let only_names = reconcilers
        .iter()
        .map(|r| {
            let also = opts.also.iter().find(|(n, _)| *n == r.name());
            also.map(|(_, k)| &k.1)
                .or(opts.only.as_ref().map(|k| &k.1))
                .cloned()
        })
        .collect();
    let mut w = Watches::new(client.clone(), opts.scope.clone(), only_names)
        .unwatched(opts.unwatched.clone());
    for (i, r) in reconcilers.iter().enumerate() {
        r.watches(w.for_reconciler(i));
    }
    let (stores, mappers, triggers) = w.open();
    let contexts = reconcilers
        .iter()
        .map(|r| Context {
            client: client.clone(),
            stores: stores.clone(),
            recorder: Recorder::new(client.clone(), r.event_source()),
        })
        .collect();
    let mut r = Runner {
        reconcilers,
        contexts,
        stores,
        leases: Leases::new(client, opts.identity.clone()),
        expectations: Expectations::default(),
        last_status: BTreeMap::new(),
        requeue: BTreeMap::new(),
        only: opts.only.clone(),
        also: vec![],
    };
    r.also = opts
        .also
        .iter()
        .filter_map(|(n, k)| {
            let i = r.reconcilers.iter().position(|r| r.name() == *n)?;
            Some((i, k.clone()))
        })
        .collect();
    if let super::Scope::Namespace(ns) = &opts.scope {
        for i in 0..r.reconcilers.len() {
            let lease = r.reconcilers[i].lease();
            r.leases.hold(ns, lease).await?;
        }
    }
    r.notify(&mut on_notice);
    let result = r
        .serve(
            &opts,
            mappers,
            triggers,
            shutdown,
            &mut on_report,
            &mut on_notice,
        )
        .await;
    r.leases.release_all().await;
    for cx in r.contexts {
        cx.recorder.close().await;
    }
    result
}

impl Runner {
    fn notify(&mut self, on_notice: &mut impl FnMut(&Notice)) {
        for n in self.leases.notices() {
            on_notice(&n);
        }
    }

    fn wanted(&self, key: &WorkKey) -> bool {
        self.only.as_ref().is_none_or(|o| *o == key.1) || self.also.contains(key)
    }

    fn mark(&self, dirty: &mut BTreeSet<WorkKey>, keys: Vec<WorkKey>) {
        dirty.extend(keys.into_iter().filter(|k| self.wanted(k)));
    }

    fn all_keys(&self) -> Vec<WorkKey> {
        self.reconcilers
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.keys(&self.stores).into_iter().map(move |k| (i, k)))
            .collect()
    }

    /// The loop proper, until shutdown, the goal, or an error.
    async fn serve(
        &mut self,
        opts: &Options,
        mappers: Mappers,
        triggers: BoxStream<'static, Trigger>,
        shutdown: impl Future<Output = ()>,
        on_report: &mut impl FnMut(&Report),
        on_notice: &mut impl FnMut(&Notice),
    ) -> Result<()> {
        let mut triggers = triggers;
        let mut shutdown = pin!(shutdown);
        let mut synced: HashSet<TypeId> = HashSet::new();
        let mut dirty: BTreeSet<WorkKey> = BTreeSet::new();
        let mut resync = false;
        let mut renew = tokio::time::interval(Duration::from_secs(1));
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self.requeue.values().min().copied();
            let wake = wake.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                _ = &mut shutdown => return Ok(()),
                t = triggers.next() => match t {
                    Some(t) => resync |= self.take(t, &mappers, &mut synced, &mut dirty),
                    None => return Err(Error::other("the watches ended unexpectedly")),
                },
                _ = renew.tick() => self.leases.renew().await,
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            // Due requeues join every round: a stream of triggers never starves them.
            self.due(&mut dirty);
            self.notify(on_notice);
            if synced.len() < mappers.watches {
                continue;
            }
            let deadline = tokio::time::Instant::now() + DEBOUNCE;
            while let Ok(Some(t)) = tokio::time::timeout_at(deadline, triggers.next()).await {
                resync |= self.take(t, &mappers, &mut synced, &mut dirty);
            }
            if std::mem::take(&mut resync) {
                let all = self.all_keys();
                self.mark(&mut dirty, all);
            }
            for key in std::mem::take(&mut dirty) {
                self.pass(&key, on_report).await?;
                self.notify(on_notice);
            }
            if self.reached(opts.until.as_ref()) {
                return Ok(());
            }
        }
    }

    /// Note what a trigger wakes; true when a watch (re)synced, which calls for a full pass.
    fn take(
        &self,
        t: Trigger,
        mappers: &Mappers,
        synced: &mut HashSet<TypeId>,
        dirty: &mut BTreeSet<WorkKey>,
    ) -> bool {
        match t {
            Trigger::Changed(type_id, obj) => {
                let keys = mappers.keys(type_id, obj.as_ref(), &self.stores);
                self.mark(dirty, keys);
                false
            }
            Trigger::Synced(type_id) => {
                synced.insert(type_id);
                true
            }
        }
    }

    fn due(&mut self, dirty: &mut BTreeSet<WorkKey>) {
        let now = Instant::now();
        let due: Vec<WorkKey> = self
            .requeue
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.requeue.remove(&k);
            dirty.insert(k);
        }
    }

    fn requeue_after(&mut self, key: &WorkKey, d: Duration) {
        let at = Instant::now() + d;
        let e = self.requeue.entry(key.clone()).or_insert(at);
        if at < *e {
            *e = at;
        }
    }

    /// One key: its Lease, its expectations, then the reconciler's pass.
    async fn pass(&mut self, key: &WorkKey, on_report: &mut impl FnMut(&Report)) -> Result<()> {
        let (i, k) = key;
        let name = self.reconcilers[*i].name();
        // An API server that does not answer now (an outage) is retried, not fatal: the run
        // goes on from the cluster's state when it is back.
        let held = match self.leases.hold(&k.0, self.reconcilers[*i].lease()).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!("{name} lease in namespace {}: {e}; retrying", k.0);
                false
            }
        };
        if !held {
            self.requeue_after(key, lease::RETRY_EVERY);
            return Ok(());
        }
        if !self.expectations.ready(key, &self.stores, name) {
            self.requeue_after(key, expect::TIMEOUT);
            return Ok(());
        }
        let Some(pass) = self.reconcilers[*i].reconcile(&self.contexts[*i], k).await else {
            return Ok(());
        };
        let report = self.settle(key, pass).await;
        on_report(&report);
        Ok(())
    }

    /// What follows a pass: the status write (or its coalescing), expectations, requeues.
    async fn settle(&mut self, key: &WorkKey, pass: Pass) -> Report {
        let Pass {
            mut report,
            mut expect,
            retry,
            requeue_after,
            status,
        } = pass;
        if let Some(s) = status {
            let every = self.reconcilers[key.0].status_every();
            let recent = self
                .last_status
                .get(key)
                .is_some_and(|t| t.elapsed() < every);
            if s.urgent || !recent {
                match s.write.await {
                    Ok(e) => {
                        expect.push(e);
                        self.last_status.insert(key.clone(), Instant::now());
                    }
                    Err(e) => report.errors.push(e),
                }
            } else {
                self.requeue_after(key, every);
            }
        }
        self.expectations.set(key, expect);
        if retry {
            self.requeue_after(key, Duration::from_secs(1));
        }
        if let Some(d) = requeue_after {
            self.requeue_after(key, d);
        }
        report
    }

    fn reached(&self, until: Option<&Until>) -> bool {
        match (until, &self.only) {
            (None, _) => false,
            (Some(Until::Goal(goal)), Some(only)) => goal(&self.stores, only),
            (Some(Until::Goal(goal)), None) => {
                let keys = self.all_keys();
                !keys.is_empty() && keys.iter().all(|(_, k)| goal(&self.stores, k))
            }
            (Some(Until::AllAtGoal), _) => {
                let keys: Vec<WorkKey> = self
                    .all_keys()
                    .into_iter()
                    .filter(|k| self.wanted(k))
                    .collect();
                !keys.is_empty()
                    && keys
                        .iter()
                        .all(|(i, k)| self.reconcilers[*i].at_goal(&self.stores, k))
            }
        }
    }
}
