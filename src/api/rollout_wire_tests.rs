//! The conversion against upstream's `conversion.go` (v0.6.2): what carries over, what is
//! made up (weight → traffic and replicas, the annotations ↔ fields), what is dropped.

use serde_json::{Value, json};

use super::*;
use crate::api::batchrelease::BatchRelease;
use crate::api::rollout::Rollout;

fn seed_002() -> Value {
    let text = include_str!("../../tests/fixtures/seed-002/rollout-v1alpha1.yaml");
    let v: Value = serde_saphyr::from_str(text).unwrap();
    v
}

fn alpha_status() -> Value {
    json!({
        "observedGeneration": 2, "phase": "Progressing", "message": "Rollout is in step(1/1)",
        "conditions": [{"type": "Progressing", "status": "True", "reason": "InRolling",
                        "message": "m", "lastUpdateTime": "2026-12-04T20:00:00Z",
                        "lastTransitionTime": "2026-12-04T20:00:00Z"}],
        "canaryStatus": {
            "observedWorkloadGeneration": 3, "observedRolloutID": "id", "rolloutHash": "h",
            "stableRevision": "s", "canaryRevision": "c", "podTemplateHash": "p",
            "canaryReplicas": 1, "canaryReadyReplicas": 1, "currentStepIndex": 1,
            "currentStepState": "StepPaused", "message": "paused",
            "lastUpdateTime": "2026-12-04T20:00:00Z", "finalisingStep": "", "nextStepIndex": 2,
        },
    })
}

#[test]
fn seed_002_reads_as_upstream_converts_it() {
    let mut v = seed_002();
    v["metadata"]["namespace"] = json!("t");
    v["status"] = alpha_status();
    let up = convert(v, Way::Up);
    assert_eq!(up["apiVersion"], HUB);
    let r: Rollout = serde_json::from_value(up.clone()).unwrap();
    assert_eq!(r.spec.workload_ref.name, "echoserver");
    let c = r.spec.strategy.canary.as_ref().unwrap();
    assert_eq!(c.steps[0].traffic.as_deref(), Some("5%"));
    assert_eq!(
        serde_json::to_value(&c.steps[0].replicas).unwrap(),
        json!("20%"),
        "replicas given are kept"
    );
    assert_eq!(
        c.enable_extra_workload_for_canary,
        Some(true),
        "no rolling-style: canary"
    );
    assert_eq!(
        c.traffic_routings.as_ref().unwrap()[0]
            .ingress
            .as_ref()
            .unwrap()
            .name,
        "echoserver"
    );
    let st = r.status.unwrap();
    assert_eq!(
        (st.current_step_index, st.current_step_state.as_str()),
        (1, "StepPaused"),
        "the top-level copy is made"
    );
    let cs = st.canary_status.unwrap();
    assert_eq!(cs.common.next_step_index, 2);
    assert_eq!(cs.canary_ready_replicas, 1);
}

#[test]
fn a_weight_alone_releases_that_share_of_pods_too() {
    let mut v = seed_002();
    v["spec"]["strategy"]["canary"]["steps"] = json!([{"weight": 30}]);
    v["metadata"]["annotations"] = json!({ROLLING_STYLE: "Partition", TRAFFIC_ROUTING: "tr"});
    let up = convert(v, Way::Up);
    let step = &up["spec"]["strategy"]["canary"]["steps"][0];
    assert_eq!(step["traffic"], "30%");
    assert_eq!(step["replicas"], "30%");
    assert_eq!(step["pause"], json!({}));
    let c = &up["spec"]["strategy"]["canary"];
    assert_eq!(c["enableExtraWorkloadForCanary"], false);
    assert_eq!(c["trafficRoutingRef"], "tr");
}

