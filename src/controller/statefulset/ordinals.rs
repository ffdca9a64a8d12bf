//! Ordinals: a pod's parent and ordinal from its name (`<set>-<ordinal>`), and the slots a set
//! keeps given `replicas` and `reserveOrdinals` (upstream `getStatefulSetReplicasRange`).

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The most ordinals `reserveOrdinals` may skip inside the set's range: the slots are walked
/// one by one, and a range such as `"0-2000000000"` (which the API accepts) would otherwise
/// hold the controller for ever.
pub const MAX_RESERVED_SPAN: i64 = 100_000;

/// `(.*)-([0-9]+)$` with the ordinal parsed as a 32-bit integer; `None` when it does not parse.
pub fn parse(name: &str) -> Option<(&str, i32)> {
    let (parent, digits) = name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ord: i32 = digits.parse().ok()?;
    Some((parent, ord))
}

/// The ordinal of a pod of `set`, when its name is `<set>-<ordinal>`.
pub fn of(set: &str, pod: &str) -> Option<i32> {
    parse(pod).filter(|(p, _)| *p == set).map(|(_, o)| o)
}

/// The reserved ordinals as inclusive ranges. Upstream (`GetReserveOrdinalIntSet`) drops the
/// whole list when one string is not a range `a-b` with `a <= b`: so do we.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reserved(Vec<(i64, i64)>);

impl Reserved {
    pub fn parse(values: &[IntOrString]) -> Reserved {
        let mut ranges = Vec::new();
        for v in values {
            match v {
                IntOrString::Int(i) => ranges.push((i64::from(*i), i64::from(*i))),
                IntOrString::String(s) => match range(s) {
                    Some(r) => ranges.push(r),
                    None => return Reserved::default(),
                },
            }
        }
        ranges.sort_unstable();
        Reserved(ranges)
    }

    pub fn has(&self, ord: i64) -> bool {
        self.0.iter().any(|&(a, b)| a <= ord && ord <= b)
    }

    /// The first ordinal past the `replicas` slots starting at `start`, skipping reserved ones,
    /// or `None` when more than [`MAX_RESERVED_SPAN`] reserved ordinals lie in the way.
    pub fn end(&self, start: i64, replicas: i64) -> Option<i64> {
        let (mut ord, mut kept, mut skipped) = (start, 0i64, 0i64);
        while kept < replicas {
            match self.0.iter().find(|&&(a, b)| a <= ord && ord <= b) {
                Some(&(_, b)) => {
                    skipped += b - ord + 1;
                    if skipped > MAX_RESERVED_SPAN {
                        return None;
                    }
                    ord = b + 1;
                }
                None => {
                    kept += 1;
                    ord += 1;
                }
            }
        }
        Some(ord)
    }

    /// Every reserved ordinal in `[from, to)` (bounded by the caller's range).
    pub fn within(&self, from: i64, to: i64) -> BTreeSet<i64> {
        self.0
            .iter()
            .flat_map(|&(a, b)| a.max(from)..=b.min(to - 1))
            .collect()
    }
}

fn range(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('-')?;
    if b.contains('-') {
        return None;
    }
    let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_parse_as_upstreams_regex() {
        assert_eq!(parse("web-0"), Some(("web", 0)));
        assert_eq!(parse("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parse("web-"), None);
        assert_eq!(parse("web-x1"), None);
        assert_eq!(parse("web"), None);
        assert_eq!(parse("web-99999999999"), None, "not a 32-bit ordinal");
        assert_eq!(of("web", "web-3"), Some(3));
        assert_eq!(of("web", "my-web-3"), None);
    }

    #[test]
    fn reserved_ordinals_and_ranges() {
        let r = Reserved::parse(&[IntOrString::Int(1), IntOrString::String("3-5".into())]);
        assert!(r.has(1) && r.has(3) && r.has(5) && !r.has(2) && !r.has(6));
        // 4 replicas from 0 skipping 1,3,4,5: 0,2,6,7 → end 8.
        assert_eq!(r.end(0, 4), Some(8));
        assert_eq!(r.within(0, 8), [1, 3, 4, 5].into());
        // A bad range drops the whole list, as upstream does.
        let bad = Reserved::parse(&[IntOrString::Int(1), IntOrString::String("5-3".into())]);
        assert_eq!(bad, Reserved::default());
        let huge = Reserved::parse(&[IntOrString::String("0-2000000000".into())]);
        assert_eq!(huge.end(0, 1), None);
    }

    proptest! {
        /// Exactly `replicas` unreserved ordinals lie in [start, end).
        #[test]
        fn end_keeps_exactly_replicas_slots(
            reserved in proptest::collection::vec(0i32..40, 0..10),
            replicas in 0i64..30,
        ) {
            let r = Reserved::parse(&reserved.iter().map(|i| IntOrString::Int(*i)).collect::<Vec<_>>());
            let end = r.end(0, replicas).unwrap();
            let kept = (0..end).filter(|o| !r.has(*o)).count() as i64;
            prop_assert_eq!(kept, replicas);
            prop_assert!(end == 0 || !r.has(end - 1));
        }
    }
}
