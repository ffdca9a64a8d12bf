//! From kubectl's global flags to a kube `Client`: kubeconfig loading (`--kubeconfig`, else
//! every file in `KUBECONFIG` merged, else `~/.kube/config`), context/cluster/user selection and
//! the overrides (`--server`, `--token`, `--certificate-authority`, `--tls-server-name`,
//! `--insecure-skip-tls-verify`, `--as`, `--as-group`, `-n`, `--request-timeout`), as kubectl
//! applies them. Every request carries the user agent `kubectl-kruise/<version>`.

use std::path::PathBuf;

use kube::config::{
    AuthInfo, Cluster, Context, KubeConfigOptions, Kubeconfig, NamedAuthInfo, NamedCluster,
    NamedContext,
};
use kube::{Client, Config};

use crate::error::{Error, Result};

/// How to reach the cluster: kubectl's connection flags, as the command line gave them.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<std::path::PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub request_timeout: Option<std::time::Duration>,
    pub as_user: Option<String>,
    pub as_group: Vec<String>,
    pub server: Option<String>,
    pub token: Option<String>,
    pub certificate_authority: Option<std::path::PathBuf>,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
}

/// A connected client and what the flags resolved to.
#[derive(Clone)]
pub struct Kube {
    pub client: Client,
    /// The namespace commands act in (`-n`, else the context's, else `default`).
    pub namespace: String,
    /// The API server URL, for error messages.
    pub server: String,
}

pub fn user_agent() -> String {
    format!(
        "kubectl-kruise/{} ({}/{})",
        crate::VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn load_kubeconfig(flags: &ConnectOptions) -> Result<Option<Kubeconfig>> {
    if let Some(path) = &flags.kubeconfig {
        return Kubeconfig::read_from(path)
            .map(Some)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())));
    }
    match Kubeconfig::from_env() {
        Ok(Some(kc)) => return Ok(Some(kc)),
        Ok(None) => {}
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read the files in KUBECONFIG: {e}"
            )));
        }
    }
    let default = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config"));
    match default {
        Some(p) if p.is_file() => Kubeconfig::read_from(&p)
            .map(Some)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", p.display()))),
        _ => Ok(None),
    }
}

/// Applies the flag overrides to the kubeconfig, the way kubectl's ConfigOverrides do, and
/// returns it with the names of the context, cluster and user to use.
fn with_overrides(
    kc: Option<Kubeconfig>,
    flags: &ConnectOptions,
) -> Result<(Kubeconfig, KubeConfigOptions)> {
    let mut kc = match kc {
        Some(kc) => kc,
        None if flags.server.is_some() => Kubeconfig::default(),
        None => {
            return Err(Error::Config(
                "no configuration found: KUBECONFIG is unset and ~/.kube/config does not exist; pass --kubeconfig, or --server with credentials".into(),
            ));
        }
    };
    let context_name = flags
        .context
        .clone()
        .or_else(|| kc.current_context.clone())
        .filter(|c| !c.is_empty());
    let context = context_name
        .as_ref()
        .and_then(|n| kc.contexts.iter().find(|c| &c.name == n))
        .and_then(|c| c.context.clone());
    if let (Some(name), None) = (&flags.context, &context) {
        return Err(Error::Config(format!(
            "context \"{name}\" does not exist in the kubeconfig; `kubectl config get-contexts` lists them"
        )));
    }
    if context.is_none() && flags.server.is_none() {
        return Err(Error::Config(
            "the kubeconfig has no current context; pass --context, or set one with `kubectl config use-context`".into(),
        ));
    }
    let mut context = context.unwrap_or_default();
    let cluster_name = flags
        .cluster
        .clone()
        .unwrap_or_else(|| context.cluster.clone());
    let user_name = flags.user.clone().or_else(|| context.user.clone());

    // Make sure the named cluster and user exist, so overrides have somewhere to go.
    let cluster_name = if cluster_name.is_empty() {
        "kubectl-kruise-flags".to_string()
    } else {
        cluster_name
    };
    if !kc.clusters.iter().any(|c| c.name == cluster_name) {
        if flags.server.is_none() {
            return Err(Error::Config(format!(
                "cluster \"{cluster_name}\" does not exist in the kubeconfig"
            )));
        }
        kc.clusters.push(NamedCluster {
            name: cluster_name.clone(),
            cluster: Some(Cluster::default()),
            ..Default::default()
        });
    }
    let user_name = user_name.unwrap_or_else(|| "kubectl-kruise-flags".to_string());
    if !kc.auth_infos.iter().any(|u| u.name == user_name) {
        if flags.user.is_some() {
            return Err(Error::Config(format!(
                "user \"{user_name}\" does not exist in the kubeconfig"
            )));
        }
        kc.auth_infos.push(NamedAuthInfo {
            name: user_name.clone(),
            auth_info: Some(AuthInfo::default()),
            ..Default::default()
        });
    }

    let cluster = kc
        .clusters
        .iter_mut()
        .find(|c| c.name == cluster_name)
        .expect("ensured above")
        .cluster
        .get_or_insert_with(Cluster::default);
    if let Some(server) = &flags.server {
        cluster.server = Some(server.clone());
    }
    if let Some(ca) = &flags.certificate_authority {
        cluster.certificate_authority = Some(ca.display().to_string());
        cluster.certificate_authority_data = None;
    }
    if let Some(name) = &flags.tls_server_name {
        cluster.tls_server_name = Some(name.clone());
    }
    if flags.insecure_skip_tls_verify {
        cluster.insecure_skip_tls_verify = Some(true);
        cluster.certificate_authority = None;
        cluster.certificate_authority_data = None;
    }
    let user = kc
        .auth_infos
        .iter_mut()
        .find(|u| u.name == user_name)
        .expect("ensured above")
        .auth_info
        .get_or_insert_with(AuthInfo::default);
    if let Some(token) = &flags.token {
        // A token given on the command line wins over every other credential.
        *user = AuthInfo {
            token: Some(token.clone().into()),
            ..Default::default()
        };
    }
    if let Some(who) = &flags.as_user {
        user.impersonate = Some(who.clone());
    }
    if !flags.as_group.is_empty() {
        user.impersonate_groups = Some(flags.as_group.clone());
    }

    context.cluster = cluster_name.clone();
    context.user = Some(user_name.clone());
    let context_name = context_name.unwrap_or_else(|| "kubectl-kruise-flags".into());
    kc.contexts.retain(|c| c.name != context_name);
    kc.contexts.push(NamedContext {
        name: context_name.clone(),
        context: Some(Context { ..context }),
        ..Default::default()
    });
    kc.current_context = Some(context_name.clone());
    Ok((
        kc,
        KubeConfigOptions {
            context: Some(context_name),
            cluster: Some(cluster_name),
            user: Some(user_name),
        },
    ))
}

