//! The embedded controllers: what the operator would do, done from the terminal when no
//! operator is installed. Each kind has a pure `plan` (snapshot → writes) and a thin `sync`
//! that carries the writes out; `runtime` watches, queues and holds the Lease.

pub mod actions;
pub mod cloneset;
pub mod daemonset;
pub mod events;
pub mod goencode;
pub mod imagined;
pub mod inplace;
pub mod inplace_state;
pub mod intstr;
pub mod lease;
pub mod pod;
pub mod podsync;
pub mod podupdate;
pub mod revision;
pub mod runtime;
pub mod selector;
pub mod statefulset;

/// An embedded controller this build runs.
pub struct Registration {
    /// Its name: `controller run --controllers`, its Lease, its lines.
    pub name: &'static str,
    /// The kind it reconciles (`CloneSet (apps.kruise.io)`), for `version` and `--help`.
    pub kind: &'static str,
    pub make: fn() -> Box<dyn runtime::Reconciler>,
}

/// Every embedded controller, in the order `controller run` starts them: the one list that
/// `controller run --controllers` accepts and `version` reports.
pub const REGISTRY: &[Registration] = &[
    Registration {
        name: cloneset::reconciler::NAME,
        kind: "CloneSet (apps.kruise.io)",
        make: || Box::new(cloneset::reconciler::CloneSetReconciler),
    },
    Registration {
        name: statefulset::reconciler::NAME,
        kind: "Advanced StatefulSet (apps.kruise.io)",
        make: || Box::new(statefulset::reconciler::StatefulSetReconciler),
    },
    Registration {
        name: daemonset::reconciler::NAME,
        kind: "Advanced DaemonSet (apps.kruise.io)",
        make: || Box::new(daemonset::reconciler::DaemonSetReconciler),
    },
];
