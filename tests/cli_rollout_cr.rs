//! `kubectl kruise rollout …` on a Kruise Rollout (`rollout/NAME`), as a user runs it: the
//! built binary against the local cluster. No Rollout controller runs here: the statuses are
//! written by hand through the status subresource, as the controller would write them, and
//! the commands run with `--no-wait` (or against a stand-in operator Lease) so that only what
//! the command itself writes is judged.

mod support;

use std::process::{Output, Stdio};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubectl_kruise::api::Rollout;
use serde_json::{Value, json};
use support::{TestNs, kubectl, ok, stderr, stdout, wait_list};

/// A namespace of this file's tests, with its Deployment `web` (10 replicas) and Rollout `web`
/// (1 pod with 5 % traffic and a pause for approval; 50 % with a 30 s pause; 100 %).
struct Fixture {
    ns: TestNs,
    rollouts: Api<Rollout>,
}

impl Fixture {
    async fn new(test: &str) -> Fixture {
        Self::with_strategy(test, json!({"canary": {"steps": default_steps()}})).await
    }

    async fn with_strategy(test: &str, strategy: Value) -> Fixture {
        let client = support::client_as(test).await;
        let ns = TestNs::new(&client, &format!("cmd-{test}")).await;
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 10, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}
        }))
        .unwrap();
        ns.api::<Deployment>()
            .create(&PostParams::default(), &d)
            .await
            .unwrap();
        let ro: Rollout = serde_json::from_value(json!({
            "apiVersion": "rollouts.kruise.io/v1beta1", "kind": "Rollout",
            "metadata": {"name": "web"},
            "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "strategy": strategy}
        }))
        .unwrap();
        let rollouts: Api<Rollout> = ns.api();
        rollouts.create(&PostParams::default(), &ro).await.unwrap();
        Fixture { ns, rollouts }
    }

    fn n(&self) -> &str {
        &self.ns.name
    }

    async fn get(&self) -> Rollout {
        self.rollouts.get("web").await.unwrap()
    }

    /// Writes `status` through the status subresource (merged into what is there).
    async fn set_status(&self, status: Value) -> Rollout {
        let g = self.get().await.metadata.generation.unwrap_or(1);
        let mut status = status;
        if status.get("observedGeneration").is_none() {
            status["observedGeneration"] = json!(g);
        }
        self.rollouts
            .patch_status(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": status})),
            )
            .await
            .unwrap()
    }

    /// A canary release at step `index` in `state`.
    async fn at(&self, index: i32, state: &str) -> Rollout {
        self.set_status(in_release(index, state)).await
    }

    /// The plugin in this namespace, with the operators looked for here (none runs).
    fn kruise(&self, args: &[&str]) -> Output {
        let mut a = vec!["-n", self.n()];
        a.extend_from_slice(args);
        support::kruise_env(&a, &self.env())
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("KUBECTL_KRUISE_ROLLOUT_NAMESPACE", self.n()),
            ("KUBECTL_KRUISE_OPENKRUISE_NAMESPACE", self.n()),
        ]
    }

    fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
            .args(["-n", self.n()])
            .args(args)
            .env("KUBECONFIG", support::kubeconfig_path())
            .envs(self.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn kubectl-kruise")
    }

    /// A leader Lease named `name`, renewed just now by `holder`.
    async fn lease(&self, name: &str, holder: &str) {
        let now = k8s_openapi::jiff::Timestamp::now();
        let lease: Lease = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 60,
                     "renewTime": now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()}
        }))
        .unwrap();
        self.ns
            .api::<Lease>()
            .create(&PostParams::default(), &lease)
            .await
            .unwrap();
    }
}

fn default_steps() -> Value {
    json!([
        {"replicas": 1, "traffic": "5%", "pause": {}},
        {"replicas": "50%", "traffic": "50%", "pause": {"duration": 30}},
        {"replicas": "100%", "pause": {}}
    ])
}

