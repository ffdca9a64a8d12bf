//! What OpenKruise v1.9.0's CloneSet validating webhook refuses, as a pure function, for objects
//! that reached the cluster without our CRD's rules (an older CRD, the operator's CRD with its
//! webhook down). Same rules as the CEL in `api::cloneset`, checked on the object as the webhook
//! sees it: after the mutating webhook's defaults (replicas 1, partition 0, maxUnavailable 20%,
//! maxSurge 0, type ReCreate).
//!
//! Upstream sources (tag v1.9.0): `pkg/webhook/cloneset/validating/validation.go`
//! (`validateCloneSetSpec`, `validateScaleStrategy`, `validateUpdateStrategy`,
//! `validateCloneSetUpdate`), `pkg/util/tools.go` (`GetScaledValueFromIntOrPercent`,
//! `CheckDuplicate`), `apis/apps/pub/update_priority.go` and
//! `apis/apps/v1alpha1/scatter_strategy.go` (`FieldsValidation`), apimachinery v0.32
//! `ValidateLabelSelector` / `LabelSelectorAsSelector` / `IsQualifiedName` / `IsValidLabelValue`.
//!
//! Not here: checks that need the live cluster (a newly named `podsToDelete` pod must exist, be
//! alive and be ours; under InPlaceOnly only images may change), and the full Kubernetes pod
//! template validation (the API server still validates every pod we create).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;

use crate::api::cloneset::{CloneSet, CloneSetUpdateStrategyType};

/// One refusal, printed like Kubernetes' field errors:
/// `spec.updateStrategy.partition: Invalid value: "-50%": must not be negative …`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: Invalid value: {value}: {reason}")]
pub struct Invalid {
    /// The field's path, e.g. `spec.updateStrategy.partition`.
    pub field: String,
    /// The refused value as JSON text: `"120%"` (a string, quoted), `-1`, `{"app":"web"}`.
    pub value: String,
    /// Why, in a few words.
    pub reason: String,
}

impl Invalid {
    pub(crate) fn new(
        field: impl Into<String>,
        value: &impl Serialize,
        reason: impl Into<String>,
    ) -> Self {
        Invalid {
            field: field.into(),
            value: serde_json::to_string(value).unwrap_or_else(|_| "?".into()),
            reason: reason.into(),
        }
    }
}

/// The refusals of one object, joined for a one-line condition message.
pub struct Refusals<'a>(pub &'a [Invalid]);

