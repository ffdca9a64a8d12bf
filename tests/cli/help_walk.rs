//! Every command offers exactly the flags and values it honours, walked from the built binary's
//! own help: `kubectl-kruise -h` names the commands, each command's `-h` names its options (and
//! their `[possible values: …]`) and its Usage line its arguments. Each leaf command is run as a
//! user would, once plain and once per option (and per listed value), against a kubeconfig whose
//! server does not answer: whatever it lists must not be refused as usage (exit 2, clap's
//! "unexpected argument"/"invalid value", our "is not supported here", "cannot be used with").
//! Commands that need the cluster then fail to reach it; local ones succeed. A new command,
//! option or value is walked with no change here; an argument this walk cannot guess a value
//! for fails the test with a line saying which, rather than being skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kubectl_kruise::error::exit;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-kruise");
/// Nothing listens on port 1: every request fails at once.
const SERVER: &str = "https://127.0.0.1:1";
/// A run still going after this has accepted its arguments (a controller retrying the server it
/// cannot reach, say): it is stopped and counts as accepted. Refusals take milliseconds.
const DEADLINE: Duration = Duration::from_secs(5);
/// How refusals read: clap's parse errors, `check_output`, clap's conflicts.
const REFUSALS: &[&str] = &[
    "unexpected argument",
    "invalid value",
    "is not supported here",
    "cannot be used with",
];
/// A name that no cluster has, for TYPE/NAME arguments.
const NAME: &str = "nonexistent-xyz";

#[derive(Debug, Clone, PartialEq)]
enum Takes {
    Nothing,
    /// `--flag <V>`
    Value(String),
    /// `--flag[=<V>]`
    OptionalValue(String),
}

#[derive(Debug, Clone)]
struct Opt {
    /// `--long` (or `-s` for a short-only option).
    flag: String,
    takes: Takes,
    possible: Vec<String>,
    default: Option<String>,
}

#[derive(Debug)]
struct Leaf {
    path: Vec<String>,
    options: Vec<Opt>,
    /// Required options from the Usage line (`--replicas <N>`), by flag.
    required: Vec<String>,
    /// Required positionals from the Usage line (`<RESOURCE>...`), names only.
    positionals: Vec<String>,
}

/// Files the runs need: the kubeconfig of an unreachable cluster, and a CA file.
struct Env {
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    ca: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: unreachable\n  cluster:\n    server: {SERVER}\n    insecure-skip-tls-verify: true\nusers:\n- name: nobody\n  user:\n    token: nothing\ncontexts:\n- name: unreachable\n  context: {{cluster: unreachable, user: nobody, namespace: default}}\ncurrent-context: unreachable\n"
            ),
        )
        .expect("write kubeconfig");
        let ca = dir.path().join("ca.crt");
        std::fs::write(&ca, "not a certificate\n").expect("write ca");
        Env {
            _dir: dir,
            kubeconfig,
            ca,
        }
    }

    fn command(&self, args: &[String]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            // `completion kubectl-plugin --install` links into krew's bin: a temporary one.
            .env("KREW_ROOT", self._dir.path())
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        c
    }
}

fn help(env: &Env, path: &[String]) -> String {
    let mut args = path.to_vec();
    args.push("-h".into());
    let out = env.command(&args).output().expect("run kubectl-kruise -h");
    assert!(
        out.status.success(),
        "`kubectl-kruise {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The entries of the sections whose title satisfies `want`: each entry's first line with its
/// continuation lines (indented deeper, as clap wraps) joined by a space.
fn entries(help: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim().is_empty() {
            inside = false;
            continue;
        }
        if !line.starts_with(' ') {
            inside = line.ends_with(':') && want(line.trim_end_matches(':'));
            continue;
        }
        if !inside {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        match out.last_mut() {
            Some(last) if indent > 6 => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => out.push(line.trim_start().to_string()),
        }
    }
    out
}

/// `[label: …]` in an entry, e.g. `[possible values: json, yaml]`.
fn bracket<'a>(entry: &'a str, label: &str) -> Option<&'a str> {
    let start = entry.find(&format!("[{label}: "))? + label.len() + 3;
    let len = entry[start..].find(']')?;
    Some(&entry[start..start + len])
}

