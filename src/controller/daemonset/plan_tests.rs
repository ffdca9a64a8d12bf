//! The plan against upstream's own cases (daemonset_update_test.go, daemonset_util_test.go),
//! a small simulator that applies a plan's actions to a world of nodes and pods, and
//! proptest invariants over it.

use super::*;
use crate::controller::inplace_state;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

fn ds(spec: Value) -> DaemonSet {
    let mut base = json!({
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}},
                              "spec": {"containers": [{"name": "c", "image": "agent:1"}]}}}
    });
    for (k, v) in spec.as_object().unwrap() {
        base["spec"][k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn node(name: &str, labels: Value, taints: Value) -> Arc<Node> {
    Arc::new(
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}
        }))
        .unwrap(),
    )
}

fn nodes(n: usize) -> Vec<Arc<Node>> {
    (0..n)
        .map(|i| node(&format!("n{i}"), json!({}), json!([])))
        .collect()
}

/// A running daemon pod of revision `hash` on `node`, ready (for a long time) or not.
fn dpod(name: &str, node: &str, hash: &str, ready: bool) -> Arc<Pod> {
    let mut p = Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-{name}")),
            labels: Some(
                [
                    ("app".into(), "agent".into()),
                    (HASH_LABEL.into(), hash.into()),
                ]
                .into(),
            ),
            owner_references: Some(vec![revisions::owner_reference(&ds(json!({})))]),
            creation_timestamp: Some(Time(Timestamp::from_second(NOW - 1000).unwrap())),
            ..Default::default()
        },
        spec: Some(Default::default()),
        status: None,
    };
    let spec = p.spec.as_mut().unwrap();
    spec.node_name = Some(node.into());
    spec.containers = vec![k8s_openapi::api::core::v1::Container {
        name: "c".into(),
        image: Some("agent:1".into()),
        ..Default::default()
    }];
    set_ready(&mut p, ready);
    Arc::new(p)
}

fn set_ready(p: &mut Pod, ready: bool) {
    let gate = pod::condition(p, keys::INPLACE_READY).cloned();
    p.status = Some(
        serde_json::from_value(json!({"phase": "Running", "conditions": [
            {"type": "Ready", "status": if ready {"True"} else {"False"},
             "lastTransitionTime": "2020-01-01T00:00:00Z"}]}))
        .unwrap(),
    );
    if let Some(g) = gate {
        p.status
            .as_mut()
            .unwrap()
            .conditions
            .as_mut()
            .unwrap()
            .push(g);
    }
}

fn set_gate(p: &mut Pod) {
    let conds = p
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new);
    conds.retain(|c| c.type_ != keys::INPLACE_READY);
    conds.push(
        serde_json::from_value(json!({"type": keys::INPLACE_READY, "status": "True"})).unwrap(),
    );
}

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The hash the plan gives `d`'s template.
fn hash_of(d: &DaemonSet) -> String {
    let p = plan(&snap(d.clone(), vec![], vec![])).unwrap();
    p.update_revision
}

fn snap(d: DaemonSet, nodes: Vec<Arc<Node>>, pods: Vec<Arc<Pod>>) -> Snapshot {
    Snapshot {
        daemonset: d,
        nodes,
        pods,
        revisions: vec![],
        now: now(),
        seed: 7,
    }
}

