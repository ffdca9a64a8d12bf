//! The revision history of a Kruise workload (CloneSet, Advanced StatefulSet): its
//! ControllerRevisions, `rollout history` printed as kubectl prints it, and the revision
//! `rollout undo` goes back to. One implementation for every kind that keeps revisions the
//! Kruise way.

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::cli::OutputFormat;
use crate::cli::rollout::HistoryArgs;
use crate::client::Kube;
use crate::controller::revision;
use crate::error::{Error, Result, from_kube};
use crate::output::{self, table::KubeTable};

/// The revisions owned by `uid` among those matching `selector`, oldest first.
pub async fn owned(
    kube: &Kube,
    selector: &LabelSelector,
    uid: &str,
) -> Result<Vec<ControllerRevision>> {
    let api: Api<ControllerRevision> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let sel = crate::controller::selector::render(selector).unwrap_or_default();
    let mut list: Vec<ControllerRevision> = api
        .list(&ListParams::default().labels(&sel))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?
        .items
        .into_iter()
        .filter(|r| r.owner_references().iter().any(|o| o.uid == uid))
        .collect();
    list.sort_by_key(|r| r.revision);
    Ok(list)
}

/// `rollout history` of `resource/name` (`kind`: "cloneset", for messages).
pub fn print(
    resource: &str,
    kind: &str,
    name: &str,
    revs: &[ControllerRevision],
    a: &HistoryArgs,
) -> Result<()> {
    if a.revision > 0 && !revs.iter().any(|r| r.revision == a.revision) {
        return Err(Error::other(format!(
            "unable to find the specified revision {} of {kind} \"{name}\"",
            a.revision
        )));
    }
    let picked: Vec<&ControllerRevision> = revs
        .iter()
        .filter(|r| a.revision == 0 || r.revision == a.revision)
        .collect();
    match a.output.output {
        Some(OutputFormat::Name) => {
            for r in picked {
                output::outln(&format!("controllerrevision.apps/{}", r.name_any()))?;
            }
            Ok(())
        }
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(&picked, f.into())
        }
        _ if a.revision > 0 => {
            let t = revision::template_of(picked[0]).unwrap_or_default();
            output::outln(&format!("{resource}/{name} with revision #{}", a.revision))?;
            output::outln("Pod Template:")?;
            let yaml = serde_saphyr::to_string(&Value::Object(t))
                .map_err(|e| Error::other(e.to_string()))?;
            output::out(&yaml.lines().map(|l| format!("  {l}\n")).collect::<String>())
        }
        _ => {
            output::outln(&format!("{resource}/{name}"))?;
            let mut t =
                KubeTable::new(&["REVISION", "NAME", "CHANGE-CAUSE"], !a.output.no_headers).gap(2);
            for r in revs {
                let cause = r
                    .annotations()
                    .get("kubernetes.io/change-cause")
                    .cloned()
                    .unwrap_or_else(|| "<none>".into());
                t.row([r.revision.to_string(), r.name_any(), cause]);
            }
            output::out(&t.render())
        }
    }
}

/// The revision `undo` goes back to: `to_revision`, or the newest one before the current that
/// differs from it.
/// `kind` as messages name it ("daemonset"), `spelled` as a command line does ("ads").
pub fn undo_target<'r>(
    kind: &str,
    spelled: &str,
    name: &str,
    revs: &'r [ControllerRevision],
    current_bytes: &[u8],
    to_revision: i64,
) -> Result<&'r ControllerRevision> {
    if to_revision > 0 {
        return revs.iter().find(|r| r.revision == to_revision).ok_or_else(|| {
            Error::other(format!(
                "unable to find the specified revision {to_revision} of {kind} \"{name}\" (see `kubectl kruise rollout history {spelled}/{name}`)"
            ))
        });
    }
    let current = revs
        .iter()
        .rfind(|r| revision::stored_payload(r) == current_bytes);
    let below = current.map(|c| c.revision).unwrap_or(i64::MAX);
    revs.iter()
        .rfind(|r| r.revision < below && revision::stored_payload(r) != current_bytes)
        .ok_or_else(|| Error::other(format!("no rollout history found for {kind} \"{name}\"")))
}
