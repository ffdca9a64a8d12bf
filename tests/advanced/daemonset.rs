//! The Advanced DaemonSet with the embedded controller. Each test adds its own kwok nodes,
//! labelled `ads-test=<id>` and tainted `ads-test=<id>:NoSchedule` (so no other test's pod lands
//! on them, and only this test's DaemonSet tolerates them), and deletes them at the end.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use kubectl_kruise::api::daemonset::DaemonSet;
use serde_json::{Value, json};

use super::support::recorder::Recorder;
use super::support::{self, TestNs, client_as, random_suffix, stderr};
use super::{T, crds, ok, run, spawn_controller};

/// This test's nodes; deleted on drop.
struct Nodes {
    id: String,
    names: Vec<String>,
    client: Client,
}

impl Nodes {
    async fn add(client: &Client, count: usize) -> Nodes {
        let id = random_suffix();
        let mut n = Nodes {
            id,
            names: vec![],
            client: client.clone(),
        };
        for _ in 0..count {
            n.one(json!({})).await;
        }
        n
    }

    /// One more node with extra `labels` and the test's taint (and `taints` besides).
    async fn one_with(&mut self, labels: Value, taints: Value) -> String {
        let name = format!("ads-{}-{}", self.id, self.names.len());
        let mut l = json!({"type": "kwok", "ads-test": self.id, "kubernetes.io/hostname": name});
        for (k, v) in labels.as_object().unwrap() {
            l[k] = v.clone();
        }
        let mut t = vec![json!({"key": "ads-test", "value": self.id, "effect": "NoSchedule"})];
        t.extend(taints.as_array().cloned().unwrap_or_default());
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": l, "annotations": {"kwok.x-k8s.io/node": "fake"}},
            "spec": {"taints": t}
        }))
        .unwrap();
        Api::<Node>::all(self.client.clone())
            .create(&PostParams::default(), &node)
            .await
            .unwrap();
        self.names.push(name.clone());
        name
    }

    async fn one(&mut self, labels: Value) -> String {
        self.one_with(labels, json!([])).await
    }

    async fn delete(&self, name: &str) {
        let _ = Api::<Node>::all(self.client.clone())
            .delete(name, &DeleteParams::default())
            .await;
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        let names = self.names.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let client = client_as("cleanup").await;
                for n in names {
                    let _ = Api::<Node>::all(client.clone())
                        .delete(&n, &DeleteParams::default())
                        .await;
                }
            });
        })
        .join();
    }
}

/// An Advanced DaemonSet `name` for the nodes of test `id`, with `rolling` as its
/// rollingUpdate and `extra` merged into its spec.
fn daemonset(name: &str, id: &str, rolling: Value, extra: Value) -> DaemonSet {
    let mut v = json!({
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "nodeSelector": {"ads-test": id},
                "tolerations": [{"key": "ads-test", "operator": "Equal", "value": id, "effect": "NoSchedule"}],
                "containers": [{"name": "c", "image": "agent:1"}]}}
        }
    });
    for (k, val) in extra.as_object().unwrap() {
        v["spec"][k] = val.clone();
    }
    serde_json::from_value(v).unwrap()
}

/// The DaemonSet's live pods by node.
async fn by_node(api: &Api<Pod>, app: &str) -> BTreeMap<String, Vec<Pod>> {
    let mut m: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for p in api
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        m.entry(node).or_default().push(p);
    }
    m
}

fn image(p: &Pod) -> &str {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .as_deref()
        .unwrap_or_default()
}

/// Waits until the status says `desired` pods, all `updated` and available as given.
async fn wait_status(api: &Api<DaemonSet>, name: &str, desired: i32, updated: i32) -> DaemonSet {
    support::wait_for(
        api,
        name,
        T,
        &format!("{desired} desired, {updated} updated, all available"),
        |d| {
            d.status.as_ref().is_some_and(|s| {
                s.observed_generation == d.metadata.generation
                    && s.desired_number_scheduled == desired
                    && s.current_number_scheduled == desired
                    && s.updated_number_scheduled == updated
                    && s.number_available == Some(desired)
            })
        },
    )
    .await
}

