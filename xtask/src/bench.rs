//! `cargo xtask bench`: figures, not assertions.
//!
//! cloneset, statefulset, daemonset: the embedded controller on the local control plane — wall
//! time, API requests per pod (audit log) and the controller's peak RSS for scale 0→N and an
//! in-place update of N pods (the DaemonSet on N fake nodes the bench adds); all-kinds: the
//! three at once in one `controller run`, N pods each.
//!
//! cli: wall time and peak RSS of the release binary for `--help` and `version --client`
//! (median and max of N runs), and the API requests each command makes on a first run,
//! counted in the API server's audit log (every run impersonates a unique user, so its requests
//! are told apart), next to kubectl v1.34.4 making the same change with an empty cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster::{self, State};
use crate::{Result, fail, pki};

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let (what, sizes) = parse(args)?;
    let all = what.is_empty();
    if all || what.contains(&"cli") {
        cli(root)?;
    }
    if all || what.contains(&"rollout") {
        crate::bench_rollout::run(root)?;
    }
    let kinds: Vec<&str> = what
        .iter()
        .copied()
        .filter(|w| *w != "cli" && *w != "rollout")
        .collect();
    if all || !kinds.is_empty() {
        workloads(root, &kinds, &sizes)?;
    }
    Ok(())
}

/// `[cli|cloneset …] [--pods N[,N…]]`: the benchmarks to run and the CloneSet sizes.
fn parse<'a>(args: &[&'a str]) -> Result<(Vec<&'a str>, Vec<usize>)> {
    let mut what = Vec::new();
    let mut sizes = vec![100, 500];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.strip_prefix("--pods") {
            Some("") => it.next().copied(),
            Some(v) => v.strip_prefix('='),
            None => {
                if ![
                    "cli",
                    "cloneset",
                    "statefulset",
                    "daemonset",
                    "all-kinds",
                    "rollout",
                ]
                .contains(a)
                {
                    return Err(fail(format!(
                        "unknown benchmark {a:?}: use cli, cloneset, statefulset, daemonset, all-kinds, rollout, --pods N[,N…]"
                    )));
                }
                what.push(*a);
                continue;
            }
        };
        let value = value.ok_or_else(|| fail("--pods needs a number of pods, e.g. --pods 5000"))?;
        sizes = value
            .split(',')
            .map(|n| n.trim().parse::<usize>().ok().filter(|n| *n > 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                fail(format!(
                    "--pods {value:?}: give pod counts like 500 or 100,5000"
                ))
            })?;
    }
    Ok((what, sizes))
}

/// Runs `cmd` once; returns (wall time, peak RSS in KiB, exit status code).
///
/// The peak is the child's own `VmHWM`, read while it runs: `wait4`'s `ru_maxrss` is no use
/// here, as a child spawned with vfork records this process's RSS (tens of MB once the audit
/// log was parsed) at its exec.
pub(crate) fn measure(cmd: &mut Command) -> Result<(Duration, i64, i32)> {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let pid = child.id() as i32;
    let mut status = 0;
    let mut peak = 0i64;
    loop {
        peak = peak.max(peak_rss_kib(pid as u32));
        // SAFETY: waitpid on our own child with WNOHANG only reads its state.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r < 0 {
            return Err(fail("waitpid failed"));
        }
        if r == pid {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall = start.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((wall, peak, code))
}

pub(crate) fn release_binary(root: &Path) -> Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["build", "--release", "--locked", "-p", "kubectl-kruise"])
        .status()?;
    if !status.success() {
        return Err(fail("cargo build --release failed"));
    }
    Ok(root.join("target/release/kubectl-kruise"))
}

