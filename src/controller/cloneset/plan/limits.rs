//! The numbers of a pass (reference notes §3.7): the limits the spec sets, and upstream's
//! "diffs with expectation" that the scale and update steps work from.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use crate::api::cloneset::CloneSet;
use crate::controller::intstr;
use crate::controller::pod::{self, keys, state};

/// The numbers of a pass (reference notes §3.7), derived from the spec.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub replicas: i32,
    pub partition: i32,
    pub partition_valid: bool,
    pub max_surge: i32,
    pub max_unavailable: i32,
    pub scale_max_unavailable: i64,
    pub min_ready: i32,
    pub paused: bool,
}

impl Limits {
    pub fn of(cs: &CloneSet) -> Limits {
        let r = cs.spec.replicas.unwrap_or(1);
        let us = cs.spec.update_strategy.clone().unwrap_or_default();
        let paused = us.paused.unwrap_or(false);
        let max_surge = if paused {
            0
        } else {
            us.max_surge
                .as_ref()
                .map(|v| intstr::lenient(v, r, true).unwrap_or(0))
                .unwrap_or(0)
        };
        let max_unavailable = intstr::lenient(
            us.max_unavailable.as_ref().unwrap_or(
                &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("20%".into()),
            ),
            r,
            max_surge == 0,
        )
        .unwrap_or(0);
        let scale_max_unavailable = cs
            .spec
            .scale_strategy
            .as_ref()
            .and_then(|s| s.max_unavailable.as_ref())
            .map(|v| i64::from(intstr::lenient(v, r, true).unwrap_or(0)))
            .unwrap_or(i64::from(i32::MAX));
        let p = intstr::partition(us.partition.as_ref(), r);
        Limits {
            replicas: r,
            partition: p.unwrap_or(0),
            partition_valid: p.is_some(),
            max_surge,
            max_unavailable,
            scale_max_unavailable,
            min_ready: cs.spec.min_ready_seconds.unwrap_or(0),
            paused,
        }
    }
}

/// The result of upstream's "diffs with expectation".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Diffs {
    pub scale_up_num: i32,
    pub scale_up_num_old: i32,
    pub scale_up_limit: i32,
    pub scale_down_num: i32,
    pub scale_down_num_old: i32,
    pub delete_ready_limit: i32,
    pub use_surge: i32,
    pub use_surge_old: i32,
    pub update_num: i32,
    pub update_max_unavailable: i32,
}

/// Is the pod marked to be deleted (label, or named in podsToDelete)?
pub(super) fn specified(p: &Pod, pods_to_delete: &BTreeSet<String>) -> bool {
    pod::label(p, keys::SPECIFIED_DELETE).is_some() || pods_to_delete.contains(pod::name(p))
}

/// The pods of a pass counted by revision (new: the update revision) and condition.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    new_active: i32,
    old_active: i32,
    /// Old pods, PreparingDelete ones included.
    old_count: i32,
    pre_del_new: i32,
    pre_del_old: i32,
    to_del_new: i32,
    to_del_old: i32,
    unavail_new: i32,
    unavail_old: i32,
}

impl Counts {
    fn of(
        lim: &Limits,
        pods: &[&Pod],
        update_revision: &str,
        pods_to_delete: &BTreeSet<String>,
        now: Timestamp,
    ) -> Counts {
        let mut c = Counts::default();
        for pd in pods {
            let is_new = pod::revision_matches(pod::revision(pd), update_revision);
            if !is_new {
                c.old_count += 1;
            }
            if pod::lifecycle_state(pd) == state::PREPARING_DELETE {
                if is_new {
                    c.pre_del_new += 1
                } else {
                    c.pre_del_old += 1
                }
                continue;
            }
            if is_new {
                c.new_active += 1
            } else {
                c.old_active += 1
            }
            if specified(pd, pods_to_delete) {
                if is_new {
                    c.to_del_new += 1
                } else {
                    c.to_del_old += 1
                }
            } else if !pod::available(pd, lim.min_ready, now) {
                if is_new {
                    c.unavail_new += 1
                } else {
                    c.unavail_old += 1
                }
            }
        }
        c
    }

