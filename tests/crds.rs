//! `kubectl kruise crds …` and our CRDs on the local cluster: install is idempotent, the
//! seed objects are accepted and round-trip through our types without losing a field, kubectl
//! works with them (printer columns, scale), and bad objects are refused by the CRDs alone.

mod support;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, PostParams};
use kube::{Client, ResourceExt};
use kubectl_kruise::api::{CloneSet, NodePodProbe, PodProbeMarker};
use serde_json::{Value, json};
use support::{TestNs, kruise, kubectl, ok, stderr};

/// Tests in this file install CRDs concurrently; the takeover test briefly makes our CRD look
/// foreign, so installs take this lock.
static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn install() {
    let _guard = INSTALL.lock().await;
    install_locked();
}

fn install_locked() {
    let out = ok(kruise(&["crds", "install"]));
    for line in out.lines() {
        assert!(
            line.ends_with(" created")
                || line.ends_with(" configured")
                || line.ends_with(" unchanged"),
            "{line}"
        );
    }
}

fn seed(n: u32) -> Value {
    fixture(&format!("seed-000/0{n}-ok.yaml"))
}

/// A fixture from tests/fixtures, without its namespace (each test runs in its own).
fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    v
}

fn clonesets_dynamic(client: &Client, ns: &str) -> Api<DynamicObject> {
    let ar = kubectl_kruise::client::kinds::CLONESET.api_resource();
    Api::namespaced_with(client.clone(), ns, &ar)
}

/// Creates `obj` and asserts the API server refuses it (422) with `message` in the error.
async fn assert_refused(raw: &Api<DynamicObject>, obj: Value, what: &str, message: &str) {
    let err = raw
        .create(
            &PostParams::default(),
            &serde_json::from_value(obj).unwrap(),
        )
        .await
        .expect_err(what);
    assert_eq!(support::api_code(&err), Some(422), "{what}: {err}");
    assert!(
        err.to_string().contains(message),
        "{what}: expected {message:?} in {err}"
    );
}

/// Creates `obj` as sent (untyped), reads it back through the type `K`, checks that
/// re-serialising loses nothing, writes it back through `K` and checks nothing changed.
async fn round_trip<K>(raw: &Api<DynamicObject>, typed: &Api<K>, obj: Value, what: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let created: DynamicObject = raw
        .create(
            &PostParams::default(),
            &serde_json::from_value(obj).unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("{what} refused: {e}"));
    let stored = serde_json::to_value(&created).unwrap();
    let typed_obj = typed.get(&name).await.unwrap();
    assert_eq!(
        content(&serde_json::to_value(&typed_obj).unwrap()),
        content(&stored),
        "{what}: typed round trip"
    );
    let replaced = typed
        .replace(&name, &PostParams::default(), &typed_obj)
        .await
        .unwrap();
    assert_eq!(
        content(&serde_json::to_value(&replaced).unwrap()),
        content(&stored),
        "{what}: write back"
    );
}

/// The object without the fields the server owns, for comparisons.
fn content(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v["metadata"].as_object_mut() {
        for k in [
            "resourceVersion",
            "managedFields",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            m.remove(k);
        }
    }
    v
}

#[tokio::test]
async fn install_twice_is_a_no_op_and_server_dry_run_changes_nothing() {
    let _guard = INSTALL.lock().await;
    install_locked();
    let client = support::client_as("crds-install").await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let before = crds.get("clonesets.apps.kruise.io").await.unwrap();
    assert!(
        before
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );
    let out = ok(kruise(&["crds", "install"]));
    assert_eq!(
        out.lines().count(),
        kubectl_kruise::api::crds().len(),
        "{out}"
    );
    assert!(out.lines().all(|l| l.ends_with(" unchanged")), "{out}");
    let out = ok(kruise(&["crds", "install", "--dry-run=server"]));
    assert!(out.contains("(server dry run)"), "{out}");
    let after = crds.get("clonesets.apps.kruise.io").await.unwrap();
    assert_eq!(before.resource_version(), after.resource_version());

    // status and diff see our CRD as installed by us, identical to ours.
    let status = ok(kruise(&["crds", "status", "-o", "json"]));
    let rows: Value = serde_json::from_str(&status).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "clonesets.apps.kruise.io")
        .unwrap();
    assert_eq!(row["installedBy"], "kubectl-kruise");
    assert_eq!(row["storageVersion"], "v1alpha1");
    assert_eq!(row["matchesOurs"], true);
    let diff = ok(kruise(&["crds", "diff"]));
    assert!(
        diff.contains("clonesets.apps.kruise.io: same as ours"),
        "{diff}"
    );
}

