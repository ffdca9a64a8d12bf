//! The Advanced DaemonSet (`apps.kruise.io/v1beta1`, kind `DaemonSet`) embedded controller,
//! as OpenKruise v1.9.0's: a pure `plan` (nodes, pods, revisions → writes and status), the
//! webhook's defaults and checks (`validate`), where it rests (`goal`), and the reconciler on
//! the shared runtime. Pod writes are the shared `controller::podsync`.

pub mod goal;
pub mod plan;
pub mod preview;
pub mod reconciler;
pub mod validate;
