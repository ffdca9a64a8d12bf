//! `kubectl-kruise` on a CloneSet as a user runs it (the built binary): `rollout
//! pause|resume|restart|history|undo|status`, `--dry-run=client` on scale/undo/restart/resume
//! (changes nothing), `--no-wait` (writes only), `--timeout` (exit 3), exit 4 for a release
//! that exceeds its progress deadline, and `-w` when another controller drives.

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::{Value, json};

use super::fixes::{cs, images, patch_spec, uids};
use super::support::{TestNs, client_as, stderr, stdout};
use super::{all_at, crds, ok, planned, pods, run, spawn, spawn_controller, stop};

/// The resourceVersions of the CloneSet and of its pods: what a command that must change
/// nothing must leave as it found.
async fn versions(sets: &Api<CloneSet>, pod_api: &Api<Pod>, name: &str) -> Vec<String> {
    let mut v = vec![sets.get(name).await.unwrap().resource_version().unwrap()];
    v.extend(
        pods(pod_api, name)
            .await
            .iter()
            .map(|p| p.resource_version().unwrap()),
    );
    v
}

fn revisions_listed(history: &str) -> Vec<String> {
    history
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .map(String::from)
        .collect()
}

/// history, undo (and its preview), pause/resume (and resume's preview), restart (preview
/// and --no-wait), status --timeout.
#[tokio::test]
async fn rollout_history_undo_pause_resume_restart() {
    crds().await;
    let client = client_as("cloneset-cli").await;
    let ns = TestNs::new(&client, "cs-cli").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "web", spec))
        .await
        .unwrap();
    // Driving commands end with the CloneSet at rest (no operator, no other controller).
    ok(&["-n", n, "scale", "cloneset/web", "--replicas", "2"]).await;
    let first = pods(&pod_api, "web").await;
    assert_eq!(first.len(), 2);
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/web",
        "main=busybox:2",
        "--inplace",
    ])
    .await;
    let second = pods(&pod_api, "web").await;
    assert!(second.iter().all(|p| images(p) == ["busybox:2"]));
    assert_eq!(uids(&second), uids(&first));

    let history = ok(&["-n", n, "rollout", "history", "cloneset/web"]).await;
    assert_eq!(revisions_listed(&history), ["1", "2"], "{history}");

    // undo --dry-run=client: a plan, nothing written.
    let before = versions(&sets, &pod_api, "web").await;
    let plan = ok(&[
        "-n",
        n,
        "rollout",
        "undo",
        "cloneset/web",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(planned(&plan, "updateInPlace").len(), 2, "{plan}");
    assert_eq!(versions(&sets, &pod_api, "web").await, before);

    // undo: back to busybox:1, in place.
    let out = ok(&["-n", n, "rollout", "undo", "cloneset/web"]).await;
    assert!(out.contains("rolled back"), "{out}");
    let third = pods(&pod_api, "web").await;
    assert!(third.iter().all(|p| images(p) == ["busybox:1"]));
    assert_eq!(uids(&third), uids(&first));
    let history = ok(&["-n", n, "rollout", "history", "cloneset/web"]).await;
    assert_eq!(
        revisions_listed(&history),
        ["2", "3"],
        "the old revision renumbered: {history}"
    );

    // pause, pause again (refused, nothing changes), resume --dry-run, resume.
    let out = ok(&["-n", n, "rollout", "pause", "cloneset/web"]).await;
    assert_eq!(out.trim(), "cloneset.apps.kruise.io/web paused");
    let rv = sets.get("web").await.unwrap().resource_version();
    let again = run(&["-n", n, "rollout", "pause", "cloneset/web"]).await;
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert_eq!(sets.get("web").await.unwrap().resource_version(), rv);
    ok(&[
        "-n",
        n,
        "rollout",
        "resume",
        "cloneset/web",
        "--dry-run=client",
    ])
    .await;
    let paused = |c: &CloneSet| {
        c.spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.paused)
            .unwrap_or(false)
    };
    assert!(
        paused(&sets.get("web").await.unwrap()),
        "dry run: still paused"
    );
    let out = ok(&["-n", n, "rollout", "resume", "cloneset/web"]).await;
    assert!(out.contains("resumed"), "{out}");
    assert!(!paused(&sets.get("web").await.unwrap()));

    // restart --dry-run=client: pods to be created shown as new, nothing written.
    let before = versions(&sets, &pod_api, "web").await;
    let plan = ok(&[
        "-n",
        n,
        "rollout",
        "restart",
        "cloneset/web",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    assert!(plan.contains("<new 1>"), "{plan}");
    assert_eq!(versions(&sets, &pod_api, "web").await, before);

    // restart --no-wait: the template changes, no pod does, and it says how to go on.
    let o = run(&["-n", n, "rollout", "restart", "cloneset/web", "--no-wait"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("controller run") || stdout(&o).contains("controller run"),
        "says how to reconcile later: {}",
        stderr(&o)
    );
    let c = sets.get("web").await.unwrap();
    assert!(
        c.spec.template.0["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/restartedAt")
            .is_some(),
        "{:?}",
        c.spec.template.0["metadata"]
    );
    assert_eq!(uids(&pods(&pod_api, "web").await), uids(&first));

    // status with nobody reconciling: --timeout gives exit 3.
    let started = std::time::Instant::now();
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/web",
        "--timeout",
        "2s",
    ])
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// scale --dry-run=client writes nothing; a driven release past its progress deadline exits 4;
/// with another controller driving, `-w` watches to rest.
#[tokio::test]
async fn scale_preview_exit_4_and_watch() {
    crds().await;
    let client = client_as("cloneset-cli-2").await;
    let ns = TestNs::new(&client, "cs-cli2").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"replicas": 2, "progressDeadlineSeconds": 3,
        "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "app", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/app", "--replicas", "2"]).await;

    let before = versions(&sets, &pod_api, "app").await;
    let plan = ok(&[
        "-n",
        n,
        "scale",
        "cloneset/app",
        "--replicas",
        "4",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(planned(&plan, "create").len(), 2, "{plan}");
    assert_eq!(versions(&sets, &pod_api, "app").await, before);

    // An image that never starts: the driven release exceeds its deadline, exit 4.
    let o = run(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/app",
        "main=busybox:failed",
        "--timeout",
        "90s",
    ])
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));

    // Another controller drives; -w watches until the CloneSet rests.
    let ctl = spawn_controller(n, None).await;
    patch_spec(&sets, "app", json!({"progressDeadlineSeconds": null})).await;
    let o = run(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/app",
        "main=busybox:3",
        "-w",
        "--timeout",
        "90s",
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("reconciled by the embedded controller of process"),
        "{}",
        stderr(&o)
    );
    let c = sets.get("app").await.unwrap();
    assert!(all_at(&c, 2), "at rest when -w returns: {:?}", c.status);
    assert!(
        pods(&pod_api, "app")
            .await
            .iter()
            .all(|p| images(p) == ["busybox:3"])
    );
    let _ = stop(ctl).await;
}

