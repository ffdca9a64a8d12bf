use std::collections::HashMap;

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use proptest::prelude::*;

use super::*;

const COMPONENT: &str = "cloneset-controller";

fn cloneset(name: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some("apps.kruise.io/v1alpha1".into()),
        kind: Some("CloneSet".into()),
        namespace: Some("shop".into()),
        name: Some(name.into()),
        uid: Some(format!("uid-{name}")),
        resource_version: Some("41".into()),
        field_path: None,
    }
}

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).expect("valid time")
}

/// Feeds one event about `obj` at `secs` into `c`.
fn feed(
    c: &mut Correlator,
    obj: &ObjectReference,
    type_: EventType,
    reason: &str,
    message: &str,
    secs: i64,
) -> Option<Write> {
    let now = at(secs);
    c.correlate(
        new_event(COMPONENT, obj, type_, reason, message.into(), now),
        now,
    )
}

fn normal(c: &mut Correlator, reason: &str, message: &str, secs: i64) -> Option<Write> {
    feed(
        c,
        &cloneset("web"),
        EventType::Normal,
        reason,
        message,
        secs,
    )
}

fn message(w: &Write) -> &str {
    w.event.message.as_deref().unwrap_or_default()
}

#[test]
fn event_shape_follows_client_go() {
    let now = at(0);
    let e = new_event(
        COMPONENT,
        &cloneset("web"),
        EventType::Normal,
        "SuccessfulCreate",
        "succeed to create pod web-x".into(),
        now,
    );
    let nanos = now.as_nanosecond();
    assert_eq!(e.metadata.name, Some(format!("web.{nanos:x}")));
    assert_eq!(e.metadata.namespace.as_deref(), Some("shop"));
    assert_eq!(e.involved_object, cloneset("web"));
    assert_eq!(e.type_.as_deref(), Some("Normal"));
    assert_eq!(e.reason.as_deref(), Some("SuccessfulCreate"));
    assert_eq!(e.message.as_deref(), Some("succeed to create pod web-x"));
    let source = e.source.expect("source");
    assert_eq!(source.component.as_deref(), Some(COMPONENT));
    assert_eq!(source.host, None);
    assert_eq!(e.reporting_component.as_deref(), Some(COMPONENT));
    assert_eq!(e.count, Some(1));
    assert_eq!(e.first_timestamp, Some(Time(now)));
    assert_eq!(e.last_timestamp, Some(Time(now)));
}

#[test]
fn event_of_a_cluster_scoped_object_goes_to_default() {
    let mut obj = cloneset("web");
    obj.namespace = None;
    let e = new_event(COMPONENT, &obj, EventType::Warning, "R", "m".into(), at(0));
    assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
}

#[test]
fn event_name_falls_back_to_a_random_valid_name() {
    let long = "a".repeat(250);
    let e = new_event(
        COMPONENT,
        &cloneset(&long),
        EventType::Normal,
        "R",
        "m".into(),
        at(0),
    );
    let name = e.metadata.name.expect("name");
    assert_eq!(name.len(), 32);
    assert!(is_dns_subdomain(&name));
    assert!(!is_dns_subdomain(&format!("{long}.abcdef")));
    assert!(!is_dns_subdomain("Web.1"));
    assert!(is_dns_subdomain("web-0.1a2b"));
}

#[test]
fn reference_carries_kind_uid_and_resource_version() {
    let pod = Pod {
        metadata: ObjectMeta {
            name: Some("web-abcde".into()),
            namespace: Some("shop".into()),
            uid: Some("u-1".into()),
            resource_version: Some("99".into()),
            ..ObjectMeta::default()
        },
        ..Pod::default()
    };
    let r = reference(&pod);
    assert_eq!(r.kind.as_deref(), Some("Pod"));
    assert_eq!(r.api_version.as_deref(), Some("v1"));
    assert_eq!(r.name.as_deref(), Some("web-abcde"));
    assert_eq!(r.namespace.as_deref(), Some("shop"));
    assert_eq!(r.uid.as_deref(), Some("u-1"));
    assert_eq!(r.resource_version.as_deref(), Some("99"));
}

#[test]
fn identical_events_become_patches_with_increasing_counts() {
    let mut c = Correlator::default();
    let first = normal(&mut c, "ScaleUpLimited", "limit: 2", 0).expect("written");
    assert!(!first.patch);
    let name = first.event.metadata.name.clone();
    for (i, secs) in [5, 9, 30].into_iter().enumerate() {
        let w = normal(&mut c, "ScaleUpLimited", "limit: 2", secs).expect("written");
        assert!(w.patch, "repeat {i} is a patch");
        assert_eq!(w.event.metadata.name, name);
        assert_eq!(w.event.count, Some(i as i32 + 2));
        assert_eq!(w.event.first_timestamp, Some(Time(at(0))));
        assert_eq!(w.event.last_timestamp, Some(Time(at(secs))));
    }
}

