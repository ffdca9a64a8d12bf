//! Gateway API HTTPRoute rules (reference notes §3.5): the desired `spec.rules` for a step,
//! and for finalising. Rules are handled as JSON so that fields this tool does not model
//! (filters, timeouts, newer additions) round-trip untouched. The caller compares the result
//! with the current rules and replaces them when they differ, as upstream does.

use serde_json::{Map, Value, json};

use super::Route;
use crate::api::gateway::HttpRoute;
use crate::api::rollout::{
    HttpHeaderMatch, HttpPathMatch, HttpQueryParamMatch, HttpRouteMatch, MatchType, PathMatchType,
};

/// The route's `spec.rules`, or an empty array when it has none.
pub fn rules_of(route: &HttpRoute) -> Value {
    match route.spec.get("rules") {
        Some(rules @ Value::Array(_)) => rules.clone(),
        _ => Value::Array(Vec::new()),
    }
}

/// The rules with `route` applied: match mode when the step has matches (they take
/// precedence, as the Gateway API cannot weigh and match in one rule), else weight mode.
/// A step with neither leaves the rules as they are (upstream never routes such a step).
pub fn routed_rules(rules: &Value, stable: &str, canary: &str, route: &Route) -> Value {
    let rules = list(rules);
    if !route.matches.is_empty() {
        return Value::Array(matched(rules, stable, canary, route.matches));
    }
    let Some(weight) = route.traffic else {
        return Value::Array(rules.to_vec());
    };
    Value::Array(
        rules
            .iter()
            .map(|rule| weighted(rule, stable, canary, weight))
            .collect(),
    )
}

/// The rules with the rollout undone: each rule loses its (first) canary ref, the stable ref
/// gets weight 1, and a rule left without backendRefs (a canary rule of match mode) is dropped.
///
/// As upstream, *any* rule without backendRefs is dropped, also one that never had any (a
/// redirect-only rule, say).
pub fn finalised_rules(rules: &Value, stable: &str, canary: &str) -> Value {
    let mut out = Vec::new();
    for rule in list(rules) {
        let mut rule = rule.clone();
        if let (Some(i), Some(refs)) = (find_ref(&rule, canary), refs_mut(&mut rule)) {
            refs.remove(i);
        }
        if let (Some(i), Some(refs)) = (find_ref(&rule, stable), refs_mut(&mut rule)) {
            refs[i]["weight"] = json!(1);
        }
        if !backend_refs(&rule).is_empty() {
            out.push(rule);
        }
    }
    Value::Array(out)
}

/// Weight mode for one rule: stable ref `100-w`, canary ref `w` (updated in place, or added as
/// a copy of the stable ref). A rule without the stable ref is left alone.
fn weighted(rule: &Value, stable: &str, canary: &str, weight: i32) -> Value {
    let mut rule = rule.clone();
    let Some(si) = find_ref(&rule, stable) else {
        return rule;
    };
    let ci = find_ref(&rule, canary);
    let Some(refs) = refs_mut(&mut rule) else {
        return rule;
    };
    refs[si]["weight"] = json!(100 - weight);
    match ci {
        Some(ci) => refs[ci]["weight"] = json!(weight),
        None => {
            let mut copy = renamed(&refs[si], canary);
            copy["weight"] = json!(weight);
            refs.push(copy);
        }
    }
    rule
}

/// Match mode: the original rules minus those already pointing to the canary Service, then one
/// canary rule per stable rule (a copy whose only backend is the canary ref), appended last.
///
/// A rule holding both refs (left by an earlier weight step) is dropped whole and gets no
/// canary rule, as upstream does.
fn matched(rules: &[Value], stable: &str, canary: &str, matches: &[HttpRouteMatch]) -> Vec<Value> {
    let non_path = matches.iter().filter(|m| m.path.is_none()).count();
    // Entries with a path stand alone, and only in the first canary rule.
    let mut path_entries: Vec<Value> = matches
        .iter()
        .filter_map(|m| m.path.as_ref().map(|p| standalone(p, m)))
        .collect();
    let mut kept = Vec::new();
    let mut canaries = Vec::new();
    for rule in rules {
        if find_ref(rule, canary).is_some() {
            continue;
        }
        kept.push(rule.clone());
        let Some(si) = find_ref(rule, stable) else {
            continue;
        };
        let mut rule_matches = std::mem::take(&mut path_entries);
        if non_path == 0 && rule_matches.is_empty() {
            continue;
        }
        for own in list(&rule["matches"]) {
            // Upstream quirk (v0.6.2), kept on purpose: the loop counts the entries *without*
            // a path but reads the entries of the full list at those positions. The result is
            // as intended only when every path-less entry precedes every entry with a path;
            // otherwise a path entry's headers are merged here and a path-less one is skipped.
            for entry in &matches[..non_path] {
                rule_matches.push(extended(own, entry));
            }
        }
        canaries.push(canary_rule(rule, si, canary, rule_matches));
    }
    kept.extend(canaries);
    kept
}

