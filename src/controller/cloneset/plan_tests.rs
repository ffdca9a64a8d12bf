use super::*;
use crate::api::cloneset::{CloneSetScaleStrategy, CloneSetSpec, CloneSetUpdateStrategy};
use crate::api::common::PodTemplate;
use crate::controller::cloneset::preview::{self, Preview};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::SignedDuration;
use proptest::prelude::*;
use serde_json::json;

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn cloneset(replicas: i32, image: &str) -> CloneSet {
    let mut cs = CloneSet::new(
        "web",
        CloneSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some([("app".to_string(), "web".to_string())].into()),
                match_expressions: None,
            },
            template: PodTemplate(
                json!({"metadata":{"labels":{"app":"web"}},
                       "spec":{"containers":[{"name":"nginx","image":image}]}})
                .as_object()
                .unwrap()
                .clone(),
            ),
            ..Default::default()
        },
    );
    cs.metadata.namespace = Some("t".into());
    cs.metadata.uid = Some("uid-web".into());
    cs.metadata.generation = Some(1);
    cs
}

fn snapshot(cs: CloneSet) -> Snapshot {
    Snapshot {
        cloneset: cs,
        pods: vec![],
        revisions: vec![],
        pvcs: vec![],
        now: t0(),
        seed: 7,
    }
}

/// Run the preview to rest and return the world it leaves.
fn converge(s: &Snapshot) -> Snapshot {
    let mut world = s.clone();
    for _ in 0..200 {
        let p = plan(&world).unwrap();
        let idle = p.actions.is_empty() && p.revision.is_none() && p.defaulted.is_none();
        preview::apply(&mut world, &p);
        preview::settle(&mut world);
        world.now = world
            .now
            .checked_add(SignedDuration::from_secs(31))
            .unwrap();
        if idle && !p.status_changed {
            return world;
        }
    }
    panic!("did not converge");
}

fn with_update(mut cs: CloneSet, f: impl FnOnce(&mut CloneSetUpdateStrategy)) -> CloneSet {
    f(cs.spec.update_strategy.get_or_insert_with(Default::default));
    cs
}

fn set_image(world: &mut Snapshot, image: &str) {
    let t = &mut world.cloneset.spec.template.0;
    t["spec"]["containers"][0]["image"] = json!(image);
    world.cloneset.metadata.generation = Some(world.cloneset.metadata.generation.unwrap() + 1);
}

fn preview_of(world: &Snapshot) -> Preview {
    preview::preview(world, 200).unwrap()
}

fn kinds(p: &Preview) -> Vec<Vec<&'static str>> {
    p.batches
        .iter()
        .map(|b| {
            b.actions
                .iter()
                .map(|a| match a {
                    Action::Create { .. } => "create",
                    Action::Delete { .. } => "delete",
                    Action::UpdateInPlace { .. } => "inplace",
                    Action::FinishGrace { .. } => "finish",
                    Action::Mark { .. } => "mark",
                    Action::Release { .. } => "release",
                    Action::DeletePvc { .. } => "deletepvc",
                    Action::ReownPvc { .. } => "reownpvc",
                })
                .collect()
        })
        .collect()
}

