//! What OpenKruise v1.9.0's DaemonSet webhooks do, client-side: the mutating webhook's
//! defaults (`SetDefaultsDaemonSetV1beta1`: burstReplicas 250, RollingUpdate, rollingUpdate
//! `Standard` with maxUnavailable 1 / maxSurge 0 when neither is set, revisionHistoryLimit 10)
//! and what the validating webhook refuses (`pkg/webhook/daemonset/validating`), checked on
//! the defaulted object as the webhook sees it.
//!
//! The defaults are applied in memory on every pass, never written back: unlike the
//! CloneSet's, they do not touch the pod template, so the revision does not depend on them.
//! Not here: Kubernetes' full pod template validation (the API server still validates every
//! pod we create).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::daemonset::{
    DaemonSet, DaemonSetUpdateStrategy, DaemonSetUpdateStrategyType, RollingUpdateDaemonSet,
    RollingUpdateType,
};
use crate::controller::cloneset::validate::{Invalid, selector_size, validate_selector};

/// The spec with the mutating webhook's defaults filled in.
pub fn defaults(ds: &DaemonSet) -> DaemonSet {
    let mut ds = ds.clone();
    let spec = &mut ds.spec;
    spec.burst_replicas.get_or_insert(IntOrString::Int(250));
    spec.revision_history_limit.get_or_insert(10);
    let us = spec
        .update_strategy
        .get_or_insert_with(DaemonSetUpdateStrategy::default);
    let t = *us
        .type_
        .get_or_insert(DaemonSetUpdateStrategyType::RollingUpdate);
    if t == DaemonSetUpdateStrategyType::RollingUpdate {
        let ru = us
            .rolling_update
            .get_or_insert_with(RollingUpdateDaemonSet::default);
        ru.type_.get_or_insert(RollingUpdateType::Standard);
        if ru.max_unavailable.is_none() && ru.max_surge.is_none() {
            ru.max_unavailable = Some(IntOrString::Int(1));
            ru.max_surge = Some(IntOrString::Int(0));
        }
    }
    ds
}

/// Everything the validating webhook refuses in `ds` (defaulted), in its order.
pub fn validate(ds: &DaemonSet) -> Result<(), Vec<Invalid>> {
    let mut errs = Vec::new();
    let spec = &ds.spec;
    let sel = &spec.selector;
    let selector_ok = validate_selector(sel, "spec.selector", &mut errs);
    let labels = spec.template.labels();
    if selector_ok && !crate::controller::selector::matches(sel, &labels).unwrap_or(false) {
        errs.push(Invalid::new(
            "spec.template.metadata.labels",
            &labels,
            "`selector` does not match template `labels`",
        ));
    }
    if selector_size(sel) == 0 {
        errs.push(Invalid::new(
            "spec.selector",
            sel,
            "empty selector is invalid for daemonset",
        ));
    }
    template(ds, &mut errs);
    non_negative(spec.min_ready_seconds, "spec.minReadySeconds", &mut errs);
    non_negative(
        spec.revision_history_limit,
        "spec.revisionHistoryLimit",
        &mut errs,
    );
    if let Some(h) = spec
        .lifecycle
        .as_ref()
        .and_then(|l| l.in_place_update.as_ref())
    {
        errs.push(Invalid::new(
            "spec.lifecycle.inPlaceUpdate",
            h,
            "inPlaceUpdate hook has not supported yet",
        ));
    }
    update_strategy(ds, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn non_negative(v: Option<i32>, field: &str, errs: &mut Vec<Invalid>) {
    if let Some(v) = v.filter(|v| *v < 0) {
        errs.push(Invalid::new(
            field,
            &v,
            "must be greater than or equal to 0",
        ));
    }
}

/// The template: a pod template at all, restartPolicy Always (empty is defaulted to it), no
/// activeDeadlineSeconds.
fn template(ds: &DaemonSet, errs: &mut Vec<Invalid>) {
    if let Err(e) = ds.spec.template.typed() {
        errs.push(Invalid::new(
            "spec.template",
            &"<pod template>",
            format!("is not a valid pod template: {e}"),
        ));
    }
    let tspec = ds.spec.template.0.get("spec");
    match tspec.and_then(|s| s.get("restartPolicy")) {
        None | Some(serde_json::Value::Null) => {}
        Some(p) if p == "" || p == "Always" => {}
        Some(p) => errs.push(Invalid::new(
            "spec.template.spec.restartPolicy",
            p,
            "supported values: \"Always\"",
        )),
    }
    if let Some(a) = tspec
        .and_then(|s| s.get("activeDeadlineSeconds"))
        .filter(|a| !a.is_null())
    {
        errs.push(Invalid::new(
            "spec.template.spec.activeDeadlineSeconds",
            a,
            "activeDeadlineSeconds in DaemonSet is not Supported",
        ));
    }
}

/// `^[0-9]+%$`, as apimachinery's IsValidPercent.
fn valid_percent(s: &str) -> bool {
    s.strip_suffix('%')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Upstream's getIntOrPercentValue: the number of a valid percentage, the int itself, and 0
/// for any other string (Go's IntValue of a non-numeric string).
fn int_or_percent_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) if valid_percent(s) => s.trim_end_matches('%').parse().unwrap_or(0),
        IntOrString::String(s) => s.parse().unwrap_or(0),
    }
}

