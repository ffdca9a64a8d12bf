//! The rollout guard (`kubectl kruise crds install --with-guard`): a ValidatingAdmissionPolicy
//! and its binding that refuse a pod template change which would bypass an enabled Kruise
//! Rollout.
//!
//! Upstream's mutating webhook (Kruise Rollout v0.6.2, reference notes §5.1) catches every
//! UPDATE of a workload labelled `rollouts.kruise.io/workload-type` whose pod template changes,
//! and in that same write pauses it (Deployment `spec.paused`, a partition that holds every pod
//! for the others) and adds the annotation `rollouts.kruise.io/in-progressing`, so the
//! workload's controller never sees the new template unguarded. We run no webhook: our
//! `set image` and `rollout` commands gate the workload in the same write themselves, but a
//! plain `kubectl set image`, `kubectl apply` or `helm upgrade` would roll the new template out
//! at once (§5.2 item 1). An admission policy cannot mutate (MutatingAdmissionPolicy is not GA
//! in 1.34), but it can refuse that write, and say what to do instead (§5.2 item 8).
//!
//! What the policy can see is the request alone: it cannot look up whether a Rollout exists.
//! The label `rollouts.kruise.io/workload-type` is what marks a workload under a Rollout: the
//! Rollout controller sets it on the workload of an enabled Rollout (upstream never removes it,
//! not even when the Rollout is disabled or deleted), and upstream's webhooks select on it in
//! the same way (`objectSelector`, `Exists`).
//!
//! A template change (`object.spec.template != oldObject.spec.template`) of such a workload is
//! allowed when
//! - the new object is gated in the same write: the annotation `rollouts.kruise.io/in-progressing`
//!   is present, and the workload is held: Deployment `spec.paused: true`; CloneSet
//!   `spec.updateStrategy.partition` set (any value) or `spec.updateStrategy.paused: true`;
//!   StatefulSet, Advanced StatefulSet and Advanced DaemonSet
//!   `spec.updateStrategy.rollingUpdate.partition` set. (An apps/v1 StatefulSet's partition is
//!   always set once the API server has defaulted it, so for it the annotation is the test.);
//! - or the old object already carries the annotation: a release is in progress, and a
//!   continuous release or a rollback is the Rollout controller's business (§2.11, §2.12);
//! - or the new object has `spec.replicas: 0`: upstream's webhook does not gate a workload with
//!   no replicas either (there is nothing to release), so our commands, which gate as it does,
//!   are not refused there.
//!
//! Everything else (scale, labels, annotations, strategy, the status and scale subresources,
//! workloads without the label, native DaemonSets, which v0.6.2 does not release) is untouched.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, NamedRuleWithOperations, ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicyBindingSpec,
    ValidatingAdmissionPolicySpec, Validation, Variable,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

use super::MANAGED_BY;

/// The name of both the policy and its binding.
pub const NAME: &str = "kubectl-kruise-rollout-guard";
/// The label the Rollout controller puts on the workload of a Rollout (reference notes §1.7).
pub const WORKLOAD_TYPE: &str = "rollouts.kruise.io/workload-type";
/// The annotation that says a release has started (reference notes §1.7).
pub const IN_PROGRESSING: &str = "rollouts.kruise.io/in-progressing";

/// The refusal, after the API server's own `<kind> "<name>" is forbidden:
/// ValidatingAdmissionPolicy '…' with binding '…' denied request:`.
pub const MESSAGE: &str = "refused: an enabled Kruise Rollout manages this workload (label rollouts.kruise.io/workload-type), and this pod template change does not gate it in the same write, so it would roll out at once, outside the Rollout. Use `kubectl kruise set image …` or `kubectl kruise rollout …`, which gate it in the same write, or disable the Rollout and remove the workload's label rollouts.kruise.io/workload-type";

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

fn metadata() -> ObjectMeta {
    ObjectMeta {
        name: Some(NAME.into()),
        labels: Some(BTreeMap::from([(
            MANAGED_BY.0.to_string(),
            MANAGED_BY.1.to_string(),
        )])),
        ..Default::default()
    }
}

fn updates(group: &str, versions: &[&str], resources: &[&str]) -> NamedRuleWithOperations {
    NamedRuleWithOperations {
        api_groups: strings(&[group]),
        api_versions: strings(versions),
        operations: strings(&["UPDATE"]),
        resources: strings(resources),
        ..Default::default()
    }
}

