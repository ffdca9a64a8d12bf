//! `cargo xtask demo [--only cloneset|statefulset|rollout]`: the main job. Builds the plugin,
//! brings the local control plane up, installs the CRDs and plays, with the embedded
//! controllers: seed 000's CloneSet story (create, scale, delete a chosen pod, in-place update,
//! partitioned release), an Advanced StatefulSet updated in place under a partition, and a
//! Kruise Rollout canary with nginx traffic approved step by step — through real `kubectl
//! kruise …` (the plugin found on PATH), printing every command so a reader can replay it. The
//! cluster stays up at the end.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::cluster::{self, State};
use crate::{Result, fail};

const NS: &str = "kruise-demo";

struct Demo {
    state: State,
    path: String,
}

impl Demo {
    /// Runs `kubectl ARGS` (the plugin resolves through PATH), echoing it first.
    fn kubectl(&self, args: &[&str]) -> Result<String> {
        println!("\n$ kubectl {}", shell_words(args));
        let out = Command::new(&self.state.kubectl)
            .args(args)
            .env("KUBECONFIG", &self.state.kubeconfig)
            .env("PATH", &self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        print!("{text}");
        if !out.status.success() {
            return Err(fail(format!(
                "`kubectl {}` failed ({})",
                args.join(" "),
                out.status
            )));
        }
        Ok(text)
    }

    fn say(&self, line: &str) {
        println!("\n# {line}");
    }

    /// The live (not terminating) pods of the story, by name.
    fn pods(&self) -> Result<Vec<DemoPod>> {
        let out = cluster::kubectl(
            &self.state,
            &[
                "get",
                "pods",
                "-n",
                NS,
                "-l",
                "app=nginxweb1",
                "-o",
                "jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} \
                 {.spec.containers[0].image} {.status.containerStatuses[0].restartCount} \
                 {.status.conditions[?(@.type==\"Ready\")].status} \
                 {.metadata.deletionTimestamp}{\"\\n\"}{end}",
            ],
        )?;
        let mut pods: Vec<DemoPod> = out
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|f| f.len() == 5)
            .map(|f| DemoPod {
                name: f[0].into(),
                uid: f[1].into(),
                image: f[2].into(),
                restarts: f[3].parse().unwrap_or(-1),
                ready: f[4] == "True",
            })
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(pods)
    }

    /// Check one end state of the story; the demo fails with what it saw otherwise.
    fn check(&self, what: &str, ok: impl Fn(&[DemoPod]) -> bool) -> Result<Vec<DemoPod>> {
        let pods = self.pods()?;
        if !ok(&pods) {
            return Err(fail(format!(
                "demo: expected {what}; the pods are {pods:#?}"
            )));
        }
        println!("✓ {what}");
        Ok(pods)
    }
}

#[derive(Debug, Clone)]
#[allow(dead_code)] // read through Debug when a check fails
struct DemoPod {
    name: String,
    uid: String,
    image: String,
    restarts: i32,
    ready: bool,
}

fn uids(pods: &[DemoPod]) -> Vec<&str> {
    let mut v: Vec<&str> = pods.iter().map(|p| p.uid.as_str()).collect();
    v.sort();
    v
}

fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.contains(|c: char| c.is_whitespace() || "{}\"'$*".contains(c)) {
                format!("'{a}'")
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Seed 000's step, in the demo namespace, with minReadySeconds shortened so the story moves.
fn seed(root: &Path, step: u8, out_dir: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(root.join(format!("tests/fixtures/seed-000/0{step}-ok.yaml")))?;
    let text = text
        .replace("namespace: default", &format!("namespace: {NS}"))
        .replace("minReadySeconds: 30", "minReadySeconds: 2");
    let path = out_dir.join(format!("0{step}-ok.yaml"));
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let only = match args {
        [] => None,
        ["--only", name @ ("cloneset" | "statefulset" | "rollout")] => Some(*name),
        _ => {
            return Err(fail(format!(
                "demo: unknown arguments {args:?}; use --only cloneset|statefulset|rollout"
            )));
        }
    };
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["build", "--locked", "--bin", "kubectl-kruise"])
        .status()?;
    if !status.success() {
        return Err(fail("cargo build failed"));
    }
    let bin_dir = root.join("target/debug");
    let dir = root.join("target/cluster");
    let state = match cluster::up(root, &dir)? {
        cluster::Up::Started(s) | cluster::Up::AlreadyUp(s) => s,
    };
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let demo = Demo { state, path };
    let files = root.join("target/demo");
    std::fs::create_dir_all(&files)?;

    demo.say("The plugin, found by kubectl on PATH");
    demo.kubectl(&["kruise", "version", "--client"])?;
    demo.say("Install the Kruise CRDs (no operator in this cluster)");
    demo.kubectl(&["kruise", "crds", "install"])?;
    // A run before may have left Rollouts and BatchReleases, whose finalizers only a running
    // controller removes: let them go first, or the namespace would wait for ever.
    for kind in [
        "rollouts.rollouts.kruise.io",
        "batchreleases.rollouts.kruise.io",
    ] {
        let names = cluster::kubectl(&demo.state, &["get", kind, "-n", NS, "-o", "name"])
            .unwrap_or_default();
        for name in names.lines().filter(|l| !l.is_empty()) {
            let _ = cluster::kubectl(
                &demo.state,
                &[
                    "patch",
                    name,
                    "-n",
                    NS,
                    "--type",
                    "merge",
                    "-p",
                    r#"{"metadata":{"finalizers":null}}"#,
                ],
            );
        }
    }
    let _ = cluster::kubectl(
        &demo.state,
        &[
            "delete",
            "namespace",
            NS,
            "--ignore-not-found",
            "--wait=true",
        ],
    );
    demo.kubectl(&["create", "namespace", NS])?;

    let parts: [(&str, PartFn); 3] = [
        ("cloneset", cloneset),
        ("statefulset", statefulset),
        ("rollout", rollout),
    ];
    for (name, part) in parts {
        if only.is_none_or(|o| o == name) {
            part(root, &demo, &files)?;
        }
    }
    println!(
        "\nThe cluster is still up. To continue:\n  export KUBECONFIG={}\n  export PATH={}:$PATH\n  kubectl kruise get cloneset/nginxweb1 -n {NS} -w\n  kubectl kruise get rollout/echoserver -n {NS} -w\n  kubectl kruise rollout status cloneset/nginxweb1 -n {NS}\nStop it with: cargo xtask cluster down",
        demo.state.kubeconfig.display(),
        bin_dir.display()
    );
    Ok(())
}

type PartFn = fn(&Path, &Demo, &Path) -> Result<()>;

/// Seed 000's CloneSet story: create, scale, delete a chosen pod, in place, partition.
fn cloneset(root: &Path, demo: &Demo, files: &Path) -> Result<()> {
    demo.say("01: the seed's CloneSet, 3 replicas; the embedded controller creates the pods");
    demo.kubectl(&["apply", "-f", &seed(root, 1, files)?])?;
    demo.kubectl(&["kruise", "controller", "run", "-n", NS, "--exit-when-done"])?;
    demo.kubectl(&[
        "get",
        "pods",
        "-n",
        NS,
        "-L",
        "apps.kruise.io/cloneset-instance-id",
    ])?;
    demo.check("3 Ready pods named nginxweb1-xxxxx", |p| {
        p.len() == 3
            && p.iter()
                .all(|p| p.ready && p.name.len() == 15 && p.name.starts_with("nginxweb1-"))
    })?;

    demo.say("02: scale to 5, one pod at a time (scaleStrategy.maxUnavailable: 1)");
    demo.kubectl(&[
        "patch",
        "cloneset",
        "nginxweb1",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReadySeconds":2,"scaleStrategy":{"maxUnavailable":1}}}"#,
    ])?;
    demo.kubectl(&[
        "kruise",
        "scale",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "--replicas",
        "5",
    ])?;
    let five = demo.check("5 Ready pods", |p| {
        p.len() == 5 && p.iter().all(|p| p.ready)
    })?;

    demo.say("03: scale to 4, deleting a chosen pod");
    let pods = demo.kubectl(&["get", "pods", "-n", NS, "-l", "app=nginxweb1", "-o", "name"])?;
    let victim = pods
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("pod/"))
        .ok_or_else(|| fail("no pod to delete"))?
        .to_string();
    demo.kubectl(&[
        "kruise",
        "scale",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "--replicas",
        "4",
        "--delete-pod",
        &victim,
    ])?;
    demo.kubectl(&["get", "pods", "-n", NS])?;
    let kept: Vec<&str> = uids(&five)
        .into_iter()
        .filter(|u| five.iter().any(|p| &p.uid == u && p.name != victim))
        .collect();
    let four = demo.check(&format!("4 pods: {victim} gone, the other 4 kept"), |p| {
        uids(p) == kept && !p.iter().any(|p| p.name == victim)
    })?;

    demo.say("04: in-place update to nginx:latest — first the plan, then the real thing");
    demo.kubectl(&[
        "kruise",
        "set",
        "image",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "nginx=nginx:latest",
        "--inplace",
        "--dry-run=client",
    ])?;
    demo.kubectl(&[
        "kruise",
        "set",
        "image",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "nginx=nginx:latest",
        "--inplace",
    ])?;
    demo.kubectl(&["get", "pods", "-n", NS, "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,RESTARTS:.status.containerStatuses[0].restartCount,READY:.status.containerStatuses[0].ready"])?;
    demo.check(
        "the same 4 pods (UIDs kept) on nginx:latest, each restarted once, Ready",
        |p| {
            uids(p) == uids(&four)
                && p.iter().all(|p| {
                    let before = four
                        .iter()
                        .find(|b| b.uid == p.uid)
                        .map_or(0, |b| b.restarts);
                    p.image == "nginx:latest" && p.restarts == before + 1 && p.ready
                })
        },
    )?;

    demo.say("05: partitioned release — partition 2 keeps two pods on the old image");
    demo.kubectl(&[
        "patch",
        "cloneset",
        "nginxweb1",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"partition":2}}}"#,
    ])?;
    demo.kubectl(&[
        "kruise",
        "set",
        "image",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "nginx=nginx:1.20",
    ])?;
    demo.kubectl(&[
        "get",
        "pods",
        "-n",
        NS,
        "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image",
    ])?;
    demo.check(
        "partition 2: 2 pods kept on nginx:latest, 2 on nginx:1.20, no pod recreated",
        |p| {
            uids(p) == uids(&four)
                && p.iter().filter(|p| p.image == "nginx:latest").count() == 2
                && p.iter().filter(|p| p.image == "nginx:1.20").count() == 2
        },
    )?;
    demo.kubectl(&[
        "kruise",
        "rollout",
        "history",
        "cloneset/nginxweb1",
        "-n",
        NS,
    ])?;
    demo.kubectl(&[
        "kruise",
        "rollout",
        "status",
        "cloneset/nginxweb1",
        "-n",
        NS,
        "--watch=false",
    ])?;
    demo.say("The tree: each revision with the pods that run it");
    let tree = demo.kubectl(&["kruise", "get", "cloneset/nginxweb1", "-n", NS])?;
    if !(tree.contains("update") && tree.contains("current") && tree.contains("in-place:updated")) {
        return Err(fail(
            "the tree names the update and current revisions and the pods updated in place",
        ));
    }
    Ok(())
}