#[tokio::test]
async fn seed_clonesets_are_accepted_and_round_trip_without_losing_a_field() {
    install().await;
    let client = support::client_as("crds-seeds").await;
    let ns = TestNs::new(&client, "seeds").await;
    let raw = clonesets_dynamic(&client, &ns.name);
    let typed: Api<CloneSet> = ns.api();
    for n in 1..=5 {
        let mut obj = seed(n);
        obj["metadata"]["name"] = json!(format!("nginxweb{n}"));
        round_trip(&raw, &typed, obj, &format!("seed 000 0{n}-ok.yaml")).await;
    }
    // Fields the typed pod view does not know are kept in the template.
    let mut obj = seed(1);
    obj["metadata"]["name"] = json!("future");
    obj["spec"]["template"]["spec"]["someFutureField"] = json!({"enabled": true});
    raw.create(
        &PostParams::default(),
        &serde_json::from_value(obj).unwrap(),
    )
    .await
    .unwrap();
    let cs = typed.get("future").await.unwrap();
    let written = typed
        .replace("future", &PostParams::default(), &cs)
        .await
        .unwrap();
    assert_eq!(
        written.spec.template.0["spec"]["someFutureField"],
        json!({"enabled": true})
    );
}

#[tokio::test]
async fn kubectl_get_and_scale_work_with_our_crd() {
    install().await;
    let client = support::client_as("crds-kubectl").await;
    let ns = TestNs::new(&client, "kubectl").await;
    let raw = clonesets_dynamic(&client, &ns.name);
    raw.create(
        &PostParams::default(),
        &serde_json::from_value(seed(1)).unwrap(),
    )
    .await
    .unwrap();
    let get = ok(kubectl(&["-n", &ns.name, "get", "clonesets"]));
    let header: Vec<&str> = get.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "DESIRED",
            "UPDATED",
            "UPDATED_READY",
            "UPDATED_AVAILABLE",
            "READY",
            "TOTAL",
            "AGE"
        ]
    );
    assert!(
        get.lines().nth(1).unwrap().starts_with("nginxweb1"),
        "{get}"
    );
    let wide = ok(kubectl(&["-n", &ns.name, "get", "clone", "-o", "wide"]));
    assert!(
        wide.contains("CONTAINERS") && wide.contains("nginx:1.20"),
        "{wide}"
    );

    let out = ok(kubectl(&[
        "-n",
        &ns.name,
        "scale",
        "cloneset/nginxweb1",
        "--replicas=2",
    ]));
    assert!(out.contains("scaled"), "{out}");
    let cs: Api<CloneSet> = ns.api();
    assert_eq!(cs.get("nginxweb1").await.unwrap().spec.replicas, Some(2));
}