/// One pod on each eligible node, none on a node with a taint it does not tolerate; a new
/// node gets its pod, a node that stops matching (and a deleted node) loses it; `scale` is
/// refused in one line.
#[tokio::test]
async fn one_pod_per_eligible_node_as_nodes_come_and_go() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("ads-placement").await;
    let ns = TestNs::new(&client, "ads-place").await;
    let mut nodes = Nodes::add(&client, 2).await;
    let tainted = nodes
        .one_with(
            json!({}),
            json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]),
        )
        .await;
    let sets: Api<DaemonSet> = ns.api();
    let pods: Api<Pod> = ns.api();
    sets.create(
        &PostParams::default(),
        &daemonset("agent", &nodes.id, json!({}), json!({})),
    )
    .await
    .unwrap();
    let ctl = spawn_controller(&ns.name, "daemonset");
    wait_status(&sets, "agent", 2, 2).await;
    let m = by_node(&pods, "agent").await;
    assert_eq!(m.len(), 2, "{:?}", m.keys());
    assert!(m.values().all(|v| v.len() == 1));
    assert!(
        !m.contains_key(&tainted),
        "a node whose taint is not tolerated gets no pod"
    );
    let p = &m[&nodes.names[0]][0];
    assert!(
        p.owner_references()[0].kind == "DaemonSet"
            && p.labels().contains_key("controller-revision-hash")
    );

    let added = nodes.one(json!({})).await;
    wait_status(&sets, "agent", 3, 3).await;
    assert_eq!(
        by_node(&pods, "agent").await[&added].len(),
        1,
        "the new node got its pod"
    );

    // A node that no longer matches the nodeSelector loses its pod (the controller deletes it).
    let first = nodes.names[0].clone();
    Api::<Node>::all(client.clone())
        .patch(
            &first,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"ads-test": "other"}}})),
        )
        .await
        .unwrap();
    wait_status(&sets, "agent", 2, 2).await;
    support::wait_list(
        &pods,
        Some("app=agent"),
        T,
        "no pod on the unlabelled node",
        |ps| {
            ps.iter().all(|p| {
                p.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(first.as_str())
            })
        },
    )
    .await;
    // A deleted node's pod goes too (the pod GC, once the node is gone), and is not replaced.
    nodes.delete(&added).await;
    wait_status(&sets, "agent", 1, 1).await;
    support::wait_list(&pods, Some("app=agent"), T, "one pod left", |ps| {
        ps.iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .count()
            == 1
    })
    .await;

    let o = run(&["-n", &ns.name, "scale", "ads/agent", "--replicas", "3"]).await;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no scale subresource"),
        "{}",
        stderr(&o)
    );
    drop(ctl);
}

/// `partition` keeps that many nodes on the old revision; `rollingUpdate.selector` limits the
/// update to the nodes it matches. `set image` drives the embedded controller itself.
#[tokio::test]
async fn partition_and_node_selector_limit_the_update() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("ads-partition").await;
    let ns = TestNs::new(&client, "ads-part").await;
    let mut nodes = Nodes::add(&client, 2).await;
    let canary = nodes.one(json!({"canary": "true"})).await;
    let sets: Api<DaemonSet> = ns.api();
    let pods: Api<Pod> = ns.api();
    sets.create(
        &PostParams::default(),
        &daemonset("part", &nodes.id, json!({"partition": 2}), json!({})),
    )
    .await
    .unwrap();
    ok(&["-n", &ns.name, "rollout", "restart", "ads/part"]).await;
    wait_status(&sets, "part", 3, 3).await;
    ok(&["-n", &ns.name, "set", "image", "ads/part", "c=agent:2"]).await;
    let m = by_node(&pods, "part").await;
    let new: Vec<&String> = m
        .iter()
        .filter(|(_, v)| image(&v[0]) == "agent:2")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(new.len(), 1, "partition 2 of 3 nodes: one updated, {new:?}");
    assert_eq!(
        new[0],
        nodes.names.iter().max().unwrap(),
        "the last node by name goes first, as upstream"
    );

    // Partition 0 with a node selector: only the canary node moves to the next image.
    let patch = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0,
        "selector": {"matchLabels": {"canary": "true"}}}}}});
    sets.patch("part", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    ok(&["-n", &ns.name, "set", "image", "ads/part", "c=agent:3"]).await;
    let m = by_node(&pods, "part").await;
    let images: BTreeMap<&String, &str> = m.iter().map(|(n, v)| (n, image(&v[0]))).collect();
    assert_eq!(images[&canary], "agent:3", "{images:?}");
    assert_eq!(
        images.values().filter(|i| **i == "agent:3").count(),
        1,
        "{images:?}"
    );
    let st = sets.get("part").await.unwrap().status.unwrap();
    assert_eq!(st.updated_number_scheduled, 1);
    assert_eq!(st.number_available, Some(3));
}

