//! Property tests of the CloneSet plan against a harsh imagined cluster.
//!
//! `preview::settle` is kinder than a cluster: every pod is scheduled, started and Ready at
//! once, a deleted pod is gone at once and no hook ever holds a pod. `Harsh` wraps
//! `preview::apply` / `preview::settle` in a cluster that, driven by a seeded RNG:
//!
//! * deletes slowly: a deleted pod is only marked terminating (`deletionTimestamp`, so it is no
//!   longer active) and disappears 0–3 passes later;
//! * lags: a pod the controller just created or updated in place is left alone by the
//!   scheduler and kubelet for 0–3 passes (Pending, or still running its old image);
//! * stays unready: after that, its containers run but its readiness probe fails for 0–3
//!   more passes;
//! * has an external operator that works the lifecycle hooks (`labelsHandler` only): it
//!   removes the `preDelete` label from a `PreparingDelete` pod and the `inPlaceUpdate` label
//!   from a `PreparingUpdate` pod, gives a `PreparingNormal` pod its `preNormal` label and an
//!   `Updated` pod its `inPlaceUpdate` label back, each after 0–`hook_delay` passes.
//!
//! Time moves one second per pass, so `minReadySeconds` spans passes. The invariants are
//! checked at every pass, right after the pass's writes and again once the cluster moved.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::json;

use super::defaults;
use super::plan::{self, Action, Limits, Plan, Snapshot};
use super::preview;
use super::validate;
use crate::api::cloneset::{
    CloneSet, CloneSetScaleStrategy, CloneSetSpec, CloneSetUpdateStrategy,
    CloneSetUpdateStrategyType,
};
use crate::api::common::{Lifecycle, LifecycleHook, PodTemplate};
use crate::controller::pod::{self, state};

const PRE_DELETE: &str = "hook.test/pre-delete";
const IN_PLACE: &str = "hook.test/in-place";
const PRE_NORMAL: &str = "hook.test/pre-normal";
const HELD: &str = "held";

/// Which lifecycle hooks the CloneSet has. The template gives every pod the `preDelete` and
/// `inPlaceUpdate` labels (hooked from birth); the `preNormal` label is the operator's to add.
#[derive(Debug, Clone, Copy, Default)]
struct Hooks {
    pre_delete: bool,
    in_place: bool,
    pre_normal: bool,
}

fn hook(key: &str) -> LifecycleHook {
    LifecycleHook {
        labels_handler: Some([(key.to_string(), HELD.to_string())].into()),
        ..Default::default()
    }
}

fn cloneset(replicas: i32, hooks: Hooks) -> CloneSet {
    let mut labels = json!({"app": "web"});
    if hooks.pre_delete {
        labels[PRE_DELETE] = json!(HELD);
    }
    if hooks.in_place {
        labels[IN_PLACE] = json!(HELD);
    }
    let lifecycle = (hooks.pre_delete || hooks.in_place || hooks.pre_normal).then(|| Lifecycle {
        pre_delete: hooks.pre_delete.then(|| hook(PRE_DELETE)),
        in_place_update: hooks.in_place.then(|| hook(IN_PLACE)),
        pre_normal: hooks.pre_normal.then(|| hook(PRE_NORMAL)),
    });
    let mut cs = CloneSet::new(
        "web",
        CloneSetSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some([("app".to_string(), "web".to_string())].into()),
                match_expressions: None,
            },
            template: PodTemplate(
                json!({"metadata": {"labels": labels},
                       "spec": {"containers": [{"name": "nginx", "image": "a:1"}]}})
                .as_object()
                .unwrap()
                .clone(),
            ),
            lifecycle,
            ..Default::default()
        },
    );
    cs.metadata.namespace = Some("t".into());
    cs.metadata.uid = Some("uid-web".into());
    cs.metadata.generation = Some(1);
    cs
}

fn image(p: &Pod) -> &str {
    p.spec.as_ref().unwrap().containers[0]
        .image
        .as_deref()
        .unwrap_or_default()
}

