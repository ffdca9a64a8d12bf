//! What every command that acts on workloads shares: checking the arguments before any
//! request, listing the targets, acting on each in turn, kubectl's dry-run suffix.

use crate::cli::rollout::Resources;
use crate::cli::{DryRun, GlobalArgs, OutputFormat};
use crate::client::Kube;
use crate::client::config::ConnectOptions;
use crate::client::kinds::Kind;
use crate::client::resolve::{self, Selection};
use crate::client::write::WriteMode;
use crate::cmd::workload::{self, Verb};
use crate::error::{Error, Result};
use crate::output;

/// Parses and checks the arguments before anything touches the network.
pub fn selection(r: &Resources, command: &str, verb: Verb) -> Result<Selection> {
    let sel = resolve::parse(&r.resources, r.selector.as_deref())?;
    resolve::check_kinds(&sel, command, &workload::supporting(verb))?;
    Ok(sel)
}

/// Names of the selected objects (a label selector costs one LIST).
pub async fn names(kube: &Kube, sel: Selection) -> Result<Vec<(Kind, String)>> {
    match sel {
        Selection::Named(v) => Ok(v),
        Selection::Selector(kind, labels) => {
            let names = if crate::cmd::rollout_cr::is_rollout(kind) {
                crate::cmd::rollout_cr::names(kube, &labels).await?
            } else {
                workload::of(kind).names(kube, &labels).await?
            };
            if names.is_empty() {
                output::note(&format!(
                    "No resources found in {} namespace.",
                    kube.namespace
                ));
            }
            Ok(names.into_iter().map(|n| (kind, n)).collect())
        }
    }
}

/// `-o` values a change command prints (there is no table to widen).
pub const WRITTEN_FORMATS: &[OutputFormat] =
    &[OutputFormat::Json, OutputFormat::Yaml, OutputFormat::Name];

pub fn check_output(o: Option<OutputFormat>, allowed: &[OutputFormat]) -> Result<()> {
    match o {
        Some(f) if !allowed.contains(&f) => Err(Error::usage(format!(
            "-o {} is not supported here; use one of: {}",
            format!("{f:?}").to_lowercase(),
            allowed
                .iter()
                .map(|f| format!("{f:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Ok(()),
    }
}

pub fn dry_suffix(d: DryRun) -> &'static str {
    match d {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    }
}

/// Runs `each` on every target, printing errors as they come; the first error decides the exit.
pub async fn for_each<F, Fut>(targets: Vec<(Kind, String)>, mut each: F) -> Result<()>
where
    F: FnMut(Kind, String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let many = targets.len() > 1;
    let mut first: Option<Error> = None;
    for (k, n) in targets {
        match each(k, n).await {
            Ok(()) => {}
            Err(Error::BrokenPipe) => return Err(Error::BrokenPipe),
            Err(e) if many => {
                output::note(&format!("error: {e}"));
                first.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match first {
        // Already printed: exit with its code, without printing it again.
        Some(e) => Err(Error::Reported(e.exit_code())),
        None => Ok(()),
    }
}

pub fn now_rfc3339() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Connect as the global flags say.
pub async fn connect(global: &GlobalArgs) -> Result<Kube> {
    crate::client::connect(&connect_options(global)).await
}

pub fn connect_options(g: &GlobalArgs) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        cluster: g.cluster.clone(),
        user: g.user.clone(),
        namespace: g.namespace.clone(),
        request_timeout: g.request_timeout,
        as_user: g.as_user.clone(),
        as_group: g.as_group.clone(),
        server: g.server.clone(),
        token: g.token.clone(),
        certificate_authority: g.certificate_authority.clone(),
        tls_server_name: g.tls_server_name.clone(),
        insecure_skip_tls_verify: g.insecure_skip_tls_verify,
    }
}

impl From<DryRun> for WriteMode {
    fn from(d: DryRun) -> WriteMode {
        match d {
            DryRun::None => WriteMode::Apply,
            DryRun::Client => WriteMode::Local,
            DryRun::Server => WriteMode::ServerDryRun,
        }
    }
}

impl From<OutputFormat> for output::Format {
    fn from(f: OutputFormat) -> output::Format {
        match f {
            OutputFormat::Json => output::Format::Json,
            OutputFormat::Yaml => output::Format::Yaml,
            OutputFormat::Name => output::Format::Name,
        }
    }
}
