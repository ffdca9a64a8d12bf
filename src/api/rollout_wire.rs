//! Kruise Rollout's v1alpha1 ↔ v1beta1 conversion of whole objects as JSON, for a cluster whose
//! CRDs serve `rollouts.kruise.io` at v1alpha1 only (an older Kruise Rollout): the client reads
//! and writes v1alpha1 there and the rest of the tool sees v1beta1, as the operator's conversion
//! webhook would have shown it (Kruise Rollout v0.6.2 `api/v1alpha1/conversion.go`, field for
//! field: what upstream does not carry over is dropped here too).
//!
//! Pure: `Rollout`, `BatchRelease` and their lists; any other JSON passes unchanged.

use serde_json::{Map, Value, json};

use super::rollout_v1alpha1::{ROLLING_STYLE, TRAFFIC_ROUTING};

pub const GROUP: &str = "rollouts.kruise.io";
pub const HUB: &str = "rollouts.kruise.io/v1beta1";
pub const OLD: &str = "rollouts.kruise.io/v1alpha1";

/// Which way an object goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// As read from a v1alpha1-only cluster, for the tool.
    Up,
    /// As the tool wrote it, for a v1alpha1-only cluster.
    Down,
}

/// Converts a Rollout, a BatchRelease, or a list of them; anything else is returned as is.
pub fn convert(v: Value, way: Way) -> Value {
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "Rollout" | "BatchRelease" => one(v, way),
        "RolloutList" | "BatchReleaseList" => {
            let mut v = v;
            set_version(&mut v, way);
            if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
                for item in items.iter_mut() {
                    // Items of a list carry no kind on the wire; give them theirs.
                    let k = kind.trim_end_matches("List");
                    if let Some(o) = item.as_object_mut() {
                        o.entry("kind").or_insert(json!(k));
                        o.entry("apiVersion").or_insert(json!(from_version(way)));
                    }
                    *item = one(item.take(), way);
                }
            }
            v
        }
        _ => v,
    }
}

fn from_version(way: Way) -> &'static str {
    match way {
        Way::Up => OLD,
        Way::Down => HUB,
    }
}

fn set_version(v: &mut Value, way: Way) {
    if let Some(o) = v.as_object_mut() {
        let to = match way {
            Way::Up => HUB,
            Way::Down => OLD,
        };
        o.insert("apiVersion".into(), json!(to));
    }
}

fn one(v: Value, way: Way) -> Value {
    let is_rollout = v.get("kind").and_then(Value::as_str) == Some("Rollout");
    let mut out = match (is_rollout, way) {
        (true, Way::Up) => rollout_up(&v),
        (true, Way::Down) => rollout_down(&v),
        (false, Way::Up) => batchrelease_up(&v),
        (false, Way::Down) => batchrelease_down(&v),
    };
    set_version(&mut out, way);
    let Some(o) = out.as_object_mut() else {
        return out;
    };
    if way == Way::Up {
        // The annotations are v1alpha1's spelling of fields: on the v1beta1 side the fields
        // alone say it (and a write back spells them again).
        forget_annotations(o, &[ROLLING_STYLE, TRAFFIC_ROUTING]);
    }
    owners(o, way);
    out
}

fn forget_annotations(o: &mut Map<String, Value>, keys: &[&str]) {
    let Some(a) = o
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for k in keys {
        a.remove(*k);
    }
    if a.is_empty()
        && let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut)
    {
        m.remove("annotations");
    }
}

