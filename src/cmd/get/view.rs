//! From a kind to its view (pure): what to read around the object, the tree drawn from what
//! was read, and whether the object rests (what `--until-done` stops on).

use k8s_openapi::api::core::v1::{Node as KubeNode, Pod};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::sources::{Source, kind_of, pod_kind, selector_of};
use super::{rollout, workload};
use crate::api::rollout::Rollout;
use crate::client::kinds::{self, Kind};
use crate::cmd::rollout_cr::view as ro_view;
use crate::cmd::workload::{self as wl, Phase, RevisionObjects, Workload};
use crate::error::{Error, Result};
use crate::output::tree::{Health, Node, Tree};

/// What a view is of.
#[derive(Clone, Copy)]
pub enum Subject {
    Workload(&'static dyn Workload),
    Rollout,
}

/// The kinds with a view.
pub fn kinds() -> Vec<Kind> {
    let mut k: Vec<Kind> = wl::all().iter().map(|w| w.kind()).collect();
    k.push(kinds::ROLLOUT);
    k
}

pub fn subject(kind: Kind) -> Subject {
    if crate::cmd::rollout_cr::is_rollout(kind) {
        Subject::Rollout
    } else {
        Subject::Workload(wl::of(kind))
    }
}

impl Subject {
    pub fn kind(self) -> Kind {
        match self {
            Subject::Workload(w) => w.kind(),
            Subject::Rollout => kinds::ROLLOUT,
        }
    }
}

/// The workload a Rollout names, if this tool knows its kind (as the rollout commands read
/// it).
pub fn rollout_workload(ro: &Value) -> Option<(Kind, String)> {
    let ro: Rollout = serde_json::from_value(ro.clone()).ok()?;
    crate::cmd::rollout_cr::workload_of(&ro).ok()
}

/// What to read around `root` (`workload`: a Rollout's, read before). The root comes first;
/// `None` is a source that reads nothing (no selector to list by).
pub fn sources(
    s: Subject,
    name: &str,
    root: &Value,
    workload: Option<&Value>,
) -> Vec<Option<Source>> {
    let pods = |w: &Value| selector_of(w).map(|l| Source::labelled(pod_kind(), l));
    match s {
        Subject::Workload(w) => {
            let revisions = match w.revision_objects() {
                RevisionObjects::ReplicaSets => kind_of("replicasets"),
                RevisionObjects::ControllerRevisions => kind_of("controllerrevisions"),
            };
            let mut v = vec![
                Some(Source::named(w.kind(), name)),
                selector_of(root).map(|l| Source::labelled(revisions, l)),
                pods(root),
            ];
            if w.judged_by_nodes() {
                v.push(Some(Source::nodes()));
            }
            v
        }
        Subject::Rollout => {
            let mut v = vec![
                Some(Source::named(kinds::ROLLOUT, name)),
                rollout_workload(root).map(|(k, n)| Source::named(k, &n)),
                workload.and_then(pods),
            ];
            v.extend(routes(root).into_iter().map(Some));
            v
        }
    }
}

/// The canary Ingress and the HTTPRoute a Rollout routes through.
fn routes(ro: &Value) -> Vec<Source> {
    let s = &ro["spec"]["strategy"];
    let refs = s["canary"]["trafficRoutings"]
        .as_array()
        .or(s["blueGreen"]["trafficRoutings"].as_array());
    let mut out = Vec::new();
    for r in refs.into_iter().flatten() {
        if let Some(i) = r["ingress"]["name"].as_str() {
            out.push(Source {
                resource: Source::resource("networking.k8s.io", "v1", "Ingress", "ingresses"),
                what: super::sources::Which::Name(format!("{i}-canary")),
            });
        }
        if let Some(h) = r["gateway"]["httpRouteName"].as_str() {
            out.push(Source {
                resource: Source::resource(
                    "gateway.networking.k8s.io",
                    "v1",
                    "HTTPRoute",
                    "httproutes",
                ),
                what: super::sources::Which::Name(h.to_string()),
            });
        }
    }
    out
}

/// The view drawn from a read, and the exit it rests on (`None` while it moves).
pub struct Built {
    pub tree: Tree,
    pub rests: Option<Result<()>>,
}

fn pods_of(items: &[Value]) -> Vec<Pod> {
    items
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

/// Draw the view from `snap` (laid out as [`sources`]: a kind judged by the nodes has them
/// last); `None` when the object is gone.
pub fn build(s: Subject, snap: &[Vec<Value>], now: Timestamp) -> Result<Option<Built>> {
    let at = |i: usize| snap.get(i).map(Vec::as_slice).unwrap_or_default();
    let Some(root) = at(0).first() else {
        return Ok(None);
    };
    match s {
        Subject::Workload(w) => {
            let nodes: Vec<KubeNode> = if w.judged_by_nodes() {
                at(3)
                    .iter()
                    .filter_map(|v| serde_json::from_value(v.clone()).ok())
                    .collect()
            } else {
                Vec::new()
            };
            let observed = w.judge(root, &nodes)?;
            let via_revisions = w.revision_objects() == RevisionObjects::ReplicaSets;
            let tree = workload::tree(
                w.kind(),
                root,
                &observed,
                (at(1), via_revisions),
                &pods_of(at(2)),
            );
            let rests = match observed.phase {
                Phase::Complete => Some(Ok(())),
                Phase::Failed => Some(Err(Error::Failed(observed.line.clone()))),
                Phase::Paused => Some(Err(Error::Paused(observed.line.clone()))),
                Phase::Progressing if w.reports_stuck(false) => {
                    stuck(&tree.tree, "update", &observed.line).map(Err)
                }
                Phase::Progressing => None,
            };
            Ok(Some(Built { tree, rests }))
        }
        Subject::Rollout => {
            let ro: Rollout = wl::typed(root, kinds::ROLLOUT)?;
            let wl_obj = at(1).first();
            let replicas = wl_obj.and_then(crate::cmd::rollout_cr::replicas_of);
            let v = ro_view::judge(&ro, replicas, now);
            let pods = pods_of(at(2));
            let routes: Vec<Value> = snap.iter().skip(3).flatten().cloned().collect();
            let around = rollout::Around {
                workload: wl_obj,
                pods: &pods,
                routes: &routes,
            };
            let tree = rollout::tree(&ro, &v, &around);
            let rests = if v.state.failed() {
                Some(Err(Error::Failed(v.line.clone())))
            } else if matches!(
                v.state,
                ro_view::State::WaitingApproval | ro_view::State::Paused
            ) {
                Some(Err(Error::Paused(v.line.clone())))
            } else if v.state.rests() {
                Some(Ok(()))
            } else if releasing(&ro) {
                stuck(&tree.tree, "canary", &v.line)
                    .or_else(|| stuck(&tree.tree, "new", &v.line))
                    .map(Err)
            } else {
                None
            };
            Ok(Some(Built { tree, rests }))
        }
    }
}

/// A release in progress whose workload's new pods are looked at for pods that cannot start,
/// as `rollout status` looks (rollout_cr::status::stuck).
fn releasing(ro: &Rollout) -> bool {
    let phase = ro.status.as_ref().and_then(|s| s.phase.as_deref());
    let kind = ro_view::sub(ro).and(crate::cmd::rollout_cr::workload_of(ro).ok());
    phase == Some("Progressing") && kind.is_some_and(|(k, _)| wl::of(k).reports_stuck(true))
}

/// A pod of the new revision (role `role`) that cannot start ends the wait with exit 4, as
/// `rollout status` does.
fn stuck(root: &Node, role: &str, line: &str) -> Option<Error> {
    fn walk<'a>(n: &'a Node, new: bool, role: &str, out: &mut Option<&'a Node>) {
        let mine = new
            || n.info
                .0
                .iter()
                .any(|(k, v)| k == "role" && v.split(',').any(|r| r == role));
        if n.kind == "Pod"
            && mine
            && n.status
                .as_ref()
                .is_some_and(|s| s.health == Health::Warning)
            && out.is_none()
        {
            *out = Some(n);
        }
        for c in &n.children {
            walk(c, mine, role, out);
        }
    }
    let mut found = None;
    walk(root, false, role, &mut found);
    found.map(|p| {
        Error::Failed(format!(
            "{line}; pod {} cannot start: {}",
            p.name,
            p.status
                .as_ref()
                .map(|s| s.text.as_str())
                .unwrap_or_default()
        ))
    })
}
