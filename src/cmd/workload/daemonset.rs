//! DaemonSet (apps/v1), at parity with kubectl v1.34: kube-controller-manager drives it;
//! `rollout pause`/`resume` are refused as kubectl refuses them, `restart`, `undo`, `history`
//! and `set image` go through [`native`], and `rollout status` is kubectl's
//! DaemonSetStatusViewer ([`status`], unit-tested here). A DaemonSet has no replicas to scale:
//! `scale` reads it and refuses, exit 1 as kubectl's failed scale request.

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::native::{self, Native};
use super::{Cx, Driver, Embedded, Observed, Verb, Workload, Written};
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::{self, Kind};
use crate::controller::runtime::{Progress, Stuck};
use crate::error::{Error, Result};

pub struct DaemonSetWorkload;
pub static DAEMONSET: DaemonSetWorkload = DaemonSetWorkload;

const ROLLING_UPDATE: &str = "RollingUpdate";

impl Native for DaemonSet {
    const KIND: Kind = kinds::DAEMONSET;
    const RESOURCE: &'static str = "daemonsets.apps";

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
            desired: st.desired_number_scheduled,
            updated: st.updated_number_scheduled.unwrap_or(0),
            ready: st.number_ready,
            available: st.number_available.unwrap_or(0),
            total: st.current_number_scheduled,
            paused: false,
        }
    }
}

/// kubectl's DaemonSetStatusViewer: the same checks in the same order, the same lines (less
/// their trailing newline). `--revision` is not looked at, as in kubectl.
pub fn status(d: &DaemonSet) -> Result<(String, bool)> {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let strategy = d
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref());
    if strategy != Some(ROLLING_UPDATE) {
        return Err(Error::other(format!(
            "rollout status is only available for {ROLLING_UPDATE} strategy type"
        )));
    }
    let st = d.status.clone().unwrap_or_default();
    if d.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
        return Ok((
            "Waiting for daemon set spec update to be observed...".into(),
            false,
        ));
    }
    let desired = st.desired_number_scheduled;
    let updated = st.updated_number_scheduled.unwrap_or(0);
    let available = st.number_available.unwrap_or(0);
    if updated < desired {
        return Ok((
            format!(
                "Waiting for daemon set \"{name}\" rollout to finish: {updated} out of {desired} new pods have been updated..."
            ),
            false,
        ));
    }
    if available < desired {
        return Ok((
            format!(
                "Waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available..."
            ),
            false,
        ));
    }
    Ok((
        format!("daemon set \"{name}\" successfully rolled out"),
        true,
    ))
}

impl Workload for DaemonSetWorkload {
    fn kind(&self) -> Kind {
        kinds::DAEMONSET
    }

    fn names<'a>(&'a self, kube: &'a Kube, labels: &'a str) -> BoxFuture<'a, Result<Vec<String>>> {
        super::list_names::<DaemonSet>(kube, labels).boxed()
    }

    fn rollout<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        verb: Verb,
    ) -> BoxFuture<'a, Result<Written>> {
        native::rollout::<DaemonSet>(cx, name, verb).boxed()
    }

    fn undo<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        to_revision: i64,
    ) -> BoxFuture<'a, Result<Written>> {
        native::undo::<DaemonSet>(cx, name, to_revision).boxed()
    }

    fn history<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        a: &'a HistoryArgs,
    ) -> BoxFuture<'a, Result<()>> {
        native::history::<DaemonSet>(kube, name, a).boxed()
    }

    fn set_image<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        pairs: &'a [(String, String)],
        inplace: bool,
    ) -> BoxFuture<'a, Result<Written>> {
        native::set_image::<DaemonSet>(
            cx,
            name,
            pairs,
            inplace,
            "daemonsets cannot update pods in place (the DaemonSet controller recreates each pod); drop --inplace",
        )
        .boxed()
    }

    fn scale<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        name: &'a str,
        _replicas: i32,
        _delete_pods: &'a [String],
    ) -> BoxFuture<'a, Result<Written>> {
        async move {
            native::get::<DaemonSet>(cx.kube, name).await?;
            Err(Error::other(format!(
                "daemonsets.apps \"{name}\" cannot be scaled: a DaemonSet has no replicas (it runs one pod on each node its selector and tolerations admit); nothing was changed"
            )))
        }
        .boxed()
    }

    fn observe<'a>(
        &'a self,
        kube: &'a Kube,
        name: &'a str,
        _revision: i64,
    ) -> BoxFuture<'a, Result<Observed>> {
        native::observe::<DaemonSet>(kube, name).boxed()
    }

    fn judge(
        &self,
        object: &serde_json::Value,
        _nodes: &[k8s_openapi::api::core::v1::Node],
    ) -> Result<Observed> {
        native::judged(&super::typed::<DaemonSet>(object, self.kind())?)
    }

    fn watch(
        &self,
        kube: &Kube,
        name: &str,
        _revision: i64,
    ) -> BoxStream<'static, Result<Option<Observed>>> {
        native::watch::<DaemonSet>(kube, name)
    }

    /// kubectl does not look at a DaemonSet's pods; neither do we.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn base() -> Value {
        json!({
            "metadata": {"name": "agent", "generation": 2},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "updateStrategy": {"type": "RollingUpdate"},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "c", "image": "agent:2"}]}}},
            "status": {"observedGeneration": 2, "desiredNumberScheduled": 3,
                       "currentNumberScheduled": 3, "numberMisscheduled": 0, "numberReady": 3,
                       "updatedNumberScheduled": 3, "numberAvailable": 3}
        })
    }

    #[test]
    fn status_follows_kubectl_order_and_words() {
        let line = |v: Value| status(&serde_json::from_value(v).unwrap()).unwrap();
        assert_eq!(
            line(base()),
            ("daemon set \"agent\" successfully rolled out".into(), true)
        );
        let mut v = base();
        v["status"]["observedGeneration"] = json!(1);
        assert_eq!(
            line(v),
            (
                "Waiting for daemon set spec update to be observed...".into(),
                false
            )
        );
        let mut v = base();
        v["status"]["updatedNumberScheduled"] = json!(1);
        assert_eq!(
            line(v),
            (
                "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."
                    .into(),
                false
            )
        );
        let mut v = base();
        v["status"]["numberAvailable"] = json!(2);
        assert_eq!(
            line(v),
            (
                "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available..."
                    .into(),
                false
            )
        );
        let mut v = base();
        v["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        let e = status(&serde_json::from_value(v).unwrap()).unwrap_err();
        assert!(matches!(e, Error::Other(_)), "exit 1, as kubectl");
        assert_eq!(
            e.to_string(),
            "rollout status is only available for RollingUpdate strategy type"
        );
    }
}
