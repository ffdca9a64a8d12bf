//! Test support for integration tests against the local control plane
//! (`cargo xtask cluster up`, or everything at once with `cargo xtask test`).
//!
//! - [`client`]: a kube `Client` from `target/cluster/kubeconfig`, with its own user agent;
//! - [`TestNs`]: a fresh namespace per test, deleted when the guard drops;
//! - [`wait_for`] / [`wait_list`]: wait for a condition with a timeout and show, on failure,
//!   what was last seen;
//! - [`audit`]: the API server's audit log, to count the requests a client made.
//!
//! If the cluster is not up a test fails with one line saying how to start it: never a skip.
#![allow(dead_code)]

pub mod recorder;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The state folder of the local control plane.
pub fn cluster_dir() -> PathBuf {
    std::env::var_os("KRUISE_TEST_CLUSTER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/cluster"))
}

pub fn kubeconfig_path() -> PathBuf {
    let p = cluster_dir().join("kubeconfig");
    if !p.is_file() {
        panic!(
            "the local control plane is not up ({} is missing): start it with `cargo xtask cluster up`, or run all tests with `cargo xtask test`",
            p.display()
        );
    }
    p
}

/// The kubectl built with the control plane (v1.34.4), not whatever a machine has on PATH.
pub fn kubectl_path() -> PathBuf {
    if let Some(p) = std::env::var_os("KRUISE_TEST_KUBECTL") {
        return PathBuf::from(p);
    }
    let state = std::fs::read_to_string(cluster_dir().join("state.json")).unwrap_or_else(|_| {
        panic!("the local control plane is not up: start it with `cargo xtask cluster up`")
    });
    let v: serde_json::Value = serde_json::from_str(&state).expect("state.json is JSON");
    PathBuf::from(v["kubectl"].as_str().expect("state.json names kubectl"))
}

/// The xtask binary (`cargo xtask test` says where; else the default target folder). A binary
/// rebuilt while it runs is named `… (deleted)` by Linux: the path is that of the new build.
pub fn xtask_path() -> PathBuf {
    std::env::var("KRUISE_TEST_XTASK")
        .ok()
        .map(|p| PathBuf::from(p.strip_suffix(" (deleted)").unwrap_or(&p)))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug/xtask"))
}

/// A kube Config for the local cluster's admin, sending `user_agent`.
pub async fn config_with_agent(user_agent: &str) -> Config {
    let path = kubeconfig_path();
    let kc = Kubeconfig::read_from(&path).expect("kubeconfig readable");
    let mut config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig valid");
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_str(user_agent).expect("user agent is a header value"),
    ));
    config
}

/// An admin client of the local cluster, with user agent `kruise-tests/<test>`.
pub async fn client_as(test: &str) -> Client {
    Client::try_from(config_with_agent(&format!("kruise-tests/{test}")).await)
        .expect("client from kubeconfig")
}

pub async fn client() -> Client {
    client_as("support").await
}

pub fn random_suffix() -> String {
    use std::io::Read;
    let mut b = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("/dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh namespace `t-<prefix>-<random>`, ready for pods (its default ServiceAccount
/// exists), deleted when dropped.
pub struct TestNs {
    pub name: String,
    client: Client,
}

impl TestNs {
    pub async fn new(client: &Client, prefix: &str) -> TestNs {
        Self::named(client, format!("t-{prefix}-{}", random_suffix())).await
    }

    /// A fresh namespace `<prefix>-<random>`, for a test whose objects others sharing the
    /// cluster should recognise by their namespace's first word.
    pub async fn prefixed(client: &Client, prefix: &str) -> TestNs {
        Self::named(client, format!("{prefix}-{}", random_suffix())).await
    }

    async fn named(client: &Client, name: String) -> TestNs {
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"kubectl-kruise.io/test": "true"}}
        }))
        .unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
        wait_for(
            &sa,
            "default",
            Duration::from_secs(30),
            "the default ServiceAccount",
            |_| true,
        )
        .await;
        TestNs {
            name,
            client: client.clone(),
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await, and the test's client cannot be used from another runtime (its
        // connection task lives in the test's runtime, which is blocked here): delete with a
        // fresh client on a helper thread. The namespace controller removes the contents.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let client = client_as("cleanup").await;
                let _ = Api::<Namespace>::all(client)
                    .delete(&name, &DeleteParams::default())
                    .await;
            });
        })
        .join();
    }
}

