//! `kubectl kruise crds install|status|diff|print`: the Kruise CRDs for clusters without the
//! operator. Ours carry `app.kubernetes.io/managed-by: kubectl-kruise`; a CRD without it was
//! installed by someone else (the OpenKruise chart, kubectl apply of upstream's files) and is
//! only replaced with `--force`. `install --with-guard` also applies the rollout guard
//! (`api::guard`), and `status` reports it.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{self, MANAGED_BY};
use crate::cli::crds::{CrdsCommand, DiffArgs, InstallArgs, StatusArgs};
use crate::cli::{DryRun, GlobalArgs, OutputFormat};
use crate::client::Kube;
use crate::client::detect::{crd_info, kruise_crds};
use crate::cmd::common::connect;
use crate::error::{Error, Result, from_kube};
use crate::output::{self, table::KubeTable};

mod compare;
mod guard;

const RESOURCE: &str = "customresourcedefinition.apiextensions.k8s.io";
const CRD_KIND: &str = "CustomResourceDefinition";

pub async fn run(global: &GlobalArgs, cmd: &CrdsCommand) -> Result<()> {
    match cmd {
        CrdsCommand::Install(a) => install(global, a).await,
        CrdsCommand::Status(a) => status(global, a).await,
        CrdsCommand::Diff(a) => diff(global, a).await,
        CrdsCommand::Print => output::out(&api::all_in_one()),
    }
}

fn ours(crd: &CustomResourceDefinition) -> bool {
    crd.labels().get(MANAGED_BY.0).map(String::as_str) == Some(MANAGED_BY.1)
}

/// Who installed a CRD, as far as its metadata tells.
pub fn installed_by(crd: &CustomResourceDefinition) -> String {
    if ours(crd) {
        return "kubectl-kruise".into();
    }
    let ann = crd.annotations();
    if let Some(release) = ann.get("meta.helm.sh/release-name") {
        let ns = ann
            .get("meta.helm.sh/release-namespace")
            .cloned()
            .unwrap_or_default();
        return format!("helm release {ns}/{release}");
    }
    if let Some(by) = crd.labels().get(MANAGED_BY.0) {
        return by.clone();
    }
    let mut managers: Vec<String> = crd
        .managed_fields()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    managers.dedup();
    if managers.is_empty() {
        "unknown".into()
    } else {
        managers.join(",")
    }
}