#[test]
fn written_back_as_v1alpha1_with_the_style_in_its_annotation() {
    let mut v = seed_002();
    v["status"] = alpha_status();
    let up = convert(v.clone(), Way::Up);
    let down = convert(up, Way::Down);
    assert_eq!(down["apiVersion"], OLD);
    assert_eq!(
        down["spec"]["objectRef"]["workloadRef"],
        v["spec"]["objectRef"]["workloadRef"]
    );
    let step = &down["spec"]["strategy"]["canary"]["steps"][0];
    assert_eq!(step["weight"], 5);
    assert_eq!(step["replicas"], "20%");
    assert_eq!(down["metadata"]["annotations"][ROLLING_STYLE], "canary");
    assert_eq!(
        down["status"], v["status"],
        "a v1alpha1 status survives the round trip"
    );
    assert!(down["status"].get("currentStepIndex").is_none());
    // Traffic is rounded as a percent of 100; a traffic that is not a percent is weight 0.
    let mut up = convert(seed_002(), Way::Up);
    up["spec"]["strategy"]["canary"]["steps"][0]["traffic"] = json!("7");
    assert_eq!(
        convert(up, Way::Down)["spec"]["strategy"]["canary"]["steps"][0]["weight"],
        0
    );
}

#[test]
fn blue_green_has_no_v1alpha1_form_but_its_metadata() {
    let v = json!({"apiVersion": HUB, "kind": "Rollout", "metadata": {"name": "bg"},
        "spec": {"workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "w"},
                 "strategy": {"blueGreen": {"steps": [{"replicas": "100%"}]}}}});
    let down = convert(v, Way::Down);
    assert_eq!(down["metadata"]["name"], "bg");
    assert_eq!(down["spec"], json!({"objectRef": {}, "strategy": {}}));
}

#[test]
fn batch_release_both_ways() {
    let alpha = json!({
        "apiVersion": OLD, "kind": "BatchRelease",
        "metadata": {"name": "web", "namespace": "t", "annotations": {ROLLING_STYLE: "partition"},
                     "ownerReferences": [{"apiVersion": OLD, "kind": "Rollout", "name": "web",
                                          "uid": "u", "controller": true}]},
        "spec": {
            "targetReference": {"workloadRef": {"apiVersion": "apps.kruise.io/v1alpha1",
                                                "kind": "CloneSet", "name": "web"}},
            "releasePlan": {"batches": [{"canaryReplicas": "20%"}], "batchPartition": 0,
                            "rolloutID": "r", "failureThreshold": "10%"},
        },
        "status": {"phase": "Progressing", "observedReleasePlanHash": "x",
                   "canaryStatus": {"batchState": "Ready", "currentBatch": 0,
                                    "updatedReplicas": 2, "updatedReadyReplicas": 2}},
    });
    let up = convert(alpha.clone(), Way::Up);
    assert!(
        up["metadata"].get("annotations").is_none(),
        "the style is the field now, not also an annotation"
    );
    assert_eq!(up["metadata"]["ownerReferences"][0]["apiVersion"], HUB);
    let b: BatchRelease = serde_json::from_value(up.clone()).unwrap();
    assert_eq!(b.spec.workload_ref.kind, "CloneSet");
    assert_eq!(
        serde_json::to_value(b.spec.release_plan.rolling_style).unwrap(),
        json!("Partition")
    );
    assert_eq!(b.spec.release_plan.batch_partition, Some(0));
    let cs = b.status.unwrap().canary_status.unwrap();
    assert_eq!(cs.batch_state.as_deref(), Some("Ready"));
    let down = convert(up, Way::Down);
    assert_eq!(
        down["spec"]["targetReference"],
        alpha["spec"]["targetReference"]
    );
    assert_eq!(down["metadata"], alpha["metadata"]);
    assert_eq!(down["status"], alpha["status"]);
}

#[test]
fn lists_convert_item_by_item_and_other_kinds_pass() {
    let list = json!({"apiVersion": OLD, "kind": "RolloutList", "metadata": {},
                      "items": [seed_002()]});
    let up = convert(list, Way::Up);
    assert_eq!(up["apiVersion"], HUB);
    assert_eq!(up["items"][0]["spec"]["workloadRef"]["name"], "echoserver");
    let status = json!({"kind": "Status", "apiVersion": "v1", "code": 404});
    assert_eq!(convert(status.clone(), Way::Up), status);
}
