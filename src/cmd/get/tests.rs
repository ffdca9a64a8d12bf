//! Golden views (insta) of objects read from a real run (`tests/fixtures/tree/namespace.json`:
//! a CloneSet of 4 under partition 2, an Advanced StatefulSet of 3 under partition 1, both
//! after `set image`, and a Deployment's Rollout waiting for approval at step 1 of 3). The
//! sources are picked out of the namespace as the API server would list them.

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::sources::{Source, Which};
use super::view::{self, Built, Subject};
use crate::client::kinds::{self, Kind};
use crate::error::Error;
use crate::output::tree::{Style, render};

fn namespace() -> Vec<Value> {
    items(include_str!("../../../tests/fixtures/tree/namespace.json"))
}

/// A blue-green Rollout of a CloneSet of 3 waiting for approval at step 2 of 3 (the 3 new pods
/// beside the 3 old ones, 50 % of the traffic), read from a real run.
fn blue_green_namespace() -> Vec<Value> {
    items(include_str!("../../../tests/fixtures/tree/bluegreen.json"))
}

fn items(text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(text).unwrap();
    v["items"].as_array().unwrap().clone()
}

fn kind(word: &str) -> Kind {
    kinds::resolve(word).unwrap()
}

fn now() -> Timestamp {
    "2026-12-04T23:25:00Z".parse().unwrap()
}

/// `k=v,k2=v2` (the fixture's selectors are all matchLabels).
fn selected(labels: &str, v: &Value) -> bool {
    labels.split(',').all(|kv| {
        let (k, want) = kv.split_once('=').unwrap();
        v["metadata"]["labels"][k].as_str() == Some(want)
    })
}

fn list(all: &[Value], s: &Option<Source>) -> Vec<Value> {
    let Some(s) = s else { return Vec::new() };
    all.iter()
        .filter(|v| {
            v["kind"] == s.resource.kind.as_str()
                && v["apiVersion"] == s.resource.api_version.as_str()
        })
        .filter(|v| match &s.what {
            Which::Name(n) => v["metadata"]["name"] == n.as_str(),
            Which::Labels(l) => selected(l, v),
            Which::Cluster => true,
        })
        .cloned()
        .collect()
}

fn built(kind: Kind, name: &str) -> Built {
    built_in(&namespace(), kind, name)
}

fn built_in(all: &[Value], kind: Kind, name: &str) -> Built {
    let s = view::subject(kind);
    let root = list(all, &Some(Source::named(kind, name))).pop().unwrap();
    let workload = view::rollout_workload(&root)
        .filter(|_| matches!(s, Subject::Rollout))
        .and_then(|(k, n)| list(all, &Some(Source::named(k, &n))).pop());
    let plan = view::sources(s, name, &root, workload.as_ref());
    let snap: Vec<Vec<Value>> = plan.iter().map(|p| list(all, p)).collect();
    view::build(s, &snap, now()).unwrap().unwrap()
}

fn plain(b: &Built) -> String {
    render(&b.tree, Style { fancy: false }, now())
}

fn json(b: &Built) -> String {
    serde_json::to_string_pretty(&b.tree).unwrap()
}

#[test]
fn cloneset_mid_partition() {
    let b = built(kind("cloneset"), "web");
    insta::assert_snapshot!("cloneset_plain", plain(&b));
    insta::assert_snapshot!("cloneset_json", json(&b));
    assert!(
        matches!(b.rests, Some(Ok(()))),
        "a partition rolled out rests"
    );
}

#[test]
fn advanced_statefulset_mid_update() {
    let b = built(kind("asts"), "db");
    insta::assert_snapshot!("asts_plain", plain(&b));
    insta::assert_snapshot!("asts_json", json(&b));
}

#[test]
fn rollout_at_a_paused_step() {
    let b = built(kind("rollout"), "echoserver");
    insta::assert_snapshot!("rollout_plain", plain(&b));
    insta::assert_snapshot!("rollout_json", json(&b));
    assert!(
        matches!(b.rests, Some(Err(Error::Paused(_)))),
        "waiting for approval rests at exit 5"
    );
}

#[test]
fn blue_green_rollout_at_its_second_step() {
    let b = built_in(&blue_green_namespace(), kind("rollout"), "shop");
    let at: Timestamp = "2026-12-05T00:40:00Z".parse().unwrap();
    insta::assert_snapshot!(
        "bluegreen_plain",
        render(&b.tree, Style { fancy: false }, at)
    );
    insta::assert_snapshot!("bluegreen_json", json(&b));
    assert!(matches!(b.rests, Some(Err(Error::Paused(_)))));
}