fn cli(root: &Path) -> Result<()> {
    let bin = release_binary(root)?;
    let size = std::fs::metadata(&bin)?.len();
    println!(
        "== cli: release binary {} ({:.1} MiB)",
        bin.display(),
        size as f64 / 1048576.0
    );
    const N: usize = 30;
    println!(
        "{:<28} {:>12} {:>12} {:>14}",
        "COMMAND", "MEDIAN ms", "MAX ms", "PEAK RSS MiB"
    );
    for args in [vec!["--help"], vec!["version", "--client"]] {
        let mut walls = vec![];
        let mut rss = 0;
        for _ in 0..N {
            let (w, r, code) = measure(Command::new(&bin).args(&args).env_remove("KUBECONFIG"))?;
            if code != 0 {
                return Err(fail(format!("kubectl-kruise {args:?} exited {code}")));
            }
            walls.push(w);
            rss = rss.max(r);
        }
        walls.sort();
        println!(
            "{:<28} {:>12.2} {:>12.2} {:>14.1}",
            format!("kubectl-kruise {}", args.join(" ")),
            walls[N / 2].as_secs_f64() * 1000.0,
            walls[N - 1].as_secs_f64() * 1000.0,
            rss as f64 / 1024.0
        );
    }

    // API requests per command, on the local cluster.
    let dir = root.join("target/cluster");
    let (state, started) = match cluster::up(root, &dir)? {
        cluster::Up::Started(s) => (s, true),
        cluster::Up::AlreadyUp(s) => (s, false),
    };
    let result = count_requests(&bin, &state);
    if started {
        cluster::down(&dir)?;
    }
    result
}

