//! The local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler and kwok (3 fake nodes over 2 zones), all on 127.0.0.1 with free ports.
//!
//! Everything it knows lives under the state folder (default `target/cluster/`):
//! `state.json` (what runs: pids, executables, ports), `kubeconfig`, `pki/`, `etcd/`,
//! `config/` and `logs/<component>.log` (plus `logs/audit.log`, the API server's audit log at
//! Metadata level). Processes run in their own process groups, so an interrupted terminal
//! does not take them down; `down` stops exactly the pids in `state.json`, after checking
//! that each pid still runs the executable it started.
//!
//! Besides the nodes, the cluster holds the Gateway API CRDs (upstream's standard channel, from
//! the Go module `sigs.k8s.io/gateway-api`): `up` installs them, also on a cluster that is
//! already up, and skips the write when every one is there at the expected release.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{Result, bins, fail, pki};

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Component {
    pub name: String,
    pub pid: i32,
    pub exe: PathBuf,
    pub ports: BTreeMap<String, u16>,
    pub log: PathBuf,
}

#[derive(Serialize, Deserialize, Default, Debug)]
pub struct State {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub server: String,
    pub kubectl: PathBuf,
    pub components: Vec<Component>,
}

impl State {
    fn path(dir: &Path) -> PathBuf {
        dir.join("state.json")
    }

