//! A Kruise Rollout's tree (pure): the Rollout, its steps (the current one marked) with the
//! canary pods of each step's batch under it, then the stable pods (and any other revision's),
//! with the traffic each step sets and the weight the routes carry now.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use serde_json::Value;

use super::{pods, workload};
use crate::api::rollout::{CanaryStep, Rollout};
use crate::cmd::rollout_cr::view::{self, State, View, step};
use crate::controller::pod as kpod;
use crate::controller::rollout::keys;
use crate::output::tree::{Detail, Health, Node, Status, Tree};

/// What the Rollout's status says as a status.
pub fn state_status(s: State) -> Status {
    match s {
        State::Succeeded | State::Idle => Status::new(Health::Healthy, "Healthy"),
        State::Pending | State::Progressing | State::TimedPause => {
            Status::new(Health::Progressing, "Progressing")
        }
        State::WaitingApproval | State::Paused => Status::new(Health::Paused, "Paused"),
        State::Failed | State::Cancelled => Status::new(Health::Degraded, "Degraded"),
        State::Disabled => Status::new(Health::Idle, "Disabled"),
    }
}

/// The objects read around a Rollout.
pub struct Around<'a> {
    /// The workload it releases, if it exists.
    pub workload: Option<&'a Value>,
    /// Pods its workload's selector lists (the canary workload's too).
    pub pods: &'a [Pod],
    /// Ingresses and HTTPRoutes it routes through (for the weight they carry).
    pub routes: &'a [Value],
}

/// A step's replicas, traffic, matches and pause. The last step at `100%` of a canary never
/// waits (upstream's `doCanaryPaused`), so it shows no pause.
fn step_text(s: &CanaryStep, last_all: bool) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(r) = &s.replicas {
        out.push((
            "replicas",
            match r {
                IntOrString::Int(n) => n.to_string(),
                IntOrString::String(s) => s.clone(),
            },
        ));
    }
    if let Some(t) = &s.traffic {
        out.push(("traffic", t.clone()));
    }
    if s.matches.as_ref().is_some_and(|m| !m.is_empty()) {
        out.push((
            "matches",
            s.matches.as_ref().map_or(0, Vec::len).to_string(),
        ));
    }
    if !last_all {
        out.push((
            "pause",
            match s.pause.duration {
                Some(d) => format!("{d}s"),
                None => "approval".into(),
            },
        ));
    }
    out
}

/// The weight the routes give the canary now: the nginx canary Ingress's
/// `canary-weight`, or the canary Service's share of an HTTPRoute rule.
pub fn actual_weight(ro: &Rollout, routes: &[Value]) -> Option<String> {
    let refs = ro
        .spec
        .strategy
        .canary
        .as_ref()
        .and_then(|c| c.traffic_routings.clone())
        .or_else(|| {
            ro.spec
                .strategy
                .blue_green
                .as_ref()
                .and_then(|b| b.traffic_routings.clone())
        })?;
    let r = refs.first()?;
    if let Some(ing) = &r.ingress {
        let canary = format!("{}-canary", ing.name);
        let o = routes.iter().find(|v| {
            v["kind"] == "Ingress" && v["metadata"]["name"].as_str() == Some(canary.as_str())
        })?;
        let a = &o["metadata"]["annotations"];
        if a["nginx.ingress.kubernetes.io/canary-by-header"].is_string() {
            return Some("header match".into());
        }
        return a["nginx.ingress.kubernetes.io/canary-weight"]
            .as_str()
            .map(|w| format!("{w}%"));
    }
    let route = r.gateway.as_ref()?.http_route_name.as_ref()?;
    let canary = format!("{}-canary", r.service);
    let o = routes.iter().find(|v| {
        v["kind"] == "HTTPRoute" && v["metadata"]["name"].as_str() == Some(route.as_str())
    })?;
    for rule in o["spec"]["rules"].as_array().into_iter().flatten() {
        let Some(refs) = rule["backendRefs"].as_array() else {
            continue;
        };
        let weight = |b: &Value| b["weight"].as_i64().unwrap_or(1);
        let total: i64 = refs.iter().map(weight).sum();
        if let Some(c) = refs.iter().find(|b| b["name"] == canary.as_str()) {
            if total == weight(c) && rule["matches"].as_array().is_some_and(|m| !m.is_empty()) {
                return Some("header match".into());
            }
            return Some(format!("{}%", weight(c) * 100 / total.max(1)));
        }
    }
    Some("0%".into())
}