#[test]
fn seed_scenario_create_scale_delete_inplace_partition() {
    // 01: three replicas.
    let mut world = converge(&snapshot(cloneset(3, "nginx:1.20")));
    let st = world.cloneset.status.clone().unwrap();
    assert_eq!(
        (st.replicas, st.ready_replicas, st.available_replicas),
        (3, 3, 3)
    );
    for p in &world.pods {
        let name = pod::name(p);
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert_eq!(pod::lifecycle_state(p), state::NORMAL);
        assert!(pod::has_gate(p, keys::INPLACE_READY));
        assert_eq!(pod::label(p, keys::INSTANCE_ID), Some(&name[4..]));
    }
    // 02: scale to five, one at a time under scaleStrategy.maxUnavailable 1.
    world.cloneset.spec.replicas = Some(5);
    world.cloneset.spec.scale_strategy = Some(CloneSetScaleStrategy {
        max_unavailable: Some(IntOrString::Int(1)),
        ..Default::default()
    });
    let pv = preview_of(&world);
    assert_eq!(kinds(&pv), vec![vec!["create"], vec!["create"]]);
    world = converge(&world);
    assert_eq!(world.pods.len(), 5);
    // 03: replicas 4 and podsToDelete names one pod: exactly that one goes.
    let victim = pod::name(&world.pods[2]).to_string();
    world.cloneset.spec.replicas = Some(4);
    world
        .cloneset
        .spec
        .scale_strategy
        .as_mut()
        .unwrap()
        .pods_to_delete = Some(vec![victim.clone()]);
    let pv = preview_of(&world);
    assert_eq!(kinds(&pv), vec![vec!["delete"]]);
    assert_eq!(pv.batches[0].actions[0].pod(), victim);
    world = converge(&world);
    assert_eq!(world.pods.len(), 4);
    assert!(world.pods.iter().all(|p| pod::name(p) != victim));
    assert_eq!(
        world
            .cloneset
            .spec
            .scale_strategy
            .as_ref()
            .unwrap()
            .pods_to_delete,
        Some(vec![]),
        "the name of the deleted pod is pruned"
    );
    // 04: in place, nginx:latest; names and uids kept, restartCount bumped, imageID changed.
    let before: Vec<(String, String)> = world
        .pods
        .iter()
        .map(|p| (pod::name(p).to_string(), p.metadata.uid.clone().unwrap()))
        .collect();
    world = with_update_world(world, CloneSetUpdateStrategyType::InPlaceIfPossible);
    set_image(&mut world, "nginx:latest");
    let pv = preview_of(&world);
    // 20% of 4 rounds up to 1: one pod per batch.
    assert!(
        pv.batches.iter().all(|b| b.actions.len() == 1),
        "{:?}",
        kinds(&pv)
    );
    assert!(kinds(&pv).iter().flatten().all(|k| *k == "inplace"));
    assert_eq!(pv.rests_at, "complete");
    world = converge(&world);
    let after: Vec<(String, String)> = world
        .pods
        .iter()
        .map(|p| (pod::name(p).to_string(), p.metadata.uid.clone().unwrap()))
        .collect();
    assert_eq!(before, after);
    for p in &world.pods {
        let cs = &p
            .status
            .as_ref()
            .unwrap()
            .container_statuses
            .as_ref()
            .unwrap()[0];
        assert_eq!(cs.restart_count, 1);
        assert_eq!(cs.image_id, "sim/nginx:latest");
        assert_eq!(pod::lifecycle_state(p), state::NORMAL);
    }
    // 05: partition 2 back to 1.20: exactly two pods stay on the old image.
    world
        .cloneset
        .spec
        .update_strategy
        .as_mut()
        .unwrap()
        .partition = Some(IntOrString::Int(2));
    set_image(&mut world, "nginx:1.20");
    let pv = preview_of(&world);
    assert_eq!(pv.rests_at, "partition");
    assert_eq!(pv.updated, 2);
    world = converge(&world);
    let old = world
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:latest"))
        .count();
    assert_eq!(old, 2);
}

fn with_update_world(mut w: Snapshot, t: CloneSetUpdateStrategyType) -> Snapshot {
    w.cloneset = with_update(w.cloneset, |u| u.type_ = Some(t));
    w
}

#[test]
fn recreate_update_marks_then_deletes_then_creates() {
    let mut world = converge(&snapshot(cloneset(5, "a:1")));
    set_image(&mut world, "a:2");
    let pv = preview_of(&world);
    let flat: Vec<&str> = kinds(&pv).into_iter().flatten().collect();
    assert!(flat.contains(&"mark") && flat.contains(&"delete") && flat.contains(&"create"));
    assert_eq!(pv.rests_at, "complete");
    let world = converge(&world);
    assert!(
        world
            .pods
            .iter()
            .all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("a:2"))
    );
}

#[test]
fn inplace_only_refuses_a_non_image_change() {
    let mut world = converge(&snapshot(with_update(cloneset(2, "a:1"), |u| {
        u.type_ = Some(CloneSetUpdateStrategyType::InPlaceOnly)
    })));
    world.cloneset.spec.template.0["spec"]["containers"][0]["env"] =
        json!([{"name":"X","value":"1"}]);
    let p = plan(&world).unwrap();
    assert!(p.actions.is_empty());
    assert!(
        p.errors
            .iter()
            .any(|e| e.contains("cannot be updated in place")),
        "{:?}",
        p.errors
    );
    let failed = p.status.conditions.unwrap_or_default();
    assert!(failed.iter().any(|c| c.type_ == "FailedUpdate"));
}

