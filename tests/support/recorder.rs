//! A pod recorder for invariant tests: it watches the pods of one app for the whole run and
//! records the worst moment — the most pods **unavailable** at once, counted as OpenKruise
//! counts them (`IsPodAvailable` in v1.9.0's CloneSet sync: lifecycle state empty or `Normal`,
//! Running and Ready for at least minReadySeconds, and the `InPlaceUpdateReady` condition absent
//! or True) — every pod whose revision label changed (in order), and every pod deleted.
//!
//! It does not trust itself: a watch error is counted and the watch re-lists and resumes (kube's
//! watcher with backoff); availability is re-evaluated on a 100 ms tick as well as on events,
//! since minReadySeconds makes it change with time alone; and [`Recorder::finish`] fails the test
//! if the recorder stopped before the end, so an invariant can never pass because nobody watched.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};

/// What the recorder saw.
#[derive(Default, Debug, Clone)]
pub struct Record {
    /// The most pods unavailable at one moment since the last [`Recorder::reset`].
    pub max_unavailable: usize,
    /// The fewest pods available at one moment since the last [`Recorder::reset`] (counts a
    /// pod deleted and not yet replaced, which `max_unavailable` cannot see).
    pub min_available: usize,
    /// Pods (by name) whose revision label changed while keeping their UID, in order.
    pub updated_order: Vec<String>,
    /// Pods deleted (deletionTimestamp set or gone), in order.
    pub deleted: Vec<String>,
    /// Pods created after the recorder's first list, in order.
    pub created: Vec<String>,
    /// The most pods of the app that existed at once (terminating ones excluded).
    pub max_pods: usize,
    /// Watch errors survived (each followed by a re-list).
    pub watch_errors: usize,
    /// Events seen.
    pub events: usize,
}

/// A running recorder; [`Recorder::finish`] stops it and returns what it saw.
pub struct Recorder {
    record: Arc<Mutex<Record>>,
    task: tokio::task::JoinHandle<()>,
}

/// Is the pod available, as upstream counts it, at `now`?
pub fn available(p: &Pod, min_ready_seconds: i64, now: Timestamp) -> bool {
    let state = p
        .labels()
        .get("lifecycle.apps.kruise.io/state")
        .map(String::as_str)
        .unwrap_or("");
    if !(state.is_empty() || state == "Normal") {
        return false;
    }
    let Some(st) = p.status.as_ref() else {
        return false;
    };
    if st.phase.as_deref() != Some("Running") {
        return false;
    }
    let conds = st.conditions.clone().unwrap_or_default();
    let Some(ready) = conds
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")
    else {
        return false;
    };
    if min_ready_seconds > 0 {
        let since = ready
            .last_transition_time
            .as_ref()
            .map_or(0, |t| t.0.as_second());
        if since + min_ready_seconds > now.as_second() {
            return false;
        }
    }
    conds
        .iter()
        .find(|c| c.type_ == "InPlaceUpdateReady")
        .is_none_or(|c| c.status == "True")
}

