//! The Advanced StatefulSet plan, pass by pass against the imagined cluster, with the
//! expectations of upstream's own tests (stateful_set_control_test.go, e2e statefulset.go):
//! OrderedReady creates ordinal k+1 only once k is Running and Ready, Parallel at once;
//! reserved ordinals are skipped; a partition keeps the lowest ordinals; scale-in goes from
//! the highest ordinal down; in place keeps the pod.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::*;
use crate::controller::pod;
use crate::controller::statefulset::preview;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn set(spec: Value) -> StatefulSet {
    let mut v = json!({
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "ns", "uid": "set-uid", "generation": 1},
        "spec": {
            "replicas": 5,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"readinessGates": [{"conditionType": "InPlaceUpdateReady"}],
                         "containers": [{"name": "main", "image": "app:1"}]}}
        }
    });
    for (k, val) in spec.as_object().unwrap() {
        v["spec"][k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

fn world(s: StatefulSet) -> Snapshot {
    Snapshot {
        set: s,
        pods: vec![],
        revisions: vec![],
        pvcs: vec![],
        now: Timestamp::from_second(1_700_000_000).unwrap(),
    }
}

/// One pass: plan, apply; the plan is returned.
fn pass(w: &mut Snapshot) -> Plan {
    let p = plan(w).expect("plans");
    preview::apply(w, &p);
    p
}

fn created(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { pod, .. } => Some(pod.clone()),
            _ => None,
        })
        .collect()
}

fn deleted(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::Delete { pod, .. } => Some(pod.clone()),
            _ => None,
        })
        .collect()
}

fn in_place(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateInPlace { pod, .. } => Some(pod.clone()),
            _ => None,
        })
        .collect()
}

/// Passes (settling between them) until nothing is written; every pass's plan.
fn converge(w: &mut Snapshot) -> Vec<Plan> {
    let mut plans = Vec::new();
    for _ in 0..100 {
        let p = pass(w);
        let idle = p.actions.is_empty() && p.revision.is_none() && p.defaulted.is_none();
        plans.push(p);
        preview::settle(w);
        if idle && plans.len() > 1 && plans[plans.len() - 2].actions.is_empty() {
            break;
        }
    }
    plans
}

fn image(w: &Snapshot, name: &str) -> String {
    w.pods
        .iter()
        .find(|p| pod::name(p) == name)
        .and_then(|p| p.spec.as_ref()?.containers[0].image.clone())
        .unwrap_or_default()
}

fn set_image(w: &mut Snapshot, image: &str) {
    w.set.spec.template.0["spec"]["containers"][0]["image"] = json!(image);
    w.set.metadata.generation = Some(w.set.metadata.generation.unwrap_or(1) + 1);
}

#[test]
fn ordered_ready_creates_ordinal_after_ordinal_once_each_is_ready() {
    let mut w = world(set(json!({})));
    let first = pass(&mut w); // defaults written first
    assert!(first.defaulted.is_some() && first.actions.is_empty());
    let mut order = Vec::new();
    for _ in 0..5 {
        let p = pass(&mut w);
        assert_eq!(created(&p).len(), 1, "{:?}", p.actions);
        order.extend(created(&p));
        // Not yet Running and Ready: nothing more until it is.
        let again = pass(&mut w);
        assert!(created(&again).is_empty(), "{:?}", again.actions);
        preview::settle(&mut w);
    }
    assert_eq!(order, ["web-0", "web-1", "web-2", "web-3", "web-4"]);
    let p = pass(&mut w);
    assert_eq!(p.status.replicas, 5);
    assert_eq!(p.status.ready_replicas, 5);
    let name = |n: &str| -> Pod {
        w.pods
            .iter()
            .find(|p| pod::name(p) == n)
            .unwrap()
            .as_ref()
            .clone()
    };
    let p3 = name("web-3");
    assert_eq!(pod::label(&p3, POD_NAME), Some("web-3"));
    assert_eq!(pod::label(&p3, POD_INDEX), Some("3"));
    assert_eq!(pod::lifecycle_state(&p3), "Normal");
    let spec = p3.spec.unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-3"));
    assert_eq!(spec.subdomain.as_deref(), Some("web"));
}

#[test]
fn parallel_creates_every_ordinal_at_once_and_scale_max_unavailable_bounds_it() {
    let mut w = world(set(json!({"podManagementPolicy": "Parallel"})));
    pass(&mut w);
    let p = pass(&mut w);
    assert_eq!(created(&p), ["web-0", "web-1", "web-2", "web-3", "web-4"]);

    let mut w = world(set(json!({"podManagementPolicy": "Parallel",
        "scaleStrategy": {"maxUnavailable": 2}})));
    pass(&mut w);
    let p = pass(&mut w);
    assert_eq!(created(&p), ["web-0", "web-1"]);
    let p = pass(&mut w);
    assert!(
        created(&p).is_empty(),
        "two not yet available: {:?}",
        p.actions
    );
}

#[test]
fn reserved_ordinals_are_skipped_and_reserving_one_moves_the_pod() {
    let mut w = world(set(
        json!({"replicas": 3, "podManagementPolicy": "Parallel",
        "reserveOrdinals": [1, "3-4"]}),
    ));
    converge(&mut w);
    assert_eq!(preview::pod_names(&w), ["web-0", "web-2", "web-5"]);
    // Reserving 2 with replicas unchanged: web-2 goes, web-6 comes.
    w.set
        .spec
        .reserve_ordinals
        .as_mut()
        .unwrap()
        .push(IntOrString::Int(2));
    let plans = converge(&mut w);
    let all_deleted: Vec<String> = plans.iter().flat_map(deleted).collect();
    assert_eq!(all_deleted, ["web-2"]);
    assert_eq!(preview::pod_names(&w), ["web-0", "web-5", "web-6"]);
}