#[test]
fn worked_example_from_the_reference() {
    let cs = cloneset(10, "a:1");
    let lim = Limits::of(&defaults::apply(&cs));
    assert_eq!(lim.max_unavailable, 2);
    let pods: Vec<Pod> = (0..10)
        .map(|i| ready_pod(&format!("p{i}"), "web-old", t0()))
        .collect();
    let refs: Vec<&Pod> = pods.iter().collect();
    let d = diffs(&lim, &refs, "web-new", &BTreeSet::new(), false, t0());
    assert_eq!((d.update_num, d.update_max_unavailable), (10, 2));
    let mut surge = cs.clone();
    surge.spec.update_strategy = Some(CloneSetUpdateStrategy {
        max_surge: Some(IntOrString::Int(1)),
        ..Default::default()
    });
    let lim = Limits::of(&defaults::apply(&surge));
    let d = diffs(&lim, &refs, "web-new", &BTreeSet::new(), false, t0());
    assert_eq!((d.use_surge, d.scale_up_num), (1, 1));
}

fn ready_pod(name: &str, rev: &str, ready_since: Timestamp) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "t", "uid": format!("uid-{name}"),
            "labels": {"app": "web", keys::REVISION: rev, keys::STATE: "Normal"},
            "ownerReferences": [{"apiVersion":"apps.kruise.io/v1alpha1","kind":"CloneSet","name":"web","uid":"uid-web","controller":true}]},
        "spec": {"nodeName": "n1", "containers": [{"name":"nginx","image":"a:1"}],
                 "readinessGates": [{"conditionType": keys::INPLACE_READY}]},
        "status": {"phase": "Running", "conditions": [
            {"type":"Ready","status":"True","lastTransitionTime": ready_since.to_string()},
            {"type": keys::INPLACE_READY, "status":"True"}]}
    }))
    .unwrap()
}

/// Status fields as upstream computes them for the same pods (reference notes §3.10).
#[test]
fn status_matches_upstream_table() {
    struct Row {
        name: &'static str,
        pods: Vec<Pod>,
        min_ready: i32,
        partition: Option<IntOrString>,
        // replicas, ready, available, updated, updatedReady, updatedAvailable, expectedUpdated
        want: (i32, i32, i32, i32, i32, i32, i32),
    }
    let now = t0();
    let long_ago = now.checked_sub(SignedDuration::from_secs(600)).unwrap();
    let just_now = now.checked_sub(SignedDuration::from_secs(2)).unwrap();
    let cs0 = cloneset(4, "a:1");
    let update = revision::name(
        "web",
        &revision::hash(
            &revision::payload(&defaults::apply(&cs0).spec.template.0),
            0,
        ),
    );
    let new = |n: &str, t| ready_pod(n, &update, t);
    let old = |n: &str, t| ready_pod(n, "web-oldrev", t);
    let mut not_ready = new("nr", long_ago);
    not_ready
        .status
        .as_mut()
        .unwrap()
        .conditions
        .as_mut()
        .unwrap()[0]
        .status = "False".into();
    let mut gate_false = new("gf", long_ago);
    gate_false
        .status
        .as_mut()
        .unwrap()
        .conditions
        .as_mut()
        .unwrap()[1]
        .status = "False".into();
    let mut preparing = old("pd", long_ago);
    preparing
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(keys::STATE.into(), state::PREPARING_DELETE.into());
    let mut short_hash = new("sh", long_ago);
    short_hash
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(keys::REVISION.into(), pod::short_hash(&update).into());
    let mut terminating = new("tm", long_ago);
    terminating.metadata.deletion_timestamp = Some(Time(now));
    let rows = vec![
        Row {
            name: "all new and ready",
            pods: vec![new("a", long_ago), new("b", long_ago)],
            min_ready: 0,
            partition: None,
            want: (2, 2, 2, 2, 2, 2, 4),
        },
        Row {
            name: "minReadySeconds not yet reached",
            pods: vec![new("a", long_ago), new("b", just_now)],
            min_ready: 10,
            partition: None,
            want: (2, 2, 1, 2, 2, 1, 4),
        },
        Row {
            name: "old pods count as ready, not updated",
            pods: vec![old("a", long_ago), new("b", long_ago)],
            min_ready: 0,
            partition: Some(IntOrString::Int(1)),
            want: (2, 2, 2, 1, 1, 1, 3),
        },
        Row {
            name: "not ready and gate false",
            pods: vec![not_ready, gate_false],
            min_ready: 0,
            partition: None,
            want: (2, 0, 0, 2, 0, 0, 4),
        },
        Row {
            name: "PreparingDelete is ready but not available",
            pods: vec![preparing],
            min_ready: 0,
            partition: None,
            want: (1, 1, 0, 0, 0, 0, 4),
        },
        Row {
            name: "short hash label matches the update revision",
            pods: vec![short_hash],
            min_ready: 0,
            partition: Some(IntOrString::String("50%".into())),
            want: (1, 1, 1, 1, 1, 1, 2),
        },
        Row {
            name: "terminating pods are not counted",
            pods: vec![terminating, new("a", long_ago)],
            min_ready: 0,
            partition: Some(IntOrString::String("5".into())),
            want: (1, 1, 1, 1, 1, 1, 0),
        },
    ];
    for row in rows {
        let mut cs = cs0.clone();
        cs.spec.min_ready_seconds = Some(row.min_ready);
        cs.spec.update_strategy = Some(CloneSetUpdateStrategy {
            partition: row.partition.clone(),
            paused: Some(true),
            ..Default::default()
        });
        let mut s = snapshot(cs);
        s.pods = row.pods.into_iter().map(Arc::new).collect();
        let p = plan(&s).unwrap();
        if row.partition == Some(IntOrString::String("5".into())) {
            // Upstream's webhook refuses this partition, so its controller would never see
            // it (were it to, expectedUpdatedReplicas would stay 0). Ours refuses to act and
            // says which value.
            assert!(p.actions.is_empty());
            let c = p
                .status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "FailedScale");
            let msg = c.and_then(|c| c.message.clone()).unwrap_or_default();
            assert!(
                msg.contains("spec.updateStrategy.partition") && msg.contains("\"5\""),
                "{msg}"
            );
            continue;
        }
        let st = p.status;
        let got = (
            st.replicas,
            st.ready_replicas,
            st.available_replicas,
            st.updated_replicas,
            st.updated_ready_replicas,
            st.updated_available_replicas.unwrap(),
            st.expected_updated_replicas.unwrap(),
        );
        assert_eq!(got, row.want, "{}", row.name);
        assert_eq!(
            st.label_selector.as_deref(),
            Some("app=web"),
            "{}",
            row.name
        );
        assert_eq!(
            st.update_revision.as_deref(),
            Some(update.as_str()),
            "{}",
            row.name
        );
    }
}