/// `set image --inplace` on an InPlaceIfPossible DaemonSet: the same pods (UIDs kept) run the
/// new image; on a Standard one it is refused and nothing changes.
#[tokio::test]
async fn in_place_keeps_the_pods() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("ads-inplace").await;
    let ns = TestNs::new(&client, "ads-inpl").await;
    let nodes = Nodes::add(&client, 2).await;
    let sets: Api<DaemonSet> = ns.api();
    let pods: Api<Pod> = ns.api();
    let ru = json!({"rollingUpdateType": "InPlaceIfPossible", "maxUnavailable": 2});
    sets.create(
        &PostParams::default(),
        &daemonset("inpl", &nodes.id, ru, json!({})),
    )
    .await
    .unwrap();
    sets.create(
        &PostParams::default(),
        &daemonset("std", &nodes.id, json!({}), json!({})),
    )
    .await
    .unwrap();
    ok(&["-n", &ns.name, "rollout", "restart", "ads/inpl"]).await;
    let uids = |m: &BTreeMap<String, Vec<Pod>>| -> Vec<String> {
        m.values().flatten().map(|p| p.uid().unwrap()).collect()
    };
    let before = uids(&by_node(&pods, "inpl").await);
    assert_eq!(before.len(), 2);
    // The preview: both pods in place, in batches of at most maxUnavailable 2; nothing written.
    let rv = sets.get("inpl").await.unwrap().resource_version();
    let plan = ok(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "ads/inpl",
        "c=agent:2",
        "--inplace",
        "--dry-run=client",
        "-o",
        "json",
    ])
    .await;
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let planned = plan["batches"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["actions"].as_array().unwrap())
        .filter(|a| a["action"] == "updateInPlace")
        .count();
    assert_eq!(planned, 2, "{plan}");
    assert_eq!(plan["restsAt"], "complete", "{plan}");
    assert_eq!(
        sets.get("inpl").await.unwrap().resource_version(),
        rv,
        "nothing written"
    );
    ok(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "ads/inpl",
        "c=agent:2",
        "--inplace",
    ])
    .await;
    let after = by_node(&pods, "inpl").await;
    assert_eq!(uids(&after), before, "the same pods");
    for p in after.values().flatten() {
        assert_eq!(image(p), "agent:2");
        assert!(
            p.annotations()
                .contains_key("apps.kruise.io/inplace-update-state")
        );
        assert!(
            !p.labels().contains_key("lifecycle.apps.kruise.io/state"),
            "no lifecycle state"
        );
    }
    wait_status(&sets, "inpl", 2, 2).await;

    let o = run(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "ads/std",
        "c=agent:2",
        "--inplace",
    ])
    .await;
    assert!(!o.status.success());
    assert!(stderr(&o).contains("InPlaceIfPossible"), "{}", stderr(&o));
    let std = sets.get("std").await.unwrap();
    assert_eq!(
        std.spec.template.0["spec"]["containers"][0]["image"],
        "agent:1"
    );
}

/// maxSurge: a new pod beside each old one, the old one deleted once the new one is
/// available: every node keeps an available pod through the whole update (a recorder watches
/// every pod of the run).
#[tokio::test]
async fn surge_keeps_every_node_available() {
    let _shared = super::GATE.read().await;
    crds().await;
    let client = client_as("ads-surge").await;
    let ns = TestNs::new(&client, "ads-surge").await;
    let nodes = Nodes::add(&client, 3).await;
    let sets: Api<DaemonSet> = ns.api();
    let pods: Api<Pod> = ns.api();
    let ru = json!({"maxSurge": 1, "maxUnavailable": 0});
    sets.create(
        &PostParams::default(),
        &daemonset("surge", &nodes.id, ru, json!({"minReadySeconds": 1})),
    )
    .await
    .unwrap();
    ok(&["-n", &ns.name, "rollout", "restart", "ads/surge"]).await;
    wait_status(&sets, "surge", 3, 3).await;
    let rec = Recorder::start(pods.clone(), "surge", 1).await;
    rec.reset();
    ok(&["-n", &ns.name, "set", "image", "ads/surge", "c=agent:2"]).await;
    wait_status(&sets, "surge", 3, 3).await;
    let r = rec.finish().await;
    assert!(
        r.min_available >= 3,
        "at least 3 available throughout, saw {}",
        r.min_available
    );
    assert_eq!(r.deleted.len(), 3, "each old pod deleted: {:?}", r.deleted);
    assert_eq!(r.created.len(), 3, "{:?}", r.created);
    assert!(
        r.max_pods <= 4,
        "at most maxSurge extra pod at a time, saw {}",
        r.max_pods
    );
    let m = by_node(&pods, "surge").await;
    assert!(
        m.values()
            .all(|v| v.len() == 1 && image(&v[0]) == "agent:2")
    );
}
