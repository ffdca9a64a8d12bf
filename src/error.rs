//! Errors a person sees: one line saying what failed, on which object, and what to do, and a
//! documented exit code (see README "Exit codes").

use std::fmt;

/// Exit codes, stable for scripts.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const TIMEOUT: u8 = 3;
    pub const FAILED: u8 = 4;
    pub const PAUSED: u8 = 5;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The object does not exist.
    #[error("{resource} \"{name}\" not found in namespace \"{namespace}\"{hint}")]
    NotFound {
        resource: String,
        name: String,
        namespace: String,
        hint: Hint,
    },
    /// RBAC said no: the API server's message names the user, verb and resource.
    #[error(
        "forbidden: {0}; ask a cluster admin for that permission or use another --context/--as"
    )]
    Forbidden(String),
    /// The API server refused the request for another reason.
    #[error("{0}")]
    Api(String),
    /// A write kept conflicting with concurrent writers.
    #[error("conflict: {0} kept changing while we updated it ({1} attempts); try again")]
    Conflict(String, u32),
    /// No answer from the API server.
    #[error(
        "cannot reach the cluster at {server}: {reason}; check --server, --context or KUBECONFIG, and that the API server is running"
    )]
    Unreachable { server: String, reason: String },
    /// kubeconfig or credentials problems.
    #[error("kubeconfig: {0}")]
    Config(String),
    /// A wait ran out of time (exit 3).
    #[error("{0}")]
    Timeout(String),
    /// A release failed or is degraded (exit 4).
    #[error("{0}")]
    Failed(String),
    /// `rollout status --watch=false` on an object paused with updates pending (exit 5):
    /// nothing rolls out until it is resumed, which is not success.
    #[error("{0}")]
    Paused(String),
    /// Stopped by SIGINT or SIGTERM before the object rested (exit 128 + the signal, as
    /// kubectl: 130 or 143); what was in flight was finished and the Lease released.
    #[error("{1}")]
    Interrupted(u8, String),
    /// Anything else (exit 1).
    #[error("{0}")]
    Other(String),
    /// stdout was closed by the reader (`| head`): stop quietly with exit 0.
    #[error("broken pipe")]
    BrokenPipe,
    /// Errors already printed one by one (several targets); only the exit code is left.
    #[error("errors were reported above")]
    Reported(u8),
}

/// An optional " (…)" suffix for not-found errors.
#[derive(Debug, Default, Clone)]
pub struct Hint(pub Option<String>);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(h) => write!(f, "; {h}"),
            None => Ok(()),
        }
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Timeout(_) => exit::TIMEOUT,
            Error::Failed(_) => exit::FAILED,
            Error::Paused(_) => exit::PAUSED,
            Error::BrokenPipe => exit::OK,
            Error::Reported(code) => *code,
            Error::Interrupted(signal, _) => 128 + signal,
            _ => exit::ERROR,
        }
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    pub fn other(msg: impl Into<String>) -> Self {
        Error::Other(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a request was about, so that its failure can be told in one line.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// `deployments.apps`, `clonesets.apps.kruise.io`, …
    pub resource: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
}

/// Turns a kube error into a one-line error about `target`.
pub fn from_kube(e: kube::Error, server: &str, target: Option<&Target<'_>>) -> Error {
    match e {
        kube::Error::Api(s) => {
            let s = *s;
            match s.code {
                404 if target.is_some() => {
                    let t = target.expect("checked");
                    Error::NotFound {
                        resource: t.resource.to_string(),
                        name: t.name.to_string(),
                        namespace: t.namespace.to_string(),
                        hint: Hint(None),
                    }
                }
                403 => Error::Forbidden(s.message),
                401 => Error::Config(format!(
                    "the server at {server} rejected our credentials ({}); log in again or check the user of your context",
                    s.message
                )),
                409 => Error::Conflict(
                    target
                        .map(|t| format!("{} \"{}\"", t.resource, t.name))
                        .unwrap_or_else(|| "the object".into()),
                    1,
                ),
                _ => {
                    let what = target
                        .map(|t| {
                            format!(
                                "{} \"{}\" in namespace \"{}\": ",
                                t.resource, t.name, t.namespace
                            )
                        })
                        .unwrap_or_default();
                    Error::Api(format!("{what}{} ({} {})", s.message, s.code, s.reason))
                }
            }
        }
        kube::Error::Auth(e) => Error::Config(format!("cannot get credentials: {e}")),
        kube::Error::InferConfig(e) => Error::Config(e.to_string()),
        kube::Error::SerdeError(e) => Error::Other(format!("unexpected answer from {server}: {e}")),
        other => Error::Unreachable {
            // Callers that hold only a client (the Lease code) pass no address.
            server: if server.is_empty() {
                "its API server".to_string()
            } else {
                server.to_string()
            },
            reason: root_cause(&other),
        },
    }
}

/// The innermost message of an error chain (hyper wraps the useful part deep inside).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msgs = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        msgs.push(s.to_string());
        cur = s.source();
    }
    msgs.dedup();
    // Keep the last two distinct messages: "client error (Connect): tcp connect error: Connection refused".
    let n = msgs.len();
    msgs[n.saturating_sub(2)..].join(": ")
}
