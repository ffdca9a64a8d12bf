//! `cargo xtask bench rollout`: the 3-step canary of a 10-replica Deployment with nginx
//! traffic (1 pod and 10 % waiting for approval, 50 % and 50 % for 5 s, 100 %), released with
//! no operator: `set image` drives it to step 1's pause, `rollout approve` to the end. Printed:
//! wall time to step 1's pause and to Healthy (the manual wait left out), the requests of both
//! commands by verb and resource (audit log), and their peak RSS. For comparison, the Kruise
//! Rollout v0.6.2 operator on this control plane (reference notes §9): step 1 paused 23 s after
//! the image change, Healthy 62 s after it, 256 requests.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::{measure, release_binary, report, requests_as};
use crate::cluster::{self, State};
use crate::{Result, fail, pki};

pub fn run(root: &Path) -> Result<()> {
    let bin = release_binary(root)?;
    let dir = root.join("target/cluster");
    let (state, started) = match cluster::up(root, &dir)? {
        cluster::Up::Started(s) => (s, true),
        cluster::Up::AlreadyUp(s) => (s, false),
    };
    let result = release(&bin, &state);
    if started {
        cluster::down(&dir)?;
    }
    result
}

fn release(bin: &Path, state: &State) -> Result<()> {
    let bin = bin.to_path_buf();
    let crds = Command::new(&bin)
        .args(["crds", "install"])
        .env("KUBECONFIG", &state.kubeconfig)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !crds.success() {
        return Err(fail("crds install failed"));
    }
    let tag = pki::random_hex(4)?;
    let ns = format!("bench-ro-{tag}");
    let user = format!("bench-ro-{tag}");
    cluster::kubectl(state, &["create", "namespace", &ns])?;
    cluster::kubectl_stdin(state, &["apply", "-n", &ns, "-f", "-"], &manifests())?;
    // The Rollout becomes Healthy (as another user: only the release is counted).
    let ok = Command::new(&bin)
        .args([
            "-n",
            &ns,
            "controller",
            "run",
            "--controllers",
            "rollout,batchrelease",
        ])
        .args(["--exit-when-done"])
        .env("KUBECONFIG", &state.kubeconfig)
        .status()?;
    if !ok.success() {
        return Err(fail("the Rollout did not become Healthy"));
    }
    wait(
        state,
        &ns,
        "deployment/web",
        "{.status.availableReplicas}",
        "10",
    )?;
    println!(
        "Kruise Rollout release, 10 replicas, nginx: steps 1 pod/10 % (approve), 50 %/50 % (5 s), 100 %"
    );
    println!(
        "{:<34} {:>9} {:>9} {:>12} {:>10} {:>8}",
        "", "wall", "requests", "per pod", "peak RSS", "events"
    );
    let as_user = ["--as", user.as_str(), "--as-group", "system:masters"];
    let before = requests_as(state, &user)?.len();
    let (w1, rss1, code) = measure(
        Command::new(&bin)
            .args(["-n", &ns, "set", "image", "deployment/web", "main=app:2"])
            .args(as_user)
            .env("KUBECONFIG", &state.kubeconfig)
            .env("CI", "true"),
    )?;
    if code != 0 {
        return Err(fail(format!("set image exited {code}")));
    }
    check(
        state,
        &ns,
        "{.status.currentStepIndex}/{.status.currentStepState}",
        "1/StepPaused",
    )?;
    std::thread::sleep(Duration::from_secs(1));
    report(state, &user, before, "set image → step 1 paused", 10, w1, 0)?;
    println!("    peak RSS {:.1} MB", rss1 as f64 / 1024.0);
    let mid = requests_as(state, &user)?.len();
    let (w2, rss2, code) = measure(
        Command::new(&bin)
            .args(["-n", &ns, "rollout", "approve", "rollout/web"])
            .args(as_user)
            .env("KUBECONFIG", &state.kubeconfig)
            .env("CI", "true"),
    )?;
    if code != 0 {
        return Err(fail(format!("rollout approve exited {code}")));
    }
    check(state, &ns, "{.status.phase}", "Healthy")?;
    std::thread::sleep(Duration::from_secs(1));
    report(state, &user, mid, "approve → Healthy", 10, w2, 0)?;
    println!("    peak RSS {:.1} MB", rss2 as f64 / 1024.0);
    report(
        state,
        &user,
        before,
        "whole release (no manual wait)",
        10,
        w1 + w2,
        0,
    )?;
    println!(
        "    operator v0.6.2: step 1 paused 23 s, Healthy 62 s, 256 requests; here {:.1} s, {:.1} s",
        w1.as_secs_f64(),
        (w1 + w2).as_secs_f64()
    );
    let _ = cluster::kubectl(state, &["delete", "namespace", &ns, "--wait=false"]);
    Ok(())
}

fn check(state: &State, ns: &str, path: &str, want: &str) -> Result<()> {
    let got = cluster::kubectl(
        state,
        &[
            "get",
            "-n",
            ns,
            "rollout/web",
            "-o",
            &format!("jsonpath={path}"),
        ],
    )?;
    if got.trim() != want {
        return Err(fail(format!("rollout web: {got:?}, wanted {want:?}")));
    }
    Ok(())
}

fn wait(state: &State, ns: &str, obj: &str, path: &str, want: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let got = cluster::kubectl(
            state,
            &["get", "-n", ns, obj, "-o", &format!("jsonpath={path}")],
        )?;
        if got.trim() == want {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(120) {
            return Err(fail(format!("{obj}: {path} is {got:?}, not {want:?}")));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn manifests() -> String {
    r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 10
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: "app:1"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, annotations: {kubernetes.io/ingress.class: nginx}}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: rollouts.kruise.io/v1beta1
kind: Rollout
metadata: {name: web}
spec:
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  strategy:
    canary:
      enableExtraWorkloadForCanary: true
      steps:
      - {replicas: 1, traffic: "10%", pause: {}}
      - {replicas: "50%", traffic: "50%", pause: {duration: 5}}
      - {replicas: "100%"}
      trafficRoutings:
      - {service: web, ingress: {name: web}}
"#
    .to_string()
}
