//! A release whose canary cannot start: it stays in StepUpgrade naming the pods; reverting the
//! image cancels it (the stable pods untouched), a newer image releases on from step 1.

use super::*;

const BAD: &str = "cilium/echoserver:failed";

async fn failed_release(ns: &TestNs) -> Vec<String> {
    echoserver(ns, "echo", 4).await;
    rollout(
        ns,
        "ro",
        ("apps/v1", "Deployment", "echo"),
        json!({"enableExtraWorkloadForCanary": true,
            "steps": [{"traffic": "20%", "replicas": 1, "pause": {}}, {"replicas": "100%"}],
            "trafficRoutings": [{"service": "echo", "ingress": {"name": "echo"}, "gracePeriodSeconds": 0}]}),
    )
    .await;
    let d = available(ns, "echo", 4).await;
    let sel = d.spec.unwrap().selector.match_labels.unwrap();
    let stable: Vec<String> = pods(ns, &sel)
        .await
        .iter()
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    // The drive cannot finish: the canary pod never pulls its image.
    let o = kruise_in(
        ns,
        &[
            "set",
            "image",
            "deployment/echo",
            &format!("echoserver={BAD}"),
            "--timeout=20s",
        ],
    );
    assert!(
        !o.status.success(),
        "a release that cannot start does not end well"
    );
    let st = rollout_until(ns, "ro", "StepUpgrade naming the pod", |s| {
        state(s) == (1, "StepUpgrade".into())
            && s["canaryStatus"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("waiting for pod(s) echo-"))
    })
    .await;
    assert_eq!(st["phase"], "Progressing");
    stable
}

/// Reverting the image cancels the release as upstream does: canary objects removed, the
/// Deployment resumed with nothing to roll, Healthy, Succeeded False, stable pods untouched.
#[tokio::test]
async fn failed_release_then_revert_cancels() {
    let (_c, ns) = new_ns("ro-revert").await;
    let stable = failed_release(&ns).await;
    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            "deployment/echo",
            "echoserver=cilium/echoserver:1.10.2",
        ],
    );
    let st = rollout_until(&ns, "ro", "cancelled", |s| {
        s["phase"] == "Healthy"
            && condition(s, "Progressing")
                .is_some_and(|c| c["message"] == "Rollout progressing has been cancelled")
    })
    .await;
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("False"))
    );
    gone::<Ingress>(&ns, "echo-canary").await;
    gone::<Service>(&ns, "echo-canary").await;
    let d = ns.api::<Deployment>().get("echo").await.unwrap();
    assert_ne!(d.spec.as_ref().unwrap().paused, Some(true));
    let sel = d.spec.unwrap().selector.match_labels.unwrap();
    let now: Vec<String> = pods(&ns, &sel)
        .await
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && image(p) != BAD)
        .filter_map(|p| p.metadata.uid.clone())
        .collect();
    let mut a = stable.clone();
    a.sort();
    let mut b = now;
    b.sort();
    assert_eq!(a, b, "the stable pods are the same pods");
    let svc = ns
        .api::<Service>()
        .get("echo")
        .await
        .unwrap()
        .spec
        .unwrap()
        .selector
        .unwrap();
    assert!(
        !svc.contains_key("pod-template-hash"),
        "the stable selector is restored"
    );
}

/// A newer image during the failed release is a continuous release: back to step 1 with it.
#[tokio::test]
async fn failed_release_then_newer_image_releases_on() {
    let (_c, ns) = new_ns("ro-cont").await;
    let _ = failed_release(&ns).await;
    let v3 = "cilium/echoserver:1.10.3";
    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            "deployment/echo",
            &format!("echoserver={v3}"),
        ],
    );
    let st = get_rollout(&ns, "ro").await.status.unwrap();
    assert_eq!(
        (st.current_step_index, st.current_step_state.as_str()),
        (1, "StepPaused")
    );
    let cs = st.canary_status.unwrap();
    assert_eq!(cs.canary_ready_replicas, 1);
    let canary = ns
        .api::<Service>()
        .get("echo-canary")
        .await
        .unwrap()
        .spec
        .unwrap()
        .selector
        .unwrap();
    let selected = pods(&ns, &canary).await;
    assert!(!selected.is_empty() && selected.iter().all(|p| image(p) == v3 && ready(p)));
}
