//! The control plane's binaries: built by `tests/cluster/build.sh` from the Go wrapper modules
//! into `$HOME/.cache/kubectl-kruise/bin/<component>-<version>/` (never into the repo), and the
//! Gateway API CRDs it installs, fetched by the same script from the Go module
//! `sigs.k8s.io/gateway-api` into `$HOME/.cache/kubectl-kruise/crds/gateway-api-<version>/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Result, fail};

pub struct Bins {
    pub apiserver: PathBuf,
    pub controller_manager: PathBuf,
    pub scheduler: PathBuf,
    pub kubectl: PathBuf,
    pub etcd: PathBuf,
    pub kwok: PathBuf,
    /// The Gateway API CRDs (standard channel), one upstream file per CRD.
    pub gateway_crds: GatewayCrds,
}

/// The folder of upstream's Gateway API CRD files, and the release they come from.
#[derive(Clone, Debug)]
pub struct GatewayCrds {
    pub dir: PathBuf,
    /// The folder's name after `gateway-api-`, e.g. `v1.4.1`: the CRDs' `bundle-version`.
    pub version: String,
}

/// Runs `build.sh` for `components` (the Go build output goes to the terminal) and returns
/// the folder it reports for each.
fn build(root: &Path, components: &[&str]) -> Result<HashMap<String, PathBuf>> {
    let out = Command::new("bash")
        .arg(root.join("tests/cluster/build.sh"))
        .args(components)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run tests/cluster/build.sh: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(fail(format!(
            "building the control plane's binaries failed ({}): {stdout}",
            out.status
        )));
    }
    let mut dirs = HashMap::new();
    for line in stdout.lines() {
        let mut f = line.split_whitespace();
        if let (Some(comp), Some(dir), Some(how)) = (f.next(), f.next(), f.next()) {
            if how == "built" {
                eprintln!(
                    "cluster: built {comp} into {dir} ({})",
                    f.next().unwrap_or("?")
                );
            }
            dirs.insert(comp.to_string(), PathBuf::from(dir));
        }
    }
    Ok(dirs)
}

fn reported(dirs: &HashMap<String, PathBuf>, c: &str) -> Result<PathBuf> {
    dirs.get(c)
        .cloned()
        .ok_or_else(|| fail(format!("build.sh did not report where {c} is")))
}

fn gateway_crds_in(dirs: &HashMap<String, PathBuf>) -> Result<GatewayCrds> {
    let dir = reported(dirs, "gateway-api")?;
    let version = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("gateway-api-"))
        .ok_or_else(|| fail(format!("unexpected Gateway API folder {}", dir.display())))?
        .to_string();
    Ok(GatewayCrds { dir, version })
}

/// Fetches the Gateway API CRDs if they are not cached yet (for a cluster that is already up).
pub fn gateway_crds(root: &Path) -> Result<GatewayCrds> {
    gateway_crds_in(&build(root, &["gateway-api"])?)
}

/// Builds whatever is missing and returns the paths.
pub fn ensure(root: &Path) -> Result<Bins> {
    let dirs = build(root, &["all"])?;
    let dir = |c: &str| reported(&dirs, c);
    let k8s = dir("kubernetes")?;
    let bins = Bins {
        apiserver: k8s.join("kube-apiserver"),
        controller_manager: k8s.join("kube-controller-manager"),
        scheduler: k8s.join("kube-scheduler"),
        kubectl: k8s.join("kubectl"),
        etcd: dir("etcd")?.join("etcd"),
        kwok: dir("kwok")?.join("kwok"),
        gateway_crds: gateway_crds_in(&dirs)?,
    };
    for b in [
        &bins.apiserver,
        &bins.controller_manager,
        &bins.scheduler,
        &bins.kubectl,
        &bins.etcd,
        &bins.kwok,
    ] {
        if !b.is_file() {
            return Err(fail(format!(
                "{} is missing: remove its folder so build.sh builds it again",
                b.display()
            )));
        }
    }
    Ok(bins)
}