fn count_requests(bin: &Path, state: &State) -> Result<()> {
    let tag = pki::random_hex(4)?;
    let ns = format!("bench-cli-{tag}");
    let k = |args: &[&str]| cluster::kubectl(state, args);
    k(&["create", "namespace", &ns])?;
    let deploy = |name: &str| -> Result<()> {
        k(&[
            "-n",
            &ns,
            "create",
            "deployment",
            name,
            "--image=nginx:1.26",
            "--replicas=2",
        ])?;
        k(&[
            "-n",
            &ns,
            "rollout",
            "status",
            &format!("deployment/{name}"),
            "--timeout=60s",
        ])?;
        k(&[
            "-n",
            &ns,
            "set",
            "image",
            &format!("deployment/{name}"),
            "nginx=nginx:1.27",
        ])?;
        k(&[
            "-n",
            &ns,
            "rollout",
            "status",
            &format!("deployment/{name}"),
            "--timeout=60s",
        ])?;
        Ok(())
    };
    deploy("ours")?;
    deploy("theirs")?;
    let cache = std::env::temp_dir().join(format!("bench-kubectl-cache-{tag}"));

    println!();
    println!(
        "== cli: API requests on a first run (audit log; kubectl v1.34.4 with an empty --cache-dir)"
    );
    println!(
        "{:<22} {:>16} {:>10}  kubectl-kruise requests",
        "COMMAND", "kubectl-kruise", "kubectl"
    );
    let steps: &[(&str, &[&str])] = &[
        ("version", &["version"]),
        ("rollout pause", &["rollout", "pause"]),
        ("rollout resume", &["rollout", "resume"]),
        ("rollout restart", &["rollout", "restart"]),
        ("rollout status", &["rollout", "status", "--watch=false"]),
        ("rollout history", &["rollout", "history"]),
        ("rollout undo", &["rollout", "undo"]),
    ];
    for (label, args) in steps {
        let target = |name: &str| -> Vec<String> {
            let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            if *label != "version" {
                v.insert(
                    if v.len() > 2 { 2 } else { v.len() },
                    format!("deployment/{name}"),
                );
            }
            v
        };
        let ours_user = format!("bench-{tag}-ours-{}", label.replace(' ', "-"));
        let theirs_user = format!("bench-{tag}-kubectl-{}", label.replace(' ', "-"));
        let mut ours = Command::new(bin);
        ours.args([
            "--as",
            &ours_user,
            "--as-group",
            "system:masters",
            "-n",
            &ns,
        ])
        .args(target("ours"))
        .env("KUBECONFIG", &state.kubeconfig);
        measure(&mut ours)?;
        let _ = std::fs::remove_dir_all(&cache);
        let mut theirs = Command::new(&state.kubectl);
        theirs
            .args([
                "--as",
                &theirs_user,
                "--as-group",
                "system:masters",
                "-n",
                &ns,
            ])
            .arg(format!("--cache-dir={}", cache.display()))
            .args(target("theirs"))
            .env("KUBECONFIG", &state.kubeconfig);
        measure(&mut theirs)?;
        // Records are written as responses complete: give the last ones a moment.
        std::thread::sleep(Duration::from_millis(700));
        let o = requests_as(state, &ours_user)?;
        let t = requests_as(state, &theirs_user)?;
        println!(
            "{:<22} {:>16} {:>10}  {}",
            label,
            o.len(),
            t.len(),
            o.join(", ")
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
    k(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// "VERB path" of each request made impersonating `user`, in order.
pub(crate) fn requests_as(state: &State, user: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(state.dir.join("logs/audit.log"))?;
    let needle = format!("\"{user}\"");
    let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains(&needle)) {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if v["impersonatedUser"]["username"] != user {
            continue;
        }
        let id = v["auditID"].as_str().unwrap_or_default().to_string();
        let n = seen.len();
        let uri = v["requestURI"].as_str().unwrap_or_default();
        let path = uri.split('?').next().unwrap_or(uri);
        seen.entry(id)
            .or_insert((n, format!("{} {}", v["verb"].as_str().unwrap_or("?"), path)));
    }
    let mut out: Vec<(usize, String)> = seen.into_values().collect();
    out.sort();
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

/// A kind the embedded-controller bench drives.
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named as the kinds are
enum Kind {
    CloneSet,
    StatefulSet,
    DaemonSet,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::CloneSet => "cloneset",
            Kind::StatefulSet => "statefulset",
            Kind::DaemonSet => "daemonset",
        }
    }

    /// The resource kubectl reads and patches.
    fn resource(self) -> &'static str {
        match self {
            Kind::CloneSet => "clonesets.apps.kruise.io",
            Kind::StatefulSet => "statefulsets.apps.kruise.io",
            Kind::DaemonSet => "daemonsets.apps.kruise.io",
        }
    }

    /// The object at rest before the bench (no pods): in-place updates, 20 % unavailable;
    /// the DaemonSet selects nodes labelled `bench=<tag>` (none yet).
    fn manifest(self, ns: &str, tag: &str) -> serde_json::Value {
        let template = serde_json::json!({"metadata": {"labels": {"app": "bench"}},
            "spec": {"readinessGates": [{"conditionType": "InPlaceUpdateReady"}],
                     "containers": [{"name": "main", "image": "app:1"}]}});
        let meta = serde_json::json!({"name": "bench", "namespace": ns});
        let selector = serde_json::json!({"matchLabels": {"app": "bench"}});
        match self {
            Kind::CloneSet => serde_json::json!({
                "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "metadata": meta,
                "spec": {"replicas": 0, "selector": selector,
                    "updateStrategy": {"type": "InPlaceIfPossible"}, "template": template}}),
            Kind::StatefulSet => serde_json::json!({
                "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet", "metadata": meta,
                "spec": {"replicas": 0, "selector": selector, "podManagementPolicy": "Parallel",
                    "updateStrategy": {"rollingUpdate": {"podUpdatePolicy": "InPlaceIfPossible",
                        "maxUnavailable": "20%"}}, "template": template}}),
            Kind::DaemonSet => {
                let mut t = template;
                t["spec"]["nodeSelector"] = serde_json::json!({"bench": tag});
                serde_json::json!({
                    "apiVersion": "apps.kruise.io/v1beta1", "kind": "DaemonSet", "metadata": meta,
                    "spec": {"selector": selector, "template": t,
                        "updateStrategy": {"rollingUpdate": {"rollingUpdateType": "InPlaceIfPossible",
                            "maxUnavailable": "20%"}}}})
            }
        }
    }
}

/// `[cloneset|statefulset|daemonset|all-kinds]` → the kinds and whether they share one run.
fn kinds_of(what: &[&str]) -> Vec<(Vec<Kind>, bool)> {
    let all = what.is_empty();
    let mut out = Vec::new();
    for (k, name) in [
        (Kind::CloneSet, "cloneset"),
        (Kind::StatefulSet, "statefulset"),
        (Kind::DaemonSet, "daemonset"),
    ] {
        if all || what.contains(&name) {
            out.push((vec![k], false));
        }
    }
    if all || what.contains(&"all-kinds") {
        out.push((
            vec![Kind::CloneSet, Kind::StatefulSet, Kind::DaemonSet],
            true,
        ));
    }
    out
}

/// `controller run` as its own process (so its RSS and its requests are its own), under a
/// unique impersonated user: scale 0→N, then an in-place update of the N pods, for one kind or
/// for every kind at once in one process (`all-kinds`: N pods of each).
fn workloads(root: &Path, what: &[&str], sizes: &[usize]) -> Result<()> {
    let runs = kinds_of(what);
    if runs.is_empty() {
        return Ok(());
    }
    let bin = release_binary(root)?;
    let dir = root.join("target/cluster");
    let (state, started) = match cluster::up(root, &dir)? {
        cluster::Up::Started(s) => (s, true),
        cluster::Up::AlreadyUp(s) => (s, false),
    };
    let result = (|| -> Result<()> {
        let crds = Command::new(&bin)
            .args(["crds", "install"])
            .env("KUBECONFIG", &state.kubeconfig)
            .stdout(Stdio::null())
            .status()?;
        if !crds.success() {
            return Err(fail("crds install failed"));
        }
        for (kinds, together) in &runs {
            let label = if *together {
                "all kinds in one process".to_string()
            } else {
                kinds[0].name().to_string()
            };
            println!(
                "== {label}: embedded controller (release build), requests from the audit log"
            );
            println!(
                "{:<34} {:>9} {:>9} {:>12} {:>10} {:>8}",
                "scenario", "wall", "requests", "per pod", "peak RSS", "events"
            );
            println!(
                "    (requests and per pod: every write and read but Events; events: Event writes)"
            );
            for &n in sizes {
                bench_one(&bin, &state, kinds, n)?;
            }
        }
        Ok(())
    })();
    if started {
        cluster::down(&dir)?;
    }
    result
}

/// `count` kwok nodes labelled `bench-node=<tag>` (not yet `bench=<tag>`).
fn add_nodes(state: &State, tag: &str, count: usize) -> Result<()> {
    let items: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"- apiVersion: v1
  kind: Node
  metadata:
    name: bench-{tag}-{i}
    annotations: {{kwok.x-k8s.io/node: fake}}
    labels: {{type: kwok, bench-node: "{tag}", kubernetes.io/hostname: bench-{tag}-{i}}}
"#
            )
        })
        .collect();
    let list = format!("apiVersion: v1\nkind: List\nitems:\n{}", items.concat());
    cluster::kubectl_stdin(state, &["apply", "-f", "-"], &list)?;
    Ok(())
}

