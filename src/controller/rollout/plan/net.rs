//! Traffic routing for a pass (upstream's `trafficrouting.Manager`, reference notes §3.1):
//! the stable Service pinned and restored, the canary Service, and the provider's routes
//! (nginx canary Ingress, Gateway API HTTPRoute). Every operation decides from the cached
//! objects and returns whether it is done; a change waits its grace period first.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::Value;

use super::*;
use crate::controller::rollout::traffic::{self, Route, gateway, nginx, service};

/// The grace after a change: the largest `gracePeriodSeconds` of the routings, 0 for none,
/// 3 when negative (`GetGraceSeconds`).
fn grace_seconds(cx: &Cx) -> u64 {
    let g = routings(cx.r())
        .iter()
        .map(|r| r.grace_period_seconds)
        .max()
        .unwrap_or(3);
    if g < 0 { 3 } else { g as u64 }
}

/// `RunWithGraceSeconds`: with a grace of 0 a change is done at once; otherwise a change
/// starts the wait, and the action is done once no change is needed and the wait is over.
fn graced(cx: &mut Cx, g: Grace, modified: bool) -> bool {
    let grace = Duration::from_secs(grace_seconds(cx));
    if grace.is_zero() {
        return true;
    }
    if modified {
        cx.plan.graces.push((g, grace));
        cx.plan.recheck(grace);
        return false;
    }
    if let Some(left) = cx.s.graces.get(&g).filter(|d| !d.is_zero()) {
        cx.plan.recheck(*left);
        return false;
    }
    true
}

