//! The workload layer: the one place that knows, per kind, how to pause, resume, restart,
//! undo, read history, set images, scale with `--delete-pod`, judge rest, paused and failed,
//! and find who drives it. `rollout`, `scale`, `set image` and the drive/watch path go through
//! a [`Workload`]; adding a kind is one file here (plus its reconciler in `controller/`).

mod advanced_daemonset;
mod advanced_statefulset;
mod cloneset;
mod daemonset;
mod deployment;
pub mod gate;
mod history;
mod images;
mod native;
mod plan_text;
mod pods;
mod statefulset;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde_json::Value;

use crate::cli::rollout::HistoryArgs;
use crate::cli::{DryRun, OutputFormat, WriteArgs};
use crate::client::Kube;
use crate::client::kinds::Kind;
use crate::controller::runtime::{Goal, Progress, Reconciler, Stuck};
use crate::error::Result;

use crate::client::detect;
use crate::controller::lease;

/// What a command asks of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Pause,
    Resume,
    Restart,
    Undo,
    History,
    Status,
    Scale,
    SetImage,
}

impl Verb {
    /// kubectl's past tense for the written line (`deployment.apps/web paused`).
    pub fn done(self) -> &'static str {
        match self {
            Verb::Pause => "paused",
            Verb::Resume => "resumed",
            Verb::Restart => "restarted",
            Verb::Undo => "rolled back",
            Verb::Scale => "scaled",
            Verb::SetImage => "image updated",
            Verb::History | Verb::Status => "",
        }
    }
}

/// Every command a workload can take.
pub const ALL_VERBS: &[Verb] = &[
    Verb::Pause,
    Verb::Resume,
    Verb::Restart,
    Verb::Undo,
    Verb::History,
    Verb::Status,
    Verb::Scale,
    Verb::SetImage,
];

/// Where a workload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Progressing,
    Complete,
    /// At rest but not rolled out: paused with pods still to update.
    Paused,
    Failed,
}

/// The status line, the phase and the counts, read from the object.
#[derive(Debug, Clone)]
pub struct Observed {
    pub line: String,
    pub phase: Phase,
    pub progress: Progress,
}

/// What a change did.
pub enum Written {
    /// The object as written (or as it would be written), with kubectl's verb.
    Changed {
        object: Value,
        done: String,
        notes: Vec<String>,
        /// A controller must now carry the change out (drive or watch).
        drives: bool,
    },
    /// Nothing to write; the line says why (`skipped rollback …`).
    Skipped(String),
    /// `--dry-run=client` of a change a controller carries out: what it would do.
    Preview { value: Value, text: String },
}

/// A command's context for a change: where, how to write, what to print.
pub struct Cx<'a> {
    pub kube: &'a Kube,
    pub write: &'a WriteArgs,
    pub output: Option<OutputFormat>,
}

impl Cx<'_> {
    pub fn dry_run(&self) -> DryRun {
        self.write.dry_run
    }
}

/// The embedded controller that carries a kind's changes out.
pub struct Embedded {
    /// The reconciler's name (its Lease: `kruise-embedded-<name>`).
    pub controller: &'static str,
    pub reconciler: fn() -> Box<dyn Reconciler>,
    /// When a driving command stops: the object rests, is paused, or failed.
    pub settled: fn() -> Goal,
}

