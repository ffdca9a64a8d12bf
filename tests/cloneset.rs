//! The CloneSet slice end to end on the local control plane, as a user runs it: the seed
//! scenario through the built binary with the embedded controller, a watcher recording the
//! worst moment of every update, kill -9 in the middle of a 50-pod update, two controllers at
//! once, the plan preview against the real order, and bad input that changes nothing.

#[path = "cloneset/cli.rs"]
mod cli;
#[path = "cloneset/events.rs"]
mod events;
#[path = "cloneset/features.rs"]
mod features;
#[path = "cloneset/fixes.rs"]
mod fixes;
#[path = "cloneset/outage.rs"]
mod outage;
mod support;
#[path = "cloneset/tree.rs"]
mod tree;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::{Value, json};
use support::recorder::Recorder;
use support::{TestNs, client_as, kubeconfig_path, stderr, stdout};
use tokio::sync::OnceCell;

const T: Duration = Duration::from_secs(120);

static CRDS: OnceCell<()> = OnceCell::const_new();

async fn crds() {
    CRDS.get_or_init(|| async {
        let o = run(&["crds", "install", "--force", "--yes"]).await;
        assert!(o.status.success(), "crds install: {}", stderr(&o));
    })
    .await;
}

/// Runs the built binary without blocking the test's runtime (watchers keep running).
async fn run(args: &[&str]) -> std::process::Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .await
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

async fn ok(args: &[&str]) -> String {
    let o = run(args).await;
    assert!(
        o.status.success(),
        "kubectl-kruise {} failed: {}",
        args.join(" "),
        stderr(&o)
    );
    stdout(&o)
}

