//! Blue-green (v1beta1 `blueGreen`), seed 003's story: the new version (green) comes up beside
//! the old (blue), the traffic is switched over by steps, and the old pods go at the end. For a
//! Deployment and for a CloneSet, with nginx traffic, no operator.

use kubectl_kruise::api::cloneset::CloneSet;

use super::*;

/// Watches the namespace's pods through the run (a poll every 200 ms): the fewest Ready pods
/// ever seen on `image`. A failed list fails the test instead of passing by default.
struct FewestReady {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<usize, String>>,
}

impl FewestReady {
    fn start(ns: &TestNs, image: &str) -> FewestReady {
        let api = ns.api::<Pod>();
        let image = image.to_string();
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut fewest = usize::MAX;
            loop {
                let list = api
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| format!("the pod watch failed: {e}"))?;
                let n = list
                    .items
                    .iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                    .filter(|p| super::image(p) == image && super::ready(p))
                    .count();
                fewest = fewest.min(n);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = stopped.changed() => return Ok(fewest),
                }
            }
        });
        FewestReady { stop, task }
    }

    async fn fewest(self) -> usize {
        let _ = self.stop.send(true);
        self.task
            .await
            .expect("the watch task")
            .expect("the pod watch")
    }
}

fn canary_weight(ing: &Ingress) -> Option<String> {
    ing.metadata
        .annotations
        .as_ref()?
        .get("nginx.ingress.kubernetes.io/canary-weight")
        .cloned()
}

async fn weight(ns: &TestNs, ingress: &str) -> Option<String> {
    let ing = ns.api::<Ingress>().get_opt(ingress).await.unwrap()?;
    canary_weight(&ing)
}

fn on(ps: &[Pod], img: &str) -> usize {
    ps.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && image(p) == img && ready(p))
        .count()
}

fn paused_at(st: &Value) -> (i64, String) {
    state(st)
}

/// A Service and an nginx Ingress in front of the pods labelled `app: name`.
async fn behind_nginx(ns: &TestNs, name: &str) {
    service(ns, name).await;
    create::<Ingress>(
        ns,
        json!({"metadata": {"name": name, "annotations": {"kubernetes.io/ingress.class": "nginx"}},
            "spec": {"rules": [{"host": format!("{name}.example.com"), "http": {"paths": [
                {"backend": {"service": {"name": name, "port": {"number": 80}}},
                 "path": "/", "pathType": "Prefix"}]}}]}}),
    )
    .await;
}

fn blue_green_steps(service: &str) -> Value {
    json!({"steps": [
            {"replicas": "100%", "traffic": "0%", "pause": {}},
            {"replicas": "100%", "traffic": "50%", "pause": {}},
            {"replicas": "100%", "traffic": "100%", "pause": {}}],
        "trafficRoutings": [{"service": service, "ingress": {"name": service}}]})
}

async fn blue_green(ns: &TestNs, name: &str, workload: (&str, &str, &str), spec: Value) {
    create::<Rollout>(
        ns,
        json!({"metadata": {"name": name},
            "spec": {"workloadRef": {"apiVersion": workload.0, "kind": workload.1, "name": workload.2},
                "strategy": {"blueGreen": spec}}}),
    )
    .await;
}