/// A kind as the commands see it.
pub trait Workload: Sync {
    fn kind(&self) -> Kind;
    /// The commands that take it (checked before any request); every one unless a kind
    /// says otherwise.
    fn verbs(&self) -> &'static [Verb] {
        ALL_VERBS
    }
    /// Names of the objects matching a label selector (one LIST of metadata).
    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>>;
    /// Pause, resume or restart.
    fn rollout<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        verb: Verb,
    ) -> BoxFuture<'a, Result<Written>>;
    /// Back to `to_revision` (0: the previous one).
    fn undo<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        to_revision: i64,
    ) -> BoxFuture<'a, Result<Written>>;
    /// Print the revisions (the command's output).
    fn history<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        a: &'a HistoryArgs,
    ) -> BoxFuture<'a, Result<()>>;
    fn set_image<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        pairs: &'a [(String, String)],
        inplace: bool,
    ) -> BoxFuture<'a, Result<Written>>;
    fn scale<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        replicas: i32,
        delete_pods: &'a [String],
    ) -> BoxFuture<'a, Result<Written>>;
    /// Read the object once and judge it (`revision`: the one `rollout status` waits for).
    fn observe<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        revision: i64,
    ) -> BoxFuture<'a, Result<Observed>>;
    /// Judge the object as read (JSON), as `observe` does; `nodes` are the cluster's nodes,
    /// which only a kind that places pods per node ([`Workload::judged_by_nodes`]) reads.
    fn judge(&self, object: &Value, nodes: &[k8s_openapi::api::core::v1::Node])
    -> Result<Observed>;
    /// Whether a new pod that cannot start ends a wait on it (exit 4), in a change of its own
    /// or (`release`) in a Kruise Rollout's release: where [`Workload::stuck`] and
    /// [`Workload::release_stuck`] look.
    fn reports_stuck(&self, release: bool) -> bool {
        let _ = release;
        true
    }
    /// What its revisions are (what `get` shows between it and its pods).
    fn revision_objects(&self) -> RevisionObjects {
        RevisionObjects::ControllerRevisions
    }
    /// Whether [`Workload::judge`] needs the nodes.
    fn judged_by_nodes(&self) -> bool {
        false
    }
    /// Every change of the object, judged; `None` when it is deleted.
    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>>;
    /// A pod of the new revision that cannot start, if any (read when someone else drives:
    /// a watched change ends with exit 4 on it, as a driven one does).
    fn stuck<'a>(&'a self, kube: &'a Kube, name: &'a str) -> BoxFuture<'a, Result<Option<Stuck>>>;
    /// The same during a Kruise Rollout release whose stable revision is `stable` (its
    /// `stableRevision`): the kind's own check, unless its new pods are not its own (a
    /// Deployment's canary pods belong to the canary Deployment).
    fn release_stuck<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        stable: &'a str,
    ) -> BoxFuture<'a, Result<Option<Stuck>>> {
        let _ = stable;
        self.stuck(kube, name)
    }
    /// Who carries its changes out in this namespace.
    fn driver<'a>(&'a self, kube: &'a Kube) -> BoxFuture<'a, Driver>;
    /// The embedded controller that can drive it, if any.
    fn embedded(&self) -> Option<Embedded>;
}

/// A kind's revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionObjects {
    /// ControllerRevisions it owns; it owns its pods too.
    ControllerRevisions,
    /// ReplicaSets it owns, which own the pods (a Deployment).
    ReplicaSets,
}

/// Who reconciles a kind in this namespace.
pub enum Driver {
    /// An operator (OpenKruise's manager), described.
    Operator(String),
    /// Kubernetes' own controller (kube-controller-manager): said only when watching.
    Builtin(String),
    /// Another process's embedded controller, by its Lease.
    Embedded(lease::Holder, &'static str),
    Nobody,
}

/// The OpenKruise manager if it is live, else the embedded controller holding `controller`'s
/// Lease in the namespace, else nobody.
pub async fn kruise_driver(kube: &Kube, controller: &'static str) -> Driver {
    let op = detect::operator(kube, &detect::openkruise()).await;
    if op.live {
        return Driver::Operator(format!(
            "the OpenKruise manager in namespace {:?}",
            op.namespace
        ));
    }
    match lease::holder(&kube.client, &kube.namespace, controller).await {
        Ok(Some(h)) if h.identity != lease::identity() => Driver::Embedded(h, controller),
        _ => Driver::Nobody,
    }
}

/// Names of the objects of kind `K` matching `labels` (one LIST of metadata).
pub async fn list_names<K>(kube: &Kube, labels: &str) -> Result<Vec<String>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: kube::Api<K> = kube::Api::namespaced(kube.client.clone(), &kube.namespace);
    api.list_metadata(&kube::api::ListParams::default().labels(labels))
        .await
        .map(|l| l.items.iter().map(kube::ResourceExt::name_any).collect())
        .map_err(|e| crate::error::from_kube(e, &kube.server, None))
}