    pub fn read(dir: &Path) -> Option<State> {
        let text = fs::read_to_string(Self::path(dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write(&self) -> Result<()> {
        let tmp = self.dir.join("state.json.tmp");
        fs::write(&tmp, serde_json::to_string_pretty(self)?)?;
        fs::rename(tmp, Self::path(&self.dir))?;
        Ok(())
    }
}

/// The result of `up`: whether it started the cluster or found it running.
pub enum Up {
    Started(State),
    AlreadyUp(State),
}

pub fn up(root: &Path, dir: &Path) -> Result<Up> {
    if let Some(state) = State::read(dir) {
        let dead: Vec<_> = state
            .components
            .iter()
            .filter(|c| !alive(c.pid, &c.exe))
            .map(|c| c.name.clone())
            .collect();
        if dead.is_empty() && state.components.len() == COMPONENTS && readyz(&state).is_ok() {
            // A cluster started before the CRDs were part of it gets them now.
            install_gateway_crds(&state, &bins::gateway_crds(root)?)?;
            return Ok(Up::AlreadyUp(state));
        }
        eprintln!(
            "cluster: the cluster in {} is incomplete (not running: {}); restarting it",
            dir.display(),
            if dead.is_empty() {
                "none, but it is not ready".to_string()
            } else {
                dead.join(", ")
            }
        );
        down(dir)?;
    }
    let started = Instant::now();
    let bins = bins::ensure(root)?;
    match start(root, dir, &bins) {
        Ok(state) => {
            eprintln!(
                "cluster: up in {:.1}s ({} components, 3 nodes)",
                started.elapsed().as_secs_f64(),
                state.components.len()
            );
            Ok(Up::Started(state))
        }
        Err(e) => {
            if let Some(state) = State::read(dir) {
                print_log_tails(&state, 20);
            }
            let _ = down(dir);
            Err(e)
        }
    }
}

const COMPONENTS: usize = 5;

fn start(root: &Path, dir: &Path, bins: &bins::Bins) -> Result<State> {
    fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    for sub in ["pki", "etcd", "config", "logs"] {
        let p = dir.join(sub);
        if p.exists() {
            fs::remove_dir_all(&p)?;
        }
        fs::create_dir_all(&p)?;
    }
    let pki = pki::generate(&dir.join("pki"))?;
    let etcd_port = free_port()?;
    let etcd_peer_port = free_port()?;
    let api_port = free_port()?;
    let server = format!("https://127.0.0.1:{api_port}");
    let kubeconfig = dir.join("kubeconfig");
    write_kubeconfig(&kubeconfig, &server, &pki)?;
    let config = dir.join("config");
    let audit_policy = config.join("audit-policy.yaml");
    fs::write(&audit_policy, AUDIT_POLICY)?;
    let scheduler_config = config.join("scheduler.yaml");
    fs::write(
        &scheduler_config,
        SCHEDULER_CONFIG.replace("KUBECONFIG", &kubeconfig.display().to_string()),
    )?;
    let logs = dir.join("logs");

    let mut state = State {
        dir: dir.clone(),
        kubeconfig: kubeconfig.clone(),
        server: server.clone(),
        kubectl: bins.kubectl.clone(),
        components: vec![],
    };

    let etcd_url = format!("http://127.0.0.1:{etcd_port}");
    let peer_url = format!("http://127.0.0.1:{etcd_peer_port}");
    spawn(
        &mut state,
        "etcd",
        &bins.etcd,
        &[
            "--name=kruise-local".into(),
            format!("--data-dir={}", dir.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=kruise-local={peer_url}"),
            "--unsafe-no-fsync".into(),
            "--log-level=warn".into(),
        ],
        [("client", etcd_port), ("peer", etcd_peer_port)],
    )?;
    wait_for(
        "etcd to be healthy",
        Duration::from_secs(30),
        &state,
        || etcd_healthy(etcd_port),
    )?;

    spawn(
        &mut state,
        "kube-apiserver",
        &bins.apiserver,
        &[
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            format!("--tls-cert-file={}", pki.serving_crt.display()),
            format!("--tls-private-key-file={}", pki.serving_key.display()),
            format!("--cert-dir={}", dir.join("pki").display()),
            format!("--client-ca-file={}", pki.ca_crt.display()),
            format!("--token-auth-file={}", pki.tokens_csv.display()),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", pki.sa_pub.display()),
            format!(
                "--service-account-signing-key-file={}",
                pki.sa_key.display()
            ),
            "--service-cluster-ip-range=10.96.0.0/16".into(),
            "--authorization-mode=RBAC".into(),
            "--allow-privileged=true".into(),
            "--endpoint-reconciler-type=none".into(),
            "--profiling=false".into(),
            format!("--audit-policy-file={}", audit_policy.display()),
            format!("--audit-log-path={}", logs.join("audit.log").display()),
            "--audit-log-format=json".into(),
            "--audit-log-maxsize=0".into(),
            "--audit-log-mode=blocking".into(),
        ],
        [("https", api_port)],
    )?;
    wait_for(
        "kube-apiserver /readyz",
        Duration::from_secs(90),
        &state,
        || readyz(&state).is_ok(),
    )?;

    let kc = format!("--kubeconfig={}", kubeconfig.display());
    spawn(
        &mut state,
        "kube-controller-manager",
        &bins.controller_manager,
        &[
            kc.clone(),
            "--secure-port=0".into(),
            "--leader-elect=false".into(),
            format!(
                "--service-account-private-key-file={}",
                pki.sa_key.display()
            ),
            format!("--root-ca-file={}", pki.ca_crt.display()),
            "--use-service-account-credentials=false".into(),
            "--kube-api-qps=1000".into(),
            "--kube-api-burst=2000".into(),
            "--concurrent-gc-syncs=20".into(),
        ],
        [],
    )?;
    spawn(
        &mut state,
        "kube-scheduler",
        &bins.scheduler,
        &[
            format!("--config={}", scheduler_config.display()),
            "--secure-port=0".into(),
        ],
        [],
    )?;
    spawn(
        &mut state,
        "kwok",
        &bins.kwok,
        &[
            kc.clone(),
            format!(
                "--config={}",
                root.join("tests/cluster/kwok-stages.yaml").display()
            ),
            "--manage-all-nodes=false".into(),
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".into(),
            "--node-ip=127.0.0.1".into(),
            "--cidr=10.244.0.1/16".into(),
            "--node-lease-duration-seconds=40".into(),
        ],
        [],
    )?;

    kubectl_stdin(&state, &["apply", "-f", "-"], &nodes_manifest())?;
    wait_for("3 Ready nodes", Duration::from_secs(60), &state, || {
        kubectl(
            &state,
            &[
                "wait",
                "--for=condition=Ready",
                "node",
                "-l",
                "type=kwok",
                "--timeout=5s",
            ],
        )
        .is_ok()
    })?;
    wait_for(
        "the default ServiceAccount (kube-controller-manager working)",
        Duration::from_secs(60),
        &state,
        || {
            kubectl(
                &state,
                &["get", "serviceaccount", "default", "-n", "default"],
            )
            .is_ok()
        },
    )?;
    install_gateway_crds(&state, &bins.gateway_crds)?;
    Ok(state)
}

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// Installs upstream's Gateway API CRDs (server-side apply of the files as shipped) and waits
/// until they are Established. Cheap when they are already there: one `kubectl get` reads each
/// CRD's `gateway.networking.k8s.io/bundle-version`, and nothing is written when all of them
/// are at the release of the cached files.
pub fn install_gateway_crds(state: &State, crds: &bins::GatewayCrds) -> Result<()> {
    let mut files: Vec<PathBuf> = fs::read_dir(&crds.dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.retain(|f| f.extension().is_some_and(|x| x == "yaml"));
    files.sort();
    // Upstream names each file `<group>_<plural>.yaml`; the CRD is `<plural>.<group>`.
    let names: Vec<String> = files
        .iter()
        .map(|f| {
            f.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.strip_prefix(&format!("{GATEWAY_GROUP}_")))
                .map(|plural| format!("{plural}.{GATEWAY_GROUP}"))
                .ok_or_else(|| fail(format!("unexpected Gateway API CRD file {}", f.display())))
        })
        .collect::<Result<_>>()?;
    if names.is_empty() {
        return Err(fail(format!("no CRD files in {}", crds.dir.display())));
    }
    let mut get = vec!["get", "crd"];
    get.extend(names.iter().map(String::as_str));
    get.push(
        r#"-o=jsonpath={range .items[*]}{.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}{"\n"}{end}"#,
    );
    // A missing CRD makes `kubectl get` fail: install.
    if let Ok(versions) = kubectl(state, &get)
        && versions.lines().filter(|v| *v == crds.version).count() == names.len()
    {
        return Ok(());
    }
    let started = Instant::now();
    let dir = crds.dir.display().to_string();
    kubectl(
        state,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=kubectl-kruise-xtask",
            "-f",
            &dir,
        ],
    )?;
    let mut wait = vec![
        "wait".to_string(),
        "--for=condition=Established".into(),
        "--timeout=60s".into(),
    ];
    wait.extend(names.iter().map(|n| format!("crd/{n}")));
    kubectl(state, &wait.iter().map(String::as_str).collect::<Vec<_>>())?;
    eprintln!(
        "cluster: installed the Gateway API {} CRDs ({} of them, standard channel) in {:.1}s",
        crds.version,
        names.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn spawn<const N: usize>(
    state: &mut State,
    name: &str,
    exe: &Path,
    args: &[String],
    ports: [(&str, u16); N],
) -> Result<()> {
    let log = state.dir.join("logs").join(format!("{name}.log"));
    let out = fs::File::create(&log)?;
    let child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        // Own process group: a Ctrl-C in the terminal that ran `cluster up` must not stop it.
        .process_group(0)
        .spawn()
        .map_err(|e| fail(format!("cannot start {name} ({}): {e}", exe.display())))?;
    state.components.push(Component {
        name: name.to_string(),
        pid: child.id() as i32,
        exe: exe.to_path_buf(),
        ports: ports.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        log,
    });
    // The Child handle is dropped without waiting: the process lives on, and `down` (or
    // init, once this process exits) reaps it.
    state.write()
}

pub fn down(dir: &Path) -> Result<()> {
    let Some(state) = State::read(dir) else {
        eprintln!("cluster: nothing to stop in {}", dir.display());
        return Ok(());
    };
    for c in state.components.iter().rev() {
        stop(c);
    }
    let left: Vec<_> = state
        .components
        .iter()
        .filter(|c| alive(c.pid, &c.exe))
        .map(|c| format!("{} (pid {})", c.name, c.pid))
        .collect();
    if !left.is_empty() {
        return Err(fail(format!(
            "cluster: could not stop {}; kill them by hand",
            left.join(", ")
        )));
    }
    // Remove the state but keep the logs for a post-mortem; `up` starts them afresh.
    for entry in fs::read_dir(dir)? {
        let p = entry?.path();
        if p.file_name().is_some_and(|n| n == "logs") {
            continue;
        }
        if p.is_dir() {
            fs::remove_dir_all(&p)?;
        } else {
            fs::remove_file(&p)?;
        }
    }
    eprintln!(
        "cluster: stopped {} processes; logs kept in {}",
        state.components.len(),
        dir.join("logs").display()
    );
    Ok(())
}

fn stop(c: &Component) {
    if !alive(c.pid, &c.exe) {
        reap(c.pid);
        return;
    }
    signal(c.pid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        reap(c.pid);
        if !alive(c.pid, &c.exe) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "cluster: {} (pid {}) ignored SIGTERM for 15s; killing it",
        c.name, c.pid
    );
    signal(c.pid, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && alive(c.pid, &c.exe) {
        reap(c.pid);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) with a pid we started and just checked runs our executable.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Reaps `pid` if it is our own exited child (when the same process ran up and down).
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on a non-child just returns ECHILD.
    unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG);
    }
}

/// True when `pid` is a live (not zombie) process running `exe`.
pub fn alive(pid: i32, exe: &Path) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the parenthesised command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("X");
    if state == "Z" || state == "X" {
        return false;
    }
    match fs::read_link(format!("/proc/{pid}/exe")) {
        Ok(p) => {
            p == exe || p.to_string_lossy().trim_end_matches(" (deleted)") == exe.to_string_lossy()
        }
        Err(_) => false,
    }
}

pub fn status(dir: &Path) -> Result<bool> {
    let Some(state) = State::read(dir) else {
        println!(
            "cluster: not running (no state in {}); start it with `cargo xtask cluster up`",
            dir.display()
        );
        return Ok(false);
    };
    println!(
        "{:<24} {:>8}  {:<8} {:<28} LOG",
        "COMPONENT", "PID", "STATE", "LISTENS ON"
    );
    let mut all = true;
    for c in &state.components {
        let up = alive(c.pid, &c.exe);
        all &= up;
        let ports = if c.ports.is_empty() {
            "-".to_string()
        } else {
            c.ports
                .iter()
                .map(|(k, v)| format!("127.0.0.1:{v} ({k})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "{:<24} {:>8}  {:<8} {:<28} {}",
            c.name,
            c.pid,
            if up { "running" } else { "stopped" },
            ports,
            c.log.display()
        );
    }
    let ready = readyz(&state).is_ok();
    println!();
    println!(
        "server:     {} (/readyz {})",
        state.server,
        if ready { "ok" } else { "failing" }
    );
    println!("audit log:  {}", state.dir.join("logs/audit.log").display());
    println!("kubectl:    {}", state.kubectl.display());
    println!("export KUBECONFIG={}", state.kubeconfig.display());
    Ok(all && ready)
}

pub fn print_log_tails(state: &State, lines: usize) {
    for c in &state.components {
        let Ok(text) = fs::read_to_string(&c.log) else {
            continue;
        };
        let all: Vec<_> = text.lines().collect();
        let tail = &all[all.len().saturating_sub(lines)..];
        eprintln!("--- last {} lines of {} ---", tail.len(), c.log.display());
        for l in tail {
            eprintln!("{l}");
        }
    }
}

fn wait_for(
    what: &str,
    timeout: Duration,
    state: &State,
    mut ok: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ok() {
            return Ok(());
        }
        if let Some(dead) = state.components.iter().find(|c| !alive(c.pid, &c.exe)) {
            return Err(fail(format!(
                "cluster: {} exited while waiting for {what}; see {}",
                dead.name,
                dead.log.display()
            )));
        }
        if Instant::now() > deadline {
            return Err(fail(format!(
                "cluster: timed out after {}s waiting for {what}; logs in {}",
                timeout.as_secs(),
                state.dir.join("logs").display()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn etcd_healthy(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.contains("\"health\":\"true\"")
}

pub fn readyz(state: &State) -> Result<()> {
    let out = kubectl(state, &["get", "--raw", "/readyz", "--request-timeout=5s"])?;
    if out.trim() == "ok" {
        Ok(())
    } else {
        Err(fail(format!("/readyz said: {out}")))
    }
}

pub fn kubectl(state: &State, args: &[&str]) -> Result<String> {
    kubectl_stdin(state, args, "")
}

pub fn kubectl_stdin(state: &State, args: &[&str], stdin: &str) -> Result<String> {
    let mut child = Command::new(&state.kubectl)
        .arg(format!("--kubeconfig={}", state.kubeconfig.display()))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())?;
    let out = child.wait_with_output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(fail(format!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn write_kubeconfig(path: &Path, server: &str, pki: &pki::Pki) -> Result<()> {
    let text = format!(
        r#"apiVersion: v1
kind: Config
clusters:
- name: kruise-local
  cluster:
    server: {server}
    certificate-authority: {ca}
users:
- name: kruise-admin
  user:
    token: {token}
contexts:
- name: kruise-local
  context:
    cluster: kruise-local
    user: kruise-admin
    namespace: default
current-context: kruise-local
"#,
        ca = pki.ca_crt.display(),
        token = pki.admin_token
    );
    fs::write(path, text)?;
    Ok(())
}

/// Metadata for every request, logged once when the response completes (watches also when
/// their response starts), so tests and benchmarks can count requests by user agent.
/// Node heartbeat leases are left out: they are kwok's noise, not anything a test makes.
const AUDIT_POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  namespaces: [kube-node-lease]
- level: Metadata
"#;

const SCHEDULER_CONFIG: &str = r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: KUBECONFIG
  qps: 1000
  burst: 2000
leaderElection:
  leaderElect: false
"#;

/// The fake nodes: 3 over 2 zones, all managed by kwok (annotation `kwok.x-k8s.io/node: fake`).
fn nodes_manifest() -> String {
    let items: Vec<String> = [("kwok-node-0", "zone-a"), ("kwok-node-1", "zone-b"), ("kwok-node-2", "zone-a")]
        .iter()
        .map(|(name, zone)| {
            format!(
                r#"- apiVersion: v1
  kind: Node
  metadata:
    name: {name}
    annotations: {{kwok.x-k8s.io/node: fake}}
    labels: {{type: kwok, kubernetes.io/hostname: {name}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/region: local, topology.kubernetes.io/zone: {zone}}}
"#
            )
        })
        .collect();
    format!("apiVersion: v1\nkind: List\nitems:\n{}", items.concat())
}
