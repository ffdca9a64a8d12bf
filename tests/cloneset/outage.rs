//! An API-server outage seen by one controller: its connections go through a TCP proxy the
//! test cuts for a while (other tests keep the real server). The controller keeps running,
//! and once the server answers again it converges on the change made meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::api::{Api, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::fixes::{cs, patch_spec};
use super::support::{self, TestNs, client_as, kubeconfig_path, stderr};
use super::{T, all_at, crds, stop};

/// Forwards 127.0.0.1:<port> to the API server; `cut` drops every connection and refuses new
/// ones until `restore`.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection closed
                }
                let upstream = upstream.clone();
                c.lock().await.push(tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                }));
            }
        });
        Proxy { port, down, conns }
    }

    async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for h in self.conns.lock().await.drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

/// The local cluster's API server URL, from its kubeconfig.
fn server() -> String {
    std::fs::read_to_string(kubeconfig_path())
        .unwrap()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("server: ")
                .map(|s| s.trim().to_string())
        })
        .expect("the kubeconfig names a server")
}

/// The local cluster's kubeconfig with its server replaced by the proxy.
fn kubeconfig_through(port: u16, dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(kubeconfig_path()).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        text.replace(&server(), &format!("https://127.0.0.1:{port}")),
    )
    .unwrap();
    path
}

/// The built binary with `args`, talking to the cluster through `kubeconfig` (the proxy).
fn spawn_through(kubeconfig: &std::path::Path, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("CI", "true")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_controller_rides_out_an_api_server_outage() {
    crds().await;
    let client = client_as("cloneset-outage").await;
    let ns = TestNs::new(&client, "cs-outage").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    sets.create(
        &PostParams::default(),
        &cs(n, "web", json!({"replicas": 2})),
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(server().trim_start_matches("https://").to_string()).await;
    let kubeconfig = kubeconfig_through(proxy.port, dir.path());
    let mut controller = spawn_through(&kubeconfig, &["-n", n, "controller", "run"]);
    support::wait_for(&sets, "web", T, "2 available", |c| all_at(c, 2)).await;

    proxy.cut().await;
    patch_spec(&sets, "web", json!({"replicas": 5})).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        controller.try_wait().unwrap().is_none(),
        "the controller keeps running through the outage"
    );
    proxy.restore();

    support::wait_for(&sets, "web", T, "5 available after the outage", |c| {
        all_at(c, 5)
    })
    .await;
    let out = stop(controller).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `get -w --until-done` through an outage: its watches are cut while the CloneSet rolls out
/// (a controller that reaches the server directly drives it); the view keeps waiting, and once
/// the server answers again it re-lists, sees the CloneSet at rest and exits 0.
#[tokio::test]
async fn get_until_done_rides_out_an_api_server_outage() {
    crds().await;
    let client = client_as("cloneset-outage-get").await;
    let ns = TestNs::new(&client, "cs-outage-get").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    sets.create(
        &PostParams::default(),
        &cs(n, "view", json!({"replicas": 2})),
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(server().trim_start_matches("https://").to_string()).await;
    let kubeconfig = kubeconfig_through(proxy.port, dir.path());
    let mut get = spawn_through(
        &kubeconfig,
        &[
            "-n",
            n,
            "get",
            "cloneset/view",
            "--until-done",
            "-o",
            "json",
        ],
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.cut().await;
    let controller = super::spawn_controller(n, None).await;
    support::wait_for(&sets, "view", T, "2 available", |c| all_at(c, 2)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        get.try_wait().unwrap().is_none(),
        "the view waits through the outage"
    );
    proxy.restore();
    let out = tokio::time::timeout(T, get.wait_with_output())
        .await
        .expect("the view ends once the server answers again")
        .unwrap();
    stop(controller).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let views: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&support::stdout(&out))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(views.first().unwrap()["status"]["text"], "Progressing");
    assert_eq!(views.last().unwrap()["status"]["text"], "Healthy");
}