/// Every change of one object, judged by `judge`; `None` when it is deleted. A broken watch
/// resumes (with a warning) rather than ending the wait.
pub fn watch_judged<K>(
    kube: &Kube,
    name: &str,
    judge: impl Fn(&K) -> Result<Observed> + Send + Sync + 'static,
) -> BoxStream<'static, Result<Option<Observed>>>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    use futures::StreamExt;
    let api: kube::Api<K> = kube::Api::namespaced(kube.client.clone(), &kube.namespace);
    let what = format!("{} {name}", K::kind(&()).to_lowercase());
    let judge = std::sync::Arc::new(judge);
    kube::runtime::watcher::watch_object(api, name)
        .filter_map(move |ev| {
            let (what, judge) = (what.clone(), judge.clone());
            async move {
                match ev {
                    Ok(Some(k)) => Some(judge(&k).map(Some)),
                    Ok(None) => Some(Ok(None)),
                    Err(e) => {
                        tracing::warn!("watch of {what} interrupted ({e}); resuming");
                        None
                    }
                }
            }
        })
        .boxed()
}

/// `object` read as the kind's type, or an error naming it.
pub fn typed<K: serde::de::DeserializeOwned>(object: &Value, kind: Kind) -> Result<K> {
    serde_json::from_value(object.clone()).map_err(|e| {
        crate::error::Error::other(format!(
            "cannot read {} {:?}: {e}",
            kind.singular(),
            object["metadata"]["name"].as_str().unwrap_or_default()
        ))
    })
}

/// Every kind the commands know.
pub fn all() -> [&'static dyn Workload; 6] {
    [
        &deployment::DEPLOYMENT,
        &statefulset::STATEFULSET,
        &daemonset::DAEMONSET,
        &cloneset::CLONESET,
        &advanced_statefulset::ADVANCED_STATEFULSET,
        &advanced_daemonset::ADVANCED_DAEMONSET,
    ]
}

/// The kinds that take `verb`.
pub fn supporting(verb: Verb) -> Vec<Kind> {
    all()
        .iter()
        .filter(|w| w.verbs().contains(&verb))
        .map(|w| w.kind())
        .collect()
}

/// The kind a reference names (a Kruise Rollout's `workloadRef`: `apiVersion` and `kind`),
/// read at the version this tool uses.
pub fn by_reference(api_version: &str, kind: &str) -> Option<Kind> {
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    all()
        .into_iter()
        .map(|w| w.kind())
        .find(|k| k.group == group && k.kind == kind)
}

/// The workload for `kind` (checked before: `supporting`).
pub fn of(kind: Kind) -> &'static dyn Workload {
    all()
        .into_iter()
        .find(|w| w.kind() == kind)
        .expect("kinds are checked against `supporting` before any request")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::kinds;

    #[test]
    fn references_name_kinds_at_any_version() {
        for (api_version, kind, want) in [
            ("apps/v1", "Deployment", Some(kinds::DEPLOYMENT)),
            ("apps/v1", "StatefulSet", Some(kinds::STATEFULSET)),
            ("apps.kruise.io/v1alpha1", "CloneSet", Some(kinds::CLONESET)),
            (
                "apps.kruise.io/v1alpha1",
                "StatefulSet",
                Some(kinds::ADVANCED_STATEFULSET),
            ),
            (
                "apps.kruise.io/v1beta1",
                "DaemonSet",
                Some(kinds::ADVANCED_DAEMONSET),
            ),
            ("apps/v1", "ReplicaSet", None),
            ("", "", None),
        ] {
            assert_eq!(
                by_reference(api_version, kind),
                want,
                "{api_version} {kind}"
            );
        }
    }
}
