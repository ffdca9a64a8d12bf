//! Kruise Rollout end to end on the local control plane, with no operator installed: the
//! embedded Rollout and BatchRelease controllers driven by the commands a user runs (`set
//! image`, `rollout approve`, `controller run`), canary and partition style, nginx Ingress and
//! Gateway API traffic.

#[path = "rollout/bluegreen.rs"]
mod bluegreen;
#[path = "rollout/canary.rs"]
mod canary;
#[path = "rollout/failed.rs"]
mod failed;
#[path = "rollout/gateway.rs"]
mod gateway;
#[path = "rollout/partition.rs"]
mod partition;
mod support;
#[path = "rollout/timed.rs"]
mod timed;
#[path = "rollout/v1alpha1.rs"]
mod v1alpha1;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ListParams, PostParams};
use kubectl_kruise::api::rollout::Rollout;
use serde_json::{Value, json};
use support::TestNs;

const T: Duration = Duration::from_secs(120);

/// Creates `v` (a JSON object of kind `K`) in the namespace.
async fn create<K>(ns: &TestNs, v: Value) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(v).expect("a valid object");
    ns.api::<K>()
        .create(&PostParams::default(), &obj)
        .await
        .expect("created")
}

/// The seed's echoserver: a Deployment of `replicas`, its Service and nginx Ingress.
async fn echoserver(ns: &TestNs, name: &str, replicas: i32) {
    create::<Deployment>(
        ns,
        json!({"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "echoserver", "image": "cilium/echoserver:1.10.2",
                        "ports": [{"containerPort": 8080}]}]}}}}),
    )
    .await;
    service(ns, name).await;
    create::<Ingress>(
        ns,
        json!({"metadata": {"name": name, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
            "spec": {"rules": [{"host": format!("{name}.example.com"), "http": {"paths": [
                {"backend": {"service": {"name": name, "port": {"number": 80}}},
                 "path": "/apis/echo", "pathType": "Exact"}]}}]}}),
    )
    .await;
}

async fn service(ns: &TestNs, name: &str) {
    create::<Service>(
        ns,
        json!({"metadata": {"name": name},
            "spec": {"ports": [{"port": 80, "targetPort": 8080, "name": "http"}],
                "selector": {"app": name}}}),
    )
    .await;
}

/// A v1beta1 canary Rollout of `kind`/`workload` with these steps and traffic routing.
async fn rollout(ns: &TestNs, name: &str, workload: (&str, &str, &str), canary: Value) -> Rollout {
    create::<Rollout>(
        ns,
        json!({"metadata": {"name": name},
            "spec": {"workloadRef": {"apiVersion": workload.0, "kind": workload.1, "name": workload.2},
                "strategy": {"canary": canary}}}),
    )
    .await
}

async fn get_rollout(ns: &TestNs, name: &str) -> Rollout {
    ns.api::<Rollout>().get(name).await.expect("the rollout")
}

/// Waits until the Rollout satisfies `ok` (its status JSON), or panics with the last status.
async fn rollout_until(ns: &TestNs, name: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let r = get_rollout(ns, name).await;
        let st = serde_json::to_value(&r.status).unwrap_or_default();
        if ok(&st) {
            return st;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("rollout {name}: {what} never came; last status {st:#}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn state(st: &Value) -> (i64, String) {
    (
        st["currentStepIndex"].as_i64().unwrap_or(0),
        st["currentStepState"].as_str().unwrap_or("").to_string(),
    )
}

fn condition<'a>(st: &'a Value, type_: &str) -> Option<&'a Value> {
    st["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

async fn pods(ns: &TestNs, selector: &BTreeMap<String, String>) -> Vec<Pod> {
    let sel = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    ns.api::<Pod>()
        .list(&ListParams::default().labels(&sel))
        .await
        .expect("pods")
        .items
}

fn image(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `kubectl kruise …` in the namespace; panics with the output on a non-zero exit.
fn kruise_ok(ns: &TestNs, args: &[&str]) -> String {
    let mut all = vec!["-n", ns.name.as_str()];
    all.extend_from_slice(args);
    let o = support::kruise(&all);
    assert!(
        o.status.success(),
        "kubectl kruise {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status.code(),
        support::stdout(&o),
        support::stderr(&o)
    );
    support::stdout(&o) + &support::stderr(&o)
}

fn kruise_in(ns: &TestNs, args: &[&str]) -> std::process::Output {
    let mut all = vec!["-n", ns.name.as_str()];
    all.extend_from_slice(args);
    support::kruise(&all)
}

async fn client(test: &str) -> kube::Client {
    support::client_as(test).await
}

async fn new_ns(test: &str) -> (kube::Client, TestNs) {
    let c = client(test).await;
    let ns = TestNs::new(&c, test).await;
    (c, ns)
}

/// Waits until Deployment `name` has `n` pods available.
async fn available(ns: &TestNs, name: &str, n: i32) -> Deployment {
    support::wait_for(
        &ns.api::<Deployment>(),
        name,
        T,
        "pods available",
        |d: &Deployment| d.status.as_ref().and_then(|s| s.available_replicas) == Some(n),
    )
    .await
}

/// Waits until `name` is gone (or being deleted).
async fn gone<K>(ns: &TestNs, name: &str)
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = ns.api();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match api.get_opt(name).await.expect("a read") {
            None => return,
            Some(o) if o.meta().deletion_timestamp.is_some() => return,
            Some(_) if tokio::time::Instant::now() > deadline => panic!("{name} still there"),
            Some(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// Watches the namespace's pods through the whole run (a poll every 200 ms): the most pods
/// ever seen on `image` at once. A failed list fails the test instead of passing by default.
struct PodWatch {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<usize, String>>,
}

impl PodWatch {
    fn start(ns: &TestNs, image: &str) -> PodWatch {
        let api = ns.api::<Pod>();
        let image = image.to_string();
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut most = 0;
            loop {
                let list = api
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| format!("the pod watch failed: {e}"))?;
                let n = list
                    .items
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none() && super_image(p) == image)
                    .count();
                most = most.max(n);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = stopped.changed() => return Ok(most),
                }
            }
        });
        PodWatch { stop, task }
    }

    /// The most pods seen on the image; panics if the watch broke.
    async fn most(self) -> usize {
        let _ = self.stop.send(true);
        self.task
            .await
            .expect("the watch task")
            .expect("the pod watch")
    }
}

fn super_image(p: &Pod) -> String {
    image(p)
}
