//! Flags that every command takes, spelled and parsed as kubectl spells and parses them
//! (kubectl hands a plugin its arguments verbatim, so the plugin must implement them itself).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Under their own heading in every command's help, as `kubectl options` keeps them apart.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use (overrides KUBECONFIG)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// The namespace scope for this request
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Time to wait for a single server request: 0 (none), a number of seconds, or 5s, 1m, 1h
    #[arg(long = "request-timeout", global = true, value_name = "DURATION", value_parser = parse_request_timeout)]
    pub request_timeout: Option<std::time::Duration>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// The address and port of the Kubernetes API server
    #[arg(short = 's', long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(long = "certificate-authority", global = true, value_name = "PATH")]
    pub certificate_authority: Option<PathBuf>,
    /// Server name to use for server certificate validation
    #[arg(long = "tls-server-name", global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Do not check the server's certificate (insecure)
    #[arg(long = "insecure-skip-tls-verify", global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Log level for stderr: 0 warnings, 2 info, 4 debug, 6+ every request
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub verbosity: u8,
    /// Answer yes to every confirmation (needed to confirm without a terminal)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

/// kubectl's `--request-timeout`: "0" is no timeout, a bare number is seconds, else a Go-style
/// duration (`500ms`, `5s`, `1m30s`, `1h`).
pub fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(n));
    }
    parse_duration(s)
}

/// A Go-style duration: a sequence of number+unit (h, m, s, ms), e.g. `1m30s`; `0` is zero.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("invalid duration {s:?}: use e.g. 30s, 5m, 1h30m or 0");
    if s == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(bad()),
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Yaml,
    Name,
}

/// `-o` of a command that prints objects or their names (no table: no `--no-headers`).
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Output format: json, yaml or name
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// `-o` of a command whose default output is a table.
#[derive(Args, Debug, Clone, Default)]
pub struct TableOutputArgs {
    /// Output format: json, yaml or name
    #[arg(short = 'o', long = "output", value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Do not print table headers
    #[arg(long = "no-headers")]
    pub no_headers: bool,
}

/// `-o` of a command that prints one report, not objects (`version`, `crds diff`): JSON or
/// YAML, no `name` (there is nothing to name).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Yaml,
}

impl From<ReportFormat> for OutputFormat {
    fn from(f: ReportFormat) -> OutputFormat {
        match f {
            ReportFormat::Json => OutputFormat::Json,
            ReportFormat::Yaml => OutputFormat::Yaml,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DryRun {
    /// Really write
    #[default]
    None,
    /// Only print what would be sent; nothing reaches the server
    Client,
    /// Submit to the server with dryRun=All: validated and admitted, not persisted
    Server,
}

#[derive(Args, Debug, Clone)]
pub struct WriteArgs {
    /// Must be none, client or server. client: print what would be done without sending it;
    /// server: submit with dryRun=All, nothing is persisted
    #[arg(long = "dry-run", value_name = "MODE", default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Name of the manager used to track field ownership
    #[arg(
        long = "field-manager",
        value_name = "NAME",
        default_value = "kubectl-kruise"
    )]
    pub field_manager: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in ["", "s", "10", "5x", "-1s", "1m-"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(
            parse_request_timeout("10").unwrap(),
            Duration::from_secs(10)
        );
    }
}
