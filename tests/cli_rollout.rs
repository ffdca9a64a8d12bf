//! `kubectl kruise rollout …` on Deployments, with real kubectl as the yardstick, and the CLI's
//! behaviour on bad input — all as a user runs it: the built binary against the local cluster.
//! `help_walk` needs no cluster: it tries every flag and value each command's help lists.

#[path = "cli/complete.rs"]
mod complete;
#[path = "cli/help_walk.rs"]
mod help_walk;
#[path = "cli/krew.rs"]
mod krew;
#[path = "cli/native.rs"]
mod native;
mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use serde_json::json;
use support::{TestNs, kruise, kubectl, ok, stderr, stdout, wait_for};

const T: Duration = Duration::from_secs(90);

fn deployment(name: &str, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}
            }
        }
    }))
    .unwrap()
}

async fn create(api: &Api<Deployment>, name: &str, image: &str) {
    api.create(&PostParams::default(), &deployment(name, image))
        .await
        .unwrap();
    rolled_out(api, name).await;
}

fn done(d: &Deployment) -> bool {
    let g = d.metadata.generation.unwrap_or(0);
    let s = d.status.clone().unwrap_or_default();
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    s.observed_generation.unwrap_or(0) >= g
        && s.updated_replicas == Some(want)
        && s.replicas == Some(want)
        && s.available_replicas == Some(want)
}

async fn rolled_out(api: &Api<Deployment>, name: &str) -> Deployment {
    wait_for(api, name, T, "rollout complete", done).await
}

/// `kubectl set image` and wait, so both deployments get the same history.
async fn set_image(api: &Api<Deployment>, ns: &str, name: &str, image: &str) {
    ok(kubectl(&[
        "-n",
        ns,
        "set",
        "image",
        &format!("deployment/{name}"),
        &format!("nginx={image}"),
    ]));
    rolled_out(api, name).await;
}