impl fmt::Display for Refusals<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Checks `cs` as the webhook checks a create (`old` None) or an update from `old`. Every
/// refusal is returned, in the webhook's order.
pub fn validate(cs: &CloneSet, old: Option<&CloneSet>) -> Result<(), Vec<Invalid>> {
    let mut errs = Vec::new();
    let spec = &cs.spec;
    let replicas = spec.replicas.unwrap_or(1);
    if replicas < 0 {
        errs.push(Invalid::new(
            "spec.replicas",
            &replicas,
            "must be greater than or equal to 0",
        ));
    }

    // Selector: valid, non-empty, matching the template labels.
    let sel = &spec.selector;
    let selector_ok = validate_selector(sel, "spec.selector", &mut errs);
    let empty = selector_size(sel) == 0;
    if empty {
        errs.push(Invalid::new(
            "spec.selector",
            sel,
            "an empty selector is invalid for a CloneSet",
        ));
    }
    let labels = spec.template.labels();
    if selector_ok && !empty && !crate::controller::selector::matches(sel, &labels).unwrap_or(false)
    {
        errs.push(Invalid::new(
            "spec.template.metadata.labels",
            &labels,
            "spec.selector does not match the template labels",
        ));
    }
    if let Err(e) = spec.template.typed() {
        errs.push(Invalid::new(
            "spec.template",
            &"<pod template>",
            format!("is not a valid pod template: {e}"),
        ));
    }
    let tspec = spec.template.0.get("spec");
    match tspec.and_then(|s| s.get("restartPolicy")) {
        None | Some(serde_json::Value::Null) => {}
        Some(p) if p == "" || p == "Always" => {}
        Some(p) => errs.push(Invalid::new(
            "spec.template.spec.restartPolicy",
            p,
            "only Always is supported",
        )),
    }
    if let Some(a) = tspec
        .and_then(|s| s.get("activeDeadlineSeconds"))
        .filter(|a| !a.is_null())
    {
        errs.push(Invalid::new(
            "spec.template.spec.activeDeadlineSeconds",
            a,
            "is forbidden in a CloneSet",
        ));
    }

    // Scale strategy: no pod named twice (maxUnavailable is not checked upstream).
    if let Some(list) = spec
        .scale_strategy
        .as_ref()
        .and_then(|s| s.pods_to_delete.as_ref())
    {
        let mut seen = BTreeSet::new();
        let dups: Vec<&String> = list.iter().filter(|n| !seen.insert(*n)).collect();
        if !dups.is_empty() {
            errs.push(Invalid::new(
                "spec.scaleStrategy.podsToDelete",
                list,
                format!("duplicated items {dups:?}"),
            ));
        }
    }

    update_strategy(cs, replicas, &mut errs);

    if let Some(pds) = spec.progress_deadline_seconds {
        if pds < 0 {
            errs.push(Invalid::new(
                "spec.progressDeadlineSeconds",
                &pds,
                "must be greater than or equal to 0",
            ));
        }
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if pds != i32::MAX && pds <= min_ready {
            errs.push(Invalid::new(
                "spec.progressDeadlineSeconds",
                &pds,
                format!("must be greater than spec.minReadySeconds ({min_ready})"),
            ));
        }
    }

    if let Some(old) = old
        && !same_selector(&old.spec.selector, sel)
    {
        errs.push(Invalid::new(
            "spec.selector",
            sel,
            "is immutable: after creation only replicas, template, lifecycle, scaleStrategy, updateStrategy, minReadySeconds, progressDeadlineSeconds, volumeClaimTemplates and revisionHistoryLimit may change",
        ));
    }

    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn update_strategy(cs: &CloneSet, replicas: i32, errs: &mut Vec<Invalid>) {
    let us = cs.spec.update_strategy.clone().unwrap_or_default();
    let kind = us.type_.unwrap_or(CloneSetUpdateStrategyType::ReCreate);
    if kind == CloneSetUpdateStrategyType::OnDelete {
        errs.push(Invalid::new(
            "spec.updateStrategy.type",
            &kind,
            "must be ReCreate, InPlaceIfPossible or InPlaceOnly",
        ));
    }
    let total = replicas;
    let partition = us.partition.clone().unwrap_or(IntOrString::Int(0));
    match scaled_value(&partition, total) {
        Err(e) => errs.push(Invalid::new(
            "spec.updateStrategy.partition",
            &partition,
            e.to_string(),
        )),
        Ok(p) if p < 0 => errs.push(Invalid::new(
            "spec.updateStrategy.partition",
            &partition,
            "must not be negative (percentages are of spec.replicas, rounded up)",
        )),
        Ok(_) => {}
    }

    if let Some(ps) = &us.priority_strategy {
        let weights = ps.weight_priority.as_deref().unwrap_or_default();
        let orders = ps.order_priority.as_deref().unwrap_or_default();
        let field = "spec.updateStrategy.priorityStrategy";
        if !weights.is_empty() && !orders.is_empty() {
            errs.push(Invalid::new(
                field,
                ps,
                "only one of weightPriority and orderPriority may be used",
            ));
        } else if let Some(why) = weights.iter().find_map(|w| {
            if !(0..=100).contains(&w.weight) {
                Some("weight must be in the range 0-100")
            } else if selector_size(&w.match_selector) == 0 {
                Some("weightPriority matchSelector must not be empty")
            } else if !validate_selector(&w.match_selector, "", &mut Vec::new()) {
                Some("weightPriority matchSelector is not a valid selector")
            } else {
                None
            }
        }) {
            errs.push(Invalid::new(field, ps, why));
        } else if orders.iter().any(|o| o.ordered_key.is_empty()) {
            errs.push(Invalid::new(
                field,
                ps,
                "orderPriority orderedKey must not be empty",
            ));
        }
    }

    if let Some(terms) = &us.scatter_strategy {
        let mut seen = BTreeSet::new();
        let field = "spec.updateStrategy.scatterStrategy";
        for t in terms {
            if t.key.is_empty() {
                errs.push(Invalid::new(field, terms, "key must not be empty"));
                break;
            }
            if !seen.insert((&t.key, &t.value)) {
                errs.push(Invalid::new(
                    field,
                    terms,
                    format!("duplicated key={} value={}", t.key, t.value),
                ));
                break;
            }
        }
    }

    let max_unavailable = us
        .max_unavailable
        .clone()
        .unwrap_or_else(|| IntOrString::String("20%".into()));
    let mu = scaled_value(&max_unavailable, total).unwrap_or_else(|e| {
        errs.push(Invalid::new(
            "spec.updateStrategy.maxUnavailable",
            &max_unavailable,
            e.to_string(),
        ));
        0
    });
    let max_surge = us.max_surge.clone().unwrap_or(IntOrString::Int(0));
    let ms = scaled_value(&max_surge, total).unwrap_or_else(|e| {
        errs.push(Invalid::new(
            "spec.updateStrategy.maxSurge",
            &max_surge,
            e.to_string(),
        ));
        0
    });
    if kind == CloneSetUpdateStrategyType::InPlaceOnly && ms > 0 {
        errs.push(Invalid::new(
            "spec.updateStrategy.maxSurge",
            &max_surge,
            "must be 0 with type InPlaceOnly",
        ));
    }
    if replicas > 0 && mu < 1 && ms < 1 {
        errs.push(Invalid::new(
            "spec.updateStrategy.maxUnavailable",
            &max_unavailable,
            format!(
                "maxUnavailable and maxSurge ({}) must not both be less than 1 (percentages are of spec.replicas, rounded up)",
                serde_json::to_string(&max_surge).unwrap_or_default()
            ),
        ));
    }
}

/// Why an int-or-percent cannot be read (upstream's helper errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    #[error("must be an integer or a percentage (e.g. 2 or \"20%\")")]
    NotPercent,
    #[error("the text before % is not a number")]
    NotNumber,
    #[error("the percentage is out of range")]
    OutOfRange,
}