/// Which pods are the release's new ones and which its stable ones.
struct Revisions {
    stable: String,
    new: String,
    noun: &'static str,
}

fn revisions(ro: &Rollout) -> Option<Revisions> {
    let sub = view::sub(ro)?;
    let st = ro.status.as_ref()?;
    // The pods' own hash (a canary Deployment's pods carry the ReplicaSet's), else the
    // revision the release names.
    let named = st
        .canary_status
        .as_ref()
        .map(|c| c.canary_revision.clone())
        .or(st
            .blue_green_status
            .as_ref()
            .map(|b| b.updated_revision.clone()))
        .unwrap_or_default();
    let new = Some(sub.common.pod_template_hash.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or(named);
    Some(Revisions {
        stable: sub.common.stable_revision.clone().unwrap_or_default(),
        new,
        noun: sub.noun,
    })
}

fn step_status(i: i32, current: i32, state: &str, v: &View) -> Option<Status> {
    let release = v.step.is_some();
    if !release && matches!(v.state, State::Succeeded) {
        return Some(Status::new(Health::Healthy, "Completed"));
    }
    if !release || i > current {
        return None;
    }
    if i < current {
        return Some(Status::new(Health::Healthy, "Completed"));
    }
    let health = match state {
        step::PAUSED if v.state == State::TimedPause => Health::Progressing,
        step::PAUSED => Health::Paused,
        step::READY | step::COMPLETED => Health::Healthy,
        _ => Health::Progressing,
    };
    Some(Status::new(health, state))
}

pub fn tree(ro: &Rollout, v: &View, around: &Around) -> Tree {
    let status = state_status(v.state);
    // Once a release has ended, its new revision is the stable one.
    let revs = revisions(ro).map(|r| match v.state {
        State::Succeeded if !r.new.is_empty() => Revisions {
            stable: r.new,
            new: String::new(),
            noun: r.noun,
        },
        _ => r,
    });
    let (current, total) = v.step.unwrap_or((0, view::steps(ro).len()));
    let mut placed = vec![false; around.pods.len()];
    let is_new = |p: &Pod| {
        revs.as_ref().is_some_and(|r| {
            pods::same_revision(pods::revision(p), &r.new)
                && !pods::same_revision(&r.new, &r.stable)
        })
    };
    let mut children = Vec::new();
    for (i, s) in view::steps(ro).iter().enumerate() {
        let index = i as i32 + 1;
        let mut n = Node::new("Step", format!("step {index}/{total}"));
        n.current = v.step.is_some() && index == current;
        n.status = step_status(index, current, &v.step_state, v);
        let last_all = index as usize == total
            && ro.spec.strategy.blue_green.is_none()
            && matches!(&s.replicas, Some(IntOrString::String(r)) if r == "100%");
        for (k, val) in step_text(s, last_all) {
            n.info.add(k, val);
        }
        let mut at: Vec<&Pod> = Vec::new();
        for (j, p) in around.pods.iter().enumerate() {
            let batch = kpod::label(p, keys::BATCH_ID).and_then(|b| b.parse::<i32>().ok());
            let here = match batch {
                Some(b) => b == index,
                None => n.current,
            };
            if !placed[j] && v.step.is_some() && is_new(p) && here {
                placed[j] = true;
                at.push(p);
            }
        }
        pods::sort(&mut at);
        let noun = revs.as_ref().map_or("canary", |r| r.noun);
        n.children = at.iter().map(|p| pods::node(p, noun)).collect();
        children.push(n);
    }
    children.extend(revision_groups(around.pods, &mut placed, revs.as_ref()));
    let mut root = Node::new("Rollout", ro.name_any());
    root.status = Some(status.clone());
    root.created = ro
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string());
    if v.step.is_some() {
        root.info.add("step", format!("{current}/{total}"));
    }
    root.children = children;
    Tree {
        kind: "Rollout".into(),
        name: ro.name_any(),
        namespace: ro.namespace().unwrap_or_default(),
        status,
        message: v.line.clone(),
        details: details(ro, v, around, revs.as_ref()),
        tree: root,
    }
}

