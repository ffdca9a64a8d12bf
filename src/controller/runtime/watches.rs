//! One watch per resource type per process, shared by every reconciler: each reconciler
//! registers the types it reads and how a change of such an object maps to the keys it must
//! reconcile; the runtime opens one watch per type, however many reconcilers read it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::{Key, Scope};

/// What a type must be to be cached and shared, namespaced or not.
pub trait Cached:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
}

impl<K> Cached for K where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// A namespaced cached type: watched in the runtime's scope (one namespace, or all).
pub trait Watched: Cached + Resource<Scope = k8s_openapi::NamespaceResourceScope> {}

impl<K> Watched for K where K: Cached + Resource<Scope = k8s_openapi::NamespaceResourceScope> {}

/// How a change of an object maps to keys of one reconciler.
type Mapper = Box<dyn Fn(&dyn Any, &Stores) -> Vec<Key> + Send + Sync>;

/// What the watches tell the loop.
pub(super) enum Trigger {
    /// An object of this type changed (or went).
    Changed(TypeId, Arc<dyn Any + Send + Sync>),
    /// A watch finished its initial list (again, after a re-list).
    Synced(TypeId),
}

/// The shared caches, by type. Reconcilers read them to build their snapshots.
#[derive(Default, Clone)]
pub struct Stores {
    typed: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    meta: HashMap<TypeId, Arc<dyn MetaStore>>,
}

/// The identity of a cached object, for expectations.
pub(super) struct Seen {
    pub uid: Option<String>,
    pub resource_version: u64,
    pub deleting: bool,
}

pub(super) trait MetaStore: Send + Sync {
    fn seen(&self, namespace: &str, name: &str) -> Option<Seen>;
}

impl<K: Cached> MetaStore for Store<K> {
    fn seen(&self, namespace: &str, name: &str) -> Option<Seen> {
        self.get(&ObjectRef::new(name).within(namespace))
            .map(|o| Seen {
                uid: o.meta().uid.clone(),
                resource_version: resource_version(o.meta()),
                deleting: o.meta().deletion_timestamp.is_some(),
            })
    }
}

