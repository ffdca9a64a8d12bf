//! Gateway API: the HTTPRoute's backends follow the steps (a header match, then weights) and
//! are restored at the end, on the real Gateway API CRDs.

use kubectl_kruise::api::gateway::HttpRoute;

use super::*;

fn refs(rule: &Value) -> Vec<(String, Option<i64>)> {
    rule["backendRefs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_string(),
                r["weight"].as_i64(),
            )
        })
        .collect()
}

async fn rules(ns: &TestNs) -> Vec<Value> {
    let r = ns
        .api::<HttpRoute>()
        .get("web")
        .await
        .expect("the HTTPRoute");
    r.spec["rules"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn http_route_follows_header_match_then_weights() {
    let (_c, ns) = new_ns("ro-gw").await;
    echoserver(&ns, "web", 4).await;
    create::<HttpRoute>(
        &ns,
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web"},
            "spec": {"parentRefs": [{"name": "gw"}],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": "web", "port": 80}]}]}}),
    )
    .await;
    let original = rules(&ns).await;
    rollout(
        &ns,
        "ro",
        ("apps/v1", "Deployment", "web"),
        json!({"enableExtraWorkloadForCanary": true, "steps": [
            {"replicas": 1, "matches": [{"headers": [{"name": "x-canary", "value": "beta"}]}], "pause": {}},
            {"replicas": "50%", "traffic": "40%", "pause": {}},
            {"replicas": "100%"}],
            "trafficRoutings": [{"service": "web", "gateway": {"httpRouteName": "web"}, "gracePeriodSeconds": 0}]}),
    )
    .await;
    available(&ns, "web", 4).await;

    kruise_ok(
        &ns,
        &[
            "set",
            "image",
            "deployment/web",
            "echoserver=cilium/echoserver:1.10.3",
        ],
    );
    let rs = rules(&ns).await;
    assert_eq!(rs.len(), 2, "the stable rule and a canary rule: {rs:#?}");
    // The API server defaults a backend's weight to 1.
    assert_eq!(
        refs(&rs[0]),
        vec![("web".to_string(), Some(1))],
        "the stable rule untouched"
    );
    assert_eq!(
        refs(&rs[1])
            .iter()
            .map(|r| r.0.as_str())
            .collect::<Vec<_>>(),
        vec!["web-canary"]
    );
    let headers = rs[1]["matches"][0]["headers"].clone();
    assert_eq!(headers[0]["name"], "x-canary");
    assert_eq!(headers[0]["value"], "beta");

    kruise_ok(&ns, &["rollout", "approve", "rollout/ro"]);
    let rs = rules(&ns).await;
    assert_eq!(
        refs(&rs[0]),
        vec![
            ("web".to_string(), Some(60)),
            ("web-canary".to_string(), Some(40))
        ]
    );

    kruise_ok(&ns, &["rollout", "approve", "rollout/ro"]);
    rollout_until(&ns, "ro", "Healthy", |s| s["phase"] == "Healthy").await;
    let rs = rules(&ns).await;
    assert_eq!(
        rs.len(),
        original.len(),
        "canary-only rules dropped: {rs:#?}"
    );
    assert_eq!(
        refs(&rs[0]),
        vec![("web".to_string(), Some(1))],
        "stable weight 1, no canary"
    );
}
