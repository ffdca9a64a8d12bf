//! The krew install, by krew's documented rules (its Go module is not served here, so the test
//! follows them): the archive and manifest `cargo xtask dist` makes are checked as the index's
//! validator checks them, unpacked into a `KREW_ROOT` layout as `krew install` lays it out,
//! and found and run by real kubectl with only krew's `bin` on PATH.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use sha2::{Digest, Sha256};

fn platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        o => o,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    (os, arch)
}

fn matches(p: &Value, os: &str, arch: &str) -> bool {
    let l = &p["selector"]["matchLabels"];
    l["os"] == os && l["arch"] == arch
}

fn untar(archive: &Path, into: &Path) -> Vec<String> {
    std::fs::create_dir_all(into).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into)
        .output()
        .expect("tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(into)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn krew_installs_it_and_kubectl_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let out = Command::new(crate::support::xtask_path())
        .args([
            "dist",
            "--binary",
            env!("CARGO_BIN_EXE_kubectl-kruise"),
            "--out",
        ])
        .arg(&dist)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run xtask dist");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The manifest, by the index's rules.
    let text = std::fs::read_to_string(dist.join("kruise.yaml")).unwrap();
    let m: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        m["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(m["kind"], "Plugin");
    let name = m["metadata"]["name"].as_str().unwrap();
    assert_eq!(name, "kruise");
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    let version = m["spec"]["version"].as_str().unwrap();
    assert_eq!(version, format!("v{}", env!("CARGO_PKG_VERSION")));
    let semver = version
        .strip_prefix('v')
        .unwrap()
        .split('.')
        .collect::<Vec<_>>();
    assert!(semver.len() == 3 && semver.iter().all(|n| n.parse::<u64>().is_ok()));
    let short = m["spec"]["shortDescription"].as_str().unwrap();
    assert!(!short.is_empty() && !short.contains('\n'));
    assert!(!m["spec"]["description"].as_str().unwrap().trim().is_empty());
    assert!(
        m["spec"]["caveats"]
            .as_str()
            .unwrap()
            .contains("completion")
    );
    let platforms = m["spec"]["platforms"].as_array().unwrap();
    for p in platforms {
        let sha = p["sha256"].as_str().unwrap();
        assert!(
            sha.len() == 64
                && sha
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(p["uri"].as_str().unwrap().ends_with(".tar.gz"));
        let keys: Vec<&String> = p["selector"]["matchLabels"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert!(keys.iter().all(|k| *k == "os" || *k == "arch"));
    }
    let (os, arch) = platform();
    let mine: Vec<&Value> = platforms.iter().filter(|p| matches(p, os, arch)).collect();
    assert_eq!(
        mine.len(),
        1,
        "exactly one platform for {os}/{arch} (none overlap)"
    );
    let p = mine[0];

    // The archive: its checksum, the files the manifest names, a licence.
    let archive = std::fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "gz"))
        .expect("an archive");
    let sha = format!("{:x}", Sha256::digest(std::fs::read(&archive).unwrap()));
    assert_eq!(p["sha256"].as_str().unwrap(), sha);
    let unpacked = untar(&archive, &dir.path().join("unpacked"));
    assert!(unpacked.iter().any(|n| n == "LICENSE"), "{unpacked:?}");
    let files = p["files"].as_array().unwrap();
    for f in files {
        let from = f["from"].as_str().unwrap();
        assert!(unpacked.iter().any(|n| n == from), "{from} in {unpacked:?}");
    }
    let bin = p["bin"].as_str().unwrap();
    assert!(unpacked.iter().any(|n| n == bin));

    // `krew install`'s layout: store/<name>/<version>/ with the files, bin/kubectl-<name>
    // linked to the bin, the receipt.
    let root = dir.path().join("krew");
    let store = root.join("store").join(name).join(version);
    untar(&archive, &store);
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("receipts")).unwrap();
    std::fs::write(root.join("receipts").join(format!("{name}.yaml")), &text).unwrap();
    let link = root
        .join("bin")
        .join(format!("kubectl-{}", name.replace('-', "_")));
    std::os::unix::fs::symlink(store.join(bin), &link).unwrap();

    // Real kubectl, with only krew's bin on PATH.
    let kubectl = crate::support::kubectl_path();
    let path = root.join("bin");
    let list = Command::new(&kubectl)
        .args(["plugin", "list"])
        .env("PATH", &path)
        .env("KREW_ROOT", &root)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&link.display().to_string()), "{listed}");
    let run = Command::new(&kubectl)
        .args(["kruise", "version", "--client"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("Client Version: {version}")
    );
}
