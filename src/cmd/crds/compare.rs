//! How a cluster's CRD differs from ours, in terms that matter to a user: names and scope,
//! served and storage versions, conversion, subresources, printer columns, and per schema
//! field its shape (type, enum, default) and its validations. Descriptions are ignored.
//!
//! Each finding says whether it is a difference this tool chose on purpose (no conversion
//! webhook, only the storage version served, webhook rules as CEL validations, embedded
//! upstream types kept schemaless) or any other difference, which a user should look at.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion,
};
use serde::Serialize;
use serde_json::{Value, json};

/// Why a difference is one we chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Chosen {
    /// We serve without a conversion webhook (nothing would answer it without the operator).
    NoConversionWebhook,
    /// Only the storage version is served: the others need a conversion webhook.
    StorageVersionOnly,
    /// What upstream's validating webhooks refuse, written as CRD validations.
    Validation,
    /// An embedded upstream type (PVC, container, …) kept as sent instead of a full schema.
    Schemaless,
}

impl Chosen {
    pub fn why(self) -> &'static str {
        match self {
            Chosen::NoConversionWebhook => {
                "ours serves no conversion webhook (nothing answers it without the operator)"
            }
            Chosen::StorageVersionOnly => {
                "ours serves only the storage version (the others need a conversion webhook)"
            }
            Chosen::Validation => "ours encodes the operator's webhook checks as CRD validations",
            Chosen::Schemaless => "ours keeps this embedded type as sent, without its schema",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `conversion`, `versions`, `<version> columns`, `<version> spec.replicas`, …
    pub path: String,
    pub ours: String,
    pub cluster: String,
    /// None: a difference to look at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Chosen>,
}

impl Finding {
    fn new(path: impl Into<String>, ours: impl ToString, cluster: impl ToString) -> Self {
        Finding {
            path: path.into(),
            ours: ours.to_string(),
            cluster: cluster.to_string(),
            chosen: None,
        }
    }

    fn chosen(mut self, why: Chosen) -> Self {
        self.chosen = Some(why);
        self
    }

    /// One line: `path: ours … | cluster …` and, for chosen ones, why.
    pub fn line(&self) -> String {
        let tag = if self.chosen.is_some() {
            "chosen"
        } else {
            "differs"
        };
        let mut s = format!(
            "{tag:7} {}: ours {} | cluster {}",
            self.path, self.ours, self.cluster
        );
        if let Some(c) = self.chosen {
            s.push_str(&format!(" ({})", c.why()));
        }
        s
    }
}

fn show<T: Serialize>(v: &T) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > 100 {
        format!("{}…", s.chars().take(99).collect::<String>())
    } else {
        s
    }
}

fn none_if_empty(s: String) -> String {
    if s.is_empty() || s == "null" || s == "[]" {
        "(none)".into()
    } else {
        s
    }
}

/// Every difference between our CRD and the cluster's that a user could notice.
pub fn compare(
    ours: &CustomResourceDefinition,
    cluster: &CustomResourceDefinition,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (o, c) = (&ours.spec, &cluster.spec);
    if o.scope != c.scope {
        out.push(Finding::new("scope", &o.scope, &c.scope));
    }
    let names = |n: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionNames| {
        let mut short = n.short_names.clone().unwrap_or_default();
        short.sort();
        let mut cat = n.categories.clone().unwrap_or_default();
        cat.sort();
        json!({"kind": n.kind, "plural": n.plural,
               "singular": n.singular.clone().unwrap_or_else(|| n.kind.to_lowercase()),
               "shortNames": short, "categories": cat})
    };
    let (on, cn) = (names(&o.names), names(&c.names));
    for k in ["kind", "plural", "singular", "shortNames", "categories"] {
        if on[k] != cn[k] {
            out.push(Finding::new(
                format!("names.{k}"),
                none_if_empty(on[k].to_string()),
                none_if_empty(cn[k].to_string()),
            ));
        }
    }

    let strategy = |crd: &CustomResourceDefinition| {
        crd.spec
            .conversion
            .as_ref()
            .map(|c| c.strategy.clone())
            .unwrap_or_else(|| "None".into())
    };
    let (os, cs) = (strategy(ours), strategy(cluster));
    if os != cs {
        let f = Finding::new("conversion", &os, &cs);
        out.push(if os == "None" && cs == "Webhook" {
            f.chosen(Chosen::NoConversionWebhook)
        } else {
            f
        });
    }

    let served = |vs: &[CustomResourceDefinitionVersion]| -> BTreeMap<String, (bool, bool)> {
        vs.iter()
            .map(|v| (v.name.clone(), (v.served, v.storage)))
            .collect()
    };
    let (ov, cv) = (served(&o.versions), served(&c.versions));
    let storage = |m: &BTreeMap<String, (bool, bool)>| {
        m.iter()
            .find(|(_, (_, s))| *s)
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    };
    let (ost, cst) = (storage(&ov), storage(&cv));
    if ost != cst {
        out.push(Finding::new("storage version", &ost, &cst));
    }
    let all: BTreeSet<&String> = ov.keys().chain(cv.keys()).collect();
    for v in all {
        let (os, cs) = (
            ov.get(v).is_some_and(|(s, _)| *s),
            cv.get(v).is_some_and(|(s, _)| *s),
        );
        if os != cs {
            let word = |b: bool| if b { "served" } else { "not served" };
            let f = Finding::new(format!("version {v}"), word(os), word(cs));
            // The operator serves its other versions through its conversion webhook.
            out.push(if !os && *v != cst && cs && c.versions.len() > 1 {
                f.chosen(Chosen::StorageVersionOnly)
            } else {
                f
            });
        }
    }

    for ovr in o.versions.iter().filter(|v| v.served) {
        let Some(cvr) = c.versions.iter().find(|v| v.name == ovr.name && v.served) else {
            continue;
        };
        compare_version(ovr, cvr, &mut out);
    }
    out
}