/// `util.GetScaledValueFromIntOrPercent(v, total, roundUp = true)` as OpenKruise computes it:
/// an integer as is; a string must end in `%`, the rest is read by Go's `strconv.ParseFloat`,
/// then `int(math.Ceil(f × total / 100))` with Go's amd64 conversion (NaN and values beyond
/// ±2^63 become MinInt64). No clamping: `"120%"` of 10 is 12.
pub fn scaled_value(v: &IntOrString, total: i32) -> Result<i64, ScaleError> {
    match v {
        IntOrString::Int(i) => Ok(i64::from(*i)),
        IntOrString::String(s) => {
            let num = s.strip_suffix('%').ok_or(ScaleError::NotPercent)?;
            let f = go_parse_float(num)?;
            Ok(go_int((f * f64::from(total) / 100.0).ceil()))
        }
    }
}

/// Go's float64 → int conversion on amd64 (`CVTTSD2SQ`): truncation, and MinInt64 for NaN and
/// out-of-range values.
fn go_int(x: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-TWO_63..TWO_63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// Go's `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x…p…`) syntax, `_` digit
/// separators, `inf`/`infinity` with a sign, `nan` without; out of range is an error.
fn go_parse_float(s: &str) -> Result<f64, ScaleError> {
    if let Some(f) = go_special(s) {
        return Ok(f);
    }
    let b = s.as_bytes();
    let mut i = 0;
    let neg = matches!(b.first(), Some(b'-'));
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let hex = i + 2 < b.len() && b[i] == b'0' && (b[i + 1] | 0x20) == b'x';
    if hex {
        i += 2;
    }
    let is_digit = |c: u8| c.is_ascii_digit() || (hex && c.is_ascii_hexdigit());
    let (mut underscores, mut saw_dot, mut saw_digits) = (false, false, false);
    let mant_start = i;
    while i < b.len() {
        match b[i] {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            c if is_digit(c) => saw_digits = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return Err(ScaleError::NotNumber);
    }
    let mant_end = i;
    let exp_char = if hex { b'p' } else { b'e' };
    let mut exp: Option<(usize, usize)> = None;
    if i < b.len() && (b[i] | 0x20) == exp_char {
        i += 1;
        let start = i;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return Err(ScaleError::NotNumber);
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            underscores |= b[i] == b'_';
            i += 1;
        }
        exp = Some((start, i));
    } else if hex {
        return Err(ScaleError::NotNumber);
    }
    if i != b.len() || (underscores && !underscore_ok(s)) {
        return Err(ScaleError::NotNumber);
    }
    let clean = |r: &str| r.replace('_', "");
    let f = if hex {
        let (es, ee) = exp.expect("hex has an exponent");
        let e: i64 = clean(&s[es..ee])
            .parse::<i64>()
            .unwrap_or(if b[es] == b'-' { -100_000 } else { 100_000 });
        hex_float(&clean(&s[mant_start..mant_end]), e, neg)
    } else {
        clean(s).parse::<f64>().map_err(|_| ScaleError::NotNumber)?
    };
    if f.is_infinite() {
        return Err(ScaleError::OutOfRange);
    }
    Ok(f)
}

/// `inf`, `infinity` (any case, optional sign) and `nan` (any case, no sign).
fn go_special(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (sign, rest) = match lower.as_bytes().first() {
        Some(b'-') => (-1.0, &lower[1..]),
        Some(b'+') => (1.0, &lower[1..]),
        _ if lower == "nan" => return Some(f64::NAN),
        _ => (1.0, lower.as_str()),
    };
    (rest == "inf" || rest == "infinity").then_some(sign * f64::INFINITY)
}

/// Go's rule: `_` only between digits, or between a base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = (b[1] | 0x20) == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// A hexadecimal mantissa (`1.8`) times 2^`exp`, rounded to nearest even (up to 16 significant
/// hex digits exactly, further digits as a sticky bit).
fn hex_float(mantissa: &str, exp: i64, neg: bool) -> f64 {
    let (mut m, mut e, mut sticky, mut digits) = (0u64, exp, false, 0);
    let mut after_dot = false;
    for c in mantissa.chars() {
        if c == '.' {
            after_dot = true;
            continue;
        }
        let d = u64::from(c.to_digit(16).expect("hex digit"));
        if digits < 16 && (m != 0 || d != 0) {
            m = m * 16 + d;
            digits += 1;
            if after_dot {
                e -= 4;
            }
        } else if m == 0 && d == 0 {
            if after_dot {
                e -= 4;
            }
        } else {
            sticky |= d != 0;
            if !after_dot {
                e += 4;
            }
        }
    }
    if sticky {
        // Below the 64 kept bits: only rounding cares, and the lowest bit carries it.
        let shift = m.leading_zeros();
        m = (m << shift) | 1;
        e -= i64::from(shift);
    }
    if m == 0 {
        return if neg { -0.0 } else { 0.0 };
    }
    // Two halves so that neither power over- or underflows on its own.
    let e = e.clamp(-10_000, 10_000) as i32;
    let half = e / 2;
    let f = (m as f64) * 2f64.powi(half) * 2f64.powi(e - half);
    if neg { -f } else { f }
}

pub(crate) fn selector_size(sel: &LabelSelector) -> usize {
    sel.match_labels.as_ref().map_or(0, BTreeMap::len)
        + sel.match_expressions.as_ref().map_or(0, Vec::len)
}

/// `ValidateLabelSelector` (and what `LabelSelectorAsSelector` refuses, the same list). Pushes
/// refusals under `path` and says whether the selector is valid.
pub(crate) fn validate_selector(sel: &LabelSelector, path: &str, errs: &mut Vec<Invalid>) -> bool {
    let before = errs.len();
    for (k, v) in sel.match_labels.iter().flatten() {
        if let Some(why) = qualified_name_error(k) {
            errs.push(Invalid::new(format!("{path}.matchLabels"), k, why));
        }
        if let Some(why) = label_value_error(v) {
            errs.push(Invalid::new(format!("{path}.matchLabels"), v, why));
        }
    }
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let at = format!("{path}.matchExpressions[{i}]");
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.push(Invalid::new(
                format!("{at}.values"),
                &values,
                "must be given when operator is In or NotIn",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(Invalid::new(
                format!("{at}.values"),
                &values,
                "must be empty when operator is Exists or DoesNotExist",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(Invalid::new(
                format!("{at}.operator"),
                &other,
                "not a valid selector operator (In, NotIn, Exists, DoesNotExist)",
            )),
        }
        if let Some(why) = qualified_name_error(&e.key) {
            errs.push(Invalid::new(format!("{at}.key"), &e.key, why));
        }
        for (j, v) in values.iter().enumerate() {
            if let Some(why) = label_value_error(v) {
                errs.push(Invalid::new(format!("{at}.values[{j}]"), v, why));
            }
        }
    }
    errs.len() == before
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A lowercase RFC 1123 subdomain of at most 253 characters.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || *c == b'-')
                && !b.iter().any(u8::is_ascii_uppercase)
        })
}

