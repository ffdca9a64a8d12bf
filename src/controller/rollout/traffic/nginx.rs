//! The nginx canary Ingress (reference notes §3.3): a copy of the stable Ingress's routes to
//! the stable Service, pointed at the canary Service, whose `nginx.ingress.kubernetes.io/canary*`
//! annotations say how much or which traffic ingress-nginx sends it. The stable Ingress is never
//! touched; finalising deletes the canary one.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressRule, IngressSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::{Map, Value, json};

use super::Route;
use crate::api::rollout::MatchType;

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";
const BY_COOKIE: &str = "nginx.ingress.kubernetes.io/canary-by-cookie";
const BY_HEADER: &str = "nginx.ingress.kubernetes.io/canary-by-header";
const BY_HEADER_PATTERN: &str = "nginx.ingress.kubernetes.io/canary-by-header-pattern";
const BY_HEADER_VALUE: &str = "nginx.ingress.kubernetes.io/canary-by-header-value";
const WEIGHT: &str = "nginx.ingress.kubernetes.io/canary-weight";

/// A match header with this name means "canary by cookie", its value the cookie's name.
const COOKIE_HEADER: &str = "canary-by-cookie";

/// The canary Ingress to create for `stable`, as upstream v0.6.2 builds it: annotations,
/// labels, `ingressClassName` and `tls` copied; of the rules, only the paths whose backend is
/// the stable Service, renamed to the canary Service (a host left with none is dropped); the
/// annotations already computed for weight 0 and no matches, so it takes no traffic yet.
pub fn canary_ingress(
    stable: &Ingress,
    stable_service: &str,
    canary_service: &str,
    canary_name: &str,
    owner: OwnerReference,
) -> Ingress {
    let copied = stable.metadata.annotations.clone().unwrap_or_default();
    let none = Route {
        traffic: Some(0),
        matches: &[],
    };
    let spec = stable.spec.as_ref();
    let rules: Vec<IngressRule> = spec
        .and_then(|s| s.rules.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|rule| canary_rule(rule, stable_service, canary_service))
        .collect();
    Ingress {
        metadata: ObjectMeta {
            name: Some(canary_name.to_string()),
            namespace: stable.metadata.namespace.clone(),
            annotations: Some(annotations(&copied, &none)),
            labels: stable.metadata.labels.clone(),
            owner_references: Some(vec![owner]),
            ..ObjectMeta::default()
        },
        spec: Some(IngressSpec {
            ingress_class_name: spec.and_then(|s| s.ingress_class_name.clone()),
            tls: spec.and_then(|s| s.tls.clone()),
            rules: (!rules.is_empty()).then_some(rules),
            default_backend: None,
        }),
        status: None,
    }
}

/// `rule` with only its paths to the stable Service, now to the canary one; `None` when it has
/// no such path. (Upstream would crash on a rule without `http` or on a resource backend; such
/// paths simply are not the stable Service's here.)
fn canary_rule(rule: &IngressRule, stable: &str, canary: &str) -> Option<IngressRule> {
    let paths: Vec<HTTPIngressPath> = rule
        .http
        .as_ref()?
        .paths
        .iter()
        .filter(|p| p.backend.service.as_ref().is_some_and(|s| s.name == stable))
        .map(|p| {
            let mut path = p.clone();
            if let Some(service) = path.backend.service.as_mut() {
                service.name = canary.to_string();
            }
            path
        })
        .collect();
    (!paths.is_empty()).then(|| IngressRule {
        host: rule.host.clone(),
        http: Some(HTTPIngressRuleValue { paths }),
    })
}

