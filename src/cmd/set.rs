//! `set image TYPE/NAME CONTAINER=IMAGE … [--inplace]`.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use serde_json::{Map, Value, json};

use crate::api::cloneset::{CloneSet, CloneSetUpdateStrategyType};
use crate::cli::set::{ImageArgs, SetCommand};
use crate::cli::{DryRun, GlobalArgs, OutputFormat};
use crate::client::kinds::{self, CLONESET, DEPLOYMENT, Kind};
use crate::client::write::{Change, apply_locally, guarded};
use crate::client::{Kube, connect};
use crate::cmd::cloneset as cs_cmd;
use crate::cmd::rollout::{check_output, dry_suffix};
use crate::controller::cloneset::{inplace, revision};
use crate::error::{Error, Result, Target};
use crate::output;

pub async fn run(global: &GlobalArgs, cmd: &SetCommand) -> Result<()> {
    match cmd {
        SetCommand::Image(a) => image(global, a).await,
    }
}

/// `(kind, name, [(container, image)])` from the arguments.
/// `CONTAINER=IMAGE` pairs.
type Pairs = Vec<(String, String)>;

fn parse(args: &[String]) -> Result<(Kind, String, Pairs)> {
    let (res, pairs): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| !a.contains('='));
    let (kind, name) = match res.as_slice() {
        [one] if one.contains('/') => {
            let (t, n) = one.split_once('/').unwrap_or_default();
            (kinds::resolve(t)?, n.to_string())
        }
        [t, n] => (kinds::resolve(t)?, n.to_string()),
        _ => {
            return Err(Error::usage(
                "give one workload (TYPE/NAME or TYPE NAME) and at least one CONTAINER=IMAGE, e.g. `set image cloneset/web nginx=nginx:1.27`",
            ));
        }
    };
    if pairs.is_empty() {
        return Err(Error::usage("at least one CONTAINER=IMAGE is required"));
    }
    let mut out = Vec::new();
    for p in pairs {
        let (c, i) = p.split_once('=').unwrap_or_default();
        if c.is_empty() || i.is_empty() {
            return Err(Error::usage(format!("{p:?} is not CONTAINER=IMAGE")));
        }
        out.push((c.to_string(), i.to_string()));
    }
    if ![CLONESET, DEPLOYMENT].contains(&kind) {
        return Err(Error::usage(format!(
            "set image supports clonesets and deployments, not {}",
            kind.resource()
        )));
    }
    Ok((kind, name, out))
}

/// JSON-patch ops setting images in a pod template (`prefix` = path of the template), and the
/// init containers touched. Errors name the containers there are.
fn image_ops(
    template: &Value,
    prefix: &str,
    pairs: &[(String, String)],
    what: &str,
) -> Result<(Vec<Value>, Vec<String>)> {
    let mut ops = Vec::new();
    let mut init = Vec::new();
    let mut names = Vec::new();
    for (list, is_init) in [("containers", false), ("initContainers", true)] {
        for (i, c) in template
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let n = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            names.push(n.clone());
            for (want, image) in pairs {
                if want == &n || want == "*" {
                    ops.push(json!({"op": "replace", "path": format!("{prefix}/spec/{list}/{i}/image"), "value": image}));
                    if is_init {
                        init.push(n.clone());
                    }
                }
            }
        }
    }
    for (want, _) in pairs {
        if want != "*" && !names.contains(want) {
            return Err(Error::usage(format!(
                "container \"{want}\" not found in {what} (its containers: {}); nothing was changed",
                names.join(", ")
            )));
        }
    }
    Ok((ops, init))
}

async fn image(global: &GlobalArgs, a: &ImageArgs) -> Result<()> {
    let (kind, name, pairs) = parse(&a.args)?;
    check_output(
        &a.output,
        &[OutputFormat::Json, OutputFormat::Yaml, OutputFormat::Name],
    )?;
    let kube = connect(global).await?;
    if kind == DEPLOYMENT {
        if a.inplace {
            return Err(Error::usage(
                "deployments cannot update pods in place (a new ReplicaSet recreates them); drop --inplace, or use a CloneSet",
            ));
        }
        return deployment(&kube, &name, &pairs, a).await;
    }
    cloneset(&kube, &name, &pairs, a).await
}

/// The template the pods run now (the current revision's), to judge in-place feasibility.
async fn running_template(kube: &Kube, c: &CloneSet) -> Result<Map<String, Value>> {
    let current = c.status.as_ref().and_then(|s| s.current_revision.clone());
    if let Some(cur) = current {
        let revs = crate::cmd::rollout::cloneset::revisions(kube, c).await?;
        if let Some(t) = revs
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(&cur))
            .and_then(revision::template_of)
        {
            return Ok(t);
        }
    }
    Ok(c.spec.template.0.clone())
}