fn bench_one(bin: &Path, state: &State, kinds: &[Kind], n: usize) -> Result<()> {
    let k = |args: &[&str]| cluster::kubectl(state, args);
    let tag = pki::random_hex(4)?;
    let ns = format!("bench-{n}-{tag}");
    let user = format!("bench-ctl-{tag}");
    k(&["create", "namespace", &ns])?;
    if kinds.contains(&Kind::DaemonSet) {
        add_nodes(state, &tag, n)?;
    }
    for kind in kinds {
        let m = kind.manifest(&ns, &tag);
        cluster::kubectl_stdin(state, &["apply", "-f", "-"], &m.to_string())?;
    }
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let mut child = Command::new(bin)
        .args([
            "-n",
            &ns,
            "controller",
            "run",
            "--controllers",
            &names.join(","),
        ])
        .args(["--as", &user, "--as-group", "system:masters"])
        .env("KUBECONFIG", &state.kubeconfig)
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    // Let it sync its watches and take the Leases (and write the defaults).
    for kind in kinds {
        wait_until(state, *kind, &ns, Duration::from_secs(30), |s| {
            s.observed >= s.generation && s.generation > 0
        })?;
    }
    std::thread::sleep(Duration::from_millis(500));
    for (i, what) in ["scale 0→N", "in-place update of N"]
        .into_iter()
        .enumerate()
    {
        let before = requests_as(state, &user)?.len();
        let t0 = Instant::now();
        let mut gens = Vec::new();
        for kind in kinds {
            gens.push(read_status(state, *kind, &ns)?.generation);
            change(state, *kind, &ns, &tag, n, i == 1)?;
        }
        for (kind, gen_before) in kinds.iter().zip(gens) {
            wait_until(state, *kind, &ns, Duration::from_secs(900), |s| {
                s.generation >= gen_before
                    && s.observed >= s.generation
                    && s.updated == n as i64
                    && s.available == n as i64
                    && s.replicas == n as i64
            })?;
        }
        let wall = t0.elapsed();
        std::thread::sleep(Duration::from_secs(1)); // the last status write lands in the log
        report(state, &user, before, what, n * kinds.len(), wall, pid)?;
    }
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let _ = child.wait();
    let _ = k(&["delete", "namespace", &ns, "--wait=false"]);
    if kinds.contains(&Kind::DaemonSet) {
        let _ = k(&[
            "delete",
            "nodes",
            "-l",
            &format!("bench-node={tag}"),
            "--wait=false",
        ]);
    }
    Ok(())
}