fn in_release(index: i32, state: &str) -> Value {
    json!({
        "phase": "Progressing", "message": "Rollout is in Progressing",
        "currentStepIndex": index, "currentStepState": state,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "InRolling",
                        "message": "Rollout is in Progressing"}],
        "canaryStatus": {"currentStepIndex": index, "currentStepState": state,
            "nextStepIndex": index + 1, "podTemplateHash": "", "finalisingStep": "",
            "stableRevision": "stable1", "canaryRevision": "canary1",
            "canaryReplicas": 1, "canaryReadyReplicas": 1}
    })
}

fn healthy(conditions: Value) -> Value {
    json!({"phase": "Healthy", "message": "rollout is healthy", "conditions": conditions,
           "currentStepIndex": 3, "currentStepState": "Completed",
           "canaryStatus": {"currentStepIndex": 3, "currentStepState": "Completed",
               "nextStepIndex": -1, "podTemplateHash": "", "finalisingStep": "END",
               "canaryRevision": "canary1", "canaryReplicas": 10, "canaryReadyReplicas": 10}})
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn sub_state(ro: &Rollout) -> (i32, String, String) {
    let st = ro.status.clone().unwrap_or_default();
    let c = st.canary_status.unwrap_or_default();
    (
        c.common.current_step_index,
        c.common.current_step_state,
        st.current_step_state,
    )
}

#[tokio::test]
async fn approve_moves_the_paused_step_to_ready_with_one_guarded_status_write() {
    let f = Fixture::new("approve").await;
    f.at(1, "StepPaused").await;
    let who = format!("cmd-approver-{}", support::random_suffix());
    let out = f.kruise(&[
        "--as",
        &who,
        "--as-group",
        "system:masters",
        "rollout",
        "approve",
        "rollout/web",
        "--no-wait",
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "rollout.rollouts.kruise.io/web approved"
    );
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no controller is running"),
        "{}",
        stderr(&out)
    );
    let ro = f.get().await;
    assert_eq!(
        sub_state(&ro),
        (1, "StepReady".into(), "StepReady".into()),
        "the sub-status and its top-level mirror, the step unchanged"
    );
    assert_eq!(ro.status.as_ref().unwrap().current_step_index, 1);

    let reqs = support::audit::requests_as(&who);
    let seen = support::audit::describe(&reqs);
    let on_rollouts: Vec<_> = reqs
        .iter()
        .filter(|e| {
            e.object_ref
                .as_ref()
                .is_some_and(|o| o.resource == "rollouts")
        })
        .collect();
    assert_eq!(
        on_rollouts
            .iter()
            .map(|e| (
                e.verb.as_str(),
                e.object_ref.as_ref().unwrap().subresource.as_str()
            ))
            .collect::<Vec<_>>(),
        [("get", ""), ("patch", "status")],
        "one read and one status write:\n{seen}"
    );
    // The rest is who-drives-it: the operator's Deployment and Lease, the embedded Lease.
    assert!(reqs.len() <= 5, "at most 5 requests:\n{seen}");
    assert!(
        reqs.iter()
            .filter(|e| e
                .object_ref
                .as_ref()
                .is_none_or(|o| o.resource != "rollouts"))
            .all(|e| e.verb == "get"
                && e.object_ref
                    .as_ref()
                    .is_some_and(|o| o.resource == "leases" || o.resource == "deployments")),
        "only detection besides:\n{seen}"
    );

    // -o name / json: the same write, printed as asked.
    f.at(1, "StepPaused").await;
    let out = f.kruise(&["rollout", "approve", "ro/web", "--no-wait", "-o", "json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(v["status"]["canaryStatus"]["currentStepState"], "StepReady");
}

#[tokio::test]
async fn approve_refuses_what_does_not_wait_and_writes_nothing() {
    let f = Fixture::new("approve-refused").await;
    let before = f.at(1, "StepUpgrade").await;
    let out = f.kruise(&["rollout", "approve", "rollout/web", "--no-wait"]);
    assert_eq!(code(&out), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: rollout \"web\" is not waiting for approval: step 1/3 is StepUpgrade"
    );
    assert!(stdout(&out).is_empty());
    assert_eq!(
        f.get().await.resource_version(),
        before.resource_version(),
        "nothing written"
    );

    let before = f.set_status(healthy(json!([]))).await;
    let out = f.kruise(&["rollout", "approve", "rollout/web"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).contains("is not waiting for approval: no release in progress"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.get().await.resource_version(), before.resource_version());

    // Workloads cannot be approved: a usage error before any request.
    let out = f.kruise(&["rollout", "approve", "deployment/web"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("approving is not supported for deployments.apps; only rollout/NAME"),
        "{}",
        stderr(&out)
    );
    let out = f.kruise(&["rollout", "restart", "rollout/web"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
}

/// Two approvals at once: one writes, the other finds the step approved (or its write refused
/// as stale, and then the step approved) and exits 1. Several rounds, to meet the race.
#[tokio::test]
async fn two_approves_at_once_advance_exactly_one_step() {
    let f = Fixture::new("approve-race").await;
    for round in 0..5 {
        f.at(1, "StepPaused").await;
        let a = f.spawn(&["rollout", "approve", "rollout/web", "--no-wait"]);
        let b = f.spawn(&["rollout", "approve", "rollout/web", "--no-wait"]);
        let (a, b) = tokio::join!(a.wait_with_output(), b.wait_with_output());
        let outs = [a.unwrap(), b.unwrap()];
        for o in &outs {
            eprintln!(
                "round {round}: exit {:?}\n{}{}",
                o.status.code(),
                stdout(o),
                stderr(o)
            );
        }
        let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(won.len(), 1, "round {round}: exactly one approve succeeds");
        let lost = outs.iter().find(|o| !o.status.success()).unwrap();
        assert_eq!(code(lost), Some(1));
        let e = stderr(lost);
        assert!(
            e.contains("already approved") || e.contains("moved by someone else"),
            "round {round}: {e}"
        );
        assert!(!e.contains("panicked"), "{e}");
        assert_eq!(sub_state(&f.get().await).1, "StepReady");
    }
}

/// A writer that keeps changing the Rollout (as a controller would) makes the approve's
/// resourceVersion stale: it reads again and, the step still paused, writes once more.
// The churn runs on another worker while the command blocks this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_approve_is_read_again_and_retried_while_the_step_still_waits() {
    let f = Fixture::new("approve-retry").await;
    f.at(1, "StepPaused").await;
    let rollouts = f.rollouts.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    // A writer as busy as a controller on a bad day: a status write every ~30 ms.
    let churn = tokio::spawn(async move {
        let mut i = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            i += 1;
            let _ = rollouts
                .patch_status(
                    "web",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"message": format!("churn {i}")}})),
                )
                .await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    });
    let (mut runs, mut retried) = (0, 0);
    // Until one approval met a conflict and then wrote (a few tries usually suffice).
    while retried == 0 && runs < 40 {
        runs += 1;
        f.at(1, "StepPaused").await;
        let out = f.kruise(&["-v", "4", "rollout", "approve", "rollout/web", "--no-wait"]);
        assert!(!stderr(&out).contains("panicked"));
        let conflicted = stderr(&out).contains("re-reading");
        match code(&out) {
            Some(0) => {
                assert_eq!(sub_state(&f.get().await).1, "StepReady");
                if conflicted {
                    retried += 1;
                }
            }
            // Two conflicts in a row: a clear one-line error, never a silent overwrite.
            Some(1) => assert!(stderr(&out).contains("conflict"), "{}", stderr(&out)),
            c => panic!("exit {c:?}: {}", stderr(&out)),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    churn.await.unwrap();
    assert!(
        retried > 0,
        "in {runs} approvals none was retried after a conflict and written"
    );
}

#[tokio::test]
async fn pause_and_resume_write_the_strategy() {
    let f = Fixture::new("pause").await;
    f.at(1, "StepPaused").await;
    let out = f.kruise(&["rollout", "pause", "rollout/web"]);
    assert_eq!(stdout(&out).trim(), "rollout.rollouts.kruise.io/web paused");
    assert_eq!(f.get().await.spec.strategy.paused, Some(true));
    let out = f.kruise(&["rollout", "pause", "rollouts.rollouts.kruise.io/web"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).contains("rollouts.rollouts.kruise.io \"web\" is already paused"),
        "{}",
        stderr(&out)
    );
    // Paused in a release: status says so, and --watch=false exits 5.
    f.set_status(json!({})).await; // observedGeneration follows the new generation
    let out = f.kruise(&["rollout", "status", "rollout/web", "--watch=false"]);
    assert_eq!(code(&out), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("paused (resume with"),
        "{}",
        stderr(&out)
    );

    let out = f.kruise(&["rollout", "resume", "rollout/web", "--no-wait"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "rollout.rollouts.kruise.io/web resumed"
    );
    assert!(
        stderr(&out).contains("resuming does not approve"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.get().await.spec.strategy.paused, Some(false));
    assert_eq!(sub_state(&f.get().await).1, "StepPaused", "not approved");
    let out = f.kruise(&["rollout", "resume", "rollout/web", "--no-wait"]);
    assert_eq!(code(&out), Some(1));
    assert!(stderr(&out).contains("is not paused"), "{}", stderr(&out));

    let help = stdout(&f.kruise(&["rollout", "resume", "--help"]));
    assert!(help.contains("does not approve"), "{help}");
}

#[tokio::test]
async fn status_prints_a_line_and_exits_by_where_the_rollout_stands() {
    let f = Fixture::new("status").await;
    let once = |f: &Fixture| f.kruise(&["rollout", "status", "rollout/web", "--watch=false"]);

    let out = once(&f);
    assert_eq!(code(&out), Some(0));
    assert!(
        stdout(&out).contains("waiting for a controller to take it in"),
        "{}",
        stdout(&out)
    );

    f.at(1, "StepPaused").await;
    let out = once(&f);
    assert_eq!(code(&out), Some(5));
    assert_eq!(
        stderr(&out).trim(),
        "error: rollout \"web\": step 1/3 StepPaused, canary pods 1/1 ready, traffic 5%, waiting for approval"
    );
    let out = f.kruise(&["rollout", "status", "rollout/web", "--until-paused"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("waiting for approval"));

    f.at(2, "StepUpgrade").await;
    let out = once(&f);
    assert_eq!(code(&out), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        "rollout \"web\": step 2/3 StepUpgrade, canary pods 1/5 ready, traffic 50%, updating pods"
    );
    let out = f.kruise(&["rollout", "status", "rollout/web", "--timeout", "2s"]);
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));

    f.set_status(healthy(json!([
        {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been completed"},
        {"type": "Succeeded", "status": "True", "reason": "", "message": ""}])))
        .await;
    let out = once(&f);
    assert_eq!(
        (code(&out), stdout(&out).trim()),
        (Some(0), "rollout \"web\" successfully rolled out")
    );

    f.set_status(healthy(json!([
        {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been cancelled"},
        {"type": "Succeeded", "status": "False", "reason": "", "message": ""}])))
        .await;
    let out = once(&f);
    assert_eq!(code(&out), Some(4));
    assert!(
        stderr(&out).contains("release cancelled"),
        "{}",
        stderr(&out)
    );
    let out = f.kruise(&["rollout", "status", "rollout/web"]);
    assert_eq!(code(&out), Some(4), "watching too");

    let out = f.kruise(&["rollout", "status", "rollout/web", "--revision", "2"]);
    assert_eq!(code(&out), Some(2));
}

#[tokio::test]
async fn status_watches_a_release_to_its_end() {
    let f = Fixture::new("status-watch").await;
    f.at(1, "StepUpgrade").await;
    let child = f.spawn(&["rollout", "status", "rollout/web", "--timeout", "60s"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    f.at(1, "StepPaused").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    f.set_status(json!({"phase": "Progressing", "currentStepIndex": 3, "currentStepState": "StepUpgrade",
        "canaryStatus": {"currentStepIndex": 3, "currentStepState": "StepUpgrade", "canaryReplicas": 7, "canaryReadyReplicas": 6}}))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    f.set_status(healthy(json!([
        {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been completed"},
        {"type": "Succeeded", "status": "True", "reason": "", "message": ""}])))
        .await;
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("status -w ends")
        .unwrap();
    eprintln!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "rollout \"web\": step 1/3 StepUpgrade, canary pods 1/1 ready, traffic 5%, updating pods",
            "rollout \"web\": step 1/3 StepPaused, canary pods 1/1 ready, traffic 5%, waiting for approval",
            "rollout \"web\": step 3/3 StepUpgrade, canary pods 6/10 ready, updating pods",
            "rollout \"web\" successfully rolled out",
        ]
    );
}

/// A canary pod that cannot start ends a watch with exit 4 and the way back.
#[tokio::test]
async fn status_ends_on_a_canary_pod_that_cannot_start() {
    let f = Fixture::new("status-stuck").await;
    f.at(1, "StepUpgrade").await;
    // A pod of the canary's revision on a node no kubelet serves: its status stays as written.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "web-canary-1", "labels": {"app": "web", "pod-template-hash": "canary1"}},
        "spec": {"nodeName": "cmd-no-such-node", "containers": [{"name": "c", "image": "nginx:nope"}]}
    }))
    .unwrap();
    let pods: Api<Pod> = f.ns.api();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    pods.patch_status(
        "web-canary-1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Pending", "containerStatuses": [{
            "name": "c", "image": "nginx:nope", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"nginx:nope\""}}}]}})),
    )
    .await
    .unwrap();
    let out = f.kruise(&["rollout", "status", "rollout/web", "--timeout", "60s"]);
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pod web-canary-1 container c is ImagePullBackOff")
            && stderr(&out).contains("kubectl kruise rollout undo rollout/web"),
        "{}",
        stderr(&out)
    );
}