#[test]
fn a_foreign_pod_is_never_touched_and_a_released_pod_is_let_go() {
    let mut world = converge(&snapshot(cloneset(3, "a:1")));
    let mut foreign = ready_pod("other-1", "x", t0());
    foreign.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "apps/v1".into(),
        kind: "ReplicaSet".into(),
        name: "other".into(),
        uid: "uid-other".into(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    world.pods.push(Arc::new(foreign));
    world.cloneset.spec.replicas = Some(0);
    let pv = preview_of(&world);
    assert!(
        pv.batches
            .iter()
            .flat_map(|b| &b.actions)
            .all(|a| a.pod() != "other-1")
    );
    // A pod relabelled out of the selector is released, not deleted.
    let mut world = converge(&snapshot(cloneset(2, "a:1")));
    Arc::make_mut(&mut world.pods[0])
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("app".into(), "debug".into());
    let p = plan(&world).unwrap();
    assert!(matches!(&p.actions[0], Action::Release { .. }));
}

/// A pod that refers to the CloneSet without being controlled by it (no controller flag) is
/// not the CloneSet's: never counted, released or deleted (upstream claims only what it
/// controls). Before, it was "released" every pass by a patch that changed nothing.
#[test]
fn a_pod_referring_to_the_cloneset_without_control_is_left_alone() {
    let mut world = converge(&snapshot(cloneset(2, "a:1")));
    let mut stray = ready_pod("stray", "x", t0());
    stray.metadata.owner_references.as_mut().unwrap()[0].controller = None;
    stray
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("app".into(), "debug".into());
    world.pods.push(Arc::new(stray.clone()));
    let p = plan(&world).unwrap();
    assert!(
        p.actions.iter().all(|a| a.pod() != "stray"),
        "{:?}",
        p.actions
    );
    // Matching labels: still not one of its pods (the count stays at 2).
    let mut world = converge(&snapshot(cloneset(2, "a:1")));
    stray
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("app".into(), "web".into());
    world.pods.push(Arc::new(stray));
    let p = plan(&world).unwrap();
    assert!(
        p.actions.iter().all(|a| a.pod() != "stray"),
        "{:?}",
        p.actions
    );
    assert_eq!(p.status.replicas, 2);
}

#[test]
fn revisions_are_reused_on_rollback_and_history_is_truncated() {
    let mut world = converge(&snapshot(cloneset(1, "a:1")));
    let first = world
        .cloneset
        .status
        .as_ref()
        .unwrap()
        .update_revision
        .clone()
        .unwrap();
    set_image(&mut world, "a:2");
    world = converge(&world);
    set_image(&mut world, "a:1");
    let p = plan(&world).unwrap();
    assert!(
        matches!(&p.revision, Some(RevisionWrite::Renumber { name, revision: 3, .. }) if *name == first)
    );
    world.cloneset.spec.revision_history_limit = Some(0);
    let world = converge(&world);
    assert_eq!(world.revisions.len(), 1, "only the live revision is kept");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the numbers, an update never leaves fewer available pods than
    /// replicas − maxUnavailable (once all pods were available), respects the partition at
    /// rest, and converges.
    #[test]
    fn update_respects_budget_and_partition(
        replicas in 1i32..12,
        max_unavailable in prop_oneof![(0i32..4).prop_map(IntOrString::Int), (0i32..60).prop_map(|p| IntOrString::String(format!("{p}%")))],
        max_surge in 0i32..3,
        partition in 0i32..12,
        inplace in any::<bool>(),
    ) {
        let cs = with_update(cloneset(replicas, "a:1"), |u| {
            u.max_unavailable = Some(max_unavailable.clone());
            u.max_surge = Some(IntOrString::Int(if inplace { 0 } else { max_surge }));
            u.partition = Some(IntOrString::Int(partition));
            u.type_ = Some(if inplace { CloneSetUpdateStrategyType::InPlaceIfPossible } else { CloneSetUpdateStrategyType::ReCreate });
        });
        let lim = Limits::of(&defaults::apply(&cs));
        prop_assume!(lim.max_unavailable >= 1 || lim.max_surge >= 1);
        let mut world = converge(&snapshot(cs));
        set_image(&mut world, "a:2");
        for _ in 0..300 {
            let p = plan(&world).unwrap();
            let idle = p.actions.is_empty() && p.revision.is_none();
            preview::apply(&mut world, &p);
            let active = world.pods.iter().filter(|x| pod::is_active(x)).count() as i32;
            prop_assert!(active <= replicas + lim.max_surge.max(0), "{active} active pods for {replicas} replicas, maxSurge {}", lim.max_surge);
            let available = world.pods.iter().filter(|x| pod::is_active(x) && pod::available(x, 0, world.now)).count() as i32;
            prop_assert!(available >= replicas - lim.max_unavailable.max(0), "available {available} of {replicas}, budget {}", lim.max_unavailable);
            preview::settle(&mut world);
            world.now = world.now.checked_add(SignedDuration::from_secs(5)).unwrap();
            if idle && !p.status_changed {
                let updated = world.pods.iter().filter(|x| x.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("a:2")).count() as i32;
                prop_assert_eq!(updated, replicas - partition.min(replicas));
                prop_assert_eq!(world.pods.len() as i32, replicas);
                return Ok(());
            }
        }
        prop_assert!(false, "did not converge");
    }

    /// Scaling to any size from any size ends with exactly that many pods, all available.
    #[test]
    fn scaling_converges(from in 0i32..15, to in 0i32..15, limit in proptest::option::of(1i32..4)) {
        let mut cs = cloneset(from, "a:1");
        cs.spec.scale_strategy = Some(CloneSetScaleStrategy { max_unavailable: limit.map(IntOrString::Int), ..Default::default() });
        let mut world = converge(&snapshot(cs));
        world.cloneset.spec.replicas = Some(to);
        let pv = preview::preview(&world, 300).unwrap();
        if let Some(l) = limit {
            for b in &pv.batches {
                let creates = b.actions.iter().filter(|a| matches!(a, Action::Create { .. })).count() as i32;
                prop_assert!(creates <= l);
            }
        }
        let world = converge(&world);
        prop_assert_eq!(world.pods.len() as i32, to);
        prop_assert!(world.pods.iter().all(|p| pod::available(p, 0, world.now)));
    }
}

fn lifecycle(v: serde_json::Value) -> crate::api::common::Lifecycle {
    serde_json::from_value(v).unwrap()
}

/// Upstream's `IsPodAllHooked` of a hook with no handlers is true: `preNormal: {}` lets new
/// pods become Normal, and `inPlaceUpdate` with only markPodNotReady lets an updated pod go
/// back to Normal (available) instead of resting in Updated.
#[test]
fn empty_hooks_let_pods_through() {
    let mut cs = with_update(cloneset(3, "a:1"), |u| {
        u.type_ = Some(CloneSetUpdateStrategyType::InPlaceIfPossible);
        u.max_unavailable = Some(IntOrString::Int(1));
    });
    cs.spec.lifecycle = Some(lifecycle(
        json!({"preNormal": {}, "inPlaceUpdate": {"markPodNotReady": true}}),
    ));
    let mut world = converge(&snapshot(cs));
    assert_eq!(world.pods.len(), 3);
    for p in &world.pods {
        assert_eq!(pod::lifecycle_state(p), state::NORMAL);
    }
    set_image(&mut world, "a:2");
    let world = converge(&world);
    for p in &world.pods {
        assert_eq!(pod::lifecycle_state(p), state::NORMAL, "{}", pod::name(p));
        assert!(pod::available(p, 0, world.now));
    }
    let st = world.cloneset.status.unwrap();
    assert_eq!((st.updated_replicas, st.available_replicas), (3, 3));
}

/// A hook with handlers still holds the pod: a label the pod lacks keeps it PreparingNormal.
#[test]
fn a_pre_normal_hook_with_a_label_holds_the_pod() {
    let mut cs = cloneset(1, "a:1");
    cs.spec.lifecycle = Some(lifecycle(
        json!({"preNormal": {"labelsHandler": {"ok": "true"}}}),
    ));
    let mut world = snapshot(cs);
    for _ in 0..5 {
        let p = plan(&world).unwrap();
        preview::apply(&mut world, &p);
        preview::settle(&mut world);
    }
    assert_eq!(
        pod::lifecycle_state(&world.pods[0]),
        state::PREPARING_NORMAL
    );
}

/// `finishGracePeriod`: a template change while a pod waits out its grace period does not drop
/// the pending change; the pod finishes it, then moves on to the newest revision.
#[test]
fn a_change_inside_the_grace_period_is_finished_then_the_pod_moves_on() {
    let mut cs = with_update(cloneset(2, "a:1"), |u| {
        u.type_ = Some(CloneSetUpdateStrategyType::InPlaceIfPossible);
        u.max_unavailable = Some(IntOrString::Int(2));
        u.in_place_update_strategy =
            Some(serde_json::from_value(json!({"gracePeriodSeconds": 6})).unwrap());
    });
    cs.spec.template.0["spec"]["containers"] =
        json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]);
    let mut world = converge(&snapshot(cs));
    world.cloneset.spec.template.0["spec"]["containers"][0]["image"] = json!("a:2");
    world.cloneset.metadata.generation = Some(2);
    // One pass: both pods start their grace period for a:2.
    let p = plan(&world).unwrap();
    preview::apply(&mut world, &p);
    assert!(
        world
            .pods
            .iter()
            .all(|p| pod::annotation(p, keys::INPLACE_GRACE).is_some())
    );
    // Two seconds later, b changes too.
    world.now = world.now.checked_add(SignedDuration::from_secs(2)).unwrap();
    world.cloneset.spec.template.0["spec"]["containers"][1]["image"] = json!("b:2");
    world.cloneset.metadata.generation = Some(3);
    for _ in 0..40 {
        let p = plan(&world).unwrap();
        preview::apply(&mut world, &p);
        preview::settle(&mut world);
        world.now = world.now.checked_add(SignedDuration::from_secs(1)).unwrap();
    }
    for p in &world.pods {
        let images: Vec<_> = p
            .spec
            .as_ref()
            .unwrap()
            .containers
            .iter()
            .map(|c| c.image.clone().unwrap())
            .collect();
        assert_eq!(images, vec!["a:2", "b:2"], "{}", pod::name(p));
    }
    assert_eq!(world.cloneset.status.unwrap().updated_replicas, 2);
}

