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
