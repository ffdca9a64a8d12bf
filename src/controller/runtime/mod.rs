//! The embedded controllers' runtime, shared by every kind: one watch per resource type
//! (`watches`), a queue of keys per reconciler with requeue times, expectations by object
//! reference (`expect`), the Leases of every controller renewed together (`leases`), the
//! status-coalescing policy, Events (`controller::events`), and a clean stop: the pass in
//! flight finishes, the Leases are released. Nothing here names a kind: a kind is a
//! [`Reconciler`].

mod expect;
mod leases;
mod run;
mod watches;

use std::time::Duration;

use futures::future::BoxFuture;
use kube::Client;

pub use expect::Expect;
pub use run::run;
pub use watches::{Slim, Stores, Watched, Watches, resource_version};

use crate::controller::events::Recorder;
use crate::controller::lease::Holder;

/// Where the controller acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Namespace(String),
    All,
}

/// An object of a reconciler's kind, by namespace and name.
pub type Key = (String, String);

/// A key of one reconciler (by its index in the runtime).
pub(crate) type WorkKey = (usize, Key);

/// A kind's controller: what it watches, how a change maps to its keys, and one pass.
pub trait Reconciler: Send + Sync {
    /// Short name: `controller run --controllers`, the Lease, messages.
    fn name(&self) -> &'static str;
    /// The controller whose Lease this one works under: its own, unless two reconcilers only
    /// ever work together (one writer for both, one Lease to take and renew).
    fn lease(&self) -> &'static str {
        self.name()
    }
    /// The source component of its Events, as upstream's controller names itself
    /// (`<kind>-controller`).
    fn event_source(&self) -> &'static str;
    /// Registers its own kind (`Watches::primary`) and what else it reads, with how a change
    /// maps to its keys (`Watches::secondary`).
    fn watches(&self, w: &mut Watches);
    /// The keys of every object of its kind in the caches (a full pass after a sync).
    fn keys(&self, stores: &Stores) -> Vec<Key>;
    /// One pass for `key`: snapshot from the stores, pure plan, apply. `None` when the object
    /// is gone.
    fn reconcile<'a>(&'a self, cx: &'a Context, key: &'a Key) -> BoxFuture<'a, Option<Pass>>;
    /// Whether the object rests where its spec asks (`controller run --exit-when-done`).
    fn at_goal(&self, stores: &Stores, key: &Key) -> bool;
    /// How often, at most, a status that is not urgent is written while pods move.
    fn status_every(&self) -> Duration {
        Duration::from_secs(1)
    }
}

/// What a pass gets from the runtime.
pub struct Context {
    pub client: Client,
    pub stores: Stores,
    pub recorder: Recorder,
}

/// What a pass did, and what it leaves for the runtime.
pub struct Pass {
    pub report: Report,
    /// Writes the next pass must see first.
    pub expect: Vec<Expect>,
    /// Retry after a second (a write failed; the cluster may say otherwise next time).
    pub retry: bool,
    pub requeue_after: Option<Duration>,
    /// A status to write, subject to the coalescing policy.
    pub status: Option<StatusWrite>,
}

impl Pass {
    /// A pass that has written nothing yet, reporting `progress` for `key`.
    pub fn new(controller: &'static str, key: &Key, progress: Progress) -> Pass {
        Pass {
            report: Report {
                controller,
                key: key.clone(),
                progress,
                ..Default::default()
            },
            expect: vec![],
            retry: false,
            requeue_after: None,
            status: None,
        }
    }
}

/// The keys of the objects of `kind` in API group `group` that `obj` names as its owners: how
/// a pod or a revision maps to the workload to reconcile.
pub fn owner_keys<K: kube::Resource>(obj: &K, kind: &str, group: &str) -> Vec<Key> {
    let Some(ns) = obj.meta().namespace.clone() else {
        return vec![];
    };
    let prefix = format!("{group}/");
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .filter(|r| r.kind == kind && r.api_version.starts_with(&prefix))
        .map(|r| (ns.clone(), r.name.clone()))
        .collect()
}

/// The keys of the cached objects of type `K` in `ns` for which `keep` holds: how a change of
/// a shared object maps to the few objects of a kind that read it.
pub fn keys_where<K: watches::Cached>(
    stores: &Stores,
    ns: Option<String>,
    keep: impl Fn(&K) -> bool,
) -> Vec<Key> {
    let Some(ns) = ns else { return vec![] };
    stores
        .list::<K>(&ns, keep)
        .iter()
        .map(|o| (ns.clone(), o.meta().name.clone().unwrap_or_default()))
        .collect()
}

/// Sorted names, the first few and then how many more (`Report::waiting`).
pub fn few(mut names: Vec<String>) -> Vec<String> {
    const SHOWN: usize = 5;
    names.sort();
    if names.len() > SHOWN {
        let more = names.len() - SHOWN;
        names.truncate(SHOWN);
        names.push(format!("and {more} more"));
    }
    names
}

/// A status write the reconciler computed. Urgent ones (a new generation observed, the
/// resting state) go out at once; others at most every `Reconciler::status_every`.
pub struct StatusWrite {
    pub urgent: bool,
    pub write: BoxFuture<'static, Result<Expect, String>>,
}

/// What a pass did, for the summary line or the progress bars.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The reconciler's name.
    pub controller: &'static str,
    pub key: Key,
    pub progress: Progress,
    pub created: usize,
    pub deleted: usize,
    pub updated: usize,
    pub errors: Vec<String>,
    /// Errors of the plan itself (the object is refused): retrying will not help.
    pub plan_errors: Vec<String>,
    /// Pods of the new revision that cannot start (image pull failures, crash loops).
    pub stuck: Vec<Stuck>,
    /// Pods the object still waits for (not updated, or not available), a few names and a
    /// count of the rest: what a timeout names.
    pub waiting: Vec<String>,
}

/// The counts a workload's status reports, as the pass left them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    pub total: i32,
    pub paused: bool,
}

/// A pod of the new revision that cannot start (what a plan finds and a report carries).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stuck {
    pub pod: String,
    pub container: String,
    pub reason: String,
    pub message: String,
}

/// Something a person should read once (standby, takeover, lost lease).
#[derive(Debug, Clone)]
pub enum Notice {
    Standby {
        controller: &'static str,
        namespace: String,
        holder: Holder,
    },
    Acquired {
        controller: &'static str,
        namespace: String,
    },
    Lost {
        controller: &'static str,
        namespace: String,
    },
}

/// When a driving command may stop: true for the key (with `only`) or for every key.
pub type Goal = Box<dyn Fn(&Stores, &Key) -> bool + Send>;

pub struct Options {
    pub scope: Scope,
    /// Only this object (a command driving its own object): its kind's watch is by name.
    pub only: Option<Key>,
    /// With `only`: objects of other reconcilers (by reconciler name) the driven object needs
    /// moved too (a release plan drives its workload's reconciler); each such watch is by name.
    pub also: Vec<(&'static str, Key)>,
    pub identity: String,
    /// Secondary types this run does not read (a command driving one object that cannot refer
    /// to them): no list, no watch, an empty store.
    pub unwatched: Vec<std::any::TypeId>,
    /// Stop when this holds for `only` (or, without `only`, for every object in scope).
    pub until: Option<Until>,
}

/// When `run` ends by itself.
pub enum Until {
    /// The caller's test (a driving command: rested, paused or failed).
    Goal(Goal),
    /// Every object of every reconciler is at its goal (`--exit-when-done`).
    AllAtGoal,
}
