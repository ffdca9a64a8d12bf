//! The embedded controllers: what the operator would do, done from the terminal when no
//! operator is installed. Each kind has a pure `plan` (snapshot → writes) and a thin `sync`
//! that carries the writes out; `runtime` watches, queues and holds the Lease.

pub mod actions;
pub mod batchrelease;
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
pub mod rollout;
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
    /// The API (`group/version`, plural) of the kind it reconciles: without its CRD served,
    /// `controller run` leaves it out (its watch could never start).
    pub serves: (&'static str, &'static str),
    /// Which operator does the same work (OpenKruise's manager, or Kruise Rollout's).
    pub rollout: bool,
}

/// Every embedded controller, in the order `controller run` starts them: the one list that
/// `controller run --controllers` accepts and `version` reports.
pub const REGISTRY: &[Registration] = &[
    Registration {
        name: cloneset::reconciler::NAME,
        kind: "CloneSet (apps.kruise.io)",
        make: || Box::new(cloneset::reconciler::CloneSetReconciler),
        serves: ("apps.kruise.io/v1alpha1", "clonesets"),
        rollout: false,
    },
    Registration {
        name: statefulset::reconciler::NAME,
        kind: "Advanced StatefulSet (apps.kruise.io)",
        make: || Box::new(statefulset::reconciler::StatefulSetReconciler),
        serves: ("apps.kruise.io/v1beta1", "statefulsets"),
        rollout: false,
    },
    Registration {
        name: daemonset::reconciler::NAME,
        kind: "Advanced DaemonSet (apps.kruise.io)",
        make: || Box::new(daemonset::reconciler::DaemonSetReconciler),
        serves: ("apps.kruise.io/v1alpha1", "daemonsets"),
        rollout: false,
    },
    Registration {
        name: rollout::reconciler::NAME,
        kind: "Rollout (rollouts.kruise.io)",
        make: || Box::new(rollout::reconciler::RolloutReconciler::default()),
        serves: ("rollouts.kruise.io/v1beta1", "rollouts"),
        rollout: true,
    },
    Registration {
        name: batchrelease::reconciler::NAME,
        kind: "BatchRelease (rollouts.kruise.io)",
        make: || Box::new(batchrelease::reconciler::BatchReleaseReconciler),
        serves: ("rollouts.kruise.io/v1beta1", "batchreleases"),
        rollout: true,
    },
];
