//! Kubernetes Events from the embedded controllers, thinned out the way client-go's
//! `tools/record` thins them (EventBroadcaster + EventCorrelator with the defaults of
//! `record.NewBroadcaster()`), so a 500-pod rollout writes a few tens of Events, not 500.
//!
//! Each event passes three stages, in client-go's order:
//! 1. aggregation: once 10 distinct messages with the same source, object, type and reason
//!    were seen within 10 minutes of each other, the event is replaced by one whose message is
//!    "(combined from similar events): " + message, kept under that group's key;
//! 2. dedup: an event seen before under the same key becomes a PATCH of the Event already
//!    written (count + 1, lastTimestamp, message) instead of a new object;
//! 3. spam filter: a token bucket per source, object and type (burst 25, one token per
//!    5 minutes); an event without a token is dropped (its occurrence still counts).
//!
//! [`Correlator`] does this without I/O and takes `now`, so it is tested alone. [`Recorder`]
//! runs it under a lock at the call site and hands the surviving writes to one background
//! task, so recording never waits on the API server.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Events a source may write about one object (per type) in a burst.
pub const SPAM_BURST: f64 = 25.0;
/// After the burst, one more event per this many seconds.
pub const SPAM_REFILL_SECONDS: f64 = 300.0;
/// Distinct messages per group (source, object, type, reason) before they are combined.
pub const AGGREGATE_MAX_MESSAGES: usize = 10;
/// A group starts afresh after this long without an event.
pub const AGGREGATE_WINDOW: SignedDuration = SignedDuration::from_secs(600);
/// Prefix of a combined event's message.
pub const AGGREGATE_PREFIX: &str = "(combined from similar events): ";
/// How long [`Recorder::close`] waits for queued writes.
pub const FLUSH_BOUND: Duration = Duration::from_secs(2);
/// Keys remembered by each stage (least recently used are forgotten).
const CACHE_ENTRIES: usize = 4096;
/// Writes queued for the writer task; more are dropped, as client-go's broadcaster does.
const QUEUE: usize = 1000;

/// The `type` of an Event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// A reference to `o` for `involvedObject`, as client-go's `reference.GetReference` builds it.
pub fn reference<K: Resource<DynamicType = ()>>(o: &K) -> ObjectReference {
    ObjectReference {
        resource_version: o.meta().resource_version.clone(),
        ..o.object_ref(&())
    }
}

/// A fresh Event (count 1) from `component` about `obj`, as client-go's recorder makes it.
pub fn new_event(
    component: &str,
    obj: &ObjectReference,
    type_: EventType,
    reason: &str,
    message: String,
    now: Timestamp,
) -> Event {
    Event {
        metadata: event_meta(obj, now),
        involved_object: obj.clone(),
        reason: Some(reason.to_string()),
        message: Some(message),
        type_: Some(type_.as_str().to_string()),
        source: Some(EventSource {
            component: Some(component.to_string()),
            host: None,
        }),
        reporting_component: Some(component.to_string()),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..Event::default()
    }
}

/// The Event's metadata: named after the object and `now`, in the object's namespace
/// (`default` if it has none).
fn event_meta(obj: &ObjectReference, now: Timestamp) -> ObjectMeta {
    ObjectMeta {
        name: Some(event_name(obj, now.as_nanosecond())),
        namespace: Some(obj.namespace.clone().unwrap_or_else(|| "default".into())),
        ..ObjectMeta::default()
    }
}

/// `<object name>.<unix nanos in hex>`, or a random name if that is not a valid one.
fn event_name(obj: &ObjectReference, nanos: i128) -> String {
    let nanos = u128::try_from(nanos).unwrap_or(0);
    let name = format!("{}.{nanos:x}", obj.name.as_deref().unwrap_or_default());
    if is_dns_subdomain(&name) {
        name
    } else {
        format!("{:032x}", fastrand::u128(..))
    }
}

