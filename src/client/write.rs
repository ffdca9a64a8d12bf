//! Guarded writes: read the object, compute the change from what is really there, send it
//! with the object's resourceVersion (so a concurrent writer makes it fail with 409 instead of
//! being overwritten), and on conflict read again and retry.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result, Target, from_kube};

/// How many times a conflicting write is retried before giving up.
/// Whether a write reaches the server: for real, only as a server-side dry run, or not at all
/// (the change applied to the object locally, kubectl's `--dry-run=client`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Apply,
    Local,
    ServerDryRun,
}

pub const ATTEMPTS: u32 = 5;

/// The result of a guarded write.
#[derive(Debug)]
pub enum Outcome<K> {
    /// The change was written (or, for a dry run, would be): the object after it.
    Changed(K),
    /// Nothing to change; the object as it is.
    Unchanged(K),
}

impl<K> Outcome<K> {
    pub fn object(&self) -> &K {
        match self {
            Outcome::Changed(k) | Outcome::Unchanged(k) => k,
        }
    }
}

/// Which kind of patch `change` returns.
#[derive(Debug, Clone)]
pub enum Change {
    /// A JSON merge patch (RFC 7386).
    Merge(Value),
    /// A JSON patch (RFC 6902), for exact replacements (`replace /spec/template`).
    Json(Value),
}

/// Read–change–write with optimistic concurrency.
///
/// `change` sees the current object and returns the patch to apply, `None` when there is
/// nothing to do, or an error to refuse (e.g. "already paused"). The patch is sent with a
/// resourceVersion precondition; a 409 re-reads and calls `change` again. `known` is an
/// object the caller has just read: the first attempt uses it instead of another GET.
#[allow(clippy::too_many_arguments)]
pub async fn guarded<K, F>(
    api: &Api<K>,
    mut known: Option<K>,
    target: &Target<'_>,
    server: &str,
    dry_run: WriteMode,
    field_manager: &str,
    mut change: F,
) -> Result<Outcome<K>>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    F: FnMut(&K) -> Result<Option<Change>>,
{
    let mut pp = PatchParams {
        field_manager: Some(field_manager.to_string()),
        ..Default::default()
    };
    if dry_run == WriteMode::ServerDryRun {
        pp.dry_run = true;
    }
    for _attempt in 0..ATTEMPTS {
        let current = match known.take() {
            Some(k) => k,
            None => api
                .get(target.name)
                .await
                .map_err(|e| from_kube(e, server, Some(target)))?,
        };
        let Some(patch) = change(&current)? else {
            return Ok(Outcome::Unchanged(current));
        };
        let rv = current.resource_version().unwrap_or_default();
        if dry_run == WriteMode::Local {
            return apply_locally(&current, &patch).map(Outcome::Changed);
        }
        let json = matches!(patch, Change::Json(_));
        let result = match patch {
            Change::Merge(mut v) => {
                if let Some(obj) = v.as_object_mut() {
                    let meta = obj
                        .entry("metadata")
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Some(m) = meta.as_object_mut() {
                        m.insert("resourceVersion".into(), Value::String(rv.clone()));
                    }
                }
                api.patch(target.name, &pp, &Patch::Merge(v)).await
            }
            Change::Json(ops) => {
                let mut ops = ops.as_array().cloned().unwrap_or_default();
                ops.insert(
                    0,
                    serde_json::json!({"op": "test", "path": "/metadata/resourceVersion", "value": rv.clone()}),
                );
                let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops))
                    .map_err(|e| Error::other(format!("internal: bad JSON patch: {e}")))?;
                api.patch(target.name, &pp, &Patch::<()>::Json(patch)).await
            }
        };
        match result {
            Ok(obj) => return Ok(Outcome::Changed(obj)),
            // 409 for a stale merge patch; 422 "test failed" for a stale JSON patch.
            Err(kube::Error::Api(s))
                if s.code == 409 || (s.code == 422 && s.message.contains("test")) =>
            {
                tracing::debug!(
                    "conflict on {} {}: re-reading",
                    target.resource,
                    target.name
                );
                continue;
            }
            // A failed `test` of the resourceVersion reads, on recent API servers, as a bare
            // 422: when the object has moved on since it was read, that was the conflict.
            Err(kube::Error::Api(s)) if s.code == 422 && json => {
                let fresh = api
                    .get(target.name)
                    .await
                    .map_err(|e| from_kube(e, server, Some(target)))?;
                if fresh.resource_version().unwrap_or_default() == rv {
                    return Err(from_kube(kube::Error::Api(s), server, Some(target)));
                }
                tracing::debug!(
                    "stale JSON patch on {} {}: re-reading",
                    target.resource,
                    target.name
                );
                known = Some(fresh);
                continue;
            }
            Err(e) => return Err(from_kube(e, server, Some(target))),
        }
    }
    Err(Error::Conflict(
        format!("{} \"{}\"", target.resource, target.name),
        ATTEMPTS,
    ))
}

/// What the object would look like after the patch (for `--dry-run=client`).
pub fn apply_locally<K: Serialize + DeserializeOwned>(obj: &K, change: &Change) -> Result<K> {
    let mut v = serde_json::to_value(obj).map_err(|e| Error::other(e.to_string()))?;
    match change {
        Change::Merge(p) => json_patch::merge(&mut v, p),
        Change::Json(ops) => {
            let patch: json_patch::Patch = serde_json::from_value(ops.clone())
                .map_err(|e| Error::other(format!("internal: bad JSON patch: {e}")))?;
            json_patch::patch(&mut v, &patch)
                .map_err(|e| Error::other(format!("cannot apply the patch locally: {e}")))?;
        }
    }
    serde_json::from_value(v).map_err(|e| Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use serde_json::json;

    #[test]
    fn local_application_of_both_patch_kinds() {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "a", "annotations": {"x": "1"}},
            "spec": {"selector": {}, "template": {"metadata": {"labels": {"a": "b"}}}}
        }))
        .unwrap();
        let paused = apply_locally(&d, &Change::Merge(json!({"spec": {"paused": true}}))).unwrap();
        assert_eq!(paused.spec.unwrap().paused, Some(true));
        let replaced = apply_locally(
            &d,
            &Change::Json(
                json!([{"op": "replace", "path": "/metadata/annotations", "value": {"y": "2"}}]),
            ),
        )
        .unwrap();
        let ann = replaced.metadata.annotations.unwrap();
        assert_eq!(ann.len(), 1);
        assert_eq!(ann["y"], "2");
    }
}