fn show<K: Serialize>(obj: &K) -> String {
    serde_json::to_string_pretty(obj).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Waits until the object exists and `cond` holds; panics after `timeout` with what it last saw.
pub async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    what: &str,
    cond: impl Fn(&K) -> bool,
) -> K
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let mut last: Option<K> = None;
    let stream = kube::runtime::watcher::watch_object(api.clone(), name);
    futures::pin_mut!(stream);
    let result = tokio::time::timeout(timeout, async {
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(Some(obj)) => {
                    if cond(&obj) {
                        return Some(obj);
                    }
                    last = Some(obj);
                }
                Ok(None) => last = None,
                Err(e) => eprintln!("wait_for {name}: watch error (retrying): {e}"),
            }
        }
        None
    })
    .await;
    match result {
        Ok(Some(obj)) => obj,
        _ => panic!(
            "timed out after {:?} waiting for {what} on {name}; last seen:\n{}",
            timeout,
            last.as_ref()
                .map(show)
                .unwrap_or_else(|| "<object does not exist>".into())
        ),
    }
}

/// Waits until `cond` holds for the set of objects matching `lp`'s label selector.
pub async fn wait_list<K>(
    api: &Api<K>,
    labels: Option<&str>,
    timeout: Duration,
    what: &str,
    cond: impl Fn(&[K]) -> bool,
) -> Vec<K>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let mut cfg = watcher::Config::default();
    if let Some(l) = labels {
        cfg = cfg.labels(l);
    }
    let mut seen: BTreeMap<String, K> = BTreeMap::new();
    let mut init: BTreeMap<String, K> = BTreeMap::new();
    let stream = watcher(api.clone(), cfg);
    futures::pin_mut!(stream);
    let result = tokio::time::timeout(timeout, async {
        while let Some(ev) = stream.next().await {
            let changed = match ev {
                Ok(watcher::Event::Apply(o)) => {
                    seen.insert(o.name_any(), o);
                    true
                }
                Ok(watcher::Event::Delete(o)) => {
                    seen.remove(&o.name_any());
                    true
                }
                Ok(watcher::Event::Init) => {
                    init.clear();
                    false
                }
                Ok(watcher::Event::InitApply(o)) => {
                    init.insert(o.name_any(), o);
                    false
                }
                Ok(watcher::Event::InitDone) => {
                    seen = std::mem::take(&mut init);
                    true
                }
                Err(e) => {
                    eprintln!("wait_list: watch error (retrying): {e}");
                    false
                }
            };
            if changed {
                let items: Vec<K> = seen.values().cloned().collect();
                if cond(&items) {
                    return Some(items);
                }
            }
        }
        None
    })
    .await;
    match result {
        Ok(Some(items)) => items,
        _ => panic!(
            "timed out after {:?} waiting for {what}; last seen {} objects:\n{}",
            timeout,
            seen.len(),
            seen.values().map(show).collect::<Vec<_>>().join("\n---\n")
        ),
    }
}

/// Lists objects (a convenience for assertions after a wait).
pub async fn list<K>(api: &Api<K>, labels: &str) -> Vec<K>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    api.list(&ListParams::default().labels(labels))
        .await
        .expect("list")
        .items
}

