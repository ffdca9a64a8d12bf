//! Pods named on the command line (`scale --delete-pod`): read, and checked to belong to the
//! workload.

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;

use crate::client::Kube;
use crate::error::{Error, Result, Target, from_kube};

pub async fn get(kube: &Kube, name: &str) -> Result<Pod> {
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let t = Target {
        resource: "pods",
        name,
        namespace: &kube.namespace,
    };
    api.get(name)
        .await
        .map_err(|e| from_kube(e, &kube.server, Some(&t)))
}

/// (kind, name, uid) of the pod's controller.
pub fn controller_of(p: &Pod) -> Option<(String, String, String)> {
    p.owner_references()
        .iter()
        .find(|r| r.controller == Some(true))
        .map(|r| (r.kind.clone(), r.name.clone(), r.uid.clone()))
}

pub fn not_owned(pod: &str, owner: &str, p: &Pod) -> Error {
    let by = controller_of(p)
        .map(|(k, n, _)| format!("it belongs to {} \"{n}\"", k.to_lowercase()))
        .unwrap_or_else(|| "it has no controller".into());
    Error::usage(format!(
        "pod \"{pod}\" is not a pod of {owner}: {by}; nothing was changed"
    ))
}

/// The first active pod of the workload `uid` (among those its selector lists) at the update
/// revision (`at_update` says which revision label is it) whose container cannot start: one
/// LIST of pods. What a watched change ends on with exit 4.
pub async fn first_stuck(
    kube: &Kube,
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    uid: &str,
    at_update: impl Fn(&str) -> bool,
) -> Result<Option<crate::controller::runtime::Stuck>> {
    use crate::controller::pod;
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let sel = crate::controller::selector::render(selector).unwrap_or_default();
    let list = api
        .list(&kube::api::ListParams::default().labels(&sel))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    Ok(list
        .items
        .iter()
        .filter(|p| p.owner_references().iter().any(|r| r.uid == uid))
        .filter(|p| pod::is_active(p) && at_update(pod::revision(p)))
        .find_map(|p| {
            pod::stuck(p).map(
                |(container, reason, message)| crate::controller::runtime::Stuck {
                    pod: p.name_any(),
                    container,
                    reason,
                    message,
                },
            )
        }))
}
