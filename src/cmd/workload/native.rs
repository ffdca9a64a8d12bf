//! What the built-in apps/v1 kinds that keep their history in ControllerRevisions
//! (StatefulSet, DaemonSet) share, at parity with kubectl v1.34: kube-controller-manager drives
//! them, kubectl cannot pause or resume them, `rollout restart` stamps the template, history and
//! undo read the ControllerRevisions the object controls (each holds
//! `{"spec":{"template":{…,"$patch":"replace"}}}`, the controller's own encoding), and undo
//! replaces the template with a revision's. Each kind brings its status viewer
//! ([`Native::status`]); `statefulset.rs` and `daemonset.rs` are the rest.

use std::fmt::Debug;

use futures::stream::BoxStream;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::images::image_ops;
use super::{Cx, Observed, Phase, Verb, Written};
use crate::cli::OutputFormat;
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::client::kinds::Kind;
use crate::client::write::{Change, Outcome, guarded};
use crate::cmd::common::now_rfc3339;
use crate::controller::runtime::Progress;
use crate::controller::selector;
use crate::error::{Error, Result, Target, from_kube};
use crate::output::{self, table::KubeTable};

pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// A built-in kind with ControllerRevision history.
pub trait Native:
    Resource<Scope = NamespaceResourceScope, DynamicType = ()>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    const KIND: Kind;
    /// The Kruise Rollout workload kind it is, when a Rollout can hold it.
    const ROLLOUT_KIND: Option<crate::controller::rollout::workload::TargetKind> = None;
    /// How kubectl names the resource in errors: `statefulsets.apps`.
    const RESOURCE: &'static str;
    fn template(&self) -> Option<&PodTemplateSpec>;
    fn selector(&self) -> Option<&LabelSelector>;
    /// kubectl's status viewer: the line and whether the rollout is done. Its error (a strategy
    /// kubectl cannot follow) ends `rollout status` with exit 1, as kubectl's does.
    fn status(&self) -> Result<(String, bool)>;
    fn progress(&self) -> Progress;
}

pub fn api<K: Native>(kube: &Kube) -> Api<K> {
    Api::namespaced(kube.client.clone(), &kube.namespace)
}

pub fn target<'a, K: Native>(kube: &'a Kube, name: &'a str) -> Target<'a> {
    Target {
        resource: K::RESOURCE,
        name,
        namespace: &kube.namespace,
    }
}

pub async fn get<K: Native>(kube: &Kube, name: &str) -> Result<K> {
    api::<K>(kube)
        .get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&target::<K>(kube, name))))
}

pub fn object<K: Native>(k: &K) -> Result<Value> {
    serde_json::to_value(k).map_err(|e| Error::other(e.to_string()))
}

fn prefix<K: Native>(name: &str) -> String {
    format!("{}/{name}", K::KIND.name_prefix())
}

/// kubectl's status line, as a phase: done is Complete, anything else Progressing (these
/// kinds cannot be paused; a partition holding pods back is "partitioned roll out complete").
pub fn judged<K: Native>(k: &K) -> Result<Observed> {
    let (line, done) = k.status()?;
    Ok(Observed {
        line,
        phase: if done {
            Phase::Complete
        } else {
            Phase::Progressing
        },
        progress: k.progress(),
    })
}

pub async fn observe<K: Native>(kube: &Kube, name: &str) -> Result<Observed> {
    judged(&get::<K>(kube, name).await?)
}

pub fn watch<K: Native>(kube: &Kube, name: &str) -> BoxStream<'static, Result<Option<Observed>>> {
    super::watch_judged(kube, name, judged::<K>)
}

/// kubectl's `rollout pause`/`resume` read the object, then refuse every kind but Deployment:
/// `statefulsets.apps "web" pausing is not supported` (exit 1). `restart` stamps the template.
pub async fn rollout<K: Native>(cx: &Cx<'_>, name: &str, verb: Verb) -> Result<Written> {
    let refused = match verb {
        Verb::Pause => Some("pausing"),
        Verb::Resume => Some("resuming"),
        _ => None,
    };
    if let Some(what) = refused {
        get::<K>(cx.kube, name).await?;
        return Err(Error::other(format!(
            "{} \"{name}\" {what} is not supported",
            K::RESOURCE
        )));
    }
    let now = now_rfc3339();
    let k = get::<K>(cx.kube, name).await?;
    let held = held::<K>(cx, &k).await?;
    let outcome = guarded(
        &api::<K>(cx.kube),
        Some(k),
        &target::<K>(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |k| {
            let mut p = restart_patch(k.template(), name, &now)?;
            if let Some(g) = &held {
                crate::controller::rollout::gate::merge(&mut p, &g.patch);
            }
            Ok(Some(Change::Merge(p)))
        },
    )
    .await?;
    Ok(Written::Changed {
        object: object(outcome.object())?,
        done: verb.done().into(),
        notes: held.iter().map(|g| g.note(&cx.kube.namespace)).collect(),
        drives: true,
    })
}

/// The restart stamp; kubectl refuses a second one within the same second (its patch would be
/// empty).
pub fn restart_patch(template: Option<&PodTemplateSpec>, name: &str, now: &str) -> Result<Value> {
    let stamped = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT));
    if stamped.map(String::as_str) == Some(now) {
        return Err(Error::other(format!(
            "failed to create patch for {name}: if restart has already been triggered within the past second, please wait before attempting to trigger another"
        )));
    }
    Ok(json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}))
}

