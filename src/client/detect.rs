//! Is an operator live in this cluster? Later commands use the answer to choose between "write
//! and watch" (an operator reconciles) and "drive the embedded controller" (none does).
//!
//! An operator is live when its leader Lease was renewed within the lease duration, or, when
//! it holds no Lease, when its manager Deployment has available replicas. A Deployment with no
//! fresh Lease is installed but not live (scaled to zero, crash-looping, or not yet elected).

use futures::future::join;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use serde::Serialize;

use crate::client::Kube;
use crate::error::{Result, from_kube};

/// Where an operator lives, as its released manifests install it.
#[derive(Debug, Clone)]
pub struct OperatorSpec {
    pub name: &'static str,
    pub namespace: String,
    pub deployment: &'static str,
    pub lease: &'static str,
}

/// Environment variables naming the namespace an operator was installed into, for charts
/// installed with a custom `installation.namespace`.
pub const OPENKRUISE_NAMESPACE_ENV: &str = "KUBECTL_KRUISE_OPENKRUISE_NAMESPACE";
pub const KRUISE_ROLLOUT_NAMESPACE_ENV: &str = "KUBECTL_KRUISE_ROLLOUT_NAMESPACE";

fn namespace_from(env: &str, default: &str) -> String {
    std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// OpenKruise: Deployment `kruise-controller-manager`, Lease `kruise-manager`, in
/// `kruise-system` (or `$KUBECTL_KRUISE_OPENKRUISE_NAMESPACE`).
pub fn openkruise() -> OperatorSpec {
    OperatorSpec {
        name: "OpenKruise",
        namespace: namespace_from(OPENKRUISE_NAMESPACE_ENV, "kruise-system"),
        deployment: "kruise-controller-manager",
        lease: "kruise-manager",
    }
}

/// Kruise Rollout: Deployment `kruise-rollout-controller-manager`, Lease
/// `71ddec2c.kruise.io`, in `kruise-rollout` (or `$KUBECTL_KRUISE_ROLLOUT_NAMESPACE`).
pub fn kruise_rollout() -> OperatorSpec {
    OperatorSpec {
        name: "Kruise Rollout",
        namespace: namespace_from(KRUISE_ROLLOUT_NAMESPACE_ENV, "kruise-rollout"),
        deployment: "kruise-rollout-controller-manager",
        lease: "71ddec2c.kruise.io",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OperatorStatus {
    pub name: String,
    pub namespace: String,
    /// Its manager Deployment exists.
    pub installed: bool,
    /// It reconciles right now (see the module doc).
    pub live: bool,
    /// From the manager image tag, e.g. `v1.9.0`.
    pub version: Option<String>,
    pub available_replicas: i32,
    /// Holder of the leader Lease and how long ago it renewed it.
    pub leader: Option<String>,
    pub renewed_seconds_ago: Option<i64>,
    /// Why the answer may be incomplete (e.g. no permission to read its namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The pure decision, from what was read.
pub fn judge(
    spec: &OperatorSpec,
    deployment: Option<&Deployment>,
    lease: Option<&Lease>,
    now: Timestamp,
) -> OperatorStatus {
    let available = deployment
        .and_then(|d| d.status.as_ref())
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    let version = deployment
        .and_then(|d| d.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.containers.first())
        .and_then(|c| c.image.as_deref())
        .and_then(image_tag);
    let lease_spec = lease.and_then(|l| l.spec.as_ref());
    let leader = lease_spec
        .and_then(|s| s.holder_identity.clone())
        .filter(|h| !h.is_empty());
    let renewed = lease_spec
        .and_then(|s| s.renew_time.as_ref())
        .map(|t| now.duration_since(t.0).as_secs());
    let duration = lease_spec
        .and_then(|s| s.lease_duration_seconds)
        .unwrap_or(15) as i64;
    let lease_fresh = leader.is_some() && renewed.is_some_and(|ago| ago <= duration);
    let live = lease_fresh || (lease.is_none() && available > 0);
    OperatorStatus {
        name: spec.name.to_string(),
        namespace: spec.namespace.clone(),
        installed: deployment.is_some(),
        live,
        version,
        available_replicas: available,
        leader,
        renewed_seconds_ago: renewed,
        note: None,
    }
}

fn image_tag(image: &str) -> Option<String> {
    let without_digest = image.split('@').next()?;
    let last = without_digest.rsplit('/').next()?;
    last.split_once(':').map(|(_, t)| t.to_string())
}

/// Reads the operator's Deployment and Lease (two GETs, concurrently).
pub async fn operator(kube: &Kube, spec: &OperatorSpec) -> OperatorStatus {
    let deployments: Api<Deployment> = Api::namespaced(kube.client.clone(), &spec.namespace);
    let leases: Api<Lease> = Api::namespaced(kube.client.clone(), &spec.namespace);
    let (d, l) = join(
        deployments.get_opt(spec.deployment),
        leases.get_opt(spec.lease),
    )
    .await;
    let mut note = None;
    let d = d.unwrap_or_else(|e| {
        note = Some(format!(
            "cannot read deployment {}/{}: {}",
            spec.namespace,
            spec.deployment,
            from_kube(e, &kube.server, None)
        ));
        None
    });
    let l = l.unwrap_or_else(|e| {
        note.get_or_insert(format!(
            "cannot read lease {}/{}: {}",
            spec.namespace,
            spec.lease,
            from_kube(e, &kube.server, None)
        ));
        None
    });
    let mut status = judge(spec, d.as_ref(), l.as_ref(), Timestamp::now());
    status.note = note;
    status
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CrdInfo {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub served_versions: Vec<String>,
    pub storage_version: String,
    pub established: bool,
}

/// The Kruise CRDs (groups ending in `kruise.io`) in the cluster: one LIST.
pub async fn kruise_crds(kube: &Kube) -> Result<Vec<CrdInfo>> {
    let api: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    let mut out: Vec<CrdInfo> = list
        .items
        .iter()
        .filter(|c| c.spec.group == "kruise.io" || c.spec.group.ends_with(".kruise.io"))
        .map(crd_info)
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub fn crd_info(c: &CustomResourceDefinition) -> CrdInfo {
    CrdInfo {
        name: c.metadata.name.clone().unwrap_or_default(),
        group: c.spec.group.clone(),
        kind: c.spec.names.kind.clone(),
        served_versions: c
            .spec
            .versions
            .iter()
            .filter(|v| v.served)
            .map(|v| v.name.clone())
            .collect(),
        storage_version: c
            .spec
            .versions
            .iter()
            .find(|v| v.storage)
            .map(|v| v.name.clone())
            .unwrap_or_default(),
        established: c
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(available: i32) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "kruise-controller-manager", "namespace": "kruise-system"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [
                {"name": "manager", "image": "openkruise/kruise-manager:v1.9.0"}]}}},
            "status": {"availableReplicas": available}
        }))
        .unwrap()
    }

    fn lease(renewed: &str) -> Lease {
        serde_json::from_value(json!({
            "metadata": {"name": "kruise-manager"},
            "spec": {"holderIdentity": "kruise-controller-manager-abc_123", "leaseDurationSeconds": 15,
                     "renewTime": renewed}
        }))
        .unwrap()
    }

    #[test]
    fn live_when_the_lease_is_fresh() {
        let now: Timestamp = "2026-11-23T12:00:10Z".parse().unwrap();
        let s = judge(
            &openkruise(),
            Some(&deployment(2)),
            Some(&lease("2026-11-23T12:00:05.000000Z")),
            now,
        );
        assert!(s.installed && s.live);
        assert_eq!(s.version.as_deref(), Some("v1.9.0"));
        assert_eq!(s.renewed_seconds_ago, Some(5));
        assert_eq!(
            s.leader.as_deref(),
            Some("kruise-controller-manager-abc_123")
        );
    }

    #[test]
    fn not_live_when_the_lease_went_stale() {
        let now: Timestamp = "2026-11-23T12:10:00Z".parse().unwrap();
        let s = judge(
            &openkruise(),
            Some(&deployment(0)),
            Some(&lease("2026-11-23T12:00:00.000000Z")),
            now,
        );
        assert!(s.installed && !s.live);
        // Even with replicas still counted available, a stale lease means nobody leads.
        let s = judge(
            &openkruise(),
            Some(&deployment(1)),
            Some(&lease("2026-11-23T12:00:00.000000Z")),
            now,
        );
        assert!(!s.live);
    }

    #[test]
    fn absent_or_leaseless() {
        let now = Timestamp::now();
        let s = judge(&openkruise(), None, None, now);
        assert!(!s.installed && !s.live && s.version.is_none());
        assert!(judge(&openkruise(), Some(&deployment(1)), None, now).live);
        assert!(!judge(&openkruise(), Some(&deployment(0)), None, now).live);
    }

    #[test]
    fn image_tags() {
        assert_eq!(
            image_tag("openkruise/kruise-manager:v1.9.0").as_deref(),
            Some("v1.9.0")
        );
        assert_eq!(
            image_tag("reg:5000/kruise/m:v1.9.0@sha256:abc").as_deref(),
            Some("v1.9.0")
        );
        assert_eq!(image_tag("reg:5000/kruise/m"), None);
    }
}
