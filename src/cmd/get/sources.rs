//! What a view reads, and reading it: once (`get`), or as watches that keep a copy of each
//! source and say when it changed (`get -w`: no polling).

use std::collections::BTreeMap;

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::controller::selector;
use crate::error::{Error, Result, from_kube};

/// One thing to read: an object by name, or the objects a label selector lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub resource: ApiResource,
    pub what: Which,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    Name(String),
    Labels(String),
    /// Every object of a cluster-scoped kind (the nodes an Advanced DaemonSet is judged on).
    Cluster,
}

impl Source {
    pub fn named(kind: Kind, name: &str) -> Source {
        Source {
            resource: kind.api_resource(),
            what: Which::Name(name.to_string()),
        }
    }

    /// Every node of the cluster.
    pub fn nodes() -> Source {
        Source {
            resource: Source::resource("", "v1", "Node", "nodes"),
            what: Which::Cluster,
        }
    }

    pub fn labelled(kind: Kind, labels: String) -> Source {
        Source {
            resource: kind.api_resource(),
            what: Which::Labels(labels),
        }
    }

    pub fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(group, version, kind),
            plural,
        )
    }
}

pub fn pod_kind() -> Kind {
    kinds::resolve("pods").expect("pods are in the kinds table")
}

pub fn kind_of(word: &str) -> Kind {
    kinds::resolve(word).expect("the kind is in the kinds table")
}

/// A workload's selector as a LIST's `labelSelector`; `None` when it has none or it cannot be
/// read (then nothing is listed rather than every object of the namespace).
pub fn selector_of(object: &Value) -> Option<String> {
    let sel: LabelSelector =
        serde_json::from_value(object.pointer("/spec/selector")?.clone()).ok()?;
    selector::render(&sel).ok().filter(|s| !s.is_empty())
}

/// The objects each source holds, in the order of the sources.
pub type Snapshot = Vec<Vec<Value>>;

fn api(kube: &Kube, s: &Source) -> Api<DynamicObject> {
    match s.what {
        Which::Cluster => Api::all_with(kube.client.clone(), &s.resource),
        _ => Api::namespaced_with(kube.client.clone(), &kube.namespace, &s.resource),
    }
}

fn value(o: DynamicObject, r: &ApiResource) -> Value {
    let mut v = serde_json::to_value(&o).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.insert("apiVersion".into(), r.api_version.clone().into());
        m.insert("kind".into(), r.kind.clone().into());
    }
    v
}

/// Read every source once (a missing named object is none, and so is a source that is
/// `None`).
pub async fn fetch(kube: &Kube, sources: &[Option<Source>]) -> Result<Snapshot> {
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        let Some(s) = s else {
            out.push(Vec::new());
            continue;
        };
        let api = api(kube, s);
        let items = match &s.what {
            Which::Name(n) => api
                .get_opt(n)
                .await
                .map_err(|e| from_kube(e, &kube.server, None))?
                .map(|o| vec![value(o, &s.resource)])
                .unwrap_or_default(),
            Which::Labels(_) | Which::Cluster => api
                .list(&ListParams::default().labels(match &s.what {
                    Which::Labels(l) => l,
                    _ => "",
                }))
                .await
                .map_err(|e| from_kube(e, &kube.server, None))?
                .items
                .into_iter()
                .map(|o| value(o, &s.resource))
                .collect(),
        };
        out.push(items);
    }
    Ok(out)
}

/// What a source's watch says next.
type Change = Result<Event<DynamicObject>, watcher::Error>;

/// The sources watched: each keeps its objects by uid, and says when its first list is in.
pub struct Watched {
    stores: Vec<BTreeMap<String, Value>>,
    buffers: Vec<Option<BTreeMap<String, Value>>>,
    ready: Vec<bool>,
    events: SelectAll<BoxStream<'static, (usize, Change)>>,
    resources: Vec<ApiResource>,
}