/// The canary Ingress's annotations for `route`, from its `current` ones: the logic of
/// upstream's built-in `nginx.lua`.
///
/// Every canary key is rewritten: `canary: "true"`; the weight when the step sets traffic;
/// then, for each match, its **first** header only, as canary-by-cookie (header named
/// `canary-by-cookie`) or canary-by-header plus a pattern (`RegularExpression`) or a value.
/// Later matches overwrite earlier ones: nginx honours one header rule. Paths and query
/// parameters are not expressible here and are ignored. Other annotations are kept.
pub fn annotations(current: &BTreeMap<String, String>, route: &Route) -> BTreeMap<String, String> {
    let mut out = current.clone();
    out.insert(CANARY.to_string(), "true".to_string());
    for key in [
        BY_COOKIE,
        BY_HEADER,
        BY_HEADER_PATTERN,
        BY_HEADER_VALUE,
        WEIGHT,
    ] {
        out.remove(key);
    }
    if let Some(weight) = route.traffic {
        out.insert(WEIGHT.to_string(), weight.to_string());
    }
    let firsts = route
        .matches
        .iter()
        .filter_map(|m| m.headers.as_ref()?.first());
    for header in firsts {
        if header.name == COOKIE_HEADER {
            out.insert(BY_COOKIE.to_string(), header.value.clone());
            continue;
        }
        out.insert(BY_HEADER.to_string(), header.name.clone());
        let key = match header.type_ {
            Some(MatchType::RegularExpression) => BY_HEADER_PATTERN,
            _ => BY_HEADER_VALUE,
        };
        out.insert(key.to_string(), header.value.clone());
    }
    out
}