fn kinds(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .map(|a| match a {
            Action::Create { object, .. } => {
                format!("create {}", node::target_node(object).unwrap())
            }
            Action::Delete { pod, .. } => format!("delete {pod}"),
            Action::UpdateInPlace { pod, .. } => format!("inplace {pod}"),
            Action::Mark { pod, reason, .. } => format!("mark {pod} {reason}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn with_status(mut d: DaemonSet, desired: i32) -> DaemonSet {
    d.status = Some(DaemonSetStatus {
        desired_number_scheduled: desired,
        ..Default::default()
    });
    d
}

#[test]
fn one_pod_per_eligible_node_pinned_and_tolerant() {
    let d = ds(
        json!({"template": {"metadata": {"labels": {"app": "agent"}},
        "spec": {"nodeSelector": {"role": "edge"}, "containers": [{"name": "c", "image": "agent:1"}]}}}),
    );
    let ns = vec![
        node("a", json!({"role": "edge"}), json!([])),
        node("b", json!({"role": "core"}), json!([])),
        node(
            "c",
            json!({"role": "edge"}),
            json!([{"key": "x", "effect": "NoSchedule"}]),
        ),
        node(
            "d",
            json!({"role": "edge"}),
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        ),
    ];
    let p = plan(&snap(d, ns, vec![])).unwrap();
    assert_eq!(kinds(&p), ["create a", "create d"]);
    let Action::Create {
        object, revision, ..
    } = &p.actions[0]
    else {
        panic!()
    };
    assert_eq!(pod::label(object, HASH_LABEL), Some(revision.as_str()));
    assert!(
        object
            .metadata
            .name
            .as_deref()
            .unwrap()
            .starts_with("agent-")
    );
    let tols = object.spec.as_ref().unwrap().tolerations.as_ref().unwrap();
    assert!(
        tols.iter()
            .any(|t| t.key.as_deref() == Some("node.kubernetes.io/unschedulable"))
    );
    assert_eq!(p.status.desired_number_scheduled, 2);
    assert_eq!(
        p.status.observed_generation, None,
        "manage wrote: not a full pass"
    );
}

#[test]
fn misscheduled_failed_and_duplicate_pods_go() {
    let d = ds(
        json!({"template": {"metadata": {"labels": {"app": "agent"}},
        "spec": {"nodeSelector": {"role": "edge"}, "containers": [{"name": "c", "image": "agent:1"}]}}}),
    );
    let h = hash_of(&d);
    let ns = vec![
        node("a", json!({"role": "edge"}), json!([])),
        node("b", json!({}), json!([])),
    ];
    let mut failed = (*dpod("f", "a", &h, false)).clone();
    failed.status.as_mut().unwrap().phase = Some("Failed".into());
    let mut young = (*dpod("y", "a", &h, true)).clone();
    young.metadata.creation_timestamp = Some(Time(Timestamp::from_second(NOW - 10).unwrap()));
    let pods = vec![
        dpod("old", "a", &h, true),
        Arc::new(young),
        Arc::new(failed),
        dpod("mis", "b", &h, true),
    ];
    let p = plan(&snap(d, ns, pods)).unwrap();
    let mut k = kinds(&p);
    k.sort();
    assert_eq!(k, ["delete f", "delete mis", "delete y"]);
    assert_eq!(p.warnings.len(), 1);
    assert_eq!(p.status.number_misscheduled, 1);
}

#[test]
fn unscheduled_pod_of_a_gone_node_is_deleted() {
    let d = ds(json!({}));
    let h = hash_of(&d);
    let mut p = (*dpod("ghost", "gone", &h, false)).clone();
    let spec = p.spec.as_mut().unwrap();
    spec.node_name = None;
    node::pin(spec, "gone");
    let plan = plan(&snap(
        d,
        nodes(1),
        vec![Arc::new(p), dpod("ok", "n0", &h, true)],
    ))
    .unwrap();
    assert_eq!(kinds(&plan), ["delete ghost"]);
}

#[test]
fn burst_replicas_caps_creations_against_the_last_desired_count() {
    // Test_getBurstReplicas: percentages of status.desiredNumberScheduled, rounded down.
    let d = with_status(ds(json!({"burstReplicas": "50%"})), 5);
    assert_eq!(plan(&snap(d, nodes(5), vec![])).unwrap().actions.len(), 2);
    let d = with_status(ds(json!({"burstReplicas": 3})), 0);
    assert_eq!(plan(&snap(d, nodes(5), vec![])).unwrap().actions.len(), 3);
    let d = ds(json!({}));
    assert_eq!(plan(&snap(d, nodes(5), vec![])).unwrap().actions.len(), 5);
}

/// TestGetMaxCreateNum / TestCreatePodProgressively.
#[test]
fn partitioned_scaling_limits_creation() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let all = names(&["n3", "n1", "n2"]);
    assert_eq!(
        manage::nodes_needing_pods(0, 3, 1, false, all.clone()),
        names(&["n1", "n2", "n3"])
    );
    assert_eq!(
        manage::nodes_needing_pods(0, 3, 1, true, all.clone()),
        names(&["n1", "n2"])
    );
    assert_eq!(
        manage::nodes_needing_pods(1, 3, 1, true, all.clone()),
        names(&["n1"])
    );
    assert_eq!(
        manage::nodes_needing_pods(0, 3, 5, true, all.clone()),
        Vec::<String>::new()
    );
    assert_eq!(
        manage::nodes_needing_pods(0, 3, -1, true, all),
        names(&["n1", "n2", "n3"])
    );
    let d = with_status(
        ds(json!({"scaleStrategy": {"partitionedScaling": true},
                  "updateStrategy": {"rollingUpdate": {"partition": 2}}})),
        3,
    );
    assert_eq!(
        kinds(&plan(&snap(d, nodes(3), vec![])).unwrap()),
        ["create n0"]
    );
}

fn filter_case(
    partition: i32,
    selector: Option<Value>,
    pods: &[(&str, &str)],
    canary: &[&str],
) -> Vec<String> {
    let mut ru = json!({"partition": partition});
    if let Some(s) = selector {
        ru["selector"] = s;
    }
    let d = ds(json!({"updateStrategy": {"rollingUpdate": ru}}));
    let ns: Vec<Arc<Node>> = pods
        .iter()
        .map(|(n, _)| {
            let labels = if canary.contains(n) {
                json!({"node-type": "canary"})
            } else {
                json!({})
            };
            node(n, labels, json!([]))
        })
        .collect();
    let owned: Vec<Arc<Pod>> = pods
        .iter()
        .map(|(n, h)| dpod(&format!("p-{n}"), n, h, true))
        .collect();
    let refs: Vec<&Pod> = owned.iter().map(|p| p.as_ref()).collect();
    let d = validate::defaults(&d);
    let cx = Ctx {
        ds: &d,
        now: now(),
        hash: "v2".into(),
        generation: None,
        pod_spec: Default::default(),
        nodes: ns.iter().map(|n| n.as_ref()).collect(),
        by_node: by_node(&refs),
        min_ready: 0,
    };
    update::nodes_to_update(&cx, &cx.by_node)
}

/// TestFilterDaemonPodsNodeToUpdate.
#[test]
fn nodes_to_update_follow_upstreams_order() {
    let sel = || Some(json!({"matchLabels": {"node-type": "canary"}}));
    assert_eq!(
        filter_case(0, None, &[("n1", "v1"), ("n2", "v2"), ("n3", "v1")], &[]),
        ["n2", "n3", "n1"]
    );
    assert_eq!(
        filter_case(1, None, &[("n1", "v2"), ("n2", "v1"), ("n3", "v1")], &[]),
        ["n1", "n3"]
    );
    assert_eq!(
        filter_case(
            1,
            sel(),
            &[("n1", "v1"), ("n2", "v2"), ("n3", "v1"), ("n4", "v1")],
            &["n3"]
        ),
        ["n2", "n3"]
    );
    assert_eq!(
        filter_case(
            2,
            sel(),
            &[("n1", "v1"), ("n2", "v2"), ("n3", "v1"), ("n4", "v1")],
            &["n1", "n3", "n4"]
        ),
        ["n2", "n4"]
    );
}

/// A world the simulator moves: the DaemonSet, nodes, and pods by name.
struct World {
    ds: DaemonSet,
    nodes: Vec<Arc<Node>>,
    pods: BTreeMap<String, Pod>,
    revisions: Vec<ControllerRevision>,
    seed: u64,
}

impl World {
    fn new(d: DaemonSet, n: usize) -> World {
        World {
            ds: d,
            nodes: nodes(n),
            pods: BTreeMap::new(),
            revisions: vec![],
            seed: 1,
        }
    }

    fn plan(&mut self) -> Plan {
        self.seed += 1;
        plan(&Snapshot {
            daemonset: self.ds.clone(),
            nodes: self.nodes.clone(),
            pods: self.pods.values().cloned().map(Arc::new).collect(),
            revisions: self.revisions.clone(),
            now: now(),
            seed: self.seed,
        })
        .unwrap()
    }

    /// Apply a plan: created pods start unready unless `ready`, deletions are immediate.
    fn apply(&mut self, p: &Plan, ready: &mut impl FnMut(&str) -> bool) {
        if let Some(RevisionWrite::Create { revision, .. }) = &p.revision {
            self.revisions.push((**revision).clone());
        }
        for a in &p.actions {
            match a {
                Action::Create { pod, object, .. } => {
                    let mut o = (**object).clone();
                    o.metadata.uid = Some(format!("uid-{pod}"));
                    o.metadata.creation_timestamp = Some(Time(now()));
                    o.spec.as_mut().unwrap().node_name = node::target_node(&o);
                    set_ready(&mut o, ready(pod));
                    self.pods.insert(pod.clone(), o);
                }
                Action::Delete { pod, .. } => {
                    self.pods.remove(pod);
                }
                Action::UpdateInPlace {
                    pod, to, change, ..
                } => {
                    let o = self.pods.get_mut(pod).unwrap();
                    inplace_state::begin(o, to, false, false, change, 0, now());
                }
                Action::Mark { pod, marks, .. } => {
                    let o = self.pods.get_mut(pod).unwrap();
                    inplace_state::set_meta(&mut o.metadata.labels, &marks.labels);
                    if marks.gate_ready {
                        set_gate(o);
                    }
                }
                _ => {}
            }
        }
        self.ds.status = Some(p.status.clone());
    }

    fn ready_all(&mut self) {
        for p in self.pods.values_mut() {
            set_ready(p, true);
        }
    }

    fn on_node(&self, n: &str) -> Vec<&Pod> {
        self.pods.values().filter(|p| pod::node(p) == n).collect()
    }
}

fn set_image(d: &mut DaemonSet, image: &str) {
    d.spec.template.0["spec"]["containers"][0]["image"] = json!(image);
    d.metadata.generation = Some(d.metadata.generation.unwrap_or(1) + 1);
}

/// Roll `w` until the plan writes nothing and every pod is ready, calling `check` after each
/// pass; pods become ready one pass after they appear.
fn roll(w: &mut World, mut check: impl FnMut(&World, &Plan)) -> usize {
    for i in 0..100 {
        let p = w.plan();
        check(w, &p);
        if p.actions.is_empty() && p.revision.is_none() && !p.status_changed {
            return i;
        }
        w.ready_all();
        w.apply(&p, &mut |_| false);
    }
    panic!("did not settle");
}

/// TestDaemonSetUpdatesPods: maxUnavailable old pods replaced at a time.
#[test]
fn standard_update_replaces_max_unavailable_at_a_time() {
    let mut w = World::new(
        ds(json!({"updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}})),
        5,
    );
    roll(&mut w, |_, _| {});
    set_image(&mut w.ds, "agent:2");
    let p = w.plan();
    assert_eq!(
        p.actions
            .iter()
            .filter(|a| matches!(a, Action::Delete { .. }))
            .count(),
        2
    );
    roll(&mut w, |_, p| {
        let deletes = p
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Delete { .. }))
            .count();
        assert!(deletes <= 2);
    });
    let h = w.plan().update_revision;
    assert!(w.pods.values().all(|p| pod::revision(p) == h));
    assert_eq!(w.pods.len(), 5);
    assert_eq!(w.ds.status.as_ref().unwrap().updated_number_scheduled, 5);
}

/// TestDaemonSetUpdatesPodsWithMaxSurge: new pods beside old ones, old deleted once the new
/// one is available.
#[test]
fn surge_creates_beside_and_deletes_after() {
    let mut w = World::new(
        ds(json!({"updateStrategy": {"rollingUpdate": {"maxSurge": 2}}})),
        5,
    );
    roll(&mut w, |_, _| {});
    set_image(&mut w.ds, "agent:2");
    let p = w.plan();
    assert_eq!(
        kinds(&p).iter().filter(|k| k.starts_with("create")).count(),
        2
    );
    assert!(!kinds(&p).iter().any(|k| k.starts_with("delete")));
    roll(&mut w, |w, _| {
        let ready = w.pods.values().filter(|p| pod::is_ready(p)).count();
        assert!(
            ready >= 5 || w.pods.len() < 5,
            "surge keeps every node's old pod until its new one is available"
        );
    });
    assert_eq!(w.pods.len(), 5);
}

/// TestDaemonSetUpdatesAllOldPodsNotReady: unavailable old pods are replaced at once.
#[test]
fn unavailable_old_pods_are_replaced_at_once() {
    let mut w = World::new(
        ds(json!({"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}}})),
        4,
    );
    roll(&mut w, |_, _| {});
    for p in w.pods.values_mut() {
        set_ready(p, false);
    }
    set_image(&mut w.ds, "agent:2");
    let p = w.plan();
    assert_eq!(
        kinds(&p).iter().filter(|k| k.starts_with("delete")).count(),
        4
    );
}

#[test]
fn paused_and_partition_and_on_delete_hold_updates() {
    for spec in [
        json!({"updateStrategy": {"rollingUpdate": {"paused": true}}}),
        json!({"updateStrategy": {"rollingUpdate": {"partition": 3}}}),
        json!({"updateStrategy": {"type": "OnDelete"}}),
    ] {
        let mut w = World::new(ds(spec.clone()), 3);
        roll(&mut w, |_, _| {});
        set_image(&mut w.ds, "agent:2");
        let p = w.plan();
        assert!(p.actions.is_empty(), "{spec}: {:?}", kinds(&p));
        assert_eq!(p.status.observed_generation, Some(2));
    }
}

#[test]
fn in_place_if_possible_updates_images_in_place_and_recreates_the_rest() {
    let mut w = World::new(
        ds(
            json!({"updateStrategy": {"rollingUpdate": {"rollingUpdateType": "InPlaceIfPossible", "maxUnavailable": 3}}}),
        ),
        3,
    );
    roll(&mut w, |_, _| {});
    assert!(
        w.pods
            .values()
            .all(|p| pod::has_gate(p, keys::INPLACE_READY))
    );
    set_image(&mut w.ds, "agent:2");
    let p = w.plan();
    assert_eq!(
        kinds(&p)
            .iter()
            .filter(|k| k.starts_with("inplace"))
            .count(),
        3
    );
    let Action::UpdateInPlace {
        to,
        lifecycle,
        template_hash,
        change,
        ..
    } = &p.actions[0]
    else {
        panic!()
    };
    assert_eq!(to, &p.update_revision, "the bare hash is written");
    assert!(!lifecycle && !template_hash);
    assert_eq!(change.images["c"], "agent:2");
    // An env change cannot go in place: the pods are deleted.
    let mut w2 = World::new(w.ds.clone(), 1);
    roll(&mut w2, |_, _| {});
    w2.ds.spec.template.0["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    assert!(kinds(&w2.plan())[0].starts_with("delete"));
}

#[test]
fn pre_delete_hook_prepares_instead_of_deleting() {
    let d = ds(
        json!({"lifecycle": {"preDelete": {"labelsHandler": {"hold": "true"}}},
        "template": {"metadata": {"labels": {"app": "agent"}},
        "spec": {"nodeSelector": {"role": "edge"}, "containers": [{"name": "c", "image": "agent:1"}]}}}),
    );
    let h = hash_of(&d);
    let mut held = (*dpod("held", "a", &h, true)).clone();
    held.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("hold".into(), "true".into());
    let p = plan(&snap(
        d.clone(),
        vec![node("a", json!({}), json!([]))],
        vec![Arc::new(held.clone())],
    ))
    .unwrap();
    assert_eq!(kinds(&p), ["mark held preDelete hook"]);
    // PreparingDelete and still hooked: nothing; unhooked: deleted.
    held.metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(keys::STATE.into(), state::PREPARING_DELETE.into());
    let p = plan(&snap(
        d.clone(),
        vec![node("a", json!({}), json!([]))],
        vec![Arc::new(held.clone())],
    ))
    .unwrap();
    assert!(p.actions.is_empty());
    held.metadata.labels.as_mut().unwrap().remove("hold");
    let p = plan(&snap(
        d,
        vec![node("a", json!({}), json!([]))],
        vec![Arc::new(held)],
    ))
    .unwrap();
    assert_eq!(kinds(&p), ["delete held"]);
}

#[test]
fn revisions_match_by_bytes_renumber_and_prune() {
    let mut w = World::new(ds(json!({"revisionHistoryLimit": 1})), 1);
    roll(&mut w, |_, _| {});
    assert_eq!(w.revisions.len(), 1);
    let first = w.revisions[0].clone();
    assert_eq!(first.labels()[HASH_LABEL], w.plan().update_revision);
    assert_eq!(first.owner_references()[0].kind, "DaemonSet");
    for image in ["agent:2", "agent:3"] {
        set_image(&mut w.ds, image);
        roll(&mut w, |_, _| {});
    }
    assert_eq!(w.revisions.len(), 3);
    let p = w.plan();
    assert_eq!(
        p.delete_revisions,
        [first.name_any()],
        "beyond the limit, no pod on it"
    );
    // Back to the first template: its revision is renumbered, not recreated.
    set_image(&mut w.ds, "agent:1");
    let p = w.plan();
    assert!(
        matches!(&p.revision, Some(RevisionWrite::Renumber { name, revision: 4, .. }) if *name == first.name_any())
    );
}

#[test]
fn an_invalid_spec_is_refused_with_a_reason() {
    let d = ds(json!({"selector": {"matchLabels": {"app": "other"}}}));
    let p = plan(&snap(d, nodes(2), vec![])).unwrap();
    assert!(p.actions.is_empty());
    let c = &p.status.conditions.as_ref().unwrap()[0];
    assert_eq!(c.reason.as_deref(), Some(REFUSED_REASON));
    assert!(
        c.message
            .as_ref()
            .unwrap()
            .contains("spec.template.metadata.labels")
    );
    assert_eq!(p.status.observed_generation, Some(1));
}

#[test]
fn status_counts_the_oldest_pod_per_node() {
    let mut w = World::new(ds(json!({"minReadySeconds": 5})), 3);
    roll(&mut w, |_, _| {});
    let st = w.ds.status.clone().unwrap();
    assert_eq!(
        (
            st.desired_number_scheduled,
            st.current_number_scheduled,
            st.number_ready,
            st.number_available
        ),
        (3, 3, 3, Some(3))
    );
    assert_eq!(st.number_unavailable, Some(0));
    assert_eq!(
        st.update_revision.as_deref(),
        Some(w.plan().update_revision.as_str())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Without surge, the plan's deletions never leave more than maxUnavailable nodes
    /// without an available pod (nodes already unavailable excepted); a node never holds two
    /// new pods; partition nodes keep the old revision.
    #[test]
    fn rolling_update_invariants(
        n in 1usize..8,
        max_unavailable in 1i32..4,
        partition in 0i32..6,
        surge in 0i32..3,
        flaky in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let ru = if surge > 0 {
            json!({"maxSurge": surge, "partition": partition})
        } else {
            json!({"maxUnavailable": max_unavailable, "partition": partition})
        };
        let mut w = World::new(ds(json!({"updateStrategy": {"rollingUpdate": ru}})), n);
        roll(&mut w, |_, _| {});
        set_image(&mut w.ds, "agent:2");
        let hash = w.plan().update_revision;
        let mut flaky = flaky.into_iter().cycle();
        for _ in 0..60 {
            let p = w.plan();
            let unavailable = |w: &World| (0..n).filter(|i| {
                !w.on_node(&format!("n{i}")).iter().any(|p| available(p, 0, now()))
            }).count() as i32;
            let before = unavailable(&w);
            let mut after = World { ds: w.ds.clone(), nodes: w.nodes.clone(), pods: w.pods.clone(), revisions: vec![], seed: 0 };
            for a in &p.actions {
                if let Action::Delete { pod, .. } = a { after.pods.remove(pod); }
            }
            if surge == 0 {
                prop_assert!(unavailable(&after) <= before.max(max_unavailable),
                    "{} unavailable after the plan's deletions (before {before}, max {max_unavailable})", unavailable(&after));
            } else {
                prop_assert!(unavailable(&after) <= before, "surge never deletes an old pod before its new one is available");
            }
            w.apply(&p, &mut |_| flaky.next().unwrap());
            for p in w.pods.values_mut() {
                if flaky.next().unwrap() { set_ready(p, true); }
            }
            for i in 0..n {
                let new = w.on_node(&format!("n{i}")).iter().filter(|p| pod::revision(p) == hash).count();
                prop_assert!(new <= 1, "two new pods on n{i}");
            }
            let updated = w.pods.values().filter(|p| pod::revision(p) == hash).count() as i32;
            prop_assert!(updated <= (n as i32 - partition).max(0), "{updated} updated with partition {partition} of {n}");
        }
    }
}

/// The preview (`--dry-run=client`): from nothing, one pod per node in the first batch; then
/// an image change under maxUnavailable 1 goes one node per batch, and a partition of 1 rests
/// with 3 of 4 nodes updated.
#[test]
fn the_preview_places_then_updates_node_by_node() {
    use crate::controller::daemonset::preview;
    let start = snap(ds(json!({})), nodes(4), vec![]);
    let pv = preview::preview(&start, 100).unwrap();
    assert_eq!(pv.rests_at, "complete", "{pv:?}");
    assert_eq!((pv.desired, pv.updated), (4, 4));
    let created: usize = pv
        .batches
        .iter()
        .flat_map(|b| &b.actions)
        .filter(|a| matches!(a, Action::Create { .. }))
        .count();
    assert_eq!(created, 4);

    // The imagined cluster after it: every pod on its own node, Ready.
    let mut world = start.clone();
    for _ in 0..10 {
        let p = plan(&world).unwrap();
        preview::apply(&mut world, &p);
        preview::settle(&mut world);
    }
    let placed: std::collections::BTreeSet<String> = world
        .pods
        .iter()
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect();
    assert_eq!(placed.len(), 4, "one pod per node, on its pinned node");
    world.daemonset.spec.template.0["spec"]["containers"][0]["image"] = json!("agent:2");
    world.daemonset.spec.update_strategy = serde_json::from_value(json!(
        {"rollingUpdate": {"partition": 1, "maxUnavailable": 1}}))
    .unwrap();
    let pv = preview::preview(&world, 100).unwrap();
    assert_eq!(pv.rests_at, "partition", "{pv:?}");
    assert_eq!(pv.updated, 3);
    for b in &pv.batches {
        let deletes = b
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Delete { .. }))
            .count();
        assert!(deletes <= 1, "maxUnavailable 1: {b:?}");
    }
}