fn revisions(history_output: &str) -> Vec<i64> {
    history_output
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

fn template(d: &Deployment) -> serde_json::Value {
    serde_json::to_value(&d.spec.as_ref().unwrap().template).unwrap()
}

#[tokio::test]
async fn undo_and_history_match_kubectl() {
    let client = support::client_as("cli-undo").await;
    // Twin deployments "web": one driven by kubectl, one by kubectl-kruise, same history.
    let kc_ns = TestNs::new(&client, "undo-kubectl").await;
    let kk_ns = TestNs::new(&client, "undo-kruise").await;
    let (kc_api, kk_api): (Api<Deployment>, Api<Deployment>) = (kc_ns.api(), kk_ns.api());
    for (api, ns) in [(&kc_api, &kc_ns), (&kk_api, &kk_ns)] {
        create(api, "web", "nginx:1.25").await;
        set_image(api, &ns.name, "web", "nginx:1.26").await;
        set_image(api, &ns.name, "web", "nginx:1.27").await;
    }
    let (kc_n, kk_n) = (kc_ns.name.as_str(), kk_ns.name.as_str());
    let theirs = revisions(&ok(kubectl(&[
        "-n",
        kc_n,
        "rollout",
        "history",
        "deployment/web",
    ])));
    let ours = revisions(&ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "history",
        "deployment/web",
    ])));
    assert_eq!(ours, vec![1, 2, 3]);
    assert_eq!(ours, theirs, "history lists the same revisions");

    ok(kubectl(&[
        "-n",
        kc_n,
        "rollout",
        "undo",
        "deployment/web",
        "--to-revision=1",
    ]));
    let out = ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "undo",
        "deployment/web",
        "--to-revision=1",
    ]));
    assert_eq!(out.trim(), "deployment.apps/web rolled back");
    let kc = rolled_out(&kc_api, "web").await;
    let kk = rolled_out(&kk_api, "web").await;
    assert_eq!(
        template(&kk),
        template(&kc),
        "the same spec.template after undo"
    );
    assert_eq!(
        template(&kk)["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(
        kk.annotations().get("deployment.kubernetes.io/revision"),
        kc.annotations().get("deployment.kubernetes.io/revision")
    );

    // Revision 1 became revision 4 in both, exactly as kubectl's bookkeeping does.
    let theirs = revisions(&ok(kubectl(&[
        "-n",
        kc_n,
        "rollout",
        "history",
        "deployment/web",
    ])));
    let ours = revisions(&ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "history",
        "deployment/web",
    ])));
    assert_eq!(ours, theirs);
    assert_eq!(ours, vec![2, 3, 4]);

    // Undo with no revision: back to the previous one (3, nginx:1.27), in both.
    ok(kubectl(&["-n", kc_n, "rollout", "undo", "deployment/web"]));
    ok(kruise(&["-n", kk_n, "rollout", "undo", "deployment/web"]));
    let kc = rolled_out(&kc_api, "web").await;
    let kk = rolled_out(&kk_api, "web").await;
    assert_eq!(template(&kk), template(&kc));
    assert_eq!(
        template(&kk)["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );

    // Undo to the revision already running: skipped, as kubectl says.
    let current = kk.annotations()["deployment.kubernetes.io/revision"].clone();
    let out = ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "undo",
        "deployment/web",
        &format!("--to-revision={current}"),
    ]));
    assert!(
        out.contains("skipped rollback (current template already matches revision"),
        "{out}"
    );

    // --revision N shows that revision's template.
    let out = ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "history",
        "deployment/web",
        "--revision=2",
    ]));
    assert!(
        out.contains("with revision #2") && out.contains("nginx:1.26"),
        "{out}"
    );
    // -o yaml prints the ReplicaSets behind the revisions.
    let out = ok(kruise(&[
        "-n",
        kk_n,
        "rollout",
        "history",
        "deployment/web",
        "-o",
        "json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    assert_eq!(v["items"][0]["kind"], "ReplicaSet");
}

#[tokio::test]
async fn pause_resume_restart_match_kubectl() {
    let client = support::client_as("cli-pause").await;
    let kc_ns = TestNs::new(&client, "pause-kubectl").await;
    let ns = TestNs::new(&client, "pause-kruise").await;
    let (kc_api, api): (Api<Deployment>, Api<Deployment>) = (kc_ns.api(), ns.api());
    create(&kc_api, "web", "nginx:1.27").await;
    create(&api, "web", "nginx:1.27").await;
    let kc_n = kc_ns.name.as_str();
    let spec = |d: &Deployment| {
        let mut s = serde_json::to_value(d.spec.as_ref().unwrap()).unwrap();
        // Restart stamps differ by the second they were taken.
        if let Some(a) = s["template"]["metadata"]["annotations"].as_object_mut() {
            a.remove("kubectl.kubernetes.io/restartedAt");
        }
        s
    };

    ok(kubectl(&["-n", kc_n, "rollout", "pause", "deployment/web"]));
    let out = ok(kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "pause",
        "deployment/web",
    ]));
    assert_eq!(out.trim(), "deployment.apps/web paused");
    let (kc, kk) = (
        kc_api.get("web").await.unwrap(),
        api.get("web").await.unwrap(),
    );
    assert_eq!(kk.spec.as_ref().unwrap().paused, Some(true));
    assert_eq!(spec(&kk), spec(&kc));

    // Pausing again is an error in both; the object does not change.
    let rv = kk.resource_version();
    assert_eq!(
        kubectl(&["-n", kc_n, "rollout", "pause", "deployment/web"])
            .status
            .code(),
        Some(1)
    );
    let again = kruise(&["-n", &ns.name, "rollout", "pause", "deployment/web"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again).trim(),
        "error: deployments.apps \"web\" is already paused"
    );
    assert_eq!(api.get("web").await.unwrap().resource_version(), rv);
    // Restart of a paused deployment is refused, as in kubectl.
    let r = kruise(&["-n", &ns.name, "rollout", "restart", "deployment/web"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stderr(&r).contains("can't restart paused deployment"),
        "{}",
        stderr(&r)
    );

    ok(kubectl(&[
        "-n",
        kc_n,
        "rollout",
        "resume",
        "deployment/web",
    ]));
    assert_eq!(
        ok(kruise(&[
            "-n",
            &ns.name,
            "rollout",
            "resume",
            "deployment/web"
        ]))
        .trim(),
        "deployment.apps/web resumed"
    );
    let (kc, kk) = (
        kc_api.get("web").await.unwrap(),
        api.get("web").await.unwrap(),
    );
    assert_eq!(spec(&kk), spec(&kc));
    assert_ne!(kk.spec.as_ref().unwrap().paused, Some(true));

    ok(kubectl(&[
        "-n",
        kc_n,
        "rollout",
        "restart",
        "deployment/web",
    ]));
    assert_eq!(
        ok(kruise(&[
            "-n",
            &ns.name,
            "rollout",
            "restart",
            "deployment/web"
        ]))
        .trim(),
        "deployment.apps/web restarted"
    );
    let (kc, kk) = (
        rolled_out(&kc_api, "web").await,
        rolled_out(&api, "web").await,
    );
    assert_eq!(spec(&kk), spec(&kc));
    let stamp = |d: &Deployment| {
        d.spec
            .as_ref()
            .unwrap()
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap()["kubectl.kubernetes.io/restartedAt"]
            .clone()
    };
    let ours: k8s_openapi::jiff::Timestamp = stamp(&kk).parse().expect("RFC 3339 restartedAt");
    let theirs: k8s_openapi::jiff::Timestamp = stamp(&kc).parse().expect("RFC 3339 restartedAt");
    assert!(ours.duration_since(theirs).as_secs().abs() < 120);
    // Every pod was replaced: a new revision is rolled out.
    assert_eq!(kk.annotations()["deployment.kubernetes.io/revision"], "2");

    // Status of the finished rollout, and --dry-run leaves the object alone.
    let out = ok(kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/web",
        "--timeout=30s",
    ]));
    assert_eq!(out.trim(), "deployment \"web\" successfully rolled out");
    let rv = api.get("web").await.unwrap().resource_version();
    for mode in ["--dry-run=client", "--dry-run=server"] {
        let out = ok(kruise(&[
            "-n",
            &ns.name,
            "rollout",
            "pause",
            "deployment/web",
            mode,
        ]));
        assert!(
            out.contains("paused (") && out.contains("dry run)"),
            "{out}"
        );
    }
    assert_eq!(api.get("web").await.unwrap().resource_version(), rv);
}