#[test]
fn partition_3_of_5_recreates_ordinals_4_then_3_only() {
    let mut w = world(set(json!({})));
    converge(&mut w);
    w.set
        .spec
        .update_strategy
        .as_mut()
        .unwrap()
        .rolling_update
        .as_mut()
        .unwrap()
        .partition = Some(3);
    set_image(&mut w, "app:2");
    let plans = converge(&mut w);
    let order: Vec<String> = plans.iter().flat_map(deleted).collect();
    assert_eq!(order, ["web-4", "web-3"]);
    for n in ["web-0", "web-1", "web-2"] {
        assert_eq!(image(&w, n), "app:1", "{n}");
    }
    for n in ["web-3", "web-4"] {
        assert_eq!(image(&w, n), "app:2", "{n}");
    }
    let st = w.set.status.clone().unwrap();
    assert_eq!((st.updated_replicas, st.current_replicas), (2, 3));
    assert_ne!(
        st.current_revision, st.update_revision,
        "not complete under a partition"
    );
}

#[test]
fn in_place_keeps_every_pod_and_respects_max_unavailable() {
    let mut w = world(set(json!({"podManagementPolicy": "Parallel",
        "updateStrategy": {"rollingUpdate": {"podUpdatePolicy": "InPlaceIfPossible", "maxUnavailable": 2}}})));
    converge(&mut w);
    let uids: BTreeSet<String> = w
        .pods
        .iter()
        .map(|p| p.metadata.uid.clone().unwrap())
        .collect();
    set_image(&mut w, "app:2");
    let plans = converge(&mut w);
    for p in &plans {
        assert!(deleted(p).is_empty(), "in place: {:?}", p.actions);
        assert!(
            in_place(p).len() <= 2,
            "maxUnavailable 2: {:?}",
            in_place(p)
        );
    }
    let order: Vec<String> = plans.iter().flat_map(in_place).collect();
    assert_eq!(order, ["web-4", "web-3", "web-2", "web-1", "web-0"]);
    let after: BTreeSet<String> = w
        .pods
        .iter()
        .map(|p| p.metadata.uid.clone().unwrap())
        .collect();
    assert_eq!(uids, after);
    assert!((0..5).all(|i| image(&w, &format!("web-{i}")) == "app:2"));
    let st = w.set.status.clone().unwrap();
    assert_eq!(st.current_revision, st.update_revision, "complete");
    for p in &w.pods {
        assert_eq!(
            pod::label(p, pod::keys::POD_TEMPLATE_HASH),
            None,
            "ASTS writes no pod-template-hash"
        );
    }
}

#[test]
fn scale_in_goes_from_the_highest_ordinal_one_at_a_time_and_honours_pre_delete() {
    let mut w = world(set(json!({})));
    converge(&mut w);
    w.set.spec.replicas = Some(3);
    let plans = converge(&mut w);
    let per_pass: Vec<Vec<String>> = plans
        .iter()
        .map(deleted)
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(
        per_pass,
        [vec!["web-4".to_string()], vec!["web-3".to_string()]]
    );

    let mut w = world(set(json!({"replicas": 2,
        "lifecycle": {"preDelete": {"labelsHandler": {"hold": "true"}}}})));
    converge(&mut w);
    for p in w.pods.iter_mut() {
        Arc::make_mut(p)
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("hold".into(), "true".into());
    }
    w.set.spec.replicas = Some(1);
    let plans = converge(&mut w);
    assert!(
        plans.iter().all(|p| deleted(p).is_empty()),
        "held by the hook"
    );
    let web1 = w.pods.iter().find(|p| pod::name(p) == "web-1").unwrap();
    assert_eq!(pod::lifecycle_state(web1), "PreparingDelete");
}

#[test]
fn in_place_only_refuses_a_change_that_needs_new_pods() {
    let mut w = world(set(
        json!({"replicas": 2, "updateStrategy": {"rollingUpdate": {"podUpdatePolicy": "InPlaceOnly"}}}),
    ));
    converge(&mut w);
    w.set.spec.template.0["spec"]["containers"][0]["env"] = json!([{"name": "X", "value": "1"}]);
    let p = pass(&mut w);
    assert!(deleted(&p).is_empty());
    assert!(
        p.errors.iter().any(|e| e.contains("InPlaceOnly")),
        "{:?}",
        p.errors
    );
}

#[test]
fn a_set_the_webhook_would_refuse_is_refused() {
    let w = world(set(json!({"selector": {"matchLabels": {"app": "other"}}})));
    let e = plan(&w).unwrap_err().to_string();
    assert!(e.contains("does not match template"), "{e}");
    let w = world(set(json!({"replicas": -1})));
    assert!(plan(&w).is_err());
}

#[test]
fn the_preview_ends_where_the_partition_holds() {
    let mut w = world(set(json!({})));
    converge(&mut w);
    w.set
        .spec
        .update_strategy
        .as_mut()
        .unwrap()
        .rolling_update
        .as_mut()
        .unwrap()
        .partition = Some(3);
    set_image(&mut w, "app:2");
    let pv = preview::preview(&w, 100).unwrap();
    assert_eq!(pv.rests_at, "partition");
    assert_eq!(pv.updated, 2);
}