/// Whether `s` is a valid object name (RFC 1123 subdomain); client-go falls back to a random
/// name otherwise.
fn is_dns_subdomain(s: &str) -> bool {
    let label_ok = |l: &str| {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        l.starts_with(alnum) && l.ends_with(alnum) && l.chars().all(|c| alnum(c) || c == '-')
    };
    s.len() <= 253 && s.split('.').all(label_ok)
}

/// A write the correlator lets through.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// The Event to create, or, when `patch`, the one already written under this name.
    pub event: Event,
    /// Patch `count`, `lastTimestamp` and `message` of the existing Event; create `event`
    /// if it no longer exists.
    pub patch: bool,
}

/// Filters, combines and deduplicates events; pure, so `now` is a parameter.
#[derive(Debug)]
pub struct Correlator {
    groups: Lru<Group>,
    seen: Lru<Seen>,
    buckets: Lru<Bucket>,
    /// Nanoseconds in the last name given, so that no two Events get the same name.
    last_nanos: i128,
}

/// Distinct messages of one aggregation group.
#[derive(Debug)]
struct Group {
    messages: HashSet<String>,
    last: Timestamp,
}

/// The Event written for one key.
#[derive(Debug)]
struct Seen {
    name: Option<String>,
    first: Option<Time>,
    count: i32,
}

/// A token bucket: `tokens` as of `at`.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator {
            groups: Lru::new(CACHE_ENTRIES),
            seen: Lru::new(CACHE_ENTRIES),
            buckets: Lru::new(CACHE_ENTRIES),
            last_nanos: 0,
        }
    }
}

impl Correlator {
    /// The write `event` (made by [`new_event`]) turns into, or None if it is dropped.
    pub fn correlate(&mut self, event: Event, now: Timestamp) -> Option<Write> {
        let (event, key) = self.aggregate(event, now);
        let write = self.observe(event, key, now);
        self.admit(&write.event, now).then_some(write)
    }

    /// The event itself under its full key, or, once its group holds enough distinct
    /// messages, a combined event under the group's key.
    fn aggregate(&mut self, event: Event, now: Timestamp) -> (Event, String) {
        let group_key = aggregate_key(&event);
        let message = event.message.clone().unwrap_or_default();
        let mut group = match self.groups.take(&group_key) {
            Some(g) if now.duration_since(g.last) <= AGGREGATE_WINDOW => g,
            _ => Group {
                messages: HashSet::new(),
                last: now,
            },
        };
        group.messages.insert(message.clone());
        group.last = now;
        let combine = group.messages.len() >= AGGREGATE_MAX_MESSAGES;
        if combine {
            // client-go pops any one message to stay below the limit; popping the new one
            // keeps the first nine tracked one by one, and the outcome deterministic.
            group.messages.remove(&message);
        }
        self.groups.put(group_key.clone(), group);
        if combine {
            (combined(event, now), group_key)
        } else {
            let key = event_key(&event);
            (event, key)
        }
    }

    /// Turns a repeat of a key into a patch of the Event written for it, and remembers it.
    fn observe(&mut self, mut event: Event, key: String, now: Timestamp) -> Write {
        let before = self.seen.take(&key);
        if let Some(s) = &before {
            event.metadata.name.clone_from(&s.name);
            event.first_timestamp.clone_from(&s.first);
            event.count = Some(s.count + 1);
        } else {
            event.metadata.name = Some(self.unique_name(&event.involved_object, now));
        }
        let seen = Seen {
            name: event.metadata.name.clone(),
            first: event.first_timestamp.clone(),
            count: event.count.unwrap_or(1),
        };
        self.seen.put(key, seen);
        Write {
            event,
            patch: before.is_some(),
        }
    }

    /// A name from `now`, moved on a nanosecond if an earlier name already used it.
    fn unique_name(&mut self, obj: &ObjectReference, now: Timestamp) -> String {
        self.last_nanos = now.as_nanosecond().max(self.last_nanos + 1);
        event_name(obj, self.last_nanos)
    }

    /// Takes a token from the bucket of the event's source, object and type.
    fn admit(&mut self, event: &Event, now: Timestamp) -> bool {
        let key = spam_key(event);
        let mut bucket = self.buckets.take(&key).unwrap_or(Bucket {
            tokens: SPAM_BURST,
            at: now,
        });
        let admitted = bucket.try_take(now);
        self.buckets.put(key, bucket);
        admitted
    }
}