fn qualified_name_error(k: &str) -> Option<&'static str> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if name.contains('/') {
        return Some("a label key may contain at most one '/'");
    }
    if prefix.is_some_and(|p| !is_dns_subdomain(p)) {
        return Some("the prefix of a label key must be a DNS subdomain (e.g. example.com)");
    }
    (!is_name_part(name)).then_some(
        "a label key's name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    )
}

fn label_value_error(v: &str) -> Option<&'static str> {
    (!v.is_empty() && !is_name_part(v)).then_some(
        "a label value must be empty or at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    )
}

/// Go's semantic equality of two selectors: an absent map or list equals an empty one.
fn same_selector(a: &LabelSelector, b: &LabelSelector) -> bool {
    let labels = |s: &LabelSelector| s.match_labels.clone().unwrap_or_default();
    let exprs = |s: &LabelSelector| {
        s.match_expressions
            .iter()
            .flatten()
            .map(|e| {
                (
                    e.key.clone(),
                    e.operator.clone(),
                    e.values.clone().unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>()
    };
    labels(a) == labels(b) && exprs(a) == exprs(b)
}

/// The cases the CRD's CEL rules and [`validate`] are both tested against (unit tests here,
/// `tests/crds.rs` against a real API server): one table, so the two cannot drift apart.
#[doc(hidden)]
pub mod cases {
    /// The object each case starts from (a valid CloneSet of 3 replicas).
    pub const BASE: &str = r#"{
      "apiVersion": "apps.kruise.io/v1alpha1", "kind": "CloneSet",
      "metadata": {"name": "web"},
      "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
          "metadata": {"labels": {"app": "web"}},
          "spec": {"containers": [{"name": "nginx", "image": "nginx:1.20"}]}
        }
      }
    }"#;

    pub struct Case {
        pub name: &'static str,
        /// JSON merge patch on BASE's spec: the object created.
        pub spec: &'static str,
        /// For updates: a JSON merge patch on the created object's spec, then written back.
        pub update: Option<&'static str>,
        /// `None`: accepted. `Some(field)`: refused, naming this field (a substring of the API
        /// server's error and a prefix of one [`super::Invalid::field`]).
        pub refused: Option<&'static str>,
    }

    const fn ok(name: &'static str, spec: &'static str) -> Case {
        Case {
            name,
            spec,
            update: None,
            refused: None,
        }
    }

    const fn no(name: &'static str, spec: &'static str, field: &'static str) -> Case {
        Case {
            name,
            spec,
            update: None,
            refused: Some(field),
        }
    }

    const LABELS: &str = "spec.template.metadata.labels";
    const SEL: &str = "spec.selector";
    const EXPR: &str = "spec.selector.matchExpressions[0]";
    const PART: &str = "spec.updateStrategy.partition";
    const MU: &str = "spec.updateStrategy.maxUnavailable";
    const MS: &str = "spec.updateStrategy.maxSurge";
    const PRIO: &str = "spec.updateStrategy.priorityStrategy";
    const SCAT: &str = "spec.updateStrategy.scatterStrategy";
    const PDS: &str = "spec.progressDeadlineSeconds";

    pub const CASES: &[Case] = &[
        ok("the base object", "{}"),
        // replicas
        no("replicas -1", r#"{"replicas": -1}"#, "spec.replicas"),
        ok("replicas 0", r#"{"replicas": 0}"#),
        // selector
        no(
            "empty selector",
            r#"{"selector": {"matchLabels": null}}"#,
            SEL,
        ),
        no(
            "matchLabels do not match",
            r#"{"selector": {"matchLabels": {"app": "other"}}}"#,
            LABELS,
        ),
        no(
            "NotIn excludes the template",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}}"#,
            LABELS,
        ),
        no(
            "In misses the template",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["other"]}]}}"#,
            LABELS,
        ),
        no(
            "Exists on a missing label",
            r#"{"selector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}}"#,
            LABELS,
        ),
        no(
            "DoesNotExist on a present label",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}}"#,
            LABELS,
        ),
        no(
            "only expressions, excluding the template",
            r#"{"selector": {"matchLabels": null, "matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}}"#,
            LABELS,
        ),
        ok(
            "In matches",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "x"]}]}}"#,
        ),
        ok(
            "NotIn other value",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["other"]}]}}"#,
        ),
        ok(
            "NotIn on a missing label",
            r#"{"selector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}}"#,
        ),
        ok(
            "Exists matches",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}"#,
        ),
        ok(
            "DoesNotExist matches",
            r#"{"selector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}}"#,
        ),
        ok(
            "only expressions",
            r#"{"selector": {"matchLabels": null, "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}}"#,
        ),
        ok(
            "prefixed key",
            r#"{"selector": {"matchLabels": {"example.com/tier": "a"}}, "template": {"metadata": {"labels": {"example.com/tier": "a"}}}}"#,
        ),
        no(
            "unknown operator",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}}"#,
            EXPR,
        ),
        no(
            "In without values",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "In"}]}}"#,
            EXPR,
        ),
        no(
            "Exists with values",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]}}"#,
            EXPR,
        ),
        no(
            "bad expression key",
            r#"{"selector": {"matchExpressions": [{"key": "-app", "operator": "Exists"}]}}"#,
            EXPR,
        ),
        no(
            "bad expression value",
            r#"{"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a b"]}]}}"#,
            EXPR,
        ),
        no(
            "bad matchLabels key",
            r#"{"selector": {"matchLabels": {"a b": "x"}}, "template": {"metadata": {"labels": {"a b": "x"}}}}"#,
            "spec.selector.matchLabels",
        ),
        no(
            "bad matchLabels value",
            r#"{"selector": {"matchLabels": {"app": "-web"}}, "template": {"metadata": {"labels": {"app": "-web"}}}}"#,
            "spec.selector.matchLabels",
        ),
        Case {
            name: "selector changed",
            spec: "{}",
            update: Some(
                r#"{"selector": {"matchLabels": {"v": "2"}}, "template": {"metadata": {"labels": {"v": "2"}}}}"#,
            ),
            refused: Some(SEL),
        },
        Case {
            name: "selector semantically the same",
            spec: "{}",
            update: Some(r#"{"selector": {"matchExpressions": []}}"#),
            refused: None,
        },
        Case {
            name: "replicas, template and strategy changed",
            spec: "{}",
            update: Some(
                r#"{"replicas": 5, "minReadySeconds": 3, "template": {"metadata": {"labels": {"v": "2"}}}, "updateStrategy": {"partition": 1}}"#,
            ),
            refused: None,
        },
        // pod template
        no(
            "restartPolicy OnFailure",
            r#"{"template": {"spec": {"restartPolicy": "OnFailure"}}}"#,
            "spec.template.spec.restartPolicy",
        ),
        ok(
            "restartPolicy Always",
            r#"{"template": {"spec": {"restartPolicy": "Always"}}}"#,
        ),
        ok(
            "restartPolicy empty",
            r#"{"template": {"spec": {"restartPolicy": ""}}}"#,
        ),
        no(
            "activeDeadlineSeconds",
            r#"{"template": {"spec": {"activeDeadlineSeconds": 10}}}"#,
            "spec.template.spec.activeDeadlineSeconds",
        ),
        // scaleStrategy
        no(
            "pod named twice",
            r#"{"scaleStrategy": {"podsToDelete": ["a", "a"]}}"#,
            "spec.scaleStrategy.podsToDelete",
        ),
        ok(
            "scale maxUnavailable not validated: abc",
            r#"{"scaleStrategy": {"maxUnavailable": "abc"}}"#,
        ),
        ok(
            "scale maxUnavailable not validated: -1",
            r#"{"scaleStrategy": {"maxUnavailable": -1}}"#,
        ),
        // update type
        no(
            "type OnDelete (the webhook refuses it)",
            r#"{"updateStrategy": {"type": "OnDelete"}}"#,
            "spec.updateStrategy.type",
        ),
        no(
            "type Rolling",
            r#"{"updateStrategy": {"type": "Rolling"}}"#,
            "spec.updateStrategy.type",
        ),
        ok(
            "type ReCreate",
            r#"{"updateStrategy": {"type": "ReCreate"}}"#,
        ),
        ok(
            "type InPlaceIfPossible",
            r#"{"updateStrategy": {"type": "InPlaceIfPossible"}}"#,
        ),
        ok(
            "type InPlaceOnly",
            r#"{"updateStrategy": {"type": "InPlaceOnly"}}"#,
        ),
        // partition
        ok(
            "partition 120%",
            r#"{"updateStrategy": {"partition": "120%"}}"#,
        ),
        ok("partition 120", r#"{"updateStrategy": {"partition": 120}}"#),
        ok(
            "partition 12.5%",
            r#"{"updateStrategy": {"partition": "12.5%"}}"#,
        ),
        ok("partition 0%", r#"{"updateStrategy": {"partition": "0%"}}"#),
        ok(
            "partition 1_0% (Go float syntax)",
            r#"{"updateStrategy": {"partition": "1_0%"}}"#,
        ),
        ok(
            "partition 0x1p3% (Go hex float)",
            r#"{"updateStrategy": {"partition": "0x1p3%"}}"#,
        ),
        ok(
            "partition -0.5% rounds up to 0",
            r#"{"updateStrategy": {"partition": "-0.5%"}}"#,
        ),
        ok(
            "partition -50% with 0 replicas",
            r#"{"replicas": 0, "updateStrategy": {"partition": "-50%"}}"#,
        ),
        no(
            "partition -1",
            r#"{"updateStrategy": {"partition": -1}}"#,
            PART,
        ),
        no(
            "partition -50%",
            r#"{"updateStrategy": {"partition": "-50%"}}"#,
            PART,
        ),
        no(
            "partition abc",
            r#"{"updateStrategy": {"partition": "abc"}}"#,
            PART,
        ),
        no(
            "partition 5 as a string",
            r#"{"updateStrategy": {"partition": "5"}}"#,
            PART,
        ),
        no(
            "partition 5%%",
            r#"{"updateStrategy": {"partition": "5%%"}}"#,
            PART,
        ),
        no(
            "partition NaN%",
            r#"{"updateStrategy": {"partition": "NaN%"}}"#,
            PART,
        ),
        no(
            "partition inf%",
            r#"{"updateStrategy": {"partition": "inf%"}}"#,
            PART,
        ),
        no(
            "partition 1e400%",
            r#"{"updateStrategy": {"partition": "1e400%"}}"#,
            PART,
        ),
        no(
            "partition 2^31",
            r#"{"updateStrategy": {"partition": 2147483648}}"#,
            PART,
        ),
        // maxUnavailable / maxSurge
        ok(
            "maxUnavailable 150%",
            r#"{"updateStrategy": {"maxUnavailable": "150%"}}"#,
        ),
        ok(
            "maxUnavailable 5 of 3",
            r#"{"updateStrategy": {"maxUnavailable": 5}}"#,
        ),
        ok(
            "maxUnavailable 10% of 3 rounds up to 1",
            r#"{"updateStrategy": {"maxUnavailable": "10%"}}"#,
        ),
        ok(
            "maxUnavailable -1 with maxSurge 1",
            r#"{"updateStrategy": {"maxUnavailable": -1, "maxSurge": 1}}"#,
        ),
        ok(
            "maxUnavailable 0 with maxSurge 1",
            r#"{"updateStrategy": {"maxUnavailable": 0, "maxSurge": 1}}"#,
        ),
        ok(
            "maxUnavailable 0 with maxSurge 1% (rounds up to 1)",
            r#"{"updateStrategy": {"maxUnavailable": 0, "maxSurge": "1%"}}"#,
        ),
        ok(
            "maxUnavailable 0% with 0 replicas",
            r#"{"replicas": 0, "updateStrategy": {"maxUnavailable": "0%"}}"#,
        ),
        no(
            "maxUnavailable 0 (maxSurge defaults to 0)",
            r#"{"updateStrategy": {"maxUnavailable": 0}}"#,
            MU,
        ),
        no(
            "maxUnavailable 0%",
            r#"{"updateStrategy": {"maxUnavailable": "0%", "maxSurge": "0%"}}"#,
            MU,
        ),
        no(
            "maxUnavailable -1",
            r#"{"updateStrategy": {"maxUnavailable": -1}}"#,
            MU,
        ),
        no(
            "maxUnavailable abc",
            r#"{"updateStrategy": {"maxUnavailable": "abc"}}"#,
            MU,
        ),
        ok(
            "maxSurge 200%",
            r#"{"updateStrategy": {"maxSurge": "200%"}}"#,
        ),
        no(
            "maxSurge x%",
            r#"{"updateStrategy": {"maxSurge": "x%"}}"#,
            MS,
        ),
        no(
            "InPlaceOnly with maxSurge 1",
            r#"{"updateStrategy": {"type": "InPlaceOnly", "maxSurge": 1}}"#,
            MS,
        ),
        no(
            "InPlaceOnly with maxSurge 10% (rounds up to 1)",
            r#"{"updateStrategy": {"type": "InPlaceOnly", "maxSurge": "10%"}}"#,
            MS,
        ),
        ok(
            "InPlaceOnly with maxSurge 0",
            r#"{"updateStrategy": {"type": "InPlaceOnly", "maxSurge": 0}}"#,
        ),
        ok(
            "InPlaceOnly with maxSurge -1",
            r#"{"updateStrategy": {"type": "InPlaceOnly", "maxSurge": -1}}"#,
        ),
        ok(
            "InPlaceOnly with maxSurge 50% of 0 replicas",
            r#"{"replicas": 0, "updateStrategy": {"type": "InPlaceOnly", "maxSurge": "50%"}}"#,
        ),
        // priority and scatter
        no(
            "weight and order priority",
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [{"weight": 50, "matchSelector": {"matchLabels": {"a": "b"}}}], "orderPriority": [{"orderedKey": "k"}]}}}"#,
            PRIO,
        ),
        ok(
            "order priority with an empty weight list",
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [], "orderPriority": [{"orderedKey": "k"}]}}}"#,
        ),
        no(
            "empty orderedKey",
            r#"{"updateStrategy": {"priorityStrategy": {"orderPriority": [{"orderedKey": ""}]}}}"#,
            PRIO,
        ),
        no(
            "weight with an empty selector",
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [{"weight": 50, "matchSelector": {}}]}}}"#,
            PRIO,
        ),
        no(
            "weight 101",
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [{"weight": 101, "matchSelector": {"matchLabels": {"a": "b"}}}]}}}"#,
            PRIO,
        ),
        ok(
            "weight 0",
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [{"weight": 0, "matchSelector": {"matchLabels": {"a": "b"}}}]}}}"#,
        ),
        no(
            "scatter with an empty key",
            r#"{"updateStrategy": {"scatterStrategy": [{"key": "", "value": "a"}]}}"#,
            SCAT,
        ),
        no(
            "scatter pair twice",
            r#"{"updateStrategy": {"scatterStrategy": [{"key": "k", "value": "a"}, {"key": "k", "value": "a"}]}}"#,
            SCAT,
        ),
        ok(
            "scatter one key, two values",
            r#"{"updateStrategy": {"scatterStrategy": [{"key": "k", "value": "a"}, {"key": "k", "value": "b"}]}}"#,
        ),
        // progressDeadlineSeconds, minReadySeconds, revisionHistoryLimit
        no(
            "progressDeadlineSeconds -1",
            r#"{"progressDeadlineSeconds": -1, "minReadySeconds": -5}"#,
            PDS,
        ),
        no(
            "progressDeadlineSeconds = minReadySeconds",
            r#"{"progressDeadlineSeconds": 10, "minReadySeconds": 10}"#,
            PDS,
        ),
        ok(
            "progressDeadlineSeconds > minReadySeconds",
            r#"{"progressDeadlineSeconds": 11, "minReadySeconds": 10}"#,
        ),
        ok(
            "progressDeadlineSeconds MaxInt32",
            r#"{"progressDeadlineSeconds": 2147483647, "minReadySeconds": 2147483647}"#,
        ),
        ok(
            "minReadySeconds -5 (not checked upstream)",
            r#"{"minReadySeconds": -5}"#,
        ),
        ok(
            "revisionHistoryLimit -1 (not checked upstream)",
            r#"{"revisionHistoryLimit": -1}"#,
        ),
    ];
}

