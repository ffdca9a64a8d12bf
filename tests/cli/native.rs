//! `kubectl kruise` on the built-in StatefulSet and DaemonSet, side by side with kubectl
//! v1.34.4 on twin objects (one namespace each, the same commands in the same order): the same
//! end state, the same exit codes, and kubectl's own lines where kubectl prints them —
//! `set image`, `rollout history` (`--revision`, `-o`), `undo` (previous, `--to-revision`,
//! skipped), `restart`, `status` (complete, `--watch=false`, OnDelete refused), `pause`/`resume`
//! refused, `scale` (StatefulSet; refused for a DaemonSet, as kubectl fails it).

use std::process::Output;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::support::{self, TestNs, kruise, kubectl, ok, stderr, wait_for};

const T: Duration = Duration::from_secs(120);
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

fn statefulset(name: &str, image: &str) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}
            }
        }
    }))
    .unwrap()
}

fn daemonset(name: &str, image: &str) -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": image}]}
            }
        }
    }))
    .unwrap()
}

/// Rolled out as kubectl's StatefulSetStatusViewer would say, and the revisions settled.
fn sts_done(s: &StatefulSet) -> bool {
    let st = s.status.clone().unwrap_or_default();
    let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(1)
        && st.replicas == want
        && st.ready_replicas == Some(want)
        && st.updated_replicas == Some(want)
        && st.update_revision.is_some()
        && st.current_revision == st.update_revision
}

fn ds_done(d: &DaemonSet) -> bool {
    let st = d.status.clone().unwrap_or_default();
    st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(1)
        && st.desired_number_scheduled > 0
        && st.current_number_scheduled == st.desired_number_scheduled
        && st.updated_number_scheduled == Some(st.desired_number_scheduled)
        && st.number_available == Some(st.desired_number_scheduled)
}

/// The pod template without the restart stamp (taken a second apart by each tool).
fn template<K: serde::Serialize>(k: &K) -> Value {
    let mut t = serde_json::to_value(k).unwrap()["spec"]["template"].clone();
    if let Some(a) = t
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(RESTARTED_AT);
    }
    t
}

