//! `kubectl kruise version`: client and server versions, whether the OpenKruise and Kruise
//! Rollout operators are live, and which Kruise CRDs exist (with served/storage versions).

use futures::future::join3;
use serde::Serialize;

use crate::cli::version::VersionArgs;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::config::user_agent;
use crate::client::detect::{self, CrdInfo, OperatorStatus};
use crate::cmd::common::connect;
use crate::error::{Result, from_kube};
use crate::output::{self, table::KubeTable};
use colored::Colorize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientVersion {
    version: String,
    user_agent: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    client_version: ClientVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<k8s_openapi::apimachinery::pkg::version::Info>,
    #[serde(skip_serializing_if = "Option::is_none")]
    open_kruise: Option<OperatorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kruise_rollout: Option<OperatorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crds: Option<Vec<CrdInfo>>,
    /// What `controller run` (and a driving command) reconciles without an operator: the
    /// same registry `controller run --controllers` accepts.
    embedded_controllers: Vec<Embedded>,
}

#[derive(Serialize)]
struct Embedded {
    name: &'static str,
    kind: &'static str,
}

pub async fn run(global: &GlobalArgs, a: &VersionArgs) -> Result<()> {
    let fmt: Option<OutputFormat> = a.output.map(Into::into);
    let mut report = Report {
        client_version: ClientVersion {
            version: crate::VERSION.to_string(),
            user_agent: user_agent(),
        },
        server_version: None,
        open_kruise: None,
        kruise_rollout: None,
        crds: None,
        embedded_controllers: crate::controller::REGISTRY
            .iter()
            .map(|r| Embedded {
                name: r.name,
                kind: r.kind,
            })
            .collect(),
    };
    if !a.client {
        let kube = connect(global).await?;
        if fmt.is_none() {
            output::outln(&format!("Client Version: {}", crate::VERSION))?;
        }
        let info = kube
            .client
            .apiserver_version()
            .await
            .map_err(|e| from_kube(e, &kube.server, None))?;
        let (ok_spec, ro_spec) = (detect::openkruise(), detect::kruise_rollout());
        let (ok, ro, crds) = join3(
            detect::operator(&kube, &ok_spec),
            detect::operator(&kube, &ro_spec),
            detect::kruise_crds(&kube),
        )
        .await;
        report.server_version = Some(info);
        report.open_kruise = Some(ok);
        report.kruise_rollout = Some(ro);
        report.crds = Some(crds?);
    }
    match fmt {
        Some(f) => output::print_value(&report, f.into()),
        None => print_text(&report, a.client),
    }
}

fn operator_line(s: &OperatorStatus) -> String {
    let version = s
        .version
        .clone()
        .unwrap_or_else(|| "unknown version".into());
    let mut line = if s.live {
        let leader = match (&s.leader, s.renewed_seconds_ago) {
            (Some(l), Some(ago)) => format!("leader {l}, renewed {ago}s ago"),
            _ => format!("{} available replicas", s.available_replicas),
        };
        format!(
            "{}: {version}, {} in {} ({leader})",
            s.name,
            "live".green(),
            s.namespace
        )
    } else if s.installed {
        format!(
            "{}: {version} installed in {} but {} (no fresh leader lease, {} available replicas)",
            s.name,
            s.namespace,
            "not live".yellow(),
            s.available_replicas
        )
    } else if s.leader.is_some() {
        format!(
            "{}: not live (its lease in {} is stale)",
            s.name, s.namespace
        )
    } else {
        format!("{}: not installed", s.name)
    };
    if let Some(n) = &s.note {
        line.push_str(&format!(" [{n}]"));
    }
    line
}

fn embedded_line(r: &Report) -> String {
    let list: Vec<String> = r
        .embedded_controllers
        .iter()
        .map(|e| format!("{} ({})", e.name, e.kind))
        .collect();
    format!(
        "Embedded controllers (run without an operator): {}",
        list.join(", ")
    )
}

fn print_text(r: &Report, client_only: bool) -> Result<()> {
    if client_only {
        return output::outln(&format!("Client Version: {}", r.client_version.version));
    }
    if let Some(v) = &r.server_version {
        output::outln(&format!("Server Version: {}", v.git_version))?;
    }
    for s in [&r.open_kruise, &r.kruise_rollout].into_iter().flatten() {
        output::outln(&operator_line(s))?;
    }
    output::outln(&embedded_line(r))?;
    match &r.crds {
        Some(crds) if crds.is_empty() => {
            output::outln("Kruise CRDs: none (install them with `kubectl kruise crds install`)")
        }
        Some(crds) => {
            output::outln("Kruise CRDs:")?;
            let mut t = KubeTable::new(&["name", "served", "storage", "established"], true);
            for c in crds {
                t.row([
                    c.name.clone(),
                    c.served_versions.join(","),
                    c.storage_version.clone(),
                    if c.established {
                        "True".into()
                    } else {
                        "False".into()
                    },
                ]);
            }
            output::out(&t.render())
        }
        None => Ok(()),
    }
}