impl Recorder {
    /// Start recording the pods labelled `app=<app>` in `api`'s namespace; availability uses
    /// `min_ready_seconds`. Returns once the first list is in, so nothing before is missed.
    pub async fn start(api: Api<Pod>, app: &str, min_ready_seconds: i64) -> Recorder {
        let record = Arc::new(Mutex::new(Record {
            min_available: usize::MAX,
            ..Record::default()
        }));
        let r = record.clone();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let cfg = watcher::Config::default().labels(&format!("app={app}"));
        let task = tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            // name → (uid, revision, pod)
            let mut known: BTreeMap<String, (String, String, Pod)> = BTreeMap::new();
            let mut listed_once = false;
            let mut initial = true;
            // Names seen in the current (re-)list: a known pod missing from it went away
            // while the watch was down.
            let mut relisted: Vec<String> = Vec::new();
            let mut stream = watcher::watcher(api, cfg).default_backoff().boxed();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                let ev = tokio::select! {
                    ev = stream.next() => ev,
                    _ = tick.tick() => {
                        measure(&mut r.lock().unwrap(), &known, min_ready_seconds);
                        continue;
                    }
                };
                let mut rec = r.lock().unwrap();
                match ev {
                    None => return, // The stream ended: finish() reports it.
                    Some(Err(e)) => {
                        eprintln!("recorder: watch error (re-listing): {e}");
                        rec.watch_errors += 1;
                        continue;
                    }
                    Some(Ok(ev)) => {
                        rec.events += 1;
                        match ev {
                            watcher::Event::Init => {
                                initial = true;
                                relisted.clear();
                            }
                            watcher::Event::InitApply(p) => {
                                relisted.push(p.name_any());
                                see(&mut rec, &mut known, &p, false, initial && !listed_once)
                            }
                            watcher::Event::InitDone => {
                                let gone: Vec<String> = known
                                    .keys()
                                    .filter(|k| !relisted.contains(k))
                                    .cloned()
                                    .collect();
                                for name in gone {
                                    known.remove(&name);
                                    rec.deleted.push(name);
                                }
                                initial = false;
                                listed_once = true;
                                if let Some(tx) = ready_tx.take() {
                                    let _ = tx.send(());
                                }
                            }
                            watcher::Event::Apply(p) => see(&mut rec, &mut known, &p, false, false),
                            watcher::Event::Delete(p) => see(&mut rec, &mut known, &p, true, false),
                        }
                    }
                }
                measure(&mut rec, &known, min_ready_seconds);
            }
        });
        tokio::time::timeout(Duration::from_secs(30), ready_rx)
            .await
            .expect("the recorder listed the pods within 30 s")
            .expect("the recorder started");
        Recorder { record, task }
    }

    /// What was seen so far.
    pub fn now(&self) -> Record {
        self.record.lock().unwrap().clone()
    }

    /// Start a new measuring window for `max_unavailable`.
    pub fn reset(&self) {
        let mut r = self.record.lock().unwrap();
        r.max_unavailable = 0;
        r.min_available = usize::MAX;
    }

    /// Stop recording and return the record; fails the test if the recorder had stopped
    /// before (its watch ended), since then its invariants would pass unchecked.
    pub async fn finish(self) -> Record {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !self.task.is_finished(),
            "the pod recorder stopped before the end of the test: its checks would be empty"
        );
        self.task.abort();
        let rec = self.record.lock().unwrap().clone();
        assert!(rec.events > 0, "the pod recorder saw no event at all");
        rec
    }
}

fn see(
    rec: &mut Record,
    known: &mut BTreeMap<String, (String, String, Pod)>,
    p: &Pod,
    gone: bool,
    first_list: bool,
) {
    let name = p.name_any();
    let rev = p
        .labels()
        .get("controller-revision-hash")
        .cloned()
        .unwrap_or_default();
    let uid = p.uid().unwrap_or_default();
    if gone || p.metadata.deletion_timestamp.is_some() {
        if known.remove(&name).is_some() {
            rec.deleted.push(name);
        }
        return;
    }
    match known.get(&name) {
        Some(k) if k.0 == uid && k.1 != rev => rec.updated_order.push(name.clone()),
        Some(k) if k.0 != uid => rec.created.push(name.clone()),
        None if !first_list => rec.created.push(name.clone()),
        _ => {}
    }
    known.insert(name, (uid, rev, p.clone()));
    rec.max_pods = rec.max_pods.max(known.len());
}

fn measure(rec: &mut Record, known: &BTreeMap<String, (String, String, Pod)>, min_ready: i64) {
    let now = Timestamp::now();
    let unavailable = known
        .values()
        .filter(|(_, _, p)| !available(p, min_ready, now))
        .count();
    rec.max_unavailable = rec.max_unavailable.max(unavailable);
    rec.min_available = rec.min_available.min(known.len() - unavailable);
}
