//! Integer-or-percent arithmetic, with the exact parser upstream uses for each field
//! (reference notes §2.8): they disagree on odd values, and the controller must agree with the
//! operator on every one of them.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn round(value: f64, up: bool) -> i32 {
    let v = if up { value.ceil() } else { value.floor() };
    v.clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

/// Upstream's deprecated lenient parser (`GetValueFromIntOrPercent`), used by the CloneSet
/// controller for `maxSurge`, `maxUnavailable` and `scaleStrategy.maxUnavailable`: a string is
/// always a percentage, every `%` is dropped and the rest must be an integer (`"5"` is 5 %).
pub fn lenient(value: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match value {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let p: i64 = s.replace('%', "").parse().ok()?;
            Some(round(p as f64 * total as f64 / 100.0, round_up))
        }
    }
}

/// Kruise's own parser (`util.GetScaledValueFromIntOrPercent`): a string must end in `%` and
/// the number may be fractional (`"12.5%"`). Used for `partition` and by the webhook.
pub fn kruise(value: &IntOrString, total: i32, round_up: bool) -> Option<i32> {
    match value {
        IntOrString::Int(i) => Some(*i),
        IntOrString::String(s) => {
            let p: f64 = s.strip_suffix('%')?.parse().ok()?;
            if !p.is_finite() {
                return None;
            }
            Some(round(p * total as f64 / 100.0, round_up))
        }
    }
}

/// Pods kept at old revisions for `partition` against `replicas` (upstream
/// `CalculatePartitionReplicas`): percentages round up, yet any percentage but the literal
/// `"100%"` lets at least one pod update when there are two or more; clamped to [0, replicas].
/// `None` when the value cannot be parsed (the controller then treats it as 0).
pub fn partition(partition: Option<&IntOrString>, replicas: i32) -> Option<i32> {
    let Some(value) = partition else {
        return Some(0);
    };
    let mut p = kruise(value, replicas, true)?;
    if let IntOrString::String(s) = value
        && replicas > 1
        && p == replicas
        && s != "100%"
    {
        p = replicas - 1;
    }
    Some(p.clamp(0, replicas.max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn lenient_treats_every_string_as_percent() {
        assert_eq!(lenient(&s("20%"), 3, true), Some(1));
        assert_eq!(lenient(&s("20%"), 3, false), Some(0));
        assert_eq!(lenient(&s("5"), 100, true), Some(5));
        assert_eq!(lenient(&s("5%%"), 100, true), Some(5));
        assert_eq!(lenient(&s("12.5%"), 100, true), None);
        assert_eq!(lenient(&IntOrString::Int(-2), 10, true), Some(-2));
    }

    #[test]
    fn kruise_needs_percent_sign_and_accepts_fractions() {
        assert_eq!(kruise(&s("12.5%"), 10, true), Some(2));
        assert_eq!(kruise(&s("12.5%"), 10, false), Some(1));
        assert_eq!(kruise(&s("5"), 10, true), None);
        assert_eq!(kruise(&s("200%"), 10, true), Some(20));
    }

    #[test]
    fn partition_rounding_matches_upstream() {
        let p = |v: IntOrString, r| partition(Some(&v), r);
        assert_eq!(partition(None, 5), Some(0));
        assert_eq!(p(IntOrString::Int(2), 5), Some(2));
        assert_eq!(p(IntOrString::Int(9), 5), Some(5));
        assert_eq!(p(IntOrString::Int(-1), 5), Some(0));
        assert_eq!(p(s("50%"), 5), Some(3));
        assert_eq!(p(s("99%"), 5), Some(4));
        assert_eq!(p(s("100%"), 5), Some(5));
        assert_eq!(p(s("100.0%"), 5), Some(4));
        assert_eq!(p(s("150%"), 5), Some(5));
        assert_eq!(p(s("50%"), 1), Some(1));
        assert_eq!(p(s("5"), 5), None);
    }
}
