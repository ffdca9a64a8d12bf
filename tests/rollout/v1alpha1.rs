//! A cluster whose CRDs serve `rollouts.kruise.io` at v1alpha1 only (an older Kruise Rollout's):
//! the commands and the embedded controllers read the v1alpha1 objects, converted as upstream's
//! webhook converts them, and write them back as v1alpha1. Its own control plane (the shared
//! one serves v1beta1), brought up for this test and down after it.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Client, Config};

use super::*;

const V2: &str = "cilium/echoserver:1.10.3";

/// A second control plane in its own folder; down when dropped.
struct Plane {
    dir: PathBuf,
}

impl Plane {
    fn up(name: &str) -> Plane {
        let dir = std::env::temp_dir().join(format!("kruise-{name}-{}", support::random_suffix()));
        let out = Command::new(support::xtask_path())
            .args(["cluster", "up", "--dir"])
            .arg(&dir)
            .output()
            .expect(
                "run xtask (build it with `cargo xtask` or run the tests with `cargo xtask test`)",
            );
        assert!(
            out.status.success(),
            "a second control plane: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Plane { dir }
    }

    fn kubeconfig(&self) -> String {
        self.dir.join("kubeconfig").display().to_string()
    }

    async fn client(&self) -> Client {
        let kc = kube::config::Kubeconfig::read_from(self.dir.join("kubeconfig")).unwrap();
        let cfg = Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        Client::try_from(cfg).unwrap()
    }

    fn kruise(&self, args: &[&str]) -> std::process::Output {
        support::kruise_env(args, &[("KUBECONFIG", &self.kubeconfig())])
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        let _ = Command::new(support::xtask_path())
            .args(["cluster", "down", "--dir"])
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Rollout and BatchRelease served at v1alpha1 alone, with a status subresource and schemas
/// that keep what they are given (the shapes are the operator's, not checked here).
fn old_crd(kind: &str) -> CustomResourceDefinition {
    let plural = format!("{}s", kind.to_lowercase());
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.rollouts.kruise.io")},
        "spec": {"group": "rollouts.kruise.io", "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                      "listKind": format!("{kind}List")},
            "versions": [{"name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    }))
    .unwrap()
}

fn old_api(client: &Client, ns: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("rollouts.kruise.io", "v1alpha1", kind);
    let ar = ApiResource::from_gvk_with_plural(&gvk, &format!("{}s", kind.to_lowercase()));
    Api::namespaced_with(client.clone(), ns, &ar)
}

async fn old(client: &Client, ns: &str, kind: &str, name: &str) -> Value {
    let o = old_api(client, ns, kind).get(name).await.expect(kind);
    serde_json::to_value(o).unwrap()
}

#[tokio::test]
async fn a_v1alpha1_only_cluster_is_read_and_written_at_v1alpha1() {
    let plane = Plane::up("v1alpha1");
    let client = plane.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for kind in ["Rollout", "BatchRelease"] {
        crds.create(&PostParams::default(), &old_crd(kind))
            .await
            .unwrap();
    }
    for kind in ["rollouts", "batchreleases"] {
        support::wait_for(
            &crds,
            &format!("{kind}.rollouts.kruise.io"),
            T,
            "Established",
            |c: &CustomResourceDefinition| {
                c.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            },
        )
        .await;
    }
    let ns = TestNs::new(&client, "old").await;
    echoserver(&ns, "echoserver", 3).await;
    // Seed 002's Rollout as its article writes it, v1alpha1 (a weight, no replicas: the step
    // releases that share of the pods too).
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/seed-002/rollout-v1alpha1.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut seed: Value = serde_saphyr::from_str(&text).unwrap();
    seed["spec"]["strategy"]["canary"]["steps"] = json!([{"weight": 40, "pause": {}}]);
    let obj: DynamicObject = serde_json::from_value(seed).unwrap();
    old_api(&client, &ns.name, "Rollout")
        .create(&PostParams::default(), &obj)
        .await
        .unwrap();
    available(&ns, "echoserver", 3).await;

    let p = &plane;
    let n = ns.name.as_str();
    let set = p.kruise(&[
        "-n",
        n,
        "set",
        "image",
        "deployment/echoserver",
        &format!("echoserver={V2}"),
    ]);
    assert!(set.status.success(), "{}", support::stderr(&set));
    let r = old(&client, n, "Rollout", "rollouts-demo").await;
    let cs = &r["status"]["canaryStatus"];
    assert_eq!(cs["currentStepState"], "StepPaused", "{r:#}");
    assert_eq!(cs["canaryReadyReplicas"], 2, "40% of 3, rounded up: {r:#}");
    assert!(
        r["status"].get("currentStepIndex").is_none(),
        "written as v1alpha1 (no top-level step): {r:#}"
    );
    let br = old(&client, n, "BatchRelease", "rollouts-demo").await;
    assert_eq!(
        br["spec"]["targetReference"]["workloadRef"]["name"], "echoserver",
        "{br:#}"
    );
    assert_eq!(
        br["metadata"]["annotations"]["rollouts.kruise.io/rolling-style"],
        "canary"
    );
    let canary = ns.api::<Ingress>().get("echoserver-canary").await.unwrap();
    assert_eq!(
        canary.metadata.annotations.unwrap()["nginx.ingress.kubernetes.io/canary-weight"],
        "40"
    );
    let st = p.kruise(&[
        "-n",
        n,
        "rollout",
        "status",
        "rollout/rollouts-demo",
        "--watch=false",
    ]);
    assert_eq!(st.status.code(), Some(5), "waiting for approval");

    let ok = p.kruise(&["-n", n, "rollout", "approve", "rollout/rollouts-demo"]);
    assert!(ok.status.success(), "{}", support::stderr(&ok));
    let r = old(&client, n, "Rollout", "rollouts-demo").await;
    assert_eq!(r["status"]["phase"], "Healthy", "{r:#}");
    let d = ns.api::<Deployment>().get("echoserver").await.unwrap();
    let s = d.status.unwrap();
    assert_eq!((s.updated_replicas, s.replicas), (Some(3), Some(3)));
    assert_eq!(
        d.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some(V2)
    );
    let gone = old_api(&client, n, "BatchRelease")
        .get_opt("rollouts-demo")
        .await;
    assert!(
        matches!(gone, Ok(None)),
        "the BatchRelease is removed at the end: {gone:?}"
    );
}