/// Seed 003's Deployment of 3: `set image` brings 3 green pods up beside the 3 blue ones with
/// no traffic; each approval moves traffic (0 → 50 → 100 %) with every blue pod still Ready;
/// the last approval removes the blue pods, restores the Deployment's own strategy and the
/// Services, and the Rollout ends Healthy and Succeeded. Through the steps no blue pod is ever
/// taken away.
#[tokio::test]
async fn seed_003_blue_green_deployment() {
    const V1: &str = "lukelau/rest-docker:0.0.1";
    const V2: &str = "lukelau/rest-docker:0.0.2";
    let (_c, ns) = new_ns("ro-bg").await;
    let name = "first-deployment";
    create::<Deployment>(
        &ns,
        json!({"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 3, "minReadySeconds": 1, "selector": {"matchLabels": {"app": name}},
                "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "10%"}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": V1}]}}}}),
    )
    .await;
    behind_nginx(&ns, name).await;
    blue_green(
        &ns,
        "bg",
        ("apps/v1", "Deployment", name),
        blue_green_steps(name),
    )
    .await;
    available(&ns, name, 3).await;
    let blue = FewestReady::start(&ns, V1);

    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            &format!("deployment/{name}"),
            &format!("main={V2}"),
        ],
    );
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (1, "StepPaused".into()), "{st:#}");
    let bg = &st["blueGreenStatus"];
    assert_eq!(bg["updatedReplicas"], 3, "{st:#}");
    assert_eq!(bg["updatedReadyReplicas"], 3, "{st:#}");
    let sel = BTreeMap::from([("app".to_string(), name.to_string())]);
    let all = pods(&ns, &sel).await;
    assert_eq!((on(&all, V1), on(&all, V2)), (3, 3), "green beside blue");
    let canary_sel = ns
        .api::<Service>()
        .get(&format!("{name}-canary"))
        .await
        .unwrap()
        .spec
        .unwrap()
        .selector
        .unwrap();
    let green = pods(&ns, &canary_sel).await;
    assert_eq!(
        on(&green, V2),
        3,
        "the canary Service selects the green pods"
    );
    assert!(green.iter().all(|p| image(p) == V2));
    assert_eq!(
        weight(&ns, &format!("{name}-canary"))
            .await
            .as_deref()
            .unwrap_or("0"),
        "0",
        "step 1 sends no traffic to green"
    );
    let d = ns.api::<Deployment>().get(name).await.unwrap();
    let dv = serde_json::to_value(&d).unwrap();
    assert!(
        dv["metadata"]["annotations"]["rollouts.kruise.io/original-deployment-strategy"]
            .is_string(),
        "the user's strategy is saved: {:#}",
        dv["metadata"]
    );

    kruise_ok(&ns, &["rollout", "approve", "rollout/bg"]);
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (2, "StepPaused".into()), "{st:#}");
    assert_eq!(
        weight(&ns, &format!("{name}-canary")).await.as_deref(),
        Some("50")
    );
    kruise_ok(&ns, &["rollout", "approve", "rollout/bg"]);
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (3, "StepPaused".into()), "{st:#}");
    assert_eq!(
        weight(&ns, &format!("{name}-canary")).await.as_deref(),
        Some("100")
    );
    let all = pods(&ns, &sel).await;
    assert_eq!(on(&all, V1), 3, "blue stays until the end");
    assert_eq!(
        blue.fewest().await,
        3,
        "no blue pod was taken away before the end"
    );

    kruise_ok(&ns, &["rollout", "approve", "rollout/bg"]);
    let st = rollout_until(&ns, "bg", "Healthy", |s| s["phase"] == "Healthy").await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True")),
        "{st:#}"
    );
    let d = support::wait_for(
        &ns.api::<Deployment>(),
        name,
        T,
        "blue gone",
        |d: &Deployment| {
            let s = d.status.clone().unwrap_or_default();
            s.replicas == Some(3)
                && s.updated_replicas == Some(3)
                && s.available_replicas == Some(3)
        },
    )
    .await;
    let dv = serde_json::to_value(&d).unwrap();
    assert_ne!(dv["spec"]["paused"], json!(true), "unpaused");
    assert_eq!(
        dv["spec"]["minReadySeconds"], 1,
        "the user's minReadySeconds back"
    );
    assert_eq!(
        dv["spec"]["strategy"]["rollingUpdate"],
        json!({"maxSurge": 1, "maxUnavailable": "10%"}),
        "the user's strategy back"
    );
    assert_eq!(dv["spec"]["progressDeadlineSeconds"], 600);
    for key in [
        "rollouts.kruise.io/original-deployment-strategy",
        "batchrelease.rollouts.kruise.io/control-info",
    ] {
        assert!(
            dv["metadata"]["annotations"].get(key).is_none(),
            "{key} left behind"
        );
    }
    let all = pods(&ns, &sel).await;
    assert_eq!((on(&all, V1), on(&all, V2)), (0, 3), "blue removed");
    gone::<Ingress>(&ns, &format!("{name}-canary")).await;
    gone::<Service>(&ns, &format!("{name}-canary")).await;
    let stable = ns.api::<Service>().get(name).await.unwrap();
    assert!(
        !stable
            .spec
            .unwrap()
            .selector
            .unwrap()
            .contains_key("pod-template-hash"),
        "the stable selector restored"
    );
}