/// `undo --fast` (blue-green's "fast rollback"): `nextStepIndex` to the latest earlier step
/// without traffic that has the most replicas.
#[tokio::test]
async fn fast_undo_goes_back_to_the_quiet_step_with_most_replicas() {
    let f = Fixture::with_strategy(
        "fast-undo",
        json!({"blueGreen": {"steps": [
            {"replicas": 1, "pause": {}},
            {"replicas": "40%", "traffic": "0%", "pause": {}},
            {"replicas": "60%", "traffic": "20%", "pause": {}},
            {"replicas": "100%", "traffic": "100%", "pause": {}}
        ]}}),
    )
    .await;
    let at = |index: i32, state: &str| {
        json!({"phase": "Progressing", "currentStepIndex": index, "currentStepState": state,
            "blueGreenStatus": {"currentStepIndex": index, "currentStepState": state,
                "nextStepIndex": index + 1, "podTemplateHash": "", "finalisingStep": "",
                "updatedRevision": "new1", "updatedReplicas": 4, "updatedReadyReplicas": 4}})
    };
    f.set_status(at(4, "StepUpgrade")).await;
    let out = f.kruise(&["rollout", "undo", "rollout/web", "--fast", "--no-wait"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "rollout.rollouts.kruise.io/web rolled back to step 2/4"
    );
    let b = f.get().await.status.unwrap().blue_green_status.unwrap();
    assert_eq!(
        (b.common.next_step_index, b.common.current_step_index),
        (2, 4)
    );

    let before = f.set_status(at(1, "StepPaused")).await;
    let out = f.kruise(&["rollout", "undo", "rollout/web", "--fast", "--no-wait"]);
    assert_eq!(code(&out), Some(1));
    assert!(
        stderr(&out).contains("already at the first step"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.get().await.resource_version(), before.resource_version());

    let out = f.kruise(&["rollout", "undo", "deployment/web", "--fast"]);
    assert_eq!(code(&out), Some(2), "--fast is for Rollouts");
    let out = f.kruise(&[
        "rollout",
        "undo",
        "rollout/web",
        "--fast",
        "--to-revision",
        "1",
    ]);
    assert_eq!(
        code(&out),
        Some(2),
        "--fast and --to-revision exclude each other"
    );
}

/// Hand-made statuses a controller would never write: each command says what it sees in one
/// line with a documented exit code, and nothing panics.
#[tokio::test]
async fn odd_statuses_get_clear_words_never_a_panic() {
    let f = Fixture::new("odd").await;
    let sub = |index: i32, state: &str| {
        json!({"currentStepIndex": index, "currentStepState": state, "nextStepIndex": 0,
               "podTemplateHash": "", "finalisingStep": "", "canaryRevision": "",
               "canaryReplicas": 0, "canaryReadyReplicas": 0})
    };
    let statuses = [
        json!({"phase": "Progressing"}),
        json!({"phase": "Progressing", "currentStepState": "StepPaused"}),
        json!({"phase": "Progressing", "canaryStatus": sub(9, "StepPaused")}),
        json!({"phase": "Progressing", "canaryStatus": sub(0, "NoSuchState")}),
        json!({"phase": "SomethingElse", "canaryStatus": sub(-3, "")}),
        json!({"phase": "Healthy", "conditions": [{"type": "Progressing", "status": "Unknown", "reason": "?", "message": ""}]}),
    ];
    for s in statuses {
        // Start each from a bare status.
        f.rollouts
            .patch_status(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"canaryStatus": null, "conditions": null,
                    "phase": null, "currentStepIndex": 0, "currentStepState": ""}})),
            )
            .await
            .unwrap();
        let rv = f.set_status(s.clone()).await.resource_version();
        for args in [
            &["rollout", "status", "rollout/web", "--watch=false"][..],
            &["rollout", "approve", "rollout/web", "--no-wait"],
            &["rollout", "undo", "rollout/web", "--fast", "--no-wait"],
        ] {
            let out = f.kruise(args);
            let (o, e) = (stdout(&out), stderr(&out));
            assert!(!e.contains("panicked"), "{s} {args:?}: {e}");
            assert!(
                matches!(code(&out), Some(0 | 1 | 5)),
                "{s} {args:?}: exit {:?}",
                code(&out)
            );
            let text = format!("{o}{e}");
            assert!(
                text.lines().count() == 1 && text.contains("rollout \"web\""),
                "{s} {args:?}: one clear line about the rollout:\n{text}"
            );
        }
        assert_eq!(f.get().await.resource_version(), rv, "{s}: nothing written");
    }
    // Neither approve nor undo --fast found anything to write in them.
}

