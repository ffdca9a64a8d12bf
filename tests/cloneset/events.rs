//! Events as upstream's CloneSet controller records them: after a scale, an in-place update and
//! a `--delete-pod`, `kubectl describe cloneset` shows upstream's reasons and messages, from
//! the source component upstream names (`cloneset-controller`), about the CloneSet itself.

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::ResourceExt;
use kube::api::{Api, ListParams, PostParams};
use kubectl_kruise::api::cloneset::CloneSet;
use serde_json::json;

use super::fixes::cs;
use super::support::{self, TestNs, client_as, stdout};
use super::{crds, ok, pods};

#[tokio::test]
async fn describe_shows_upstreams_events_after_scale_update_and_delete_pod() {
    crds().await;
    let client = client_as("cloneset-events").await;
    let ns = TestNs::new(&client, "cs-events").await;
    let n = ns.name.as_str();
    let sets: Api<CloneSet> = ns.api();
    let spec = json!({"replicas": 0, "updateStrategy": {"type": "InPlaceIfPossible"}});
    sets.create(&PostParams::default(), &cs(n, "web", spec))
        .await
        .unwrap();
    ok(&["-n", n, "scale", "cloneset/web", "--replicas", "3"]).await;
    ok(&[
        "-n",
        n,
        "set",
        "image",
        "cloneset/web",
        "main=busybox:2",
        "--inplace",
    ])
    .await;
    let pod_api: Api<Pod> = ns.api();
    let victim = pods(&pod_api, "web").await[1].name_any();
    ok(&[
        "-n",
        n,
        "scale",
        "cloneset/web",
        "--replicas",
        "2",
        "--delete-pod",
        &victim,
    ])
    .await;

    // The command ends only after its Events are written.
    let described = stdout(&support::kubectl(&["-n", n, "describe", "cloneset", "web"]));
    let expected = [
        ("SuccessfulCreate", "succeed to create pod web-".to_string()),
        (
            "SuccessfulUpdatePodInPlace",
            "in-place(revision web-".to_string(),
        ),
        (
            "SuccessfulDelete",
            format!("succeed to delete pod {victim}"),
        ),
    ];
    for (reason, message) in &expected {
        assert!(
            described
                .lines()
                .any(|l| l.contains(reason) && l.contains(message.as_str())),
            "describe shows no {reason} event with {message:?}:\n{described}"
        );
    }

    let uid = sets.get("web").await.unwrap().uid();
    let events: Api<Event> = ns.api();
    let list = events.list(&ListParams::default()).await.unwrap().items;
    let ours: Vec<&Event> = list
        .iter()
        .filter(|e| e.involved_object.uid == uid)
        .collect();
    assert!(!ours.is_empty());
    for e in &ours {
        assert_eq!(e.involved_object.kind.as_deref(), Some("CloneSet"));
        assert_eq!(
            e.source.as_ref().and_then(|s| s.component.as_deref()),
            Some("cloneset-controller"),
            "{e:?}"
        );
        assert_eq!(e.type_.as_deref(), Some("Normal"), "{e:?}");
    }
    let creates = ours
        .iter()
        .filter(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
        .count();
    assert_eq!(creates, 3, "one SuccessfulCreate per pod created");
}