impl Bucket {
    fn try_take(&mut self, now: Timestamp) -> bool {
        let elapsed = now.duration_since(self.at).as_secs_f64().max(0.0);
        let tokens = (self.tokens + elapsed / SPAM_REFILL_SECONDS).min(SPAM_BURST);
        if tokens < 1.0 {
            return false;
        }
        self.tokens = tokens - 1.0;
        self.at = self.at.max(now);
        true
    }
}

/// The combined event replacing `event`: count 1, message prefixed (named by `observe`).
fn combined(event: Event, now: Timestamp) -> Event {
    let message = format!("{AGGREGATE_PREFIX}{}", event.message.unwrap_or_default());
    Event {
        message: Some(message),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        ..event
    }
}

fn source_and_object(e: &Event) -> [&str; 7] {
    let src = e.source.as_ref();
    let o = &e.involved_object;
    [
        src.and_then(|s| s.component.as_deref()).unwrap_or_default(),
        src.and_then(|s| s.host.as_deref()).unwrap_or_default(),
        o.kind.as_deref().unwrap_or_default(),
        o.namespace.as_deref().unwrap_or_default(),
        o.name.as_deref().unwrap_or_default(),
        o.uid.as_deref().unwrap_or_default(),
        o.api_version.as_deref().unwrap_or_default(),
    ]
}