/// Seed 000's YAML for `step` in namespace `ns`, with minReadySeconds shortened to 1 s.
fn seed(step: u8, ns: &str) -> CloneSet {
    let path = format!(
        "{}/tests/fixtures/seed-000/0{step}-ok.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: Value = serde_saphyr::from_str(&text).unwrap();
    v["metadata"]["namespace"] = json!(ns);
    if v["spec"].get("minReadySeconds").is_some() {
        v["spec"]["minReadySeconds"] = json!(1);
    }
    serde_json::from_value(v).unwrap()
}

fn image(p: &Pod) -> String {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

fn image_id(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map(|c| c.image_id.clone())
        .unwrap_or_default()
}

fn restarts(p: &Pod) -> i32 {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .map(|c| c.restart_count)
        .unwrap_or_default()
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn pods(api: &Api<Pod>, app: &str) -> Vec<Pod> {
    let mut v: Vec<Pod> = api
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    v.sort_by_key(|p| p.name_any());
    v
}

/// `controller run -n NS` in the background (optionally as another user).
/// `controller run` in the background, returned once it holds the namespace's CloneSet Lease
/// (a command run right after must find it driving, not race its start).
async fn spawn_controller(ns: &str, user: Option<&str>) -> tokio::process::Child {
    let child = spawn_controller_now(ns, user);
    let client = support::client().await;
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client, ns);
    for _ in 0..300 {
        let held = leases
            .get_opt("kubectl-kruise-cloneset")
            .await
            .ok()
            .flatten()
            .and_then(|l| l.spec?.holder_identity)
            .is_some_and(|h| !h.is_empty());
        if held {
            return child;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("controller run did not take the CloneSet Lease in 30 s");
}

fn spawn_controller_now(ns: &str, user: Option<&str>) -> tokio::process::Child {
    let mut args = vec![
        "-n".to_string(),
        ns.to_string(),
        "controller".into(),
        "run".into(),
    ];
    if let Some(u) = user {
        args.extend([
            "--as".into(),
            u.into(),
            "--as-group".into(),
            "system:masters".into(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    spawn(&args)
}

/// The built binary in the background, output piped, killed if the test drops it.
fn spawn(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn kubectl-kruise")
}

/// The pods a `--dry-run=client -o json` preview names for `action`, batch after batch.
fn planned(plan: &Value, action: &str) -> Vec<String> {
    plan["batches"]
        .as_array()
        .expect("a preview has batches")
        .iter()
        .flat_map(|b| b["actions"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["action"] == action)
        .map(|a| a["pod"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// SIGINT, then its output.
async fn stop(child: tokio::process::Child) -> std::process::Output {
    let pid = child.id().expect("running") as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let out = tokio::time::timeout(T, child.wait_with_output())
        .await
        .expect("exits")
        .expect("output");
    eprintln!(
        "controller run:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Items 1 and 2: the seed scenario with the embedded controller; a watcher records the worst
/// moment of every step, and a pod outside the CloneSet is never touched.
#[tokio::test]
async fn seed_scenario_with_the_embedded_controller() {
    crds().await;
    let client = client_as("cloneset-seed").await;
    let ns = TestNs::new(&client, "cs-seed").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    // A bystander with another app label, and one with the same label but no owner.
    for (name, app) in [("bystander", "other"), ("orphan", "nginxweb1-orphan")] {
        let p: Pod =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}))
            .unwrap();
        pod_api.create(&PostParams::default(), &p).await.unwrap();
    }
    let rec = Recorder::start(pod_api.clone(), "nginxweb1", 1).await;

    // 01: three Ready pods named nginxweb1-xxxxx.
    // `controller run` in the foreground until the pods are Ready, then Ctrl-C (SIGINT): it
    // finishes, releases its Lease and exits 0.
    sets.create(&PostParams::default(), &seed(1, n))
        .await
        .unwrap();
    let ctl = spawn_controller(n, None).await;
    support::wait_for(&sets, "nginxweb1", T, "3 ready", |c| {
        c.status
            .as_ref()
            .is_some_and(|s| s.ready_replicas == 3 && s.available_replicas == 3)
    })
    .await;
    let out = stop(ctl).await;
    assert!(
        out.status.success(),
        "controller run after SIGINT: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("lease released"), "{}", stderr(&out));
    let ps = pods(&pod_api, "nginxweb1").await;
    assert_eq!(ps.len(), 3);
    for p in &ps {
        let name = p.name_any();
        assert!(
            name.len() == 15
                && name[10..]
                    .chars()
                    .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)),
            "{name}"
        );
        assert!(is_ready(p), "{name} Ready");
        assert_eq!(
            p.labels()["apps.kruise.io/cloneset-instance-id"],
            &name[10..]
        );
        assert_eq!(p.labels()["lifecycle.apps.kruise.io/state"], "Normal");
    }

    // 02: scale to 5 under scaleStrategy.maxUnavailable 1: one new pod at a time.
    let mut two = seed(2, n);
    two.metadata.resource_version = sets
        .get("nginxweb1")
        .await
        .unwrap()
        .metadata
        .resource_version;
    let mut cur = sets.get("nginxweb1").await.unwrap();
    cur.spec.scale_strategy = two.spec.scale_strategy.clone();
    cur.spec.min_ready_seconds = two.spec.min_ready_seconds;
    sets.replace("nginxweb1", &PostParams::default(), &cur)
        .await
        .unwrap();
    // minReadySeconds just went from 0 to 1: pods Ready for less than a second count as
    // unavailable under it; start the window once they are past it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rec.reset();
    ok(&["-n", n, "scale", "cloneset/nginxweb1", "--replicas", "5"]).await;
    assert_eq!(pods(&pod_api, "nginxweb1").await.len(), 5);
    assert!(rec.now().max_unavailable <= 1, "{:?}", rec.now());

    // 03: --replicas 4 --delete-pod NAME removes exactly that pod.
    let before = pods(&pod_api, "nginxweb1").await;
    let victim = before[2].name_any();
    ok(&[
        "-n",
        n,
        "scale",
        "cloneset/nginxweb1",
        "--replicas",
        "4",
        "--delete-pod",
        &victim,
    ])
    .await;
    let after = pods(&pod_api, "nginxweb1").await;
    let uids = |v: &[Pod]| -> BTreeSet<String> { v.iter().map(|p| p.uid().unwrap()).collect() };
    let mut expected = uids(&before);
    expected.remove(&before[2].uid().unwrap());
    assert_eq!(uids(&after), expected, "exactly {victim} went");

    // 04: set image --inplace: names and UIDs kept, restartCount bumped, imageID changed.
    rec.reset();
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/nginxweb1",
        "nginx=nginx:latest",
        "--inplace",
    ])
    .await;
    let updated = pods(&pod_api, "nginxweb1").await;
    assert_eq!(uids(&updated), uids(&after));
    for (a, b) in after.iter().zip(&updated) {
        assert_eq!(a.name_any(), b.name_any());
        assert_eq!(image(b), "nginx:latest");
        assert_eq!(restarts(b), restarts(a) + 1);
        assert_ne!(image_id(a), image_id(b));
    }
    // maxUnavailable 20% of 4 rounds up to 1.
    assert!(rec.now().max_unavailable <= 1, "{:?}", rec.now());

    // 05: partition 2 leaves exactly two pods on the old image.
    let mut cur = sets.get("nginxweb1").await.unwrap();
    cur.spec.update_strategy.as_mut().unwrap().partition =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(2));
    sets.replace("nginxweb1", &PostParams::default(), &cur)
        .await
        .unwrap();
    let out = ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/nginxweb1",
        "nginx=nginx:1.20",
    ])
    .await;
    assert!(out.contains("image updated"), "{out}");
    let last = pods(&pod_api, "nginxweb1").await;
    assert_eq!(
        last.iter().filter(|p| image(p) == "nginx:latest").count(),
        2
    );
    assert_eq!(last.iter().filter(|p| image(p) == "nginx:1.20").count(), 2);
    assert_eq!(uids(&last), uids(&after), "in place: no pod recreated");
    let status = ok(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/nginxweb1",
        "--watch=false",
    ])
    .await;
    assert!(status.contains("2 of 4 pods updated"), "{status}");

    let deleted = rec.finish().await.deleted;
    for name in ["bystander", "orphan"] {
        let p = pod_api.get(name).await.unwrap();
        let managers: Vec<String> = p
            .managed_fields()
            .iter()
            .filter_map(|m| m.manager.clone())
            .collect();
        assert!(
            !managers.iter().any(|m| m == "kubectl-kruise"),
            "{name} was written by kubectl-kruise: {managers:?}"
        );
    }
    assert_eq!(
        deleted,
        vec![victim],
        "only the chosen pod was ever deleted"
    );
}

/// Item 7: the preview of the seed's `set image --inplace` lists the pods in the order they are
/// then really updated, and writes nothing.
#[tokio::test]
async fn dry_run_preview_matches_the_real_order_and_changes_nothing() {
    crds().await;
    let client = client_as("cloneset-preview").await;
    let ns = TestNs::new(&client, "cs-preview").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let mut cs = seed(4, n);
    cs.spec.template.0["spec"]["containers"][0]["image"] = json!("nginx:1.20");
    sets.create(&PostParams::default(), &cs).await.unwrap();
    ok(&["-n", n, "scale", "cloneset/nginxweb1", "--replicas", "4"]).await;
    let rvs =
        |v: &[Pod]| -> Vec<String> { v.iter().map(|p| p.resource_version().unwrap()).collect() };
    let before = pods(&pod_api, "nginxweb1").await;
    let cs_rv = sets.get("nginxweb1").await.unwrap().resource_version();
    let plan = ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/nginxweb1",
        "nginx=nginx:latest",
        "--inplace",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let planned = planned(&plan, "updateInPlace");
    assert_eq!(planned.len(), 4, "{plan}");
    assert_eq!(
        sets.get("nginxweb1").await.unwrap().resource_version(),
        cs_rv,
        "the CloneSet is unchanged"
    );
    assert_eq!(
        rvs(&pods(&pod_api, "nginxweb1").await),
        rvs(&before),
        "no pod changed"
    );

    let rec = Recorder::start(pod_api.clone(), "nginxweb1", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/nginxweb1",
        "nginx=nginx:latest",
        "--inplace",
    ])
    .await;
    let real = rec.finish().await.updated_order;
    let mut seen = Vec::new();
    for p in real {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    assert_eq!(seen, planned, "the preview's order is the real order");
}

/// Item 9: bad input is refused with one clear line and changes nothing.
#[tokio::test]
async fn bad_input_changes_nothing() {
    crds().await;
    let client = client_as("cloneset-bad").await;
    let ns = TestNs::new(&client, "cs-bad").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    sets.create(&PostParams::default(), &seed(1, n))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/nginxweb1", "--replicas", "2"]).await;
    let foreign: Pod = serde_json::from_value(
        json!({"metadata": {"name": "stranger", "labels": {"app": "nginxweb1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}),
    )
    .unwrap();
    pod_api
        .create(&PostParams::default(), &foreign)
        .await
        .unwrap();
    // The template now differs from what the pods run in more than an image.
    let mut cs = sets.get("nginxweb1").await.unwrap();
    cs.spec.update_strategy = Some(Default::default());
    cs.spec.update_strategy.as_mut().unwrap().paused = Some(true);
    cs.spec.template.0["spec"]["containers"][0]["env"] = json!([{"name": "MODE", "value": "x"}]);
    sets.replace("nginxweb1", &PostParams::default(), &cs)
        .await
        .unwrap();
    let rv = sets.get("nginxweb1").await.unwrap().resource_version();

    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "scale",
                "cloneset/nginxweb1",
                "--replicas",
                "1",
                "--delete-pod",
                "stranger",
            ],
            "is not a pod of cloneset \"nginxweb1\"",
        ),
        (
            &[
                "scale",
                "cloneset/nginxweb1",
                "--replicas",
                "1",
                "--delete-pod",
                "nope",
            ],
            "not found",
        ),
        (
            &["scale", "cloneset/nginxweb1", "--replicas=-1"],
            "--replicas must be",
        ),
        (
            &["set", "image", "cloneset/nginxweb1", "nginz=nginx:2"],
            "container \"nginz\" not found",
        ),
        (
            &[
                "set",
                "image",
                "cloneset/nginxweb1",
                "nginx=nginx:2",
                "--inplace",
            ],
            "cannot update cloneset \"nginxweb1\" in place",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["-n", n];
        full.extend_from_slice(args);
        let o = run(&full).await;
        assert!(!o.status.success(), "{args:?} must fail");
        let err = stderr(&o);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(
            sets.get("nginxweb1").await.unwrap().resource_version(),
            rv,
            "{args:?} changed the CloneSet"
        );
    }
    assert!(
        pod_api
            .get("stranger")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_none()
    );
}

fn cloneset(ns: &str, name: &str, replicas: i32, image: &str, max_unavailable: i32) -> CloneSet {
    serde_json::from_value(json!({
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": max_unavailable},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": image}]}}
        }
    }))
    .unwrap()
}

fn all_at(c: &CloneSet, want: i32) -> bool {
    c.status.as_ref().is_some_and(|s| {
        s.observed_generation >= c.metadata.generation.unwrap_or(0)
            && s.replicas == want
            && s.updated_replicas == want
            && s.available_replicas == want
    })
}

/// Item 3: kill -9 of `controller run` in the middle of a 50-pod in-place update; a second one
/// takes over within the Lease duration and converges with no pod deleted and no extra pod.
#[tokio::test]
async fn kill_9_mid_update_then_a_new_controller_converges() {
    crds().await;
    let client = client_as("cloneset-kill").await;
    let ns = TestNs::new(&client, "cs-kill").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    sets.create(&PostParams::default(), &cloneset(n, "big", 50, "app:1", 5))
        .await
        .unwrap();
    let mut first = spawn_controller(n, None).await;
    support::wait_for(&sets, "big", T, "50 available", |c| all_at(c, 50)).await;
    let before: BTreeSet<String> = pods(&pod_api, "big")
        .await
        .iter()
        .map(|p| p.uid().unwrap())
        .collect();
    assert_eq!(before.len(), 50);
    // minReadySeconds 1 makes each batch of 5 wait a second, so the update lasts long enough
    // to be killed in the middle whatever the machine's speed.
    sets.patch(
        "big",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"minReadySeconds": 1}})),
    )
    .await
    .unwrap();
    let rec = Recorder::start(pod_api.clone(), "big", 1).await;

    // A command finding a live embedded controller writes and says who drives.
    let o = run(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/big",
        "main=app:2",
        "--inplace",
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is reconciled by the embedded controller of process"),
        "{}",
        stderr(&o)
    );

    // The pods themselves, not the (coalesced) status: kill once 10 of 50 are updated.
    let deadline = std::time::Instant::now() + T;
    while rec.now().updated_order.len() < 10 {
        assert!(std::time::Instant::now() < deadline, "{:?}", rec.now());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rec.now().updated_order.len() < 50, "killed mid-update");
    first.start_kill().unwrap(); // SIGKILL: no chance to release the Lease.
    let _ = first.wait().await;
    let killed_at = std::time::Instant::now();

    let second = spawn_controller(n, None).await;
    let done = support::wait_for(&sets, "big", T, "all 50 updated", |c| all_at(c, 50)).await;
    let took = killed_at.elapsed();
    let out = stop(second).await;
    assert!(
        stderr(&out).contains("standby:"),
        "the second controller waited for the Lease"
    );
    assert!(
        took < Duration::from_secs(15 + 30),
        "took over and finished in {took:?}"
    );
    let seen = rec.finish().await;

    let after = pods(&pod_api, "big").await;
    let uids: BTreeSet<String> = after.iter().map(|p| p.uid().unwrap()).collect();
    assert_eq!(
        uids, before,
        "in place: the same 50 pods, none deleted, none extra"
    );
    assert!(
        after
            .iter()
            .all(|p| image(p) == "app:2" && restarts(p) == 1),
        "each pod updated exactly once"
    );
    assert!(seen.deleted.is_empty(), "{:?}", seen.deleted);
    assert!(seen.created.is_empty(), "{:?}", seen.created);
    assert_eq!(done.status.unwrap().ready_replicas, 50);
}

