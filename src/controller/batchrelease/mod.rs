//! The BatchRelease controller (Kruise Rollout v0.6.2's batch executor): claims the workload a
//! Rollout releases, moves it batch by batch (a canary Deployment's replicas, or the
//! workload's partition), labels the batch's pods, and releases the workload at the end.

pub mod bluegreen;
pub mod plan;
pub mod reconciler;
pub mod target;