/// A Deployment held by its Rollout: its ReplicaSet (the canary Deployment's is not its own)
/// and the pods of that ReplicaSet.
#[test]
fn deployment_under_a_rollout() {
    let b = built(kind("deployment"), "echoserver");
    insta::assert_snapshot!("deployment_plain", plain(&b));
    assert!(
        matches!(b.rests, Some(Err(Error::Paused(_)))),
        "held: paused"
    );
}

#[test]
fn terminal_style_has_icons_and_the_current_step_mark() {
    colored::control::set_override(true);
    let b = built(kind("rollout"), "echoserver");
    let s = render(&b.tree, Style { fancy: true }, now());
    assert!(s.contains("॥ Paused") && s.contains("▸ step 1/3"), "{s}");
    assert!(s.contains('\u{1b}'), "colour on a terminal");
}

#[test]
fn a_view_without_its_object_is_none() {
    let s = view::subject(kind("cloneset"));
    assert!(
        view::build(s, &[vec![], vec![], vec![]], now())
            .unwrap()
            .is_none()
    );
}

#[test]
fn after_a_release_its_new_revision_is_the_stable_one() {
    let mut all = namespace();
    let ro = all.iter_mut().find(|v| v["kind"] == "Rollout").unwrap();
    ro["status"]["phase"] = "Healthy".into();
    ro["status"]["conditions"] = serde_json::json!([
        {"type": "Progressing", "status": "False", "reason": "Completed", "message": "Rollout progressing has been completed"},
        {"type": "Succeeded", "status": "True", "reason": "", "message": ""}
    ]);
    let s = view::subject(kind("rollout"));
    let root = ro.clone();
    let workload = list(&all, &Some(Source::named(kind("deployment"), "echoserver"))).pop();
    let plan = view::sources(s, "echoserver", &root, workload.as_ref());
    let snap: Vec<Vec<Value>> = plan.iter().map(|p| list(&all, p)).collect();
    let b = view::build(s, &snap, now()).unwrap().unwrap();
    assert!(matches!(b.rests, Some(Ok(()))));
    let groups = b.tree.tree.children.iter().filter(|n| n.kind == "Revision");
    for g in groups {
        let role = g
            .info
            .0
            .iter()
            .find(|(k, _)| k == "role")
            .map(|(_, v)| v.as_str());
        if g.name == "7f9bdd9567" {
            assert_eq!(role, Some("stable"), "{g:?}");
        } else {
            assert_eq!(role, None, "the old stable revision has no role now: {g:?}");
        }
    }
    assert!(
        b.tree
            .tree
            .children
            .iter()
            .filter(|n| n.kind == "Step")
            .all(|n| n.status.as_ref().is_some_and(|s| s.text == "Completed"))
    );
}