/// Item 4: two `controller run` at once on one namespace: exactly one acts.
#[tokio::test]
async fn two_controllers_exactly_one_acts() {
    crds().await;
    let client = client_as("cloneset-two").await;
    let ns = TestNs::new(&client, "cs-two").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let a_user = format!("ctl-a-{}", support::random_suffix());
    let b_user = format!("ctl-b-{}", support::random_suffix());
    let a = spawn_controller(n, Some(&a_user)).await;
    let b = spawn_controller(n, Some(&b_user)).await;
    sets.create(&PostParams::default(), &cloneset(n, "pair", 6, "app:1", 2))
        .await
        .unwrap();
    support::wait_for(&sets, "pair", T, "6 available", |c| all_at(c, 6)).await;
    let mut c = sets.get("pair").await.unwrap();
    c.spec.template.0["spec"]["containers"][0]["image"] = json!("app:2");
    sets.replace("pair", &PostParams::default(), &c)
        .await
        .unwrap();
    support::wait_for(&sets, "pair", T, "6 updated", |c| all_at(c, 6)).await;
    let (oa, ob) = (stop(a).await, stop(b).await);
    let writes = |user: &str| {
        support::audit::requests_as(user)
            .into_iter()
            .filter(|e| {
                e.request_uri.contains("/pods")
                    && ["create", "update", "patch", "delete"].contains(&e.verb.as_str())
            })
            .count()
    };
    let (wa, wb) = (writes(&a_user), writes(&b_user));
    assert!(
        (wa > 0) != (wb > 0),
        "exactly one controller wrote pods: a={wa} b={wb}"
    );
    let standby = if wa > 0 { stderr(&ob) } else { stderr(&oa) };
    assert!(
        standby.contains("standby:") && standby.contains("on host"),
        "{standby}"
    );
}