/// `CloneSetDeadlineExceeded` measures from the existing Progressing condition's
/// lastUpdateTime whatever its reason.
#[test]
fn the_deadline_counts_from_the_condition_whatever_its_reason() {
    let mut cs = cloneset(2, "a:1");
    cs.spec.progress_deadline_seconds = Some(10);
    let mut world = converge(&snapshot(cs));
    let old = world
        .now
        .checked_sub(SignedDuration::from_secs(60))
        .unwrap();
    let st = world.cloneset.status.as_mut().unwrap();
    let c = st
        .conditions
        .iter_mut()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .expect("a Progressing condition at rest");
    assert_eq!(c.reason.as_deref(), Some("CloneSetAvailable"));
    c.last_update_time = Some(Time(old));
    // A new template: not available, not paused, no partition: the 60 s old condition is
    // past the 10 s deadline.
    set_image(&mut world, "a:2");
    let p = plan(&world).unwrap();
    let c = p
        .status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .unwrap();
    assert_eq!(c.reason.as_deref(), Some("ProgressDeadlineExceeded"));
    assert_eq!(c.status, "False");
}

/// Removing progressDeadlineSeconds removes the condition from the planned status (which is
/// written whole).
#[test]
fn no_deadline_no_progressing_condition() {
    let mut cs = cloneset(1, "a:1");
    cs.spec.progress_deadline_seconds = Some(10);
    let mut world = converge(&snapshot(cs));
    assert!(world.cloneset.status.as_ref().unwrap().conditions.is_some());
    world.cloneset.spec.progress_deadline_seconds = None;
    world.cloneset.metadata.generation = Some(2);
    let p = plan(&world).unwrap();
    assert!(p.status_changed);
    assert!(
        p.status
            .conditions
            .iter()
            .flatten()
            .all(|c| c.type_ != "Progressing")
    );
}

