//! The control plane's binaries: built by `tests/cluster/build.sh` from the Go wrapper modules
//! into `$HOME/.cache/kubectl-kruise/bin/<component>-<version>/` (never into the repo).

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
}

/// Builds whatever is missing (the Go build output goes to the terminal) and returns the paths.
pub fn ensure(root: &Path) -> Result<Bins> {
    let out = Command::new("bash")
        .arg(root.join("tests/cluster/build.sh"))
        .arg("all")
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
    let mut dirs = std::collections::HashMap::new();
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
    let dir = |c: &str| {
        dirs.get(c)
            .cloned()
            .ok_or_else(|| fail(format!("build.sh did not report where {c} is")))
    };
    let k8s = dir("kubernetes")?;
    let bins = Bins {
        apiserver: k8s.join("kube-apiserver"),
        controller_manager: k8s.join("kube-controller-manager"),
        scheduler: k8s.join("kube-scheduler"),
        kubectl: k8s.join("kubectl"),
        etcd: dir("etcd")?.join("etcd"),
        kwok: dir("kwok")?.join("kwok"),
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
