//! CloneSet, `apps.kruise.io/v1alpha1` — the storage version in every released OpenKruise
//! (through v1.9.x). Field names, JSON names, int-or-string fields and enums as upstream; the
//! pod template and PVC templates are kept as sent.
//!
//! CRD: status and scale subresources (`kubectl scale cloneset/x` works), upstream's printer
//! columns, and CEL rules reproducing what OpenKruise v1.9.0's validating webhook refuses
//! (`pkg/webhook/cloneset/validating/validation.go`), after its mutating webhook's defaults:
//! replicas ≥ 0; a valid, non-empty, immutable selector that matches the template labels
//! (matchLabels and matchExpressions); restartPolicy Always and no activeDeadlineSeconds;
//! update type ReCreate / InPlaceIfPossible / InPlaceOnly; partition, maxUnavailable and maxSurge
//! as int32 or a float percentage (no upper bound), partition not negative once scaled,
//! maxSurge 0 under InPlaceOnly, maxUnavailable and maxSurge not both below 1 when replicas > 0;
//! unique podsToDelete and scatter terms; one priority kind with non-empty terms;
//! progressDeadlineSeconds ≥ 0 and above minReadySeconds. `controller::cloneset::validate` is the
//! same list in Rust, for objects that reached the cluster without these rules.

// kube's `printcolumn(...)` arguments repeat `type_ = "integer"` by design.
#![allow(clippy::duplicated_attributes)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::schema::PERCENT_SYNTAX;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::common::{
    InPlaceUpdateStrategy, Lifecycle, PodTemplate, UpdatePriorityStrategy, UpdateScatterTerm,
};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "apps.kruise.io",
    version = "v1alpha1",
    kind = "CloneSet",
    namespaced,
    status = "CloneSetStatus",
    derive = "PartialEq",
    derive = "Default",
    shortname = "clone",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.labelSelector"
    ),
    printcolumn(
        name = "DESIRED",
        type_ = "integer",
        json_path = ".spec.replicas",
        description = "The desired number of pods."
    ),
    printcolumn(
        name = "UPDATED",
        type_ = "integer",
        json_path = ".status.updatedReplicas",
        description = "The number of pods updated."
    ),
    printcolumn(
        name = "UPDATED_READY",
        type_ = "integer",
        json_path = ".status.updatedReadyReplicas",
        description = "The number of pods updated and ready."
    ),
    printcolumn(
        name = "UPDATED_AVAILABLE",
        type_ = "integer",
        json_path = ".status.updatedAvailableReplicas",
        description = "The number of pods updated and available."
    ),
    printcolumn(
        name = "READY",
        type_ = "integer",
        json_path = ".status.readyReplicas",
        description = "The number of pods ready."
    ),
    printcolumn(
        name = "TOTAL",
        type_ = "integer",
        json_path = ".status.replicas",
        description = "The number of currently all pods."
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "CONTAINERS",
        type_ = "string",
        json_path = ".spec.template.spec.containers[*].name",
        description = "The containers of currently cloneset.",
        priority = "1"
    ),
    printcolumn(
        name = "IMAGES",
        type_ = "string",
        json_path = ".spec.template.spec.containers[*].image",
        description = "The images of currently cloneset.",
        priority = "1"
    ),
    printcolumn(
        name = "SELECTOR",
        type_ = "string",
        json_path = ".status.labelSelector",
        description = "The selector of currently cloneset.",
        priority = "1"
    )
)]
#[schemars(transform = spec_rules)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetSpec {
    /// Desired number of pods (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,
    /// Must match the template's labels; immutable.
    #[schemars(schema_with = "crate::api::schema::immutable_valid_label_selector")]
    pub selector: LabelSelector,
    pub template: PodTemplate,
    /// PVCs created for every pod (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::preserved_objects")]
    pub volume_claim_templates: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_strategy: Option<CloneSetScaleStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy: Option<CloneSetUpdateStrategy>,
    /// ControllerRevisions kept (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<i32>,
    /// Seconds a new pod must be ready to count as available (not range-checked upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ready_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    /// Seconds before a stalled update is reported in the Progressing condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub progress_deadline_seconds: Option<i32>,
}

