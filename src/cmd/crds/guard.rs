//! The rollout guard's two objects (`api::guard`): applied by `crds install --with-guard` the
//! way the CRDs are (server-side apply, field manager from `--field-manager`), and reported by
//! `crds status`.

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::await_condition;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::guard::{self, NAME};
use crate::client::Kube;
use crate::error::{Error, Result, from_kube};
use crate::output;

pub const POLICY: &str = "validatingadmissionpolicy.admissionregistration.k8s.io";
pub const BINDING: &str = "validatingadmissionpolicybinding.admissionregistration.k8s.io";

/// The guard's objects as sent, with their resource names, in the order they are applied: the
/// policy first (a binding whose policy is missing does nothing, but reads as broken).
pub fn wanted() -> Vec<(&'static str, Value)> {
    vec![
        (POLICY, to_value(&guard::policy())),
        (BINDING, to_value(&guard::binding())),
    ]
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("the guard's objects encode as JSON")
}

/// One applied object: its resource name, what happened to it, and the object as stored.
pub struct Applied {
    pub resource: &'static str,
    pub verb: &'static str,
    pub object: Value,
}

/// Applies the policy, then its binding.
pub async fn apply(kube: &Kube, pp: &PatchParams) -> Result<Vec<Applied>> {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(kube.client.clone());
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(kube.client.clone());
    let (policy, verb) = apply_one(kube, &policies, &guard::policy(), pp).await?;
    let mut out = vec![Applied {
        resource: POLICY,
        verb,
        object: to_value(&policy),
    }];
    let (binding, verb) = apply_one(kube, &bindings, &guard::binding(), pp).await?;
    out.push(Applied {
        resource: BINDING,
        verb,
        object: to_value(&binding),
    });
    Ok(out)
}

async fn apply_one<K>(
    kube: &Kube,
    api: &Api<K>,
    obj: &K,
    pp: &PatchParams,
) -> Result<(K, &'static str)>
where
    K: kube::Resource + Clone + Serialize + DeserializeOwned + Debug,
{
    let name = obj.name_any();
    let before = api
        .get_opt(&name)
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    let after = api
        .patch(&name, pp, &Patch::Apply(obj))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    // Not by resourceVersion: the API server writes the policy's status (its type checking)
    // on its own, also a moment after an apply that changed nothing.
    let verb = match &before {
        None => "created",
        Some(b) if content(b) == content(&after) => "unchanged",
        Some(_) => "configured",
    };
    Ok((after, verb))
}

/// What an apply can change: the spec, labels and annotations.
fn content<K: kube::Resource + Serialize>(obj: &K) -> Value {
    let v = to_value(obj);
    serde_json::json!([v["spec"], obj.labels(), obj.annotations()])
}

/// The API server has type-checked the policy's current generation (it does so before it
/// enforces it, within a second or so); its warnings, if any, are passed on: each one is an
/// expression that cannot work on some kind the policy matches.
pub async fn wait_checked(kube: &Kube, timeout: Duration) -> Result<()> {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(kube.client.clone());
    let checked = |p: Option<&ValidatingAdmissionPolicy>| {
        p.is_some_and(|p| {
            let observed = p.status.as_ref().and_then(|s| s.observed_generation);
            observed.is_some() && observed >= p.metadata.generation
        })
    };
    let policy = match tokio::time::timeout(timeout, await_condition(policies, NAME, checked)).await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            return Err(Error::other(format!(
                "watching {POLICY} \"{NAME}\" on {}: {e}",
                kube.server
            )));
        }
        Err(_) => {
            return Err(Error::Timeout(format!(
                "{POLICY} \"{NAME}\" was not type-checked within {}s; see `kubectl get {POLICY} {NAME} -o yaml`",
                timeout.as_secs()
            )));
        }
    };
    let warnings = policy
        .and_then(|p| p.status)
        .and_then(|s| s.type_checking)
        .and_then(|t| t.expression_warnings)
        .unwrap_or_default();
    for w in warnings {
        output::note(&format!(
            "warning: {POLICY}/{NAME}: {}: {}",
            w.field_ref, w.warning
        ));
    }
    Ok(())
}

