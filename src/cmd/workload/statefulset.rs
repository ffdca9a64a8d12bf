//! StatefulSet (apps/v1), at parity with kubectl v1.34: kube-controller-manager drives it;
//! `rollout pause`/`resume` are refused as kubectl refuses them, `restart`, `undo`, `history`
//! and `set image` go through [`native`], and `rollout status` is kubectl's
//! StatefulSetStatusViewer ([`status`], unit-tested here). `scale --delete-pod` is refused: a
//! StatefulSet removes pods from its highest ordinal down and recreates any ordinal deleted.

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::json;

use super::native::{self, Native};
use super::{Cx, Driver, Embedded, Observed, Verb, Workload, Written};
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::client::write::{Change, guarded};
use crate::controller::runtime::{Progress, Stuck};
use crate::error::{Error, Result};

pub struct StatefulSetWorkload;
pub static STATEFULSET: StatefulSetWorkload = StatefulSetWorkload;

const ROLLING_UPDATE: &str = "RollingUpdate";

impl Native for StatefulSet {
    const KIND: Kind = kinds::STATEFULSET;
    const ROLLOUT_KIND: Option<crate::controller::rollout::workload::TargetKind> =
        Some(crate::controller::rollout::workload::TargetKind::StatefulSet);
    const RESOURCE: &'static str = "statefulsets.apps";

    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref().map(|s| &s.template)
    }

    fn selector(&self) -> Option<&LabelSelector> {
        self.spec.as_ref().map(|s| &s.selector)
    }

    fn status(&self) -> Result<(String, bool)> {
        status(self)
    }

    fn progress(&self) -> Progress {
        let st = self.status.clone().unwrap_or_default();
        Progress {
            desired: self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            updated: st.updated_replicas.unwrap_or(0),
            ready: st.ready_replicas.unwrap_or(0),
            available: st.available_replicas.unwrap_or(0),
            total: st.replicas,
            paused: false,
        }
    }
}

/// kubectl's StatefulSetStatusViewer: the same checks in the same order, the same lines (less
/// their trailing newline). `--revision` is not looked at, as in kubectl.
pub fn status(s: &StatefulSet) -> Result<(String, bool)> {
    let spec = s.spec.clone().unwrap_or_default();
    let st = s.status.clone().unwrap_or_default();
    let strategy = spec.update_strategy.unwrap_or_default();
    if strategy.type_.as_deref() != Some(ROLLING_UPDATE) {
        return Err(Error::other(format!(
            "rollout status is only available for {ROLLING_UPDATE} strategy type"
        )));
    }
    let observed = st.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return Ok((
            "Waiting for statefulset spec update to be observed...".into(),
            false,
        ));
    }
    let ready = st.ready_replicas.unwrap_or(0);
    let updated = st.updated_replicas.unwrap_or(0);
    if let Some(want) = spec.replicas
        && ready < want
    {
        return Ok((
            format!("Waiting for {} pods to be ready...", want - ready),
            false,
        ));
    }
    if let Some(ru) = strategy.rolling_update {
        if let (Some(want), Some(partition)) = (spec.replicas, ru.partition)
            && updated < want - partition
        {
            return Ok((
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                    want - partition
                ),
                false,
            ));
        }
        return Ok((
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
            true,
        ));
    }
    let (current, update) = (
        st.current_revision.unwrap_or_default(),
        st.update_revision.unwrap_or_default(),
    );
    if update != current {
        return Ok((
            format!(
                "waiting for statefulset rolling update to complete {updated} pods at revision {update}..."
            ),
            false,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {current}...",
            st.current_replicas.unwrap_or(0)
        ),
        true,
    ))
}

impl Workload for StatefulSetWorkload {
    fn kind(&self) -> Kind {
        kinds::STATEFULSET
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        super::list_names::<StatefulSet>(kube, labels).boxed()
    }