/// The CloneSet rules of OpenKruise v1.9.0's validating webhook, both ways, from the table
/// `controller::cloneset::validate` is unit-tested against: the CRD refuses what the webhook
/// refuses (422, naming the field) and accepts what it accepts.
#[tokio::test]
async fn clonesets_are_refused_and_accepted_by_the_crd_alone_as_by_upstreams_webhook() {
    use kubectl_kruise::controller::cloneset::validate::cases::{BASE, CASES};
    install().await;
    let client = support::client_as("crds-bad").await;
    let ns = TestNs::new(&client, "bad-cs").await;
    let raw = clonesets_dynamic(&client, &ns.name);
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let mut v: Value = serde_json::from_str(BASE).unwrap();
        v["metadata"]["name"] = json!(format!("case-{i}"));
        json_patch::merge(&mut v["spec"], &serde_json::from_str(c.spec).unwrap());
        let created = raw
            .create(&PostParams::default(), &serde_json::from_value(v).unwrap())
            .await;
        let result = match (c.update, created) {
            (None, r) => r.map(|_| ()),
            (Some(_), Err(e)) => {
                failures.push(format!("{}: the original was refused: {e}", c.name));
                continue;
            }
            (Some(u), Ok(obj)) => {
                let mut v = serde_json::to_value(&obj).unwrap();
                json_patch::merge(&mut v["spec"], &serde_json::from_str(u).unwrap());
                raw.replace(
                    &obj.name_any(),
                    &PostParams::default(),
                    &serde_json::from_value(v).unwrap(),
                )
                .await
                .map(|_| ())
            }
        };
        match (c.refused, result) {
            (None, Ok(())) => {}
            (None, Err(e)) => failures.push(format!("{}: refused: {e}", c.name)),
            (Some(f), Ok(())) => {
                failures.push(format!("{}: accepted, expected a refusal of {f}", c.name))
            }
            (Some(f), Err(e)) => {
                if support::api_code(&e) != Some(422) || !e.to_string().contains(f) {
                    failures.push(format!("{}: expected 422 naming {f}, got {e}", c.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The API server's message names the refused value.
#[tokio::test]
async fn a_refused_cloneset_value_is_named() {
    install().await;
    let client = support::client_as("crds-bad-named").await;
    let ns = TestNs::new(&client, "bad-cs-named").await;
    let raw = clonesets_dynamic(&client, &ns.name);
    let mut v = seed(1);
    v["spec"]["updateStrategy"] = json!({"partition": "-50%"});
    assert_refused(&raw, v, "partition -50%", "\"-50%\" must not be negative").await;
    let mut v = seed(1);
    v["spec"]["updateStrategy"] = json!({"maxUnavailable": "12,5%"});
    assert_refused(
        &raw,
        v,
        "maxUnavailable 12,5%",
        "\"12,5%\" must be an integer or a percentage",
    )
    .await;
}

#[tokio::test]
async fn a_crd_installed_by_someone_else_is_only_replaced_with_force() {
    let _guard = INSTALL.lock().await;
    install_locked();
    let client = support::client_as("crds-force").await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    // Make the CRD look installed by the OpenKruise chart.
    let helm = json!({"metadata": {
        "labels": {"app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "kruise", "meta.helm.sh/release-namespace": "kruise-system"}
    }});
    crds.patch(
        "clonesets.apps.kruise.io",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(helm),
    )
    .await
    .unwrap();
    let before = crds
        .get("clonesets.apps.kruise.io")
        .await
        .unwrap()
        .resource_version();

    let out = kruise(&["crds", "install"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("was installed by helm release kruise-system/kruise")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        crds.get("clonesets.apps.kruise.io")
            .await
            .unwrap()
            .resource_version(),
        before,
        "nothing changed"
    );
    let status = ok(kruise(&["crds", "status"]));
    assert!(
        status.contains("helm release kruise-system/kruise"),
        "{status}"
    );

    // An operator's CRD also carries a conversion webhook: diff calls it a difference we
    // chose, and taking the CRD over removes it (nothing would answer it).
    let upstream_like = json!({
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm"},
                     "annotations": {"meta.helm.sh/release-name": "kruise", "meta.helm.sh/release-namespace": "kruise-system"}},
        "spec": {"conversion": {"strategy": "Webhook", "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": "kruise-webhook-service", "namespace": "kruise-system", "path": "/convert"}}}}}
    });
    crds.patch(
        "trafficroutings.rollouts.kruise.io",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(upstream_like),
    )
    .await
    .unwrap();
    let out = kruise(&["crds", "diff"]);
    assert_eq!(out.status.code(), Some(1));
    let diff = support::stdout(&out);
    let section: Vec<&str> = diff
        .lines()
        .skip_while(|l| !l.starts_with("trafficroutings.rollouts.kruise.io"))
        .take_while(|l| l.starts_with("trafficroutings") || l.starts_with("  "))
        .collect();
    assert!(
        section[0].contains("all chosen by kubectl-kruise") && section.len() == 2,
        "{diff}"
    );
    assert!(
        section[1].starts_with("  chosen  conversion: ours None | cluster Webhook"),
        "{diff}"
    );

    // Over an operator's CRD, --force asks first; without a terminal it needs --yes.
    let refused = kruise(&["crds", "install", "--force"]);
    assert_eq!(refused.status.code(), Some(2));
    let why = support::stderr(&refused);
    assert!(
        why.contains("trafficroutings.rollouts.kruise.io (installed by")
            && why.contains("add --yes")
            && why.lines().count() == 1,
        "{why}"
    );
    let tr = crds
        .get("trafficroutings.rollouts.kruise.io")
        .await
        .unwrap();
    assert_eq!(
        tr.spec.conversion.unwrap().strategy,
        "Webhook",
        "nothing changed"
    );
    let out = ok(kruise(&["crds", "install", "--force", "--yes"]));
    assert!(out.contains("clonesets.apps.kruise.io configured"), "{out}");
    let tr = crds
        .get("trafficroutings.rollouts.kruise.io")
        .await
        .unwrap();
    assert_eq!(tr.spec.conversion.unwrap().strategy, "None");
    let crd = crds.get("clonesets.apps.kruise.io").await.unwrap();
    assert_eq!(
        crd.labels()
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("kubectl-kruise")
    );
}

#[tokio::test]
async fn probe_markers_and_node_probes_round_trip_and_bad_ones_are_refused() {
    install().await;
    let client = support::client_as("crds-probes").await;
    let ns = TestNs::new(&client, "probes").await;
    let ppm_ar = kubectl_kruise::client::kinds::resolve("podprobemarkers")
        .unwrap()
        .api_resource();
    let raw: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns.name, &ppm_ar);
    let typed: Api<PodProbeMarker> = ns.api();
    let seed = fixture("seed-001/podprobemarker.yaml");
    let obj = seed.clone();
    round_trip(&raw, &typed, obj.clone(), "seed 001 PodProbeMarker").await;

    // What upstream's webhook refuses, the CRD refuses.
    let cases = [
        (
            "reserved condition",
            json!({"podConditionType": "Ready"}),
            "must not be one of the conditions",
        ),
        (
            "neither condition nor policy",
            json!({"podConditionType": null, "markerPolicy": null}),
            "needs a podConditionType or a markerPolicy",
        ),
        (
            "policy without marks",
            json!({"markerPolicy": [{"state": "Succeeded"}]}),
            "must set labels or annotations",
        ),
        (
            "state twice",
            json!({"markerPolicy": [{"state": "Failed", "labels": {"a": "1"}}, {"state": "Failed", "labels": {"a": "2"}}]}),
            "Duplicate value",
        ),
        (
            "unknown state",
            json!({"markerPolicy": [{"state": "Maybe", "labels": {"a": "1"}}]}),
            "Unsupported value",
        ),
    ];
    for (i, (what, patch, message)) in cases.into_iter().enumerate() {
        let mut v = obj.clone();
        v["metadata"]["name"] = json!(format!("bad-{i}"));
        json_patch::merge(&mut v["spec"]["probes"][0], &patch);
        assert_refused(&raw, v, what, message).await;
    }
    let mut v = obj.clone();
    v["metadata"]["name"] = json!("game.probe");
    assert_refused(
        &raw,
        v,
        "dotted name",
        "may only contain letters, digits and '-'",
    )
    .await;
    let mut v = obj.clone();
    v["metadata"]["name"] = json!("two-probes");
    let second = v["spec"]["probes"][0].clone();
    v["spec"]["probes"].as_array_mut().unwrap().push(second);
    assert_refused(&raw, v, "probe named twice", "Duplicate value").await;

    // A NodePodProbe as the controller and the node agent write it (capital "IP" key).
    let npp_ar = kubectl_kruise::client::kinds::resolve("nodepodprobes")
        .unwrap()
        .api_resource();
    let raw_npp: Api<DynamicObject> = Api::all_with(client.clone(), &npp_ar);
    let typed_npp: Api<NodePodProbe> = Api::all(client.clone());
    let node = format!("node-{}", support::random_suffix());
    let npp = json!({
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "NodePodProbe",
        "metadata": {"name": node},
        "spec": {"podProbes": [{"name": "game-server-0", "namespace": ns.name, "uid": "u-1", "IP": "10.244.0.7",
            "probes": [{"name": "game-server-probe#Idle", "containerName": "game-server",
                        "probe": {"exec": {"command": ["/home/game/idle.sh"]}, "periodSeconds": 10}}]}]}
    });
    round_trip(&raw_npp, &typed_npp, npp, "NodePodProbe").await;
    let got = typed_npp.get(&node).await.unwrap();
    assert_eq!(got.spec.pod_probes.as_ref().unwrap()[0].ip, "10.244.0.7");
    raw_npp.delete(&node, &Default::default()).await.unwrap();
}

#[test]
fn crds_print_is_the_manifest() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(["crds", "print"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(format!(
        "{}/manifests/crds.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), manifest);
}

fn dynamic_for(client: &Client, ns: Option<&str>, obj: &Value) -> Api<DynamicObject> {
    let (group, version) = obj["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    let kind = obj["kind"].as_str().unwrap();
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    let plural = format!("{}s", kind.to_lowercase());
    let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, &plural);
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

#[tokio::test]
async fn seed_objects_of_every_kind_round_trip_without_losing_a_field() {
    use kubectl_kruise::api::{AdvancedCronJob, DaemonSet, Rollout, RolloutV1alpha1, SidecarSet};
    install().await;
    let client = support::client_as("crds-kinds").await;
    let ns = TestNs::new(&client, "kinds").await;

    let ads = fixture("seed-001/daemonset-predownload.yaml");
    let typed: Api<DaemonSet> = ns.api();
    round_trip(
        &dynamic_for(&client, Some(&ns.name), &ads),
        &typed,
        ads,
        "Advanced DaemonSet",
    )
    .await;
    let ds = typed.get("log-agent").await.unwrap();
    assert_eq!(
        ds.metadata.annotations.unwrap()["apps.kruise.io/image-predownload-parallelism"],
        "10"
    );

    let acj = fixture("seed-001/advancedcronjob-timezone.yaml");
    let typed: Api<AdvancedCronJob> = ns.api();
    round_trip(
        &dynamic_for(&client, Some(&ns.name), &acj),
        &typed,
        acj,
        "AdvancedCronJob",
    )
    .await;
    assert_eq!(
        typed
            .get("nightly-report")
            .await
            .unwrap()
            .spec
            .time_zone
            .as_deref(),
        Some("Asia/Shanghai")
    );

    // SidecarSets are cluster-scoped: unique names, deleted at the end.
    let typed: Api<SidecarSet> = Api::all(client.clone());
    let suffix = support::random_suffix();
    let mut names = vec![];
    for f in [
        "sidecarset-revision.yaml",
        "sidecarset-revision-name.yaml",
        "sidecarset-patch-metadata.yaml",
    ] {
        let mut obj = fixture(&format!("seed-001/{f}"));
        let name = format!("{}-{suffix}", obj["metadata"]["name"].as_str().unwrap());
        obj["metadata"]["name"] = json!(name);
        names.push(name);
        round_trip(&dynamic_for(&client, None, &obj), &typed, obj, f).await;
    }
    let s = typed.get(&names[0]).await.unwrap();
    let rev = s.spec.injection_strategy.unwrap().revision.unwrap();
    assert_eq!(rev.custom_version.as_deref(), Some("version-1"));
    assert_eq!(
        s.spec.containers.unwrap()[0]
            .typed()
            .unwrap()
            .image
            .as_deref(),
        Some("busybox:1.36")
    );
    for n in &names {
        typed.delete(n, &Default::default()).await.unwrap();
    }

    // Seed 002's Rollout, as written (v1alpha1), converted to v1beta1 as upstream converts it.
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/seed-002/rollout-v1alpha1.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let old: RolloutV1alpha1 = serde_saphyr::from_str(&text).unwrap();
    let new = old.to_v1beta1().unwrap();
    let step = &new.spec.strategy.canary.as_ref().unwrap().steps[0];
    assert_eq!(step.traffic.as_deref(), Some("5%"));
    assert_eq!(
        step.replicas,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("20%".into()))
    );
    let obj = serde_json::to_value(&new).unwrap();
    let typed: Api<Rollout> = ns.api();
    round_trip(
        &dynamic_for(&client, Some(&ns.name), &obj),
        &typed,
        obj,
        "seed 002 Rollout",
    )
    .await;
    let stored = typed.get("rollouts-demo").await.unwrap();
    let routing = &stored
        .spec
        .strategy
        .canary
        .unwrap()
        .traffic_routings
        .unwrap()[0];
    assert_eq!(routing.grace_period_seconds, 3, "the CRD default applies");
    assert_eq!(routing.ingress.as_ref().unwrap().name, "echoserver");
}

#[tokio::test]
async fn bad_objects_of_other_kinds_are_refused_by_the_crds_alone() {
    use kubectl_kruise::api::RolloutV1alpha1;
    install().await;
    let client = support::client_as("crds-bad-kinds").await;
    let ns = TestNs::new(&client, "badkinds").await;

    // A Rollout step with weight 150 (v1alpha1), i.e. traffic 150% once converted.
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/seed-002/rollout-v1alpha1.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut old: RolloutV1alpha1 = serde_saphyr::from_str(&text).unwrap();
    old.spec.strategy.canary.as_mut().unwrap().steps[0]
        .traffic
        .weight = Some(150);
    let obj = serde_json::to_value(old.to_v1beta1().unwrap()).unwrap();
    let raw = dynamic_for(&client, Some(&ns.name), &obj);
    assert_refused(&raw, obj.clone(), "weight 150", "traffic").await;

    let mut bad = obj.clone();
    bad["spec"]["strategy"]["canary"]["steps"][0]["replicas"] = json!(0);
    assert_refused(&raw, bad, "replicas 0", "step replicas must be above 0").await;
    let mut bad = obj.clone();
    bad["spec"]["strategy"]["canary"]["steps"] = json!([]);
    assert_refused(&raw, bad, "no steps", "steps").await;
    let mut bad = obj.clone();
    bad["spec"]["strategy"]["blueGreen"] = bad["spec"]["strategy"]["canary"].clone();
    assert_refused(
        &raw,
        bad,
        "canary and blueGreen",
        "exactly one of canary and blueGreen",
    )
    .await;
    let mut bad = obj.clone();
    bad["spec"]["strategy"]["canary"]["trafficRoutings"][0]
        .as_object_mut()
        .unwrap()
        .remove("ingress");
    assert_refused(
        &raw,
        bad,
        "routing to nothing",
        "needs an ingress, a gateway or customNetworkRefs",
    )
    .await;
    let mut bad = obj.clone();
    bad["spec"]["workloadRef"] = json!({"apiVersion": "v1", "kind": "Pod", "name": "x"});
    assert_refused(&raw, bad, "a Pod as workload", "workloadRef must be").await;

    // Advanced DaemonSet: partition 120%, both maxUnavailable and maxSurge 0.
    let ads = fixture("seed-001/daemonset-predownload.yaml");
    let raw = dynamic_for(&client, Some(&ns.name), &ads);
    let mut bad = ads.clone();
    bad["spec"]["updateStrategy"]["rollingUpdate"]["partition"] = json!("120%");
    assert_refused(
        &raw,
        bad,
        "ADS partition 120%",
        "percentage from 0% to 100%",
    )
    .await;
    let mut bad = ads.clone();
    bad["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = json!(0);
    assert_refused(&raw, bad, "ADS nothing may move", "cannot both be 0").await;
    let mut bad = ads.clone();
    bad["spec"]["selector"]["matchLabels"]["app"] = json!("other");
    assert_refused(&raw, bad, "ADS selector", "does not match").await;

    // Advanced StatefulSet: in place without the readiness gate; maxUnavailable 2 when ordered.
    let asts = json!({
        "apiVersion": "apps.kruise.io/v1beta1", "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "busybox:1.36"}]}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"podUpdatePolicy": "InPlaceIfPossible"}}}
    });
    let raw = dynamic_for(&client, Some(&ns.name), &asts);
    assert_refused(
        &raw,
        asts.clone(),
        "ASTS in place without gate",
        "InPlaceUpdateReady",
    )
    .await;
    let mut ok_asts = asts.clone();
    ok_asts["spec"]["template"]["spec"]["readinessGates"] =
        json!([{"conditionType": "InPlaceUpdateReady"}]);
    let mut bad = ok_asts.clone();
    bad["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = json!(2);
    assert_refused(
        &raw,
        bad,
        "ASTS maxUnavailable 2",
        "unless podManagementPolicy is Parallel",
    )
    .await;
    let mut bad = ok_asts.clone();
    bad["spec"]["replicas"] = json!(-1);
    assert_refused(&raw, bad, "ASTS replicas -1", "spec.replicas").await;
    raw.create(
        &PostParams::default(),
        &serde_json::from_value(ok_asts).unwrap(),
    )
    .await
    .expect("a valid Advanced StatefulSet is accepted");

    // PodUnavailableBudget: both maxUnavailable and minAvailable.
    let pub_ = json!({
        "apiVersion": "policy.kruise.io/v1alpha1", "kind": "PodUnavailableBudget",
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "maxUnavailable": "20%", "minAvailable": 2}
    });
    let raw = dynamic_for(&client, Some(&ns.name), &pub_);
    assert_refused(
        &raw,
        pub_,
        "PUB both bounds",
        "exactly one of spec.maxUnavailable and spec.minAvailable",
    )
    .await;
}

/// The rollout guard's name (policy and binding).
const GUARD: &str = kubectl_kruise::api::guard::NAME;

/// Removes the rollout guard when dropped (also when the test fails): it is cluster-wide state.
struct RemoveGuard;

impl Drop for RemoveGuard {
    fn drop(&mut self) {
        kubectl(&[
            "delete",
            "validatingadmissionpolicybinding,validatingadmissionpolicy",
            GUARD,
            "--ignore-not-found",
        ]);
    }
}

/// A labelled workload as the Rollout controller leaves it: `rollouts.kruise.io/workload-type`.
fn guarded_workload(api_version: &str, kind: &str, name: &str, labelled: bool) -> Value {
    let mut spec = json!({
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "main", "image": "nginx:1.20"}]}}
    });
    if kind != "DaemonSet" {
        spec["replicas"] = json!(2);
    }
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
    }
    let labels = if labelled {
        json!({"rollouts.kruise.io/workload-type": kind.to_lowercase()})
    } else {
        json!({})
    };
    json!({"apiVersion": api_version, "kind": kind,
           "metadata": {"name": name, "labels": labels}, "spec": spec})
}

/// `crds install --with-guard` puts a ValidatingAdmissionPolicy in force that refuses a plain
/// `kubectl set image` (or any pod template change) on a workload under a Rollout unless the
/// same write gates it as upstream's webhook would (pause or partition, and the in-progressing
/// annotation); a release already in progress, a workload with no replicas and an unlabelled
/// workload are not affected, and neither are other changes to a labelled one.
///
/// The binding is cluster-wide, and other tests (or people) may share this cluster: before the
/// install, the test applies the binding's `matchResources` with a field manager of its own,
/// narrowing it to the test's namespace. Server-side apply keeps that field (our install does
/// not set it), so the guard never applies elsewhere; the test removes both objects at the end.
#[tokio::test]
async fn the_rollout_guard_refuses_template_changes_that_bypass_an_enabled_rollout() {
    use k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    use kube::api::{Patch, PatchParams};

    let _lock = INSTALL.lock().await;
    let client = support::client_as("crds-guard").await;
    let ns = TestNs::prefixed(&client, "guard").await;
    let n = ns.name.as_str();
    let _remove = RemoveGuard;
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(client.clone());
    let scope = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": GUARD},
        "spec": {"policyName": GUARD, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}}
    });
    bindings
        .patch(
            GUARD,
            &PatchParams::apply("kruise-tests-guard-scope").force(),
            &Patch::Apply(scope),
        )
        .await
        .unwrap();

    // The plan names both objects; the install applies them after the CRDs.
    let plan = ok(kruise(&[
        "crds",
        "install",
        "--with-guard",
        "--dry-run=client",
        "-o",
        "name",
    ]));
    assert!(
        plan.ends_with(&format!(
            "validatingadmissionpolicy.admissionregistration.k8s.io/{GUARD}\nvalidatingadmissionpolicybinding.admissionregistration.k8s.io/{GUARD}\n"
        )),
        "{plan}"
    );
    let out = ok(kruise(&["crds", "install", "--with-guard"]));
    assert!(
        out.contains(&format!(
            "validatingadmissionpolicy.admissionregistration.k8s.io/{GUARD} "
        )) && out.contains(&format!(
            "validatingadmissionpolicybinding.admissionregistration.k8s.io/{GUARD} configured"
        )),
        "{out}"
    );
    let binding = bindings.get(GUARD).await.unwrap();
    assert_eq!(
        serde_json::to_value(&binding.spec.as_ref().unwrap().match_resources).unwrap()["namespaceSelector"]
            ["matchLabels"]["kubernetes.io/metadata.name"],
        n,
        "the install kept the test's namespace scope"
    );
    let again = ok(kruise(&["crds", "install", "--with-guard"]));
    assert!(again.lines().all(|l| l.ends_with(" unchanged")), "{again}");
    let status: Value =
        serde_json::from_str(&ok(kruise(&["crds", "status", "-o", "json"]))).unwrap();
    for kind in [
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    ] {
        let row = status
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} row in {status}"));
        assert_eq!(row["name"], GUARD);
        assert_eq!(row["installed"], true, "{row}");
        assert_eq!(row["installedBy"], "kubectl-kruise", "{row}");
        assert_eq!(row["established"], true, "{row}");
        assert_eq!(row["matchesOurs"], true, "{row}");
    }

    // Workloads: labelled (under a Rollout) and not.
    let mut workloads = vec![
        guarded_workload("apps/v1", "Deployment", "web", true),
        guarded_workload("apps/v1", "Deployment", "half", true),
        guarded_workload("apps/v1", "Deployment", "plain", false),
        guarded_workload("apps/v1", "StatefulSet", "sts", true),
        guarded_workload("apps.kruise.io/v1alpha1", "CloneSet", "cs", true),
        guarded_workload("apps.kruise.io/v1beta1", "StatefulSet", "asts", true),
        guarded_workload("apps.kruise.io/v1beta1", "DaemonSet", "ads", true),
    ];
    workloads[1]["spec"]["replicas"] = json!(1);
    for w in workloads {
        dynamic_for(&client, Some(n), &w)
            .create(&PostParams::default(), &serde_json::from_value(w).unwrap())
            .await
            .unwrap();
    }

    // The API server enforces a new policy once its informers saw it: wait for a refusal of a
    // server-side dry run (admitted like a write, never stored).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let probe = kubectl(&[
            "-n",
            n,
            "set",
            "image",
            "deploy/web",
            "main=nginx:probe",
            "--dry-run=server",
        ]);
        if !probe.status.success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the guard was not in force after 30s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = ns.api();
    let image = |d: &k8s_openapi::api::apps::v1::Deployment| {
        d.spec
            .as_ref()
            .unwrap()
            .template
            .spec
            .as_ref()
            .unwrap()
            .containers[0]
            .image
            .clone()
            .unwrap()
    };
    let before = deployments.get("web").await.unwrap();
    let refused = |out: std::process::Output, what: &str| {
        assert!(!out.status.success(), "{what}: accepted");
        let err = stderr(&out);
        for part in [
            &format!("ValidatingAdmissionPolicy '{GUARD}'"),
            "an enabled Kruise Rollout manages this workload",
            "`kubectl kruise set image …` or `kubectl kruise rollout …`",
            "or disable the Rollout",
        ] {
            assert!(err.contains(part), "{what}: {part:?} not in {err}");
        }
    };

    // Plain kubectl: refused, nothing changed.
    refused(
        kubectl(&["-n", n, "set", "image", "deploy/web", "main=nginx:1.21"]),
        "kubectl set image",
    );
    refused(
        kubectl(&["-n", n, "rollout", "restart", "deploy/web"]),
        "kubectl rollout restart",
    );
    let after = deployments.get("web").await.unwrap();
    assert_eq!(image(&after), "nginx:1.20");
    assert_eq!(after.metadata.generation, before.metadata.generation);

    // Changes that leave the template alone: accepted.
    ok(kubectl(&["-n", n, "label", "deploy/web", "team=a"]));
    ok(kubectl(&["-n", n, "scale", "deploy/web", "--replicas=3"]));
    ok(kubectl(&[
        "-n",
        n,
        "patch",
        "deploy/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"minReadySeconds":1}}"#,
    ]));

    // Half a gate is no gate: the annotation without the pause, the pause without it.
    let new_template =
        r#""template":{"spec":{"containers":[{"name":"main","image":"nginx:1.21"}]}}"#;
    let annotation = r#""metadata":{"annotations":{"rollouts.kruise.io/in-progressing":"{\"rolloutName\":\"web\"}"}}"#;
    refused(
        kubectl(&[
            "-n",
            n,
            "patch",
            "deploy/half",
            "--type=merge",
            "-p",
            &format!("{{{annotation},\"spec\":{{{new_template}}}}}"),
        ]),
        "annotation without pause",
    );
    refused(
        kubectl(&[
            "-n",
            n,
            "patch",
            "deploy/half",
            "--type=merge",
            "-p",
            &format!("{{\"spec\":{{\"paused\":true,{new_template}}}}}"),
        ]),
        "pause without annotation",
    );

    // Gated in the same write, as `kubectl kruise set image` and upstream's webhook do: accepted.
    ok(kubectl(&[
        "-n",
        n,
        "patch",
        "deploy/web",
        "--type=merge",
        "-p",
        &format!("{{{annotation},\"spec\":{{\"paused\":true,{new_template}}}}}"),
    ]));
    let gated = deployments.get("web").await.unwrap();
    assert_eq!(image(&gated), "nginx:1.21");
    assert_eq!(gated.spec.as_ref().unwrap().paused, Some(true));
    // A release in progress (the annotation was there), even with the workload not paused (a
    // blue-green release unpauses it): continuous release, rollback.
    ok(kubectl(&["-n", n, "rollout", "resume", "deploy/web"]));
    ok(kubectl(&[
        "-n",
        n,
        "set",
        "image",
        "deploy/web",
        "main=nginx:1.22",
    ]));
    ok(kubectl(&[
        "-n",
        n,
        "set",
        "image",
        "deploy/web",
        "main=nginx:1.20",
    ]));
    // No replicas: upstream's webhook does not gate it either.
    ok(kubectl(&["-n", n, "scale", "deploy/half", "--replicas=0"]));
    ok(kubectl(&[
        "-n",
        n,
        "set",
        "image",
        "deploy/half",
        "main=nginx:1.21",
    ]));
    // Not under a Rollout: untouched.
    ok(kubectl(&[
        "-n",
        n,
        "set",
        "image",
        "deploy/plain",
        "main=nginx:1.21",
    ]));

    // The other kinds: plain image change refused, gated change accepted.
    for (resource, gate) in [
        (
            "statefulsets.apps/sts",
            r#""updateStrategy":{"rollingUpdate":{"partition":32767}}"#,
        ),
        (
            "clonesets.apps.kruise.io/cs",
            r#""updateStrategy":{"partition":"100%"}"#,
        ),
        (
            "statefulsets.apps.kruise.io/asts",
            r#""updateStrategy":{"rollingUpdate":{"partition":32767}}"#,
        ),
        (
            "daemonsets.apps.kruise.io/ads",
            r#""updateStrategy":{"rollingUpdate":{"partition":32767}}"#,
        ),
    ] {
        refused(
            kubectl(&[
                "-n",
                n,
                "patch",
                resource,
                "--type=json",
                "-p",
                r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.21"}]"#,
            ]),
            resource,
        );
        if !resource.starts_with("statefulsets.apps/") {
            // (An apps/v1 StatefulSet always has a partition once defaulted.)
            refused(
                kubectl(&[
                    "-n",
                    n,
                    "patch",
                    resource,
                    "--type=merge",
                    "-p",
                    &format!("{{{annotation},\"spec\":{{{new_template}}}}}"),
                ]),
                &format!("{resource}: annotation without partition"),
            );
        }
        ok(kubectl(&[
            "-n",
            n,
            "patch",
            resource,
            "--type=merge",
            "-p",
            &format!("{{{annotation},\"spec\":{{{gate},{new_template}}}}}"),
        ]));
    }
    let status = ok(kruise(&["crds", "status"]));
    assert!(
        status.lines().any(
            |l| l.starts_with(&format!("validatingadmissionpolicy/{GUARD} "))
                && l.contains("kubectl-kruise")
        ),
        "{status}"
    );
}
