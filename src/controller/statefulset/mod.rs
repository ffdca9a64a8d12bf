//! The Advanced StatefulSet controller (`apps.kruise.io/v1beta1` StatefulSet; reference notes
//! §4): ordinal pods, OrderedReady and Parallel, reserved ordinals, partition and
//! maxUnavailable, in place through the shared [`podupdate`](crate::controller::podupdate),
//! volume claims with their retention policy, lifecycle hooks, revisions and status as
//! OpenKruise v1.9.0 writes them.

pub mod defaults;
pub mod goal;
pub mod ordinals;
pub mod plan;
pub mod preview;
pub mod reconciler;
pub mod revision;
