//! Which nodes a DaemonSet's pod should run on, as Kubernetes' DaemonSet controller decides
//! it (OpenKruise `nodeShouldRunDaemonPod` / `Predicates` on k8s v1.32's helpers): the
//! template's nodeName, its nodeSelector and required node affinity
//! (`component-helpers/scheduling/corev1/nodeaffinity`), and the node's NoSchedule/NoExecute
//! taints against the template's tolerations plus the DaemonSet's own (`daemon/util`
//! AddOrUpdateDaemonPodTolerations). An unschedulable node carries the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint, which every daemon pod tolerates: as
//! upstream, `spec.unschedulable` itself is not looked at.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, Taint, Toleration,
};

/// Where a daemon pod should be: `run` (create one if missing), `keep` (an existing one may
/// stay: a NoExecute taint it tolerates, or only NoSchedule taints it does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub run: bool,
    pub keep: bool,
}

/// The tolerations every daemon pod gets (k8s v1.32 `AddOrUpdateDaemonPodTolerations`); the
/// network-unavailable one only with hostNetwork.
pub fn daemon_tolerations(host_network: bool) -> Vec<Toleration> {
    let t = |key: &str, effect: &str| Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    };
    let mut out = vec![
        t("node.kubernetes.io/not-ready", "NoExecute"),
        t("node.kubernetes.io/unreachable", "NoExecute"),
        t("node.kubernetes.io/disk-pressure", "NoSchedule"),
        t("node.kubernetes.io/memory-pressure", "NoSchedule"),
        t("node.kubernetes.io/pid-pressure", "NoSchedule"),
        t("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        out.push(t("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    out
}

/// Upstream's MatchToleration: the same key, operator (empty = Equal), value and effect.
fn same_toleration(a: &Toleration, b: &Toleration) -> bool {
    let op = |t: &Toleration| match t.operator.as_deref() {
        None | Some("") => "Equal".to_string(),
        Some(o) => o.to_string(),
    };
    a.key == b.key && a.effect == b.effect && op(a) == op(b) && a.value == b.value
}

/// Add the daemon tolerations to `spec`, each unless an equal one is there already.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let host_network = spec.host_network.unwrap_or(false);
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    for t in daemon_tolerations(host_network) {
        if !list.iter().any(|e| same_toleration(e, &t)) {
            list.push(t);
        }
    }
}

/// Toleration.ToleratesTaint.
fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref() {
        None | Some("") | Some("Equal") => {
            t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        Some("Exists") => true,
        _ => false,
    }
}

/// A taint with one of `effects` that no toleration tolerates.
fn untolerated(taints: &[Taint], tolerations: &[Toleration], effects: &[&str]) -> bool {
    taints
        .iter()
        .filter(|t| effects.contains(&t.effect.as_str()))
        .any(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
}

/// One label requirement of a node selector term (labels.NewRequirement semantics); `None`
/// when it does not parse (the term then never matches).
fn label_requirement(
    r: &NodeSelectorRequirement,
    labels: &BTreeMap<String, String>,
) -> Option<bool> {
    let values = r.values.clone().unwrap_or_default();
    let v = labels.get(&r.key);
    match r.operator.as_str() {
        "In" if !values.is_empty() => Some(v.is_some_and(|v| values.contains(v))),
        "NotIn" if !values.is_empty() => Some(v.is_none_or(|v| !values.contains(v))),
        "Exists" if values.is_empty() => Some(v.is_some()),
        "DoesNotExist" if values.is_empty() => Some(v.is_none()),
        op @ ("Gt" | "Lt") if values.len() == 1 => {
            let bound: i64 = values[0].parse().ok()?;
            Some(
                v.and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|n| if op == "Gt" { n > bound } else { n < bound }),
            )
        }
        _ => None,
    }
}

/// One field requirement: only `metadata.name`, In/NotIn with exactly one value.
fn field_requirement(r: &NodeSelectorRequirement, node_name: &str) -> Option<bool> {
    let values = r.values.clone().unwrap_or_default();
    if r.key != "metadata.name" || values.len() != 1 {
        return None;
    }
    match r.operator.as_str() {
        "In" => Some(node_name == values[0]),
        "NotIn" => Some(node_name != values[0]),
        _ => None,
    }
}

/// A term matches when it has requirements, all parse and all hold.
fn term_matches(t: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let exprs = t.match_expressions.as_deref().unwrap_or_default();
    let fields = t.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let mut all = exprs
        .iter()
        .map(|r| label_requirement(r, &labels))
        .chain(fields.iter().map(|r| field_requirement(r, name)));
    all.all(|m| m == Some(true))
}

fn selector_matches(sel: &NodeSelector, node: &Node) -> bool {
    sel.node_selector_terms
        .iter()
        .any(|t| term_matches(t, node))
}

/// GetRequiredNodeAffinity(pod).Match(node): the nodeSelector labels, and the required terms.
pub fn required_affinity_matches(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    if let Some(sel) = &spec.node_selector
        && !sel.iter().all(|(k, v)| labels.get(k) == Some(v))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    required.is_none_or(|r| selector_matches(r, node))
}

