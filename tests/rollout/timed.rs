//! A 3-step canary with timed pauses advances without approval, and a CLI killed (-9) during a
//! timed pause is replaced by another that advances at the right time: all state lives in the
//! Rollout's status.

use std::process::{Command, Stdio};

use super::*;

fn spawn(ns: &TestNs, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kubectl-kruise"))
        .args(["-n", ns.name.as_str()])
        .args(args)
        .env("KUBECONFIG", support::kubeconfig_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl-kruise runs")
}

fn since(st: &Value) -> k8s_openapi::jiff::Timestamp {
    st["canaryStatus"]["lastUpdateTime"]
        .as_str()
        .expect("lastUpdateTime")
        .parse()
        .expect("a time")
}

#[tokio::test]
async fn timed_pauses_advance_and_survive_kill_9() {
    let (_c, ns) = new_ns("ro-timed").await;
    echoserver(&ns, "web", 5).await;
    let pause = 6;
    rollout(
        &ns,
        "ro",
        ("apps/v1", "Deployment", "web"),
        json!({"enableExtraWorkloadForCanary": true, "steps": [
            {"replicas": "20%", "pause": {"duration": pause}},
            {"replicas": "60%", "pause": {"duration": pause}},
            {"replicas": "100%"}]}),
    )
    .await;
    available(&ns, "web", 5).await;
    let mut first = spawn(
        &ns,
        &[
            "set",
            "image",
            "deployment/web",
            "echoserver=cilium/echoserver:1.10.3",
        ],
    );
    let st = rollout_until(&ns, "ro", "step 1 paused", |s| {
        state(s) == (1, "StepPaused".into())
    })
    .await;
    first.kill().expect("kill -9");
    let _ = first.wait();
    let paused_at = since(&st);
    let mut second = spawn(
        &ns,
        &["controller", "run", "--controllers", "rollout,batchrelease"],
    );
    let st = rollout_until(&ns, "ro", "step 2", |s| {
        s["currentStepIndex"].as_i64() >= Some(2)
    })
    .await;
    let now = k8s_openapi::jiff::Timestamp::now();
    let waited = now.duration_since(paused_at).as_secs_f64();
    assert!(
        waited >= f64::from(pause) - 1.0,
        "step 2 began {waited:.1}s after step 1 paused, before its {pause}s pause ended: {st:#}"
    );
    assert!(
        waited < f64::from(pause) + 20.0,
        "step 2 came late: {waited:.1}s"
    );
    let st = rollout_until(&ns, "ro", "Healthy", |s| s["phase"] == "Healthy").await;
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(
        condition(&st, "Succeeded").map(|c| c["status"].clone()),
        Some(json!("True"))
    );
    support::wait_for(
        &ns.api::<Deployment>(),
        "web",
        T,
        "5 updated",
        |d: &Deployment| d.status.as_ref().and_then(|s| s.updated_replicas) == Some(5),
    )
    .await;
}
