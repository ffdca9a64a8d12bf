//! The canary Service and the selector pins (reference notes §3.2): the stable Service's
//! selector gains `<revisionKey>=<stableRevision>` and a new `<svc>-canary` Service selects
//! `<revisionKey>=<podTemplateHash>`, so each version's pods get only the traffic routed to it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Value, json};

/// The canary Service to create next to `stable`, as upstream v0.6.2 builds it.
///
/// It carries no labels and no annotations (copying them is newer than v0.6.2), only the
/// owner. The spec is the stable one minus what the API server allocates or what would clash
/// with the stable Service (cluster IPs, external and load-balancer IPs, IP families, node
/// ports), and its selector adds `key=hash`. A `patch_labels` entry (the Rollout's
/// `patchPodTemplateMetadata.labels`) replaces a selector key that already exists; new keys
/// are not appended, as with upstream's `AppendPodSelector` gate off (its default).
pub fn canary_service(
    stable: &Service,
    canary_name: &str,
    key: &str,
    hash: &str,
    patch_labels: Option<&BTreeMap<String, String>>,
    owner: OwnerReference,
) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(canary_name.to_string()),
            namespace: stable.metadata.namespace.clone(),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(canary_spec(
            stable.spec.clone().unwrap_or_default(),
            key,
            hash,
            patch_labels,
        )),
        status: None,
    }
}

/// The stable spec made fit for a second Service selecting the canary pods.
fn canary_spec(
    mut spec: ServiceSpec,
    key: &str,
    hash: &str,
    patch_labels: Option<&BTreeMap<String, String>>,
) -> ServiceSpec {
    spec.cluster_ip = None;
    spec.cluster_ips = None;
    spec.external_ips = None;
    spec.ip_family_policy = None;
    spec.ip_families = None;
    spec.load_balancer_ip = None;
    // Upstream sets nodePort to 0 so a NodePort Service gets its own ports allocated; 0 is Go's
    // "unset" (omitted on the wire), which is `None` here.
    for port in spec.ports.iter_mut().flatten() {
        port.node_port = None;
    }
    let selector = spec.selector.get_or_insert_with(BTreeMap::new);
    selector.insert(key.to_string(), hash.to_string());
    for (k, v) in patch_labels.into_iter().flatten() {
        if let Some(current) = selector.get_mut(k) {
            *current = v.clone();
        }
    }
    spec
}