fn has_label(p: &Pod, key: &str) -> bool {
    pod::label(p, key) == Some(HELD)
}

fn set_cond(p: &mut Pod, type_: &str, status: &str, now: Timestamp) {
    let conds = p
        .status
        .get_or_insert_with(PodStatus::default)
        .conditions
        .get_or_insert_with(Vec::new);
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => {}
        Some(c) => {
            c.status = status.into();
            c.last_transition_time = Some(Time(now));
        }
        None => conds.push(PodCondition {
            type_: type_.into(),
            status: status.into(),
            last_transition_time: Some(Time(now)),
            ..Default::default()
        }),
    }
}

/// One pass as the tests see it.
struct Pass {
    /// The world the plan saw.
    before: Snapshot,
    plan: Plan,
    /// The world right after the pass's writes, before the cluster moved.
    after: Snapshot,
    /// Before the pass, the cluster had nothing pending and every pod was available.
    calm: bool,
}

/// The harsh cluster (see the module docs).
struct Harsh {
    world: Snapshot,
    rng: fastrand::Rng,
    hooks: Hooks,
    /// Longest delay (passes) of the external operator.
    hook_delay: u32,
    /// Terminating pods: passes left before they are gone.
    terminating: BTreeMap<String, u32>,
    /// Pods the scheduler and kubelet have not got to yet: passes left.
    lagging: BTreeMap<String, u32>,
    /// Pods whose readiness probe still fails: passes left (after the lag).
    unready: BTreeMap<String, u32>,
    /// The operator's pending label flips: pod → (passes left, label, add).
    operator: BTreeMap<String, (u32, &'static str, bool)>,
}

impl Harsh {
    fn new(cs: CloneSet, hooks: Hooks, seed: u64) -> Harsh {
        Harsh {
            world: Snapshot {
                cloneset: cs,
                pods: vec![],
                revisions: vec![],
                pvcs: vec![],
                now: "2026-01-01T00:00:00Z".parse().unwrap(),
                seed,
            },
            rng: fastrand::Rng::with_seed(seed),
            hooks,
            hook_delay: 3,
            terminating: BTreeMap::new(),
            lagging: BTreeMap::new(),
            unready: BTreeMap::new(),
            operator: BTreeMap::new(),
        }
    }

    fn pod_mut(&mut self, name: &str) -> Option<&mut Pod> {
        self.world
            .pods
            .iter_mut()
            .map(Arc::make_mut)
            .find(|p| pod::name(p) == name)
    }

    /// One reconcile pass, then the cluster moves on by one second.
    fn pass(&mut self) -> Pass {
        // Instance ids are random in a cluster; a fixed seed would hand a terminating pod's
        // name to the next pod.
        self.world.seed = self.rng.u64(..);
        let before = self.world.clone();
        let calm = self.calm();
        let p = plan::plan(&self.world).expect("plan");
        let mut writes = p.clone();
        writes
            .actions
            .retain(|a| !matches!(a, Action::Delete { .. }));
        preview::apply(&mut self.world, &writes);
        let now = self.world.now;
        for a in &p.actions {
            match a {
                Action::Delete { pod: name, .. } => {
                    let k = self.rng.u32(0..=3);
                    if let Some(x) = self.pod_mut(name) {
                        x.metadata.deletion_timestamp = Some(Time(now));
                    }
                    self.terminating.insert(name.clone(), k);
                }
                Action::Create { pod: name, .. } | Action::UpdateInPlace { pod: name, .. } => {
                    let (lag, unready) = (self.rng.u32(0..=3), self.rng.u32(0..=3));
                    self.lagging.insert(name.clone(), lag);
                    self.unready.insert(name.clone(), unready);
                }
                _ => {}
            }
        }
        let after = self.world.clone();
        self.settle();
        self.operate();
        self.terminating.retain(|name, left| {
            if *left == 0 {
                self.world.pods.retain(|x| pod::name(x) != name);
                false
            } else {
                *left -= 1;
                true
            }
        });
        let names: BTreeSet<String> = self
            .world
            .pods
            .iter()
            .map(|x| pod::name(x).to_string())
            .collect();
        self.lagging.retain(|n, _| names.contains(n));
        self.unready.retain(|n, _| names.contains(n));
        self.operator.retain(|n, _| names.contains(n));
        self.world.now = now.checked_add(SignedDuration::from_secs(1)).unwrap();
        Pass {
            before,
            plan: p,
            after,
            calm,
        }
    }