/// ValidatePositiveIntOrPercent (a valid percent, or an int ≥ 0) and IsNotMoreThan100Percent.
fn positive_int_or_percent(v: &IntOrString, field: &str, errs: &mut Vec<Invalid>) {
    match v {
        IntOrString::String(s) if !valid_percent(s) => errs.push(Invalid::new(
            field,
            v,
            "must be an integer or percentage (e.g '5%')",
        )),
        IntOrString::String(_) if int_or_percent_value(v) > 100 => {
            errs.push(Invalid::new(field, v, "must not be greater than 100%"))
        }
        IntOrString::Int(i) if *i < 0 => {
            errs.push(Invalid::new(field, v, "must be greater than or equal to 0"))
        }
        _ => {}
    }
}

fn nonzero(v: &Option<IntOrString>) -> Option<&IntOrString> {
    v.as_ref().filter(|v| int_or_percent_value(v) != 0)
}

fn update_strategy(ds: &DaemonSet, errs: &mut Vec<Invalid>) {
    let us = ds.spec.update_strategy.clone().unwrap_or_default();
    if us.type_ != Some(DaemonSetUpdateStrategyType::RollingUpdate) {
        return;
    }
    let Some(ru) = us.rolling_update else {
        errs.push(Invalid::new(
            "spec.updateStrategy.rollingUpdate",
            &"",
            "Required value",
        ));
        return;
    };
    let path = "spec.updateStrategy.rollingUpdate";
    let unavailable = nonzero(&ru.max_unavailable);
    let surge = nonzero(&ru.max_surge);
    if let Some(v) = unavailable {
        positive_int_or_percent(v, &format!("{path}.maxUnavailable"), errs);
    }
    if let Some(v) = surge {
        positive_int_or_percent(v, &format!("{path}.maxSurge"), errs);
    }
    match (unavailable, surge) {
        (Some(_), Some(s)) => errs.push(Invalid::new(
            format!("{path}.maxSurge"),
            s,
            "may not be set when maxUnavailable is non-zero",
        )),
        (None, None) => errs.push(Invalid::new(
            format!("{path}.maxUnavailable"),
            &ru.max_unavailable,
            "cannot be 0 when maxSurge is 0",
        )),
        _ => {}
    }
    if ru.type_ == Some(RollingUpdateType::InPlaceIfPossible) && surge.is_some() {
        errs.push(Invalid::new(
            format!("{path}.maxSurge"),
            &ru.max_surge,
            "must be 0 for InPlaceIfPossible type",
        ));
    }
    if let Some(p) = &ru.partition {
        positive_int_or_percent(p, &format!("{path}.rollingUpdate.partition"), errs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(spec: serde_json::Value) -> DaemonSet {
        let mut base = json!({
            "apiVersion": "apps.kruise.io/v1beta1", "kind": "DaemonSet",
            "metadata": {"name": "d", "namespace": "ns"},
            "spec": {"selector": {"matchLabels": {"app": "d"}},
                     "template": {"metadata": {"labels": {"app": "d"}},
                                  "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}
        });
        for (k, v) in spec.as_object().unwrap() {
            base["spec"][k] = v.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn refusals(d: &DaemonSet) -> Vec<String> {
        validate(&defaults(d))
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field.clone())
            .collect()
    }

    #[test]
    fn defaults_are_the_webhooks() {
        let d = defaults(&ds(json!({})));
        let us = d.spec.update_strategy.unwrap();
        assert_eq!(us.type_, Some(DaemonSetUpdateStrategyType::RollingUpdate));
        let ru = us.rolling_update.unwrap();
        assert_eq!(ru.type_, Some(RollingUpdateType::Standard));
        assert_eq!(ru.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(ru.max_surge, Some(IntOrString::Int(0)));
        assert_eq!(d.spec.burst_replicas, Some(IntOrString::Int(250)));
        assert_eq!(d.spec.revision_history_limit, Some(10));
        // Only maxSurge set: maxUnavailable stays unset (upstream defaults both or neither).
        let d = defaults(&ds(
            json!({"updateStrategy": {"rollingUpdate": {"maxSurge": 1}}}),
        ));
        let ru = d.spec.update_strategy.unwrap().rolling_update.unwrap();
        assert_eq!(ru.max_unavailable, None);
        assert!(validate(&defaults(&ds(json!({})))).is_ok());
    }

    /// Cases from upstream's daemonset_validation_test.go.
    #[test]
    fn refusals_are_the_webhooks() {
        let ru = |v: serde_json::Value| ds(json!({"updateStrategy": {"rollingUpdate": v}}));
        assert_eq!(
            refusals(&ru(json!({"maxUnavailable": 0, "maxSurge": 0}))),
            ["spec.updateStrategy.rollingUpdate.maxUnavailable"]
        );
        assert_eq!(
            refusals(&ru(json!({"maxUnavailable": 1, "maxSurge": "10%"}))),
            ["spec.updateStrategy.rollingUpdate.maxSurge"]
        );
        assert_eq!(
            refusals(&ru(
                json!({"rollingUpdateType": "InPlaceIfPossible", "maxSurge": 1, "maxUnavailable": 0})
            )),
            ["spec.updateStrategy.rollingUpdate.maxSurge"]
        );
        assert_eq!(
            refusals(&ru(json!({"maxUnavailable": "120%"}))),
            ["spec.updateStrategy.rollingUpdate.maxUnavailable"]
        );
        assert_eq!(
            refusals(&ru(json!({"partition": "12.5%"}))),
            ["spec.updateStrategy.rollingUpdate.rollingUpdate.partition"]
        );
        assert!(refusals(&ru(json!({"maxSurge": "50%", "partition": 2}))).is_empty());
        assert_eq!(
            refusals(&ds(json!({"selector": {"matchLabels": {"app": "other"}}}))),
            ["spec.template.metadata.labels"]
        );
        assert_eq!(
            refusals(&ds(
                json!({"lifecycle": {"inPlaceUpdate": {"labelsHandler": {"a": "b"}}}})
            )),
            ["spec.lifecycle.inPlaceUpdate"]
        );
        assert_eq!(
            refusals(&ds(json!({"updateStrategy": {"type": "OnDelete"}}))),
            Vec::<String>::new()
        );
    }
}