#[test]
fn a_changed_resource_version_is_still_the_same_event() {
    let mut c = Correlator::default();
    let mut obj = cloneset("web");
    feed(&mut c, &obj, EventType::Normal, "R", "m", 0).expect("written");
    obj.resource_version = Some("42".into());
    let w = feed(&mut c, &obj, EventType::Normal, "R", "m", 1).expect("written");
    assert!(w.patch);
}

#[test]
fn tenth_distinct_message_of_a_reason_is_combined() {
    let mut c = Correlator::default();
    for i in 0..9 {
        let w = normal(&mut c, "SuccessfulCreate", &format!("pod {i}"), i).expect("written");
        assert!(!w.patch);
        assert_eq!(message(&w), format!("pod {i}"));
    }
    let tenth = normal(&mut c, "SuccessfulCreate", "pod 9", 9).expect("written");
    assert!(!tenth.patch);
    assert_eq!(message(&tenth), "(combined from similar events): pod 9");
    assert_eq!(tenth.event.count, Some(1));
    let eleventh = normal(&mut c, "SuccessfulCreate", "pod 10", 10).expect("written");
    assert!(eleventh.patch);
    assert_eq!(eleventh.event.metadata.name, tenth.event.metadata.name);
    assert_eq!(eleventh.event.count, Some(2));
    assert_eq!(message(&eleventh), "(combined from similar events): pod 10");
}

#[test]
fn repeats_of_the_first_nine_messages_stay_separate() {
    let mut c = Correlator::default();
    let first = normal(&mut c, "R", "m0", 0).expect("written");
    for i in 1..12 {
        normal(&mut c, "R", &format!("m{i}"), i).expect("written");
    }
    let again = normal(&mut c, "R", "m0", 20).expect("written");
    assert_eq!(message(&again), "m0");
    assert_eq!(again.event.metadata.name, first.event.metadata.name);
    assert_eq!(again.event.count, Some(2));
}

#[test]
fn other_reasons_are_not_combined() {
    let mut c = Correlator::default();
    for i in 0..9 {
        normal(&mut c, "SuccessfulCreate", &format!("pod {i}"), i);
    }
    let w = normal(&mut c, "SuccessfulDelete", "pod 0", 9).expect("written");
    assert_eq!(message(&w), "pod 0");
}

#[test]
fn aggregation_restarts_after_ten_quiet_minutes() {
    let mut c = Correlator::default();
    for i in 0..9 {
        normal(&mut c, "R", &format!("m{i}"), i);
    }
    let late = normal(&mut c, "R", "m9", 8 + 601).expect("written");
    assert_eq!(message(&late), "m9");
    let within = normal(&mut c, "R", "m10", 8 + 600).expect("written");
    assert_eq!(message(&within), "m10", "the group restarted with m9");
}

#[test]
fn spam_filter_allows_25_then_one_per_five_minutes() {
    let mut c = Correlator::default();
    // Distinct reasons: neither combined nor deduplicated, so only the filter acts.
    let mut next = 0;
    let mut send = |c: &mut Correlator, secs| {
        next += 1;
        normal(c, &format!("Reason{next}"), "m", secs).is_some()
    };
    let passed = (0..30).filter(|_| send(&mut c, 0)).count();
    assert_eq!(passed, 25);
    assert!(!send(&mut c, 299));
    assert!(send(&mut c, 300));
    assert!(!send(&mut c, 301));
    assert!(send(&mut c, 600));
    let later = (0..30).filter(|_| send(&mut c, 600 + 300 * 30)).count();
    assert_eq!(later, 25, "the bucket refills to its burst, not beyond");
}

#[test]
fn warnings_and_other_objects_have_their_own_spam_budget() {
    let mut c = Correlator::default();
    for i in 0..25 {
        normal(&mut c, &format!("R{i}"), "m", 0).expect("within burst");
    }
    assert!(normal(&mut c, "R-last", "m", 0).is_none());
    let w = feed(&mut c, &cloneset("web"), EventType::Warning, "F", "m", 0);
    assert!(w.is_some(), "warnings have their own bucket");
    let other = feed(&mut c, &cloneset("api"), EventType::Normal, "R", "m", 0);
    assert!(other.is_some(), "another object has its own bucket");
}

#[test]
fn dropped_occurrences_still_count() {
    let mut c = Correlator::default();
    for i in 0..25 {
        normal(&mut c, &format!("R{i}"), "m", 0).expect("within burst");
    }
    assert!(normal(&mut c, "R0", "m", 1).is_none(), "no token left");
    let w = normal(&mut c, "R0", "m", 300).expect("refilled");
    assert!(w.patch);
    assert_eq!(w.event.count, Some(3));
}