fn expression() -> impl Strategy<Value = serde_json::Value> {
    (
        prop_oneof![Just("app"), Just("tier")],
        prop_oneof![
            Just("In"),
            Just("NotIn"),
            Just("Exists"),
            Just("DoesNotExist")
        ],
        prop::collection::vec(prop_oneof![Just("web"), Just("db")], 1..3),
    )
        .prop_map(|(k, op, vals)| match op {
            "Exists" | "DoesNotExist" => json!({"key": k, "operator": op}),
            _ => json!({"key": k, "operator": op, "values": vals}),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the selector says (matchExpressions that select the template or miss it), a
    /// pass never leaves more than replicas + maxSurge active pods in the world, owned or
    /// released: a selector that misses the template creates nothing at all.
    #[test]
    fn never_more_pods_than_replicas_plus_surge(
        replicas in 0i32..6,
        exprs in prop::collection::vec(expression(), 0..3),
    ) {
        let mut cs = cloneset(replicas, "a:1");
        cs.spec.selector.match_expressions = Some(serde_json::from_value(json!(exprs)).unwrap());
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        let selects = selector::matches(&cs.spec.selector, &labels).unwrap_or(false);
        let mut world = snapshot(cs);
        for _ in 0..30 {
            let p = plan(&world).unwrap();
            preview::apply(&mut world, &p);
            preview::settle(&mut world);
            world.now = world.now.checked_add(SignedDuration::from_secs(2)).unwrap();
            let active = world.pods.iter().filter(|x| pod::is_active(x)).count() as i32;
            prop_assert!(active <= replicas, "{active} pods for replicas {replicas}");
            if !selects {
                prop_assert_eq!(active, 0);
                prop_assert!(p.actions.is_empty(), "{:?}", p.actions);
                prop_assert!(p.status.conditions.iter().flatten().any(|c| c.type_ == "FailedScale"));
            }
        }
        if selects {
            prop_assert_eq!(world.pods.len() as i32, replicas);
        }
    }
}

/// inPlaceUpdate hook with a label the template gives every pod: an update first moves the
/// pod to PreparingUpdate and waits while it is hooked.
#[test]
fn an_in_place_hook_holds_the_update_in_preparing_update() {
    let mut cs = with_update(cloneset(1, "a:1"), |u| {
        u.type_ = Some(CloneSetUpdateStrategyType::InPlaceIfPossible);
    });
    cs.spec.lifecycle = Some(lifecycle(
        json!({"inPlaceUpdate": {"labelsHandler": {"gate": "on"}}}),
    ));
    cs.spec.template.0["metadata"]["labels"]["gate"] = json!("on");
    let mut world = converge(&snapshot(cs));
    set_image(&mut world, "a:2");
    for _ in 0..5 {
        let p = plan(&world).unwrap();
        preview::apply(&mut world, &p);
        preview::settle(&mut world);
    }
    assert_eq!(
        pod::lifecycle_state(&world.pods[0]),
        state::PREPARING_UPDATE
    );
    assert_eq!(
        world.pods[0].spec.as_ref().unwrap().containers[0]
            .image
            .as_deref(),
        Some("a:1")
    );
}

/// Pods the preview imagines creating are shown as `<new N>` (their real names are random at
/// creation), in every batch that touches them.
#[test]
fn the_preview_names_pods_to_be_created_as_new() {
    let cs = with_update(cloneset(3, "a:1"), |u| {
        u.max_unavailable = Some(IntOrString::Int(1));
    });
    let pv = preview_of(&snapshot(cs));
    let creates: Vec<&str> = pv
        .batches
        .iter()
        .flat_map(|b| &b.actions)
        .filter_map(|a| match a {
            Action::Create { pod, .. } => Some(pod.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(creates, vec!["<new 1>", "<new 2>", "<new 3>"]);
    let json = serde_json::to_value(&pv).unwrap();
    for a in json["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["actions"].as_array().unwrap())
    {
        assert!(
            a["pod"].as_str().unwrap().starts_with("<new "),
            "no invented name: {a}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The controller reads pods in the watch cache's order, the preview in a list's: the
    /// pods picked, and their order, must not depend on it (ties fall by name).
    #[test]
    fn the_order_of_updates_does_not_depend_on_the_input_order(seed in any::<u64>()) {
        let cs = with_update(cloneset(6, "a:1"), |u| {
            u.type_ = Some(CloneSetUpdateStrategyType::InPlaceIfPossible);
            u.max_unavailable = Some(IntOrString::Int(2));
            u.partition = Some(IntOrString::Int(3));
        });
        let mut world = converge(&snapshot(cs));
        set_image(&mut world, "a:2");
        let order = |w: &Snapshot| -> Vec<String> {
            preview_of(w)
                .batches
                .iter()
                .flat_map(|b| &b.actions)
                .filter_map(|a| match a {
                    Action::UpdateInPlace { pod, .. } => Some(pod.clone()),
                    _ => None,
                })
                .collect()
        };
        let want = order(&world);
        prop_assert_eq!(want.len(), 3);
        let mut shuffled = world.clone();
        fastrand::Rng::with_seed(seed).shuffle(&mut shuffled.pods);
        prop_assert_eq!(order(&shuffled), want);
    }
}

fn claim(name: &str, id: &str, owner_uid: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({"metadata": {"name": name, "namespace": "t",
        "labels": {keys::INSTANCE_ID: id},
        "ownerReferences": [{"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
            "name": "web", "uid": owner_uid, "controller": true}]}}))
    .unwrap()
}

/// PVCs as upstream handles them: a deleted pod takes the CloneSet's claims of its instance id
/// (found by label, whatever their names); with reuse off, a claim of an inactive pod is
/// handed to that pod and one with no pod at all is deleted; claims of others are left alone.
#[test]
fn pvcs_go_by_instance_id() {
    let mut cs = cloneset(2, "a:1");
    cs.spec.scale_strategy = Some(CloneSetScaleStrategy {
        disable_pvc_reuse: Some(true),
        ..Default::default()
    });
    let mut world = converge(&snapshot(cs));
    let ids: Vec<String> = world
        .pods
        .iter()
        .map(|p| pod::label(p, keys::INSTANCE_ID).unwrap().to_string())
        .collect();
    // A claim of a live pod under an old template name, a claim of a pod that is terminating,
    // a claim with no pod, and someone else's claim.
    world.pvcs = vec![
        claim("old-name", &ids[0], "uid-web"),
        claim("data-web-gone1", "gone1", "uid-web"),
        claim("data-web-dying", "dying", "uid-web"),
        claim("theirs", &ids[1], "uid-other"),
    ];
    let mut dying: Pod = (*world.pods[1]).clone();
    dying.metadata.name = Some("web-dying".into());
    dying.metadata.uid = Some("uid-dying".into());
    dying
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(keys::INSTANCE_ID.into(), "dying".into());
    dying.metadata.deletion_timestamp = Some(Time(world.now));
    world.pods.push(Arc::new(dying));
    world.cloneset.spec.replicas = Some(1);
    world.cloneset.metadata.generation = Some(2);
    let p = plan(&world).unwrap();
    let mut seen = Vec::new();
    for a in &p.actions {
        match a {
            Action::DeletePvc { pvc } => seen.push(format!("delete {pvc}")),
            Action::ReownPvc {
                pvc,
                pod,
                owner_references,
                ..
            } => {
                assert!(owner_references.iter().all(|r| r.uid != "uid-web"));
                assert!(
                    owner_references
                        .iter()
                        .any(|r| r.kind == "Pod" && r.uid == "uid-dying")
                );
                seen.push(format!("reown {pvc} to {pod}"));
            }
            Action::Delete { pod, pvcs, .. } => {
                seen.push(format!("delete pod {pod} with {pvcs:?}"))
            }
            _ => {}
        }
    }
    seen.sort();
    let victim = p.actions.iter().find_map(|a| match a {
        Action::Delete { pod, .. } => Some(pod.clone()),
        _ => None,
    });
    let expect_claims = |pod: &str| -> Vec<String> {
        let id = world
            .pods
            .iter()
            .find(|p| pod::name(p) == pod)
            .map(|p| pod::label(p, keys::INSTANCE_ID).unwrap().to_string())
            .unwrap();
        if id == ids[0] {
            vec!["old-name".to_string()]
        } else {
            vec![]
        }
    };
    let victim = victim.expect("scale-in deletes a pod");
    let mut want = vec![
        "delete data-web-gone1".to_string(),
        "reown data-web-dying to web-dying".to_string(),
        format!("delete pod {victim} with {:?}", expect_claims(&victim)),
    ];
    want.sort();
    assert_eq!(seen, want);
}