/// A spec change the controller has not observed yet (state Pending, no current step) keeps
/// the release's roles: the canary pod is not shown as stable.
#[test]
fn roles_stay_while_a_release_is_not_over() {
    let mut all = namespace();
    let ro = all.iter_mut().find(|v| v["kind"] == "Rollout").unwrap();
    let g = ro["metadata"]["generation"].as_i64().unwrap();
    ro["metadata"]["generation"] = (g + 1).into();
    let root = ro.clone();
    let s = view::subject(kind("rollout"));
    let workload = list(&all, &Some(Source::named(kind("deployment"), "echoserver"))).pop();
    let plan = view::sources(s, "echoserver", &root, workload.as_ref());
    let snap: Vec<Vec<Value>> = plan.iter().map(|p| list(&all, p)).collect();
    let b = view::build(s, &snap, now()).unwrap().unwrap();
    assert_eq!(b.tree.status.text, "Progressing");
    let role = |name: &str| {
        let g = b
            .tree
            .tree
            .children
            .iter()
            .find(|n| n.name == name)
            .unwrap();
        g.info
            .0
            .iter()
            .find(|(k, _)| k == "role")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(role("7f9bdd9567").as_deref(), Some("canary"));
    assert_eq!(role("75bdd6dd94").as_deref(), Some("stable"));
}

/// A new pod that cannot start ends `--until-done` with 4 where `rollout status` does (a
/// CloneSet), and not on a Deployment, which Kubernetes judges by its progress deadline.
#[test]
fn a_stuck_new_pod_ends_the_wait_only_where_rollout_status_ends_it() {
    let stuck_pod = |all: &mut Vec<Value>, pod: &str| {
        let p = all
            .iter_mut()
            .find(|v| v["kind"] == "Pod" && v["metadata"]["name"] == pod)
            .unwrap();
        p["status"]["phase"] = "Pending".into();
        p["status"]["containerStatuses"][0]["ready"] = false.into();
        p["status"]["containerStatuses"][0]["state"] =
            serde_json::json!({"waiting": {"reason": "ImagePullBackOff"}});
    };
    let behind = |all: &mut Vec<Value>, k: &str, name: &str| {
        let o = all
            .iter_mut()
            .find(|v| v["kind"] == k && v["metadata"]["name"] == name)
            .unwrap();
        let g = o["metadata"]["generation"].as_i64().unwrap();
        o["metadata"]["generation"] = (g + 1).into();
    };
    let run = |all: &[Value], k: Kind, name: &str| {
        let s = view::subject(k);
        let root = list(all, &Some(Source::named(k, name))).pop().unwrap();
        let plan = view::sources(s, name, &root, None);
        let snap: Vec<Vec<Value>> = plan.iter().map(|p| list(all, p)).collect();
        view::build(s, &snap, now()).unwrap().unwrap().rests
    };
    let mut all = namespace();
    stuck_pod(&mut all, "web-8gkq7");
    behind(&mut all, "CloneSet", "web");
    match run(&all, kind("cloneset"), "web") {
        Some(Err(Error::Failed(m))) => assert!(
            m.contains("web-8gkq7") && m.contains("ImagePullBackOff"),
            "{m}"
        ),
        other => panic!(
            "exit 4 expected: {:?}",
            other.map(|r| r.err().map(|e| e.to_string()))
        ),
    }
    let mut all = namespace();
    stuck_pod(&mut all, "echoserver-75bdd6dd94-2zzxc");
    behind(&mut all, "Deployment", "echoserver");
    let d = all
        .iter_mut()
        .find(|v| v["kind"] == "Deployment" && v["metadata"]["name"] == "echoserver")
        .unwrap();
    d["spec"]["paused"] = false.into(); // the Rollout's hold, let go
    // Its template is the ReplicaSet's again, so the stuck pod is an update pod.
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "cilium/echoserver:1.10.2".into();
    let rests = run(&all, kind("deployment"), "echoserver");
    assert!(
        rests.is_none(),
        "{:?}",
        rests.map(|r| r.err().map(|e| e.to_string()))
    );
}

/// Trust no object: with status, selectors, labels or owner references taken away (what a
/// cluster without the webhooks or the controller may hold), every view is drawn or refused
/// with an error, never a panic.
#[test]
fn partial_objects_are_drawn_without_a_panic() {
    let cuts: [&[&str]; 6] = [
        &["status"],
        &["spec", "selector"],
        &["metadata", "labels"],
        &["metadata", "ownerReferences"],
        &["spec", "strategy"],
        &["metadata", "creationTimestamp"],
    ];
    let roots = [
        ("cloneset", "web"),
        ("asts", "db"),
        ("deployment", "echoserver"),
        ("rollout", "echoserver"),
    ];
    for cut in cuts {
        let mut all = namespace();
        for v in &mut all {
            let (last, path) = cut.split_last().unwrap();
            let mut at = &mut *v;
            for k in path {
                at = &mut at[*k];
            }
            if let Some(m) = at.as_object_mut() {
                m.remove(*last);
            }
        }
        for (k, name) in roots {
            let s = view::subject(kind(k));
            let Some(root) = list(&all, &Some(Source::named(kind(k), name))).pop() else {
                continue;
            };
            let workload = view::rollout_workload(&root)
                .and_then(|(k, n)| list(&all, &Some(Source::named(k, &n))).pop());
            let plan = view::sources(s, name, &root, workload.as_ref());
            let snap: Vec<Vec<Value>> = plan.iter().map(|p| list(&all, p)).collect();
            if let Ok(Some(b)) = view::build(s, &snap, now()) {
                let _ = render(&b.tree, Style { fancy: true }, now());
                let _ = json(&b);
            }
        }
    }
}