fn parse_option(entry: &str) -> Opt {
    let spec = entry.split("  ").next().unwrap_or(entry).trim();
    let part = spec
        .split(", ")
        .find(|p| p.starts_with("--"))
        .or_else(|| spec.split(", ").next())
        .unwrap_or(spec);
    let end = part.find(['[', ' ', '=']).unwrap_or(part.len());
    let (flag, rest) = part.split_at(end);
    let name_in = |s: &str| {
        s.trim_start_matches(|c| c != '<')
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let takes = if rest.starts_with("[=<") {
        Takes::OptionalValue(name_in(rest))
    } else if rest.starts_with(" <") {
        Takes::Value(name_in(rest))
    } else {
        Takes::Nothing
    };
    Opt {
        flag: flag.to_string(),
        takes,
        possible: bracket(entry, "possible values")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        default: bracket(entry, "default").map(str::to_string),
    }
}

/// The Usage line's words after the command path, `<…>` and `[…]` kept whole.
fn usage_words(help: &str, path: &[String]) -> Vec<String> {
    let line = help
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .unwrap_or_else(|| panic!("no Usage line in the help of {path:?}:\n{help}"));
    let prefix = format!("kubectl kruise {}", path.join(" "));
    let rest = line.strip_prefix(prefix.trim()).unwrap_or_else(|| {
        panic!("the Usage line of {path:?} does not start with {prefix:?}: {line}")
    });
    let (mut words, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in rest.chars() {
        match c {
            '<' | '[' => depth += 1,
            '>' | ']' => depth -= 1,
            _ => {}
        }
        if c == ' ' && depth == 0 {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The leaf commands under `path`, from the Commands sections, `help` and hidden ones aside
/// (hidden commands are not listed).
fn walk(env: &Env, path: Vec<String>, leaves: &mut Vec<Leaf>) {
    let text = help(env, &path);
    let commands: Vec<String> = entries(&text, |t| t == "Commands")
        .iter()
        .filter_map(|e| e.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    if !commands.is_empty() {
        for c in commands {
            let mut sub = path.clone();
            sub.push(c);
            walk(env, sub, leaves);
        }
        return;
    }
    let options: Vec<Opt> = entries(&text, |t| t.ends_with("Options"))
        .iter()
        .map(|e| parse_option(e))
        .filter(|o| !["--help", "--version"].contains(&o.flag.as_str()))
        .collect();
    let words = usage_words(&text, &path);
    let mut required = Vec::new();
    let mut positionals = Vec::new();
    let mut words = words.iter().peekable();
    while let Some(w) = words.next() {
        if w.starts_with('-') {
            let flag = w.split('=').next().unwrap_or(w).to_string();
            assert!(
                options.iter().any(|o| o.flag == flag),
                "{path:?}: Usage requires {flag}, which Options does not list"
            );
            // Its value (`<N>`) is not a positional.
            words.next_if(|v| v.starts_with('<'));
            required.push(flag);
        } else if w.starts_with('<') {
            positionals.push(
                w.trim_end_matches("...")
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string(),
            );
        }
        // `[OPTIONS]` and other `[…]` words are optional: a plain run leaves them out.
    }
    leaves.push(Leaf {
        path,
        options,
        required,
        positionals,
    });
}

/// A value a user would plausibly give `flag`, by flag first, then by the help's value name,
/// then the listed default.
fn value_for(env: &Env, o: &Opt, value_name: &str) -> String {
    let by_flag = match o.flag.as_str() {
        "--kubeconfig" => Some(env.kubeconfig.display().to_string()),
        "--certificate-authority" => Some(env.ca.display().to_string()),
        "--context" | "--cluster" => Some("unreachable".into()),
        "--user" => Some("nobody".into()),
        "--server" => Some(SERVER.into()),
        "--tls-server-name" => Some("localhost".into()),
        "--controllers" => Some("cloneset".into()),
        "--install" => Some(env._dir.path().join("bin").display().to_string()),
        _ => None,
    };
    let by_name = || -> Option<String> {
        Some(
            match value_name {
                "DURATION" | "SECONDS" => "1s",
                "N" | "REPLICAS" | "LEVEL" => "1",
                "NAMESPACE" => "default",
                "NAME" => "kruise-help-walk",
                "USER" => "someone",
                "GROUP" => "some-group",
                "URL" => SERVER,
                "TOKEN" => "a-token",
                "SELECTOR" => "app=web",
                "POD" => "nonexistent-pod",
                _ => return None,
            }
            .to_string(),
        )
    };
    by_flag
        .or_else(by_name)
        .or_else(|| o.default.clone())
        .unwrap_or_else(|| {
            panic!(
                "the help walk has no plausible value for {} <{value_name}>: teach `value_for`",
                o.flag
            )
        })
}

/// Ways to give a positional, most usual first; a flag is honoured if some usual form takes it
/// (e.g. `-l` wants a TYPE and no NAME).
fn positional_forms(leaf: &Leaf) -> Vec<Vec<String>> {
    let mut forms: Vec<Vec<String>> = vec![vec![]];
    for p in &leaf.positionals {
        let choices: Vec<Vec<String>> = if p.starts_with("RESOURCE") {
            let mut c = Vec::new();
            // A Kruise Rollout last: `rollout approve` and `undo --fast` take only it.
            for kind in ["cloneset", "deployment", "rollout"] {
                c.push(vec![format!("{kind}/{NAME}")]);
                c.push(vec![kind.to_string(), NAME.to_string()]);
                c.push(vec![kind.to_string()]);
            }
            if p.contains("CONTAINER=IMAGE") {
                for v in &mut c {
                    v.push("c=img:1".into());
                }
            }
            c
        } else if p.starts_with("SHELL") {
            // `--install` is for the kubectl helper alone.
            vec![vec!["kubectl-plugin".into()], vec!["bash".into()]]
        } else {
            panic!(
                "the help walk has no plausible value for <{p}> of `{}`: teach `positional_forms`",
                leaf.path.join(" ")
            )
        };
        forms = forms
            .iter()
            .flat_map(|f| {
                choices.iter().map(move |c| {
                    let mut f = f.clone();
                    f.extend(c.iter().cloned());
                    f
                })
            })
            .collect();
    }
    forms
}

/// `--flag value` for an option, as a user types it.
fn with_value(env: &Env, o: &Opt) -> Vec<String> {
    match &o.takes {
        Takes::Nothing => vec![o.flag.clone()],
        Takes::Value(v) => vec![o.flag.clone(), value_for(env, o, v)],
        Takes::OptionalValue(_) => vec![o.flag.clone()],
    }
}

struct Outcome {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Why this run counts as a refusal of its arguments, if it does.
    fn refusal(&self) -> Option<String> {
        if self.code == Some(i32::from(exit::USAGE)) {
            return Some(format!("exit {} (usage)", exit::USAGE));
        }
        REFUSALS
            .iter()
            .find(|r| self.stderr.contains(*r))
            .map(|r| format!("stderr says {r:?}"))
    }

    /// How an accepted run ended, for the summary.
    fn ending(&self) -> String {
        match self.code {
            None => "still running when stopped".into(),
            Some(0) => "succeeded".into(),
            Some(c) if self.stderr.contains("cannot reach the cluster") => {
                format!("could not reach the cluster (exit {c})")
            }
            Some(c) => format!(
                "exit {c}: {}",
                self.stderr.lines().last().unwrap_or_default()
            ),
        }
    }

    fn show(&self) -> String {
        format!(
            "$ kubectl-kruise {}\n{}{}(exit {})",
            self.args.join(" "),
            self.stdout,
            self.stderr,
            self.code
                .map(|c| c.to_string())
                .unwrap_or_else(|| format!("none: stopped after {DEADLINE:?}")),
        )
    }
}

fn run(env: &Env, args: Vec<String>) -> Outcome {
    let out = tempfile::NamedTempFile::new().expect("stdout file");
    let err = tempfile::NamedTempFile::new().expect("stderr file");
    let mut child = env
        .command(&args)
        .stdout(out.reopen().expect("reopen"))
        .stderr(err.reopen().expect("reopen"))
        .spawn()
        .expect("spawn kubectl-kruise");
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Outcome {
        args,
        code,
        stdout: read(out.path()),
        stderr: read(err.path()),
    }
}

/// `--replicas <N>` lines of clap's "the following required arguments were not provided".
fn missing_required(stderr: &str) -> Vec<String> {
    let Some(i) = stderr.find("required arguments were not provided") else {
        return vec![];
    };
    stderr[i..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split(' ').next())
        .filter(|f| f.starts_with('-'))
        .map(str::to_string)
        .collect()
}

/// One thing to try on a leaf: `extra` after the positionals and required options.
struct Case<'a> {
    leaf: &'a Leaf,
    /// The option under test (left out of the required ones, which it may be).
    testing: Option<&'a str>,
    extra: Vec<String>,
}

/// Runs a case in each positional form until one is not refused; the failure, if none is.
fn try_case(env: &Env, case: &Case) -> Result<String, String> {
    let leaf = case.leaf;
    let opt = |flag: &str| leaf.options.iter().find(|o| o.flag == flag);
    let mut attempts = Vec::new();
    for form in positional_forms(leaf) {
        let mut required: Vec<String> = leaf.required.clone();
        for _ in 0..4 {
            let mut args = leaf.path.clone();
            args.extend(form.iter().cloned());
            for r in required.iter().filter(|r| Some(r.as_str()) != case.testing) {
                let o = opt(r).unwrap_or_else(|| {
                    panic!("{}: {r} is required but not listed", leaf.path.join(" "))
                });
                args.extend(with_value(env, o));
            }
            if case.testing != Some("--request-timeout") && opt("--request-timeout").is_some() {
                args.extend(["--request-timeout".to_string(), "1s".to_string()]);
            }
            args.extend(case.extra.iter().cloned());
            let o = run(env, args);
            if o.stderr.contains("panicked at") {
                return Err(format!("it panicked:\n{}", o.show()));
            }
            let Some(why) = o.refusal() else {
                return Ok(o.ending());
            };
            let missing: Vec<String> = missing_required(&o.stderr)
                .into_iter()
                .filter(|m| !required.contains(m) && Some(m.as_str()) != case.testing)
                .collect();
            if attempts.is_empty() {
                attempts.push(format!("{why}:\n{}", o.show()));
            } else {
                attempts.push(format!("also refused: kubectl-kruise {}", o.args.join(" ")));
            }
            if missing.is_empty() {
                break;
            }
            required.extend(missing);
        }
    }
    Err(attempts.join("\n"))
}

#[test]
fn every_listed_flag_and_value_is_accepted() {
    let env = Env::new();
    let mut leaves = Vec::new();
    walk(&env, vec![], &mut leaves);
    let names: Vec<String> = leaves.iter().map(|l| l.path.join(" ")).collect();
    for known in ["version", "rollout pause", "scale"] {
        assert!(
            names.iter().any(|n| n == known),
            "the walk did not find `{known}` (found {names:?}): the help parser is broken"
        );
    }

    let (mut flags, mut values) = (0, 0);
    let mut cases: Vec<(String, Case)> = Vec::new();
    for leaf in &leaves {
        let cmd = leaf.path.join(" ");
        cases.push((
            format!("`{cmd}`"),
            Case {
                leaf,
                testing: None,
                extra: vec![],
            },
        ));
        for o in &leaf.options {
            flags += 1;
            let testing = Some(o.flag.as_str());
            let mut add = |what: String, extra: Vec<String>| {
                cases.push((
                    format!("`{cmd}` {what}"),
                    Case {
                        leaf,
                        testing,
                        extra,
                    },
                ));
            };
            match &o.takes {
                Takes::Value(_) if !o.possible.is_empty() => {
                    for v in &o.possible {
                        values += 1;
                        add(format!("{} {v}", o.flag), vec![o.flag.clone(), v.clone()]);
                    }
                }
                Takes::OptionalValue(_) => {
                    add(o.flag.clone(), vec![o.flag.clone()]);
                    for v in &o.possible {
                        values += 1;
                        add(format!("{}={v}", o.flag), vec![format!("{}={v}", o.flag)]);
                    }
                }
                _ => {
                    let extra = with_value(&env, o);
                    add(extra.join(" "), extra);
                }
            }
        }
    }

    // Runs are short and mostly wait on nothing: a few at a time.
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let endings: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((what, case)) = cases.get(i) else {
                        break;
                    };
                    match try_case(&env, case) {
                        Ok(ending) => *endings.lock().unwrap().entry(ending).or_default() += 1,
                        Err(e) => failures
                            .lock()
                            .unwrap()
                            .push(format!("{what} is listed but refused: {e}")),
                    }
                }
            });
        }
    });
    assert!(
        flags > leaves.len() && values > 0,
        "the help parser found {flags} options and {values} listed values in {} commands: it is broken",
        leaves.len()
    );
    let failures = failures.into_inner().unwrap();
    let endings = endings.into_inner().unwrap();
    eprintln!(
        "help walk: {} commands ({}), {flags} options, {values} listed values, {} cases; accepted runs ended:",
        leaves.len(),
        names.join(", "),
        cases.len()
    );
    for (ending, n) in &endings {
        eprintln!("  {n:4}  {ending}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases refused what the help offers:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n---\n\n")
    );
}