    /// The scheduler and kubelet, late for some pods, and failing readiness probes.
    fn settle(&mut self) {
        let held: Vec<Arc<Pod>> = self
            .world
            .pods
            .iter()
            .filter(|x| self.lagging.get(pod::name(x)).is_some_and(|l| *l > 0))
            .cloned()
            .collect();
        preview::settle(&mut self.world);
        let now = self.world.now;
        for x in self.world.pods.iter_mut() {
            let name = pod::name(x).to_string();
            if let Some(h) = held.iter().find(|h| pod::name(h) == name) {
                *x = h.clone();
            } else if self.unready.get(&name).is_some_and(|u| *u > 0) && pod::is_active(x) {
                let x = Arc::make_mut(x);
                set_cond(x, "ContainersReady", "False", now);
                set_cond(x, "Ready", "False", now);
            }
        }
        let held: BTreeSet<String> = held.iter().map(|h| pod::name(h).to_string()).collect();
        for (name, u) in self.unready.iter_mut() {
            if !held.contains(name) {
                *u = u.saturating_sub(1);
            }
        }
        for l in self.lagging.values_mut() {
            *l = l.saturating_sub(1);
        }
        self.lagging.retain(|_, l| *l > 0);
        self.unready.retain(|_, u| *u > 0);
    }

    /// The external operator that works the hooks.
    fn operate(&mut self) {
        let mut todo: Vec<(String, &'static str, bool)> = Vec::new();
        for x in self.world.pods.iter().filter(|x| pod::is_active(x)) {
            let st = pod::lifecycle_state(x);
            let flip = if self.hooks.pre_delete
                && st == state::PREPARING_DELETE
                && has_label(x, PRE_DELETE)
            {
                Some((PRE_DELETE, false))
            } else if self.hooks.in_place && st == state::PREPARING_UPDATE && has_label(x, IN_PLACE)
            {
                Some((IN_PLACE, false))
            } else if self.hooks.in_place && st == state::UPDATED && !has_label(x, IN_PLACE) {
                Some((IN_PLACE, true))
            } else if self.hooks.pre_normal
                && st == state::PREPARING_NORMAL
                && !has_label(x, PRE_NORMAL)
            {
                Some((PRE_NORMAL, true))
            } else {
                None
            };
            if let Some((key, add)) = flip {
                todo.push((pod::name(x).to_string(), key, add));
            }
        }
        for (name, key, add) in todo {
            if !self.operator.contains_key(&name) {
                let k = self.rng.u32(0..=self.hook_delay);
                self.operator.insert(name, (k, key, add));
            }
        }
        let mut due = Vec::new();
        self.operator.retain(|name, (left, key, add)| {
            if *left == 0 {
                due.push((name.clone(), *key, *add));
                false
            } else {
                *left -= 1;
                true
            }
        });
        for (name, key, add) in due {
            if let Some(x) = self.pod_mut(&name) {
                let labels = x.metadata.labels.get_or_insert_with(BTreeMap::new);
                if add {
                    labels.insert(key.into(), HELD.into());
                } else {
                    labels.remove(key);
                }
            }
        }
    }

    /// The cluster has nothing pending and every pod is available.
    fn calm(&self) -> bool {
        let min_ready = self.world.cloneset.spec.min_ready_seconds.unwrap_or(0);
        self.terminating.is_empty()
            && self.lagging.is_empty()
            && self.unready.is_empty()
            && self.operator.is_empty()
            && self
                .world
                .pods
                .iter()
                .all(|x| pod::available(x, min_ready, self.world.now))
    }
}

impl Pass {
    /// At rest: the plan saw a calm cluster and had nothing to do.
    fn rest(&self) -> bool {
        let p = &self.plan;
        self.calm && p.actions.is_empty() && p.revision.is_none() && p.defaulted.is_none()
    }
}

fn active(w: &Snapshot) -> impl Iterator<Item = &Pod> {
    w.pods
        .iter()
        .map(|x| x.as_ref())
        .filter(|x| pod::is_active(x))
}

fn available(w: &Snapshot) -> i32 {
    let m = w.cloneset.spec.min_ready_seconds.unwrap_or(0);
    active(w).filter(|x| pod::available(x, m, w.now)).count() as i32
}

fn find<'a>(w: &'a Snapshot, name: &str) -> Option<&'a Pod> {
    w.pods
        .iter()
        .map(|x| x.as_ref())
        .find(|x| pod::name(x) == name)
}