async fn install(global: &GlobalArgs, a: &InstallArgs) -> Result<()> {
    let wanted = api::crds();
    let wanted_guard = if a.with_guard {
        guard::wanted()
    } else {
        vec![]
    };
    if a.write.dry_run == DryRun::Client {
        let mut names: Vec<String> = wanted
            .iter()
            .map(|c| format!("{RESOURCE}/{}", c.name_any()))
            .collect();
        names.extend(
            wanted_guard
                .iter()
                .map(|(resource, _)| format!("{resource}/{}", api::guard::NAME)),
        );
        return match a.output.output {
            Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
                let mut objects = wanted
                    .iter()
                    .map(serde_json::to_value)
                    .collect::<serde_json::Result<Vec<_>>>()
                    .map_err(|e| Error::other(e.to_string()))?;
                objects.extend(wanted_guard.into_iter().map(|(_, v)| v));
                output::print_objects(&objects, f.into())
            }
            Some(OutputFormat::Name) => {
                for n in &names {
                    output::outln(n)?;
                }
                Ok(())
            }
            None => {
                for n in &names {
                    output::outln(&format!("{n} applied (dry run)"))?;
                }
                Ok(())
            }
        };
    }
    let kube = connect(global).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    // Look first, write after: a refusal changes nothing.
    let mut existing = Vec::new();
    for c in &wanted {
        let name = c.name_any();
        let found = crds
            .get_opt(&name)
            .await
            .map_err(|e| from_kube(e, &kube.server, None))?;
        if let Some(f) = &found
            && !ours(f)
            && !a.force
        {
            return Err(Error::other(format!(
                "{RESOURCE} \"{name}\" was installed by {}; leaving it alone (use --force to replace it with ours; `kubectl kruise crds diff` shows the differences)",
                installed_by(f)
            )));
        }
        existing.push(found);
    }
    let foreign: Vec<String> = existing
        .iter()
        .flatten()
        .filter(|f| !ours(f))
        .map(|f| format!("{} (installed by {})", f.name_any(), installed_by(f)))
        .collect();
    if !foreign.is_empty() && a.write.dry_run == DryRun::None {
        output::confirm(
            global.yes,
            &format!(
                "Replace {} with ours (an operator's conversion webhook goes with them)?",
                foreign.join(", ")
            ),
        )?;
    }
    let mut pp = PatchParams::apply(&a.write.field_manager).force();
    pp.dry_run = a.write.dry_run == DryRun::Server;
    let suffix = if pp.dry_run { " (server dry run)" } else { "" };
    let mut applied = Vec::new();
    for (c, before) in wanted.iter().zip(existing) {
        let name = c.name_any();
        let mut body = serde_json::to_value(c).map_err(|e| Error::other(e.to_string()))?;
        body["apiVersion"] = json!("apiextensions.k8s.io/v1");
        body["kind"] = json!("CustomResourceDefinition");
        // A CRD taken over from an operator keeps its conversion webhook under server-side
        // apply (another manager owns it, and ours omits the stanza): clear it first, or the
        // API server would keep calling a webhook nothing answers.
        if let Some(b) = &before
            && b.spec
                .conversion
                .as_ref()
                .is_some_and(|c| c.strategy != "None")
        {
            let mp = PatchParams {
                dry_run: pp.dry_run,
                ..Default::default()
            };
            crds.patch(
                &name,
                &mp,
                &Patch::Merge(
                    json!({"spec": {"conversion": {"strategy": "None", "webhook": null}}}),
                ),
            )
            .await
            .map_err(|e| from_kube(e, &kube.server, None))?;
        }
        let after = crds
            .patch(&name, &pp, &Patch::Apply(body))
            .await
            .map_err(|e| from_kube(e, &kube.server, None))?;
        let verb = match &before {
            None => "created",
            Some(b) if b.resource_version() == after.resource_version() => "unchanged",
            Some(_) => "configured",
        };
        match a.output.output {
            Some(OutputFormat::Name) => output::outln(&format!("{RESOURCE}/{name}"))?,
            Some(_) => {}
            None => output::outln(&format!("{RESOURCE}/{name} {verb}{suffix}"))?,
        }
        applied.push(serde_json::to_value(after).map_err(|e| Error::other(e.to_string()))?);
    }
    if a.with_guard {
        for g in guard::apply(&kube, &pp).await? {
            let name = format!("{}/{}", g.resource, api::guard::NAME);
            match a.output.output {
                Some(OutputFormat::Name) => output::outln(&name)?,
                Some(_) => {}
                None => output::outln(&format!("{name} {}{suffix}", g.verb))?,
            }
            applied.push(g.object);
        }
    }
    if let Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) = a.output.output {
        output::print_objects(&applied, f.into())?;
    }
    if !pp.dry_run {
        wait_established(&kube, &crds, &wanted, a.timeout).await?;
        if a.with_guard {
            guard::wait_checked(&kube, a.timeout).await?;
        }
    }
    Ok(())
}

async fn wait_established(
    kube: &Kube,
    crds: &Api<CustomResourceDefinition>,
    wanted: &[CustomResourceDefinition],
    timeout: Duration,
) -> Result<()> {
    for c in wanted {
        let name = c.name_any();
        match tokio::time::timeout(
            timeout,
            await_condition(crds.clone(), &name, conditions::is_crd_established()),
        )
        .await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Error::other(format!(
                    "watching {RESOURCE} \"{name}\" on {}: {e}",
                    kube.server
                )));
            }
            Err(_) => {
                return Err(Error::Timeout(format!(
                    "{RESOURCE} \"{name}\" was not Established within {}s; see `kubectl describe crd {name}`",
                    timeout.as_secs()
                )));
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    name: String,
    /// CustomResourceDefinition, or one of the rollout guard's two kinds.
    kind: &'static str,
    installed: bool,
    installed_by: Option<String>,
    served_versions: Vec<String>,
    storage_version: Option<String>,
    /// A CRD: Established; the guard's policy: type-checked at its current generation, which is
    /// when the API server enforces it; its binding: installed.
    established: bool,
    /// Whether the cluster's object equals ours (None: we do not ship this CRD, or the guard
    /// is not installed).
    matches_ours: Option<bool>,
}