    fn rollout<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        verb: Verb,
    ) -> BoxFuture<'a, Result<Written>> {
        native::rollout::<StatefulSet>(cx, name, verb).boxed()
    }

    fn undo<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        to_revision: i64,
    ) -> BoxFuture<'a, Result<Written>> {
        native::undo::<StatefulSet>(cx, name, to_revision).boxed()
    }

    fn history<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        a: &'a HistoryArgs,
    ) -> BoxFuture<'a, Result<()>> {
        native::history::<StatefulSet>(kube, name, a).boxed()
    }

    fn set_image<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        pairs: &'a [(String, String)],
        inplace: bool,
    ) -> BoxFuture<'a, Result<Written>> {
        native::set_image::<StatefulSet>(
            cx,
            name,
            pairs,
            inplace,
            "statefulsets cannot update pods in place (the StatefulSet controller recreates each pod); drop --inplace",
        )
        .boxed()
    }

    fn scale<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        replicas: i32,
        delete_pods: &'a [String],
    ) -> BoxFuture<'a, Result<Written>> {
        scale(cx, name, replicas, delete_pods).boxed()
    }

    fn observe<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        _revision: i64,
    ) -> BoxFuture<'a, Result<Observed>> {
        native::observe::<StatefulSet>(kube, name).boxed()
    }

    fn judge(
        &self,
        object: &serde_json::Value,
        _nodes: &[k8s_openapi::api::core::v1::Node],
    ) -> Result<Observed> {
        native::judged(&super::typed::<StatefulSet>(object, self.kind())?)
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        _revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        native::watch::<StatefulSet>(kube, name)
    }

    /// kubectl does not look at a StatefulSet's pods; neither do we.
    /// Kubernetes' controller judges progress by its deadline.
    fn reports_stuck(&self, release: bool) -> bool {
        let _ = release;
        false
    }

    fn stuck<'a>(
        &'a self,
        _kube: &'a Kube,
        _name: &'a str,
    ) -> BoxFuture<'a, Result<Option<Stuck>>> {
        async { Ok(None) }.boxed()
    }

    fn driver<'a>(&'a self, _kube: &'a Kube) -> BoxFuture<'a, Driver> {
        async { Driver::Builtin("kube-controller-manager".into()) }.boxed()
    }

    fn embedded(&self) -> Option<Embedded> {
        None
    }
}

async fn scale(cx: &Cx<'_>, name: &str, replicas: i32, delete_pods: &[String]) -> Result<Written> {
    if !delete_pods.is_empty() {
        return Err(Error::usage(format!(
            "--delete-pod does not apply to statefulset \"{name}\": a StatefulSet removes pods from its highest ordinal down and recreates any ordinal deleted; nothing was changed"
        )));
    }
    let s = native::get::<StatefulSet>(cx.kube, name).await?;
    let outcome = guarded(
        &native::api::<StatefulSet>(cx.kube),
        Some(s),
        &native::target::<StatefulSet>(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |_| Ok(Some(Change::Merge(json!({"spec": {"replicas": replicas}})))),
    )
    .await?;
    Ok(Written::Changed {
        object: native::object(outcome.object())?,
        done: Verb::Scale.done().into(),
        notes: vec![],
        drives: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sts(v: Value) -> StatefulSet {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}},
            "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                       "updatedReplicas": 3, "currentReplicas": 3,
                       "currentRevision": "web-2", "updateRevision": "web-2"}
        })
    }

    #[test]
    fn status_follows_kubectl_order_and_words() {
        let line = |v: Value| status(&sts(v)).unwrap();
        assert_eq!(
            line(base()),
            (
                "partitioned roll out complete: 3 new pods have been updated...".into(),
                true
            )
        );

        let mut v = base();
        v["status"]["observedGeneration"] = json!(1);
        assert_eq!(
            line(v),
            (
                "Waiting for statefulset spec update to be observed...".into(),
                false
            )
        );
        let mut v = base();
        v["status"]["observedGeneration"] = json!(null);
        assert!(!line(v).1, "observedGeneration 0 is not observed yet");

        let mut v = base();
        v["status"]["readyReplicas"] = json!(1);
        assert_eq!(line(v), ("Waiting for 2 pods to be ready...".into(), false));

        // A partition holds pods back: done once the pods above it are updated.
        let mut v = base();
        v["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!(1);
        v["status"]["updatedReplicas"] = json!(1);
        assert_eq!(
            line(v.clone()),
            (
                "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."
                    .into(),
                false
            )
        );
        v["status"]["updatedReplicas"] = json!(2);
        assert_eq!(
            line(v),
            (
                "partitioned roll out complete: 2 new pods have been updated...".into(),
                true
            )
        );

        // Without rollingUpdate (never after the API server's defaulting): revisions compared.
        let mut v = base();
        v["spec"]["updateStrategy"] = json!({"type": "RollingUpdate"});
        v["status"]["updateRevision"] = json!("web-3");
        v["status"]["updatedReplicas"] = json!(1);
        assert_eq!(
            line(v.clone()),
            (
                "waiting for statefulset rolling update to complete 1 pods at revision web-3..."
                    .into(),
                false
            )
        );
        v["status"]["currentRevision"] = json!("web-3");
        assert_eq!(
            line(v),
            (
                "statefulset rolling update complete 3 pods at revision web-3...".into(),
                true
            )
        );

        let mut v = base();
        v["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        let e = status(&sts(v)).unwrap_err();
        assert!(matches!(e, Error::Other(_)), "exit 1, as kubectl");
        assert_eq!(
            e.to_string(),
            "rollout status is only available for RollingUpdate strategy type"
        );
    }
}