/// A blue-green CloneSet of 4 with an HPA, steps as upstream's e2e (every step at 100 %: a
/// CloneSet's surge arithmetic, upstream's too, does not grow a surge already in use): all
/// the green pods beside the 4 blue ones (the CloneSet's surge, no partition), then the
/// traffic; the HPA is pointed away meanwhile and back at the end, when the blue pods go and
/// the CloneSet's own settings return.
#[tokio::test]
async fn blue_green_cloneset_with_hpa() {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let (_c, ns) = new_ns("ro-bg-cs").await;
    create::<CloneSet>(
        &ns,
        json!({"metadata": {"name": "shop"},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": "shop"}},
                "updateStrategy": {"maxUnavailable": 1},
                "template": {"metadata": {"labels": {"app": "shop"}},
                    "spec": {"containers": [{"name": "main", "image": "shop:1"}]}}}}),
    )
    .await;
    create::<HorizontalPodAutoscaler>(
        &ns,
        json!({"metadata": {"name": "shop"},
            "spec": {"minReplicas": 4, "maxReplicas": 8,
                "scaleTargetRef": {"apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet", "name": "shop"}}}),
    )
    .await;
    behind_nginx(&ns, "shop").await;
    blue_green(
        &ns,
        "bg",
        ("apps.kruise.io/v1alpha1", "CloneSet", "shop"),
        json!({"steps": [
                {"replicas": "100%", "traffic": "0%", "pause": {}},
                {"replicas": "100%", "traffic": "100%", "pause": {}}],
            "trafficRoutings": [{"service": "shop", "ingress": {"name": "shop"}}]}),
    )
    .await;
    kruise_ok(
        &ns,
        &[
            "controller",
            "run",
            "--controllers",
            "cloneset",
            "--exit-when-done",
        ],
    );
    let blue = FewestReady::start(&ns, "shop:1");
    let hpa_target = |h: HorizontalPodAutoscaler| h.spec.unwrap().scale_target_ref.name;

    kruise_ok(&ns, &["set", "image", "cloneset/shop", "main=shop:2"]);
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (1, "StepPaused".into()), "{st:#}");
    let sel = BTreeMap::from([("app".to_string(), "shop".to_string())]);
    let all = pods(&ns, &sel).await;
    assert_eq!(
        (on(&all, "shop:1"), on(&all, "shop:2")),
        (4, 4),
        "green beside blue"
    );
    let cs = serde_json::to_value(ns.api::<CloneSet>().get("shop").await.unwrap()).unwrap();
    assert_eq!(
        cs["spec"]["updateStrategy"]["maxSurge"], "100%",
        "{:#}",
        cs["spec"]
    );
    // Removed (the CloneSet defaulting writes 0 back, as upstream's webhook).
    let partition = cs["spec"]["updateStrategy"].get("partition");
    assert!(
        partition.is_none_or(|p| p.is_null() || *p == json!(0)),
        "{partition:?}"
    );
    let hpa = ns
        .api::<HorizontalPodAutoscaler>()
        .get("shop")
        .await
        .unwrap();
    assert_eq!(
        hpa_target(hpa),
        "shop-DisableByRollout",
        "the HPA is pointed away"
    );

    kruise_ok(&ns, &["rollout", "approve", "rollout/bg"]);
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (2, "StepPaused".into()), "{st:#}");
    let all = pods(&ns, &sel).await;
    assert_eq!((on(&all, "shop:1"), on(&all, "shop:2")), (4, 4));
    assert_eq!(weight(&ns, "shop-canary").await.as_deref(), Some("100"));
    assert_eq!(
        blue.fewest().await,
        4,
        "no blue pod was taken away before the end"
    );

    kruise_ok(&ns, &["rollout", "approve", "rollout/bg"]);
    let st = rollout_until(&ns, "bg", "Healthy", |s| s["phase"] == "Healthy").await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    let all = pods(&ns, &sel).await;
    assert_eq!(
        (on(&all, "shop:1"), on(&all, "shop:2")),
        (0, 4),
        "blue removed"
    );
    let cs = serde_json::to_value(ns.api::<CloneSet>().get("shop").await.unwrap()).unwrap();
    assert_eq!(cs["spec"]["updateStrategy"]["maxUnavailable"], 1);
    // The user had none: upstream's default "0%" comes back (defaulted to 0).
    let surge = &cs["spec"]["updateStrategy"]["maxSurge"];
    assert!(*surge == json!("0%") || *surge == json!(0), "{surge}");
    assert!(cs["spec"].get("minReadySeconds").is_none_or(|v| v == 0));
    let hpa = ns
        .api::<HorizontalPodAutoscaler>()
        .get("shop")
        .await
        .unwrap();
    assert_eq!(hpa_target(hpa), "shop", "the HPA is back");
    gone::<Ingress>(&ns, "shop-canary").await;
}

