//! CloneSet partition style: the partition follows the steps and the pods are updated in
//! place (same pods, same UIDs) by the embedded CloneSet controller in the same process.

use kubectl_kruise::api::cloneset::CloneSet;

use super::*;

fn partition(cs: &CloneSet) -> Option<Value> {
    serde_json::to_value(cs).unwrap()["spec"]["updateStrategy"]
        .get("partition")
        .cloned()
}

#[tokio::test]
async fn cloneset_partition_follows_steps_in_place() {
    let (_c, ns) = new_ns("ro-cs").await;
    create::<CloneSet>(
        &ns,
        json!({"metadata": {"name": "web"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "web"}},
                "updateStrategy": {"type": "InPlaceIfPossible"},
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "main", "image": "app:1"}]}}}}),
    )
    .await;
    rollout(
        &ns,
        "ro",
        ("apps.kruise.io/v1alpha1", "CloneSet", "web"),
        json!({"steps": [{"replicas": "25%", "pause": {}}, {"replicas": 2, "pause": {}}, {"replicas": "100%"}]}),
    )
    .await;
    kruise_ok(
        &ns,
        &[
            "controller",
            "run",
            "--controllers",
            "cloneset,rollout,batchrelease",
            "--exit-when-done",
        ],
    );
    let sel = BTreeMap::from([("app".to_string(), "web".to_string())]);
    let before: BTreeMap<String, String> = pods(&ns, &sel)
        .await
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap(),
                p.metadata.uid.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(before.len(), 4);

    kruise_ok(&ns, &["set", "image", "cloneset/web", "main=app:2"]);
    let st = get_rollout(&ns, "ro").await.status.unwrap();
    assert_eq!(
        (st.current_step_index, st.current_step_state.as_str()),
        (1, "StepPaused")
    );
    let cs = ns.api::<CloneSet>().get("web").await.unwrap();
    assert_eq!(partition(&cs), Some(json!("75%")));
    let on = |ps: &[Pod]| ps.iter().filter(|p| image(p) == "app:2").count();
    assert_eq!(on(&pods(&ns, &sel).await), 1);

    kruise_ok(&ns, &["rollout", "approve", "rollout/ro"]);
    let cs = ns.api::<CloneSet>().get("web").await.unwrap();
    assert_eq!(
        partition(&cs),
        Some(json!(2)),
        "an int step writes an int partition"
    );
    assert_eq!(on(&pods(&ns, &sel).await), 2);

    kruise_ok(&ns, &["rollout", "approve", "rollout/ro"]);
    let st = rollout_until(&ns, "ro", "Healthy", |s| s["phase"] == "Healthy").await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    let cs = ns.api::<CloneSet>().get("web").await.unwrap();
    // Cleared at the end; the CloneSet defaulting (as upstream's webhook) writes 0 back.
    let p = partition(&cs);
    assert!(
        p.as_ref().is_none_or(|p| *p == json!(0)),
        "the partition is cleared at the end: {p:?}"
    );
    let after: BTreeMap<String, String> = pods(&ns, &sel)
        .await
        .iter()
        .map(|p| {
            (
                p.metadata.name.clone().unwrap(),
                p.metadata.uid.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(before, after, "the same pods, updated in place");
    assert_eq!(on(&pods(&ns, &sel).await), 4);
}

/// An Advanced StatefulSet partition style: the partition (32767 while held) comes down to let
/// the top ordinal update first, and is cleared at the end.
#[tokio::test]
async fn advanced_statefulset_partition_from_the_top() {
    use kubectl_kruise::api::statefulset::StatefulSet;
    let (_c, ns) = new_ns("ro-asts").await;
    create::<StatefulSet>(
        &ns,
        json!({"metadata": {"name": "db"},
            "spec": {"replicas": 3, "serviceName": "db", "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "main", "image": "app:1"}]}}}}),
    )
    .await;
    rollout(
        &ns,
        "ro",
        ("apps.kruise.io/v1beta1", "StatefulSet", "db"),
        json!({"steps": [{"replicas": 1, "pause": {}}, {"replicas": "100%"}]}),
    )
    .await;
    kruise_ok(
        &ns,
        &[
            "controller",
            "run",
            "--controllers",
            "statefulset,rollout,batchrelease",
            "--exit-when-done",
        ],
    );
    kruise_ok(&ns, &["set", "image", "asts/db", "main=app:2"]);
    let st = get_rollout(&ns, "ro").await.status.unwrap();
    assert_eq!(
        (st.current_step_index, st.current_step_state.as_str()),
        (1, "StepPaused")
    );
    let s = ns.api::<StatefulSet>().get("db").await.unwrap();
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(
        v["spec"]["updateStrategy"]["rollingUpdate"]["partition"],
        json!(2)
    );
    let sel = BTreeMap::from([("app".to_string(), "db".to_string())]);
    let on: Vec<String> = pods(&ns, &sel)
        .await
        .iter()
        .filter(|p| image(p) == "app:2")
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(on, vec!["db-2".to_string()], "the top ordinal first");
    kruise_ok(&ns, &["rollout", "approve", "rollout/ro"]);
    let st = rollout_until(&ns, "ro", "Healthy", |s| s["phase"] == "Healthy").await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    let all = pods(&ns, &sel).await;
    assert_eq!(all.iter().filter(|p| image(p) == "app:2").count(), 3);
}