async fn status(global: &GlobalArgs, a: &StatusArgs) -> Result<()> {
    let kube = connect(global).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    let infos = kruise_crds(&kube).await?;
    let wanted = api::crds();
    let mut rows = Vec::new();
    let mut names: Vec<String> = infos.iter().map(|i| i.name.clone()).collect();
    for w in &wanted {
        if !names.contains(&w.name_any()) {
            names.push(w.name_any());
        }
    }
    names.sort();
    for name in names {
        let ours_crd = wanted.iter().find(|w| w.name_any() == name);
        let live = if infos.iter().any(|i| i.name == name) {
            crds.get_opt(&name)
                .await
                .map_err(|e| from_kube(e, &kube.server, None))?
        } else {
            None
        };
        let row = match &live {
            Some(c) => {
                let i = crd_info(c);
                Row {
                    name: name.clone(),
                    kind: CRD_KIND,
                    installed: true,
                    installed_by: Some(installed_by(c)),
                    served_versions: i.served_versions,
                    storage_version: Some(i.storage_version),
                    established: i.established,
                    matches_ours: ours_crd.map(|o| same_as_ours(o, c)),
                }
            }
            None => Row {
                name: name.clone(),
                kind: CRD_KIND,
                installed: false,
                installed_by: None,
                served_versions: vec![],
                storage_version: None,
                established: false,
                matches_ours: ours_crd.map(|_| false),
            },
        };
        rows.push(row);
    }
    // The rollout guard (`install --with-guard`): optional, so "not installed" is no mismatch.
    let mut resources = vec![RESOURCE; rows.len()];
    for g in guard::live(&kube).await? {
        rows.push(Row {
            name: api::guard::NAME.into(),
            kind: g.kind,
            installed: g.object.is_some(),
            installed_by: g.object.as_ref().map(|o| {
                o["metadata"]["labels"][MANAGED_BY.0]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_string()
            }),
            served_versions: vec![],
            storage_version: None,
            established: g.in_force,
            matches_ours: g.matches_ours,
        });
        resources.push(g.resource);
    }
    match a.output.output {
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => output::print_value(&rows, f.into()),
        Some(OutputFormat::Name) => {
            for (r, resource) in rows.iter().zip(resources).filter(|(r, _)| r.installed) {
                output::outln(&format!("{resource}/{}", r.name))?;
            }
            Ok(())
        }
        _ => {
            let mut t = KubeTable::new(
                &[
                    "name",
                    "installed by",
                    "served",
                    "storage",
                    "established",
                    "matches ours",
                ],
                !a.output.no_headers,
            );
            for r in rows {
                t.row([
                    if r.kind == CRD_KIND {
                        r.name
                    } else {
                        format!("{}/{}", r.kind.to_lowercase(), r.name)
                    },
                    r.installed_by.unwrap_or_else(|| "<not installed>".into()),
                    if r.served_versions.is_empty() {
                        "-".into()
                    } else {
                        r.served_versions.join(",")
                    },
                    r.storage_version.unwrap_or_else(|| "-".into()),
                    if r.established {
                        "True".into()
                    } else {
                        "False".into()
                    },
                    match r.matches_ours {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "-".into(),
                    },
                ]);
            }
            output::out(&t.render())
        }
    }
}

