//! The kinds this tool knows without asking the server (no discovery request), and how a
//! user may spell them: kind, plural, singular, short names, and `<plural|kind>.<group>`.
//!
//! Plain names resolve as kubectl resolves them: `statefulset`/`sts` and `daemonset`/`ds` are
//! the built-in apps/v1 kinds; the Advanced ones are `asts`/`ads` or the fully qualified
//! `statefulsets.apps.kruise.io` / `daemonsets.apps.kruise.io`. Kruise kinds are listed at
//! their storage version (the version this tool reads and writes).

use kube::api::{ApiResource, GroupVersionKind};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub kind: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub short: &'static [&'static str],
    pub namespaced: bool,
}

pub const DEPLOYMENT: Kind = k("Deployment", "apps", "v1", "deployments", &["deploy"], true);
pub const STATEFULSET: Kind = k("StatefulSet", "apps", "v1", "statefulsets", &["sts"], true);
pub const DAEMONSET: Kind = k("DaemonSet", "apps", "v1", "daemonsets", &["ds"], true);
pub const CLONESET: Kind = k(
    "CloneSet",
    "apps.kruise.io",
    "v1alpha1",
    "clonesets",
    &["clone", "cs"],
    true,
);
pub const ADVANCED_STATEFULSET: Kind = k(
    "StatefulSet",
    "apps.kruise.io",
    "v1beta1",
    "statefulsets",
    &["asts"],
    true,
);
pub const ADVANCED_DAEMONSET: Kind = k(
    "DaemonSet",
    "apps.kruise.io",
    "v1beta1",
    "daemonsets",
    &["ads"],
    true,
);
pub const ROLLOUT: Kind = k(
    "Rollout",
    "rollouts.kruise.io",
    "v1beta1",
    "rollouts",
    &["ro"],
    true,
);

const fn k(
    kind: &'static str,
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    short: &'static [&'static str],
    namespaced: bool,
) -> Kind {
    Kind {
        kind,
        group,
        version,
        plural,
        short,
        namespaced,
    }
}

/// Every known kind, built-in first (they win plain names, as in kubectl).
pub const KINDS: &[Kind] = &[
    k("Pod", "", "v1", "pods", &["po"], true),
    DEPLOYMENT,
    k("ReplicaSet", "apps", "v1", "replicasets", &["rs"], true),
    STATEFULSET,
    DAEMONSET,
    k(
        "ControllerRevision",
        "apps",
        "v1",
        "controllerrevisions",
        &[],
        true,
    ),
    k("Job", "batch", "v1", "jobs", &[], true),
    CLONESET,
    ADVANCED_STATEFULSET,
    ADVANCED_DAEMONSET,
    k(
        "SidecarSet",
        "apps.kruise.io",
        "v1beta1",
        "sidecarsets",
        &[],
        false,
    ),
    k(
        "BroadcastJob",
        "apps.kruise.io",
        "v1beta1",
        "broadcastjobs",
        &["bcj"],
        true,
    ),
    k(
        "AdvancedCronJob",
        "apps.kruise.io",
        "v1beta1",
        "advancedcronjobs",
        &["acj"],
        true,
    ),
    k(
        "ImagePullJob",
        "apps.kruise.io",
        "v1beta1",
        "imagepulljobs",
        &[],
        true,
    ),
    k(
        "NodeImage",
        "apps.kruise.io",
        "v1beta1",
        "nodeimages",
        &[],
        false,
    ),
    k(
        "PodProbeMarker",
        "apps.kruise.io",
        "v1alpha1",
        "podprobemarkers",
        &[],
        true,
    ),
    k(
        "NodePodProbe",
        "apps.kruise.io",
        "v1alpha1",
        "nodepodprobes",
        &[],
        false,
    ),
    k(
        "WorkloadSpread",
        "apps.kruise.io",
        "v1alpha1",
        "workloadspreads",
        &["ws"],
        true,
    ),
    k(
        "ContainerRecreateRequest",
        "apps.kruise.io",
        "v1alpha1",
        "containerrecreaterequests",
        &["crr"],
        true,
    ),
    k(
        "PodUnavailableBudget",
        "policy.kruise.io",
        "v1alpha1",
        "podunavailablebudgets",
        &["pub"],
        true,
    ),
    ROLLOUT,
    k(
        "BatchRelease",
        "rollouts.kruise.io",
        "v1beta1",
        "batchreleases",
        &[],
        true,
    ),
    k(
        "TrafficRouting",
        "rollouts.kruise.io",
        "v1alpha1",
        "trafficroutings",
        &[],
        true,
    ),
];

