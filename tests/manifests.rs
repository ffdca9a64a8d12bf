//! `manifests/` holds the CRDs generated from `src/api`: this test fails when they drift.
//! Regenerate with `cargo xtask gen` (runs this test with KRUISE_UPDATE_MANIFESTS=1).

use std::path::PathBuf;

#[test]
fn manifests_match_the_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let update = std::env::var_os("KRUISE_UPDATE_MANIFESTS").is_some();
    let mut expected: Vec<(PathBuf, String)> = kubectl_kruise::api::crds()
        .iter()
        .map(|c| {
            (
                dir.join(kubectl_kruise::api::file_name(c)),
                kubectl_kruise::api::to_yaml(c),
            )
        })
        .collect();
    expected.push((dir.join("crds.yaml"), kubectl_kruise::api::all_in_one()));
    if update {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            std::fs::remove_file(entry.path()).unwrap();
        }
        for (path, text) in &expected {
            std::fs::write(path, text).unwrap();
        }
        return;
    }
    let mut stale = vec![];
    for (path, text) in &expected {
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let known: Vec<PathBuf> = expected.iter().map(|(p, _)| p.clone()).collect();
    for entry in std::fs::read_dir(&dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if !known.contains(&entry.path()) {
            stale.push(format!(
                "{} (not generated any more)",
                entry.path().display()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "manifests/ drifted from src/api: {}; run `cargo xtask gen` and commit the result",
        stale.join(", ")
    );
}
