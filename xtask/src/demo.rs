//! `cargo xtask demo`: the main job. Builds the plugin, brings the local control plane up,
//! installs the CRDs and plays seed 000's CloneSet story with the embedded controller —
//! create, scale, delete a chosen pod, in-place update, partitioned release — through real
//! `kubectl kruise …` (the plugin found on PATH), printing every command so a reader can
//! replay it. The cluster stays up at the end.

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

pub fn run(root: &Path) -> Result<()> {
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

    demo.say("01: the seed's CloneSet, 3 replicas; the embedded controller creates the pods");
    demo.kubectl(&["apply", "-f", &seed(root, 1, &files)?])?;
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

    println!(
        "\nThe cluster is still up. To continue:\n  export KUBECONFIG={}\n  export PATH={}:$PATH\n  kubectl kruise rollout status cloneset/nginxweb1 -n {NS}\nStop it with: cargo xtask cluster down",
        demo.state.kubeconfig.display(),
        bin_dir.display()
    );
    Ok(())
}
