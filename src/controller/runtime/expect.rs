//! Expectations by object reference: after a pass writes, the next pass of the same key waits
//! until the shared caches have seen those writes (or a bound passes), so it never plans from a
//! cache that predates its own writes (upstream: `pkg/util/expectations`).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::watches::{Stores, Watched};
use super::{Key, WorkKey};

/// How long a pass waits for its writes to show before going on anyway.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// What a write leaves for the watch to confirm, about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    type_id: TypeId,
    namespace: String,
    name: String,
    what: Expected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// The object is in the cache.
    Seen,
    /// The object with this uid is gone from the cache (or terminating).
    Gone(String),
    /// The object is at least at this resourceVersion (or gone).
    AtLeast(u64),
}

impl Expect {
    fn new<K: Watched>(key: &Key, what: Expected) -> Expect {
        Expect {
            type_id: TypeId::of::<K>(),
            namespace: key.0.clone(),
            name: key.1.clone(),
            what,
        }
    }

    pub fn seen<K: Watched>(namespace: &str, name: &str) -> Expect {
        Self::new::<K>(&(namespace.into(), name.into()), Expected::Seen)
    }

    pub fn gone<K: Watched>(namespace: &str, name: &str, uid: &str) -> Expect {
        Self::new::<K>(&(namespace.into(), name.into()), Expected::Gone(uid.into()))
    }

    pub fn at<K: Watched>(namespace: &str, name: &str, resource_version: u64) -> Expect {
        Self::new::<K>(
            &(namespace.into(), name.into()),
            Expected::AtLeast(resource_version),
        )
    }

    fn satisfied(&self, stores: &Stores) -> bool {
        let seen = stores.seen(self.type_id, &self.namespace, &self.name);
        match &self.what {
            Expected::Seen => seen.is_some(),
            Expected::Gone(uid) => {
                seen.is_none_or(|s| s.uid.as_deref() != Some(uid.as_str()) || s.deleting)
            }
            Expected::AtLeast(rv) => seen.is_none_or(|s| s.resource_version >= *rv),
        }
    }
}

/// The writes each key waits to see.
#[derive(Default)]
pub(super) struct Expectations {
    pending: BTreeMap<WorkKey, (Vec<Expect>, Instant)>,
}

impl Expectations {
    pub fn set(&mut self, key: &WorkKey, expect: Vec<Expect>) {
        if expect.is_empty() {
            self.pending.remove(key);
        } else {
            self.pending.insert(key.clone(), (expect, Instant::now()));
        }
    }

    /// Whether `key` may be reconciled now: its writes are seen, or it waited long enough
    /// (then it goes on, with a warning).
    pub fn ready(&mut self, key: &WorkKey, stores: &Stores, name: &str) -> bool {
        let Some((exp, since)) = self.pending.get(key) else {
            return true;
        };
        let pending = exp.iter().any(|e| !e.satisfied(stores));
        if pending && since.elapsed() < TIMEOUT {
            return false;
        }
        if pending {
            tracing::warn!(
                "{name} {}/{}: writes not seen after {TIMEOUT:?}; going on",
                key.1.0,
                key.1.1
            );
        }
        self.pending.remove(key);
        true
    }
}