/// nodeShouldRunDaemonPod for the daemon pod spec `spec` (template + daemon tolerations).
pub fn fit(spec: &PodSpec, node: &Node) -> Fit {
    let none = Fit {
        run: false,
        keep: false,
    };
    let name = node.metadata.name.as_deref().unwrap_or_default();
    if spec
        .node_name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != name)
    {
        return none;
    }
    if !required_affinity_matches(spec, node) {
        return none;
    }
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    if untolerated(&taints, &tolerations, &["NoSchedule", "NoExecute"]) {
        return Fit {
            run: false,
            keep: !untolerated(&taints, &tolerations, &["NoExecute"]),
        };
    }
    Fit {
        run: true,
        keep: true,
    }
}

/// The node a daemon pod is for (GetTargetNodeName): its nodeName, else the one value of the
/// first `metadata.name In` field requirement of its required node affinity.
pub fn target_node(p: &Pod) -> Option<String> {
    let spec = p.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.to_string());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    for t in terms {
        for r in t.match_fields.iter().flatten() {
            if r.key == "metadata.name" && r.operator == "In" {
                let v = r.values.clone().unwrap_or_default();
                return (v.len() == 1).then(|| v[0].clone());
            }
        }
    }
    None
}

/// Pin the pod to `node` (ReplaceDaemonSetPodNodeNameNodeAffinity): its required node
/// affinity becomes exactly `metadata.name In [node]`; preferred terms and pod (anti-)affinity
/// are kept.
pub fn pin(spec: &mut PodSpec, node: &str) {
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
            match_expressions: None,
        }],
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(v: serde_json::Value) -> Node {
        serde_json::from_value(v).unwrap()
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        let mut s: PodSpec = serde_json::from_value(v).unwrap();
        add_daemon_tolerations(&mut s);
        s
    }

    const RUN: Fit = Fit {
        run: true,
        keep: true,
    };
    const KEEP: Fit = Fit {
        run: false,
        keep: true,
    };
    const NO: Fit = Fit {
        run: false,
        keep: false,
    };

    /// Cases of upstream's TestNodeShouldRunDaemonPod (daemonset_util_test.go) and kube's
    /// daemon controller tests: selector, affinity, nodeName, taints by effect.
    #[test]
    fn node_should_run_daemon_pod() {
        let plain = node(json!({"metadata": {"name": "n1", "labels": {"a": "1", "n": "5"}}}));
        let c = json!([{"name": "c", "image": "i"}]);
        assert_eq!(fit(&spec(json!({"containers": c})), &plain), RUN);
        assert_eq!(
            fit(
                &spec(json!({"containers": c, "nodeSelector": {"a": "1"}})),
                &plain
            ),
            RUN
        );
        assert_eq!(
            fit(
                &spec(json!({"containers": c, "nodeSelector": {"a": "2"}})),
                &plain
            ),
            NO
        );
        assert_eq!(
            fit(&spec(json!({"containers": c, "nodeName": "n2"})), &plain),
            NO
        );
        assert_eq!(
            fit(&spec(json!({"containers": c, "nodeName": "n1"})), &plain),
            RUN
        );
        let aff = |op: &str, vals: serde_json::Value| {
            spec(json!({"containers": c, "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "n", "operator": op, "values": vals}]}]}}}}))
        };
        assert_eq!(fit(&aff("In", json!(["5"])), &plain), RUN);
        assert_eq!(fit(&aff("NotIn", json!(["5"])), &plain), NO);
        assert_eq!(fit(&aff("Gt", json!(["4"])), &plain), RUN);
        assert_eq!(fit(&aff("Lt", json!(["4"])), &plain), NO);
        assert_eq!(
            fit(&aff("In", json!([])), &plain),
            NO,
            "an unparsable term matches nothing"
        );
        let tainted = |effect: &str| {
            node(json!({"metadata": {"name": "n1"}, "spec": {"taints": [
                {"key": "k", "value": "v", "effect": effect}]}}))
        };
        assert_eq!(
            fit(&spec(json!({"containers": c})), &tainted("NoSchedule")),
            KEEP
        );
        assert_eq!(
            fit(&spec(json!({"containers": c})), &tainted("NoExecute")),
            NO
        );
        assert_eq!(
            fit(
                &spec(json!({"containers": c})),
                &tainted("PreferNoSchedule")
            ),
            RUN
        );
        let tol = spec(json!({"containers": c, "tolerations": [
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute"}]}));
        assert_eq!(fit(&tol, &tainted("NoExecute")), RUN);
        assert_eq!(fit(&tol, &tainted("NoSchedule")), KEEP);
        // An unschedulable node (and a not-ready one) is tolerated by every daemon pod.
        let unsched = node(
            json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true,
            "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                       {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]}}),
        );
        assert_eq!(fit(&spec(json!({"containers": c})), &unsched), RUN);
    }

    #[test]
    fn pinned_pods_name_their_node() {
        let mut s = spec(json!({"containers": [], "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}}}}));
        pin(&mut s, "n7");
        let p = Pod {
            spec: Some(s.clone()),
            ..Default::default()
        };
        assert_eq!(target_node(&p).as_deref(), Some("n7"));
        let terms = &s
            .affinity
            .unwrap()
            .node_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap()
            .node_selector_terms;
        assert_eq!(terms.len(), 1, "the required terms are replaced");
        let tols = spec(json!({"containers": [], "hostNetwork": true}))
            .tolerations
            .unwrap();
        assert_eq!(tols.len(), 7);
        let again = {
            let mut s = spec(json!({"containers": []}));
            add_daemon_tolerations(&mut s);
            s.tolerations.unwrap().len()
        };
        assert_eq!(again, 6, "an equal toleration is not added twice");
    }
}