fn image<K: serde::Serialize>(k: &K) -> String {
    template(k)["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Twin namespaces: kubectl acts in the first, kubectl-kruise in the second.
struct Twins {
    kc: TestNs,
    kk: TestNs,
}

impl Twins {
    /// The same command by both tools: (kubectl's run, ours).
    fn both(&self, args: &[&str]) -> (Output, Output) {
        let theirs = kubectl(&[&["-n", self.kc.name.as_str()], args].concat());
        let ours = kruise(&[&["-n", self.kk.name.as_str()], args].concat());
        (theirs, ours)
    }

    /// Both succeed and print the same stdout; ours returned.
    fn same(&self, args: &[&str]) -> String {
        let (theirs, ours) = self.both(args);
        let (theirs, ours) = (ok(theirs), ok(ours));
        assert_eq!(ours, theirs, "same output for {args:?}");
        ours
    }

    /// Both fail with the same exit code (and, with `exact`, the same stderr); ours returned.
    fn same_failure(&self, args: &[&str], exact: bool) -> Output {
        let (theirs, ours) = self.both(args);
        assert!(!theirs.status.success(), "kubectl {args:?} should fail");
        assert_eq!(ours.status.code(), theirs.status.code(), "exit of {args:?}");
        if exact {
            assert_eq!(stderr(&ours), stderr(&theirs), "stderr of {args:?}");
        }
        ours
    }
}

/// The revisions a `rollout history` table lists.
fn revisions(history: &str) -> Vec<i64> {
    history
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn statefulset_matches_kubectl() {
    let client = support::client_as("cli-native-sts").await;
    let tw = Twins {
        kc: TestNs::new(&client, "sts-kubectl").await,
        kk: TestNs::new(&client, "sts-kruise").await,
    };
    let (kc, kk): (Api<StatefulSet>, Api<StatefulSet>) = (tw.kc.api(), tw.kk.api());
    for api in [&kc, &kk] {
        api.create(&PostParams::default(), &statefulset("web", "nginx:1.25"))
            .await
            .unwrap();
    }
    let done = |api: &Api<StatefulSet>| {
        let api = api.clone();
        async move { wait_for(&api, "web", T, "statefulset rolled out", sts_done).await }
    };
    done(&kc).await;
    done(&kk).await;
    let s = "statefulset/web";

    // One revision: nothing to roll back to, in both (exit 1).
    let out = tw.same_failure(&["rollout", "undo", s], false);
    assert!(
        stderr(&out).starts_with("error: no last revision to roll back to"),
        "{}",
        stderr(&out)
    );

    // set image twice: the same line, the same template, the same history.
    for img in ["nginx:1.26", "nginx:1.27"] {
        let out = tw.same(&["set", "image", s, &format!("nginx={img}")]);
        assert_eq!(out, "statefulset.apps/web image updated\n");
        let (a, b) = (done(&kc).await, done(&kk).await);
        assert_eq!(template(&b), template(&a));
        assert_eq!(image(&b), img);
    }
    let (theirs, ours) = tw.both(&["rollout", "history", s]);
    assert_eq!(revisions(&ok(ours)), vec![1, 2, 3]);
    assert_eq!(revisions(&ok(theirs)), vec![1, 2, 3]);
    let out = ok(kruise(&[
        "-n",
        &tw.kk.name,
        "rollout",
        "history",
        s,
        "--revision=2",
    ]));
    assert!(
        out.starts_with("statefulset.apps/web with revision #2\nPod Template:\n")
            && out.contains("image: nginx:1.26"),
        "{out}"
    );
    // -o: the StatefulSet as of each revision (kubectl's GetHistory), named as kubectl names it.
    let out = ok(kruise(&[
        "-n",
        &tw.kk.name,
        "rollout",
        "history",
        s,
        "-o",
        "json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(
        items.iter().map(image).collect::<Vec<_>>(),
        ["nginx:1.25", "nginx:1.26", "nginx:1.27"]
    );
    assert!(items.iter().all(|i| i["kind"] == "StatefulSet"));
    tw.same(&["rollout", "history", s, "-o", "name", "--revision=1"]);
    let out = tw.same_failure(&["rollout", "history", s, "--revision=9"], false);
    assert!(stderr(&out).contains("unable to find the specified revision"));
    tw.same_failure(&["rollout", "undo", s, "--to-revision=9"], false);

    // undo --to-revision=1, then to the previous one: the same templates, the same history.
    assert_eq!(
        tw.same(&["rollout", "undo", s, "--to-revision=1"]),
        "statefulset.apps/web rolled back\n"
    );
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    assert_eq!(image(&b), "nginx:1.25");
    let (theirs, ours) = tw.both(&["rollout", "history", s]);
    assert_eq!(revisions(&ok(ours)), revisions(&ok(theirs)));
    tw.same(&["rollout", "undo", s]);
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    assert_eq!(image(&b), "nginx:1.27");
    let (theirs, ours) = tw.both(&["rollout", "history", s]);
    let listed = revisions(&ok(ours));
    assert_eq!(listed, revisions(&ok(theirs)));
    // Back to the revision running: skipped, in kubectl's words.
    let current = listed.last().unwrap().to_string();
    let rv = kk.get("web").await.unwrap().resource_version();
    let out = tw.same(&["rollout", "undo", s, &format!("--to-revision={current}")]);
    assert_eq!(
        out,
        format!(
            "statefulset.apps/web skipped rollback (current template already matches revision {current})\n"
        )
    );
    assert_eq!(kk.get("web").await.unwrap().resource_version(), rv);

    // restart: a stamp on the template, a new revision rolled out.
    let before = kk.get("web").await.unwrap().status.unwrap().update_revision;
    assert_eq!(
        tw.same(&["rollout", "restart", s]),
        "statefulset.apps/web restarted\n"
    );
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    let stamp = serde_json::to_value(&b).unwrap()["spec"]["template"]["metadata"]["annotations"]
        [RESTARTED_AT]
        .as_str()
        .map(String::from)
        .expect("restartedAt stamped");
    stamp
        .parse::<k8s_openapi::jiff::Timestamp>()
        .expect("RFC 3339");
    assert_ne!(b.status.unwrap().update_revision, before, "a new revision");

    // status: complete, watching or not.
    let out = tw.same(&["rollout", "status", s]);
    assert_eq!(
        out,
        "partitioned roll out complete: 2 new pods have been updated...\n"
    );
    tw.same(&["rollout", "status", s, "--watch=false"]);

    // pause and resume: refused in kubectl's words, nothing written.
    let rv = kk.get("web").await.unwrap().resource_version();
    for verb in ["pause", "resume"] {
        let out = tw.same_failure(&["rollout", verb, s], true);
        assert_eq!(out.status.code(), Some(1));
    }
    assert_eq!(kk.get("web").await.unwrap().resource_version(), rv);

    // scale: the same line and replicas; --delete-pod cannot choose a StatefulSet's pods.
    assert_eq!(
        tw.same(&["scale", s, "--replicas=3"]),
        "statefulset.apps/web scaled\n"
    );
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(b.spec.as_ref().unwrap().replicas, Some(3));
    assert_eq!(a.spec.as_ref().unwrap().replicas, Some(3));
    let out = kruise(&[
        "-n",
        &tw.kk.name,
        "scale",
        s,
        "--replicas=1",
        "--delete-pod",
        "web-0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("highest ordinal"), "{}", stderr(&out));
    assert_eq!(kk.get("web").await.unwrap().spec.unwrap().replicas, Some(3));

    // A pod that never starts: the same status line, printed once (exit 0) with --watch=false.
    ok(kubectl(&[
        "-n",
        &tw.kk.name,
        "set",
        "image",
        s,
        "nginx=nginx:failed",
    ]));
    wait_for(&kk, "web", T, "a pod waiting for the failed image", |s| {
        let st = s.status.clone().unwrap_or_default();
        st.observed_generation == s.metadata.generation && st.ready_replicas.unwrap_or(0) < 3
    })
    .await;
    let args = ["-n", &tw.kk.name, "rollout", "status", s, "--watch=false"];
    assert_eq!(ok(kruise(&args)), ok(kubectl(&args)));
    let out = kruise(&["-n", &tw.kk.name, "rollout", "status", s, "--timeout=2s"]);
    assert_eq!(out.status.code(), Some(3), "our timeout exit code");

    // OnDelete: kubectl's status refuses it (exit 1), and so do we.
    let od = json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}});
    for api in [&kc, &kk] {
        api.patch("web", &PatchParams::default(), &Patch::Merge(&od))
            .await
            .unwrap();
    }
    // (--timeout: were it followed, the watch would end in exit 3, not hang.)
    let out = tw.same_failure(&["rollout", "status", s, "--timeout=20s"], true);
    assert_eq!(
        stderr(&out),
        "error: rollout status is only available for RollingUpdate strategy type\n"
    );
}

#[tokio::test]
async fn daemonset_matches_kubectl() {
    let client = support::client_as("cli-native-ds").await;
    let tw = Twins {
        kc: TestNs::new(&client, "ds-kubectl").await,
        kk: TestNs::new(&client, "ds-kruise").await,
    };
    let (kc, kk): (Api<DaemonSet>, Api<DaemonSet>) = (tw.kc.api(), tw.kk.api());
    for api in [&kc, &kk] {
        api.create(&PostParams::default(), &daemonset("agent", "nginx:1.25"))
            .await
            .unwrap();
    }
    let done = |api: &Api<DaemonSet>| {
        let api = api.clone();
        async move { wait_for(&api, "agent", T, "daemonset rolled out", ds_done).await }
    };
    done(&kc).await;
    done(&kk).await;
    let d = "daemonset/agent";

    let out = tw.same_failure(&["rollout", "undo", d], false);
    assert!(
        stderr(&out).starts_with("error: no last revision to roll back to"),
        "{}",
        stderr(&out)
    );

    for img in ["nginx:1.26", "nginx:1.27"] {
        tw.same(&["set", "image", d, &format!("nginx={img}")]);
        let (a, b) = (done(&kc).await, done(&kk).await);
        assert_eq!(template(&b), template(&a));
        assert_eq!(image(&b), img);
    }
    let (theirs, ours) = tw.both(&["rollout", "history", d]);
    assert_eq!(revisions(&ok(ours)), vec![1, 2, 3]);
    assert_eq!(revisions(&ok(theirs)), vec![1, 2, 3]);
    let out = ok(kruise(&[
        "-n",
        &tw.kk.name,
        "rollout",
        "history",
        d,
        "--revision=1",
    ]));
    assert!(
        out.starts_with("daemonset.apps/agent with revision #1\n") && out.contains("nginx:1.25"),
        "{out}"
    );
    tw.same(&["rollout", "history", d, "-o", "name"]);

    tw.same(&["rollout", "undo", d, "--to-revision=1"]);
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    assert_eq!(image(&b), "nginx:1.25");
    tw.same(&["rollout", "undo", d]);
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    assert_eq!(image(&b), "nginx:1.27");
    let (theirs, ours) = tw.both(&["rollout", "history", d]);
    let listed = revisions(&ok(ours));
    assert_eq!(listed, revisions(&ok(theirs)));
    let current = listed.last().unwrap().to_string();
    tw.same(&["rollout", "undo", d, &format!("--to-revision={current}")]);

    tw.same(&["rollout", "restart", d]);
    let (a, b) = (done(&kc).await, done(&kk).await);
    assert_eq!(template(&b), template(&a));
    assert!(
        serde_json::to_value(&b).unwrap()["spec"]["template"]["metadata"]["annotations"]
            [RESTARTED_AT]
            .is_string()
    );

    let out = tw.same(&["rollout", "status", d]);
    assert_eq!(out, "daemon set \"agent\" successfully rolled out\n");
    tw.same(&["rollout", "status", d, "--watch=false"]);

    // pause, resume, scale: refused after reading the object, exit 1, nothing written.
    let rv = kk.get("agent").await.unwrap().resource_version();
    for verb in ["pause", "resume"] {
        tw.same_failure(&["rollout", verb, d], true);
    }
    let out = tw.same_failure(&["scale", d, "--replicas=2"], false);
    assert!(
        stderr(&out).contains("cannot be scaled"),
        "{}",
        stderr(&out)
    );
    assert_eq!(kk.get("agent").await.unwrap().resource_version(), rv);

    // A pod that never starts: the same status line with --watch=false; undo recovers it.
    ok(kubectl(&[
        "-n",
        &tw.kk.name,
        "set",
        "image",
        d,
        "nginx=nginx:failed",
    ]));
    wait_for(&kk, "agent", T, "a pod waiting for the failed image", |d| {
        let st = d.status.clone().unwrap_or_default();
        st.observed_generation == d.metadata.generation
            && st.updated_number_scheduled == Some(1)
            && st.number_available.unwrap_or(0) < st.desired_number_scheduled
    })
    .await;
    let args = ["-n", &tw.kk.name, "rollout", "status", d, "--watch=false"];
    assert_eq!(ok(kruise(&args)), ok(kubectl(&args)));
    ok(kruise(&["-n", &tw.kk.name, "rollout", "undo", d]));
    let out = ok(kruise(&[
        "-n",
        &tw.kk.name,
        "rollout",
        "status",
        d,
        "--timeout=90s",
    ]));
    assert!(
        out.ends_with("daemon set \"agent\" successfully rolled out\n"),
        "{out}"
    );

    let od = json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}});
    for api in [&kc, &kk] {
        api.patch("agent", &PatchParams::default(), &Patch::Merge(&od))
            .await
            .unwrap();
    }
    tw.same_failure(&["rollout", "status", d, "--timeout=20s"], true);
}
