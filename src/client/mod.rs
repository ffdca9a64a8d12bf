//! Talking to the cluster: kubeconfig and flags → client, kinds and `TYPE/NAME` resolution
//! (no discovery for known kinds), operator detection, guarded writes.

pub mod config;
pub mod detect;
pub mod kinds;
pub mod resolve;
pub mod wire;
pub mod write;

pub use config::{Kube, connect};