/// The JSON merge patch taking the canary Ingress from `current` to `desired` annotations
/// (`{"metadata":{"annotations":{…}}}`, removed keys as `null`), or `None` when they are equal.
pub fn annotations_patch(
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Option<Value> {
    if current == desired {
        return None;
    }
    let mut changes: Map<String, Value> = desired
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    for k in current.keys().filter(|k| !desired.contains_key(*k)) {
        changes.insert(k.clone(), Value::Null);
    }
    Some(json!({"metadata": {"annotations": changes}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rollout::{HttpHeaderMatch, HttpQueryParamMatch, HttpRouteMatch};

    fn owner() -> OwnerReference {
        OwnerReference {
            api_version: "rollouts.kruise.io/v1beta1".into(),
            kind: "Rollout".into(),
            name: "demo".into(),
            uid: "uid-1".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn header(name: &str, value: &str, type_: Option<MatchType>) -> HttpHeaderMatch {
        HttpHeaderMatch {
            type_,
            name: name.into(),
            value: value.into(),
        }
    }

    fn by_headers(headers: Vec<HttpHeaderMatch>) -> HttpRouteMatch {
        HttpRouteMatch {
            headers: Some(headers),
            ..HttpRouteMatch::default()
        }
    }

    fn stable_ingress() -> Ingress {
        serde_json::from_value(json!({
            "metadata": {
                "name": "web", "namespace": "ns",
                "labels": {"app": "web"},
                "annotations": {"kubernetes.io/ingress.class": "nginx", "x": "y"},
                "resourceVersion": "3", "uid": "ing-uid"
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
                "defaultBackend": {"service": {"name": "echo", "port": {"number": 80}}},
                "rules": [
                    {"host": "a.example", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "echo", "port": {"number": 80}}}},
                        {"path": "/other", "pathType": "Exact",
                         "backend": {"service": {"name": "other", "port": {"number": 80}}}},
                        {"path": "/api", "pathType": "Prefix",
                         "backend": {"service": {"name": "echo", "port": {"name": "http"}}}}
                    ]}},
                    {"host": "b.example", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "other", "port": {"number": 80}}}}
                    ]}},
                    {"host": "c.example"},
                    {"http": {"paths": [
                        {"path": "/bucket", "pathType": "Prefix",
                         "backend": {"resource": {"kind": "Bucket", "name": "b"}}},
                        {"path": "/", "pathType": "Prefix",
                         "backend": {"service": {"name": "echo", "port": {"number": 8080}}}}
                    ]}}
                ]
            }
        }))
        .unwrap()
    }

    #[test]
    fn canary_ingress_keeps_only_stable_paths_renamed() {
        let ing = canary_ingress(
            &stable_ingress(),
            "echo",
            "echo-canary",
            "web-canary",
            owner(),
        );
        let wire = serde_json::to_value(&ing).unwrap();
        assert_eq!(
            wire["spec"]["rules"],
            json!([
                {"host": "a.example", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "echo-canary", "port": {"number": 80}}}},
                    {"path": "/api", "pathType": "Prefix",
                     "backend": {"service": {"name": "echo-canary", "port": {"name": "http"}}}}
                ]}},
                {"http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "echo-canary", "port": {"number": 8080}}}}
                ]}}
            ])
        );
    }

    #[test]
    fn canary_ingress_copies_metadata_class_and_tls_with_weight_zero() {
        let ing = canary_ingress(
            &stable_ingress(),
            "echo",
            "echo-canary",
            "web-canary",
            owner(),
        );
        assert_eq!(ing.metadata.name.as_deref(), Some("web-canary"));
        assert_eq!(ing.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(ing.metadata.labels, Some(map(&[("app", "web")])));
        assert_eq!(ing.metadata.owner_references, Some(vec![owner()]));
        assert_eq!(ing.metadata.resource_version, None);
        assert_eq!(
            ing.metadata.annotations,
            Some(map(&[
                ("kubernetes.io/ingress.class", "nginx"),
                ("x", "y"),
                (CANARY, "true"),
                (WEIGHT, "0"),
            ]))
        );
        let spec = ing.spec.unwrap();
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        assert_eq!(spec.tls, stable_ingress().spec.unwrap().tls);
        assert_eq!(spec.default_backend, None);
    }

    #[test]
    fn canary_ingress_drops_stale_canary_annotations_of_the_stable() {
        let mut stable = stable_ingress();
        stable.metadata.annotations = Some(map(&[(BY_HEADER, "x-old"), (WEIGHT, "50")]));
        let ing = canary_ingress(&stable, "echo", "echo-canary", "c", owner());
        assert_eq!(
            ing.metadata.annotations,
            Some(map(&[(CANARY, "true"), (WEIGHT, "0")]))
        );
    }

    #[test]
    fn canary_ingress_without_stable_paths_has_no_rules() {
        let ing = canary_ingress(&stable_ingress(), "nobody", "nobody-canary", "c", owner());
        assert_eq!(ing.spec.unwrap().rules, None);
        let bare = canary_ingress(&Ingress::default(), "echo", "echo-canary", "c", owner());
        assert_eq!(bare.spec.unwrap().rules, None);
        assert_eq!(
            bare.metadata.annotations,
            Some(map(&[(CANARY, "true"), (WEIGHT, "0")]))
        );
    }

    #[test]
    fn weight_replaces_all_canary_keys() {
        let current = map(&[
            (CANARY, "false"),
            (BY_COOKIE, "c"),
            (BY_HEADER, "h"),
            (BY_HEADER_PATTERN, "p"),
            (BY_HEADER_VALUE, "v"),
            (WEIGHT, "10"),
            ("keep", "me"),
        ]);
        let route = Route {
            traffic: Some(20),
            matches: &[],
        };
        assert_eq!(
            annotations(&current, &route),
            map(&[(CANARY, "true"), (WEIGHT, "20"), ("keep", "me")])
        );
    }

    #[test]
    fn no_traffic_removes_the_weight() {
        let current = map(&[(CANARY, "true"), (WEIGHT, "10")]);
        let route = Route::default();
        assert_eq!(annotations(&current, &route), map(&[(CANARY, "true")]));
    }

    #[test]
    fn header_exact_and_by_default() {
        let matches = [by_headers(vec![
            header("x-user", "beta", None),
            header("x-ignored", "z", None),
        ])];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        assert_eq!(
            annotations(&BTreeMap::new(), &route),
            map(&[
                (CANARY, "true"),
                (BY_HEADER, "x-user"),
                (BY_HEADER_VALUE, "beta")
            ])
        );
        let exact = [by_headers(vec![header(
            "x-user",
            "beta",
            Some(MatchType::Exact),
        )])];
        let route = Route {
            traffic: None,
            matches: &exact,
        };
        assert_eq!(
            annotations(&BTreeMap::new(), &route)[BY_HEADER_VALUE],
            "beta"
        );
    }

    #[test]
    fn header_regular_expression_is_a_pattern() {
        let matches = [by_headers(vec![header(
            "x-user",
            "be.*",
            Some(MatchType::RegularExpression),
        )])];
        let route = Route {
            traffic: Some(30),
            matches: &matches,
        };
        assert_eq!(
            annotations(&BTreeMap::new(), &route),
            map(&[
                (CANARY, "true"),
                (WEIGHT, "30"),
                (BY_HEADER, "x-user"),
                (BY_HEADER_PATTERN, "be.*")
            ])
        );
    }

    #[test]
    fn canary_by_cookie() {
        let matches = [by_headers(vec![header(
            "canary-by-cookie",
            "beta_user",
            None,
        )])];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        assert_eq!(
            annotations(&map(&[(BY_HEADER, "old")]), &route),
            map(&[(CANARY, "true"), (BY_COOKIE, "beta_user")])
        );
    }

    #[test]
    fn later_matches_overwrite_and_empty_ones_are_skipped() {
        let matches = [
            by_headers(vec![header("x-a", "1", Some(MatchType::RegularExpression))]),
            by_headers(vec![]),
            HttpRouteMatch {
                query_params: Some(vec![HttpQueryParamMatch {
                    type_: None,
                    name: "q".into(),
                    value: "1".into(),
                }]),
                ..HttpRouteMatch::default()
            },
            by_headers(vec![header("x-b", "2", None)]),
            by_headers(vec![header("canary-by-cookie", "ck", None)]),
        ];
        let route = Route {
            traffic: None,
            matches: &matches,
        };
        // x-b overwrote x-a's name; x-a's pattern stays, as the Lua script leaves it.
        assert_eq!(
            annotations(&BTreeMap::new(), &route),
            map(&[
                (CANARY, "true"),
                (BY_HEADER, "x-b"),
                (BY_HEADER_PATTERN, "1"),
                (BY_HEADER_VALUE, "2"),
                (BY_COOKIE, "ck"),
            ])
        );
    }

    #[test]
    fn every_written_key_is_a_canary_key() {
        let matches = [by_headers(vec![header("x", "y", None)])];
        let route = Route {
            traffic: Some(5),
            matches: &matches,
        };
        let out = annotations(&BTreeMap::new(), &route);
        assert!(out.keys().all(|k| k.starts_with(CANARY)));
    }

    #[test]
    fn patch_sets_changes_and_nulls_removals() {
        let current = map(&[
            (CANARY, "true"),
            (WEIGHT, "10"),
            (BY_HEADER, "x"),
            ("k", "v"),
        ]);
        let desired = map(&[(CANARY, "true"), (WEIGHT, "20"), ("k", "v")]);
        assert_eq!(
            annotations_patch(&current, &desired),
            Some(json!({"metadata": {"annotations": {WEIGHT: "20", BY_HEADER: null}}}))
        );
    }

    #[test]
    fn patch_is_none_when_equal() {
        let current = map(&[(CANARY, "true"), (WEIGHT, "10")]);
        assert_eq!(annotations_patch(&current, &current.clone()), None);
        assert_eq!(annotations_patch(&BTreeMap::new(), &BTreeMap::new()), None);
    }

    #[test]
    fn patch_applies_as_a_merge_patch() {
        let current = map(&[(CANARY, "true"), (BY_COOKIE, "c"), ("k", "v")]);
        let desired = map(&[(CANARY, "true"), (WEIGHT, "40"), ("k", "v")]);
        let mut doc = json!({"metadata": {"annotations": current}});
        let patch = annotations_patch(&current, &desired).unwrap();
        json_patch::merge(&mut doc, &patch);
        assert_eq!(doc, json!({"metadata": {"annotations": desired}}));
    }
}