/// Owner references to a Rollout or BatchRelease name the version the cluster serves.
fn owners(o: &mut Map<String, Value>, way: Way) {
    let (from, to) = match way {
        Way::Up => (OLD, HUB),
        Way::Down => (HUB, OLD),
    };
    let Some(refs) = o
        .get_mut("metadata")
        .and_then(|m| m.get_mut("ownerReferences"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for r in refs {
        if r.get("apiVersion").and_then(Value::as_str) == Some(from) {
            r["apiVersion"] = json!(to);
        }
    }
}

/// The fields of `src` named in `keys` that it has.
fn pick(src: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| src.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

fn skeleton(v: &Value) -> Map<String, Value> {
    pick(v, &["apiVersion", "kind", "metadata"])
}

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/annotations")?.get(key)?.as_str()
}

fn set_annotation(o: &mut Map<String, Value>, key: &str, value: &str) {
    let meta = o.entry("metadata").or_insert(json!({}));
    if let Some(m) = meta.as_object_mut() {
        let a = m.entry("annotations").or_insert(json!({}));
        if !a.is_object() {
            *a = json!({});
        }
        a[key] = json!(value);
    }
}

fn workload_ref(r: Option<&Value>) -> Value {
    let r = r.cloned().unwrap_or(json!({}));
    Value::Object(pick(&r, &["apiVersion", "kind", "name"]))
}

fn routing(r: &Value) -> Value {
    let mut o = pick(r, &["service", "gracePeriodSeconds"]);
    if let Some(i) = r.get("ingress").filter(|i| !i.is_null()) {
        o.insert("ingress".into(), json!(pick(i, &["classType", "name"])));
    }
    if let Some(g) = r.get("gateway").filter(|g| !g.is_null()) {
        o.insert("gateway".into(), json!(pick(g, &["httpRouteName"])));
    }
    if let Some(refs) = r.get("customNetworkRefs").and_then(Value::as_array) {
        let refs: Vec<Value> = refs.iter().map(|x| workload_ref(Some(x))).collect();
        o.insert("customNetworkRefs".into(), json!(refs));
    }
    Value::Object(o)
}

/// Header matches only: v1alpha1 has no paths or query parameters.
fn matches(step: &Value) -> Option<Value> {
    let ms = step.get("matches")?.as_array()?;
    Some(json!(
        ms.iter()
            .map(|m| json!(pick(m, &["headers"])))
            .collect::<Vec<_>>()
    ))
}

fn pause(step: &Value) -> Value {
    json!(pick(step.get("pause").unwrap_or(&json!({})), &["duration"]))
}

/// `"N%"` of 100, as `GetScaledValueFromIntOrPercent` on a string; anything else is an error
/// upstream ignores, leaving weight 0.
fn weight_of(traffic: &str) -> Option<i64> {
    Some(
        traffic
            .strip_suffix('%')
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0),
    )
}

fn common_status(st: &Value, canary_status_keys: &[&str]) -> Map<String, Value> {
    let mut o = pick(st, &["observedGeneration", "phase", "message"]);
    if let Some(cs) = st.get("conditions").and_then(Value::as_array) {
        let cs: Vec<Value> = cs
            .iter()
            .map(|c| {
                json!(pick(
                    c,
                    &[
                        "type",
                        "status",
                        "lastUpdateTime",
                        "lastTransitionTime",
                        "reason",
                        "message"
                    ]
                ))
            })
            .collect();
        o.insert("conditions".into(), json!(cs));
    }
    if let Some(c) = st.get("canaryStatus").filter(|c| c.is_object()) {
        o.insert("canaryStatus".into(), json!(pick(c, canary_status_keys)));
    }
    o
}

const ROLLOUT_CANARY_STATUS: &[&str] = &[
    "observedWorkloadGeneration",
    "observedRolloutID",
    "rolloutHash",
    "stableRevision",
    "canaryRevision",
    "podTemplateHash",
    "canaryReplicas",
    "canaryReadyReplicas",
    "currentStepIndex",
    "currentStepState",
    "message",
    "lastUpdateTime",
    "finalisingStep",
    "nextStepIndex",
];

/// What both versions' canary strategies share, each step finished by `step` (its traffic).
fn canary_part(
    canary: &Value,
    step: impl Fn(&Value, &mut Map<String, Value>),
) -> Map<String, Value> {
    let steps: Vec<Value> = canary
        .get("steps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let mut o = pick(s, &["requestHeaderModifier", "replicas"]);
            step(s, &mut o);
            if let Some(m) = matches(s) {
                o.insert("matches".into(), m);
            }
            o.insert("pause".into(), pause(s));
            json!(o)
        })
        .collect();
    let mut c = pick(canary, &["failureThreshold", "patchPodTemplateMetadata"]);
    c.insert("steps".into(), json!(steps));
    if let Some(rs) = canary.get("trafficRoutings").and_then(Value::as_array) {
        let rs: Vec<Value> = rs.iter().map(routing).collect();
        c.insert("trafficRoutings".into(), json!(rs));
    }
    c
}

fn rollout_up(v: &Value) -> Value {
    let mut out = skeleton(v);
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let strategy = spec.get("strategy").cloned().unwrap_or(json!({}));
    let canary = strategy.get("canary").cloned().unwrap_or(json!({}));
    let mut c = canary_part(&canary, |s, o| {
        if let Some(w) = s.get("weight").and_then(Value::as_i64) {
            o.insert("traffic".into(), json!(format!("{w}%")));
            o.entry("replicas").or_insert(json!(format!("{w}%")));
        }
        if o.get("replicas").is_some_and(Value::is_null) {
            o.remove("replicas");
        }
    });
    let partition =
        annotation(v, ROLLING_STYLE).is_some_and(|s| s.eq_ignore_ascii_case("partition"));
    c.insert("enableExtraWorkloadForCanary".into(), json!(!partition));
    if let Some(t) = annotation(v, TRAFFIC_ROUTING).filter(|t| !t.is_empty()) {
        c.insert("trafficRoutingRef".into(), json!(t));
    }
    let mut s = pick(&strategy, &["paused"]);
    s.insert("canary".into(), json!(c));
    let mut sp = pick(&spec, &["disabled"]);
    sp.insert(
        "workloadRef".into(),
        workload_ref(spec.pointer("/objectRef/workloadRef")),
    );
    sp.insert("strategy".into(), json!(s));
    out.insert("spec".into(), json!(sp));
    if let Some(st) = v.get("status").filter(|s| s.is_object()) {
        let mut o = common_status(st, ROLLOUT_CANARY_STATUS);
        // The controller keeps the top-level copy of the step (v1beta1 only); so does this.
        if let Some(c) = o.get("canaryStatus").cloned() {
            o.insert(
                "currentStepIndex".into(),
                c.get("currentStepIndex").cloned().unwrap_or(json!(0)),
            );
            o.insert(
                "currentStepState".into(),
                c.get("currentStepState").cloned().unwrap_or(json!("")),
            );
        }
        out.insert("status".into(), json!(o));
    }
    Value::Object(out)
}