    /// PreparingDelete pods and unavailable ones not marked to be deleted.
    fn total_unavailable(&self) -> i32 {
        self.pre_del_new + self.pre_del_old + self.unavail_new + self.unavail_old
    }

    /// Pods marked to be deleted (PreparingDelete ones aside).
    fn marked(&self) -> i32 {
        self.to_del_new + self.to_del_old
    }
}

/// How many pods above `replicas` (and of them, of the old revision) the pass may use:
/// the larger of what the specified deletes and what the update would take, within maxSurge.
fn surge(lim: &Limits, c: &Counts, update_old_diff: i32, update_new_diff: i32) -> (i32, i32) {
    let (s, u) = (lim.max_surge, lim.max_unavailable);
    let to_del = c.marked();
    let (mut scale_surge, mut scale_old_surge) = (0, 0);
    if to_del > 0 {
        scale_surge = (c.total_unavailable() + to_del - u).max(0).min(to_del);
        scale_old_surge = (scale_surge - c.to_del_new).max(0);
    }
    let (mut update_surge, mut update_old_surge) = (0, 0);
    if (update_old_diff > 0 && update_new_diff < 0) || (update_old_diff < 0 && update_new_diff > 0)
    {
        if update_old_diff.abs() <= update_new_diff.abs() {
            update_surge = update_old_diff.abs();
            if update_old_diff < 0 {
                update_old_surge = update_surge;
            }
        } else {
            update_surge = update_new_diff.abs();
            if update_new_diff > 0 {
                update_old_surge = update_surge;
            }
        }
    }
    let use_surge;
    let use_surge_old;
    if scale_surge >= update_surge {
        use_surge = s.min(scale_surge);
        use_surge_old = use_surge.min(scale_old_surge);
    } else {
        use_surge = s.min(update_surge);
        use_surge_old = use_surge.min(update_old_surge);
    }
    (use_surge, use_surge_old)
}

/// Upstream's `calculateDiffsWithExpectation`.
pub fn diffs(
    lim: &Limits,
    pods: &[&Pod],
    update_revision: &str,
    pods_to_delete: &BTreeSet<String>,
    exclude_preparing_delete: bool,
    now: Timestamp,
) -> Diffs {
    let (r, p, u) = (lim.replicas, lim.partition, lim.max_unavailable);
    let c = Counts::of(lim, pods, update_revision, pods_to_delete, now);
    let n = pods.len() as i32;
    let update_old_diff = (c.old_active - p).max(0);
    let update_new_diff = (c.new_active - (r - p)).min(0);
    let total_unavailable = c.total_unavailable();
    let mut d = Diffs::default();
    if lim.max_surge > 0 {
        (d.use_surge, d.use_surge_old) = surge(lim, &c, update_old_diff, update_new_diff);
    }
    let (mut current_total, mut current_total_old) = (n, c.old_count);
    if exclude_preparing_delete {
        current_total -= c.pre_del_new + c.pre_del_old;
        current_total_old -= c.pre_del_old;
    }
    let expected_total = r + d.use_surge;
    let expected_total_old = p + d.use_surge_old;
    if expected_total - current_total > 0 {
        d.scale_up_num = expected_total - current_total;
        d.scale_up_num_old = (expected_total_old - current_total_old).max(0);
        let budget = (lim.scale_max_unavailable - i64::from(total_unavailable)).max(0);
        d.scale_up_limit = i64::from(d.scale_up_num).min(budget) as i32;
    }
    let to_del = c.marked();
    if current_total - to_del - expected_total > 0 {
        d.scale_down_num = current_total - to_del - expected_total;
        d.scale_down_num_old = (current_total_old - c.to_del_old - expected_total_old).max(0);
    }
    if to_del > 0 || d.scale_down_num > 0 {
        d.delete_ready_limit = (u + (n - r) - total_unavailable).max(0);
    }
    d.update_num = if update_old_diff.abs() <= update_new_diff.abs() {
        update_old_diff
    } else {
        -update_new_diff
    };
    if d.update_num != 0 {
        d.update_max_unavailable = u + n - r;
    }
    d
}