/// Scale to `n` (the DaemonSet: label the `n` bench nodes it selects) or update the image.
fn change(state: &State, kind: Kind, ns: &str, tag: &str, n: usize, update: bool) -> Result<()> {
    let k = |args: &[&str]| cluster::kubectl(state, args);
    if update {
        let patch =
            r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"app:2"}]"#;
        k(&[
            "patch",
            kind.resource(),
            "bench",
            "-n",
            ns,
            "--type",
            "json",
            "-p",
            patch,
        ])?;
    } else if kind == Kind::DaemonSet {
        k(&[
            "label",
            "nodes",
            "-l",
            &format!("bench-node={tag}"),
            &format!("bench={tag}"),
        ])?;
    } else {
        let patch = format!(r#"{{"spec":{{"replicas":{n}}}}}"#);
        k(&[
            "patch",
            kind.resource(),
            "bench",
            "-n",
            ns,
            "--type",
            "merge",
            "-p",
            &patch,
        ])?;
    }
    Ok(())
}

/// One row: wall, requests (by verb and resource), per pod, peak RSS, Event writes.
pub(crate) fn report(
    state: &State,
    user: &str,
    before: usize,
    what: &str,
    pods: usize,
    wall: Duration,
    pid: u32,
) -> Result<()> {
    let (events, reqs): (Vec<String>, Vec<String>) = requests_as(state, user)?
        .into_iter()
        .skip(before)
        .filter(|r| !r.starts_with("watch "))
        .partition(|r| r.contains("/events"));
    let rss = if pid == 0 { 0 } else { peak_rss_kib(pid) };
    println!(
        "{:<34} {:>8.2}s {:>9} {:>12.2} {:>7.1} MB {:>8}",
        what.replace('N', &pods.to_string()),
        wall.as_secs_f64(),
        reqs.len(),
        reqs.len() as f64 / pods as f64,
        rss as f64 / 1024.0,
        events.len()
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reqs {
        let mut parts = r.splitn(2, ' ');
        let verb = parts.next().unwrap_or_default();
        let path = parts.next().unwrap_or_default();
        let segs: Vec<&str> = path.split('/').collect();
        let res = match segs.as_slice() {
            [.., "namespaces", _, res, _, sub] => format!("{res}/{sub}"),
            [.., "namespaces", _, res, _] | [.., "namespaces", _, res] => res.to_string(),
            _ => path.to_string(),
        };
        *kinds.entry(format!("{verb} {res}")).or_default() += 1;
    }
    for r in &events {
        let verb = r.split(' ').next().unwrap_or_default();
        *kinds.entry(format!("{verb} events")).or_default() += 1;
    }
    let detail: Vec<String> = kinds.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("    {}", detail.join(", "));
    Ok(())
}

#[derive(Debug, Default)]
struct CsStatus {
    generation: i64,
    observed: i64,
    replicas: i64,
    updated: i64,
    available: i64,
}

fn read_status(state: &State, kind: Kind, ns: &str) -> Result<CsStatus> {
    let out = cluster::kubectl(
        state,
        &["get", kind.resource(), "bench", "-n", ns, "-o", "json"],
    )?;
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let i = |p: &str| {
        v.pointer(p)
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0)
    };
    let (replicas, updated, available) = match kind {
        Kind::DaemonSet => (
            "/status/currentNumberScheduled",
            "/status/updatedNumberScheduled",
            "/status/numberAvailable",
        ),
        _ => (
            "/status/replicas",
            "/status/updatedReplicas",
            "/status/availableReplicas",
        ),
    };
    Ok(CsStatus {
        generation: i("/metadata/generation"),
        observed: i("/status/observedGeneration"),
        replicas: i(replicas),
        updated: i(updated),
        available: i(available),
    })
}

fn wait_until(
    state: &State,
    kind: Kind,
    ns: &str,
    timeout: Duration,
    done: impl Fn(&CsStatus) -> bool,
) -> Result<()> {
    let start = Instant::now();
    loop {
        let s = read_status(state, kind, ns)?;
        if done(&s) {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(fail(format!(
                "{} bench in {ns} did not get there in {timeout:?}: {s:?}",
                kind.name()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// VmHWM of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
