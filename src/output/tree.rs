//! The tree view of `get` and `describe`: a header of details, then a table of nodes (`NAME
//! KIND STATUS AGE INFO`) drawn as a tree. The model is what `-o json|yaml` prints; the text is
//! drawn from it, with icons and colour on a terminal and plain text in a pipe.

use colored::Colorize;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde::ser::SerializeMap;

/// How a node stands, for its icon and colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Health {
    Healthy,
    Progressing,
    Paused,
    Degraded,
    /// Something a person must look at (an image that cannot be pulled, a crash loop).
    Warning,
    /// Nothing runs (a step not reached yet, a revision with no pods).
    Idle,
    Unknown,
}

impl Health {
    fn icon(self) -> &'static str {
        match self {
            Health::Healthy => "✔",
            Health::Progressing => "◌",
            Health::Paused => "॥",
            Health::Degraded => "✖",
            Health::Warning => "⚠",
            Health::Idle => "•",
            Health::Unknown => "?",
        }
    }

    fn paint(self, s: &str) -> String {
        match self {
            Health::Healthy => s.green().to_string(),
            Health::Progressing => s.bright_blue().to_string(),
            Health::Paused | Health::Unknown => s.yellow().to_string(),
            Health::Degraded | Health::Warning => s.red().to_string(),
            Health::Idle => s.dimmed().to_string(),
        }
    }
}

/// A node's status: its health and the word shown (`Running`, `StepPaused`, `Healthy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub health: Health,
    pub text: String,
}

impl Status {
    pub fn new(health: Health, text: impl Into<String>) -> Self {
        Status {
            health,
            text: text.into(),
        }
    }
}

/// Facts about a node, in the order shown. Keys in [`BARE`] are shown as their value alone
/// (`canary`); the others as `key:value`. JSON gets an object in the same order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info(pub Vec<(String, String)>);

/// Keys whose value says it all.
const BARE: &[&str] = &["role"];

impl Info {
    pub fn add(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        let v = value.into();
        if !v.is_empty() {
            self.0.push((key.to_string(), v));
        }
        self
    }

