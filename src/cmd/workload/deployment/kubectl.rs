//! `rollout` for Deployments, at parity with `kubectl rollout`: the same patches, the same
//! revision bookkeeping (ReplicaSets keyed by `deployment.kubernetes.io/revision`), the same
//! messages. The pure parts (status, revision choice, undo patch) are unit-tested here.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::error::{Error, Result};

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const HASH_LABEL: &str = "pod-template-hash";
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Annotations an undo keeps from the Deployment; every other one comes from the ReplicaSet.
const KEEP_ON_UNDO: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

pub fn paused(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false)
}

/// Kruise Rollout's annotation on a workload whose release it runs.
pub const IN_PROGRESSING: &str = "rollouts.kruise.io/in-progressing";
/// Kruise Rollout's annotation on a Deployment released partition style.
pub const DEPLOYMENT_STRATEGY: &str = "rollouts.kruise.io/deployment-strategy";

/// Annotations Kruise Rollout owns: an undo keeps the Deployment's and copies none.
fn kruise_rollout_annotation(key: &str) -> bool {
    key.contains("rollouts.kruise.io/")
}

/// A Deployment in a Kruise Rollout canary release: paused by the release (canary style, not
/// partition style), its history not yet advanced to the template being released
/// (kruise-tools' `InCanaryProgress`).
pub fn in_canary_progress(d: &Deployment) -> bool {
    paused(d)
        && d.annotations().contains_key(IN_PROGRESSING)
        && !d.annotations().contains_key(DEPLOYMENT_STRATEGY)
}

pub fn pause_patch(d: &Deployment) -> Result<Value> {
    if paused(d) {
        return Err(Error::other("is already paused"));
    }
    Ok(json!({"spec": {"paused": true}}))
}

pub fn resume_patch(d: &Deployment) -> Result<Value> {
    if !paused(d) {
        return Err(Error::other("is not paused"));
    }
    Ok(json!({"spec": {"paused": null}}))
}

pub fn restart_patch(d: &Deployment, now: &str) -> Result<Value> {
    if paused(d) {
        return Err(Error::other(
            "can't restart paused deployment (run rollout resume first)",
        ));
    }
    Ok(json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}))
}

/// The status line and whether the rollout is complete; an error when it failed.
/// The same conditions, in the same order, as kubectl's deployment status viewer.
pub fn status(d: &Deployment, want_revision: i64) -> Result<(String, bool)> {
    let name = d.name_any();
    if want_revision > 0 {
        let running: i64 = d
            .annotations()
            .get(REVISION)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        if running != want_revision {
            return Err(Error::Failed(format!(
                "desired revision ({want_revision}) is different from the running revision ({running})"
            )));
        }
    }
    let generation = d.metadata.generation.unwrap_or(0);
    let st = d.status.clone().unwrap_or_default();
    if generation > st.observed_generation.unwrap_or(0) {
        return Ok((
            "Waiting for deployment spec update to be observed...".into(),
            false,
        ));
    }
    if st
        .conditions
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Progressing"))
        .is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded"))
    {
        return Err(Error::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline"
        )));
    }
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let replicas = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < want {
        return Ok((
            format!(
                "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {want} new replicas have been updated..."
            ),
            false,
        ));
    }
    if replicas > updated {
        return Ok((
            format!(
                "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
            false,
        ));
    }
    if available < updated {
        return Ok((
            format!(
                "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
            ),
            false,
        ));
    }
    Ok((
        format!("deployment \"{name}\" successfully rolled out"),
        true,
    ))
}

/// Progress figures for a bar: (desired, updated, ready, available).
pub fn progress(d: &Deployment) -> (i32, i32, i32, i32) {
    let st = d.status.clone().unwrap_or_default();
    (
        d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        st.updated_replicas.unwrap_or(0),
        st.ready_replicas.unwrap_or(0),
        st.available_replicas.unwrap_or(0),
    )
}

pub fn revision_of(rs: &ReplicaSet) -> Option<i64> {
    rs.annotations().get(REVISION)?.parse().ok()
}