/// Reading the API server's audit log (`logs/audit.log`, Metadata level).
pub mod audit {
    use super::cluster_dir;
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    #[derive(Deserialize, Debug, Clone)]
    #[serde(rename_all = "camelCase")]
    pub struct Event {
        #[serde(rename = "auditID")]
        pub audit_id: String,
        pub stage: String,
        pub verb: String,
        #[serde(rename = "requestURI")]
        pub request_uri: String,
        #[serde(default)]
        pub user_agent: String,
        pub user: User,
        #[serde(default)]
        pub impersonated_user: Option<User>,
        #[serde(default)]
        pub object_ref: Option<ObjectRef>,
        #[serde(default)]
        pub response_status: Option<ResponseStatus>,
    }

    #[derive(Deserialize, Debug, Clone)]
    pub struct User {
        #[serde(default)]
        pub username: String,
    }

    #[derive(Deserialize, Debug, Clone, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct ObjectRef {
        #[serde(default)]
        pub resource: String,
        #[serde(default)]
        pub namespace: String,
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub api_group: String,
        #[serde(default)]
        pub subresource: String,
    }

    #[derive(Deserialize, Debug, Clone)]
    pub struct ResponseStatus {
        #[serde(default)]
        pub code: u16,
    }

    fn read_once(needle: &str, keep: &dyn Fn(&Event) -> bool) -> Vec<Event> {
        let path = cluster_dir().join("logs/audit.log");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading the audit log {}: {e}", path.display()));
        // One record per request: the last stage logged for each audit ID.
        let mut by_id: BTreeMap<String, Event> = BTreeMap::new();
        let mut order = Vec::new();
        for line in text.lines() {
            if !line.contains(needle) {
                continue;
            }
            let Ok(ev) = serde_json::from_str::<Event>(line) else {
                continue;
            };
            if !keep(&ev) {
                continue;
            }
            if !by_id.contains_key(&ev.audit_id) {
                order.push(ev.audit_id.clone());
            }
            by_id.insert(ev.audit_id.clone(), ev);
        }
        order
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect()
    }

    /// The API server writes a record as the response completes, so wait until the count has
    /// been stable for half a second (at most 5 s).
    fn stable(needle: &str, keep: &dyn Fn(&Event) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = read_once(needle, keep);
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = read_once(needle, keep);
            if now.len() == last.len() || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }

    /// The requests made with a user agent starting with `user_agent_prefix`, in order.
    pub fn requests(user_agent_prefix: &str) -> Vec<Event> {
        stable(user_agent_prefix, &|e| {
            e.user_agent.starts_with(user_agent_prefix)
        })
    }

    /// The requests made while impersonating `user` (`--as USER`): a unique name tags one
    /// command's requests even while other tests run.
    pub fn requests_as(user: &str) -> Vec<Event> {
        let needle = format!("\"{user}\"");
        stable(&needle, &|e| {
            e.impersonated_user
                .as_ref()
                .is_some_and(|u| u.username == user)
        })
    }

    /// `VERB resource[/subresource] (code)` lines, for readable assertion messages.
    pub fn describe(events: &[Event]) -> String {
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {} -> {}",
                    e.verb,
                    e.request_uri,
                    e.response_status.as_ref().map(|s| s.code).unwrap_or(0)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The kube error's HTTP status code, if the API server answered.
pub fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Runs the built `kubectl-kruise` against the local cluster.
pub fn kruise(args: &[&str]) -> std::process::Output {
    kruise_env(args, &[])
}

/// Runs the built `kubectl-kruise` with extra environment variables.
pub fn kruise_env(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .expect("run kubectl-kruise");
    eprintln!(
        "$ kubectl-kruise {}\n{}{}(exit {:?})",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    out
}

/// Runs the control plane's kubectl (v1.34.4) against the local cluster.
pub fn kubectl(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(kubectl_path())
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .output()
        .expect("run kubectl");
    eprintln!(
        "$ kubectl {}\n{}{}(exit {:?})",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    out
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a successful run and returns its stdout.
pub fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "command failed: {}", stderr(&o));
    stdout(&o)
}