/// `spec.replicas` as the webhook sees it (defaulted to 1).
const REPLICAS: &str = "(has(self.replicas) ? self.replicas : 1)";
/// 2^63: Go's float64 → int conversion (amd64) turns this and above into MinInt64.
const TWO_POW_63: &str = "9.223372036854775808e18";

/// CEL for `util.GetScaledValueFromIntOrPercent(v, replicas, true)` on a percent string `v`,
/// before Go's `int(math.Ceil(…))`: `float(v without %) × replicas / 100`.
fn scaled(v: &str) -> String {
    format!("(double({v}.substring(0, size({v}) - 1)) * double({REPLICAS}) / 100.0)")
}

/// CEL: the int-or-percent `v`, scaled and rounded up, is < 0 (NaN and ≥ 2^63 convert to
/// MinInt64 on amd64, so they count as negative).
fn scaled_negative(v: &str) -> String {
    let x = scaled(v);
    format!(
        "(type({v}) == int ? {v} < 0 : ({v}.matches('{PERCENT_SYNTAX}') && !({x} > -1.0 && {x} < {TWO_POW_63})))"
    )
}

/// CEL: the int-or-percent `v`, scaled and rounded up, is ≥ 1. Unparsable strings count as 0,
/// as upstream's helper returns 0 with its error.
fn scaled_positive(v: &str) -> String {
    let x = scaled(v);
    format!(
        "(type({v}) == int ? {v} > 0 : ({v}.matches('{PERCENT_SYNTAX}') && {x} > 0.0 && {x} < {TWO_POW_63}))"
    )
}