/// With `-o name|json`, a driving command's stdout is exactly what `-o` asked for: the
/// progress and the resting line go to stderr (kubectl's convention), so `| jq` works.
#[tokio::test]
async fn output_formats_keep_stdout_clean_while_driving() {
    crds().await;
    let client = client_as("cloneset-cli-o").await;
    let ns = TestNs::new(&client, "cs-cli-o").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({"replicas": 1, "updateStrategy": {"type": "InPlaceIfPossible"}});
    sets.create(&PostParams::default(), &cs(n, "out", spec))
        .await
        .unwrap();
    let o = run(&[
        "-n",
        n,
        "scale",
        "cloneset/out",
        "--replicas",
        "2",
        "-o",
        "name",
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "cloneset.apps.kruise.io/out\n",
        "stdout is the name only"
    );
    assert!(
        stderr(&o).contains("rolled out"),
        "the outcome is on stderr"
    );
    let o = run(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/out",
        "main=busybox:2",
        "-o",
        "json",
    ])
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}): {}", stdout(&o)));
    assert_eq!(v["kind"], "CloneSet");
    assert!(all_at(&sets.get("out").await.unwrap(), 2));
}

/// SIGINT during a driving command: the write in flight is finished, the Lease released, and
/// the command exits 130 as kubectl does; the CloneSet is left consistent, and another
/// controller finishes the release from the cluster's state alone.
#[tokio::test]
async fn sigint_during_a_driving_command_exits_130() {
    crds().await;
    let client = client_as("cloneset-cli-int").await;
    let ns = TestNs::new(&client, "cs-cli-int").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"replicas": 4, "minReadySeconds": 2,
        "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "int", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/int", "--replicas", "4"]).await;
    let before = pods(&pod_api, "int").await;
    let rec = super::support::recorder::Recorder::start(pod_api.clone(), "int", 2).await;
    let child = spawn(&["-n", n, "set", "image", "cloneset/int", "main=busybox:2"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while rec.now().updated_order.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no pod updated");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let out = stop(child).await;
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("controller run"),
        "says how to go on: {}",
        stderr(&out)
    );
    assert!(rec.now().updated_order.len() < 4, "interrupted mid-update");
    // Nobody holds the Lease any more: a new controller takes over at once and finishes.
    let ctl = spawn_controller(n, None).await;
    super::support::wait_for(&sets, "int", super::T, "4 updated", |c| all_at(c, 4)).await;
    let out = stop(ctl).await;
    assert!(!stderr(&out).contains("standby:"), "{}", stderr(&out));
    let after = pods(&pod_api, "int").await;
    assert_eq!(uids(&after), uids(&before));
    assert!(after.iter().all(|p| images(p) == ["busybox:2"]));
    let seen = rec.finish().await;
    assert!(seen.max_unavailable <= 1, "{seen:?}");
}

