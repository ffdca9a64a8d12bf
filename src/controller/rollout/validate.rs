//! What upstream's validating webhook refuses (reference notes §1.1, §5.1), checked before
//! every pass: without the webhook such a Rollout reaches us, and acting on it would do what
//! the operator never does (upstream would even dereference a step without replicas).
//! Also refused: what this embedded controller does not drive, named plainly.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::plan::{is_real_partition, routings, steps};
use super::workload::TargetKind;
use crate::api::rollout::Rollout;
use crate::controller::rollout::traffic;

fn percent(v: &IntOrString) -> Option<f64> {
    match v {
        IntOrString::String(s) => s.strip_suffix('%')?.parse().ok(),
        IntOrString::Int(_) => None,
    }
}

/// Why this Rollout cannot be acted on, if it cannot.
pub fn refusal(r: &Rollout, kind: Option<TargetKind>) -> Option<String> {
    let s = &r.spec.strategy;
    if s.canary.is_some() == s.blue_green.is_some() {
        return Some("spec.strategy needs exactly one of canary and blueGreen".into());
    }
    let steps = steps(r);
    if steps.is_empty() {
        return Some("spec.strategy needs at least one step".into());
    }
    let mut last: Option<&IntOrString> = None;
    for (i, st) in steps.iter().enumerate() {
        let n = i + 1;
        let Some(rep) = &st.replicas else {
            return Some(format!("step {n} has no replicas"));
        };
        match rep {
            IntOrString::Int(v) if *v <= 0 => {
                return Some(format!("step {n} replicas must be above 0"));
            }
            IntOrString::String(_) => match percent(rep) {
                Some(p) if p > 0.0 && p <= 100.0 => {}
                _ => {
                    return Some(format!(
                        "step {n} replicas must be a percentage above 0% and at most 100%"
                    ));
                }
            },
            _ => {}
        }
        if let Some(prev) = last {
            let decreasing = match (prev, rep) {
                (IntOrString::Int(a), IntOrString::Int(b)) => b < a,
                (a, b) => matches!((percent(a), percent(b)), (Some(a), Some(b)) if b < a),
            };
            if decreasing {
                return Some(format!(
                    "step {n} replicas must not be fewer than step {i}'s"
                ));
            }
        }
        last = Some(rep);
        if let Some(t) = &st.traffic {
            let ok = traffic::percent(t)
                .is_some_and(|p| (0..=100).contains(&p) && (p > 0 || s.blue_green.is_some()));
            if !ok {
                return Some(format!(
                    "step {n} traffic {t:?} must be a percentage in (0%, 100%]"
                ));
            }
        }
        let has_traffic =
            st.traffic.is_some() || st.matches.as_ref().is_some_and(|m| !m.is_empty());
        if has_traffic && is_real_partition(r, kind) && percent(rep).is_some_and(|p| p > 50.0) {
            return Some(format!(
                "step {n}: a partition-style step with traffic may release at most 50% of the pods"
            ));
        }
    }
    let rs = routings(r);
    if rs.len() > 1 {
        return Some("at most one trafficRoutings entry is supported".into());
    }
    if let Some(t) = rs.first() {
        if t.grace_period_seconds < 0 {
            return Some("trafficRoutings gracePeriodSeconds must not be negative".into());
        }
        if t.custom_network_refs
            .as_ref()
            .is_some_and(|c| !c.is_empty())
        {
            return Some("customNetworkRefs (Lua providers) are not driven by the embedded controller; install the Kruise Rollout operator".into());
        }
        if t.ingress.is_none() && t.gateway.is_none() {
            return Some("a traffic routing needs an ingress or a gateway".into());
        }
        if let Some(i) = &t.ingress {
            let class = i.class_type.as_deref().unwrap_or("nginx");
            if !matches!(class, "" | "nginx" | "higress") {
                return Some(format!(
                    "ingress classType {class:?} is not driven by the embedded controller (nginx and higress are)"
                ));
            }
        }
        if t.gateway
            .as_ref()
            .is_some_and(|g| g.http_route_name.as_deref().unwrap_or("").is_empty())
        {
            return Some("gateway.httpRouteName is required".into());
        }
    }
    let w = &r.spec.workload_ref;
    let Some(kind) = kind else {
        return Some(format!(
            "the workload {}/{} is not driven by the embedded controller (Deployment, StatefulSet, CloneSet and Advanced StatefulSet are)",
            w.api_version, w.kind
        ));
    };
    if s.blue_green.is_some() && !matches!(kind, TargetKind::Deployment | TargetKind::CloneSet) {
        return Some("a blue-green Rollout supports only Deployment and CloneSet workloads".into());
    }
    if kind == TargetKind::Deployment && is_real_partition(r, Some(kind)) {
        return Some("a partition-style Deployment (enableExtraWorkloadForCanary: false) needs Kruise Rollout's own Deployment controller, which the embedded controller does not run; set enableExtraWorkloadForCanary: true".into());
    }
    None
}