/// Hooks hold pods: no pod hooked by `preDelete` is deleted, no pod hooked by `inPlaceUpdate`
/// (before `Updating`) is updated in place, and a hooked `PreparingUpdate` pod keeps its image;
/// no two pods share a name.
fn check_hooks(h: &Harsh, ps: &Pass) -> Result<(), TestCaseError> {
    for a in &ps.plan.actions {
        match a {
            Action::Delete { pod: name, .. } if h.hooks.pre_delete => {
                let x = find(&ps.before, name).expect("deleted pod exists");
                prop_assert!(
                    !has_label(x, PRE_DELETE),
                    "pod {name} deleted while hooked by preDelete (state {:?})",
                    pod::lifecycle_state(x)
                );
            }
            Action::UpdateInPlace { pod: name, .. } if h.hooks.in_place => {
                let x = find(&ps.before, name).expect("updated pod exists");
                prop_assert!(
                    !has_label(x, IN_PLACE) || pod::lifecycle_state(x) == state::UPDATING,
                    "pod {name} updated in place while hooked (state {:?})",
                    pod::lifecycle_state(x)
                );
            }
            _ => {}
        }
    }
    for x in &ps.after.pods {
        if pod::lifecycle_state(x) == state::PREPARING_UPDATE && has_label(x, IN_PLACE) {
            prop_assert_eq!(
                image(x),
                "a:1",
                "hooked PreparingUpdate pod {}",
                pod::name(x)
            );
        }
    }
    let names: BTreeSet<&str> = ps.after.pods.iter().map(|x| pod::name(x)).collect();
    prop_assert_eq!(names.len(), ps.after.pods.len(), "two pods share a name");
    Ok(())
}

/// Run to rest (checking the hooks at every pass); the number of passes it took.
fn to_rest(h: &mut Harsh, max: usize) -> Result<usize, TestCaseError> {
    for i in 0..max {
        let ps = h.pass();
        check_hooks(h, &ps)?;
        if ps.rest() {
            return Ok(i);
        }
    }
    Err(TestCaseError::fail("did not come to rest"))
}

/// Partition as reference notes §2.8 give it: percentages rounded up, a percentage other
/// than exactly "100%" that reaches replicas (> 1) leaves one pod to update, clamped.
fn expected_partition(p: &IntOrString, r: i32) -> i32 {
    match p {
        IntOrString::Int(n) => (*n).clamp(0, r),
        IntOrString::String(s) => {
            let pct: f64 = s.trim_end_matches('%').parse().unwrap();
            let mut v = (pct * f64::from(r) / 100.0).ceil() as i32;
            if r > 1 && v == r && s != "100%" {
                v = r - 1;
            }
            v.clamp(0, r)
        }
    }
}

