//! `cargo xtask dist [--debug] [--out DIR]`: the krew archive of this machine's build
//! (`kubectl-kruise_<version>_<os>_<arch>.tar.gz`: the binary and LICENSE), its sha256, and the
//! krew manifest rendered from `krew/kruise.yaml.tmpl` with it (`<out>/kruise.yaml`). The other
//! platforms keep the checksums the committed `krew/kruise.yaml` has (a release renders them
//! from their own archives). `--debug` packs the debug build; `--binary PATH` packs that file
//! without building (the tests: a build during them would replace the binary they run).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::{Result, fail};

pub const TEMPLATE: &str = "krew/kruise.yaml.tmpl";
pub const MANIFEST: &str = "krew/kruise.yaml";

/// Krew's (Go's) name of this machine's platform.
pub fn platform() -> Result<String> {
    let os = match std::env::consts::OS {
        "linux" => "linux",
        "macos" => "darwin",
        other => return Err(fail(format!("no krew platform for OS {other}"))),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => return Err(fail(format!("no krew platform for architecture {other}"))),
    };
    Ok(format!("{os}/{arch}"))
}

/// `v` + the package version, and the repository, from the root Cargo.toml.
pub fn version_and_repository(root: &Path) -> Result<(String, String)> {
    let text = fs::read_to_string(root.join("Cargo.toml"))?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .map(str::to_string)
            .ok_or_else(|| fail(format!("Cargo.toml has no {key}")))
    };
    Ok((format!("v{}", field("version")?), field("repository")?))
}

/// The template with its placeholders filled; every `{{SHA256 os/arch}}` must have a value.
pub fn render(
    template: &str,
    version: &str,
    repository: &str,
    sha: &BTreeMap<String, String>,
) -> Result<String> {
    let mut out = template
        .replace("{{VERSION}}", version)
        .replace("{{REPOSITORY}}", repository);
    while let Some(start) = out.find("{{SHA256 ") {
        let end = out[start..]
            .find("}}")
            .map(|e| start + e + 2)
            .ok_or_else(|| fail("an unclosed {{SHA256 …}} in the krew template"))?;
        let platform = out[start + "{{SHA256 ".len()..end - 2].trim().to_string();
        let value = sha
            .get(&platform)
            .ok_or_else(|| fail(format!("no sha256 for {platform}")))?;
        out.replace_range(start..end, value);
    }
    Ok(out)
}

/// The sha256 of each platform in a rendered manifest (by its `os`/`arch` selector).
pub fn checksums(manifest: &str) -> BTreeMap<String, String> {
    let (mut os, mut arch) = (String::new(), String::new());
    let mut out = BTreeMap::new();
    for line in manifest.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("os: ") {
            os = v.to_string();
        } else if let Some(v) = line.strip_prefix("arch: ") {
            arch = v.to_string();
        } else if let Some(v) = line.strip_prefix("sha256: ") {
            out.insert(format!("{os}/{arch}"), v.trim_matches('"').to_string());
        }
    }
    out
}

fn sha256_hex(path: &Path) -> Result<String> {
    let bytes = fs::read(path)?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

fn pack(archive: &Path, binary: &Path, license: &Path) -> Result<()> {
    let file = fs::File::create(archive)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, name, mode) in [
        (binary, "kubectl-kruise", 0o755),
        (license, "LICENSE", 0o644),
    ] {
        let data = fs::read(path)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        tar.append_data(&mut header, name, data.as_slice())?;
    }
    tar.into_inner()?.finish()?;
    Ok(())
}

/// Builds the plugin (release unless `debug`) and returns its path.
fn build(root: &Path, debug: bool) -> Result<PathBuf> {
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .current_dir(root)
        .args(["build", "--locked", "-p", "kubectl-kruise"]);
    if !debug {
        build.arg("--release");
    }
    if !build.status()?.success() {
        return Err(fail("cargo build failed"));
    }
    Ok(root
        .join("target")
        .join(if debug { "debug" } else { "release" })
        .join("kubectl-kruise"))
}

pub fn run(root: &Path, args: &[&str]) -> Result<()> {
    let mut debug = false;
    let mut given: Option<PathBuf> = None;
    let mut out = root.join("target/dist");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "--debug" => debug = true,
            "--binary" => {
                given = Some(PathBuf::from(
                    it.next().ok_or_else(|| fail("--binary needs a path"))?,
                ))
            }
            "--out" => out = PathBuf::from(it.next().ok_or_else(|| fail("--out needs a folder"))?),
            other => return Err(fail(format!("dist: unknown argument {other:?}"))),
        }
    }
    let binary = match given {
        Some(b) => b,
        None => build(root, debug)?,
    };
    let (version, repository) = version_and_repository(root)?;
    let platform = platform()?;
    fs::create_dir_all(&out)?;
    let archive = out.join(format!(
        "kubectl-kruise_{version}_{}.tar.gz",
        platform.replace('/', "_")
    ));
    pack(&archive, &binary, &root.join("LICENSE"))?;
    let sha = sha256_hex(&archive)?;
    let mut shas = checksums(&fs::read_to_string(root.join(MANIFEST))?);
    shas.insert(platform.clone(), sha.clone());
    let template = fs::read_to_string(root.join(TEMPLATE))?;
    let manifest = out.join("kruise.yaml");
    fs::write(&manifest, render(&template, &version, &repository, &shas)?)?;
    println!("{}", archive.display());
    println!("sha256 {sha} ({platform})");
    println!("{}", manifest.display());
    println!(
        "try it: kubectl krew install --manifest={} --archive={}",
        manifest.display(),
        archive.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The committed manifest is the template rendered with the version in Cargo.toml and the
    /// checksums it carries: an edit to one and not the other fails here.
    #[test]
    fn the_committed_manifest_is_the_template_rendered() {
        let root = root();
        let committed = fs::read_to_string(root.join(MANIFEST)).unwrap();
        let template = fs::read_to_string(root.join(TEMPLATE)).unwrap();
        let (version, repository) = version_and_repository(&root).unwrap();
        let shas = checksums(&committed);
        assert_eq!(shas.len(), 4, "four platforms: {shas:?}");
        let rendered = render(&template, &version, &repository, &shas).unwrap();
        assert!(
            committed == rendered,
            "krew/kruise.yaml drifted from krew/kruise.yaml.tmpl (or from Cargo.toml's version); render it again"
        );
    }

    #[test]
    fn a_placeholder_without_a_checksum_is_an_error() {
        let e = render("sha256: {{SHA256 plan9/386}}", "v1", "r", &BTreeMap::new());
        assert!(e.is_err());
    }
}