/// A copy of `rule` sending only to the canary Service, under `matches`.
///
/// Its `name` is dropped: Gateway API rule names must be unique within the route (upstream's
/// typed client, older than the field, never saw it). Empty `matches` are left out, as Go's
/// `omitempty` does; the API server then defaults them to "every request".
fn canary_rule(rule: &Value, stable_index: usize, canary: &str, matches: Vec<Value>) -> Value {
    let mut out = rule.clone();
    let canary_ref = renamed(&backend_refs(rule)[stable_index], canary);
    if let Some(fields) = out.as_object_mut() {
        fields.remove("name");
        fields.insert("backendRefs".into(), json!([canary_ref]));
        if matches.is_empty() {
            fields.remove("matches");
        } else {
            fields.insert("matches".into(), Value::Array(matches));
        }
    }
    out
}

/// A step entry with a path, as an HTTPRoute match of its own.
fn standalone(path: &HttpPathMatch, entry: &HttpRouteMatch) -> Value {
    let mut out = Map::new();
    out.insert("path".into(), path_json(path));
    extend_list(&mut out, "headers", headers_json(entry));
    extend_list(&mut out, "queryParams", params_json(entry));
    Value::Object(out)
}

/// The rule's own match `base` with a step entry's headers and query params appended.
fn extended(base: &Value, entry: &HttpRouteMatch) -> Value {
    let mut out = base.as_object().cloned().unwrap_or_default();
    extend_list(&mut out, "headers", headers_json(entry));
    extend_list(&mut out, "queryParams", params_json(entry));
    Value::Object(out)
}

/// Appends `items` to the array at `key`, creating it; nothing when `items` is empty.
fn extend_list(obj: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    let slot = obj.entry(key).or_insert_with(|| json!([]));
    if !slot.is_array() {
        *slot = json!([]);
    }
    if let Some(list) = slot.as_array_mut() {
        list.extend(items);
    }
}

// Step matches are written with the Gateway API defaults filled in (upstream's Rollout CRD
// defaults them; this project's does not), so the rules written equal the rules the API server
// stores and the next pass finds nothing to change.

fn path_json(path: &HttpPathMatch) -> Value {
    let type_ = match path.type_.unwrap_or(PathMatchType::PathPrefix) {
        PathMatchType::Exact => "Exact",
        PathMatchType::PathPrefix => "PathPrefix",
        PathMatchType::RegularExpression => "RegularExpression",
    };
    json!({"type": type_, "value": path.value.as_deref().unwrap_or("/")})
}

fn match_type(t: Option<MatchType>) -> &'static str {
    match t.unwrap_or(MatchType::Exact) {
        MatchType::Exact => "Exact",
        MatchType::RegularExpression => "RegularExpression",
    }
}

fn headers_json(entry: &HttpRouteMatch) -> Vec<Value> {
    let headers: &[HttpHeaderMatch] = entry.headers.as_deref().unwrap_or_default();
    headers
        .iter()
        .map(|h| json!({"type": match_type(h.type_), "name": h.name, "value": h.value}))
        .collect()
}

fn params_json(entry: &HttpRouteMatch) -> Vec<Value> {
    let params: &[HttpQueryParamMatch] = entry.query_params.as_deref().unwrap_or_default();
    params
        .iter()
        .map(|q| json!({"type": match_type(q.type_), "name": q.name, "value": q.value}))
        .collect()
}