#[tokio::test]
async fn status_waits_and_reports_timeouts_and_failures_with_exit_codes() {
    let client = support::client_as("cli-status").await;
    let ns = TestNs::new(&client, "status").await;
    let api: Api<Deployment> = ns.api();
    create(&api, "web", "nginx:1.27").await;

    // A rollout to an image that never starts: --timeout gives exit 3.
    ok(kubectl(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "deployment/web",
        "nginx=nginx:failed",
    ]));
    let out = kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/web",
        "--timeout=3s",
    ]);
    assert_eq!(out.status.code(), Some(3), "timeout exit code");
    assert!(
        stderr(&out).contains("timed out after 3s"),
        "{}",
        stderr(&out)
    );
    assert!(support::stdout(&out).contains("Waiting for deployment \"web\" rollout to finish"));

    // --watch=false prints the status once and exits 0 (as kubectl does).
    let out = ok(kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/web",
        "--watch=false",
    ]));
    assert_eq!(out.lines().count(), 1);

    // Progress deadline exceeded: exit 4.
    api.patch(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"progressDeadlineSeconds": 1}})),
    )
    .await
    .unwrap();
    wait_for(&api, "web", T, "ProgressDeadlineExceeded", |d| {
        d.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
            })
    })
    .await;
    let out = kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/web",
        "--timeout=30s",
    ]);
    assert_eq!(out.status.code(), Some(4), "failed rollout exit code");
    assert_eq!(
        stderr(&out).trim(),
        "error: deployment \"web\" exceeded its progress deadline"
    );

    // Rolling back lets the watch finish with exit 0. First give the deployment a normal
    // deadline again: the 1 s one would also apply to the rollback's own rollout, which a
    // loaded machine can miss.
    api.patch(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"progressDeadlineSeconds": 600}})),
    )
    .await
    .unwrap();
    ok(kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "undo",
        "deployment/web",
    ]));
    let out = ok(kruise(&[
        "-n",
        &ns.name,
        "rollout",
        "status",
        "deployment/web",
        "--timeout=60s",
    ]));
    assert!(
        out.ends_with("deployment \"web\" successfully rolled out\n"),
        "{out}"
    );
}

