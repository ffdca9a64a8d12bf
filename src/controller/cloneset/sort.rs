//! Pod orderings (reference notes §2.9): which pods update first and which go first when
//! scaling in. Each comparator returns `Less` for the pod to pick first.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use crate::api::common::{UpdatePriorityStrategy, UpdateScatterTerm};
use crate::controller::pod;
use crate::controller::selector;

fn phase_rank(p: &Pod) -> u8 {
    match pod::phase(p) {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

/// Older-ready / older pods compare greater; `None` (zero time) first.
fn time_cmp(a: Option<Timestamp>, b: Option<Timestamp>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// Upstream's ActivePods order (the update candidates' base order).
pub fn active_pods(a: &Pod, b: &Pod) -> Ordering {
    let assigned = |p: &Pod| !pod::node(p).is_empty();
    assigned(a)
        .cmp(&assigned(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(pod::is_ready(a).cmp(&pod::is_ready(b)))
        .then_with(|| {
            if pod::is_ready(a) && pod::is_ready(b) {
                // Ready for less time first: the later ready time first.
                time_cmp(pod::ready_since(b), pod::ready_since(a))
            } else {
                Ordering::Equal
            }
        })
        .then(pod::max_restarts(b).cmp(&pod::max_restarts(a)))
        .then_with(|| time_cmp(pod::created(b), pod::created(a)))
        .then_with(|| tie(a, b))
}

/// The last word on pods upstream's order leaves equal. Upstream sorts with Go's unstable
/// sort over its informer's list, whose order is a map's, so its ties fall at random; ours
/// fall by name, so that the plan preview and the controller, which read the pods in
/// different orders, pick the same pods. Creation and ready times have one-second
/// granularity, so ties are common (pods created in one batch).
fn tie(a: &Pod, b: &Pod) -> Ordering {
    pod::name(a).cmp(pod::name(b))
}

/// Same-node ranks: on a node with two or more of these pods, all but the best one get a rank
/// equal to their distance from the end, so crowded nodes lose pods first.
pub fn node_ranks(pods: &[&Pod]) -> BTreeMap<String, i32> {
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for p in pods {
        by_node.entry(pod::node(p)).or_default().push(p);
    }
    let mut ranks = BTreeMap::new();
    for (node, mut group) in by_node {
        if node.is_empty() || group.len() < 2 {
            continue;
        }
        // Best (kept longest) last.
        group.sort_by(|a, b| active_pods(a, b));
        let n = group.len();
        for (i, p) in group.iter().enumerate() {
            if i + 1 < n {
                ranks.insert(pod::name(p).to_string(), (n - i - 1) as i32);
            }
        }
    }
    ranks
}

/// CloneSet's deletion order ("ActivePodsWithRanks").
pub fn deletion(
    a: &Pod,
    b: &Pod,
    ranks: &BTreeMap<String, i32>,
    min_ready: i32,
    now: Timestamp,
) -> Ordering {
    let assigned = |p: &Pod| !pod::node(p).is_empty();
    let rank = |p: &Pod| ranks.get(pod::name(p)).copied().unwrap_or(0);
    assigned(a)
        .cmp(&assigned(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(pod::available(a, min_ready, now).cmp(&pod::available(b, min_ready, now)))
        .then(pod::is_ready(a).cmp(&pod::is_ready(b)))
        .then(pod::deletion_cost(a).cmp(&pod::deletion_cost(b)))
        .then(rank(b).cmp(&rank(a)))
        .then_with(|| {
            if pod::is_ready(a) && pod::is_ready(b) {
                time_cmp(pod::ready_since(b), pod::ready_since(a))
            } else {
                Ordering::Equal
            }
        })
        .then(pod::max_restarts(b).cmp(&pod::max_restarts(a)))
        .then_with(|| time_cmp(pod::created(b), pod::created(a)))
        .then_with(|| tie(a, b))
}

/// The trailing integer of a label value (`sts-10` → 10); none counts 0.
fn trailing_int(v: &str) -> i64 {
    let digits: String = v
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap_or(0)
}

/// Apply `priorityStrategy` (stable): weight terms (higher sum first) or order terms (pods
/// with none of the keys first, then by key order, then higher trailing integer first).
pub fn by_priority(pods: &mut [&Pod], strategy: Option<&UpdatePriorityStrategy>) {
    let Some(s) = strategy else { return };
    if let Some(weights) = s.weight_priority.as_ref().filter(|w| !w.is_empty()) {
        let score = |p: &Pod| -> i64 {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            weights
                .iter()
                .filter(|w| selector::matches(&w.match_selector, &labels).unwrap_or(false))
                .map(|w| i64::from(w.weight))
                .sum()
        };
        pods.sort_by_key(|p| std::cmp::Reverse(score(p)));
    } else if let Some(order) = s.order_priority.as_ref().filter(|o| !o.is_empty()) {
        let key = |p: &Pod| -> (i64, i64) {
            for (i, term) in order.iter().enumerate() {
                if let Some(v) = pod::label(p, &term.ordered_key) {
                    return (i as i64, -trailing_int(v));
                }
            }
            (-1, 0)
        };
        pods.sort_by_key(|p| key(p));
    }
}

fn round_half_away(x: f64) -> usize {
    x.round().max(0.0) as usize
}

/// Apply `scatterStrategy` to the waiting pods; `all` are every active pod.
pub fn scatter<'a>(
    waiting: Vec<&'a Pod>,
    all: &[&Pod],
    terms: &[UpdateScatterTerm],
) -> Vec<&'a Pod> {
    let matches = |p: &Pod, t: &UpdateScatterTerm| pod::label(p, &t.key) == Some(t.value.as_str());
    let mut terms: Vec<&UpdateScatterTerm> = terms.iter().collect();
    if terms.len() > 1 {
        terms.retain(|t| waiting.iter().any(|p| matches(p, t)));
        terms.sort_by_key(|t| std::cmp::Reverse(waiting.iter().filter(|p| matches(p, t)).count()));
    }
    let mut pods = waiting;
    for t in terms {
        let (mut matched, unmatched): (Vec<&Pod>, Vec<&Pod>) =
            pods.iter().copied().partition(|p| matches(p, t));
        if matched.len() <= 1 || unmatched.len() <= 1 {
            continue;
        }
        // The last matched pod goes last, and no longer counts among all the matched ones.
        let last = matched.pop().expect("len > 1");
        let total_m = all.iter().filter(|p| matches(p, t)).count() - 1;
        let total_u = all.len() - total_m - 1;
        let g = ScatterGroup::by_density(total_m, total_u, matched.len(), unmatched.len());
        let mut out: Vec<&Pod> = unmatched[..g.unmatched_remainder].to_vec();
        let (mut m, mut u) = (&matched[..], &unmatched[g.unmatched_remainder..]);
        for _ in 0..g.num {
            let k = g.matched_size.min(m.len());
            out.extend_from_slice(&m[..k]);
            m = &m[k..];
            let k = g.unmatched_size.min(u.len());
            out.extend_from_slice(&u[..k]);
            u = &u[k..];
        }
        out.extend_from_slice(m);
        out.extend_from_slice(u);
        out.push(last);
        pods = out;
    }
    pods
}

/// Upstream's scatterGroup: how many groups of how many matched and unmatched pods.
#[derive(Debug, PartialEq)]
struct ScatterGroup {
    num: usize,
    matched_size: usize,
    unmatched_size: usize,
    unmatched_remainder: usize,
}

impl ScatterGroup {
    /// newScatterGroup: as many groups as the smaller side, sizes rounded half away from 0.
    fn new(matched: usize, unmatched: usize) -> ScatterGroup {
        let num = matched.min(unmatched);
        let size = |n: usize| round_half_away(n as f64 / num as f64);
        ScatterGroup {
            num,
            matched_size: size(matched),
            unmatched_size: size(unmatched),
            unmatched_remainder: 0,
        }
    }

    /// calculateGroupByDensity: the waiting pods' own grouping when they are no denser in
    /// unmatched pods than the whole set (compared in float32, as upstream), otherwise the
    /// whole set's group sizes, with the unmatched pods that do not fit going first.
    fn by_density(total_m: usize, total_u: usize, m: usize, u: usize) -> ScatterGroup {
        if total_u as f32 / total_m as f32 >= u as f32 / m as f32 {
            return ScatterGroup::new(m, u);
        }
        let total = ScatterGroup::new(total_m, total_u);
        let num = (m / total.matched_size).min(u / total.unmatched_size);
        ScatterGroup {
            num,
            unmatched_remainder: u - num * total.unmatched_size,
            ..total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::UpdatePriorityOrderTerm;

    fn p(name: &str, labels: &[(&str, &str)]) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some(name.into());
        pod.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        pod
    }

    #[test]
    fn order_priority_puts_unkeyed_first_then_higher_numbers() {
        let pods = [
            p("a", &[("k", "sts-2")]),
            p("b", &[]),
            p("c", &[("k", "sts-10")]),
        ];
        let mut refs: Vec<&Pod> = pods.iter().collect();
        let s = UpdatePriorityStrategy {
            order_priority: Some(vec![UpdatePriorityOrderTerm {
                ordered_key: "k".into(),
            }]),
            weight_priority: None,
        };
        by_priority(&mut refs, Some(&s));
        let names: Vec<&str> = refs.iter().map(|p| pod::name(p)).collect();
        assert_eq!(names, ["b", "c", "a"]);
    }

    #[test]
    /// Orders from OpenKruise v1.9.0's own scatter cases (pkg/util/updatesort): every pod
    /// waiting, one term `labelA=AAA` (or the two terms named).
    fn scatter_orders_as_upstream() {
        let a = "labelA=AAA";
        let cases: &[(&[&str], &[&str], &[usize])] = &[
            (&[""], &[a], &[0]),
            (&[a], &[a], &[0]),
            (&[a, "bbb"], &[a], &[0, 1]),
            (&["", "", "", "", a, a], &[a], &[4, 0, 1, 2, 3, 5]),
            (&["", "", "", a, a, a], &[a], &[3, 0, 1, 4, 2, 5]),
            (&["", "", "", a, "", "", a], &[a], &[3, 0, 1, 2, 4, 5, 6]),
            (
                &["", "", "", "", "", "", a, a, a],
                &[a],
                &[6, 0, 1, 2, 7, 3, 4, 5, 8],
            ),
            (&["", "", a, a, a, a], &[a], &[2, 3, 0, 4, 1, 5]),
            (&["", "", "", a, a, a], &[a], &[3, 0, 1, 4, 2, 5]),
            (
                &["", "", a, "", a, a, a, a, a],
                &[a],
                &[2, 4, 0, 5, 6, 1, 7, 3, 8],
            ),
            (
                &["", a, "", a, "", "", a, a, a],
                &[a],
                &[1, 0, 3, 2, 6, 4, 7, 5, 8],
            ),
            (
                &["", "", "", "", "ee", "a", "", a, a, "labelA=AAA,labelB=BBB"],
                &[a],
                &[7, 0, 1, 2, 3, 8, 4, 5, 6, 9],
            ),
            (
                &["labelB=BBB", "labelB=BBB", "", "", a, a],
                &[a, "labelB=BBB"],
                &[0, 4, 2, 3, 5, 1],
            ),
            (
                &["", "", "", "labelB=BBB", "labelA=AAA,labelB=BBB", a],
                &[a, "labelB=BBB"],
                &[4, 0, 1, 2, 5, 3],
            ),
            (
                &[
                    "",
                    "",
                    "",
                    "",
                    "sdfb=eee",
                    "dsf=same",
                    "labelB=BBB",
                    a,
                    a,
                    "labelB=BBB",
                ],
                &["labelB=BBB", a],
                &[7, 6, 0, 1, 2, 3, 4, 5, 9, 8],
            ),
            (
                &[
                    "",
                    "",
                    "",
                    "",
                    "sdfb=eee",
                    "dsf=same",
                    "labelB=BBB",
                    a,
                    a,
                    "labelB=BBB",
                ],
                &[a, "labelB=BBB"],
                &[6, 7, 0, 1, 2, 3, 4, 5, 8, 9],
            ),
        ];
        for (labels, terms, want) in cases {
            let pods: Vec<Pod> = labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let pairs: Vec<(&str, &str)> =
                        l.split(',').filter_map(|kv| kv.split_once('=')).collect();
                    p(&i.to_string(), &pairs)
                })
                .collect();
            let refs: Vec<&Pod> = pods.iter().collect();
            let terms: Vec<UpdateScatterTerm> = terms
                .iter()
                .map(|t| {
                    let (k, v) = t.split_once('=').unwrap();
                    UpdateScatterTerm {
                        key: k.into(),
                        value: v.into(),
                    }
                })
                .collect();
            let got: Vec<usize> = scatter(refs.clone(), &refs, &terms)
                .iter()
                .map(|p| pod::name(p).parse().unwrap())
                .collect();
            assert_eq!(&got, want, "labels {labels:?} terms {terms:?}");
        }
    }

    /// Some pods already updated (not waiting): upstream compares the density of unmatched
    /// pods among all pods, less the last matched one, with the waiting pods' own. Expected
    /// orders from upstream's algorithm (calculateGroupByDensity) worked by hand.
    #[test]
    fn scatter_counts_all_pods_less_the_last_matched() {
        let cases: &[(usize, usize, usize, usize, &[&str])] = &[
            (3, 3, 2, 3, &["u0", "m0", "u1", "u2", "m1"]),
            (3, 4, 2, 4, &["u0", "u1", "m0", "u2", "u3", "m1"]),
        ];
        for &(tm, tu, wm, wu, want) in cases {
            let all: Vec<Pod> = (0..tm)
                .map(|i| p(&format!("m{i}"), &[("zone", "a")]))
                .chain((0..tu).map(|i| p(&format!("u{i}"), &[])))
                .collect();
            let refs: Vec<&Pod> = all.iter().collect();
            let waiting: Vec<&Pod> = refs[..wm]
                .iter()
                .chain(&refs[tm..tm + wu])
                .copied()
                .collect();
            let term = UpdateScatterTerm {
                key: "zone".into(),
                value: "a".into(),
            };
            let got: Vec<&str> = scatter(waiting, &refs, &[term])
                .iter()
                .map(|p| pod::name(p))
                .collect();
            assert_eq!(got, want, "{tm} matched, {tu} unmatched, {wm}+{wu} waiting");
        }
    }

    #[test]
    fn scatter_alternates_matched_and_unmatched() {
        let pods: Vec<Pod> = (0..6)
            .map(|i| p(&format!("p{i}"), &[("zone", if i < 3 { "a" } else { "b" })]))
            .collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let term = UpdateScatterTerm {
            key: "zone".into(),
            value: "a".into(),
        };
        let out = scatter(refs.clone(), &refs, &[term]);
        let zones: Vec<&str> = out.iter().map(|p| pod::label(p, "zone").unwrap()).collect();
        assert_eq!(out.len(), 6);
        assert_eq!(zones.last(), Some(&"a"));
        assert_ne!(zones[0], zones[1]);
    }
}