    fn text(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| {
                if BARE.contains(&k.as_str()) {
                    v.clone()
                } else {
                    format!("{k}:{v}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Serialize for Info {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// `metadata.creationTimestamp` (the text shows the age).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The step a release stands at.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub current: bool,
    #[serde(skip_serializing_if = "Info::is_empty")]
    pub info: Info,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Info {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Node {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Node {
            kind: kind.into(),
            name: name.into(),
            status: None,
            created: None,
            current: false,
            info: Info::default(),
            children: Vec::new(),
        }
    }
}

/// A line of the header: `Label: value`, with nested lines under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    pub label: String,
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Detail>,
}

impl Detail {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Detail {
            label: label.into(),
            value: value.into(),
            items: Vec::new(),
        }
    }

    pub fn with(mut self, items: Vec<Detail>) -> Self {
        self.items = items;
        self
    }
}

/// The whole view of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tree {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub status: Status,
    pub message: String,
    pub details: Vec<Detail>,
    pub tree: Node,
}

/// Icons and colour (a terminal), or plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub fancy: bool,
}

/// kubectl's age: `45s`, `5m30s`, `95m`, `5h`, `3d`.
pub fn age(created: &str, now: Timestamp) -> String {
    let Ok(t) = created.parse::<Timestamp>() else {
        return "<unknown>".into();
    };
    let s = now.as_second().saturating_sub(t.as_second()).max(0);
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => match s % 60 {
            0 => format!("{}m", s / 60),
            r => format!("{}m{r}s", s / 60),
        },
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => match (s / 60) % 60 {
            0 => format!("{}h", s / 3600),
            m => format!("{}h{m}m", s / 3600),
        },
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The header, a blank line, then the node table.
pub fn render(t: &Tree, style: Style, now: Timestamp) -> String {
    let mut out = String::new();
    let mut header = vec![
        Detail::new("Name", &t.name),
        Detail::new("Namespace", &t.namespace),
        Detail::new("Status", status_text(&t.status, style)),
    ];
    if !t.message.is_empty() {
        header.push(Detail::new("Message", &t.message));
    }
    header.extend(t.details.iter().cloned());
    let width = label_width(&header, 0).max(MIN_LABEL_WIDTH);
    details(&mut out, &header, 0, width);
    out.push('\n');
    table(&mut out, &t.tree, style, now);
    out
}

fn status_text(s: &Status, style: Style) -> String {
    if style.fancy {
        s.health.paint(&format!("{} {}", s.health.icon(), s.text))
    } else {
        s.text.clone()
    }
}

const MIN_LABEL_WIDTH: usize = 16;

/// The widest `label:` with its indent, and two spaces.
fn label_width(items: &[Detail], depth: usize) -> usize {
    items
        .iter()
        .map(|d| (2 * depth + d.label.chars().count() + 3).max(label_width(&d.items, depth + 1)))
        .max()
        .unwrap_or(0)
}

fn details(out: &mut String, items: &[Detail], depth: usize, width: usize) {
    for d in items {
        let indent = "  ".repeat(depth);
        let label = format!("{indent}{}:", d.label);
        let mut lines = d.value.lines();
        match lines.next() {
            Some(first) => {
                let pad = width.saturating_sub(label.chars().count()).max(1);
                out.push_str(&format!("{label}{}{first}\n", " ".repeat(pad)));
                let width = label.chars().count() + pad;
                for more in lines {
                    out.push_str(&format!("{}{more}\n", " ".repeat(width)));
                }
            }
            None => out.push_str(&format!("{label}\n")),
        }
        details(out, &d.items, depth + 1, width);
    }
}

/// One row of the table, before alignment.
struct Row {
    name: String,
    kind: String,
    status: Option<Status>,
    age: String,
    info: String,
}

fn rows(n: &Node, prefix: &str, branch: &str, now: Timestamp, out: &mut Vec<Row>) {
    let marker = if n.current { "▸ " } else { "" };
    out.push(Row {
        name: format!("{prefix}{branch}{marker}{}", n.name),
        kind: n.kind.clone(),
        status: n.status.clone(),
        age: n
            .created
            .as_deref()
            .map(|c| age(c, now))
            .unwrap_or_default(),
        info: n.info.text(),
    });
    let below = match branch {
        "├── " => format!("{prefix}│   "),
        "└── " => format!("{prefix}    "),
        _ => prefix.to_string(),
    };
    for (i, c) in n.children.iter().enumerate() {
        let b = if i + 1 == n.children.len() {
            "└── "
        } else {
            "├── "
        };
        rows(c, &below, b, now, out);
    }
}

fn table(out: &mut String, root: &Node, style: Style, now: Timestamp) {
    let mut all = Vec::new();
    rows(root, "", "", now, &mut all);
    let width = |f: &dyn Fn(&Row) -> usize, head: &str| {
        all.iter().map(f).max().unwrap_or(0).max(head.len())
    };
    let status_len = |s: &Option<Status>| {
        s.as_ref().map_or(0, |s| {
            s.text.chars().count() + if style.fancy { 2 } else { 0 }
        })
    };
    let wn = width(&|r| r.name.chars().count(), "NAME");
    let wk = width(&|r| r.kind.len(), "KIND");
    let ws = width(&|r| status_len(&r.status), "STATUS");
    let wa = width(&|r| r.age.len(), "AGE");
    let line = |name: &str, kind: &str, status: String, slen: usize, age: &str, info: &str| {
        let l = format!(
            "{name}{}  {kind:<wk$}  {status}{}  {age:<wa$}  {info}",
            " ".repeat(wn - name.chars().count()),
            " ".repeat(ws - slen),
        );
        format!("{}\n", l.trim_end())
    };
    out.push_str(&line("NAME", "KIND", "STATUS".into(), 6, "AGE", "INFO"));
    for r in &all {
        let s = r
            .status
            .as_ref()
            .map(|s| status_text(s, style))
            .unwrap_or_default();
        out.push_str(&line(
            &r.name,
            &r.kind,
            s,
            status_len(&r.status),
            &r.age,
            &r.info,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        for (created, want) in [
            ("2026-01-01T11:59:15Z", "45s"),
            ("2026-01-01T11:58:01Z", "119s"),
            ("2026-01-01T11:58:00Z", "2m"),
            ("2026-01-01T11:54:30Z", "5m30s"),
            ("2026-01-01T11:55:00Z", "5m"),
            ("2026-01-01T10:25:00Z", "95m"),
            ("2026-01-01T07:00:00Z", "5h"),
            ("2026-01-01T06:30:00Z", "5h30m"),
            ("2025-12-31T00:00:00Z", "36h"),
            ("2025-12-29T12:00:00Z", "3d"),
            ("2026-01-01T12:00:05Z", "0s"),
            ("not a time", "<unknown>"),
        ] {
            assert_eq!(age(created, now()), want, "{created}");
        }
    }

    fn sample() -> Tree {
        let mut pod = Node::new("Pod", "web-abc");
        pod.status = Some(Status::new(Health::Healthy, "Running"));
        pod.created = Some("2026-01-01T11:59:00Z".into());
        pod.info
            .add("ready", "1/1")
            .add("role", "canary")
            .add("node", "");
        let mut rev = Node::new("ControllerRevision", "web-7c9d");
        rev.children.push(pod);
        let mut root = Node::new("CloneSet", "web");
        root.status = Some(Status::new(Health::Paused, "Paused"));
        root.children.push(rev);
        root.children.push(Node::new("ControllerRevision", "web-1"));
        Tree {
            kind: "CloneSet".into(),
            name: "web".into(),
            namespace: "ns".into(),
            status: Status::new(Health::Paused, "Paused"),
            message: String::new(),
            details: vec![Detail::new("Images", "a (current)\nb (update)")],
            tree: root,
        }
    }

    #[test]
    fn plain_text_has_no_icons_or_escapes_and_aligns_columns() {
        let s = render(&sample(), Style { fancy: false }, now());
        assert!(!s.contains('\u{1b}') && !s.contains('✔'), "{s}");
        let want = "\
Name:           web
Namespace:      ns
Status:         Paused
Images:         a (current)
                b (update)

NAME             KIND                STATUS   AGE  INFO
web              CloneSet            Paused
├── web-7c9d     ControllerRevision
│   └── web-abc  Pod                 Running  60s  ready:1/1 canary
└── web-1        ControllerRevision
";
        assert_eq!(s, want);
    }

    #[test]
    fn json_keeps_info_in_order_and_drops_empty_fields() {
        let v = serde_json::to_value(sample()).unwrap();
        let pod = &v["tree"]["children"][0]["children"][0];
        assert_eq!(
            pod["info"],
            serde_json::json!({"ready": "1/1", "role": "canary"})
        );
        assert!(v["tree"]["children"][1].get("children").is_none());
        assert!(v["tree"].get("current").is_none());
        let mut info = Info::default();
        info.add("role", "stable").add("batch", "1");
        let text = serde_json::to_string(&info).unwrap();
        assert_eq!(text, r#"{"role":"stable","batch":"1"}"#);
    }
}