/// The ReplicaSets this Deployment controls, by revision (highest last).
pub fn owned<'a>(d: &Deployment, rss: &'a [ReplicaSet]) -> Vec<(i64, &'a ReplicaSet)> {
    let uid = d.uid().unwrap_or_default();
    let mut out: Vec<(i64, &ReplicaSet)> = rss
        .iter()
        .filter(|rs| {
            rs.owner_references()
                .iter()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .filter_map(|rs| revision_of(rs).map(|r| (r, rs)))
        .collect();
    out.sort_by_key(|(r, _)| *r);
    out
}

/// History rows: (revision, change cause).
pub fn history(d: &Deployment, rss: &[ReplicaSet]) -> BTreeMap<i64, String> {
    owned(d, rss)
        .into_iter()
        .map(|(r, rs)| {
            (
                r,
                rs.annotations()
                    .get(CHANGE_CAUSE)
                    .cloned()
                    .unwrap_or_else(|| "<none>".into()),
            )
        })
        .collect()
}

/// The ReplicaSet to roll back to: revision `to` (0 = the one before the latest).
pub fn rollback_target<'a>(
    d: &Deployment,
    rss: &'a [ReplicaSet],
    to: i64,
) -> Result<&'a ReplicaSet> {
    let owned = owned(d, rss);
    if to > 0 {
        return owned
            .iter()
            .find(|(r, _)| *r == to)
            .map(|(_, rs)| *rs)
            .ok_or_else(|| {
                let have: Vec<String> = owned.iter().map(|(r, _)| r.to_string()).collect();
                Error::other(format!(
                    "unable to find specified revision {to} in history of deployment \"{}\" (revisions: {}); see `kubectl kruise rollout history deployment/{}`",
                    d.name_any(),
                    if have.is_empty() { "none".into() } else { have.join(", ") },
                    d.name_any()
                ))
            });
    }
    // In a canary release the paused Deployment's history has not advanced: the latest
    // ReplicaSet is the stable one, unless the template already is it (a rollback of a
    // rollback in progress), then the one before (as kruise-tools does).
    if in_canary_progress(d)
        && let Some((_, latest)) = owned.last()
    {
        let current = d.spec.as_ref().map(|s| template_without_hash(&s.template));
        let latest_template = latest
            .spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .map(template_without_hash);
        if owned.len() >= 2 && current.is_some() && current == latest_template {
            return Ok(owned[owned.len() - 2].1);
        }
        return Ok(latest);
    }
    if owned.len() < 2 {
        return Err(Error::other(format!(
            "no rollout history found for deployment \"{}\": there is no previous revision to roll back to",
            d.name_any()
        )));
    }
    Ok(owned[owned.len() - 2].1)
}

fn template_without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
        labels.remove(HASH_LABEL);
    }
    t
}