impl Kind {
    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }

    /// `deployments.apps`, `pods`, `clonesets.apps.kruise.io`: how kubectl names a resource in errors.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `deployment.apps`, `pod`, `cloneset.apps.kruise.io`: the prefix of kubectl's name output.
    pub fn name_prefix(&self) -> String {
        if self.group.is_empty() {
            self.singular()
        } else {
            format!("{}.{}", self.singular(), self.group)
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    fn answers_to(&self, word: &str) -> bool {
        word == self.plural || word == self.singular() || self.short.contains(&word)
    }
}

/// Resolves a user's spelling of a kind, with no request to the server.
pub fn resolve(word: &str) -> Result<Kind> {
    let w = word.to_ascii_lowercase();
    if w.is_empty() {
        return Err(Error::usage(
            "a resource type is required, e.g. deployment/web",
        ));
    }
    // Plain names: the first kind that answers (built-in kinds come first).
    if let Some(k) = KINDS.iter().find(|k| k.answers_to(&w)) {
        return Ok(*k);
    }
    // Qualified: <name>.<group> or <name>.<version>.<group>.
    if let Some((name, rest)) = w.split_once('.') {
        for k in KINDS {
            let qualified = rest == k.group || rest == format!("{}.{}", k.version, k.group);
            if qualified && (name == k.plural || name == k.singular()) {
                return Ok(*k);
            }
        }
    }
    Err(unknown(word))
}

fn unknown(word: &str) -> Error {
    let mut names: Vec<String> = KINDS
        .iter()
        .map(|k| match k.short.first() {
            Some(s) => format!("{} ({s})", k.resource()),
            None => k.resource(),
        })
        .collect();
    names.dedup();
    Error::usage(format!(
        "unknown resource type \"{word}\"; known types: {}",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_resolve_without_discovery() {
        for (word, kind, group) in [
            ("deploy", "Deployment", "apps"),
            ("deployments", "Deployment", "apps"),
            ("Deployment", "Deployment", "apps"),
            ("deployments.apps", "Deployment", "apps"),
            ("deployment.v1.apps", "Deployment", "apps"),
            ("cloneset", "CloneSet", "apps.kruise.io"),
            ("clonesets", "CloneSet", "apps.kruise.io"),
            ("clone", "CloneSet", "apps.kruise.io"),
            ("cs", "CloneSet", "apps.kruise.io"),
            ("CloneSet.apps.kruise.io", "CloneSet", "apps.kruise.io"),
            (
                "statefulsets.apps.kruise.io",
                "StatefulSet",
                "apps.kruise.io",
            ),
            ("asts", "StatefulSet", "apps.kruise.io"),
            ("statefulset", "StatefulSet", "apps"),
            ("sts", "StatefulSet", "apps"),
            ("daemonsets.apps.kruise.io", "DaemonSet", "apps.kruise.io"),
            ("ads", "DaemonSet", "apps.kruise.io"),
            ("ds", "DaemonSet", "apps"),
            ("rollout", "Rollout", "rollouts.kruise.io"),
            (
                "rollouts.rollouts.kruise.io",
                "Rollout",
                "rollouts.kruise.io",
            ),
            ("ro", "Rollout", "rollouts.kruise.io"),
            ("pub", "PodUnavailableBudget", "policy.kruise.io"),
            ("po", "Pod", ""),
        ] {
            let k = resolve(word).unwrap_or_else(|e| panic!("{word}: {e}"));
            assert_eq!((k.kind, k.group), (kind, group), "{word}");
        }
    }

    #[test]
    fn unknown_kind_lists_known_ones() {
        let e = resolve("frobnicator").unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        let m = e.to_string();
        assert!(m.contains("unknown resource type \"frobnicator\""), "{m}");
        assert!(m.contains("clonesets.apps.kruise.io (clone)"), "{m}");
        assert!(m.contains("deployments.apps (deploy)"), "{m}");
        assert!(resolve("deployments.kruise.io").is_err());
    }

    #[test]
    fn names_are_kubectl_style() {
        assert_eq!(DEPLOYMENT.resource(), "deployments.apps");
        assert_eq!(DEPLOYMENT.name_prefix(), "deployment.apps");
        assert_eq!(CLONESET.api_version(), "apps.kruise.io/v1alpha1");
        assert_eq!(resolve("po").unwrap().name_prefix(), "pod");
    }

    #[test]
    fn every_crd_matches_the_kinds_table() {
        for c in crate::api::crds() {
            let k = KINDS
                .iter()
                .find(|k| k.group == c.spec.group && k.plural == c.spec.names.plural)
                .unwrap_or_else(|| panic!("{} missing from the kinds table", c.spec.names.plural));
            let served: Vec<&str> = c.spec.versions.iter().map(|v| v.name.as_str()).collect();
            assert_eq!(served, [k.version], "{}", k.plural);
            assert_eq!(k.namespaced, c.spec.scope == "Namespaced", "{}", k.plural);
            assert_eq!(k.kind, c.spec.names.kind);
        }
    }
}