/// The ControllerRevisions the object controls (its selector's, owned by its uid), by revision.
pub async fn revisions<K: Native>(kube: &Kube, k: &K) -> Result<Vec<ControllerRevision>> {
    let api: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let labels = match k.selector() {
        Some(s) => selector::render(s).map_err(|e| {
            Error::other(format!(
                "the selector of {} \"{}\" is invalid: {e}",
                K::KIND.singular(),
                k.name_any()
            ))
        })?,
        None => String::new(),
    };
    let list = api
        .list(&ListParams::default().labels(&labels))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    Ok(controlled(k, list.items))
}

/// Those of `revs` whose controller is `k`, by revision (oldest first).
pub fn controlled<K: Native>(k: &K, revs: Vec<ControllerRevision>) -> Vec<ControllerRevision> {
    let uid = k.uid().unwrap_or_default();
    let mut out: Vec<ControllerRevision> = revs
        .into_iter()
        .filter(|r| {
            r.owner_references()
                .iter()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .collect();
    out.sort_by_key(|r| r.revision);
    out
}

/// The pod template a revision restores, as stored (its JSON, without the `$patch` directive).
/// kube-controller-manager writes every revision as a replacement of `spec.template`; anything
/// else is refused rather than half-applied.
pub fn revision_template(r: &ControllerRevision) -> Result<Value> {
    let bad = || {
        Error::other(format!(
            "controllerrevision \"{}\" (revision {}) does not hold a pod template replacement; it was not written by kube-controller-manager",
            r.name_any(),
            r.revision
        ))
    };
    let t = r
        .data
        .as_ref()
        .and_then(|d| d.0.pointer("/spec/template"))
        .and_then(Value::as_object)
        .ok_or_else(bad)?;
    if t.get("$patch").and_then(Value::as_str) != Some("replace") {
        return Err(bad());
    }
    let mut t = t.clone();
    t.remove("$patch");
    Ok(Value::Object(t))
}

fn typed(t: &Value) -> Result<PodTemplateSpec> {
    serde_json::from_value(t.clone())
        .map_err(|e| Error::other(format!("cannot read a revision's pod template: {e}")))
}

/// The object as of a revision: kubectl's `applyStatefulSetHistory`/`applyDaemonSetHistory`
/// (the revision's patch applied to the object: its template replaced).
pub fn applied<K: Native>(k: &K, r: &ControllerRevision) -> Result<K> {
    let mut v = object(k)?;
    v["spec"]["template"] = revision_template(r)?;
    serde_json::from_value(v).map_err(|e| Error::other(e.to_string()))
}

/// kubectl's `findHistory`: revision `to`, or (0) the second newest.
pub fn find(revs: &[ControllerRevision], to: i64) -> Option<&ControllerRevision> {
    if to == 0 {
        return revs.len().checked_sub(2).map(|i| &revs[i]);
    }
    revs.iter().find(|r| r.revision == to)
}

fn listed(revs: &[ControllerRevision]) -> String {
    if revs.is_empty() {
        "none".into()
    } else {
        revs.iter()
            .map(|r| r.revision.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The revision `undo` goes back to, with kubectl's errors.
pub fn undo_target<'a, K: Native>(
    k: &K,
    revs: &'a [ControllerRevision],
    to: i64,
) -> Result<&'a ControllerRevision> {
    let (singular, name) = (K::KIND.singular(), k.name_any());
    if to == 0 && revs.len() <= 1 {
        return Err(Error::other(format!(
            "no last revision to roll back to: {singular} \"{name}\" has {} revision(s)",
            revs.len()
        )));
    }
    find(revs, to).ok_or_else(|| {
        Error::other(format!(
            "unable to find specified revision {to} in history of {singular} \"{name}\" (revisions: {}); see `kubectl kruise rollout history {singular}/{name}`",
            listed(revs)
        ))
    })
}

/// The JSON patch restoring a revision, `None` when the template already matches it (kubectl:
/// `skipped rollback`). kubectl sends the revision's data as a strategic merge patch; as it
/// replaces `spec.template` (`$patch: replace`), `replace /spec/template` is the same change,
/// and a JSON patch carries our resourceVersion test.
pub fn undo_patch(current: Option<&PodTemplateSpec>, template: &Value) -> Result<Option<Value>> {
    if current == Some(&typed(template)?) {
        return Ok(None);
    }
    Ok(Some(
        json!([{"op": "replace", "path": "/spec/template", "value": template}]),
    ))
}

pub async fn undo<K: Native>(cx: &Cx<'_>, name: &str, to: i64) -> Result<Written> {
    let k = get::<K>(cx.kube, name).await?;
    let revs = revisions(cx.kube, &k).await?;
    let r = undo_target(&k, &revs, to)?;
    let template = revision_template(r)?;
    let number = r.revision;
    let outcome = guarded(
        &api::<K>(cx.kube),
        Some(k),
        &target::<K>(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |cur| Ok(undo_patch(cur.template(), &template)?.map(Change::Json)),
    )
    .await?;
    match outcome {
        Outcome::Unchanged(_) => Ok(Written::Skipped(format!(
            "{} skipped rollback (current template already matches revision {number})",
            prefix::<K>(name)
        ))),
        Outcome::Changed(obj) => Ok(Written::Changed {
            object: object(&obj)?,
            done: Verb::Undo.done().into(),
            notes: vec![],
            drives: true,
        }),
    }
}

/// `rollout history`, as kubectl's history viewers: a REVISION/CHANGE-CAUSE table, one
/// revision's pod template, or (`-o`) the object as of each revision.
pub async fn history<K: Native>(kube: &Kube, name: &str, a: &HistoryArgs) -> Result<()> {
    let k = get::<K>(kube, name).await?;
    let revs = revisions(kube, &k).await?;
    let prefix = prefix::<K>(name);
    if a.output.output.is_none() && revs.is_empty() {
        output::outln(&prefix)?;
        return output::outln("No rollout history found.");
    }
    if a.revision > 0 && !revs.iter().any(|r| r.revision == a.revision) {
        return Err(Error::other(format!(
            "unable to find the specified revision {} of {} \"{name}\" (revisions: {})",
            a.revision,
            K::KIND.singular(),
            listed(&revs)
        )));
    }
    let picked: Vec<&ControllerRevision> = revs
        .iter()
        .filter(|r| a.revision == 0 || r.revision == a.revision)
        .collect();
    match a.output.output {
        Some(OutputFormat::Name) => {
            for _ in picked {
                output::outln(&prefix)?;
            }
            Ok(())
        }
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            let objs = picked
                .iter()
                .map(|r| applied(&k, r))
                .collect::<Result<Vec<K>>>()?;
            output::print_objects(&objs, f.into())
        }
        None if a.revision > 0 => {
            let template = revision_template(picked[0])?;
            output::outln(&format!("{prefix} with revision #{}", a.revision))?;
            output::outln("Pod Template:")?;
            let template =
                serde_json::to_value(typed(&template)?).map_err(|e| Error::other(e.to_string()))?;
            let yaml =
                serde_saphyr::to_string(&template).map_err(|e| Error::other(e.to_string()))?;
            output::out(&yaml.lines().map(|l| format!("  {l}\n")).collect::<String>())
        }
        None => {
            output::outln(&prefix)?;
            let mut t = KubeTable::new(&["revision", "change-cause"], !a.output.no_headers).gap(2);
            for r in &revs {
                let cause = r
                    .annotations()
                    .get(CHANGE_CAUSE)
                    .filter(|c| !c.is_empty())
                    .cloned()
                    .unwrap_or_else(|| "<none>".into());
                t.row([r.revision.to_string(), cause]);
            }
            output::out(&t.render())
        }
    }
}

/// The hold an enabled Kruise Rollout asks for with a template change, if any.
async fn held<K: Native>(cx: &Cx<'_>, k: &K) -> Result<Option<super::gate::Gate>> {
    let Some(kind) = K::ROLLOUT_KIND else {
        return Ok(None);
    };
    let replicas = serde_json::to_value(k)
        .ok()
        .and_then(|v| v["spec"]["replicas"].as_i64())
        .unwrap_or(1) as i32;
    super::gate::for_change(cx.kube, kind, k, replicas).await
}

/// `set image`: the images in `spec.template`; `--inplace` refused with `why`.
pub async fn set_image<K: Native>(
    cx: &Cx<'_>,
    name: &str,
    pairs: &[(String, String)],
    inplace: bool,
    why: &str,
) -> Result<Written> {
    if inplace {
        return Err(Error::usage(why));
    }
    let k = get::<K>(cx.kube, name).await?;
    let template = serde_json::to_value(k.template()).unwrap_or_default();
    let what = format!("{} \"{name}\"", K::KIND.singular());
    let (mut ops, _) = image_ops(&template, "/spec/template", pairs, &what)?;
    let held = held::<K>(cx, &k).await?;
    if let Some(g) = &held {
        ops.extend(super::gate::ops(
            &serde_json::to_value(&k).unwrap_or_default(),
            &g.patch,
        ));
    }
    let outcome = guarded(
        &api::<K>(cx.kube),
        Some(k),
        &target::<K>(cx.kube, name),
        &cx.kube.server,
        cx.dry_run().into(),
        &cx.write.field_manager,
        |_| Ok(Some(Change::Json(Value::Array(ops.clone())))),
    )
    .await?;
    Ok(Written::Changed {
        object: object(outcome.object())?,
        done: Verb::SetImage.done().into(),
        notes: held.iter().map(|g| g.note(&cx.kube.namespace)).collect(),
        drives: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::StatefulSet;

    fn rev(n: i64, image: &str, owner: &str, replace: bool) -> ControllerRevision {
        let mut t = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "c", "image": image, "resources": {}}]}});
        if replace {
            t["$patch"] = json!("replace");
        }
        serde_json::from_value(json!({
            "metadata": {"name": format!("web-{n}"),
                         "annotations": {CHANGE_CAUSE: format!("rev {n}")},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": owner, "controller": true}]},
            "revision": n,
            "data": {"spec": {"template": t}}
        }))
        .unwrap()
    }

    fn sts(image: &str) -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "uid": "u1"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": image, "resources": {}}]}}}
        }))
        .unwrap()
    }

    #[test]
    fn revisions_controlled_sorted_and_found_as_kubectl() {
        let s = sts("nginx:3");
        let revs = controlled(
            &s,
            vec![
                rev(3, "nginx:3", "u1", true),
                rev(1, "nginx:1", "u1", true),
                rev(9, "other", "u2", true),
                rev(2, "nginx:2", "u1", true),
            ],
        );
        assert_eq!(
            revs.iter().map(|r| r.revision).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(find(&revs, 0).unwrap().revision, 2, "the second newest");
        assert_eq!(find(&revs, 1).unwrap().revision, 1);
        assert!(find(&revs, 7).is_none());
        assert!(find(&revs[..1], 0).is_none());

        let e = undo_target(&s, &revs, 7).unwrap_err().to_string();
        assert!(
            e.starts_with("unable to find specified revision 7 in history")
                && e.contains("1, 2, 3"),
            "{e}"
        );
        let e = undo_target(&s, &revs[..1], 0).unwrap_err().to_string();
        assert!(e.starts_with("no last revision to roll back to"), "{e}");
        assert_eq!(undo_target(&s, &revs[..1], 1).unwrap().revision, 1);
    }

    #[test]
    fn undo_replaces_the_template_unless_it_already_matches() {
        let s = sts("nginx:3");
        let t3 = revision_template(&rev(3, "nginx:3", "u1", true)).unwrap();
        assert!(t3.get("$patch").is_none());
        assert_eq!(
            undo_patch(s.spec.as_ref().map(|s| &s.template), &t3).unwrap(),
            None
        );
        let t1 = revision_template(&rev(1, "nginx:1", "u1", true)).unwrap();
        let p = undo_patch(s.spec.as_ref().map(|s| &s.template), &t1)
            .unwrap()
            .unwrap();
        assert_eq!(p[0]["op"], "replace");
        assert_eq!(p[0]["path"], "/spec/template");
        assert_eq!(p[0]["value"]["spec"]["containers"][0]["image"], "nginx:1");
        // Not the controller's encoding: refused, not half-applied.
        assert!(revision_template(&rev(4, "x", "u1", false)).is_err());
        // The object as of revision 1.
        let old = applied(&s, &rev(1, "nginx:1", "u1", true)).unwrap();
        assert_eq!(
            old.spec.unwrap().template.spec.unwrap().containers[0].image,
            Some("nginx:1".into())
        );
    }

    #[test]
    fn a_second_restart_in_the_same_second_is_refused_as_kubectl() {
        let t: PodTemplateSpec = serde_json::from_value(
            json!({"metadata": {"annotations": {RESTARTED_AT: "2026-01-01T00:00:00Z"}}}),
        )
        .unwrap();
        assert!(restart_patch(Some(&t), "web", "2026-01-01T00:00:00Z").is_err());
        let p = restart_patch(Some(&t), "web", "2026-01-01T00:00:01Z").unwrap();
        assert_eq!(
            p["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT],
            "2026-01-01T00:00:01Z"
        );
        assert!(restart_patch(None, "web", "t").is_ok());
    }
}
