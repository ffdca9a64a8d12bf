//! Seed 002 end to end: the echoserver Deployment of 5 behind a Service and an nginx Ingress,
//! a canary step of 20 % of the pods and 5 % of the traffic waiting for approval.

use super::*;

const V2: &str = "cilium/echoserver:1.10.3";

/// `set image` holds the Deployment, runs the embedded controllers to step 1's pause: one
/// canary pod ready, the canary Ingress at weight 5, the canary Service on the canary pods
/// only, the stable Service pinned; `rollout approve` finishes the release: 5/5 on the new
/// image, canary objects gone, selectors restored, Healthy and Succeeded. Through it all, no
/// stable pod takes the new image before the approval.
#[tokio::test]
async fn seed_002_canary_with_nginx_then_approve() {
    let (_c, ns) = new_ns("ro-seed").await;
    echoserver(&ns, "echoserver", 5).await;
    rollout(
        &ns,
        "rollouts-demo",
        ("apps/v1", "Deployment", "echoserver"),
        json!({"enableExtraWorkloadForCanary": true,
            "steps": [{"traffic": "5%", "replicas": "20%", "pause": {}}],
            "trafficRoutings": [{"service": "echoserver", "ingress": {"name": "echoserver"}}]}),
    )
    .await;
    available(&ns, "echoserver", 5).await;
    let watch = PodWatch::start(&ns, V2);

    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            "deployment/echoserver",
            &format!("echoserver={V2}"),
        ],
    );
    let st = get_rollout(&ns, "rollouts-demo").await.status.unwrap();
    assert_eq!(st.phase.as_deref(), Some("Progressing"));
    assert_eq!(
        (st.current_step_index, st.current_step_state.as_str()),
        (1, "StepPaused")
    );
    let cs = st.canary_status.clone().unwrap();
    assert_eq!((cs.canary_replicas, cs.canary_ready_replicas), (1, 1));

    let d = ns.api::<Deployment>().get("echoserver").await.unwrap();
    assert_eq!(
        d.spec.as_ref().unwrap().paused,
        Some(true),
        "the stable Deployment is held"
    );
    let canary_svc = ns.api::<Service>().get("echoserver-canary").await.unwrap();
    let sel = canary_svc.spec.unwrap().selector.unwrap();
    assert_eq!(
        sel.get("pod-template-hash"),
        Some(&cs.common.pod_template_hash)
    );
    let selected = pods(&ns, &sel).await;
    assert_eq!(
        selected.len(),
        1,
        "the canary Service selects the canary pod only"
    );
    assert!(selected.iter().all(|p| image(p) == V2 && ready(p)));
    let stable_sel = ns
        .api::<Service>()
        .get("echoserver")
        .await
        .unwrap()
        .spec
        .unwrap()
        .selector
        .unwrap();
    assert_eq!(
        stable_sel.get("pod-template-hash"),
        cs.common.stable_revision.as_ref()
    );
    assert!(pods(&ns, &stable_sel).await.iter().all(|p| image(p) != V2));
    let ing = ns.api::<Ingress>().get("echoserver-canary").await.unwrap();
    let a = ing.metadata.annotations.unwrap();
    assert_eq!(
        a.get("nginx.ingress.kubernetes.io/canary")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        a.get("nginx.ingress.kubernetes.io/canary-weight")
            .map(String::as_str),
        Some("5")
    );
    let rules = ing.spec.unwrap().rules.unwrap();
    let backend = &rules[0].http.as_ref().unwrap().paths[0].backend;
    assert_eq!(backend.service.as_ref().unwrap().name, "echoserver-canary");
    assert_eq!(
        watch.most().await,
        1,
        "before the approval only the canary pod runs v2"
    );
    // The tree at the pause: `get --until-done` rests at once with 5 (waiting for approval);
    // step 1 is current and holds the canary pod, the routes carry 5 %.
    let o = kruise_in(
        &ns,
        &["get", "rollout/rollouts-demo", "--until-done", "-o", "json"],
    );
    assert_eq!(o.status.code(), Some(5), "{}", support::stderr(&o));
    let view: serde_json::Value = serde_json::from_str(&support::stdout(&o)).unwrap();
    let step1 = &view["tree"]["children"][0];
    assert_eq!(
        (step1["name"].as_str(), &step1["current"]),
        (Some("step 1/1"), &json!(true)),
        "{view}"
    );
    let canary: Vec<&str> = step1["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        canary,
        [selected[0].metadata.name.as_deref().unwrap()],
        "{view}"
    );
    let weight = view["details"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["label"] == "ActualWeight")
        .map(|d| d["value"].clone());
    assert_eq!(weight, Some(json!("5%")), "{view}");
    let stable = view["tree"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["info"]["role"] == "stable")
        .expect("a stable group");
    assert_eq!(stable["children"].as_array().unwrap().len(), 5, "{view}");
    // The Rollout and BatchRelease reconcilers work under one Lease, released at the end.
    let leases: Vec<String> = ns
        .api::<k8s_openapi::api::coordination::v1::Lease>()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|l| {
            l.spec
                .as_ref()
                .and_then(|s| s.holder_identity.as_ref())
                .is_none()
        })
        .filter_map(|l| l.metadata.name)
        .collect();
    assert_eq!(leases, vec!["kubectl-kruise-rollout".to_string()]);

    kruise_ok(&ns, &["rollout", "approve", "rollout/rollouts-demo"]);
    let st = rollout_until(&ns, "rollouts-demo", "Healthy", |s| s["phase"] == "Healthy").await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    assert_eq!(
        condition(&st, "Progressing").map(|c| c["reason"].clone()),
        Some(json!("Completed"))
    );
    let d = support::wait_for(
        &ns.api::<Deployment>(),
        "echoserver",
        T,
        "5/5 on v2",
        |d: &Deployment| {
            let s = d.status.clone().unwrap_or_default();
            s.updated_replicas == Some(5)
                && s.available_replicas == Some(5)
                && s.replicas == Some(5)
        },
    )
    .await;
    assert_ne!(d.spec.as_ref().unwrap().paused, Some(true));
    assert!(
        !d.metadata
            .annotations
            .unwrap_or_default()
            .contains_key("rollouts.kruise.io/in-progressing")
    );
    assert!(
        ns.api::<Ingress>()
            .get_opt("echoserver-canary")
            .await
            .unwrap()
            .is_none()
    );
    gone::<Service>(&ns, "echoserver-canary").await;
    let stable_sel = ns
        .api::<Service>()
        .get("echoserver")
        .await
        .unwrap()
        .spec
        .unwrap()
        .selector
        .unwrap();
    assert_eq!(
        stable_sel,
        BTreeMap::from([("app".to_string(), "echoserver".to_string())])
    );
    let all = pods(&ns, &stable_sel).await;
    assert!(
        all.iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .all(|p| image(p) == V2)
    );
}