fn int_or_percent(
    ints: std::ops::Range<i32>,
    pcts: std::ops::RangeInclusive<i32>,
) -> impl Strategy<Value = IntOrString> {
    prop_oneof![
        ints.prop_map(IntOrString::Int),
        pcts.prop_map(|p| IntOrString::String(format!("{p}%"))),
    ]
}

fn hooks() -> impl Strategy<Value = Hooks> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(pre_delete, in_place, pre_normal)| {
        Hooks {
            pre_delete,
            in_place,
            pre_normal,
        }
    })
}

const MAX_PASSES: usize = 700;

#[allow(clippy::too_many_arguments)]
fn rollout(
    replicas: i32,
    max_unavailable: IntOrString,
    max_surge: IntOrString,
    partition: IntOrString,
    inplace: bool,
    min_ready: i32,
    scale_limit: Option<i32>,
    hooks: Hooks,
    hook_delay: u32,
    seed: u64,
) -> Result<(), TestCaseError> {
    let mut cs = cloneset(replicas, hooks);
    cs.spec.min_ready_seconds = Some(min_ready);
    cs.spec.scale_strategy = scale_limit.map(|l| CloneSetScaleStrategy {
        max_unavailable: Some(IntOrString::Int(l)),
        ..Default::default()
    });
    cs.spec.update_strategy = Some(CloneSetUpdateStrategy {
        type_: Some(if inplace {
            CloneSetUpdateStrategyType::InPlaceIfPossible
        } else {
            CloneSetUpdateStrategyType::ReCreate
        }),
        max_unavailable: Some(max_unavailable),
        max_surge: Some(max_surge),
        partition: Some(partition.clone()),
        ..Default::default()
    });
    let lim = Limits::of(&defaults::apply(&cs));
    prop_assume!(lim.max_unavailable >= 1 || lim.max_surge >= 1);
    prop_assume!(validate::validate(&cs, None).is_ok());
    let (r, u, s) = (replicas, lim.max_unavailable.max(0), lim.max_surge.max(0));
    let mut h = Harsh::new(cs, hooks, seed);
    h.hook_delay = hook_delay;
    to_rest(&mut h, MAX_PASSES)?;
    prop_assert_eq!(available(&h.world), r, "all available before the update");

    // The update.
    let cs = &mut h.world.cloneset;
    cs.spec.template.0["spec"]["containers"][0]["image"] = json!("a:2");
    cs.metadata.generation = Some(2);
    for i in 0..MAX_PASSES {
        let ps = h.pass();
        check_hooks(&h, &ps)?;
        for w in [&ps.after, &h.world] {
            let n = active(w).count() as i32;
            prop_assert!(
                n <= r + s,
                "pass {i}: {n} active pods for {r} replicas, maxSurge {s}"
            );
            let a = available(w);
            prop_assert!(
                a >= r - u,
                "pass {i}: {a} available pods for {r} replicas, maxUnavailable {u}"
            );
        }
        if ps.rest() {
            let p = expected_partition(&partition, r);
            let new = h.world.pods.iter().filter(|x| image(x) == "a:2").count() as i32;
            prop_assert_eq!(h.world.pods.len() as i32, r, "pods at rest");
            prop_assert_eq!(new, r - p, "pods on the new image at rest, partition {}", p);
            for x in &h.world.pods {
                prop_assert_eq!(pod::lifecycle_state(x), state::NORMAL);
                let rev = pod::revision_matches(pod::revision(x), &ps.plan.update_revision);
                prop_assert_eq!(rev, image(x) == "a:2", "revision label of {}", pod::name(x));
            }
            let st = &ps.plan.status;
            prop_assert_eq!(st.updated_replicas, r - p);
            prop_assert_eq!(st.expected_updated_replicas, Some(r - p));
            return Ok(());
        }
    }
    Err(TestCaseError::fail("the update did not come to rest"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// An update in a harsh cluster: at every pass at most replicas + maxSurge active pods
    /// and at least replicas − maxUnavailable available ones (minReadySeconds counted); hooks
    /// hold their pods; at rest exactly replicas − partition pods run the new image.
    //
    // It found a liveness bug (ReCreate or in-place with maxSurge, a preDelete hook and
    // scaleStrategy.maxUnavailable: a pod let go by its hook was never deleted), fixed in
    // plan.rs; see `a_pre_delete_pod_let_go_is_deleted_when_scale_up_is_limited_to_nothing`.
    #[test]
    fn a_harsh_update_keeps_its_budget_and_partition(
        replicas in 1i32..9,
        max_unavailable in int_or_percent(0..4, 0..=60),
        max_surge in int_or_percent(0..3, 0..=50),
        partition in int_or_percent(0..10, 0..=100),
        inplace in any::<bool>(),
        min_ready in 0i32..4,
        scale_limit in proptest::option::of(1i32..4),
        hooks in hooks(),
        seed in any::<u64>(),
    ) {
        rollout(replicas, max_unavailable, max_surge, partition, inplace, min_ready, scale_limit, hooks, 3, seed)?;
    }

    /// Every hook on, an operator slow to let go, and an update that deletes or updates in
    /// place: a pod is deleted only once its preDelete label is gone, updated in place only
    /// once its inPlaceUpdate label is gone, and the update still completes within budget.
    #[test]
    fn hooks_hold_their_pods_in_a_harsh_cluster(
        replicas in 1i32..7,
        max_unavailable in 1i32..4,
        max_surge in 0i32..3,
        inplace in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let all = Hooks { pre_delete: true, in_place: true, pre_normal: true };
        rollout(replicas, IntOrString::Int(max_unavailable), IntOrString::Int(max_surge), IntOrString::Int(0), inplace, 1, None, all, 6, seed)?;
    }

    /// Scaling from any size to any size, and changing one's mind halfway, in a harsh
    /// cluster: a pass that creates pods leaves at most scaleStrategy.maxUnavailable pods
    /// unavailable, never creates above replicas, never deletes below
    /// replicas − maxUnavailable available pods, hooks hold their pods, and the end is
    /// exactly `to` available pods.
    #[test]
    fn harsh_scaling_keeps_its_limits(
        from in 0i32..9,
        mid in 0i32..9,
        mid_after in 0usize..6,
        to in 0i32..9,
        scale_limit in proptest::option::of(1i32..4),
        min_ready in 0i32..3,
        pre_delete in any::<bool>(),
        pre_normal in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let hooks = Hooks { pre_delete, in_place: false, pre_normal };
        let mut cs = cloneset(from, hooks);
        cs.spec.min_ready_seconds = Some(min_ready);
        cs.spec.scale_strategy = scale_limit.map(|l| CloneSetScaleStrategy {
            max_unavailable: Some(IntOrString::Int(l)),
            ..Default::default()
        });
        let mut h = Harsh::new(cs, hooks, seed);
        to_rest(&mut h, MAX_PASSES)?;
        prop_assert_eq!(available(&h.world), from);
        for (target, passes) in [(mid, mid_after), (to, MAX_PASSES)] {
            h.world.cloneset.spec.replicas = Some(target);
            h.world.cloneset.metadata.generation = Some(h.world.cloneset.metadata.generation.unwrap() + 1);
            let lim = Limits::of(&defaults::apply(&h.world.cloneset));
            let u = lim.max_unavailable.max(0);
            for i in 0..passes {
                let ps = h.pass();
                check_hooks(&h, &ps)?;
                let creates = ps.plan.actions.iter().filter(|a| matches!(a, Action::Create { .. })).count();
                let (n0, n1) = (active(&ps.before).count() as i32, active(&ps.after).count() as i32);
                prop_assert!(n1 <= target.max(n0), "pass {i}: {n1} active pods from {n0} for {target} replicas");
                if creates > 0 && let Some(l) = scale_limit {
                    let unavailable = n1 - available(&ps.after);
                    prop_assert!(unavailable <= l, "pass {i}: created {creates}, {unavailable} unavailable, scaleStrategy.maxUnavailable {l}");
                }
                let (a0, a1) = (available(&ps.before), available(&ps.after));
                prop_assert!(a1 >= a0.min(target - u), "pass {i}: available {a0} → {a1}, {target} replicas, maxUnavailable {u}");
                if passes == MAX_PASSES && ps.rest() {
                    prop_assert_eq!(h.world.pods.len() as i32, to);
                    prop_assert_eq!(available(&h.world), to);
                    prop_assert!(h.world.pods.iter().all(|x| pod::lifecycle_state(x) == state::NORMAL));
                    return Ok(());
                }
            }
        }
        prop_assert!(false, "scaling did not come to rest");
    }
}

/// The bug `a_harsh_update_keeps_its_budget_and_partition` found, reproduced in the kind
/// preview world (no slow deletes, no lag) with an operator that holds a `PreparingDelete`
/// pod for one pass. 4 replicas, ReCreate, maxUnavailable 1, maxSurge 2,
/// scaleStrategy.maxUnavailable 1, a preDelete hook. It ends stuck with one old Normal pod,
/// one old `PreparingDelete` pod its hook has let go, and two new pods: every pass computes
/// useSurge 1 (update surge), expectedTotal 5 > currentTotal 4, so scaleUpNum 1, but
/// scaleUpLimit = max(1 − totalUnavailable 1, 0) = 0 (the `PreparingDelete` pod is the
/// unavailable one). `scale` returns at the scale-out branch whatever scaleUpLimit is, so
/// it never reaches "delete the pods already in PreparingDelete", and the update step has
/// no budget (updateMaxUnavailable 1 + 4 − 4 = 1, one pod unavailable). Nothing ever moves.
/// Upstream v1.9.0 has the same early return (`if diffRes.scaleUpNum > 0 { return
/// r.createPods(..) }` in cloneset_scale.go); we guard the branch with scaleUpLimit > 0, as
/// KubeBlocks' InstanceSet port of it does, so the pass goes on to the deletes.
#[test]
fn a_pre_delete_pod_let_go_is_deleted_when_scale_up_is_limited_to_nothing() {
    let hooks = Hooks {
        pre_delete: true,
        ..Default::default()
    };
    let mut cs = cloneset(4, hooks);
    cs.spec.scale_strategy = Some(CloneSetScaleStrategy {
        max_unavailable: Some(IntOrString::Int(1)),
        ..Default::default()
    });
    cs.spec.update_strategy = Some(CloneSetUpdateStrategy {
        max_unavailable: Some(IntOrString::Int(1)),
        max_surge: Some(IntOrString::Int(2)),
        ..Default::default()
    });
    let mut world = Harsh::new(cs, hooks, 1).world;
    // The operator lets a PreparingDelete pod go one pass after it got there.
    let mut held: BTreeSet<String> = BTreeSet::new();
    let mut pass = |w: &mut Snapshot| {
        let p = plan::plan(w).unwrap();
        preview::apply(w, &p);
        preview::settle(w);
        for x in w.pods.iter_mut().map(Arc::make_mut) {
            if pod::lifecycle_state(x) == state::PREPARING_DELETE
                && !held.insert(pod::name(x).to_string())
            {
                x.metadata.labels.as_mut().unwrap().remove(PRE_DELETE);
            }
        }
        w.now = w.now.checked_add(SignedDuration::from_secs(1)).unwrap();
    };
    for _ in 0..10 {
        pass(&mut world);
    }
    assert_eq!(available(&world), 4);
    world.cloneset.spec.template.0["spec"]["containers"][0]["image"] = json!("a:2");
    world.cloneset.metadata.generation = Some(2);
    for _ in 0..100 {
        pass(&mut world);
    }
    let pods: Vec<(&str, &str)> = world
        .pods
        .iter()
        .map(|x| (image(x), pod::lifecycle_state(x)))
        .collect();
    assert_eq!(pods, vec![("a:2", state::NORMAL); 4]);
}
