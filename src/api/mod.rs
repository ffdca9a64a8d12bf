//! Rust types for the Kruise kinds this tool reads and writes, at their storage versions, and
//! the CRDs generated from them (written to `manifests/`; a test fails when they drift).
//!
//! The CRDs serve without conversion webhooks, carry status (and scale) subresources and
//! upstream's printer columns, and encode as CEL rules what upstream's validating webhooks
//! refuse, so a cluster without the operator still refuses bad objects.

pub mod cloneset;
pub mod common;
pub mod probe;
pub mod schema;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use cloneset::{CloneSet, CloneSetSpec, CloneSetStatus};
pub use probe::{NodePodProbe, PodProbeMarker};

/// The label our CRDs carry, so `crds status` can tell who installed a CRD.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubectl-kruise");

/// Every CRD this tool installs, generated from the types.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        finish(CloneSet::crd()),
        finish(NodePodProbe::crd()),
        finish(with_root_rule(
            PodProbeMarker::crd(),
            "self.metadata.name.matches('^[a-zA-Z0-9-]+$')",
            "metadata.name may only contain letters, digits and '-'",
        )),
    ]
}

/// Adds a CEL rule at the root of every version's schema (where `self.metadata.name` is
/// visible); derived types only reach `spec` and below.
fn with_root_rule(
    mut crd: CustomResourceDefinition,
    rule: &str,
    message: &str,
) -> CustomResourceDefinition {
    for v in &mut crd.spec.versions {
        if let Some(schema) = v
            .schema
            .as_mut()
            .and_then(|s| s.open_api_v3_schema.as_mut())
        {
            schema
                .x_kubernetes_validations
                .get_or_insert_with(Vec::new)
                .push(
                    serde_json::from_value(serde_json::json!({"rule": rule, "message": message}))
                        .expect("a validation rule"),
                );
        }
    }
    crd
}

fn finish(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    // As upstream's CRDs (the API server would default it anyway).
    if crd.spec.names.list_kind.is_none() {
        crd.spec.names.list_kind = Some(format!("{}List", crd.spec.names.kind));
    }
    crd.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string());
    crd
}

/// A CRD as YAML, as written to `manifests/`.
pub fn to_yaml(crd: &CustomResourceDefinition) -> String {
    let v = serde_json::to_value(crd).expect("a CRD serialises");
    serde_saphyr::to_string(&v).expect("a CRD renders as YAML")
}

/// The file name of a CRD in `manifests/` (`apps.kruise.io_clonesets.yaml`, like upstream).
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// All CRDs in one multi-document YAML (`manifests/crds.yaml`).
pub fn all_in_one() -> String {
    crds()
        .iter()
        .map(|c| format!("---\n{}", to_yaml(c)))
        .collect::<String>()
}