/// A plain `kubectl set image` (no webhook here to gate it) is held by the running controller
/// right after, as upstream's webhook would have held it, and said with a Warning Event.
#[tokio::test]
async fn change_behind_the_rollouts_back_is_held() {
    let (_c, ns) = new_ns("ro-back").await;
    echoserver(&ns, "web", 3).await;
    rollout(
        &ns,
        "ro",
        ("apps/v1", "Deployment", "web"),
        json!({"enableExtraWorkloadForCanary": true,
            "steps": [{"replicas": 1, "pause": {}}, {"replicas": "100%"}]}),
    )
    .await;
    // A slow native rollout (one pod at a time, each 20 s before it counts), so the change is
    // still in flight when the controller sees it; a rollout already finished is upstream's
    // "bypassed" case, which nothing holds.
    let slow = json!({"spec": {"minReadySeconds": 20,
        "strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}}});
    ns.api::<Deployment>()
        .patch("web", &Default::default(), &kube::api::Patch::Merge(&slow))
        .await
        .unwrap();
    available(&ns, "web", 3).await;
    let mut ctl = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args([
            "-n",
            ns.name.as_str(),
            "controller",
            "run",
            "--controllers",
            "rollout,batchrelease",
        ])
        .env("KUBECONFIG", support::kubeconfig_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("controller run");
    rollout_until(&ns, "ro", "Healthy", |s| s["phase"] == "Healthy").await;
    let o = support::kubectl(&[
        "-n",
        &ns.name,
        "set",
        "image",
        "deployment/web",
        "echoserver=cilium/echoserver:1.10.3",
    ]);
    assert!(o.status.success(), "{}", support::stderr(&o));
    let d = support::wait_for(
        &ns.api::<Deployment>(),
        "web",
        T,
        "held",
        |d: &Deployment| {
            d.spec.as_ref().and_then(|s| s.paused) == Some(true)
                && d.metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key("rollouts.kruise.io/in-progressing"))
        },
    )
    .await;
    assert!(
        d.metadata
            .labels
            .unwrap()
            .contains_key("rollouts.kruise.io/stable-revision")
    );
    rollout_until(&ns, "ro", "step 1 paused", |s| {
        state(s) == (1, "StepPaused".into())
    })
    .await;
    let events = ns
        .api::<k8s_openapi::api::core::v1::Event>()
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Gated") && e.type_.as_deref() == Some("Warning")),
        "a Warning Event says the workload was held"
    );
    let _ = ctl.kill();
    let _ = ctl.wait();
}
