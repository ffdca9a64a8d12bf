//! The gate upstream's mutating webhook puts on a workload under an enabled Kruise Rollout,
//! put by our own commands instead (no webhook runs here): `set image` and `rollout restart`
//! write the hold and the `in-progressing` mark in the same guarded write as the change, so
//! the workload's controller never sees the new template unheld (reference notes §5.2).

use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::api::rollout::Rollout;
use crate::client::Kube;
use crate::controller::rollout::gate;
use crate::controller::rollout::keys;
use crate::controller::rollout::plan::routings;
use crate::controller::rollout::workload::{TargetKind, stable_replicaset};
use crate::error::{Result, from_kube};

/// The hold to write with a template change, and the Rollout that asks for it.
#[derive(Debug, Clone)]
pub struct Gate {
    pub rollout: String,
    /// A merge patch (annotation, pause or partition).
    pub patch: Value,
}

impl Gate {
    /// What the command says after writing.
    pub fn note(&self, ns: &str) -> String {
        format!(
            "held for rollout/{r}: the release moves step by step; approve each step with `kubectl kruise rollout approve rollout/{r} -n {ns}`",
            r = self.rollout
        )
    }
}

/// The enabled Rollout naming this workload, if any (none when the Rollout CRD is absent).
pub async fn rollout_of(kube: &Kube, kind: TargetKind, name: &str) -> Result<Option<Rollout>> {
    let api: Api<Rollout> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(from_kube(e, &kube.server, None)),
    };
    Ok(list.items.into_iter().find(|r| {
        let w = &r.spec.workload_ref;
        w.name == name && TargetKind::of(&w.api_version, &w.kind) == Some(kind) && gate::gates(r)
    }))
}

/// The gate for a template change of `obj` (replicas: its spec's), as the webhook decides:
/// none without an enabled Rollout, for 0 replicas, or with traffic routing while more than
/// one version runs (a Deployment's active ReplicaSets, a CloneSet's updated pods).
pub async fn for_change<K: Resource + serde::Serialize>(
    kube: &Kube,
    kind: TargetKind,
    obj: &K,
    replicas: i32,
) -> Result<Option<Gate>> {
    let name = obj.meta().name.clone().unwrap_or_default();
    let Some(r) = rollout_of(kube, kind, &name).await? else {
        return Ok(None);
    };
    let rollout = r.name_any();
    let in_flight = obj.annotations().contains_key(keys::IN_PROGRESSING);
    if kind == TargetKind::Deployment && in_flight {
        return Ok(Some(Gate {
            rollout,
            patch: json!({"spec": {"paused": true}}),
        }));
    }
    if replicas == 0 {
        return Ok(None);
    }
    let stable = match kind {
        TargetKind::Deployment => {
            let rss = replicasets(kube, obj).await?;
            let active = rss
                .iter()
                .filter(|rs| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0)
                .count();
            // The webhook holds nothing without an active ReplicaSet (a new Deployment rolls
            // out as usual), and with traffic routing nothing mid-rollout (more than one).
            if active == 0 || (!routings(&r).is_empty() && active > 1) {
                return Ok(None);
            }
            let refs: Vec<&ReplicaSet> = rss.iter().collect();
            let uid = obj.meta().uid.clone().unwrap_or_default();
            stable_replicaset(&uid, &refs)
                .and_then(|rs| rs.labels().get(keys::POD_TEMPLATE_HASH).cloned())
        }
        TargetKind::CloneSet => {
            // With traffic routing, a CloneSet with pods of more than one revision passes
            // unchanged (`handleCloneSet`): a blue-green release's surge pods are never held.
            let v = serde_json::to_value(obj).unwrap_or_default();
            let (all, updated) = (&v["status"]["replicas"], &v["status"]["updatedReplicas"]);
            if !routings(&r).is_empty()
                && all.as_i64().unwrap_or(0) != updated.as_i64().unwrap_or(0)
            {
                return Ok(None);
            }
            None
        }
        _ => None,
    };
    Ok(Some(Gate {
        patch: gate::patch(kind, &rollout, stable.as_deref()),
        rollout,
    }))
}

async fn replicasets<K: Resource>(kube: &Kube, obj: &K) -> Result<Vec<ReplicaSet>> {
    let api: Api<ReplicaSet> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let uid = obj.meta().uid.clone().unwrap_or_default();
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?;
    Ok(list
        .items
        .into_iter()
        .filter(|rs| rs.owner_references().iter().any(|o| o.uid == uid))
        .collect())
}

/// JSON-patch operations that apply the merge patch `merge` to `current` (whose JSON is
/// `current`): a leaf is added where its parent exists, else the missing parent is added
/// whole. Used to put the hold into a JSON-patch change (`set image`).
pub fn ops(current: &Value, merge: &Value) -> Vec<Value> {
    let mut out = vec![];
    walk(current, merge, "", &mut out);
    out
}

fn escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

fn walk(current: &Value, merge: &Value, path: &str, out: &mut Vec<Value>) {
    let Some(m) = merge.as_object() else { return };
    for (k, v) in m {
        let p = format!("{path}/{}", escape(k));
        match current.get(k) {
            Some(c) if c.is_object() && v.is_object() => walk(c, v, &p, out),
            Some(_) if v.is_null() => out.push(json!({"op": "remove", "path": p})),
            None if v.is_null() => {}
            _ => out.push(json!({"op": "add", "path": p, "value": v})),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_add_leaves_or_missing_parents() {
        let cur = json!({"metadata": {"annotations": {"a": "1"}}, "spec": {"replicas": 1}});
        let m = json!({"metadata": {"annotations": {"x/y": "2"}, "labels": {"l": "v"}},
                       "spec": {"paused": true}});
        let o = ops(&cur, &m);
        assert!(
            o.contains(&json!({"op": "add", "path": "/metadata/annotations/x~1y", "value": "2"}))
        );
        assert!(o.contains(&json!({"op": "add", "path": "/metadata/labels", "value": {"l": "v"}})));
        assert!(o.contains(&json!({"op": "add", "path": "/spec/paused", "value": true})));
        let mut patched = cur.clone();
        let p: json_patch::Patch = serde_json::from_value(Value::Array(o)).unwrap();
        json_patch::patch(&mut patched, &p).unwrap();
        let mut merged = cur.clone();
        gate::merge(&mut merged, &m);
        assert_eq!(patched, merged);
    }
}
