//! `kubectl-kruise get -w --until-done` and `describe` on a CloneSet as a user runs them (the
//! built binary): the view follows an update another process drives, redrawn on each change,
//! and ends with exit 0 once the CloneSet rests; a new pod that cannot start ends it with 4.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::{Value, json};

use super::fixes::{cs, images};
use super::support::{TestNs, client_as, stderr, stdout};
use super::{crds, ok, pods, run, spawn, spawn_controller, stop};

/// Every JSON document `get -w -o json` printed, in order.
fn views(out: &std::process::Output) -> Vec<Value> {
    serde_json::Deserializer::from_str(&stdout(out))
        .into_iter::<Value>()
        .map(|v| v.expect("each view is a JSON document"))
        .collect()
}

/// Pods under the revision node whose role is `role`, with their images.
fn pods_under(view: &Value, role: &str) -> Vec<(String, String)> {
    view["tree"]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["info"]["role"]
                .as_str()
                .is_some_and(|x| x.split(',').any(|x| x == role))
        })
        .flat_map(|r| r["children"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["info"]["image"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn get_until_done_follows_an_update_to_rest_and_exits_0() {
    crds().await;
    let client = client_as("cloneset-tree").await;
    let ns = TestNs::new(&client, "cs-tree").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let pod_api: Api<Pod> = ns.api();
    let spec = json!({"replicas": 3, "updateStrategy": {"type": "InPlaceIfPossible", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "leaf", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/leaf", "--replicas", "3"]).await;
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/leaf",
        "main=busybox:2",
        "--no-wait",
    ])
    .await;
    // The view starts while nothing drives the update, then a controller carries it out.
    let get = spawn(&[
        "-n",
        n,
        "get",
        "cloneset/leaf",
        "-w",
        "--until-done",
        "-o",
        "json",
    ]);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let ctl = spawn_controller(n, None).await;
    let out = tokio::time::timeout(super::T, get.wait_with_output())
        .await
        .expect("get --until-done ends by itself once the CloneSet rests")
        .unwrap();
    stop(ctl).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = views(&out);
    assert!(seen.len() >= 2, "redrawn as the update moved: {seen:?}");
    assert_eq!(seen[0]["status"]["text"], "Progressing", "{}", seen[0]);
    let last = seen.last().unwrap();
    assert_eq!(last["status"]["text"], "Healthy", "{last}");
    let now = pods(&pod_api, "leaf").await;
    let mut want: Vec<(String, String)> = now
        .iter()
        .map(|p| (p.metadata.name.clone().unwrap(), images(p).join(",")))
        .collect();
    want.sort();
    let mut under = pods_under(last, "update");
    under.sort();
    assert_eq!(under, want, "every pod under the update revision: {last}");
    assert!(want.iter().all(|(_, i)| i == "busybox:2"));
    // Some view in between had pods on both revisions (the update moved in batches).
    assert!(
        seen.iter()
            .any(|v| !pods_under(v, "update").is_empty() && !pods_under(v, "current").is_empty()),
        "a view mid-update: {seen:?}"
    );

    // Plain text in a pipe: no escapes, the tree with its revisions and pods.
    let text = ok(&["-n", n, "get", "cloneset/leaf"]).await;
    assert!(!text.contains('\u{1b}') && !text.contains('✔'), "{text}");
    for (name, _) in &want {
        assert!(text.contains(name.as_str()), "{name} in {text}");
    }
    assert!(
        text.contains("ControllerRevision") && text.contains("in-place:updated"),
        "{text}"
    );
    let described = ok(&["-n", n, "describe", "cs", "leaf"]).await;
    assert!(
        described.contains("Events:") && described.contains("SuccessfulUpdatePodInPlace"),
        "{described}"
    );
    // A type alone is every object of it in the namespace, as kubectl's get.
    let every = ok(&["-n", n, "get", "cs"]).await;
    assert_eq!(
        every.matches("\nName:").count() + usize::from(every.starts_with("Name:")),
        1,
        "{every}"
    );
    assert!(
        every.starts_with("Name:") && every.contains("leaf"),
        "{every}"
    );
    // At rest, --until-done returns at once.
    let again = run(&["-n", n, "get", "cloneset/leaf", "--until-done"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[tokio::test]
async fn get_until_done_ends_with_4_on_a_new_pod_that_cannot_start() {
    crds().await;
    let client = client_as("cloneset-tree-stuck").await;
    let ns = TestNs::new(&client, "cs-tree-stuck").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({"replicas": 2, "updateStrategy": {"type": "ReCreate", "maxUnavailable": 1}});
    sets.create(&PostParams::default(), &cs(n, "bad", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/bad", "--replicas", "2"]).await;
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/bad",
        "main=busybox:failed",
        "--no-wait",
    ])
    .await;
    let ctl = spawn_controller(n, None).await;
    let out = run(&["-n", n, "get", "cloneset/bad", "--until-done"]).await;
    stop(ctl).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot start"), "{}", stderr(&out));
    // Bad input: one line, exit 2, before any request.
    for args in [
        vec!["get", "pod/x"],
        vec!["get", "cloneset", "a", "b", "-w"],
        vec!["describe", "sidecarset/x"],
    ] {
        let o = run(&args).await;
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    }
    let o = run(&["get", "cloneset/a", "-o", "wide"]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("possible values: json, yaml"),
        "{}",
        stderr(&o)
    );
}