/// Writes `yaml` under `files` and applies it.
fn apply(demo: &Demo, files: &Path, name: &str, yaml: &str) -> Result<()> {
    let path = files.join(name);
    std::fs::write(&path, yaml)?;
    demo.kubectl(&["apply", "-f", &path.display().to_string()])?;
    Ok(())
}

/// `kubectl get pods -l app=APP` as `name image` lines, sorted.
fn images(demo: &Demo, app: &str) -> Result<Vec<(String, String)>> {
    let out = cluster::kubectl(
        &demo.state,
        &[
            "get",
            "pods",
            "-n",
            NS,
            "-l",
            &format!("app={app}"),
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.spec.containers[0].image}{\"\\n\"}{end}",
        ],
    )?;
    let mut v: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, i)| (n.to_string(), i.to_string()))
        .collect();
    v.sort();
    Ok(v)
}

/// An Advanced StatefulSet created by the embedded controller, then updated in place under a
/// partition: the top ordinals move, the
/// bottom one stays.
fn statefulset(_root: &Path, demo: &Demo, files: &Path) -> Result<()> {
    demo.say("06: an Advanced StatefulSet of 3, in-place updates, partition 1");
    apply(
        demo,
        files,
        "asts.yaml",
        &format!(
            "apiVersion: apps.kruise.io/v1beta1
kind: StatefulSet
metadata: {{name: db, namespace: {NS}}}
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: Parallel
  selector: {{matchLabels: {{app: db}}}}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {{partition: 1, podUpdatePolicy: InPlaceIfPossible}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      readinessGates: [{{conditionType: InPlaceUpdateReady}}]
      containers: [{{name: db, image: nginx:1.26}}]
"
        ),
    )?;
    demo.kubectl(&[
        "kruise",
        "controller",
        "run",
        "-n",
        NS,
        "--controllers",
        "statefulset",
        "--exit-when-done",
    ])?;
    let before = images(demo, "db")?;
    if before.len() != 3 {
        return Err(fail(format!("3 db pods expected, found {before:?}")));
    }
    demo.kubectl(&[
        "kruise",
        "set",
        "image",
        "asts/db",
        "-n",
        NS,
        "db=nginx:1.27",
    ])?;
    demo.kubectl(&["get", "pods", "-n", NS, "-l", "app=db", "-o",
        "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image,RESTARTS:.status.containerStatuses[0].restartCount"])?;
    let after = images(demo, "db")?;
    let want = vec![
        ("db-0".to_string(), "nginx:1.26".to_string()),
        ("db-1".to_string(), "nginx:1.27".to_string()),
        ("db-2".to_string(), "nginx:1.27".to_string()),
    ];
    if after != want {
        return Err(fail(format!(
            "partition 1: db-1 and db-2 on nginx:1.27, db-0 kept; found {after:?}"
        )));
    }
    println!("ok: db-2 and db-1 updated in place, db-0 kept by the partition");
    demo.kubectl(&["kruise", "rollout", "history", "asts/db", "-n", NS])?;
    demo.kubectl(&["kruise", "get", "asts/db", "-n", NS])?;
    Ok(())
}

/// Seed 002: a canary release through nginx traffic, one step waiting for approval.
fn rollout(_root: &Path, demo: &Demo, files: &Path) -> Result<()> {
    demo.say("07: a Deployment of 4 behind a Service and an nginx Ingress, and a Kruise Rollout: 1 canary pod and 20% of the traffic, then approval");
    apply(
        demo,
        files,
        "rollout.yaml",
        &format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: echoserver, namespace: {NS}, labels: {{app: echoserver}}}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: echoserver}}}}
  template:
    metadata: {{labels: {{app: echoserver}}}}
    spec:
      containers: [{{name: echoserver, image: cilium/echoserver:1.10.2}}]
