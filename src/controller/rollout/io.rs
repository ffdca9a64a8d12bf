//! The writes the Rollout and BatchRelease controllers share: patches by kind, each returning
//! what the next pass must see (`Expect`), errors as one line naming the object.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet as NativeStatefulSet};
use kube::api::{Api, Patch, PostParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use super::workload::TargetKind;
use crate::api::cloneset::CloneSet;
use crate::api::statefulset::StatefulSet;
use crate::controller::podsync::{pp, rv};
use crate::controller::runtime::{Expect, Watched};

fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// A 404 (already gone) or 409 (changed under us: the next pass reads it again).
pub fn is(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// A patch of one object; the returned expectation waits for the written version.
pub async fn patch<K>(
    client: &Client,
    ns: &str,
    name: &str,
    patch: Patch<&Value>,
) -> Result<Expect, String>
where
    K: Watched + serde::Serialize,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    api.patch(name, &pp(), &patch)
        .await
        .map(|o| Expect::at::<K>(ns, name, rv(o.meta().resource_version.as_ref())))
        .map_err(|e| {
            format!(
                "patching {} {ns}/{name}: {}",
                K::kind(&()).to_lowercase(),
                describe(&e)
            )
        })
}

pub async fn merge<K: Watched + serde::Serialize>(
    client: &Client,
    ns: &str,
    name: &str,
    p: &Value,
) -> Result<Expect, String> {
    patch::<K>(client, ns, name, Patch::Merge(p)).await
}

/// A merge patch of the workload, whatever its kind.
pub async fn patch_workload(
    client: &Client,
    ns: &str,
    kind: TargetKind,
    name: &str,
    p: &Value,
) -> Result<Expect, String> {
    match kind {
        TargetKind::Deployment => merge::<Deployment>(client, ns, name, p).await,
        TargetKind::StatefulSet => merge::<NativeStatefulSet>(client, ns, name, p).await,
        TargetKind::CloneSet => merge::<CloneSet>(client, ns, name, p).await,
        TargetKind::AdvancedStatefulSet => merge::<StatefulSet>(client, ns, name, p).await,
    }
}

pub async fn create<K>(client: &Client, ns: &str, obj: &K) -> Result<(String, Expect), String>
where
    K: Watched + serde::Serialize,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let pp = PostParams {
        field_manager: Some(crate::controller::podsync::FIELD_MANAGER.into()),
        ..Default::default()
    };
    match api.create(&pp, obj).await {
        Ok(o) => {
            let name = o.name_any();
            let e = Expect::at::<K>(ns, &name, rv(o.meta().resource_version.as_ref()));
            Ok((name, e))
        }
        Err(e) if is(&e, 409) => {
            let name = obj.name_any();
            Ok((name.clone(), Expect::seen::<K>(ns, &name)))
        }
        Err(e) => Err(format!(
            "creating {} in {ns}: {}",
            K::kind(&()).to_lowercase(),
            describe(&e)
        )),
    }
}

/// Deletes `name`; gone already is fine.
pub async fn delete<K>(client: &Client, ns: &str, name: &str, uid: &str) -> Result<Expect, String>
where
    K: Watched,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok(Expect::gone::<K>(ns, name, uid)),
        Err(e) if is(&e, 404) => Ok(Expect::gone::<K>(ns, name, uid)),
        Err(e) => Err(format!(
            "deleting {} {ns}/{name}: {}",
            K::kind(&()).to_lowercase(),
            describe(&e)
        )),
    }
}

/// Replaces the status of `obj` (as read, resourceVersion included): a concurrent write (an
/// approval) makes this fail with a conflict instead of being overwritten.
pub async fn replace_status<K>(client: &Client, obj: &K) -> Result<Expect, String>
where
    K: Watched + serde::Serialize,
{
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let api: Api<K> = Api::namespaced(client.clone(), &ns);
    match api
        .replace_status(
            &name,
            &PostParams {
                field_manager: Some(crate::controller::podsync::FIELD_MANAGER.into()),
                ..Default::default()
            },
            obj,
        )
        .await
    {
        Ok(o) => Ok(Expect::at::<K>(
            &ns,
            &name,
            rv(o.meta().resource_version.as_ref()),
        )),
        // Someone wrote the object since it was read (an approval, the other controller): its
        // newer version is on the way through the watch and the next pass recomputes the
        // status from it. Nothing for a person to act on.
        Err(e) if is(&e, 409) => {
            tracing::debug!("status of {ns}/{name} changed under this pass; recomputed next pass");
            Ok(Expect::seen::<K>(&ns, &name))
        }
        Err(e) => Err(format!(
            "writing status of {} {ns}/{name}: {}",
            K::kind(&()).to_lowercase(),
            describe(&e)
        )),
    }
}
