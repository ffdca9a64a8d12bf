//! The harness itself: a second cluster in its own folder comes up listening on 127.0.0.1
//! only, it holds the Gateway API CRDs, `up` again is a no-op, and `down` leaves no process
//! behind.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn xtask(args: &[&str], dir: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("run xtask");
    eprintln!(
        "xtask {args:?}: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn pids(dir: &Path) -> BTreeMap<String, (i32, PathBuf)> {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("state.json")).expect("state.json"))
            .expect("state is JSON");
    v["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                (
                    c["pid"].as_i64().unwrap() as i32,
                    PathBuf::from(c["exe"].as_str().unwrap()),
                ),
            )
        })
        .collect()
}

fn running(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let st = s
                .rsplit_once(')')
                .map(|(_, r)| r.trim_start().chars().next());
            !matches!(st, Some(Some('Z' | 'X')))
        })
        .unwrap_or(false)
}

/// Listening TCP sockets (inode -> local address) from /proc/net/tcp{,6}.
fn listening() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() > 9 && cols[3] == "0A" {
                out.insert(cols[9].to_string(), cols[1].to_string());
            }
        }
    }
    out
}

fn socket_inodes(pid: i32) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in entries.flatten() {
            if let Ok(link) = fs::read_link(e.path()) {
                let l = link.to_string_lossy();
                if let Some(inode) = l.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    out.insert(inode.to_string());
                }
            }
        }
    }
    out
}

fn is_loopback(addr: &str) -> bool {
    // "0100007F:PORT" is 127.0.0.1 (little-endian hex); IPv6 ::ffff:127.0.0.1 is v4-mapped.
    let ip = addr.split(':').next().unwrap_or("");
    ip == "0100007F" || ip == "0000000000000000FFFF00000100007F"
}

#[test]
fn up_is_idempotent_listens_on_loopback_only_and_down_leaves_nothing() {
    let dir = std::env::temp_dir().join(format!("kruise-lifecycle-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);

    let t0 = Instant::now();
    let out = xtask(&["cluster", "up"], &dir);
    assert!(out.status.success(), "cluster up failed");
    eprintln!(
        "cluster up (warm binaries) took {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("export KUBECONFIG="));
    let first = pids(&dir);
    let names: Vec<_> = first.keys().cloned().collect();
    assert_eq!(
        names,
        [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok"
        ]
    );

    // Nothing the harness started listens on anything but 127.0.0.1.
    let listen = listening();
    let mut ports = 0;
    for (name, (pid, _)) in &first {
        assert!(running(*pid), "{name} runs");
        for inode in socket_inodes(*pid) {
            if let Some(addr) = listen.get(&inode) {
                ports += 1;
                assert!(is_loopback(addr), "{name} listens on {addr}, not 127.0.0.1");
            }
        }
    }
    assert!(
        ports >= 3,
        "etcd (client, peer) and the API server listen: found {ports}"
    );

    // The Gateway API CRDs (upstream's standard channel) are installed and Established.
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    let kubectl = Command::new(state["kubectl"].as_str().unwrap())
        .arg(format!("--kubeconfig={}", dir.join("kubeconfig").display()))
        .args(["wait", "--for=condition=Established", "--timeout=5s"])
        .args(
            [
                "httproutes",
                "gateways",
                "gatewayclasses",
                "referencegrants",
            ]
            .map(|r| format!("crd/{r}.gateway.networking.k8s.io")),
        )
        .output()
        .expect("run kubectl");
    assert!(
        kubectl.status.success(),
        "Gateway API CRDs: {}",
        String::from_utf8_lossy(&kubectl.stderr)
    );

    // Up again: a no-op with the same processes, and no CRD written again.
    let out = xtask(&["cluster", "up"], &dir);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already up"));
    assert!(!err.contains("installed the Gateway API"), "{err}");
    assert_eq!(pids(&dir), first, "the second up started nothing");

    let out = xtask(&["cluster", "status"], &dir);
    assert!(out.status.success(), "status reports a healthy cluster");

    let out = xtask(&["cluster", "down"], &dir);
    assert!(out.status.success());
    for (name, (pid, exe)) in &first {
        let same = fs::read_link(format!("/proc/{pid}/exe"))
            .map(|p| p == *exe)
            .unwrap_or(false);
        assert!(
            !(running(*pid) && same),
            "{name} (pid {pid}) still runs after down"
        );
    }
    assert!(!dir.join("state.json").exists(), "state removed");
    // And no process at all refers to this cluster's folder.
    let needle = dir.to_string_lossy().to_string();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = fs::read(format!("/proc/{pid}/cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            assert!(
                !(cmd.contains(&needle)
                    && running(pid)
                    && !cmd.contains("cargo")
                    && pid != std::process::id() as i32),
                "process {pid} is left: {cmd}"
            );
        }
    }
    let out = xtask(&["cluster", "status"], &dir);
    assert!(!out.status.success(), "status says it is down");
    let _ = fs::remove_dir_all(&dir);
}