#[test]
fn five_hundred_pod_creations_write_at_most_25_events() {
    let mut c = Correlator::default();
    let writes: Vec<Write> = (0..500)
        .filter_map(|i| {
            let msg = format!("succeed to create pod web-{i:05}");
            normal(&mut c, "SuccessfulCreate", &msg, i / 10)
        })
        .collect();
    assert_eq!(writes.len(), 25);
    assert!(writes[..9].iter().all(|w| !w.patch));
    assert!(!writes[9].patch);
    assert!(message(&writes[9]).starts_with(AGGREGATE_PREFIX));
    let combined = &writes[9].event.metadata.name;
    for (w, count) in writes[10..].iter().zip(2..) {
        assert!(w.patch);
        assert_eq!(&w.event.metadata.name, combined);
        assert_eq!(w.event.count, Some(count));
    }
}

#[test]
fn lru_forgets_least_recently_used() {
    let mut l = Lru::new(2);
    l.put("a".into(), 1);
    l.put("b".into(), 2);
    let a = l.take("a").expect("a");
    l.put("a".into(), a);
    l.put("c".into(), 3);
    assert_eq!(l.take("b"), None);
    assert_eq!(l.take("a"), Some(1));
    assert_eq!(l.take("c"), Some(3));
}

#[test]
fn correlator_memory_is_bounded() {
    let mut c = Correlator::default();
    for i in 0..(CACHE_ENTRIES + 10) {
        let obj = cloneset(&format!("cs-{i}"));
        feed(&mut c, &obj, EventType::Normal, "R", "m", 0);
    }
    assert_eq!(c.groups.map.len(), CACHE_ENTRIES);
    assert_eq!(c.seen.map.len(), CACHE_ENTRIES);
    assert_eq!(c.buckets.map.len(), CACHE_ENTRIES);
}

/// Events as (seconds, warning?, reason, message), sorted by time within `span` seconds.
fn events(span: i64) -> impl Strategy<Value = Vec<(i64, bool, u8, u8)>> {
    prop::collection::vec((0..span, any::<bool>(), 0u8..3, 0u8..16), 0..400).prop_map(|mut v| {
        v.sort_by_key(|e| e.0);
        v
    })
}

/// Runs `evs` through one correlator; the writes with their event type.
fn run(evs: &[(i64, bool, u8, u8)]) -> Vec<(bool, Write)> {
    let mut c = Correlator::default();
    let obj = cloneset("web");
    evs.iter()
        .filter_map(|&(t, warn, r, m)| {
            let ty = if warn {
                EventType::Warning
            } else {
                EventType::Normal
            };
            let w = feed(&mut c, &obj, ty, &format!("R{r}"), &format!("m{m}"), t)?;
            Some((warn, w))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn within_five_minutes_at_most_25_writes_per_type(evs in events(300)) {
        let writes = run(&evs);
        let warnings = writes.iter().filter(|(w, _)| *w).count();
        prop_assert!(warnings <= 25, "{warnings} warnings written");
        prop_assert!(writes.len() - warnings <= 25, "{} normal written", writes.len() - warnings);
    }

    #[test]
    fn over_longer_spans_one_more_write_per_five_minutes(evs in events(3600)) {
        let writes = run(&evs);
        let span = evs.last().map_or(0, |e| e.0) - evs.first().map_or(0, |e| e.0);
        let bound = 25 + usize::try_from(span / 300).unwrap_or(0);
        for warn in [false, true] {
            let n = writes.iter().filter(|(w, _)| *w == warn).count();
            prop_assert!(n <= bound, "{n} writes over {span}s");
        }
    }

    #[test]
    fn creates_count_one_and_patches_count_up(evs in events(3600)) {
        let mut counts: HashMap<String, i32> = HashMap::new();
        for (_, w) in run(&evs) {
            let name = w.event.metadata.name.clone().unwrap_or_default();
            let count = w.event.count.unwrap_or(0);
            if w.patch {
                prop_assert!(count >= 2);
                let before = counts.get(&name).copied().unwrap_or(0);
                prop_assert!(count > before, "{name}: {count} after {before}");
            } else {
                prop_assert_eq!(count, 1);
            }
            counts.insert(name, count);
        }
        let total: i32 = counts.values().sum();
        prop_assert!(usize::try_from(total).unwrap_or(0) <= evs.len());
    }

    #[test]
    fn combined_only_after_ten_distinct_messages(evs in events(300)) {
        let mut c = Correlator::default();
        let obj = cloneset("web");
        let mut distinct: HashMap<(bool, u8), std::collections::HashSet<u8>> = HashMap::new();
        for &(t, warn, r, m) in &evs {
            let ty = if warn { EventType::Warning } else { EventType::Normal };
            distinct.entry((warn, r)).or_default().insert(m);
            let Some(w) = feed(&mut c, &obj, ty, &format!("R{r}"), &format!("m{m}"), t) else {
                continue;
            };
            let seen = distinct[&(warn, r)].len();
            if message(&w).starts_with(AGGREGATE_PREFIX) {
                prop_assert!(seen >= AGGREGATE_MAX_MESSAGES, "combined after {seen} messages");
            } else {
                prop_assert_eq!(message(&w), format!("m{m}"));
            }
        }
    }
}