/// What OpenKruise v1.9.0's CloneSet webhook (`validateCloneSetSpec`, `validateUpdateStrategy`)
/// refuses that needs more than one field, after its mutating webhook's defaults (replicas 1,
/// maxUnavailable 20%, maxSurge 0).
fn spec_rules(schema: &mut schemars::Schema) {
    let us = "self.updateStrategy";
    let partition = format!("{us}.partition");
    let max_unavailable = format!("{us}.maxUnavailable");
    let max_surge = format!("{us}.maxSurge");
    let labels = "self.template.metadata.labels";
    let has_labels = "(has(self.template.metadata) && has(self.template.metadata.labels))";
    let expressions_match = format!(
        "!has(self.selector.matchExpressions) || self.selector.matchExpressions.all(e, \
         e.operator == 'In' ? ({has_labels} && e.key in {labels} && has(e.values) && {labels}[e.key] in e.values) : \
         e.operator == 'NotIn' ? (!{has_labels} || !(e.key in {labels}) || !has(e.values) || !({labels}[e.key] in e.values)) : \
         e.operator == 'Exists' ? ({has_labels} && e.key in {labels}) : \
         e.operator == 'DoesNotExist' ? (!{has_labels} || !(e.key in {labels})) : true)"
    );
    let rules = [
        json!({
            "rule": "(has(self.selector.matchLabels) && size(self.selector.matchLabels) > 0) || (has(self.selector.matchExpressions) && size(self.selector.matchExpressions) > 0)",
            "message": "spec.selector must not be empty",
            "fieldPath": ".selector"
        }),
        json!({
            "rule": format!("!has(self.selector.matchLabels) || self.selector.matchLabels.all(k, {has_labels} && k in {labels} && {labels}[k] == self.selector.matchLabels[k])"),
            "message": "spec.selector does not match spec.template.metadata.labels",
            "fieldPath": ".selector"
        }),
        json!({
            "rule": expressions_match,
            "message": "spec.selector does not match spec.template.metadata.labels (matchExpressions)",
            "fieldPath": ".selector"
        }),
        json!({
            "rule": "!has(self.template.spec) || !has(self.template.spec.restartPolicy) || self.template.spec.restartPolicy == '' || self.template.spec.restartPolicy == 'Always'",
            "message": "spec.template.spec.restartPolicy: only Always is supported",
            "messageExpression": "'spec.template.spec.restartPolicy \"' + self.template.spec.restartPolicy + '\": only Always is supported'"
        }),
        json!({
            "rule": "!has(self.template.spec) || !has(self.template.spec.activeDeadlineSeconds)",
            "message": "spec.template.spec.activeDeadlineSeconds is forbidden in a CloneSet"
        }),
        json!({
            "rule": format!("!has({us}) || !has({partition}) || !{}", scaled_negative(&partition)),
            "message": "spec.updateStrategy.partition must not be negative (percentages are of spec.replicas, rounded up)",
            "messageExpression": format!("'spec.updateStrategy.partition \"' + string({partition}) + '\" must not be negative (percentages are of spec.replicas, rounded up)'"),
            "fieldPath": ".updateStrategy.partition"
        }),
        json!({
            "rule": format!("!has({us}) || !has({us}.type) || {us}.type != 'InPlaceOnly' || !has({max_surge}) || !{}", scaled_positive(&max_surge)),
            "message": "spec.updateStrategy.maxSurge must be 0 with type InPlaceOnly",
            "messageExpression": format!("'spec.updateStrategy.maxSurge \"' + string({max_surge}) + '\" must be 0 with type InPlaceOnly'"),
            "fieldPath": ".updateStrategy.maxSurge"
        }),
        json!({
            "rule": format!("{REPLICAS} <= 0 || !has({us}) || !has({max_unavailable}) || {} || (has({max_surge}) && {})", scaled_positive(&max_unavailable), scaled_positive(&max_surge)),
            "message": "spec.updateStrategy.maxUnavailable and maxSurge must not both be less than 1 (percentages are of spec.replicas, rounded up)",
            "messageExpression": format!("'spec.updateStrategy.maxUnavailable \"' + string({max_unavailable}) + '\" and maxSurge \"' + (has({max_surge}) ? string({max_surge}) : '0') + '\" must not both be less than 1 (percentages are of spec.replicas, rounded up)'"),
            "fieldPath": ".updateStrategy.maxUnavailable"
        }),
        json!({
            "rule": "!has(self.progressDeadlineSeconds) || self.progressDeadlineSeconds == 2147483647 || self.progressDeadlineSeconds > (has(self.minReadySeconds) ? self.minReadySeconds : 0)",
            "message": "spec.progressDeadlineSeconds must be greater than spec.minReadySeconds",
            "fieldPath": ".progressDeadlineSeconds"
        }),
    ];
    crate::api::schema::push_json_rules(schema, &rules);
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetScaleStrategy {
    /// Pods to delete first when scaling in (or to replace when replicas stay); a set, so the
    /// API server refuses a pod named twice, as upstream's webhook does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub pods_to_delete: Option<Vec<String>>,
    /// Most pods unavailable while scaling up (unset: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::int32_or_string")]
    pub max_unavailable: Option<IntOrString>,
    /// Do not reuse the PVCs of deleted pods.
    #[serde(
        rename = "disablePVCReuse",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_pvc_reuse: Option<bool>,
}

/// How pods are updated (v1alpha1).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum CloneSetUpdateStrategyType {
    /// Delete old pods and create new ones (the default).
    ReCreate,
    /// Update in place when only images (and labels/annotations) change, else recreate.
    InPlaceIfPossible,
    /// Only in-place updates; other template changes are refused.
    InPlaceOnly,
    /// Only pods deleted by someone else are recreated at the new revision.
    OnDelete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.priorityStrategy) || !has(self.priorityStrategy.weightPriority) || size(self.priorityStrategy.weightPriority) == 0 || !has(self.priorityStrategy.orderPriority) || size(self.priorityStrategy.orderPriority) == 0",
     "message": "spec.updateStrategy.priorityStrategy may set weightPriority or orderPriority, not both",
     "fieldPath": ".priorityStrategy"},
    {"rule": "!has(self.priorityStrategy) || !has(self.priorityStrategy.orderPriority) || self.priorityStrategy.orderPriority.all(o, size(o.orderedKey) > 0)",
     "message": "spec.updateStrategy.priorityStrategy.orderPriority: orderedKey must not be empty",
     "fieldPath": ".priorityStrategy"},
    {"rule": "!has(self.priorityStrategy) || !has(self.priorityStrategy.weightPriority) || self.priorityStrategy.weightPriority.all(w, (has(w.matchSelector.matchLabels) ? size(w.matchSelector.matchLabels) : 0) + (has(w.matchSelector.matchExpressions) ? size(w.matchSelector.matchExpressions) : 0) > 0)",
     "message": "spec.updateStrategy.priorityStrategy.weightPriority: matchSelector must not be empty",
     "fieldPath": ".priorityStrategy"},
    {"rule": "!has(self.scatterStrategy) || self.scatterStrategy.all(t, size(t.key) > 0)",
     "message": "spec.updateStrategy.scatterStrategy: key must not be empty",
     "fieldPath": ".scatterStrategy"}
]))]
pub struct CloneSetUpdateStrategy {
    /// Upstream's webhook accepts ReCreate, InPlaceIfPossible and InPlaceOnly only; `OnDelete`
    /// is kept in the type to read objects stored without it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "update_strategy_type")]
    pub type_: Option<CloneSetUpdateStrategyType>,
    /// Pods (number or percent of replicas) kept at old revisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::kruise_int_or_percent")]
    pub partition: Option<IntOrString>,
    /// Most pods unavailable during the update (default 20%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::kruise_int_or_percent")]
    pub max_unavailable: Option<IntOrString>,
    /// Extra pods created above replicas during the update (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::api::schema::kruise_int_or_percent")]
    pub max_surge: Option<IntOrString>,
    /// Stop updating pods (scaling continues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_strategy: Option<UpdatePriorityStrategy>,
    /// A set of (key, value) pairs: the API server refuses a pair given twice, as upstream's
    /// webhook does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["key", "value"]))]
    pub scatter_strategy: Option<Vec<UpdateScatterTerm>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_place_update_strategy: Option<InPlaceUpdateStrategy>,
}