/// The elements of a JSON array (none for anything else).
fn list(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn backend_refs(rule: &Value) -> &[Value] {
    list(&rule["backendRefs"])
}

fn refs_mut(rule: &mut Value) -> Option<&mut Vec<Value>> {
    rule.get_mut("backendRefs")?.as_array_mut()
}

/// Position of the first backendRef to Service `name`.
///
/// Upstream requires `kind` to be set to `"Service"`. The API server defaults a missing `kind`
/// to `"Service"`, so every stored ref has one; a missing `kind` counts as `"Service"` here.
fn find_ref(rule: &Value, name: &str) -> Option<usize> {
    backend_refs(rule).iter().position(|r| {
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("Service");
        kind == "Service" && r.get("name").and_then(Value::as_str) == Some(name)
    })
}

/// A copy of backendRef `r` naming `name`.
fn renamed(r: &Value, name: &str) -> Value {
    let mut out = r.clone();
    out["name"] = json!(name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn svc(name: &str, weight: Option<i32>) -> Value {
        let mut r = json!({"group": "", "kind": "Service", "name": name, "port": 80});
        if let Some(w) = weight {
            r["weight"] = json!(w);
        }
        r
    }

    fn prefix(p: &str) -> Value {
        json!({"path": {"type": "PathPrefix", "value": p}})
    }

    fn rule(matches: Vec<Value>, refs: Vec<Value>) -> Value {
        json!({"matches": matches, "backendRefs": refs})
    }

    fn header(name: &str, value: &str) -> HttpHeaderMatch {
        HttpHeaderMatch {
            type_: None,
            name: name.into(),
            value: value.into(),
        }
    }

    fn by_header(name: &str, value: &str) -> HttpRouteMatch {
        HttpRouteMatch {
            headers: Some(vec![header(name, value)]),
            ..HttpRouteMatch::default()
        }
    }

    fn weight(w: i32) -> Route<'static> {
        Route {
            traffic: Some(w),
            matches: &[],
        }
    }

    #[test]
    fn rules_of_reads_spec_rules() {
        let mut route = HttpRoute {
            metadata: ObjectMeta::default(),
            ..HttpRoute::default()
        };
        assert_eq!(rules_of(&route), json!([]));
        route.spec = json!({"rules": "junk"});
        assert_eq!(rules_of(&route), json!([]));
        route.spec = json!({"parentRefs": [], "rules": [rule(vec![], vec![svc("a", None)])]});
        assert_eq!(
            rules_of(&route),
            json!([rule(vec![], vec![svc("a", None)])])
        );
    }

    #[test]
    fn weight_adds_a_canary_ref_copied_from_stable() {
        let mut stable = svc("echo", Some(1));
        stable["namespace"] = json!("ns");
        let rules = json!([rule(vec![prefix("/")], vec![stable.clone()])]);
        let mut canary = stable.clone();
        canary["name"] = json!("echo-canary");
        canary["weight"] = json!(20);
        stable["weight"] = json!(80);
        assert_eq!(
            routed_rules(&rules, "echo", "echo-canary", &weight(20)),
            json!([rule(vec![prefix("/")], vec![stable, canary])])
        );
    }

    #[test]
    fn weight_updates_an_existing_canary_ref_in_place() {
        let rules = json!([rule(
            vec![prefix("/")],
            vec![
                svc("echo-canary", Some(20)),
                svc("other", Some(5)),
                svc("echo", Some(80))
            ]
        )]);
        assert_eq!(
            routed_rules(&rules, "echo", "echo-canary", &weight(60)),
            json!([rule(
                vec![prefix("/")],
                vec![
                    svc("echo-canary", Some(60)),
                    svc("other", Some(5)),
                    svc("echo", Some(40))
                ]
            )])
        );
    }

    #[test]
    fn weight_leaves_rules_without_the_stable_ref() {
        let rules = json!([
            rule(vec![prefix("/a")], vec![svc("other", None)]),
            rule(vec![prefix("/c")], vec![svc("echo-canary", Some(3))]),
            {"filters": [{"type": "RequestRedirect"}]},
            rule(vec![prefix("/")], vec![svc("echo", None)]),
        ]);
        let out = routed_rules(&rules, "echo", "echo-canary", &weight(10));
        assert_eq!(out[0], rules[0]);
        assert_eq!(out[1], rules[1]);
        assert_eq!(out[2], rules[2]);
        assert_eq!(
            out[3]["backendRefs"],
            json!([svc("echo", Some(90)), svc("echo-canary", Some(10))])
        );
    }

    #[test]
    fn weight_counts_only_service_refs_and_missing_kind_as_service() {
        let mut not_service = svc("echo", None);
        not_service["kind"] = json!("ServiceImport");
        let no_kind = json!({"name": "echo", "port": 80});
        let rules = json!([
            rule(vec![], vec![not_service.clone()]),
            rule(vec![], vec![no_kind.clone()]),
        ]);
        let out = routed_rules(&rules, "echo", "echo-canary", &weight(30));
        assert_eq!(out[0], rules[0]);
        assert_eq!(
            out[1]["backendRefs"],
            json!([
                {"name": "echo", "port": 80, "weight": 70},
                {"name": "echo-canary", "port": 80, "weight": 30}
            ])
        );
    }

    #[test]
    fn weight_zero_and_hundred() {
        let rules = json!([rule(vec![], vec![svc("echo", None)])]);
        let zero = routed_rules(&rules, "echo", "c", &weight(0));
        assert_eq!(
            zero[0]["backendRefs"],
            json!([svc("echo", Some(100)), svc("c", Some(0))])
        );
        let all = routed_rules(&rules, "echo", "c", &weight(100));
        assert_eq!(
            all[0]["backendRefs"],
            json!([svc("echo", Some(0)), svc("c", Some(100))])
        );
    }

    #[test]
    fn no_traffic_no_matches_changes_nothing() {
        let rules = json!([rule(vec![], vec![svc("echo", Some(1))])]);
        assert_eq!(routed_rules(&rules, "echo", "c", &Route::default()), rules);
    }

    #[test]
    fn matches_append_a_canary_rule_per_stable_rule() {
        let stable_rule = json!({
            "name": "main",
            "matches": [prefix("/")],
            "filters": [{"type": "RequestHeaderModifier"}],
            "backendRefs": [svc("echo", Some(1)), svc("other", Some(1))]
        });
        let rules = json!([
            stable_rule.clone(),
            rule(vec![prefix("/x")], vec![svc("x", None)])
        ]);
        let matches = [by_header("user-agent", "beta")];
        let route = Route {
            traffic: Some(50),
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "echo-canary", &route);
        assert_eq!(
            out,
            json!([
                stable_rule,
                rule(vec![prefix("/x")], vec![svc("x", None)]),
                {
                    "matches": [{
                        "path": {"type": "PathPrefix", "value": "/"},
                        "headers": [{"type": "Exact", "name": "user-agent", "value": "beta"}]
                    }],
                    "filters": [{"type": "RequestHeaderModifier"}],
                    "backendRefs": [svc("echo-canary", Some(1))]
                }
            ])
        );
    }

    #[test]
    fn matches_with_regular_expression_and_query_params() {
        let rules = json!([rule(
            vec![
                prefix("/a"),
                json!({"path": {"type": "Exact", "value": "/b"}, "headers": [{"type": "Exact", "name": "h", "value": "1"}]})
            ],
            vec![svc("echo", None)]
        )]);
        let matches = [HttpRouteMatch {
            headers: Some(vec![HttpHeaderMatch {
                type_: Some(MatchType::RegularExpression),
                name: "x-user".into(),
                value: "be.*".into(),
            }]),
            query_params: Some(vec![HttpQueryParamMatch {
                type_: None,
                name: "canary".into(),
                value: "1".into(),
            }]),
            path: None,
        }];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        let regex = json!({"type": "RegularExpression", "name": "x-user", "value": "be.*"});
        let query = json!({"type": "Exact", "name": "canary", "value": "1"});
        assert_eq!(
            out[1]["matches"],
            json!([
                {"path": {"type": "PathPrefix", "value": "/a"}, "headers": [regex], "queryParams": [query]},
                {"path": {"type": "Exact", "value": "/b"},
                 "headers": [{"type": "Exact", "name": "h", "value": "1"}, regex],
                 "queryParams": [query]}
            ])
        );
    }

    #[test]
    fn matches_drop_rules_already_pointing_to_the_canary() {
        let rules = json!([
            rule(
                vec![prefix("/")],
                vec![svc("echo", Some(80)), svc("c", Some(20))]
            ),
            rule(vec![prefix("/old")], vec![svc("c", Some(1))]),
            rule(vec![prefix("/api")], vec![svc("echo", Some(1))]),
        ]);
        let matches = [by_header("x", "y")];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        assert_eq!(out.as_array().unwrap().len(), 2);
        assert_eq!(out[0], rules[2]);
        assert_eq!(out[1]["backendRefs"], json!([svc("c", Some(1))]));
        assert_eq!(out[1]["matches"][0]["path"]["value"], "/api");
    }

    #[test]
    fn matches_are_idempotent() {
        let rules = json!([rule(vec![prefix("/")], vec![svc("echo", Some(1))])]);
        let matches = [by_header("x", "y")];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let once = routed_rules(&rules, "echo", "c", &route);
        assert_eq!(routed_rules(&once, "echo", "c", &route), once);
    }

    #[test]
    fn path_entries_go_only_to_the_first_canary_rule() {
        let rules = json!([
            rule(vec![prefix("/a")], vec![svc("echo", None)]),
            rule(vec![prefix("/b")], vec![svc("echo", None)]),
        ]);
        let matches = [
            by_header("x", "1"),
            HttpRouteMatch {
                path: Some(HttpPathMatch {
                    type_: None,
                    value: Some("/beta".into()),
                }),
                headers: Some(vec![header("y", "2")]),
                query_params: Some(vec![]),
            },
        ];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        let x = json!({"type": "Exact", "name": "x", "value": "1"});
        assert_eq!(
            out[2]["matches"],
            json!([
                {"path": {"type": "PathPrefix", "value": "/beta"},
                 "headers": [{"type": "Exact", "name": "y", "value": "2"}]},
                {"path": {"type": "PathPrefix", "value": "/a"}, "headers": [x]}
            ])
        );
        assert_eq!(
            out[3]["matches"],
            json!([{"path": {"type": "PathPrefix", "value": "/b"}, "headers": [x]}])
        );
    }

    #[test]
    fn upstream_index_quirk_reads_the_full_list() {
        // A path entry first, a path-less entry second: the one path-less slot reads
        // matches[0], the path entry's headers, and the path-less entry is never used.
        let rules = json!([rule(vec![prefix("/")], vec![svc("echo", None)])]);
        let matches = [
            HttpRouteMatch {
                path: Some(HttpPathMatch {
                    type_: Some(PathMatchType::Exact),
                    value: Some("/p".into()),
                }),
                headers: Some(vec![header("from-path-entry", "1")]),
                query_params: None,
            },
            by_header("from-plain-entry", "2"),
        ];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        let from_path = json!({"type": "Exact", "name": "from-path-entry", "value": "1"});
        assert_eq!(
            out[1]["matches"],
            json!([
                {"path": {"type": "Exact", "value": "/p"}, "headers": [from_path]},
                {"path": {"type": "PathPrefix", "value": "/"}, "headers": [from_path]}
            ])
        );
    }

    #[test]
    fn only_path_entries_and_a_second_rule_gets_no_canary() {
        let rules = json!([
            rule(vec![prefix("/a")], vec![svc("echo", None)]),
            rule(vec![prefix("/b")], vec![svc("echo", None)]),
        ]);
        let matches = [HttpRouteMatch {
            path: Some(HttpPathMatch::default()),
            ..HttpRouteMatch::default()
        }];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        assert_eq!(out.as_array().unwrap().len(), 3);
        assert_eq!(
            out[2]["matches"],
            json!([{"path": {"type": "PathPrefix", "value": "/"}}])
        );
    }

    #[test]
    fn a_stable_rule_without_matches_gets_a_catch_all_canary_rule() {
        let rules = json!([{"backendRefs": [svc("echo", None)]}]);
        let matches = [by_header("x", "1")];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let out = routed_rules(&rules, "echo", "c", &route);
        assert_eq!(out[1], json!({"backendRefs": [svc("c", None)]}));
    }

    #[test]
    fn finalise_removes_canary_refs_and_resets_stable_weight() {
        let rules = json!([
            rule(
                vec![prefix("/")],
                vec![svc("echo", Some(40)), svc("c", Some(60))]
            ),
            rule(vec![prefix("/x")], vec![svc("x", Some(7))]),
            rule(vec![prefix("/")], vec![svc("c", Some(1))]),
        ]);
        assert_eq!(
            finalised_rules(&rules, "echo", "c"),
            json!([
                rule(vec![prefix("/")], vec![svc("echo", Some(1))]),
                rule(vec![prefix("/x")], vec![svc("x", Some(7))]),
            ])
        );
    }

    #[test]
    fn finalise_undoes_match_mode() {
        let rules = json!([rule(vec![prefix("/")], vec![svc("echo", Some(1))])]);
        let matches = [by_header("x", "1")];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        let routed = routed_rules(&rules, "echo", "c", &route);
        assert_eq!(finalised_rules(&routed, "echo", "c"), rules);
        let weighted = routed_rules(&rules, "echo", "c", &weight(35));
        assert_eq!(finalised_rules(&weighted, "echo", "c"), rules);
    }

    #[test]
    fn finalise_drops_rules_without_backend_refs_as_upstream() {
        let rules = json!([
            {"matches": [prefix("/r")], "filters": [{"type": "RequestRedirect"}]},
            rule(vec![prefix("/")], vec![svc("echo", None)]),
        ]);
        assert_eq!(
            finalised_rules(&rules, "echo", "c"),
            json!([rule(vec![prefix("/")], vec![svc("echo", Some(1))])])
        );
        assert_eq!(finalised_rules(&json!(null), "echo", "c"), json!([]));
    }
}