#[cfg(test)]
mod tests {
    use super::cases::{BASE, CASES};
    use super::*;
    use serde_json::{Value, json};

    fn object(spec_patch: &str) -> Value {
        let mut v: Value = serde_json::from_str(BASE).unwrap();
        json_patch::merge(&mut v["spec"], &serde_json::from_str(spec_patch).unwrap());
        v
    }

    const UNREADABLE: &str = "<does not parse>";

    /// The refusals of `v` (an object that does not even parse into our type is refused too).
    fn check(v: Value, old: Option<&CloneSet>) -> Result<(), Vec<Invalid>> {
        match serde_json::from_value::<CloneSet>(v.clone()) {
            Ok(cs) => validate(&cs, old),
            Err(e) => Err(vec![Invalid::new(UNREADABLE, &v["spec"], e.to_string())]),
        }
    }

    #[test]
    fn the_shared_table() {
        for c in CASES {
            let created = object(c.spec);
            let got = match c.update {
                None => check(created, None),
                Some(u) => {
                    let old: CloneSet = serde_json::from_value(created.clone()).unwrap();
                    assert_eq!(validate(&old, None), Ok(()), "{}: the original", c.name);
                    let mut new = created;
                    json_patch::merge(&mut new["spec"], &serde_json::from_str(u).unwrap());
                    check(new, Some(&old))
                }
            };
            match (c.refused, got) {
                (None, Ok(())) => {}
                (None, Err(e)) => panic!("{}: refused: {}", c.name, Refusals(&e)),
                (Some(f), Ok(())) => panic!("{}: accepted, expected a refusal of {f}", c.name),
                (Some(f), Err(e)) => assert!(
                    e.iter()
                        .any(|i| i.field.starts_with(f) || i.field == UNREADABLE),
                    "{}: expected {f} in {}",
                    c.name,
                    Refusals(&e)
                ),
            }
        }
    }