/// Builds the kube `Config` the flags describe (no request is made).
pub async fn config(flags: &ConnectOptions) -> Result<Config> {
    let (kc, opts) = with_overrides(load_kubeconfig(flags)?, flags)?;
    let mut config = Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| Error::Config(crate::error::root_cause(&e)))?;
    if let Some(ns) = &flags.namespace {
        config.default_namespace = ns.clone();
    }
    if let Some(t) = flags.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_str(&user_agent()).expect("ASCII user agent"),
    ));
    Ok(config)
}

pub async fn connect(flags: &ConnectOptions) -> Result<Kube> {
    let config = config(flags).await?;
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let namespace = config.default_namespace.clone();
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| Error::Config(crate::error::root_cause(&e)))?
        .with_layer(&super::wire::WireLayer)
        .build();
    Ok(Kube {
        client,
        namespace,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kc() -> Kubeconfig {
        Kubeconfig::from_yaml(
            r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://10.0.0.1:6443"}
- name: b
  cluster: {server: "https://10.0.0.2:6443"}
users:
- name: alice
  user: {token: alice-token}
- name: bob
  user: {token: bob-token}
contexts:
- name: ca
  context: {cluster: a, user: alice, namespace: team-a}
- name: cb
  context: {cluster: b, user: bob}
current-context: ca
"#,
        )
        .unwrap()
    }

    fn flags() -> ConnectOptions {
        ConnectOptions::default()
    }

    #[tokio::test]
    async fn current_context_namespace_and_overrides() {
        let (k, o) = with_overrides(Some(kc()), &flags()).unwrap();
        let c = Config::from_custom_kubeconfig(k, &o).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.0.0.1:6443/");
        assert_eq!(c.default_namespace, "team-a");

        let mut f = flags();
        f.context = Some("cb".into());
        f.server = Some("https://127.0.0.1:1234".into());
        f.as_user = Some("carol".into());
        f.as_group = vec!["devs".into()];
        let (k, o) = with_overrides(Some(kc()), &f).unwrap();
        let c = Config::from_custom_kubeconfig(k, &o).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.1:1234/");
        assert_eq!(c.default_namespace, "default");
        assert_eq!(c.auth_info.impersonate.as_deref(), Some("carol"));
        assert_eq!(
            c.auth_info.impersonate_groups,
            Some(vec!["devs".to_string()])
        );
    }

    #[tokio::test]
    async fn cluster_and_user_flags_pick_entries() {
        let mut f = flags();
        f.cluster = Some("b".into());
        f.user = Some("bob".into());
        let (k, o) = with_overrides(Some(kc()), &f).unwrap();
        let c = Config::from_custom_kubeconfig(k, &o).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.0.0.2:6443/");
        assert_eq!(
            c.default_namespace, "team-a",
            "namespace stays the context's"
        );
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        let mut f = flags();
        f.context = Some("nope".into());
        let e = with_overrides(Some(kc()), &f)
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("context \"nope\" does not exist"), "{e}");
        let mut f = flags();
        f.user = Some("nobody".into());
        let e = with_overrides(Some(kc()), &f)
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("user \"nobody\" does not exist"), "{e}");
        let e = with_overrides(None, &flags())
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("no configuration found"), "{e}");
    }

    #[tokio::test]
    async fn server_and_token_without_kubeconfig() {
        let mut f = flags();
        f.server = Some("https://127.0.0.1:9".into());
        f.token = Some("t".into());
        f.insecure_skip_tls_verify = true;
        let (k, o) = with_overrides(None, &f).unwrap();
        let c = Config::from_custom_kubeconfig(k, &o).await.unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://127.0.0.1:9/");
        assert!(c.accept_invalid_certs);
    }
}