/// Blue-green rolled back (upstream's "bluegreen rollback case"): the template reverted after
/// step 1 cancels the release (Rollback order: traffic to stable first), the green pods go,
/// the blue pods are the same pods throughout, the Deployment's own settings come back.
#[tokio::test]
async fn blue_green_deployment_rollback() {
    const V1: &str = "app:1";
    let (_c, ns) = new_ns("ro-bg-back").await;
    let name = "web";
    create::<Deployment>(
        &ns,
        json!({"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": V1}]}}}}),
    )
    .await;
    behind_nginx(&ns, name).await;
    blue_green(
        &ns,
        "bg",
        ("apps/v1", "Deployment", name),
        blue_green_steps(name),
    )
    .await;
    available(&ns, name, 2).await;
    let sel = BTreeMap::from([("app".to_string(), name.to_string())]);
    let blue_uids = |ps: &[Pod]| {
        let mut v: Vec<String> = ps
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none() && image(p) == V1)
            .filter_map(|p| p.metadata.uid.clone())
            .collect();
        v.sort();
        v
    };
    let before = blue_uids(&pods(&ns, &sel).await);

    kruise_ok(
        &ns,
        &["set", "image", &format!("deployment/{name}"), "main=app:2"],
    );
    let st = serde_json::to_value(get_rollout(&ns, "bg").await.status).unwrap();
    assert_eq!(paused_at(&st), (1, "StepPaused".into()), "{st:#}");
    assert_eq!(on(&pods(&ns, &sel).await, "app:2"), 2);

    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            &format!("deployment/{name}"),
            &format!("main={V1}"),
        ],
    );
    let st = rollout_until(&ns, "bg", "cancelled", |s| {
        s["phase"] == "Healthy"
            && condition(s, "Progressing")
                .is_some_and(|c| c["message"] == "Rollout progressing has been cancelled")
    })
    .await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("False")),
        "{st:#}"
    );
    let d = support::wait_for(
        &ns.api::<Deployment>(),
        name,
        T,
        "green gone",
        |d: &Deployment| {
            let s = d.status.clone().unwrap_or_default();
            s.replicas == Some(2) && s.available_replicas == Some(2)
        },
    )
    .await;
    let dv = serde_json::to_value(&d).unwrap();
    assert_ne!(dv["spec"]["paused"], json!(true));
    assert_eq!(
        dv["spec"]["strategy"]["rollingUpdate"],
        json!({"maxSurge": "25%", "maxUnavailable": "25%"}),
        "the defaults back"
    );
    assert!(
        dv["metadata"]["annotations"]
            .get("rollouts.kruise.io/original-deployment-strategy")
            .is_none()
    );
    let all = pods(&ns, &sel).await;
    assert_eq!(on(&all, "app:2"), 0, "green removed");
    assert_eq!(blue_uids(&all), before, "the blue pods are the same pods");
    gone::<Ingress>(&ns, &format!("{name}-canary")).await;
    gone::<Service>(&ns, &format!("{name}-canary")).await;
}
