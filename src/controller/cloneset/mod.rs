//! The CloneSet controller (reference notes §3).

pub mod defaults;
pub mod goal;
pub mod goencode;
pub mod inplace;
pub mod plan;
pub mod preview;
pub mod revision;
pub mod sort;
pub mod sync;
pub mod validate;