async fn cloneset(
    kube: &Kube,
    name: &str,
    pairs: &[(String, String)],
    a: &ImageArgs,
) -> Result<()> {
    let c = cs_cmd::get(kube, name).await?;
    let what = format!("cloneset \"{name}\"");
    let (mut ops, init) = image_ops(
        &Value::Object(c.spec.template.0.clone()),
        "/spec/template",
        pairs,
        &what,
    )?;
    let policy = c.spec.update_strategy.as_ref().and_then(|u| u.type_);
    let mut note = None;
    if a.inplace {
        if policy == Some(CloneSetUpdateStrategyType::OnDelete) {
            return Err(Error::usage(format!(
                "{what} uses updateStrategy OnDelete: pods change only when someone deletes them, so --inplace cannot apply; nothing was changed"
            )));
        }
        if !init.is_empty() {
            return Err(Error::usage(format!(
                "cannot update {what} in place: init container(s) {} cannot be updated in place (only regular containers' images can); nothing was changed",
                init.join(", ")
            )));
        }
        let mut after = Value::Object(c.spec.template.0.clone());
        let p: json_patch::Patch = serde_json::from_value(Value::Array(
            ops.iter()
                .map(|o| {
                    let mut o = o.clone();
                    let path = o["path"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches("/spec/template")
                        .to_string();
                    o["path"] = json!(path);
                    o
                })
                .collect(),
        ))
        .map_err(|e| Error::other(e.to_string()))?;
        json_patch::patch(&mut after, &p).map_err(|e| Error::other(e.to_string()))?;
        let from = running_template(kube, &c).await?;
        let to = after.as_object().cloned().unwrap_or_default();
        let from_d = crate::controller::cloneset::defaults::apply(&with_template(&c, from))
            .spec
            .template
            .0;
        let to_d = crate::controller::cloneset::defaults::apply(&with_template(&c, to))
            .spec
            .template
            .0;
        if let Err(why) = inplace::calculate(&from_d, &to_d) {
            return Err(Error::usage(format!(
                "cannot update {what} in place: the pods run a template that differs in more than images: {why}; nothing was changed"
            )));
        }
        if matches!(policy, None | Some(CloneSetUpdateStrategyType::ReCreate)) {
            let op = if c.spec.update_strategy.is_some() {
                json!({"op": "add", "path": "/spec/updateStrategy/type", "value": "InPlaceIfPossible"})
            } else {
                json!({"op": "add", "path": "/spec/updateStrategy", "value": {"type": "InPlaceIfPossible"}})
            };
            ops.push(op);
            note = Some(
                "updateStrategy.type set to InPlaceIfPossible so the pods are updated in place"
                    .to_string(),
            );
        }
    }
    let api = cs_cmd::api(kube);
    let target = cs_cmd::target(kube, name);
    if a.write.dry_run == DryRun::Client {
        let after = apply_locally(&c, &Change::Json(Value::Array(ops)))?;
        return cs_cmd::print_preview(kube, &after, a.output.output).await;
    }
    let expected_rv = c.metadata.resource_version.clone();
    let outcome = guarded(&api, Some(c), &target, &kube.server, a.write.dry_run, &a.write.field_manager, |cur| {
        if cur.metadata.resource_version != expected_rv {
            return Err(Error::Conflict(format!("cloneset \"{name}\" changed while it was being updated; run the command again"), 1));
        }
        Ok(Some(Change::Json(Value::Array(ops.clone()))))
    })
    .await?;
    let obj = outcome.object().clone();
    cs_cmd::print_written(
        name,
        &obj,
        "image updated",
        a.write.dry_run,
        a.output.output,
    )?;
    if let Some(n) = note {
        output::note(&n);
    }
    if a.write.dry_run == DryRun::None {
        return cs_cmd::drive(kube, name, a.drive.drive()).await;
    }
    Ok(())
}

fn with_template(c: &CloneSet, t: Map<String, Value>) -> CloneSet {
    let mut c = c.clone();
    c.spec.template.0 = t;
    c
}

async fn deployment(
    kube: &Kube,
    name: &str,
    pairs: &[(String, String)],
    a: &ImageArgs,
) -> Result<()> {
    let api: Api<Deployment> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let target = Target {
        resource: "deployments.apps",
        name,
        namespace: &kube.namespace,
    };
    let d = crate::cmd::rollout::get_deployment(kube, DEPLOYMENT, name).await?;
    let template = serde_json::to_value(d.spec.as_ref().map(|s| &s.template)).unwrap_or_default();
    let (ops, _) = image_ops(
        &template,
        "/spec/template",
        pairs,
        &format!("deployment \"{name}\""),
    )?;
    let outcome = guarded(
        &api,
        Some(d),
        &target,
        &kube.server,
        a.write.dry_run,
        &a.write.field_manager,
        |_| Ok(Some(Change::Json(Value::Array(ops.clone())))),
    )
    .await?;
    match a.output.output {
        Some(OutputFormat::Name) => output::outln(&format!("deployment.apps/{name}")),
        Some(f @ (OutputFormat::Json | OutputFormat::Yaml)) => {
            output::print_objects(std::slice::from_ref(outcome.object()), f)
        }
        _ => output::outln(&format!(
            "deployment.apps/{name} image updated{}",
            dry_suffix(a.write.dry_run)
        )),
    }
}
