//! `kubectl kruise get TYPE/NAME [-w] [--until-done]` and `describe TYPE/NAME`: an object as a
//! tree (see [`view`]), printed once, or redrawn on every watch event.

mod pods;
mod rollout;
mod sources;
pub mod view;
mod workload;

#[cfg(test)]
mod tests;

use std::io::IsTerminal;

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::cli::get::{DescribeArgs, GetArgs};
use crate::cli::rollout::Resources;
use crate::cli::{GlobalArgs, ReportFormat};
use crate::client::Kube;
use crate::client::kinds::Kind;
use crate::client::resolve::{self, Selection};
use crate::cmd::common::{connect, names};
use crate::cmd::drive::with_timeout;
use crate::error::{Error, Hint, Result, from_kube};
use crate::output::{self, tree};
use sources::{Source, Watched};
use view::{Built, Subject};

/// Check the arguments (no request): kinds with a view. A type alone (`get cs`) is every
/// object of it in the namespace, as kubectl's `get`.
fn targets(r: &Resources, command: &str) -> Result<Selection> {
    let sel = match (r.resources.as_slice(), &r.selector) {
        ([word], None) if !word.contains('/') => {
            Selection::Selector(crate::client::kinds::resolve(word)?, String::new())
        }
        _ => resolve::parse(&r.resources, r.selector.as_deref())?,
    };
    resolve::check_kinds(&sel, command, &view::kinds())?;
    Ok(sel)
}

pub async fn get(global: &GlobalArgs, a: &GetArgs) -> Result<()> {
    let sel = targets(&a.target, "get")?;
    let watch = a.watch || a.until_done;
    if watch && !matches!(&sel, Selection::Named(v) if v.len() == 1) {
        return Err(Error::usage(
            "--watch and --until-done follow one object: name exactly one, e.g. get cloneset/web -w",
        ));
    }
    let kube = connect(global).await?;
    let list = names(&kube, sel).await?;
    if watch {
        let (kind, name) = &list[0];
        let what = format!("{} \"{name}\"", kind.singular());
        return with_timeout(
            follow(&kube, *kind, name, a.output, a.until_done),
            a.timeout,
            &what,
        )
        .await;
    }
    for (i, (kind, name)) in list.iter().enumerate() {
        let (built, _) = once(&kube, view::subject(*kind), name).await?;
        print(&built.tree, a.output, i > 0)?;
    }
    Ok(())
}

pub async fn describe(global: &GlobalArgs, a: &DescribeArgs) -> Result<()> {
    let sel = targets(&a.target, "describe")?;
    let kube = connect(global).await?;
    for (i, (kind, name)) in names(&kube, sel).await?.iter().enumerate() {
        let (mut built, root) = once(&kube, view::subject(*kind), name).await?;
        built.tree.details.extend(conditions(&root));
        built.tree.details.push(events(&kube, &root).await?);
        print(&built.tree, a.output, i > 0)?;
    }
    Ok(())
}

fn style() -> tree::Style {
    tree::Style {
        fancy: output::colour_enabled(std::io::stdout().is_terminal()),
    }
}

/// One view; `gap`: not the first one printed (a blank line between texts, `---` between
/// YAML documents).
fn print(t: &tree::Tree, format: Option<ReportFormat>, gap: bool) -> Result<()> {
    match format {
        Some(ReportFormat::Json) => output::print_value(t, output::Format::Json),
        Some(ReportFormat::Yaml) => {
            if gap {
                output::out("---\n")?;
            }
            output::print_value(t, output::Format::Yaml)
        }
        None => {
            let text = tree::render(t, style(), Timestamp::now());
            output::out(&if gap { format!("\n{text}") } else { text })
        }
    }
}

fn not_found(kind: Kind, name: &str, kube: &Kube) -> Error {
    Error::NotFound {
        resource: kind.resource(),
        name: name.to_string(),
        namespace: kube.namespace.clone(),
        hint: Hint(None),
    }
}

/// What to read for `name`: the object first (and a Rollout's workload), then the rest.
async fn plan(kube: &Kube, s: Subject, name: &str) -> Result<(Value, Vec<Option<Source>>)> {
    let mut root = sources::fetch(kube, &[Some(Source::named(s.kind(), name))]).await?;
    let root = root
        .pop()
        .and_then(|mut v| v.pop())
        .ok_or_else(|| not_found(s.kind(), name, kube))?;
    let workload = match view::rollout_workload(&root) {
        Some((k, n)) if matches!(s, Subject::Rollout) => {
            sources::fetch(kube, &[Some(Source::named(k, &n))])
                .await?
                .pop()
                .and_then(|mut v| v.pop())
        }
        _ => None,
    };
    let plan = view::sources(s, name, &root, workload.as_ref());
    Ok((root, plan))
}

