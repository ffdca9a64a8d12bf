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

/// A Kubernetes qualified name (label key): an optional DNS-subdomain prefix and `/`, then a
/// name of at most 63 characters (apimachinery `IsQualifiedName`). The prefix's 253-character
/// limit is checked apart (`indexOf('/') <= 253`).
pub const QUALIFIED_NAME: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$";
/// A label value: empty, or at most 63 characters (apimachinery `IsValidLabelValue`).
pub const LABEL_VALUE: &str = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";

/// The text Go's `strconv.ParseFloat` may accept, then `%` (a superset: decimal with `_`
/// separators, hex with a `p` exponent, `inf`/`infinity`/`nan`). Strings outside it are refused
/// with a plain message; strings inside it that Go still refuses make CEL's `double()` fail,
/// which refuses them too.
pub const PERCENT_SYNTAX: &str = r"^[+-]?([0-9_.]*[0-9][0-9_.]*([eE][+-]?[0-9_]+)?|0[xX][0-9a-fA-F_.]+([pP][+-]?[0-9_]+)?|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])%$";

/// An int-or-string as OpenKruise's CloneSet webhook reads it (`util.GetScaledValueFromIntOrPercent`):
/// any int32, or a string ending in `%` whose rest parses as a float. Range checks need the
/// replicas and sit on the spec.
pub fn kruise_int_or_percent(_: &mut SchemaGenerator) -> Schema {
    let mut schema = int_or_string(&[]);
    push_json_rules(
        &mut schema,
        &[
            json!({
                "rule": format!("type(self) == int || self.matches('{PERCENT_SYNTAX}')"),
                "message": "must be an integer or a percentage (e.g. 2 or \"20%\")",
                "messageExpression": "'\"' + string(self) + '\" must be an integer or a percentage (e.g. 2 or \"20%\")'"
            }),
            json!({
                "rule": "type(self) != int || (self >= -2147483648 && self <= 2147483647)",
                "message": "must fit in 32 bits"
            }),
        ],
    );
    schema
}

/// An int-or-string upstream does not validate at all (CloneSet `scaleStrategy.maxUnavailable`):
/// any int32 or any string.
pub fn int32_or_string(_: &mut SchemaGenerator) -> Schema {
    int_or_string(&[(
        "type(self) != int || (self >= -2147483648 && self <= 2147483647)",
        "must fit in 32 bits",
    )])
}

/// A metav1.LabelSelector as `ValidateLabelSelector` / `LabelSelectorAsSelector` accept it:
/// label keys are qualified names, values valid label values, operators In / NotIn / Exists /
/// DoesNotExist, In and NotIn with values, Exists and DoesNotExist without.
pub fn valid_label_selector(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = label_selector(generator);
    let key_rule = format!("self.indexOf('/') <= 253 && self.matches('{QUALIFIED_NAME}')");
    let key_message = "label keys must be qualified names: an optional DNS subdomain prefix and \"/\", then at most 63 letters, digits, \"-\", \"_\" or \".\", starting and ending with a letter or digit";
    let value_message = "label values must be empty or at most 63 letters, digits, \"-\", \"_\" or \".\", starting and ending with a letter or digit";
    let v = schema.as_object_mut().expect("an object schema");
    let props = &mut v["properties"];
    props["matchLabels"]["x-kubernetes-validations"] = json!([
        {"rule": format!("self.all(k, k.indexOf('/') <= 253 && k.matches('{QUALIFIED_NAME}'))"), "message": key_message},
        {"rule": format!("self.all(k, self[k].matches('{LABEL_VALUE}'))"), "message": value_message}
    ]);
    let expr = &mut props["matchExpressions"]["items"];
    expr["properties"]["key"]["x-kubernetes-validations"] = json!([
        {"rule": key_rule, "message": key_message,
         "messageExpression": format!("'\"' + self + '\": {key_message}'")}
    ]);
    expr["properties"]["operator"]["enum"] = json!(["In", "NotIn", "Exists", "DoesNotExist"]);
    expr["properties"]["values"]["x-kubernetes-validations"] = json!([
        {"rule": format!("self.all(v, v.matches('{LABEL_VALUE}'))"), "message": value_message}
    ]);
    expr["x-kubernetes-validations"] = json!([
        {"rule": "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
         "message": "values must be given when operator is In or NotIn", "fieldPath": ".values"},
        {"rule": "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
         "message": "values must be empty when operator is Exists or DoesNotExist", "fieldPath": ".values"}
    ]);
    schema
}

/// A CloneSet's selector: valid, and immutable once created (upstream's update webhook lets
/// only replicas, template, lifecycle, scaleStrategy, updateStrategy, minReadySeconds,
/// progressDeadlineSeconds, volumeClaimTemplates and revisionHistoryLimit change). Compared as
/// Go's semantic equality does: an absent map or list equals an empty one.
pub fn immutable_valid_label_selector(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = valid_label_selector(generator);
    let labels = |s: &str| format!("(has({s}.matchLabels) ? {s}.matchLabels : {{}})");
    let exprs = |s: &str, f: &str| {
        format!("(has({s}.matchExpressions) ? {s}.matchExpressions.map(e, {f}) : [])")
    };
    let same = |f: &str| format!("{} == {}", exprs("self", f), exprs("oldSelf", f));
    let rule = format!(
        "{} == {} && {} && {} && {}",
        labels("self"),
        labels("oldSelf"),
        same("e.key"),
        same("e.operator"),
        same("has(e.values) ? e.values : []"),
    );
    push_json_rules(
        &mut schema,
        &[json!({
            "rule": rule,
            "message": "spec.selector is immutable: after creation only replicas, template, lifecycle, scaleStrategy, updateStrategy, minReadySeconds, progressDeadlineSeconds, volumeClaimTemplates and revisionHistoryLimit may change"
        })],
    );
    schema
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

/// Appends CEL rules given as whole JSON objects (with `fieldPath`, `messageExpression`, …).
pub fn push_json_rules(schema: &mut Schema, rules: &[Value]) {
    let list = schema
        .ensure_object()
        .entry("x-kubernetes-validations")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(a) = list {
        a.extend(rules.iter().cloned());
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