fn compare_version(
    o: &CustomResourceDefinitionVersion,
    c: &CustomResourceDefinitionVersion,
    out: &mut Vec<Finding>,
) {
    let v = &o.name;
    let sub = |x: &CustomResourceDefinitionVersion| {
        let s = x.subresources.as_ref();
        json!({
            "status": s.and_then(|s| s.status.as_ref()).is_some(),
            "scale": s.and_then(|s| s.scale.as_ref()).map(|sc| json!({
                "specReplicasPath": sc.spec_replicas_path,
                "statusReplicasPath": sc.status_replicas_path,
                "labelSelectorPath": sc.label_selector_path,
            })),
        })
    };
    let (os, cs) = (sub(o), sub(c));
    for k in ["status", "scale"] {
        if os[k] != cs[k] {
            out.push(Finding::new(
                format!("{v} subresources.{k}"),
                none_if_empty(show(&os[k])),
                none_if_empty(show(&cs[k])),
            ));
        }
    }

    let columns = |x: &CustomResourceDefinitionVersion| -> Vec<String> {
        x.additional_printer_columns
            .iter()
            .flatten()
            .map(|col| {
                format!(
                    "{}={}:{}{}",
                    col.name,
                    col.json_path,
                    col.type_,
                    col.priority
                        .filter(|p| *p != 0)
                        .map(|p| format!(",priority {p}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    };
    let (oc, cc) = (columns(o), columns(c));
    if oc != cc {
        out.push(Finding::new(
            format!("{v} printer columns"),
            none_if_empty(oc.join(" ")),
            none_if_empty(cc.join(" ")),
        ));
    }

    let schema = |x: &CustomResourceDefinitionVersion| {
        x.schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
            .unwrap_or(Value::Null)
    };
    let (ofields, cfields) = (flatten(&schema(o)), flatten(&schema(c)));
    compare_fields(v, &ofields, &cfields, out);
}

/// One schema node, without descriptions: what it accepts (`shape`) and what it refuses
/// beyond that (`rules`).
#[derive(Debug, Clone, PartialEq)]
struct Field {
    shape: Value,
    rules: BTreeMap<String, Value>,
    /// `x-kubernetes-preserve-unknown-fields`: anything below is kept as sent.
    open: bool,
}

const RULE_KEYS: &[&str] = &[
    "x-kubernetes-validations",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "oneOf",
    "not",
];

fn flatten(schema: &Value) -> BTreeMap<String, Field> {
    let mut out = BTreeMap::new();
    walk(schema, "", &mut out);
    out
}

fn walk(s: &Value, path: &str, out: &mut BTreeMap<String, Field>) {
    let int_or_string = s["x-kubernetes-int-or-string"] == json!(true);
    let ty = if int_or_string {
        json!("int-or-string")
    } else {
        s["type"].clone()
    };
    let mut shape = json!({"type": ty});
    for k in [
        "enum",
        "default",
        "nullable",
        "format",
        "x-kubernetes-embedded-resource",
    ] {
        if let Some(v) = s.get(k) {
            let mut v = v.clone();
            if k == "enum"
                && let Some(a) = v.as_array_mut()
            {
                a.sort_by_key(|x| x.to_string());
            }
            shape[k] = v;
        }
    }
    let mut rules = BTreeMap::new();
    for k in RULE_KEYS {
        // Atomic is what a list is without a list type; an atomic map only changes how
        // server-side apply merges it, not what is accepted.
        if k.ends_with("-type") && s.get(*k) == Some(&json!("atomic")) {
            continue;
        }
        if let Some(v) = s.get(*k) {
            let mut v = v.clone();
            if *k == "required"
                && let Some(a) = v.as_array_mut()
            {
                a.sort_by_key(|x| x.to_string());
            }
            rules.insert((*k).to_string(), v);
        }
    }
    let open = s["x-kubernetes-preserve-unknown-fields"] == json!(true);
    out.insert(path.to_string(), Field { shape, rules, open });
    if let Some(props) = s["properties"].as_object() {
        for (k, v) in props {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            walk(v, &p, out);
        }
    }
    if s["items"].is_object() {
        walk(&s["items"], &format!("{path}[]"), out);
    }
    if s["additionalProperties"].is_object() {
        walk(&s["additionalProperties"], &format!("{path}{{}}"), out);
    }
}

/// The nearest ancestor (or the path itself) that keeps unknown fields, in `fields`.
fn open_ancestor<'a>(path: &'a str, fields: &BTreeMap<String, Field>) -> Option<&'a str> {
    let mut p = path;
    loop {
        if fields.get(p).is_some_and(|f| f.open) {
            return Some(p);
        }
        let cut = p.rfind(['.', '[', '{'])?;
        p = &p[..cut];
    }
}

fn parent_reported(path: &str, reported: &BTreeSet<String>) -> bool {
    reported.iter().any(|r| {
        path.len() > r.len()
            && path.starts_with(r.as_str())
            && matches!(path.as_bytes()[r.len()], b'.' | b'[' | b'{')
    })
}

fn compare_fields(
    v: &str,
    ours: &BTreeMap<String, Field>,
    cluster: &BTreeMap<String, Field>,
    out: &mut Vec<Finding>,
) {
    let label = |p: &str| {
        if p.is_empty() {
            format!("{v} (root)")
        } else {
            format!("{v} {p}")
        }
    };
    // Subtrees reported once at their top.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let paths: BTreeSet<&String> = ours.keys().chain(cluster.keys()).collect();
    for p in paths {
        if parent_reported(p, &reported) {
            continue;
        }
        match (ours.get(p), cluster.get(p)) {
            (Some(o), Some(c)) => {
                if o.shape != c.shape {
                    let f = Finding::new(label(p), show(&o.shape), show(&c.shape));
                    out.push(match shape_choice(o, c) {
                        Some(why) => f.chosen(why),
                        None => f,
                    });
                }
                if o.rules != c.rules {
                    let extra_only = c.rules.iter().all(|(k, cv)| {
                        o.rules.get(k) == Some(cv)
                            || (k == "required" && o.rules.get(k).is_some_and(|ov| subset(cv, ov)))
                    });
                    let f = Finding::new(
                        format!("{} validations", label(p)),
                        none_if_empty(show(&o.rules)),
                        none_if_empty(show(&c.rules)),
                    );
                    out.push(if extra_only {
                        f.chosen(Chosen::Validation)
                    } else {
                        f
                    });
                }
                if o.open != c.open {
                    let kept = |b: bool| if b { "keeps unknown fields" } else { "schema" };
                    let f = Finding::new(label(p), kept(o.open), kept(c.open));
                    // A list of objects kept as sent, where upstream keeps the list schemaless.
                    out.push(if c.open && o.shape["type"] == json!("array") {
                        f.chosen(Chosen::Schemaless)
                    } else {
                        f
                    });
                }
            }
            (Some(o), None) => {
                reported.insert(p.clone());
                let f = Finding::new(label(p), show(&o.shape), "(not declared)");
                // Structure we declare inside a field the cluster keeps as sent only
                // bounds it for validation rules.
                out.push(if open_ancestor(p, cluster).is_some() {
                    f.chosen(Chosen::Validation)
                } else {
                    f
                });
            }
            (None, Some(c)) => {
                reported.insert(p.clone());
                let f = Finding::new(label(p), "(not declared)", show(&c.shape));
                out.push(if open_ancestor(p, ours).is_some() {
                    f.chosen(Chosen::Schemaless)
                } else {
                    f
                });
            }
            (None, None) => {}
        }
    }
}

/// A shape difference we made on purpose: an enum the operator's webhook enforces, or a
/// field upstream leaves schemaless that ours gives a type (an object to hang validations
/// on, a list of objects kept as sent).
fn shape_choice(o: &Field, c: &Field) -> Option<Chosen> {
    let mut without_enum = o.shape.clone();
    if let Some(m) = without_enum.as_object_mut() {
        m.remove("enum");
    }
    if without_enum == c.shape {
        return Some(Chosen::Validation);
    }
    if c.open && c.shape["type"].is_null() && o.shape["type"] == json!("object") {
        return Some(Chosen::Validation);
    }
    if c.open && c.shape["type"].is_null() && o.shape["type"] == json!("array") {
        return Some(Chosen::Schemaless);
    }
    None
}

fn subset(small: &Value, big: &Value) -> bool {
    match (small.as_array(), big.as_array()) {
        (Some(s), Some(b)) => s.iter().all(|x| b.contains(x)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api;

    fn crd(v: Value) -> CustomResourceDefinition {
        serde_json::from_value(v).unwrap()
    }

    /// Our CRD as an operator's chart would ship it: a second served version, a conversion
    /// webhook, no CEL rules, descriptions changed.
    fn upstream_like(ours: &CustomResourceDefinition) -> CustomResourceDefinition {
        let mut v = serde_json::to_value(ours).unwrap();
        fn strip(x: &mut Value) {
            match x {
                Value::Object(m) => {
                    m.remove("x-kubernetes-validations");
                    if m.contains_key("description") {
                        m.insert("description".into(), json!("upstream words"));
                    }
                    m.values_mut().for_each(strip);
                }
                Value::Array(a) => a.iter_mut().for_each(strip),
                _ => {}
            }
        }
        strip(&mut v["spec"]["versions"]);
        let mut old = v["spec"]["versions"][0].clone();
        old["name"] = json!("v1alpha0");
        old["storage"] = json!(false);
        v["spec"]["versions"].as_array_mut().unwrap().push(old);
        v["spec"]["conversion"] = json!({"strategy": "Webhook", "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": "kruise-webhook-service", "namespace": "kruise-system", "path": "/convert"}}}});
        crd(v)
    }

    #[test]
    fn our_crds_compare_equal_to_themselves() {
        for c in api::crds() {
            assert_eq!(compare(&c, &c), vec![]);
        }
    }

    #[test]
    fn an_operator_style_crd_differs_only_in_what_we_chose() {
        for c in api::crds() {
            let theirs = upstream_like(&c);
            let found = compare(&c, &theirs);
            assert!(!found.is_empty());
            for f in &found {
                assert!(f.chosen.is_some(), "{}: {}", c.spec.names.kind, f.line());
            }
            assert!(
                found
                    .iter()
                    .any(|f| f.chosen == Some(Chosen::NoConversionWebhook))
            );
            assert!(
                found
                    .iter()
                    .any(|f| f.chosen == Some(Chosen::StorageVersionOnly))
            );
        }
    }

    #[test]
    fn real_differences_are_not_called_chosen() {
        let ours = api::crds()
            .into_iter()
            .find(|c| c.spec.names.kind == "CloneSet")
            .unwrap();
        let mut v = serde_json::to_value(&ours).unwrap();
        let spec = &mut v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        spec["properties"]
            .as_object_mut()
            .unwrap()
            .remove("minReadySeconds");
        spec["properties"]["replicas"]["type"] = json!("string");
        spec["properties"]["paused"] = json!({"type": "boolean"});
        v["spec"]["versions"][0]["additionalPrinterColumns"]
            .as_array_mut()
            .unwrap()
            .pop();
        v["spec"]["versions"][0]["subresources"]
            .as_object_mut()
            .unwrap()
            .remove("scale");
        v["spec"]["names"]["shortNames"] = json!(["cln"]);
        let found = compare(&ours, &crd(v));
        let lines: Vec<String> = found.iter().map(Finding::line).collect();
        let differs = |needle: &str| {
            assert!(
                found
                    .iter()
                    .any(|f| f.chosen.is_none() && f.path.contains(needle)),
                "{needle} not reported as a difference: {lines:#?}"
            )
        };
        differs("spec.minReadySeconds");
        differs("spec.replicas");
        differs("spec.paused");
        differs("printer columns");
        differs("subresources.scale");
        differs("names.shortNames");
    }

    #[test]
    fn embedded_types_kept_as_sent_are_chosen() {
        let ours = crd(
            json!({"metadata": {"name": "xs.g"}, "spec": {"group": "g", "scope": "Namespaced",
            "names": {"kind": "X", "plural": "xs"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"spec": {"type": "object", "properties": {
                    "pvc": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}}}]}}),
        );
        let mut theirs = serde_json::to_value(&ours).unwrap();
        theirs["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["pvc"] = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"storageClassName": {"type": "string"}}}}});
        let found = compare(&ours, &crd(theirs));
        let lines: Vec<String> = found.iter().map(Finding::line).collect();
        // One line for the subtree, and the open/closed difference at its top.
        assert!(
            found
                .iter()
                .any(|f| f.path == "v1 spec.pvc.spec" && f.chosen == Some(Chosen::Schemaless)),
            "{lines:#?}"
        );
        assert!(
            !found.iter().any(|f| f.path.contains("storageClassName")),
            "{lines:#?}"
        );
    }
}