/// `undo rollout/NAME` rolls back its workload; during a canary (the Deployment paused by the
/// release, with Kruise Rollout's in-progressing annotation) that is the latest ReplicaSet,
/// which kubectl refuses to do on a paused Deployment.
#[tokio::test]
async fn undo_of_a_rollout_rolls_back_its_deployment_even_mid_canary() {
    let f = Fixture::new("undo").await;
    let deployments: Api<Deployment> = f.ns.api();
    let image = |img: &str| json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": img}]}}}});
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(image("nginx:2")),
        )
        .await
        .unwrap();
    let rs_api: Api<ReplicaSet> = f.ns.api();
    wait_list(
        &rs_api,
        Some("app=web"),
        Duration::from_secs(60),
        "two ReplicaSets",
        |l| l.len() == 2,
    )
    .await;
    // The release of nginx:3 starts: the Deployment paused with the annotation, as Kruise
    // Rollout's webhook writes it.
    let mut p = image("nginx:3");
    p["spec"]["paused"] = json!(true);
    p["metadata"] = json!({"annotations": {
        "rollouts.kruise.io/in-progressing": "{\"rolloutName\":\"web\"}",
        "rollouts.kruise.io/stable-revision": "stable1"}});
    deployments
        .patch("web", &PatchParams::default(), &Patch::Strategic(p))
        .await
        .unwrap();
    f.at(1, "StepPaused").await;

    let refused = kubectl(&["-n", f.n(), "rollout", "undo", "deployment/web"]);
    assert!(
        !refused.status.success(),
        "kubectl refuses a paused Deployment"
    );

    // Mid-release, undo cancels the release: asked first, and without a terminal refused
    // unless --yes (nothing written).
    let out = f.kruise(&["rollout", "undo", "rollout/web", "--no-wait"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("add --yes"), "{}", stderr(&out));
    let d = deployments.get("web").await.unwrap();
    assert_eq!(
        d.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("nginx:3"),
        "nothing rolled back"
    );
    let out = f.kruise(&["rollout", "undo", "rollout/web", "--no-wait", "--yes"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "deployment.apps/web rolled back");
    assert!(
        stderr(&out).contains("rollout \"web\" releases deployment/web"),
        "{}",
        stderr(&out)
    );
    let d = deployments.get("web").await.unwrap();
    let spec = d.spec.as_ref().unwrap();
    assert_eq!(
        spec.template.spec.as_ref().unwrap().containers[0]
            .image
            .as_deref(),
        Some("nginx:2"),
        "back to the latest ReplicaSet (the stable version)"
    );
    assert_eq!(spec.paused, Some(true), "the release still holds it");
    assert_eq!(
        d.annotations()
            .get("rollouts.kruise.io/in-progressing")
            .map(String::as_str),
        Some("{\"rolloutName\":\"web\"}"),
        "Kruise Rollout's annotations kept"
    );

    // The Rollout's workload named twice (directly and through the Rollout): rolled back once.
    let out = f.kruise(&[
        "rollout",
        "undo",
        "rollout/web",
        "deployment/web",
        "--no-wait",
        "--dry-run=client",
    ]);
    assert!(
        stderr(&out).contains("rolled back once"),
        "{}",
        stderr(&out)
    );

    let out = f.kruise(&["rollout", "history", "rollout/web"]);
    let text = ok(out);
    assert!(
        text.starts_with("rollout.rollouts.kruise.io/web: workload deployment.apps/web\n"),
        "{text}"
    );
}

/// With the Kruise Rollout operator live (its leader Lease, in the namespace it is said to be
/// in), a change only writes: it says who drives and returns, or watches with -w.
#[tokio::test]
async fn with_the_operator_live_a_change_says_who_drives_it_and_watches_with_w() {
    // Two steps that wait for approval, so that the stand-in operator can rest at the second.
    let f = Fixture::with_strategy(
        "operator",
        json!({"canary": {"steps": [
            {"replicas": 1, "traffic": "5%", "pause": {}},
            {"replicas": "50%", "traffic": "50%", "pause": {}},
            {"replicas": "100%", "pause": {}}
        ]}}),
    )
    .await;
    f.lease(
        "71ddec2c.kruise.io",
        "kruise-rollout-controller-manager-x_1",
    )
    .await;
    f.at(1, "StepPaused").await;
    let out = f.kruise(&["rollout", "approve", "rollout/web"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "rollout.rollouts.kruise.io/web is reconciled by the Kruise Rollout operator in namespace \"{}\"",
            f.n()
        )),
        "{}",
        stderr(&out)
    );

    // -w: nobody moves it here, so the timeout ends the watch (3)…
    f.at(1, "StepPaused").await;
    let out = f.kruise(&["rollout", "approve", "rollout/web", "-w", "--timeout", "3s"]);
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));

    // …and a stand-in operator that moves it on to the next pause ends it (0).
    f.at(1, "StepPaused").await;
    let child = f.spawn(&[
        "rollout",
        "approve",
        "rollout/web",
        "-w",
        "--timeout",
        "60s",
    ]);
    let rollouts = f.rollouts.clone();
    wait_for_state(&rollouts, "StepReady").await;
    f.at(2, "StepUpgrade").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    f.set_status(
        json!({"canaryStatus": {"currentStepIndex": 2, "currentStepState": "StepPaused"},
                        "currentStepIndex": 2, "currentStepState": "StepPaused"}),
    )
    .await;
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("approve -w ends")
        .unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("step 2/3 StepPaused"),
        "{}",
        stderr(&out)
    );
}

/// Another process's embedded Rollout controller (its Lease) drives it: said, not raced.
#[tokio::test]
async fn another_embedded_controller_is_named() {
    let f = Fixture::new("embedded").await;
    f.lease("kubectl-kruise-rollout", "otherhost/4242").await;
    f.at(1, "StepPaused").await;
    let out = f.kruise(&["rollout", "approve", "rollout/web"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("is reconciled by the embedded controller of process 4242 on host otherhost"),
        "{}",
        stderr(&out)
    );
}

async fn wait_for_state(rollouts: &Api<Rollout>, state: &str) {
    support::wait_for(rollouts, "web", Duration::from_secs(30), state, |r| {
        sub_state(r).1 == state
    })
    .await;
}