fn owner(cx: &Cx) -> OwnerReference {
    let r = cx.r();
    OwnerReference {
        api_version: "rollouts.kruise.io/v1beta1".into(),
        kind: "Rollout".into(),
        name: r.metadata.name.clone().unwrap_or_default(),
        uid: r.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn key(cx: &Cx) -> &'static str {
    cx.s.kind
        .map_or("pod-template-hash", TargetKind::revision_key)
}

fn disable_canary_service(cx: &Cx) -> bool {
    let s = &cx.r().spec.strategy;
    s.canary
        .as_ref()
        .and_then(|c| c.disable_generate_canary_service)
        .or(s
            .blue_green
            .as_ref()
            .and_then(|b| b.disable_generate_canary_service))
        .unwrap_or(false)
}

fn stable_name(cx: &Cx) -> Option<String> {
    cx.routing().map(|r| r.service.clone())
}

fn canary_name(cx: &Cx) -> Option<String> {
    let s = stable_name(cx)?;
    Some(if disable_canary_service(cx) {
        s
    } else {
        format!("{s}-canary")
    })
}

fn touch(cx: &mut Cx) {
    let now = cx.now();
    if let Some(c) = cx.common() {
        c.last_update_time = Some(now);
    }
}

/// What the release needs that is missing (`InitializeTrafficRouting`).
pub fn missing(cx: &Cx) -> Option<String> {
    let r = cx.routing()?;
    let net = cx.s.net;
    if net.stable_service.is_none() {
        return Some(format!("Service {} not found", r.service));
    }
    if let Some(i) = &r.ingress
        && net.ingress.is_none()
    {
        return Some(format!("Ingress {} not found", i.name));
    }
    if let Some(g) = &r.gateway
        && net.route.is_none()
    {
        return Some(format!(
            "HTTPRoute {} not found",
            g.http_route_name.clone().unwrap_or_default()
        ));
    }
    None
}

fn revisions(cx: &mut Cx) -> (String, String) {
    cx.common()
        .map(|c| {
            (
                c.stable_revision.clone().unwrap_or_default(),
                c.pod_template_hash.clone(),
            )
        })
        .unwrap_or_default()
}

/// `PatchStableService`: the stable Service selects only the stable revision.
pub fn pin_stable(cx: &mut Cx) -> bool {
    if cx.routing().is_none() || disable_canary_service(cx) {
        return true;
    }
    let Some(svc) = cx.s.net.stable_service.clone() else {
        return false;
    };
    let (stable, _) = revisions(cx);
    let patch = service::selector_patch(&svc, key(cx), Some(&stable));
    let modified = patch.is_some();
    if let Some(patch) = patch {
        let name = svc.metadata.name.clone().unwrap_or_default();
        cx.write(Write::PatchService { name, patch });
        touch(cx);
    }
    graced(cx, Grace::PatchService, modified)
}

/// `RestoreStableService`: the revision key gone from the stable Service's selector.
pub fn restore_stable(cx: &mut Cx) -> bool {
    if cx.routing().is_none() {
        return true;
    }
    let Some(svc) = cx.s.net.stable_service.clone() else {
        return true;
    };
    let patch = service::selector_patch(&svc, key(cx), None);
    let modified = patch.is_some();
    if let Some(patch) = patch {
        let name = svc.metadata.name.clone().unwrap_or_default();
        cx.write(Write::PatchService { name, patch });
        touch(cx);
    }
    graced(cx, Grace::RestoreService, modified)
}

/// `RemoveCanaryService`.
pub fn remove_canary_service(cx: &mut Cx) -> bool {
    if cx.routing().is_none() || disable_canary_service(cx) {
        return true;
    }
    let modified = match &cx.s.net.canary_service {
        Some(s) if s.metadata.deletion_timestamp.is_none() => {
            let name = s.metadata.name.clone().unwrap_or_default();
            cx.write(Write::DeleteService(name));
            true
        }
        _ => false,
    };
    graced(cx, Grace::RemoveCanaryService, modified)
}

/// `RestoreGateway` (the provider's `Finalise`): the canary Ingress deleted, the HTTPRoute's
/// canary backends removed.
pub fn restore_gateway(cx: &mut Cx) -> bool {
    let Some(r) = cx.routing() else { return true };
    let mut modified = false;
    if r.ingress.is_some()
        && let Some(i) = cx.s.net.canary_ingress.as_ref()
        && i.metadata.deletion_timestamp.is_none()
    {
        cx.write(Write::DeleteIngress(
            i.metadata.name.clone().unwrap_or_default(),
        ));
        modified = true;
    }
    if r.gateway.is_some()
        && let Some(route) = cx.s.net.route.as_ref()
    {
        let rules = gateway::rules_of(route);
        let (s, c) = (
            stable_name(cx).unwrap_or_default(),
            canary_name(cx).unwrap_or_default(),
        );
        let want = gateway::finalised_rules(&rules, &s, &c);
        if want != rules {
            cx.write(Write::ReplaceRouteRules(want));
            modified = true;
        }
    }
    if modified {
        touch(cx);
    }
    graced(cx, Grace::RestoreGateway, modified)
}

/// `FinalisingTrafficRouting`: after a traffic step, a step without traffic cleans up.
pub fn finalising(cx: &mut Cx) -> bool {
    if cx.routing().is_none() {
        return true;
    }
    restore_stable(cx) && restore_gateway(cx) && remove_canary_service(cx)
}

fn traffic_of(step: &CanaryStep) -> Option<i32> {
    step.traffic.as_deref().and_then(traffic::percent)
}

/// `DoTrafficRouting`: the canary Service and the stable selector first (then wait again),
/// then the routes; done once a pass finds nothing to change.
pub fn route(cx: &mut Cx, step: &CanaryStep) -> bool {
    let Some(r) = cx.routing().cloned() else {
        return true;
    };
    let matches = step.matches.clone().unwrap_or_default();
    if step.traffic.is_none() && matches.is_empty() {
        return true;
    }
    let Some(stable) = cx.s.net.stable_service.clone() else {
        return false;
    };
    let wait = if r.grace_period_seconds <= 0 {
        3
    } else {
        r.grace_period_seconds as u64
    };
    let since = cx.common().and_then(|c| c.last_update_time.clone());
    if let Some(t) = since {
        let due = t.0 + Duration::from_secs(wait);
        if due > cx.s.now {
            cx.plan.recheck(due.duration_since(cx.s.now).unsigned_abs());
            return false;
        }
    }
    let canary = canary_name(cx).unwrap_or_default();
    if !disable_canary_service(cx) {
        let (stable_rev, canary_rev) = revisions(cx);
        if stable_rev.is_empty() || canary_rev.is_empty() {
            return false;
        }
        if services(cx, &stable, &canary, &stable_rev, &canary_rev) {
            touch(cx);
            return false;
        }
    }
    let rt = Route {
        traffic: traffic_of(step),
        matches: &matches,
    };
    ensure_routes(cx, &r, &canary, &rt)
}

/// The canary Service created or re-pointed and the stable one pinned; true if written.
fn services(
    cx: &mut Cx,
    stable: &k8s_openapi::api::core::v1::Service,
    canary: &str,
    stable_rev: &str,
    canary_rev: &str,
) -> bool {
    let k = key(cx);
    let mut modified = false;
    match &cx.s.net.canary_service {
        None => {
            let labels = cx
                .r()
                .spec
                .strategy
                .canary
                .as_ref()
                .and_then(|c| c.patch_pod_template_metadata.as_ref()?.labels.clone());
            let svc =
                service::canary_service(stable, canary, k, canary_rev, labels.as_ref(), owner(cx));
            cx.write(Write::CreateService(Box::new(svc)));
            modified = true;
        }
        Some(svc) => {
            if let Some(patch) = service::selector_patch(svc, k, Some(canary_rev)) {
                cx.write(Write::PatchService {
                    name: canary.to_string(),
                    patch,
                });
                modified = true;
            }
        }
    }
    if let Some(patch) = service::selector_patch(stable, k, Some(stable_rev)) {
        let name = stable.metadata.name.clone().unwrap_or_default();
        cx.write(Write::PatchService { name, patch });
        modified = true;
    }
    modified
}

/// The provider's `EnsureRoutes`: true when nothing needed changing.
fn ensure_routes(cx: &mut Cx, r: &TrafficRoutingRef, canary: &str, rt: &Route) -> bool {
    let mut done = true;
    if let Some(i) = &r.ingress {
        done &= ensure_ingress(cx, &i.name, &r.service, canary, rt);
    }
    if r.gateway.is_some() {
        done &= ensure_http_route(cx, &r.service, canary, rt);
    }
    done
}

fn ensure_ingress(cx: &mut Cx, name: &str, stable: &str, canary: &str, rt: &Route) -> bool {
    match cx.s.net.canary_ingress.clone() {
        None => {
            if rt.traffic == Some(0) {
                return true;
            }
            let Some(ing) = cx.s.net.ingress.clone() else {
                return false;
            };
            let c =
                nginx::canary_ingress(&ing, stable, canary, &format!("{name}-canary"), owner(cx));
            cx.write(Write::CreateIngress(Box::new(c)));
            false
        }
        Some(c) => {
            let current = c.metadata.annotations.clone().unwrap_or_default();
            let want = nginx::annotations(&current, rt);
            match nginx::annotations_patch(&current, &want) {
                None => true,
                Some(patch) => {
                    let name = c.metadata.name.clone().unwrap_or_default();
                    cx.write(Write::PatchIngress { name, patch });
                    false
                }
            }
        }
    }
}

fn ensure_http_route(cx: &mut Cx, stable: &str, canary: &str, rt: &Route) -> bool {
    let Some(route) = cx.s.net.route.as_ref() else {
        return false;
    };
    let rules = gateway::rules_of(route);
    let want: Value = gateway::routed_rules(&rules, stable, canary, rt);
    if want == rules {
        return true;
    }
    cx.write(Write::ReplaceRouteRules(want));
    false
}

/// Blue-green's `RouteAllTrafficToNewVersion`: 100 % to the new pods, no matches.
pub fn route_all_to_new(cx: &mut Cx) -> bool {
    let Some(r) = cx.routing().cloned() else {
        return true;
    };
    let canary = canary_name(cx).unwrap_or_default();
    let rt = Route {
        traffic: Some(100),
        matches: &[],
    };
    let verified = ensure_routes(cx, &r, &canary, &rt);
    if !verified {
        touch(cx);
    }
    graced(cx, Grace::UpdateRoute, !verified)
}