fn uid(v: &Value) -> String {
    v.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .or(v.pointer("/metadata/name").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

impl Watched {
    /// Start a watch of each source. A broken watch resumes with backoff (a warning is
    /// logged); the copy stays as it was until the watch is back.
    pub fn start(kube: &Kube, sources: &[Option<Source>]) -> Watched {
        let mut events = SelectAll::new();
        for (i, s) in sources.iter().enumerate() {
            let Some(s) = s else { continue };
            let cfg = match &s.what {
                Which::Name(n) => watcher::Config::default().fields(&format!("metadata.name={n}")),
                Which::Labels(l) => watcher::Config::default().labels(l),
                Which::Cluster => watcher::Config::default(),
            };
            let stream = watcher::watcher(api(kube, s), cfg)
                .default_backoff()
                .map(move |e| (i, e))
                .boxed();
            events.push(stream);
        }
        Watched {
            stores: vec![BTreeMap::new(); sources.len()],
            buffers: vec![None; sources.len()],
            ready: sources.iter().map(Option::is_none).collect(),
            events,
            resources: sources
                .iter()
                .map(|s| {
                    s.as_ref()
                        .map(|s| s.resource.clone())
                        .unwrap_or_else(|| pod_kind().api_resource())
                })
                .collect(),
        }
    }

    fn apply(&mut self, i: usize, e: Event<DynamicObject>) {
        let r = &self.resources[i];
        match e {
            Event::Init => self.buffers[i] = Some(BTreeMap::new()),
            Event::InitApply(o) => {
                let v = value(o, r);
                self.buffers[i]
                    .get_or_insert_with(BTreeMap::new)
                    .insert(uid(&v), v);
            }
            Event::InitDone => {
                self.stores[i] = self.buffers[i].take().unwrap_or_default();
                self.ready[i] = true;
            }
            Event::Apply(o) => {
                let v = value(o, r);
                self.stores[i].insert(uid(&v), v);
            }
            Event::Delete(o) => {
                let v = value(o, r);
                self.stores[i].remove(&uid(&v));
            }
        }
    }

    /// A watch error: a kind the cluster does not serve (404) reads as none; a refusal (403)
    /// ends the view; anything else (the API server away, a watch expired) is retried with
    /// backoff while the copy stays as it was.
    fn failed(&mut self, i: usize, e: watcher::Error) -> Result<()> {
        let status = match &e {
            watcher::Error::InitialListFailed(kube::Error::Api(s))
            | watcher::Error::WatchStartFailed(kube::Error::Api(s))
            | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
            watcher::Error::WatchError(s) => Some(s.code),
            _ => None,
        };
        let kind = &self.resources[i].kind;
        match status {
            Some(404) if !self.ready[i] => {
                tracing::debug!("{kind} is not served here; shown as none");
                self.ready[i] = true;
                Ok(())
            }
            Some(403) => Err(Error::Forbidden(format!("cannot watch {kind}: {e}"))),
            _ => {
                tracing::warn!("watch of {kind} interrupted ({e}); resuming");
                Ok(())
            }
        }
    }

    fn take(&mut self, i: usize, e: Change) -> Result<()> {
        match e {
            Ok(e) => {
                self.apply(i, e);
                Ok(())
            }
            Err(e) => self.failed(i, e),
        }
    }

    /// Wait for the next change, take every change already there with it, and return the
    /// copy once every source has been listed; `None` when the watches ended.
    pub async fn next(&mut self) -> Option<Result<Snapshot>> {
        loop {
            let (i, e) = self.events.next().await?;
            if let Err(e) = self.take(i, e) {
                return Some(Err(e));
            }
            while let Some(Some((i, e))) = futures::FutureExt::now_or_never(self.events.next()) {
                if let Err(e) = self.take(i, e) {
                    return Some(Err(e));
                }
            }
            if self.ready.iter().all(|r| *r) {
                return Some(Ok(self
                    .stores
                    .iter()
                    .map(|s| s.values().cloned().collect())
                    .collect()));
            }
        }
    }
}
