//! Rollout conditions as upstream keeps them (`pkg/util/condition.go`, reference notes §1.4):
//! setting an equal condition changes nothing; otherwise it is moved to the end of the list,
//! keeping `lastTransitionTime` when the status did not change. A reason change edits a copy
//! of the condition, so `lastUpdateTime` only moves when the condition is created anew.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::rollout::{RolloutCondition, RolloutStatus};

pub const PROGRESSING: &str = "Progressing";
pub const SUCCEEDED: &str = "Succeeded";
pub const TERMINATING: &str = "Terminating";

pub fn get<'a>(st: &'a RolloutStatus, type_: &str) -> Option<&'a RolloutCondition> {
    st.conditions.iter().flatten().find(|c| c.type_ == type_)
}

pub fn new(type_: &str, status: bool, reason: &str, message: &str, now: &Time) -> RolloutCondition {
    RolloutCondition {
        type_: type_.into(),
        status: if status { "True" } else { "False" }.into(),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
        reason: reason.into(),
        message: message.into(),
    }
}

pub fn set(st: &mut RolloutStatus, mut c: RolloutCondition) {
    if let Some(old) = get(st, &c.type_) {
        if old.status == c.status && old.reason == c.reason && old.message == c.message {
            return;
        }
        if old.status == c.status {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    remove(st, &c.type_);
    st.conditions.get_or_insert_with(Vec::new).push(c);
}

pub fn remove(st: &mut RolloutStatus, type_: &str) {
    if let Some(cs) = st.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
        if cs.is_empty() {
            st.conditions = None;
        }
    }
}

/// The Progressing condition's reason (empty when there is none).
pub fn reason(st: &RolloutStatus) -> String {
    get(st, PROGRESSING)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

/// Moves the Progressing condition to `reason` (an empty message keeps the old one), and
/// copies the message to `status.message`, as upstream's transitions do.
pub fn progressing(st: &mut RolloutStatus, status: bool, reason: &str, message: &str, now: &Time) {
    let mut c = get(st, PROGRESSING)
        .cloned()
        .unwrap_or_else(|| new(PROGRESSING, status, reason, message, now));
    c.status = if status { "True" } else { "False" }.into();
    c.reason = reason.into();
    if !message.is_empty() {
        c.message = message.into();
    }
    st.message = Some(c.message.clone());
    set(st, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::jiff::Timestamp;

    fn t(s: i64) -> Time {
        Time(Timestamp::from_second(s).unwrap())
    }

    #[test]
    fn equal_is_a_no_op_and_changes_move_to_the_end() {
        let mut st = RolloutStatus::default();
        set(&mut st, new(PROGRESSING, true, "Initializing", "m", &t(1)));
        set(&mut st, new(SUCCEEDED, true, "", "", &t(1)));
        set(&mut st, new(PROGRESSING, true, "Initializing", "m", &t(2)));
        assert_eq!(st.conditions.as_ref().unwrap()[0].type_, PROGRESSING);
        progressing(&mut st, true, "InRolling", "", &t(3));
        let cs = st.conditions.as_ref().unwrap();
        assert_eq!(cs[1].type_, PROGRESSING);
        assert_eq!(cs[1].reason, "InRolling");
        assert_eq!(cs[1].message, "m", "an empty message keeps the old one");
        assert_eq!(
            cs[1].last_update_time,
            Some(t(1)),
            "a copy edited: not refreshed"
        );
        assert_eq!(cs[1].last_transition_time, Some(t(1)));
        progressing(&mut st, false, "Completed", "done", &t(4));
        let c = get(&st, PROGRESSING).unwrap();
        // Upstream edits a copy even when the status flips: the old transition time stays.
        assert_eq!(c.last_transition_time, Some(t(1)));
        assert_eq!(c.status, "False");
        assert_eq!(st.message.as_deref(), Some("done"));
    }
}