fn rollout_down(v: &Value) -> Value {
    let mut out = skeleton(v);
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let strategy = spec.get("strategy").cloned().unwrap_or(json!({}));
    let Some(canary) = strategy.get("canary").filter(|c| c.is_object()).cloned() else {
        // Blue-green has no v1alpha1 form: upstream keeps the metadata only.
        out.insert("spec".into(), json!({"objectRef": {}, "strategy": {}}));
        return Value::Object(out);
    };
    let c = canary_part(&canary, |s, o| {
        if let Some(w) = s.get("traffic").and_then(Value::as_str).and_then(weight_of) {
            o.insert("weight".into(), json!(w));
        }
    });
    let mut s = pick(&strategy, &["paused"]);
    s.insert("canary".into(), json!(c));
    let mut sp = pick(&spec, &["disabled"]);
    sp.insert(
        "objectRef".into(),
        json!({"workloadRef": workload_ref(spec.get("workloadRef"))}),
    );
    sp.insert("strategy".into(), json!(s));
    out.insert("spec".into(), json!(sp));
    let extra = canary.get("enableExtraWorkloadForCanary") == Some(&json!(true));
    set_annotation(
        &mut out,
        ROLLING_STYLE,
        if extra { "canary" } else { "partition" },
    );
    if let Some(t) = canary
        .get("trafficRoutingRef")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        set_annotation(&mut out, TRAFFIC_ROUTING, t);
    }
    if let Some(st) = v.get("status").filter(|s| s.is_object()) {
        out.insert(
            "status".into(),
            json!(common_status(st, ROLLOUT_CANARY_STATUS)),
        );
    }
    Value::Object(out)
}

const BR_CANARY_STATUS: &[&str] = &[
    "batchState",
    "currentBatch",
    "batchReadyTime",
    "updatedReplicas",
    "updatedReadyReplicas",
    "noNeedUpdateReplicas",
];

fn br_status(v: &Value) -> Option<Value> {
    let st = v.get("status").filter(|s| s.is_object())?;
    let mut o = common_status(st, BR_CANARY_STATUS);
    o.extend(pick(
        st,
        &[
            "stableRevision",
            "updateRevision",
            "observedRolloutID",
            "observedWorkloadReplicas",
            "observedReleasePlanHash",
            "collisionCount",
        ],
    ));
    Some(json!(o))
}

fn release_plan(plan: &Value) -> Map<String, Value> {
    let mut p = pick(
        plan,
        &[
            "batchPartition",
            "rolloutID",
            "failureThreshold",
            "finalizingPolicy",
            "patchPodTemplateMetadata",
            "enableExtraWorkloadForCanary",
        ],
    );
    let batches: Vec<Value> = plan
        .get("batches")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|b| json!(pick(b, &["canaryReplicas"])))
        .collect();
    p.insert("batches".into(), json!(batches));
    p.entry("enableExtraWorkloadForCanary")
        .or_insert(json!(false));
    p
}

fn batchrelease_up(v: &Value) -> Value {
    let mut out = skeleton(v);
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let mut plan = release_plan(spec.get("releasePlan").unwrap_or(&json!({})));
    let style = annotation(v, ROLLING_STYLE).unwrap_or("");
    for s in ["Partition", "Canary", "BlueGreen"] {
        if style.eq_ignore_ascii_case(s) {
            plan.insert("rollingStyle".into(), json!(s));
        }
    }
    out.insert(
        "spec".into(),
        json!({
            "workloadRef": workload_ref(spec.pointer("/targetReference/workloadRef")),
            "releasePlan": plan,
        }),
    );
    if let Some(st) = br_status(v) {
        out.insert("status".into(), st);
    }
    Value::Object(out)
}

fn batchrelease_down(v: &Value) -> Value {
    let mut out = skeleton(v);
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let src = spec.get("releasePlan").cloned().unwrap_or(json!({}));
    let mut plan = release_plan(&src);
    let style = src
        .get("rollingStyle")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !style.is_empty() {
        plan.insert("rollingStyle".into(), json!(style));
    }
    set_annotation(&mut out, ROLLING_STYLE, &style.to_lowercase());
    out.insert(
        "spec".into(),
        json!({
            "targetReference": {"workloadRef": workload_ref(spec.get("workloadRef"))},
            "releasePlan": plan,
        }),
    );
    if let Some(st) = br_status(v) {
        out.insert("status".into(), st);
    }
    Value::Object(out)
}

#[cfg(test)]
#[path = "rollout_wire_tests.rs"]
mod tests;