---
apiVersion: v1
kind: Service
metadata: {{name: echoserver, namespace: {NS}}}
spec:
  selector: {{app: echoserver}}
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: echoserver, namespace: {NS}, annotations: {{kubernetes.io/ingress.class: nginx}}}}
spec:
  rules:
  - host: echo.example.com
    http:
      paths:
      - {{path: /, pathType: Prefix, backend: {{service: {{name: echoserver, port: {{number: 80}}}}}}}}
---
apiVersion: rollouts.kruise.io/v1beta1
kind: Rollout
metadata: {{name: echoserver, namespace: {NS}}}
spec:
  workloadRef: {{apiVersion: apps/v1, kind: Deployment, name: echoserver}}
  strategy:
    canary:
      enableExtraWorkloadForCanary: true
      steps:
      - {{replicas: 1, traffic: 20%, pause: {{}}}}
      - {{replicas: 100%}}
      trafficRoutings:
      - {{service: echoserver, ingress: {{name: echoserver}}}}
"
        ),
    )?;
    cluster::kubectl(
        &demo.state,
        &[
            "rollout",
            "status",
            "deployment/echoserver",
            "-n",
            NS,
            "--timeout=120s",
        ],
    )?;
    demo.say(
        "set image: the Rollout holds the Deployment and the embedded controllers drive step 1",
    );
    demo.kubectl(&[
        "kruise",
        "set",
        "image",
        "deployment/echoserver",
        "-n",
        NS,
        "echoserver=cilium/echoserver:1.10.3",
    ])?;
    let weight = cluster::kubectl(
        &demo.state,
        &[
            "get",
            "ingress",
            "echoserver-canary",
            "-n",
            NS,
            "-o",
            "jsonpath={.metadata.annotations.nginx\\.ingress\\.kubernetes\\.io/canary-weight}",
        ],
    )?;
    demo.kubectl(&["get", "ingress,service", "-n", NS])?;
    if weight.trim() != "20" {
        return Err(fail(format!(
            "the canary Ingress at weight 20, found {weight:?}"
        )));
    }
    println!("ok: 1 canary pod, the canary Ingress at weight 20, waiting for approval");
    demo.say("The Rollout's tree: its steps (the current one marked), the canary pod of step 1, the stable pods");
    let tree = demo.kubectl(&["kruise", "get", "rollout/echoserver", "-n", NS])?;
    if !(tree.contains("▸ step 1/2") && tree.contains("ActualWeight:") && tree.contains("canary"))
    {
        return Err(fail(
            "the Rollout's tree marks step 1 and shows the canary weight",
        ));
    }
    demo.say("approve: the release goes to its end");
    demo.kubectl(&[
        "kruise",
        "rollout",
        "approve",
        "rollout/echoserver",
        "-n",
        NS,
    ])?;
    demo.kubectl(&[
        "kruise",
        "rollout",
        "status",
        "rollout/echoserver",
        "-n",
        NS,
        "--watch=false",
    ])?;
    // The canary Deployment is deleted at the end; its pods take a moment to go.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let imgs = images(demo, "echoserver")?;
        if imgs.len() == 4 && imgs.iter().all(|(_, i)| i == "cilium/echoserver:1.10.3") {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(fail(format!("4 pods on 1.10.3 expected, found {imgs:?}")));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    demo.kubectl(&[
        "get",
        "pods,ingress,service",
        "-n",
        NS,
        "-l",
        "app=echoserver",
    ])?;
    println!("ok: 4 pods on cilium/echoserver:1.10.3, the canary Ingress and Service gone");
    Ok(())
}