#[tokio::test]
async fn bad_input_is_one_clear_line_a_documented_exit_code_and_no_change() {
    let client = support::client_as("cli-bad").await;
    let ns = TestNs::new(&client, "bad").await;
    let api: Api<Deployment> = ns.api();
    create(&api, "web", "nginx:1.27").await;
    let rv = api.get("web").await.unwrap().resource_version();
    let n = ns.name.as_str();

    let cases: Vec<(Vec<&str>, i32, String)> = vec![
        (
            vec!["-n", n, "rollout", "pause", "frobnicator/web"],
            2,
            "unknown resource type \"frobnicator\"; known types:".into(),
        ),
        (
            vec!["-n", n, "rollout", "pause", "deployment/nope"],
            1,
            format!("deployments.apps \"nope\" not found in namespace \"{n}\""),
        ),
        (
            vec!["-n", "elsewhere", "rollout", "pause", "deployment/web"],
            1,
            "deployments.apps \"web\" not found in namespace \"elsewhere\"".into(),
        ),
        (
            vec![
                "-n",
                n,
                "rollout",
                "undo",
                "deployment/web",
                "--to-revision=42",
            ],
            1,
            "unable to find specified revision 42".into(),
        ),
        (
            vec!["-n", n, "rollout", "history", "deployment/web", "-o", "xml"],
            2,
            "invalid value 'xml' for '--output <FORMAT>'".into(),
        ),
        (
            vec!["-n", n, "rollout", "pause", "bcj/web"],
            2,
            "rollout pause does not support broadcastjobs.apps.kruise.io".into(),
        ),
        (
            vec!["-n", n, "rollout", "pause", "deployment"],
            2,
            "name of the deployment is required".into(),
        ),
        (
            vec![
                "-n",
                n,
                "rollout",
                "status",
                "deployment/web",
                "--timeout=soon",
            ],
            2,
            "invalid duration".into(),
        ),
    ];
    for (args, code, msg) in cases {
        let out = kruise(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(&msg), "{args:?}: expected {msg:?} in {err:?}");
        if code == 1 {
            assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
        }
    }

    // An unreachable cluster (nothing listens on port 1).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("kubeconfig");
    std::fs::write(&bad, "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n").unwrap();
    let out = kruise(&[
        "--kubeconfig",
        bad.to_str().unwrap(),
        "rollout",
        "pause",
        "deployment/web",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: cannot reach the cluster at https://127.0.0.1:1"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // A user without RBAC rights: forbidden, naming the user, verb and resource.
    let sas: Api<ServiceAccount> = ns.api();
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "viewer"}})).unwrap(),
    )
    .await
    .unwrap();
    let token = sas
        .create_token_request(
            "viewer",
            &PostParams::default(),
            &serde_json::from_value::<TokenRequest>(json!({"spec": {"audiences": []}})).unwrap(),
        )
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    let cfg = support::config_with_agent("x").await;
    let server = cfg.cluster_url.to_string();
    let ca = support::cluster_dir().join("pki/ca.crt");
    let out = kruise(&[
        "--server",
        server.trim_end_matches('/'),
        "--token",
        &token,
        "--certificate-authority",
        ca.to_str().unwrap(),
        "-n",
        n,
        "rollout",
        "pause",
        "deployment/web",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: forbidden: "), "{err}");
    assert!(
        err.contains(&format!("system:serviceaccount:{n}:viewer")) && err.contains("deployments"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    assert_eq!(
        api.get("web").await.unwrap().resource_version(),
        rv,
        "nothing changed"
    );
}

/// Scaling to 0 deletes every pod: asked first, refused without a terminal unless --yes
/// (nothing written); a dry run asks nothing.
#[tokio::test]
async fn scale_to_zero_asks_and_needs_yes_without_a_terminal() {
    let client = support::client_as("cli-scale-zero").await;
    let ns = TestNs::new(&client, "zero").await;
    let api: Api<Deployment> = ns.api();
    create(&api, "web", "nginx:1.27").await;
    let n = ns.name.as_str();
    let refused = kruise(&["-n", n, "scale", "deployment/web", "--replicas", "0"]);
    assert_eq!(refused.status.code(), Some(2));
    let why = stderr(&refused);
    assert!(
        why.contains("deployment/web") && why.contains("add --yes") && why.lines().count() == 1,
        "{why}"
    );
    assert_eq!(
        api.get("web").await.unwrap().spec.unwrap().replicas,
        Some(2)
    );
    ok(kruise(&[
        "-n",
        n,
        "scale",
        "deployment/web",
        "--replicas",
        "0",
        "--dry-run=client",
    ]));
    ok(kruise(&[
        "-n",
        n,
        "scale",
        "deployment/web",
        "--replicas",
        "0",
        "-y",
        "--no-wait",
    ]));
    assert_eq!(
        api.get("web").await.unwrap().spec.unwrap().replicas,
        Some(0)
    );
}

#[tokio::test]
async fn known_kinds_need_no_discovery_pause_takes_two_requests() {
    let client = support::client_as("cli-requests").await;
    let ns = TestNs::new(&client, "requests").await;
    let api: Api<Deployment> = ns.api();
    create(&api, "web", "nginx:1.27").await;
    let who = format!("counted-{}", support::random_suffix());
    ok(kruise(&[
        "--as",
        &who,
        "--as-group",
        "system:masters",
        "-n",
        &ns.name,
        "rollout",
        "pause",
        "deployment/web",
    ]));
    let reqs = support::audit::requests_as(&who);
    let seen = support::audit::describe(&reqs);
    assert!(reqs.len() <= 2, "at most 2 requests, saw:\n{seen}");
    assert_eq!(
        reqs.iter().map(|e| e.verb.as_str()).collect::<Vec<_>>(),
        ["get", "patch"],
        "{seen}"
    );
    assert!(
        reqs.iter().all(|e| !e.request_uri.starts_with("/api?")
            && e.request_uri != "/api"
            && !e.request_uri.starts_with("/apis?")
            && e.request_uri != "/apis"),
        "no discovery:\n{seen}"
    );
    assert!(
        reqs.iter()
            .all(|e| e.user_agent.starts_with("kubectl-kruise/v")),
        "our user agent:\n{seen}"
    );
}

#[test]
fn the_plugin_runs_through_real_kubectl() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-kruise"));
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(bin, dir.path().join("kubectl-kruise")).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let o = std::process::Command::new(support::kubectl_path())
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", support::kubeconfig_path())
            .output()
            .unwrap();
        eprintln!(
            "$ kubectl {}\n{}{}",
            args.join(" "),
            support::stdout(&o),
            stderr(&o)
        );
        o
    };
    let list = ok(run(&["plugin", "list"]));
    assert!(
        list.contains(&format!("{}/kubectl-kruise", dir.path().display())),
        "{list}"
    );
    let out = ok(run(&["kruise", "version"]));
    assert!(
        out.contains("Client Version: v") && out.contains("Server Version: v1.34.4"),
        "{out}"
    );
    let help = ok(run(&["kruise", "--help"]));
    assert!(help.contains("Usage: kubectl kruise"), "{help}");
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(["version", "--client", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "nothing on stderr: {}", stderr(&out));
}

/// Each command offers only the flags and values it honours: `rollout pause` writes and
/// returns, so it has no -w/--timeout/--no-wait; no command lists `-o wide` (none prints it).
/// Offered anyway, they are usage errors (exit 2) before anything is read or written.
#[test]
fn commands_offer_only_what_they_honour() {
    let help = stdout(&kruise(&["rollout", "pause", "--help"]));
    for flag in ["--no-wait", "--watch", "--timeout", "wide"] {
        assert!(!help.contains(flag), "pause --help offers {flag}:\n{help}");
    }
    let resume = stdout(&kruise(&["rollout", "resume", "--help"]));
    assert!(
        resume.contains("--no-wait") && resume.contains("--timeout"),
        "{resume}"
    );
    for args in [
        &["rollout", "pause", "cloneset/web", "-w"][..],
        &["rollout", "pause", "cloneset/web", "--timeout", "5s"],
        &["scale", "cloneset/web", "--replicas", "1", "-o", "wide"],
        &["version", "--client", "-o", "wide"],
    ] {
        let o = kruise(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}