fn variable(name: &str, expression: &str) -> Variable {
    Variable {
        name: name.into(),
        expression: expression.into(),
    }
}

/// Whether `object` (or `oldObject`) carries the in-progressing annotation.
fn annotated(object: &str) -> String {
    format!(
        "has({object}.metadata.annotations) && '{IN_PROGRESSING}' in {object}.metadata.annotations"
    )
}

/// The ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30).
pub fn policy() -> ValidatingAdmissionPolicy {
    ValidatingAdmissionPolicy {
        metadata: metadata(),
        spec: Some(ValidatingAdmissionPolicySpec {
            // As upstream's webhooks (failurePolicy Fail): an error refuses rather than lets a
            // release through unguarded.
            failure_policy: Some("Fail".into()),
            match_constraints: Some(MatchResources {
                resource_rules: Some(vec![
                    updates("apps", &["v1"], &["deployments", "statefulsets"]),
                    // Every version: our CRDs serve one, the operator's several (the webhook
                    // registers CloneSet and Advanced DaemonSet at v1alpha1).
                    updates(
                        "apps.kruise.io",
                        &["*"],
                        &["clonesets", "statefulsets", "daemonsets"],
                    ),
                ]),
                // On UPDATE it matches when the old or the new object carries the label.
                object_selector: Some(LabelSelector {
                    match_expressions: Some(vec![LabelSelectorRequirement {
                        key: WORKLOAD_TYPE.into(),
                        operator: "Exists".into(),
                        values: None,
                    }]),
                    match_labels: None,
                }),
                ..Default::default()
            }),
            variables: Some(vec![
                // dyn: one expression reads Deployments and the Kruise kinds, whose specs are
                // different types; each branch below only reads its own kind's fields.
                variable("spec", "dyn(object.spec)"),
                variable("inProgress", &annotated("object")),
                variable("wasInProgress", &annotated("oldObject")),
                variable(
                    "held",
                    "request.resource.resource == 'deployments' \
                       ? has(variables.spec.paused) && variables.spec.paused == true \
                     : request.resource.resource == 'clonesets' \
                       ? has(variables.spec.updateStrategy) \
                         && (has(variables.spec.updateStrategy.partition) \
                             || (has(variables.spec.updateStrategy.paused) && variables.spec.updateStrategy.paused == true)) \
                     : has(variables.spec.updateStrategy) \
                       && has(variables.spec.updateStrategy.rollingUpdate) \
                       && has(variables.spec.updateStrategy.rollingUpdate.partition)",
                ),
                variable(
                    "noReplicas",
                    "has(variables.spec.replicas) && variables.spec.replicas == 0",
                ),
            ]),
            validations: Some(vec![Validation {
                expression: "object.spec.template == oldObject.spec.template \
                     || variables.wasInProgress \
                     || (variables.inProgress && variables.held) \
                     || variables.noReplicas"
                    .into(),
                message: Some(MESSAGE.into()),
                reason: Some("Forbidden".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

/// The binding that puts the policy in force (Deny) in every namespace.
pub fn binding() -> ValidatingAdmissionPolicyBinding {
    ValidatingAdmissionPolicyBinding {
        metadata: metadata(),
        spec: Some(ValidatingAdmissionPolicyBindingSpec {
            policy_name: Some(NAME.into()),
            validation_actions: strings(&["Deny"]),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_and_binding_serialise_as_the_api_server_expects() {
        let p = serde_json::to_value(policy()).unwrap();
        assert_eq!(p["apiVersion"], "admissionregistration.k8s.io/v1");
        assert_eq!(p["kind"], "ValidatingAdmissionPolicy");
        assert_eq!(
            p["spec"]["matchConstraints"]["objectSelector"]["matchExpressions"][0]["key"],
            WORKLOAD_TYPE
        );
        let b = serde_json::to_value(binding()).unwrap();
        assert_eq!(b["kind"], "ValidatingAdmissionPolicyBinding");
        assert_eq!(b["spec"]["policyName"], NAME);
        assert_eq!(b["spec"]["validationActions"][0], "Deny");
        assert_eq!(b["metadata"]["labels"][MANAGED_BY.0], MANAGED_BY.1);
    }
}