async fn diff(global: &GlobalArgs, a: &DiffArgs) -> Result<()> {
    let kube = connect(global).await?;
    let crds: Api<CustomResourceDefinition> = Api::all(kube.client.clone());
    let mut reports = Vec::new();
    for w in api::crds() {
        let name = w.name_any();
        let live = crds
            .get_opt(&name)
            .await
            .map_err(|e| from_kube(e, &kube.server, None))?;
        reports.push(match live {
            None => DiffReport {
                name,
                installed_by: None,
                same: false,
                findings: vec![],
            },
            Some(c) => DiffReport {
                name,
                installed_by: Some(installed_by(&c)),
                same: same_as_ours(&w, &c),
                findings: compare::compare(&w, &c),
            },
        });
    }
    let any = reports.iter().any(|r| !r.same);
    match a.output.map(OutputFormat::from) {
        Some(f) => output::print_value(&reports, f.into())?,
        _ => {
            for r in &reports {
                let name = &r.name;
                let Some(by) = &r.installed_by else {
                    output::outln(&format!(
                        "{name}: not installed (`kubectl kruise crds install` installs it)"
                    ))?;
                    continue;
                };
                if r.same {
                    output::outln(&format!("{name}: same as ours"))?;
                } else if r.findings.is_empty() {
                    output::outln(&format!(
                        "{name}: differs from ours only in descriptions or labels (installed by {by})"
                    ))?;
                } else {
                    let chosen = r.findings.iter().filter(|f| f.chosen.is_some()).count();
                    let summary = if chosen == r.findings.len() {
                        "all chosen by kubectl-kruise".to_string()
                    } else {
                        format!("{} to look at", r.findings.len() - chosen)
                    };
                    output::outln(&format!(
                        "{name}: {} differences, {summary} (installed by {by})",
                        r.findings.len()
                    ))?;
                    for f in &r.findings {
                        output::outln(&format!("  {}", f.line()))?;
                    }
                }
            }
        }
    }
    if any {
        // As `kubectl diff`: exit 1 when there are differences.
        Err(Error::Reported(1))
    } else {
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiffReport {
    name: String,
    /// None: not installed.
    installed_by: Option<String>,
    /// The cluster's CRD is exactly ours (after the API server's defaults).
    same: bool,
    findings: Vec<compare::Finding>,
}

/// The CRD spec as the API server stores it: defaults filled in, so equal CRDs compare equal.
fn normalised_spec(c: &CustomResourceDefinition) -> Value {
    let mut spec = serde_json::to_value(&c.spec).unwrap_or(Value::Null);
    if spec.get("conversion").is_none_or(Value::is_null) {
        spec["conversion"] = json!({"strategy": "None"});
    }
    if let Some(obj) = spec.as_object_mut()
        && obj.get("preserveUnknownFields") == Some(&Value::Bool(false))
    {
        obj.remove("preserveUnknownFields");
    }
    let mut labels = serde_json::to_value(c.labels()).unwrap_or(Value::Null);
    if labels.as_object().is_some_and(|m| m.is_empty()) {
        labels = Value::Null;
    }
    json!({"labels": labels, "spec": spec})
}

/// The cluster's CRD is exactly ours, once the API server's defaults are accounted for.
pub fn same_as_ours(ours: &CustomResourceDefinition, cluster: &CustomResourceDefinition) -> bool {
    normalised_spec(ours) == normalised_spec(cluster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_crds_equal_themselves_after_server_defaults() {
        for c in api::crds() {
            let mut stored = c.clone();
            stored.spec.conversion =
                Some(serde_json::from_value(json!({"strategy": "None"})).unwrap());
            assert!(same_as_ours(&c, &stored));
            assert!(ours(&c));
            assert_eq!(installed_by(&c), "kubectl-kruise");
        }
    }

    #[test]
    fn who_installed_it() {
        let helm: CustomResourceDefinition = serde_json::from_value(json!({
            "metadata": {"name": "clonesets.apps.kruise.io", "annotations": {
                "meta.helm.sh/release-name": "kruise", "meta.helm.sh/release-namespace": "kruise-system"}},
            "spec": {"group": "apps.kruise.io", "names": {"kind": "CloneSet", "plural": "clonesets"}, "scope": "Namespaced", "versions": []}
        }))
        .unwrap();
        assert_eq!(installed_by(&helm), "helm release kruise-system/kruise");
        assert!(!ours(&helm));
    }
}
