//! The labels, annotations and finalizers Kruise Rollout v0.6.2 reads and writes (reference
//! notes §1.7), in one place.

pub const IN_PROGRESSING: &str = "rollouts.kruise.io/in-progressing";
pub const WORKLOAD_TYPE: &str = "rollouts.kruise.io/workload-type";
pub const STABLE_REVISION: &str = "rollouts.kruise.io/stable-revision";
pub const ROLLOUT_ID: &str = "rollouts.kruise.io/rollout-id";
pub const BATCH_ID: &str = "rollouts.kruise.io/rollout-batch-id";
pub const HASH: &str = "rollouts.kruise.io/hash";
pub const ROLLBACK_IN_BATCH: &str = "rollouts.kruise.io/rollback-in-batch";
pub const CONTROL_INFO: &str = "batchrelease.rollouts.kruise.io/control-info";
pub const CANARY_DEPLOYMENT: &str = "rollouts.kruise.io/canary-deployment";
pub const CANARY_FINALIZER: &str = "finalizer.rollouts.kruise.io/batch-release";
pub const ROLLOUT_FINALIZER: &str = "rollouts.kruise.io/rollout";
pub const BR_FINALIZER: &str = "rollouts.kruise.io/batch-release-finalizer";
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";
/// Our addition: says the last re-pause of a workload changed behind the Rollout's back.
pub const GATED_BY: &str = "kubectl-kruise.io/gated-by";