/// The patch that makes `svc`'s selector hold `key=value` (`None`: drop `key`), or `None` when
/// it already does. As upstream, a key mapped to `""` counts as absent.
///
/// The body `{"spec":{"selector":{key: value|null}}}` reads the same as a strategic-merge
/// patch (what upstream sends) and as a JSON merge patch.
pub fn selector_patch(svc: &Service, key: &str, value: Option<&str>) -> Option<Value> {
    let current = svc
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| s.get(key))
        .map_or("", String::as_str);
    if current == value.unwrap_or("") {
        return None;
    }
    Some(json!({"spec": {"selector": {key: value}}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ServicePort;

    fn owner() -> OwnerReference {
        OwnerReference {
            api_version: "rollouts.kruise.io/v1beta1".into(),
            kind: "Rollout".into(),
            name: "demo".into(),
            uid: "uid-1".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    fn stable() -> Service {
        serde_json::from_value(json!({
            "metadata": {
                "name": "echo", "namespace": "ns",
                "labels": {"team": "a"}, "annotations": {"note": "x"},
                "resourceVersion": "7", "uid": "svc-uid"
            },
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.0.0.5", "clusterIPs": ["10.0.0.5", "fd00::5"],
                "externalIPs": ["1.2.3.4"], "loadBalancerIP": "5.6.7.8",
                "ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv4", "IPv6"],
                "sessionAffinity": "ClientIP",
                "selector": {"app": "echo", "tier": "web"},
                "ports": [
                    {"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080},
                    {"name": "grpc", "port": 90, "nodePort": 30090}
                ]
            },
            "status": {"loadBalancer": {}}
        }))
        .unwrap()
    }

    #[test]
    fn canary_service_copies_the_spec_without_allocated_fields() {
        let svc = canary_service(
            &stable(),
            "echo-canary",
            "pod-template-hash",
            "abc",
            None,
            owner(),
        );
        assert_eq!(svc.metadata.name.as_deref(), Some("echo-canary"));
        assert_eq!(svc.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(svc.metadata.labels, None);
        assert_eq!(svc.metadata.annotations, None);
        assert_eq!(svc.metadata.resource_version, None);
        assert_eq!(svc.metadata.owner_references, Some(vec![owner()]));
        assert_eq!(svc.status, None);
        let spec = svc.spec.unwrap();
        assert_eq!(spec.type_.as_deref(), Some("NodePort"));
        assert_eq!(spec.session_affinity.as_deref(), Some("ClientIP"));
        assert_eq!(spec.cluster_ip, None);
        assert_eq!(spec.cluster_ips, None);
        assert_eq!(spec.external_ips, None);
        assert_eq!(spec.load_balancer_ip, None);
        assert_eq!(spec.ip_family_policy, None);
        assert_eq!(spec.ip_families, None);
        let ports = spec.ports.unwrap();
        assert_eq!(ports.len(), 2);
        assert!(ports.iter().all(|p: &ServicePort| p.node_port.is_none()));
        assert_eq!(ports[0].port, 80);
        let selector = spec.selector.unwrap();
        assert_eq!(selector.len(), 3);
        assert_eq!(selector["pod-template-hash"], "abc");
        assert_eq!(selector["app"], "echo");
    }

    #[test]
    fn node_port_zero_is_omitted_on_the_wire() {
        let svc = canary_service(&stable(), "c", "k", "h", None, owner());
        let wire = serde_json::to_value(&svc).unwrap();
        assert_eq!(wire["spec"]["ports"][0].get("nodePort"), None);
        assert_eq!(wire["spec"].get("clusterIP"), None);
        assert_eq!(wire["spec"].get("clusterIPs"), None);
    }

    #[test]
    fn patch_labels_replace_existing_selector_keys_only() {
        let labels: BTreeMap<String, String> = [("tier", "canary"), ("extra", "yes")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let svc = canary_service(
            &stable(),
            "c",
            "pod-template-hash",
            "abc",
            Some(&labels),
            owner(),
        );
        let selector = svc.spec.unwrap().selector.unwrap();
        assert_eq!(selector["tier"], "canary");
        assert_eq!(selector.get("extra"), None);
        assert_eq!(selector["pod-template-hash"], "abc");
    }

    #[test]
    fn stable_without_selector_still_gets_the_revision_key() {
        let bare = Service::default();
        let svc = canary_service(&bare, "c", "pod-template-hash", "abc", None, owner());
        let selector = svc.spec.unwrap().selector.unwrap();
        assert_eq!(selector.len(), 1);
        assert_eq!(selector["pod-template-hash"], "abc");
    }

    #[test]
    fn selector_patch_sets_a_missing_or_different_key() {
        let svc = stable();
        assert_eq!(
            selector_patch(&svc, "pod-template-hash", Some("v1")),
            Some(json!({"spec": {"selector": {"pod-template-hash": "v1"}}}))
        );
        assert_eq!(
            selector_patch(&svc, "app", Some("other")),
            Some(json!({"spec": {"selector": {"app": "other"}}}))
        );
        assert_eq!(selector_patch(&svc, "app", Some("echo")), None);
    }

    #[test]
    fn selector_patch_removes_with_null() {
        let svc = stable();
        assert_eq!(
            selector_patch(&svc, "app", None),
            Some(json!({"spec": {"selector": {"app": null}}}))
        );
        assert_eq!(selector_patch(&svc, "pod-template-hash", None), None);
        assert_eq!(selector_patch(&Service::default(), "k", None), None);
    }

    #[test]
    fn selector_patch_treats_empty_value_as_absent() {
        let mut svc = stable();
        let selector = svc.spec.as_mut().unwrap().selector.as_mut().unwrap();
        selector.insert("pod-template-hash".into(), String::new());
        assert_eq!(selector_patch(&svc, "pod-template-hash", None), None);
        assert_eq!(
            selector_patch(&stable(), "pod-template-hash", Some("")),
            None
        );
    }
}
