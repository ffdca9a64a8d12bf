//! kubectl-kruise: a kubectl plugin for OpenKruise workloads and Kruise Rollout releases.
//! See DESIGN.md in the shared notes for the layout: `cli` (clap definitions), `cmd` (what
//! each command does), `client` (cluster access), `output` (printers).

pub mod api;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod controller;
pub mod error;
pub mod output;

/// The version this binary reports (`version`, user agent).
pub const VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));