/// The pods not under a step, grouped by revision: the stable one first.
fn revision_groups(all: &[Pod], placed: &mut [bool], revs: Option<&Revisions>) -> Vec<Node> {
    let mut groups: Vec<(String, Vec<&Pod>)> = Vec::new();
    for (j, p) in all.iter().enumerate() {
        if placed[j] {
            continue;
        }
        placed[j] = true;
        let r = pods::revision(p).to_string();
        match groups
            .iter_mut()
            .find(|(g, _)| pods::same_revision(g, &r) || (g.is_empty() && r.is_empty()))
        {
            Some((_, v)) => v.push(p),
            None => groups.push((r, vec![p])),
        }
    }
    let role = |g: &str| match revs {
        Some(r) if pods::same_revision(g, &r.stable) => "stable",
        Some(r) if pods::same_revision(g, &r.new) => r.noun,
        _ => "",
    };
    groups.sort_by_key(|(g, _)| (role(g) != "stable", g.clone()));
    groups
        .into_iter()
        .map(|(g, mut at)| {
            pods::sort(&mut at);
            let role = role(&g);
            let name = if g.is_empty() {
                "<none>"
            } else {
                kpod::short_hash(&g)
            };
            let mut n = Node::new("Revision", name);
            n.info.add("role", role).add("pods", at.len().to_string());
            n.children = at.iter().map(|p| pods::node(p, role)).collect();
            n
        })
        .collect()
}

fn details(ro: &Rollout, v: &View, around: &Around, revs: Option<&Revisions>) -> Vec<Detail> {
    let s = &ro.spec.strategy;
    let kind = if s.blue_green.is_some() {
        "BlueGreen"
    } else {
        "Canary"
    };
    let mut strategy = Vec::new();
    if let Some((i, n)) = v.step {
        strategy.push(Detail::new("Step", format!("{i}/{n}")));
        if let Some(t) = view::step_at(ro, i).and_then(|s| s.traffic.clone()) {
            strategy.push(Detail::new("SetWeight", t));
        }
        if let Some(w) = actual_weight(ro, around.routes) {
            strategy.push(Detail::new("ActualWeight", w));
        }
    }
    if view::spec_paused(ro) {
        strategy.push(Detail::new("Paused", "true"));
    }
    let r = &ro.spec.workload_ref;
    let mut out = vec![
        Detail::new("Strategy", kind).with(strategy),
        Detail::new(
            "Workload",
            format!("{}/{} ({})", r.kind.to_lowercase(), r.name, r.api_version),
        ),
    ];
    let routes: Vec<String> = s
        .canary
        .as_ref()
        .and_then(|c| c.traffic_routings.clone())
        .or_else(|| {
            s.blue_green
                .as_ref()
                .and_then(|b| b.traffic_routings.clone())
        })
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let via = match (&t.ingress, &t.gateway) {
                (Some(i), _) => format!(
                    "ingress {} ({})",
                    i.name,
                    i.class_type.as_deref().unwrap_or("nginx")
                ),
                (None, Some(g)) => format!(
                    "httproute {}",
                    g.http_route_name.as_deref().unwrap_or_default()
                ),
                _ => "custom".into(),
            };
            format!("service {}, {via}", t.service)
        })
        .collect();
    if !routes.is_empty() {
        out.push(Detail::new("Traffic", routes.join("\n")));
    }
    let images = images(around.pods, revs);
    if !images.is_empty() {
        out.push(Detail::new("Images", images.join("\n")));
    }
    if let Some(p) = &v.pods {
        let noun = revs.map_or("canary", |r| r.noun);
        let mut items = vec![Detail::new(
            "Desired",
            around
                .workload
                .and_then(|w| {
                    w.pointer("/spec/replicas")
                        .or(w.pointer("/status/desiredNumberScheduled"))
                })
                .and_then(Value::as_i64)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
        )];
        if let Some(t) = p.target {
            items.push(Detail::new(
                format!("{}Target", workload::capitalized(noun)),
                t.to_string(),
            ));
        }
        items.push(Detail::new(
            workload::capitalized(noun),
            p.replicas.to_string(),
        ));
        items.push(Detail::new(
            format!("{}Ready", workload::capitalized(noun)),
            p.ready.to_string(),
        ));
        out.push(Detail::new("Replicas", "").with(items));
    }
    out
}

/// The images the stable and new pods run.
fn images(all: &[Pod], revs: Option<&Revisions>) -> Vec<String> {
    let Some(r) = revs else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (rev, role) in [(&r.stable, "stable"), (&r.new, r.noun)] {
        let img = all
            .iter()
            .find(|p| pods::same_revision(pods::revision(p), rev))
            .map(pods::images);
        if let Some(i) = img.filter(|i| !i.is_empty())
            && !out
                .iter()
                .any(|o: &String| o.starts_with(&format!("{i} (")))
        {
            out.push(format!("{i} ({role})"));
        }
    }
    out
}