pub fn resource_version(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Stores {
    /// The cache of `K`; `None` when no reconciler registered it.
    pub fn store<K: Cached>(&self) -> Option<&Store<K>> {
        self.typed.get(&TypeId::of::<K>())?.downcast_ref()
    }

    pub fn get<K: Cached>(&self, key: &Key) -> Option<Arc<K>> {
        self.store::<K>()?
            .get(&ObjectRef::new(&key.1).within(&key.0))
    }

    /// Every cached `K` in `namespace` for which `keep` holds.
    pub fn list<K: Cached>(&self, namespace: &str, keep: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.store::<K>()
            .map(|s| {
                s.state()
                    .into_iter()
                    .filter(|o| o.meta().namespace.as_deref() == Some(namespace) && keep(o))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every cached `K` in scope.
    pub fn all<K: Cached>(&self) -> Vec<Arc<K>> {
        self.store::<K>().map(|s| s.state()).unwrap_or_default()
    }

    pub(super) fn seen(&self, type_id: TypeId, namespace: &str, name: &str) -> Option<Seen> {
        self.meta.get(&type_id)?.seen(namespace, name)
    }
}

/// A type's watch, before it is opened: every registration of the type shares it.
struct Pending {
    /// The name every registration restricted it to; `None` as soon as one did not.
    only_name: Option<Option<String>>,
    /// The slimming every registration asked for; `None` as soon as one did not.
    slim: Option<&'static str>,
    open: Opener,
}

/// Opens a type's watch: by name or not, slimmed (by that name) or not.
type Opener =
    Box<dyn FnOnce(Option<String>, Option<&'static str>) -> BoxStream<'static, Trigger> + Send>;

/// What a reconciler keeps of an object in the shared cache, by name (registrations of one type
/// agree by name).
pub struct Slim<K> {
    pub name: &'static str,
    pub apply: fn(&mut K),
}

/// The registry reconcilers fill before the runtime starts.
pub struct Watches {
    client: Client,
    scope: Scope,
    /// The name each reconciler's own kind is watched by (by reconciler index); none: all.
    only_names: Vec<Option<String>>,
    current: usize,
    pending: Vec<(TypeId, Pending)>,
    mappers: HashMap<TypeId, Vec<(usize, Mapper)>>,
    stores: Stores,
    /// Secondary types this run does not read (`Options::unwatched`).
    unwatched: Vec<TypeId>,
}

impl Watches {
    pub(super) fn new(client: Client, scope: Scope, only_names: Vec<Option<String>>) -> Watches {
        Watches {
            client,
            scope,
            only_names,
            current: 0,
            pending: Vec::new(),
            mappers: HashMap::new(),
            stores: Stores::default(),
            unwatched: Vec::new(),
        }
    }

    pub(super) fn unwatched(mut self, types: Vec<TypeId>) -> Self {
        self.unwatched = types;
        self
    }

    /// A secondary type this run does not read: an empty store, no list, no watch.
    fn skipped<K: Cached>(&mut self) -> bool {
        let id = TypeId::of::<K>();
        if !self.unwatched.contains(&id) || self.pending.iter().any(|(t, _)| *t == id) {
            return false;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = self.stores.typed.entry(id) {
            let (reader, _) = reflector::store::<K>();
            e.insert(Arc::new(reader.clone()));
            self.stores.meta.insert(id, Arc::new(reader));
        }
        true
    }

    pub(super) fn for_reconciler(&mut self, index: usize) -> &mut Self {
        self.current = index;
        self
    }

    /// The reconciler's own kind: a change maps to the object's own key. A command driving one
    /// object watches only that name.
    pub fn primary<K: Watched>(&mut self) {
        let name = self.only_names.get(self.current).cloned().flatten();
        let api = api::<K>(&self.client, &self.scope);
        self.register::<K>(
            api,
            name,
            |o: &K, _| {
                o.meta()
                    .namespace
                    .clone()
                    .map(|ns| vec![(ns, o.meta().name.clone().unwrap_or_default())])
                    .unwrap_or_default()
            },
            None,
        );
    }

    /// A type the reconciler reads; `map` names the keys a change of such an object concerns
    /// (its owner, or whatever refers to it, read from the stores).
    pub fn secondary<K: Watched>(
        &mut self,
        map: impl Fn(&K, &Stores) -> Vec<Key> + Send + Sync + 'static,
    ) {
        if self.skipped::<K>() {
            return;
        }
        let api = api::<K>(&self.client, &self.scope);
        self.register::<K>(api, None, map, None);
    }

    /// A cluster-scoped type the reconciler reads (nodes), watched whole whatever the scope.
    pub fn cluster<K: Cached + Resource<Scope = k8s_openapi::ClusterResourceScope>>(
        &mut self,
        map: impl Fn(&K, &Stores) -> Vec<Key> + Send + Sync + 'static,
    ) {
        let api = Api::all(self.client.clone());
        self.register::<K>(api, None, map, None);
    }

    /// As `secondary`, caching only what `slim` leaves of each object (memory: the store holds
    /// every such object in scope). The type is slimmed only when every reconciler that reads
    /// it asks for the same `slim`; otherwise it is cached whole.
    pub fn secondary_slim<K: Watched>(
        &mut self,
        map: impl Fn(&K, &Stores) -> Vec<Key> + Send + Sync + 'static,
        slim: Slim<K>,
    ) {
        if self.skipped::<K>() {
            return;
        }
        let api = api::<K>(&self.client, &self.scope);
        self.register::<K>(api, None, map, Some(slim));
    }

    fn register<K: Cached>(
        &mut self,
        api: Api<K>,
        only_name: Option<String>,
        map: impl Fn(&K, &Stores) -> Vec<Key> + Send + Sync + 'static,
        slim: Option<Slim<K>>,
    ) {
        let id = TypeId::of::<K>();
        let mapper: Mapper = Box::new(move |o, stores| {
            o.downcast_ref::<K>()
                .map(|o| map(o, stores))
                .unwrap_or_default()
        });
        self.mappers
            .entry(id)
            .or_default()
            .push((self.current, mapper));
        let slim_name = slim.as_ref().map(|s| s.name);
        if let Some((_, p)) = self.pending.iter_mut().find(|(t, _)| *t == id) {
            if p.only_name.as_ref().is_some_and(|n| *n != only_name) {
                p.only_name = Some(None);
            }
            if p.slim != slim_name {
                p.slim = None;
            }
            return;
        }
        let (reader, writer) = reflector::store::<K>();
        self.stores.typed.insert(id, Arc::new(reader.clone()));
        self.stores.meta.insert(id, Arc::new(reader));
        let slim_fn = slim.map(|s| s.apply);
        let open = Box::new(move |name: Option<String>, slim: Option<&'static str>| {
            let slim_fn = slim.and(slim_fn);
            open_watch(api, writer, name, slim_fn).boxed()
        });
        self.pending.push((
            id,
            Pending {
                only_name: Some(only_name),
                slim: slim_name,
                open,
            },
        ));
    }

    /// Open every watch: the stores, the mappers and the merged stream of triggers.
    pub(super) fn open(self) -> (Stores, Mappers, BoxStream<'static, Trigger>) {
        let streams: Vec<_> = self
            .pending
            .into_iter()
            .map(|(_, p)| (p.open)(p.only_name.flatten(), p.slim))
            .collect();
        let count = streams.len();
        (
            self.stores,
            Mappers {
                by_type: self.mappers,
                watches: count,
            },
            futures::stream::select_all(streams).boxed(),
        )
    }
}

/// Who to wake for a change.
pub(super) struct Mappers {
    by_type: HashMap<TypeId, Vec<(usize, Mapper)>>,
    /// How many watches there are (all must sync before the first pass).
    pub watches: usize,
}

impl Mappers {
    pub fn keys(
        &self,
        type_id: TypeId,
        obj: &(dyn Any + Send + Sync),
        stores: &Stores,
    ) -> Vec<(usize, Key)> {
        self.by_type
            .get(&type_id)
            .into_iter()
            .flatten()
            .flat_map(|(i, m)| m(obj, stores).into_iter().map(move |k| (*i, k)))
            .collect()
    }
}

fn api<K: Watched>(client: &Client, scope: &Scope) -> Api<K> {
    match scope {
        Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
        Scope::All => Api::all(client.clone()),
    }
}

/// Nothing a reconciler reads: managed fields are most of a small object's bytes and no plan
/// looks at them (a PUT without them keeps the server's).
fn slim<K: Resource>(o: &mut K) {
    o.meta_mut().managed_fields = None;
}

fn open_watch<K: Cached>(
    api: Api<K>,
    writer: reflector::store::Writer<K>,
    only_name: Option<String>,
    keep: Option<fn(&mut K)>,
) -> impl Stream<Item = Trigger> + Send {
    let mut cfg = watcher::Config::default();
    if let Some(name) = &only_name {
        cfg = cfg.fields(&format!("metadata.name={name}"));
    }
    let id = TypeId::of::<K>();
    let events = watcher::watcher(api, cfg)
        .default_backoff()
        .modify(move |o: &mut K| {
            slim(o);
            if let Some(keep) = keep {
                keep(o);
            }
        });
    reflector::reflector(writer, events).filter_map(move |ev| async move {
        match ev {
            Ok(Event::Apply(o)) | Ok(Event::Delete(o)) => Some(Trigger::Changed(
                id,
                Arc::new(o) as Arc<dyn Any + Send + Sync>,
            )),
            Ok(Event::InitDone) => Some(Trigger::Synced(id)),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("watch error (retrying): {e}");
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::ControllerRevision;
    use k8s_openapi::api::core::v1::{ConfigMap, Pod};
    use kube::api::ObjectMeta;

    use super::*;

    fn offline_client() -> Client {
        let cfg = kube::Config::new("http://127.0.0.1:1".parse().unwrap());
        Client::try_from(cfg).unwrap()
    }

    fn pod(owner: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                labels: Some([("owner".to_string(), owner.to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Two reconcilers reading pods share one pod watch (and one store); a pod change wakes
    /// each through its own mapper. Nothing is requested until the streams are polled.
    #[tokio::test]
    async fn one_watch_per_type_whatever_the_reconcilers() {
        let mut w = Watches::new(offline_client(), Scope::All, vec![]);
        let r0 = w.for_reconciler(0);
        r0.primary::<ConfigMap>();
        r0.secondary::<Pod>(|p, _| {
            vec![(
                "ns".into(),
                format!("a-{}", p.metadata.labels.as_ref().unwrap()["owner"]),
            )]
        });
        r0.secondary::<ControllerRevision>(|_, _| vec![]);
        let r1 = w.for_reconciler(1);
        r1.secondary::<Pod>(|p, _| {
            vec![(
                "ns".into(),
                format!("b-{}", p.metadata.labels.as_ref().unwrap()["owner"]),
            )]
        });
        r1.secondary::<ControllerRevision>(|_, _| vec![]);
        let (stores, mappers, _stream) = w.open();
        assert_eq!(
            mappers.watches, 3,
            "ConfigMap, Pod, ControllerRevision: one watch each"
        );
        assert!(stores.store::<Pod>().is_some());
        let keys = mappers.keys(TypeId::of::<Pod>(), &pod("x"), &stores);
        assert_eq!(
            keys,
            vec![
                (0, ("ns".into(), "a-x".into())),
                (1, ("ns".into(), "b-x".into()))
            ]
        );
    }

    /// A type is slimmed only when every reconciler reading it asks for the same slimming.
    #[tokio::test]
    async fn slimming_needs_every_reader_to_agree() {
        fn drop_labels(p: &mut Pod) {
            p.metadata.labels = None;
        }
        let slim = || Slim {
            name: "no-labels",
            apply: drop_labels,
        };
        let mut w = Watches::new(offline_client(), Scope::All, vec![]);
        w.for_reconciler(0)
            .secondary_slim::<Pod>(|_, _| vec![], slim());
        w.for_reconciler(1)
            .secondary_slim::<Pod>(|_, _| vec![], slim());
        assert_eq!(w.pending[0].1.slim, Some("no-labels"));
        w.for_reconciler(2).secondary::<Pod>(|_, _| vec![]);
        assert_eq!(w.pending[0].1.slim, None);
    }
}
