use super::*;

fn pct(s: &str) -> IntOrString {
    IntOrString::String(s.into())
}

fn target(kind: TargetKind, replicas: i32, f: &Facts) -> Target {
    Target {
        kind,
        name: "web".into(),
        replicas,
        consistent: true,
        stable_revision: "a".into(),
        update_revision: "b".into(),
        updated: 0,
        updated_ready: 0,
        controlled: f.original.is_some(),
        partition: None,
        paused: f.paused,
        stable: None,
        canary: None,
        stable_rolled: false,
        pod_revision: None,
        in_rollback: false,
        blue_green: Some(f.clone()),
    }
}

/// The user's settings, filled from the workload only where not saved yet, with the native
/// defaults (`InitOriginalSetting`).
#[test]
fn original_settings_keep_the_first_claim() {
    let f = Facts::default();
    let o = original(TargetKind::Deployment, &f).unwrap();
    assert_eq!(o.max_surge, Some(pct("25%")));
    assert_eq!(o.max_unavailable, Some(pct("25%")));
    assert_eq!(o.progress_deadline_seconds, Some(600));
    let o = original(TargetKind::CloneSet, &f).unwrap();
    assert_eq!(
        (o.max_surge, o.max_unavailable, o.progress_deadline_seconds),
        (Some(pct("0%")), Some(pct("20%")), None)
    );
    // Claimed once: the saved values win over what the claim wrote.
    let f = Facts {
        original: Some(r#"{"maxSurge":"10%","maxUnavailable":2,"minReadySeconds":5}"#.into()),
        max_surge: Some(IntOrString::Int(1)),
        max_unavailable: Some(IntOrString::Int(0)),
        min_ready: MAX_READY_SECONDS,
        ..Default::default()
    };
    let o = original(TargetKind::CloneSet, &f).unwrap();
    assert_eq!(o.max_surge, Some(pct("10%")));
    assert_eq!(o.max_unavailable, Some(IntOrString::Int(2)));
    assert_eq!(o.min_ready_seconds, 5);
    let bad = Facts {
        original: Some("{".into()),
        ..Default::default()
    };
    assert!(original(TargetKind::Deployment, &bad).is_err());
}

#[test]
fn claim_rewrites_the_strategy_and_saves_it() {
    let f = Facts {
        max_surge: Some(pct("30%")),
        min_ready: 3,
        stable_rs: Some(("web-1".into(), 0)),
        ..Default::default()
    };
    let t = target(TargetKind::Deployment, 5, &f);
    let (rs, patch) = claim(&t, &f, "info").unwrap();
    assert_eq!(
        rs,
        Some(json!({"spec": {"minReadySeconds": MAX_READY_SECONDS}}))
    );
    assert_eq!(
        patch["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    );
    assert_eq!(
        patch["spec"]["progressDeadlineSeconds"],
        MAX_PROGRESS_SECONDS
    );
    let saved: Original =
        serde_json::from_str(patch["metadata"]["annotations"][ORIGINAL].as_str().unwrap()).unwrap();
    assert_eq!(saved.max_surge, Some(pct("30%")));
    assert_eq!(saved.min_ready_seconds, 3);
    let t = target(TargetKind::CloneSet, 5, &f);
    let (rs, patch) = claim(&t, &f, "info").unwrap();
    assert_eq!(rs, None);
    assert_eq!(
        patch["spec"]["updateStrategy"],
        json!({"paused": false, "maxSurge": 1, "maxUnavailable": 0})
    );
}

fn claimed(kind: TargetKind) -> Facts {
    Facts {
        strategy_type: Some(
            if kind == TargetKind::Deployment {
                "RollingUpdate"
            } else {
                "ReCreate"
            }
            .into(),
        ),
        has_rolling_update: true,
        max_surge: Some(IntOrString::Int(1)),
        max_unavailable: Some(IntOrString::Int(0)),
        min_ready: MAX_READY_SECONDS,
        progress_deadline: Some(MAX_PROGRESS_SECONDS),
        original: Some("{}".into()),
        ..Default::default()
    }
}

/// The surge only rises; the initial 1 counts as none; a workload not claimed (or its
/// settings changed by hand) is refused with upstream's reason.
#[test]
fn upgrade_raises_the_surge_only() {
    let f = claimed(TargetKind::Deployment);
    let t = target(TargetKind::Deployment, 4, &f);
    let p = upgrade(&t, &f, &pct("50%")).unwrap().unwrap();
    assert_eq!(p["spec"]["paused"], false);
    assert_eq!(p["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "50%");
    // A batch of 1 pod against the initial surge of 1: still written.
    assert!(upgrade(&t, &f, &IntOrString::Int(1)).unwrap().is_some());
    let at50 = Facts {
        max_surge: Some(pct("50%")),
        ..f.clone()
    };
    assert_eq!(upgrade(&t, &at50, &pct("25%")).unwrap(), None);
    assert_eq!(upgrade(&t, &at50, &pct("50%")).unwrap(), None);
    let f = claimed(TargetKind::CloneSet);
    let t = target(TargetKind::CloneSet, 4, &f);
    assert_eq!(
        upgrade(&t, &f, &pct("100%")).unwrap().unwrap(),
        json!({"spec": {"updateStrategy": {"partition": null, "maxSurge": "100%"}}})
    );
    let inplace = Facts {
        strategy_type: Some("InPlaceIfPossible".into()),
        ..f.clone()
    };
    let e = upgrade(&t, &inplace, &pct("50%")).unwrap_err();
    assert!(e.contains("cloneSet strategy type is not ReCreate"), "{e}");
    let reset = Facts {
        min_ready: 0,
        ..f.clone()
    };
    assert!(upgrade(&t, &reset, &pct("50%")).is_err());
    let mut unclaimed = target(TargetKind::CloneSet, 4, &f);
    unclaimed.controlled = false;
    assert!(
        upgrade(&unclaimed, &f, &pct("50%"))
            .unwrap_err()
            .contains("no control info")
    );
}

/// `NewRSReplicasLimit`: a percentage below 100 % leaves one old pod of a Deployment.
#[test]
fn desired_updated_as_upstream() {
    let f = Facts::default();
    let d = target(TargetKind::Deployment, 5, &f);
    assert_eq!(desired_updated(&d, &pct("50%")), 3);
    assert_eq!(desired_updated(&d, &pct("99%")), 4);
    assert_eq!(desired_updated(&d, &pct("100%")), 5);
    assert_eq!(desired_updated(&d, &IntOrString::Int(9)), 5);
    let c = target(TargetKind::CloneSet, 5, &f);
    assert_eq!(desired_updated(&c, &pct("99%")), 5);
}

/// Finalize: nothing with a batch partition; else restore (then wait), then every pod
/// updated and ready, then the HPA back.
#[test]
fn finalize_restores_then_waits_then_restores_the_hpa() {
    let mut f = claimed(TargetKind::Deployment);
    f.original =
        Some(r#"{"maxSurge":"25%","maxUnavailable":"25%","progressDeadlineSeconds":600}"#.into());
    f.hpa = Some(Hpa {
        name: "web".into(),
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        target: format!("web{HPA_DISABLE_SUFFIX}"),
    });
    let t = target(TargetKind::Deployment, 4, &f);
    assert_eq!(finalize(&t, &f, false).unwrap(), (vec![], None, true));
    let (w, hpa, done) = finalize(&t, &f, true).unwrap();
    assert!(!done && hpa.is_none());
    assert_eq!(w[0]["spec"]["paused"], false);
    assert_eq!(w[0]["spec"]["minReadySeconds"], 0);
    assert_eq!(w[0]["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(w[0]["metadata"]["annotations"][ORIGINAL], Value::Null);
    assert_eq!(
        w[0]["metadata"]["labels"][keys::STABLE_REVISION],
        Value::Null
    );
    // Restored, old pods still there: wait.
    f.original = None;
    f.max_unavailable = Some(pct("25%"));
    f.status_replicas = 8;
    f.ready = 8;
    let mut t = target(TargetKind::Deployment, 4, &f);
    t.updated = 4;
    assert_eq!(finalize(&t, &f, true).unwrap(), (vec![], None, false));
    f.status_replicas = 4;
    f.ready = 4;
    f.available = 4;
    let mut t = target(TargetKind::Deployment, 4, &f);
    t.updated = 4;
    let (w, hpa, done) = finalize(&t, &f, true).unwrap();
    assert!(done && w.is_empty());
    assert_eq!(hpa.unwrap()["spec"]["scaleTargetRef"]["name"], "web");
}

#[test]
fn hpa_suffix_once_and_stripped_whole() {
    let h = Hpa {
        name: "h".into(),
        api_version: "apps.kruise.io/v1alpha1".into(),
        kind: "CloneSet".into(),
        target: "web".into(),
    };
    assert!(aims_at(&h, "apps.kruise.io/v1alpha1", "CloneSet", "web"));
    assert!(!aims_at(&h, "apps/v1", "Deployment", "web"));
    let off = disable_hpa(&h).unwrap();
    assert_eq!(
        off["spec"]["scaleTargetRef"]["name"],
        "web-DisableByRollout"
    );
    assert_eq!(restore_hpa(&h), None);
    let twice = Hpa {
        target: "web-DisableByRollout-DisableByRollout".into(),
        ..h
    };
    assert!(aims_at(
        &twice,
        "apps.kruise.io/v1alpha1",
        "CloneSet",
        "web"
    ));
    assert_eq!(disable_hpa(&twice), None);
    assert_eq!(
        restore_hpa(&twice).unwrap()["spec"]["scaleTargetRef"]["name"],
        "web"
    );
}
