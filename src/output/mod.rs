//! Printing: data to stdout (tables, `-o json|yaml|name`), everything else to stderr; colour
//! and progress bars only on a terminal and never with `NO_COLOR`.
//!
//! Writes to stdout go through [`out`], which turns a closed pipe (`| head`) into a quiet exit 0
//! instead of a panic.

pub mod progress;
pub mod table;
pub mod tree;

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::{Error, Result};

/// What `-o` asked for: a document (JSON, YAML) or names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Name,
}

/// Set once at start-up from NO_COLOR / CLICOLOR_FORCE and whether stdout/stderr are terminals.
pub fn init_colour() {
    colored::control::set_override(colour_enabled(std::io::stdout().is_terminal()));
}

/// The colour policy: `NO_COLOR` (any value) wins, then `CLICOLOR_FORCE`, then `TERM=dumb`,
/// then whether the stream is a terminal.
pub fn colour_enabled(is_terminal: bool) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0") {
        return true;
    }
    if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        return false;
    }
    is_terminal
}

/// Writes `text` to stdout; a closed pipe becomes [`Error::BrokenPipe`] (main exits 0 quietly).
pub fn out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::BrokenPipe),
        Err(e) => Err(Error::Other(format!("cannot write to stdout: {e}"))),
    }
}

pub fn outln(line: &str) -> Result<()> {
    out(&format!("{line}\n"))
}

/// A message for a person (stderr), never mixed into data.
pub fn note(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Prints objects as JSON or YAML the way kubectl does: one object as itself, several as a
/// `v1` `List`.
pub fn print_objects<T: Serialize>(items: &[T], format: Format) -> Result<()> {
    let value = if items.len() == 1 {
        serde_json::to_value(&items[0])
    } else {
        serde_json::to_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": ""},
            "items": items,
        }))
    }
    .map_err(|e| Error::other(format!("cannot encode the output: {e}")))?;
    print_value(&value, format)
}

/// Prints any serialisable value as JSON (indented, like kubectl) or YAML.
pub fn print_value<T: Serialize>(value: &T, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            let s = serde_json::to_string_pretty(value)
                .map_err(|e| Error::other(format!("cannot encode JSON: {e}")))?;
            outln(&s)
        }
        Format::Yaml => {
            let v = serde_json::to_value(value)
                .map_err(|e| Error::other(format!("cannot encode YAML: {e}")))?;
            let s = serde_saphyr::to_string(&v)
                .map_err(|e| Error::other(format!("cannot encode YAML: {e}")))?;
            out(&s)
        }
        Format::Name => Err(Error::usage(
            "this output supports -o json and -o yaml only",
        )),
    }
}

/// Asks before something a person may not mean (`--yes` answers for them). Asked only when
/// stdin and stderr are a terminal; otherwise refused with one line saying to add `--yes`, so a
/// script never hangs on a question and never does it unasked.
pub fn confirm(yes: bool, question: &str) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::usage(format!(
            "{question} There is no terminal to ask on: add --yes to go ahead (nothing was changed)"
        )));
    }
    match dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::other("not confirmed: nothing was changed")),
        Err(e) => Err(Error::other(format!(
            "asking for confirmation: {e} (nothing was changed; --yes goes ahead without asking)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_of_one_and_many() {
        // Encoding is exercised here; stdout itself is shared by the test harness.
        let one = serde_json::json!({"kind": "Deployment", "metadata": {"name": "a"}});
        let y = serde_saphyr::to_string(&one).unwrap();
        assert!(y.contains("kind: Deployment"));
        assert!(print_value(&one, Format::Name).is_err());
    }
}