/// Read once and draw; also returns the object as read.
async fn once(kube: &Kube, s: Subject, name: &str) -> Result<(Built, Value)> {
    let (root, plan) = plan(kube, s, name).await?;
    let snap = sources::fetch(kube, &plan).await?;
    let built =
        view::build(s, &snap, Timestamp::now())?.ok_or_else(|| not_found(s.kind(), name, kube))?;
    Ok((built, root))
}

/// Watch and redraw on every change; with `until_done`, stop where the object rests.
async fn follow(
    kube: &Kube,
    kind: Kind,
    name: &str,
    format: Option<ReportFormat>,
    until_done: bool,
) -> Result<()> {
    let s = view::subject(kind);
    let (_, mut plan) = plan(kube, s, name).await?;
    let mut watched = Watched::start(kube, &plan);
    let redraw = format.is_none() && std::io::stdout().is_terminal();
    let mut last: Option<tree::Tree> = None;
    // On a terminal the ages are redrawn each second from the copy (no request).
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let snap = tokio::select! {
            s = watched.next() => match s {
                Some(s) => s?,
                None => break,
            },
            _ = tick.tick(), if redraw => {
                if let Some(t) = &last {
                    output::out("\x1b[H\x1b[2J")?;
                    print(t, format, false)?;
                }
                continue;
            }
        };
        // A selector that changed, or a Rollout's workload that appeared: watch anew.
        if let Some(root) = snap.first().and_then(|r| r.first()) {
            let workload = matches!(s, Subject::Rollout)
                .then(|| snap.get(1).and_then(|w| w.first()))
                .flatten();
            let now = view::sources(s, name, root, workload);
            if now != plan {
                plan = now;
                watched = Watched::start(kube, &plan);
                continue;
            }
        }
        let Some(built) = view::build(s, &snap, Timestamp::now())? else {
            return Err(Error::other(format!(
                "{} \"{name}\" was deleted in namespace \"{}\"",
                kind.singular(),
                kube.namespace
            )));
        };
        if last.as_ref() != Some(&built.tree) {
            if redraw {
                output::out("\x1b[H\x1b[2J")?;
            }
            print(&built.tree, format, !redraw && last.is_some())?;
            last = Some(built.tree);
        }
        if until_done && let Some(r) = built.rests {
            return r;
        }
    }
    Err(Error::other(format!(
        "the watch of {} \"{name}\" ended",
        kind.singular()
    )))
}

/// `status.conditions` as a detail.
fn conditions(root: &Value) -> Option<tree::Detail> {
    let list = root.pointer("/status/conditions")?.as_array()?;
    let items = list
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            let mut v = s("status");
            for extra in [s("reason"), s("message")] {
                if !extra.is_empty() {
                    v.push_str(&format!(" · {extra}"));
                }
            }
            tree::Detail::new(s("type"), v)
        })
        .collect();
    Some(tree::Detail::new("Conditions", "").with(items))
}

/// The object's latest events (at most 10, oldest first), as `kubectl describe` lists them.
async fn events(kube: &Kube, root: &Value) -> Result<tree::Detail> {
    let uid = root
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api: Api<Event> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let mut list = api
        .list(&ListParams::default().fields(&format!("involvedObject.uid={uid}")))
        .await
        .map_err(|e| from_kube(e, &kube.server, None))?
        .items;
    let when = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(e.event_time.as_ref().map(|t| t.0))
            .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))
    };
    list.sort_by_key(|e| when(e));
    let now = Timestamp::now();
    let latest = &list[list.len().saturating_sub(10)..];
    let s = |o: &Option<String>| o.as_deref().unwrap_or_default().trim().to_string();
    let rows: Vec<[String; 4]> = latest
        .iter()
        .map(|e| {
            let age = when(e)
                .map(|t| tree::age(&t.to_string(), now))
                .unwrap_or_default();
            [age, s(&e.type_), s(&e.reason), s(&e.message)]
        })
        .collect();
    let w = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (wa, wt, wr) = (w(0), w(1), w(2));
    let lines: Vec<String> = rows
        .iter()
        .map(|[a, t, r, m]| format!("{a:<wa$}  {t:<wt$}  {r:<wr$}  {m}"))
        .collect();
    Ok(tree::Detail::new(
        "Events",
        if lines.is_empty() {
            "<none>".into()
        } else {
            lines.join("\n")
        },
    ))
}