fn join(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// Source, object, type: one spam budget.
fn spam_key(e: &Event) -> String {
    let mut k = source_and_object(e).to_vec();
    k.push(e.type_.as_deref().unwrap_or_default());
    join(&k)
}

/// Source, object, type, reason, reporting controller and instance: one aggregation group.
fn aggregate_key(e: &Event) -> String {
    let mut k = source_and_object(e).to_vec();
    k.extend([
        e.type_.as_deref().unwrap_or_default(),
        e.reason.as_deref().unwrap_or_default(),
        e.reporting_component.as_deref().unwrap_or_default(),
        e.reporting_instance.as_deref().unwrap_or_default(),
    ]);
    join(&k)
}

/// Everything that makes two events the same: one Event object with a count.
fn event_key(e: &Event) -> String {
    let mut k = source_and_object(e).to_vec();
    k.extend([
        e.involved_object.field_path.as_deref().unwrap_or_default(),
        e.type_.as_deref().unwrap_or_default(),
        e.reason.as_deref().unwrap_or_default(),
        e.message.as_deref().unwrap_or_default(),
    ]);
    join(&k)
}

/// A map that forgets its least recently used keys beyond `cap`.
#[derive(Debug)]
struct Lru<V> {
    cap: usize,
    tick: u64,
    map: HashMap<String, (u64, V)>,
    order: BTreeMap<u64, String>,
}

impl<V> Lru<V> {
    fn new(cap: usize) -> Self {
        Lru {
            cap,
            tick: 0,
            map: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn take(&mut self, key: &str) -> Option<V> {
        let (tick, v) = self.map.remove(key)?;
        self.order.remove(&tick);
        Some(v)
    }

    fn put(&mut self, key: String, v: V) {
        self.take(&key);
        self.tick += 1;
        self.order.insert(self.tick, key.clone());
        self.map.insert(key, (self.tick, v));
        if self.map.len() > self.cap
            && let Some((_, oldest)) = self.order.pop_first()
        {
            self.map.remove(&oldest);
        }
    }
}

/// Records Events for one component; cheap to clone. Clones share the correlator and the
/// writer task; [`Recorder::with_component`] shares them under another component.
#[derive(Clone)]
pub struct Recorder {
    component: &'static str,
    shared: Option<Arc<Shared>>,
}

struct Shared {
    /// One lock for correlating and queueing, so writes queue in the order they were decided.
    state: Mutex<State>,
    written: Arc<AtomicU64>,
    task: Mutex<Option<JoinHandle<()>>>,
}

struct State {
    correlator: Correlator,
    queue: Option<mpsc::Sender<Write>>,
}

impl Recorder {
    /// A recorder writing through `client`; spawns the writer task (call within Tokio).
    pub fn new(client: Client, component: &'static str) -> Recorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        let written = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(write_all(client, rx, written.clone()));
        let state = State {
            correlator: Correlator::default(),
            queue: Some(tx),
        };
        let shared = Shared {
            state: Mutex::new(state),
            written,
            task: Mutex::new(Some(task)),
        };
        Recorder {
            component,
            shared: Some(Arc::new(shared)),
        }
    }

    /// A recorder that records nothing (previews, unit tests).
    pub fn disabled() -> Recorder {
        Recorder {
            component: "",
            shared: None,
        }
    }

    /// The same correlator and writer, as another component.
    pub fn with_component(&self, component: &'static str) -> Recorder {
        Recorder {
            component,
            shared: self.shared.clone(),
        }
    }

    pub fn normal(&self, obj: &ObjectReference, reason: &str, message: String) {
        self.record(obj, EventType::Normal, reason, message);
    }

    pub fn warning(&self, obj: &ObjectReference, reason: &str, message: String) {
        self.record(obj, EventType::Warning, reason, message);
    }

    /// Correlates now and queues the write, if any; never waits.
    pub fn record(&self, obj: &ObjectReference, type_: EventType, reason: &str, message: String) {
        let Some(shared) = &self.shared else { return };
        tracing::debug!(
            "event {} {reason} on {}/{}: {message}",
            type_.as_str(),
            obj.kind.as_deref().unwrap_or_default(),
            obj.name.as_deref().unwrap_or_default()
        );
        let now = Timestamp::now();
        let event = new_event(self.component, obj, type_, reason, message, now);
        let mut state = shared.lock_state();
        let Some(write) = state.correlator.correlate(event, now) else {
            return;
        };
        match &state.queue {
            Some(q) if q.try_send(write).is_err() => {
                tracing::warn!("too many events queued; dropped one ({reason})");
            }
            _ => {}
        }
    }

    /// Events written so far (creates and patches the API server accepted).
    pub fn written(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.written.load(Ordering::Relaxed))
    }

    /// Stops taking events and waits up to [`FLUSH_BOUND`] for the queued ones.
    pub async fn close(self) {
        self.close_within(FLUSH_BOUND).await;
    }

    /// [`Recorder::close`] with another bound. Events recorded afterwards, by any clone,
    /// are dropped.
    pub async fn close_within(self, bound: Duration) {
        let Some(shared) = self.shared else { return };
        let queue = shared.lock_state().queue.take();
        drop(queue);
        let task = shared
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut task) = task else { return };
        if tokio::time::timeout(bound, &mut task).await.is_err() {
            task.abort();
            tracing::warn!("gave up writing the last events after {bound:?}");
        }
    }
}

impl Shared {
    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer task: one write at a time, in order, until the queue closes.
async fn write_all(client: Client, mut rx: mpsc::Receiver<Write>, written: Arc<AtomicU64>) {
    while let Some(w) = rx.recv().await {
        let name = w.event.metadata.name.clone().unwrap_or_default();
        match write_one(&client, w).await {
            Ok(()) => {
                written.fetch_add(1, Ordering::Relaxed);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                tracing::debug!("event {name} already exists");
            }
            Err(e) => tracing::warn!("could not write event {name}: {e}"),
        }
    }
}

/// Patches an existing Event, or creates it (also when the patched one is gone).
async fn write_one(client: &Client, w: Write) -> Result<(), kube::Error> {
    let mut event = w.event;
    let ns = event.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), &ns);
    if w.patch {
        let name = event.metadata.name.clone().unwrap_or_default();
        let body = serde_json::json!({
            "count": event.count,
            "lastTimestamp": event.last_timestamp,
            "message": event.message,
        });
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(body))
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            other => return other.map(drop),
        }
    }
    event.metadata.resource_version = None;
    api.create(&PostParams::default(), &event).await.map(drop)
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