/// A new pod that cannot start (its image cannot be pulled) ends a driving command with exit
/// 4 naming the pod, the reason and the way back, with no --timeout and no progress deadline:
/// it used to wait forever. `rollout undo` then brings every pod back.
#[tokio::test]
async fn a_failing_image_ends_the_wait_with_exit_4_naming_the_pod() {
    crds().await;
    let client = client_as("cloneset-cli-stuck").await;
    let ns = TestNs::new(&client, "cs-cli-stuck").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "stuck", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/stuck", "--replicas", "2"]).await;
    let child = spawn(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/stuck",
        "main=busybox:failed",
    ]);
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the command ends by itself, without --timeout")
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    let stuck = pods(&pod_api, "stuck")
        .await
        .into_iter()
        .find(|p| images(p) == ["busybox:failed"])
        .expect("one pod on the failing image");
    assert!(
        err.contains(&stuck.name_any())
            && err.contains("ErrImagePull")
            && err.contains("rollout undo"),
        "names the pod, the reason and the way back: {err}"
    );
    ok(&["-n", n, "rollout", "undo", "cloneset/stuck"]).await;
    assert!(
        pods(&pod_api, "stuck")
            .await
            .iter()
            .all(|p| images(p) == ["busybox:1"])
    );
}

/// When another controller drives the CloneSet, `-w` watches; a new pod that cannot start
/// ends that wait too (exit 4, naming the pod), without `--timeout`.
#[tokio::test]
async fn watching_a_change_another_controller_drives_ends_on_a_stuck_pod() {
    crds().await;
    let client = client_as("cloneset-cli-stuck-w").await;
    let ns = TestNs::new(&client, "cs-cli-stuck-w").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "stuckw", spec))
        .await
        .unwrap();
    let controller = spawn_controller(n, None).await;
    super::support::wait_for(&sets, "stuckw", super::T, "2 available", |c| all_at(c, 2)).await;
    let child = spawn(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/stuckw",
        "main=busybox:failed",
        "-w",
    ]);
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the watch ends by itself, without --timeout")
        .unwrap();
    stop(controller).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("is reconciled by the embedded controller of")
            && err.contains("stuckw-")
            && err.contains("ErrImagePull")
            && err.contains("rollout undo cloneset/stuckw"),
        "says who drives, names the pod, the reason and the way back: {err}"
    );
}

/// Paused is not rolled out: `rollout status --watch=false` on a CloneSet paused with updates
/// pending exits 5 (stdout empty), watching waits for a resume (here: until --timeout, exit 3)
/// unless `--until-paused` (exit 0); a change driven on a paused CloneSet still returns.
#[tokio::test]
async fn rollout_status_of_a_paused_cloneset_is_not_success() {
    crds().await;
    let client = client_as("cloneset-cli-paused").await;
    let ns = TestNs::new(&client, "cs-cli-paused").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "InPlaceIfPossible"}});
    sets.create(&PostParams::default(), &cs(n, "held", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/held", "--replicas", "2"]).await;
    ok(&["-n", n, "rollout", "pause", "cloneset/held"]).await;
    let o = run(&["-n", n, "set", "image", "cloneset/held", "main=busybox:2"]).await;
    assert!(
        o.status.success(),
        "a driven change rests at the pause: {}",
        stderr(&o)
    );
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/held",
        "--watch=false",
    ])
    .await;
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("is paused with 0 of 2 pods updated"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/held",
        "--timeout",
        "2s",
    ])
    .await;
    assert_eq!(
        o.status.code(),
        Some(3),
        "watching waits for a resume: {}",
        stderr(&o)
    );
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/held",
        "--until-paused",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("is paused"), "{}", stdout(&o));
    ok(&["-n", n, "rollout", "resume", "cloneset/held"]).await;
    let o = run(&[
        "-n",
        n,
        "rollout",
        "status",
        "cloneset/held",
        "--watch=false",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("successfully rolled out"),
        "{}",
        stdout(&o)
    );
}