    #[test]
    fn the_refused_value_is_named() {
        let err = check(object(r#"{"updateStrategy": {"partition": "-50%"}}"#), None).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "spec.updateStrategy.partition: Invalid value: \"-50%\": must not be negative (percentages are of spec.replicas, rounded up)"
        );
        let err = check(object(r#"{"replicas": -1}"#), None).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn weight_selectors_must_be_valid() {
        // Not in the CRD (CEL over an unbounded list of selectors exceeds the cost budget).
        let v = object(
            r#"{"updateStrategy": {"priorityStrategy": {"weightPriority": [{"weight": 5, "matchSelector": {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}}]}}}"#,
        );
        let err = check(v, None).unwrap_err();
        assert_eq!(err[0].field, "spec.updateStrategy.priorityStrategy");
    }

    #[test]
    fn scaled_values_as_upstream() {
        let s = |x: &str| IntOrString::String(x.into());
        assert_eq!(scaled_value(&s("120%"), 10), Ok(12));
        assert_eq!(scaled_value(&s("12.5%"), 3), Ok(1));
        assert_eq!(scaled_value(&s("-0.5%"), 3), Ok(0));
        assert_eq!(scaled_value(&s("-50%"), 0), Ok(0));
        assert_eq!(scaled_value(&s("NaN%"), 3), Ok(i64::MIN));
        assert_eq!(scaled_value(&s("inf%"), 3), Ok(i64::MIN));
        assert_eq!(scaled_value(&s("1e300%"), 3), Ok(i64::MIN));
        assert_eq!(scaled_value(&IntOrString::Int(-4), 3), Ok(-4));
        assert_eq!(scaled_value(&s("5"), 3), Err(ScaleError::NotPercent));
        assert_eq!(scaled_value(&s("1e400%"), 3), Err(ScaleError::OutOfRange));
    }

    /// Go's strconv.ParseFloat on the same strings (go1.24, recorded).
    #[test]
    fn go_parse_float_as_go() {
        let cases: &[(&str, Option<f64>)] = &[
            ("1_000", Some(1000.0)),
            ("1_0.5", Some(10.5)),
            ("_1", None),
            ("1_", None),
            ("0x1p-2", Some(0.25)),
            ("0x_1p0", Some(1.0)),
            ("0x1_p0", None),
            ("0x1.8p1", Some(3.0)),
            ("0x1", None),
            ("0x", None),
            ("0x.8p1", Some(1.0)),
            ("1e400", None),
            ("1e-400", Some(0.0)),
            ("inf", Some(f64::INFINITY)),
            ("+Inf", Some(f64::INFINITY)),
            ("-infinity", Some(f64::NEG_INFINITY)),
            ("infinit", None),
            ("+nan", None),
            ("1.", Some(1.0)),
            (".5", Some(0.5)),
            (".", None),
            ("+.5e-3", Some(0.0005)),
            ("1e", None),
            ("1e+", None),
            ("5%", None),
            ("12.5", Some(12.5)),
            ("1__0", None),
            ("0_x1p0", None),
            ("00x1p0", None),
            ("1e1_0", Some(1e10)),
            ("0x1p1_0", Some(1024.0)),
            ("1E2", Some(100.0)),
            ("0X1P2", Some(4.0)),
            ("0x1.fffffffffffff8p1023", None),
            ("0x1p1024", None),
            (" 1", None),
            ("1 ", None),
            ("+-1", None),
            ("0b101", None),
            ("0o7", None),
            ("1_e5", None),
            ("0x1.p3", Some(8.0)),
            ("0xp3", None),
            ("0x.p3", None),
            ("0x1_.8p0", None),
            ("9223372036854775808", Some(9.223372036854776e18)),
        ];
        for (s, want) in cases {
            assert_eq!(go_parse_float(s).ok(), *want, "{s:?}");
        }
        assert!(go_parse_float("NaN").unwrap().is_nan());
        assert!(go_parse_float("nan").unwrap().is_nan());
    }

    #[test]
    fn display_joins_refusals() {
        let e = Invalid::new("spec.x", &json!("a"), "bad");
        assert_eq!(
            Refusals(&[e.clone(), e]).to_string(),
            "spec.x: Invalid value: \"a\": bad; spec.x: Invalid value: \"a\": bad"
        );
    }
}
