//! The CloneSet controller (reference notes §3).

pub mod defaults;
pub mod goal;
pub mod plan;
pub mod preview;
pub mod reconciler;
pub mod revision;
#[cfg(test)]
mod sim_tests;
pub mod sort;
pub mod sync;
pub mod validate;
