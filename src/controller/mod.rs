//! The embedded controllers: what the operator would do, done from the terminal when no
//! operator is installed. Each kind has a pure `plan` (snapshot → writes) and a thin `sync`
//! that carries the writes out; `runtime` watches, queues and holds the Lease.

pub mod cloneset;
pub mod events;
pub mod intstr;
pub mod lease;
pub mod pod;
pub mod runtime;
pub mod selector;