/// One guard object as the cluster has it.
pub struct Live {
    pub kind: &'static str,
    pub resource: &'static str,
    /// None: not installed.
    pub object: Option<Value>,
    /// The policy's current generation is type-checked (the binding: installed).
    pub in_force: bool,
    /// Everything we set holds (None: not installed).
    pub matches_ours: Option<bool>,
}

/// The policy and the binding, as the cluster has them.
pub async fn live(kube: &Kube) -> Result<Vec<Live>> {
    let policies: Api<ValidatingAdmissionPolicy> = Api::all(kube.client.clone());
    let bindings: Api<ValidatingAdmissionPolicyBinding> = Api::all(kube.client.clone());
    let policy = policies
        .get_opt(NAME)
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    let binding = bindings
        .get_opt(NAME)
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    let checked = policy.as_ref().is_some_and(|p| {
        let observed = p.status.as_ref().and_then(|s| s.observed_generation);
        observed.is_some() && observed >= p.metadata.generation
    });
    let wanted = wanted();
    let row = |kind, resource, object: Option<Value>, in_force: bool, ours: &Value| Live {
        kind,
        resource,
        matches_ours: object.as_ref().map(|o| same_as_ours(ours, o)),
        in_force: object.is_some() && in_force,
        object,
    };
    Ok(vec![
        row(
            "ValidatingAdmissionPolicy",
            POLICY,
            policy.as_ref().map(to_value),
            checked,
            &wanted[0].1,
        ),
        row(
            "ValidatingAdmissionPolicyBinding",
            BINDING,
            binding.as_ref().map(to_value),
            true,
            &wanted[1].1,
        ),
    ])
}

/// Every field we apply (labels and spec) holds the value we apply: server-side apply leaves
/// fields that others set, and the API server adds defaults, so the cluster's object may hold
/// more, never less or other.
pub fn same_as_ours(ours: &Value, cluster: &Value) -> bool {
    ["spec", "metadata"].iter().all(|k| {
        let ours = match *k {
            "metadata" => serde_json::json!({"labels": ours["metadata"]["labels"]}),
            _ => ours[*k].clone(),
        };
        contains(&cluster[*k], &ours)
    })
}

fn contains(cluster: &Value, ours: &Value) -> bool {
    match (cluster, ours) {
        (Value::Object(c), Value::Object(o)) => o
            .iter()
            .all(|(k, v)| c.get(k).is_some_and(|cv| contains(cv, v))),
        (Value::Array(c), Value::Array(o)) => {
            c.len() == o.len() && c.iter().zip(o).all(|(a, b)| contains(a, b))
        }
        (c, o) => c == o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ours_is_found_in_the_clusters_copy_with_defaults_and_others_fields() {
        let ours = to_value(&guard::binding());
        let mut cluster = ours.clone();
        cluster["metadata"]["resourceVersion"] = json!("7");
        cluster["metadata"]["labels"]["team"] = json!("a");
        cluster["spec"]["matchResources"] =
            json!({"namespaceSelector": {"matchLabels": {"a": "b"}}});
        assert!(same_as_ours(&ours, &cluster));
        cluster["spec"]["validationActions"] = json!(["Warn"]);
        assert!(!same_as_ours(&ours, &cluster));
        let mut cluster = ours.clone();
        cluster["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .clear();
        assert!(!same_as_ours(&ours, &cluster));
        let policy = to_value(&guard::policy());
        let mut changed = policy.clone();
        changed["spec"]["validations"][0]["expression"] = json!("true");
        assert!(same_as_ours(&policy, &policy));
        assert!(!same_as_ours(&policy, &changed));
    }
}
