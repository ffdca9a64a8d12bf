//! OpenAPI schema pieces the derived schemas cannot express: int-or-percent fields with the
//! CEL rules upstream's validating webhooks enforce, label maps bounded so CEL rules stay
//! within the API server's cost budget, and pod templates that keep unknown fields.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

/// Largest label map the CRDs accept on selectors; the API server refuses CEL rules over
/// unbounded maps ("estimated rule cost exceeds budget").
pub const MAX_SELECTOR_LABELS: u64 = 64;
/// Largest label map on pod templates.
pub const MAX_TEMPLATE_LABELS: u64 = 256;

fn with_rules(mut schema: Value, rules: &[(&str, &str)]) -> Schema {
    if !rules.is_empty() {
        schema["x-kubernetes-validations"] = Value::Array(
            rules
                .iter()
                .map(|(rule, message)| json!({"rule": rule, "message": message}))
                .collect(),
        );
    }
    Schema::try_from(schema).expect("a schema object")
}

fn int_or_string(rules: &[(&str, &str)]) -> Schema {
    with_rules(
        json!({
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": true,
            "maxLength": 32
        }),
        rules,
    )
}

/// The percent Kruise's webhooks accept: a number from 0 to 100, decimals allowed, then `%`.
/// (`[.]`, not `\.`: a backslash is an escape inside CEL's quoted strings.)
const PERCENT_0_100: &str = r"^(100([.]0+)?|[0-9]{1,2}([.][0-9]+)?)%$";

/// Non-negative integer or a percent from 0% to 100% (`partition`, `maxUnavailable`, `maxSurge`).
pub fn int_or_percent(_: &mut SchemaGenerator) -> Schema {
    int_or_string(&[(
        &format!("type(self) == int ? self >= 0 : self.matches('{PERCENT_0_100}')"),
        "must be a non-negative integer or a percentage from 0% to 100% (e.g. 2 or \"20%\")",
    )])
}

/// Int or percent with no range rule (upstream does not validate these, e.g.
/// `scaleStrategy.maxUnavailable`); still refuses text that is neither.
pub fn int_or_any_percent(_: &mut SchemaGenerator) -> Schema {
    int_or_string(&[(
        "type(self) == int ? self >= 0 : self.matches('^[0-9]+([.][0-9]+)?%$')",
        "must be a non-negative integer or a percentage (e.g. 1 or \"10%\")",
    )])
}

fn label_map(max: u64) -> Value {
    json!({
        "type": "object",
        "maxProperties": max,
        "additionalProperties": {"type": "string", "maxLength": 63}
    })
}

/// A metav1.LabelSelector whose maps are bounded (for CEL).
pub fn label_selector(_: &mut SchemaGenerator) -> Schema {
    Schema::try_from(json!({
        "type": "object",
        "properties": {
            "matchLabels": label_map(MAX_SELECTOR_LABELS),
            "matchExpressions": {
                "type": "array",
                "maxItems": 64,
                "x-kubernetes-list-type": "atomic",
                "items": {
                    "type": "object",
                    "required": ["key", "operator"],
                    "properties": {
                        "key": {"type": "string", "maxLength": 317},
                        "operator": {"type": "string", "maxLength": 16},
                        "values": {"type": "array", "maxItems": 256, "x-kubernetes-list-type": "atomic", "items": {"type": "string", "maxLength": 63}}
                    }
                }
            }
        },
        "x-kubernetes-map-type": "atomic"
    }))
    .expect("a schema object")
}

/// A pod template: stored as sent (unknown fields kept, like upstream's schemaless template),
/// with just enough structure for the CEL rules: `metadata.labels` (selector matches template),
/// `spec.restartPolicy`, `spec.activeDeadlineSeconds` and `spec.readinessGates`.
pub fn pod_template(_: &mut SchemaGenerator) -> Schema {
    Schema::try_from(json!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "metadata": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {"labels": label_map(MAX_TEMPLATE_LABELS)}
            },
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "restartPolicy": {"type": "string", "maxLength": 16},
                    "activeDeadlineSeconds": {"type": "integer", "format": "int64"},
                    "readinessGates": {
                        "type": "array",
                        "maxItems": 64,
                        "items": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                            "properties": {"conditionType": {"type": "string", "maxLength": 316}}
                        }
                    }
                }
            }
        }
    }))
    .expect("a schema object")
}

/// Appends CEL rules to a schema (for `#[schemars(transform = …)]` functions).
pub fn push_rules(schema: &mut Schema, rules: &[(&str, &str)]) {
    let list = schema
        .ensure_object()
        .entry("x-kubernetes-validations")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(a) = list {
        for (rule, message) in rules {
            a.push(json!({"rule": rule, "message": message}));
        }
    }
}

/// The webhook rules every workload spec (`selector` + `template`) shares: a non-empty
/// selector that matches the template's labels. (`transform` on the spec type.)
pub fn selector_rules(schema: &mut Schema) {
    push_rules(
        schema,
        &[
            (
                "(has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0)",
                "spec.selector must not be empty",
            ),
            (
                "!has(self.selector.matchLabels) || self.selector.matchLabels.all(k, has(self.template.metadata) && has(self.template.metadata.labels) && k in self.template.metadata.labels && self.template.metadata.labels[k] == self.selector.matchLabels[k])",
                "spec.selector does not match spec.template.metadata.labels",
            ),
        ],
    );
}

/// Workload rules plus what upstream checks of a long-running pod template: restartPolicy
/// Always and no activeDeadlineSeconds.
pub fn long_running_workload_rules(schema: &mut Schema) {
    selector_rules(schema);
    push_rules(
        schema,
        &[
            (
                "!has(self.template.spec) || !has(self.template.spec.restartPolicy) || self.template.spec.restartPolicy == 'Always'",
                "spec.template.spec.restartPolicy: only Always is supported",
            ),
            (
                "!has(self.template.spec) || !has(self.template.spec.activeDeadlineSeconds)",
                "spec.template.spec.activeDeadlineSeconds is forbidden",
            ),
        ],
    );
}

/// The template carries the `InPlaceUpdateReady` readiness gate (CEL expression over `self`,
/// a spec with a `template`).
pub const HAS_INPLACE_GATE: &str = "has(self.template.spec) && has(self.template.spec.readinessGates) && self.template.spec.readinessGates.exists(g, has(g.conditionType) && g.conditionType == 'InPlaceUpdateReady')";

/// Objects kept exactly as sent (PVC templates, and other embedded upstream types).
pub fn preserved_objects(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
    })
}

/// An object kept exactly as sent.
pub fn preserved_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

/// Marks fields required (upstream's fields without `omitempty`), where serde's `default`
/// keeps them optional for reading.
pub fn require(schema: &mut Schema, fields: &[&str]) {
    let list = schema
        .ensure_object()
        .entry("required")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(a) = list {
        for f in fields {
            if !a.iter().any(|x| x == f) {
                a.push(Value::String((*f).to_string()));
            }
        }
    }
}