/// The JSON patch kubectl sends for an undo: replace the template (without the hash label) and
/// the annotations; `None` when the template already matches ("skipped rollback").
pub fn undo_patch(d: &Deployment, target: &ReplicaSet) -> Result<Option<Value>> {
    if paused(d) && !in_canary_progress(d) {
        return Err(Error::other(
            "you cannot rollback a paused deployment; resume it first with 'kubectl kruise rollout resume' and try again",
        ));
    }
    let target_template = target
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .ok_or_else(|| Error::other("the target ReplicaSet has no pod template"))?;
    let target_template = template_without_hash(&target_template);
    let current = d.spec.as_ref().map(|s| template_without_hash(&s.template));
    if current.as_ref() == Some(&target_template) {
        return Ok(None);
    }
    let mut annotations: BTreeMap<String, String> = d
        .annotations()
        .iter()
        .filter(|(k, _)| KEEP_ON_UNDO.contains(&k.as_str()) || kruise_rollout_annotation(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in target.annotations() {
        if !KEEP_ON_UNDO.contains(&k.as_str()) && !kruise_rollout_annotation(k) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    Ok(Some(json!([
        {"op": "replace", "path": "/spec/template", "value": target_template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(v: Value) -> Deployment {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "metadata": {"name": "web", "uid": "u1", "generation": 3,
                         "annotations": {REVISION: "3", "team": "a"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx:3"}]}}},
            "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3,
                       "readyReplicas": 3, "availableReplicas": 3}
        })
    }

    fn rs(rev: i64, image: &str, owner: &str) -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": format!("web-{rev}"), "annotations": {REVISION: rev.to_string(), CHANGE_CAUSE: format!("rev {rev}"), "team": "b"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": owner, "controller": true}]},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web", HASH_LABEL: format!("h{rev}")}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}
        }))
        .unwrap()
    }

    #[test]
    fn status_follows_kubectl_order() {
        let d = deploy(base());
        assert_eq!(
            status(&d, 0).unwrap(),
            ("deployment \"web\" successfully rolled out".into(), true)
        );

        let mut v = base();
        v["status"]["observedGeneration"] = json!(2);
        assert_eq!(
            status(&deploy(v), 0).unwrap().0,
            "Waiting for deployment spec update to be observed..."
        );

        let mut v = base();
        v["status"]["updatedReplicas"] = json!(1);
        assert!(
            status(&deploy(v), 0)
                .unwrap()
                .0
                .contains("1 out of 3 new replicas have been updated")
        );

        let mut v = base();
        v["status"]["replicas"] = json!(4);
        assert!(
            status(&deploy(v), 0)
                .unwrap()
                .0
                .contains("1 old replicas are pending termination")
        );

        let mut v = base();
        v["status"]["availableReplicas"] = json!(2);
        assert!(
            status(&deploy(v), 0)
                .unwrap()
                .0
                .contains("2 of 3 updated replicas are available")
        );

        let mut v = base();
        v["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
        assert!(matches!(status(&deploy(v), 0), Err(Error::Failed(_))));

        assert!(
            matches!(status(&d, 2), Err(Error::Failed(m)) if m.contains("desired revision (2)"))
        );
        assert!(status(&d, 3).unwrap().1);
    }

    #[test]
    fn pause_resume_restart_refusals() {
        let d = deploy(base());
        assert!(pause_patch(&d).is_ok());
        assert!(
            resume_patch(&d)
                .unwrap_err()
                .to_string()
                .contains("is not paused")
        );
        let mut v = base();
        v["spec"]["paused"] = json!(true);
        let p = deploy(v);
        assert!(
            pause_patch(&p)
                .unwrap_err()
                .to_string()
                .contains("already paused")
        );
        assert!(resume_patch(&p).is_ok());
        assert!(restart_patch(&p, "t").is_err());
        assert_eq!(
            restart_patch(&d, "2026-01-01T00:00:00Z").unwrap()["spec"]["template"]["metadata"]["annotations"]
                [RESTARTED_AT],
            "2026-01-01T00:00:00Z"
        );
    }

    #[test]
    fn rollback_target_and_patch() {
        let d = deploy(base());
        let rss = vec![
            rs(1, "nginx:1", "u1"),
            rs(3, "nginx:3", "u1"),
            rs(2, "nginx:2", "u1"),
            rs(9, "x", "other"),
        ];
        assert_eq!(
            history(&d, &rss).keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(rollback_target(&d, &rss, 0).unwrap().name_any(), "web-2");
        assert_eq!(rollback_target(&d, &rss, 1).unwrap().name_any(), "web-1");
        let e = rollback_target(&d, &rss, 7).unwrap_err().to_string();
        assert!(
            e.contains("unable to find specified revision 7") && e.contains("1, 2, 3"),
            "{e}"
        );
        assert!(rollback_target(&d, &rss[..1], 0).is_err());

        // Current template already matches revision 3: skipped.
        assert_eq!(undo_patch(&d, &rss[1]).unwrap(), None);
        let p = undo_patch(&d, &rss[0]).unwrap().unwrap();
        assert_eq!(p[0]["path"], "/spec/template");
        assert_eq!(
            p[0]["value"]["metadata"]["labels"],
            json!({"app": "web"}),
            "hash label dropped"
        );
        assert_eq!(p[0]["value"]["spec"]["containers"][0]["image"], "nginx:1");
        // Revision kept from the deployment, everything else from the ReplicaSet.
        assert_eq!(p[1]["value"][REVISION], "3");
        assert_eq!(p[1]["value"]["team"], "b");
        assert_eq!(p[1]["value"][CHANGE_CAUSE], "rev 1");

        let mut v = base();
        v["spec"]["paused"] = json!(true);
        assert!(
            undo_patch(&deploy(v), &rss[0])
                .unwrap_err()
                .to_string()
                .contains("paused")
        );
    }

    /// A Kruise Rollout canary: the Deployment paused with the in-progressing annotation, its
    /// template the new version, its history still at the stable ReplicaSet.
    #[test]
    fn undo_during_a_kruise_rollout_canary() {
        let mut v = base();
        v["spec"]["paused"] = json!(true);
        v["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:4");
        v["metadata"]["annotations"][IN_PROGRESSING] = json!("{\"rolloutName\":\"web\"}");
        v["metadata"]["annotations"]["rollouts.kruise.io/stable-revision"] = json!("h3");
        let d = deploy(v.clone());
        assert!(in_canary_progress(&d));
        let rss = vec![rs(2, "nginx:2", "u1"), rs(3, "nginx:3", "u1")];
        // The latest ReplicaSet is the stable version: the target.
        assert_eq!(rollback_target(&d, &rss, 0).unwrap().name_any(), "web-3");
        assert_eq!(
            rollback_target(&d, &rss[1..], 0).unwrap().name_any(),
            "web-3"
        );
        let p = undo_patch(&d, &rss[1]).unwrap().unwrap();
        assert_eq!(p[0]["value"]["spec"]["containers"][0]["image"], "nginx:3");
        // Kruise Rollout's annotations stay as they are on the Deployment.
        assert_eq!(p[1]["value"][IN_PROGRESSING], "{\"rolloutName\":\"web\"}");
        assert_eq!(p[1]["value"]["rollouts.kruise.io/stable-revision"], "h3");
        // Rolled back already (template = latest): the one before.
        let mut back = v.clone();
        back["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:3");
        assert_eq!(
            rollback_target(&deploy(back), &rss, 0).unwrap().name_any(),
            "web-2"
        );
        // Partition style (deployment-strategy) is not a canary: a paused Deployment is refused.
        let mut part = v.clone();
        part["metadata"]["annotations"][DEPLOYMENT_STRATEGY] = json!("{}");
        let part = deploy(part);
        assert!(!in_canary_progress(&part));
        assert!(undo_patch(&part, &rss[0]).is_err());
    }
}
