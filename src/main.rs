//! Entry point: parse, run, map errors to one line on stderr and a documented exit code.

use std::process::ExitCode;

use clap::Parser;
use kubectl_kruise::cli::Cli;
use kubectl_kruise::error::{Error, exit};
use kubectl_kruise::{cmd, output};

fn main() -> ExitCode {
    if let Some(words) = completion_words() {
        return complete(words);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; real usage errors exit 2.
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    output::init_colour();
    init_logging(cli.global.verbosity);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(cmd::run(&cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Error::BrokenPipe) => ExitCode::from(exit::OK),
        Err(Error::Reported(code)) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The words to complete when kubectl asks: run as `kubectl_complete-kruise` (a link), or as
/// `kubectl-kruise __complete …` (the script form of the helper).
fn completion_words() -> Option<Vec<String>> {
    let mut args = std::env::args();
    let argv0 = args.next()?;
    let name = std::path::Path::new(&argv0)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let rest: Vec<String> = args.collect();
    if name == cmd::complete::HELPER {
        return Some(rest);
    }
    (rest.first().map(String::as_str) == Some("__complete")).then(|| rest[1..].to_vec())
}

/// Answers kubectl's completion request; whatever fails, the shell sees no error.
fn complete(words: Vec<String>) -> ExitCode {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        println!(":0");
        return ExitCode::SUCCESS;
    };
    let answer = runtime.block_on(cmd::complete::answer(&words));
    print!("{answer}");
    ExitCode::SUCCESS
}

/// `-v`: 0 our warnings only (the error we return says what failed, once), 1-3 info, 4-5
/// debug, 6+ trace (every request); `RUST_LOG` overrides.
fn init_logging(v: u8) {
    let level = match v {
        0 => "off,kubectl_kruise=warn",
        1..=3 => "info,kube_client=warn",
        4..=5 => "debug,hyper=info,rustls=info,tower=info",
        _ => "trace",
    };
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::colour_enabled(std::io::stderr().is_terminal()))
        .with_target(false)
        .try_init();
}