fn update_strategy_type(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "enum": ["ReCreate", "InPlaceIfPossible", "InPlaceOnly"]
    })
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = required_clone_set_status)]
pub struct CloneSetStatus {
    /// The generation the controller last acted on.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    #[serde(default)]
    pub replicas: i32,
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default)]
    pub available_replicas: i32,
    #[serde(default)]
    pub updated_replicas: i32,
    #[serde(default)]
    pub updated_ready_replicas: i32,
    #[serde(default, skip_serializing_if = "none_or_zero")]
    pub updated_available_replicas: Option<i32>,
    /// Pods expected at the update revision once the partition is honoured.
    #[serde(default, skip_serializing_if = "none_or_zero")]
    pub expected_updated_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub update_revision: Option<String>,
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub current_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collision_count: Option<i32>,
    #[serde(default, skip_serializing_if = "none_or_empty_list")]
    pub conditions: Option<Vec<CloneSetCondition>>,
    /// The selector as a string, for the scale subresource.
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub label_selector: Option<String>,
}

/// A CloneSet condition: the workload condition shape plus `lastUpdateTime`, which the
/// Progressing condition's deadline is measured from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn required_clone_set_status(schema: &mut schemars::Schema) {
    crate::api::schema::require(
        schema,
        &[
            "replicas",
            "readyReplicas",
            "availableReplicas",
            "updatedReplicas",
            "updatedReadyReplicas",
        ],
    );
}

// Upstream's status fields are Go values with `omitempty`: zero numbers, empty strings and
// empty lists are left out of what it writes, and so of what we write (the status is written
// whole).
fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn none_or_zero(v: &Option<i32>) -> bool {
    v.is_none_or(|v| v == 0)
}

fn none_or_empty(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(str::is_empty)
}

fn none_or_empty_list<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_none_or(Vec::is_empty)
}
