//! The Kruise Rollout controller, embedded (v0.6.2): a Rollout's release moved step by step
//! (pods through its BatchRelease, then traffic through nginx Ingress or Gateway API), its
//! finalisation, and the gate upstream's webhook puts on the workload.

pub mod gate;
pub mod hash;
pub mod io;
pub mod keys;
pub mod plan;
pub mod reconciler;
pub mod traffic;
pub mod validate;
pub mod workload;
