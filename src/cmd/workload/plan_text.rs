//! The text of a plan preview (`--dry-run=client` of a change an embedded controller carries
//! out), the same for every kind: a summary line, then one row per action and batch.

use crate::controller::actions::Action;
use crate::output::table::KubeTable;

/// What a preview says.
pub struct Summary<'a> {
    pub resource: &'a str,
    pub name: &'a str,
    pub batches: &'a [(usize, &'a [Action])],
    pub rests_at: &'a str,
    pub replicas: i32,
    pub updated: i32,
    pub update_revision: &'a str,
    pub errors: &'a [String],
}

pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "{}/{} plan (dry run): {} batch(es), rests at {} with {} pods, {} at revision {}\n",
        s.resource,
        s.name,
        s.batches.len(),
        s.rests_at,
        s.replicas,
        s.updated,
        s.update_revision
    );
    for e in s.errors {
        out.push_str(&format!("  error: {e}\n"));
    }
    if s.batches.is_empty() {
        out.push_str("  nothing to do\n");
        return out;
    }
    let mut t = KubeTable::new(&["BATCH", "ACTION", "POD", "DETAIL"], true).gap(3);
    for (batch, actions) in s.batches {
        for a in *actions {
            let (verb, detail) = describe(a);
            t.row([
                batch.to_string(),
                verb.to_string(),
                a.pod().to_string(),
                detail,
            ]);
        }
    }
    out.push_str(&t.render());
    out
}

fn describe(a: &Action) -> (&'static str, String) {
    match a {
        Action::Create { revision, pvcs, .. } => (
            "create",
            if pvcs.is_empty() {
                format!("revision {revision}")
            } else {
                format!("revision {revision}, pvcs {}", pvcs.join(","))
            },
        ),
        Action::Delete { reason, .. } => ("delete", reason.to_string()),
        Action::UpdateInPlace { change, to, .. } => (
            "update-in-place",
            format!(
                "{} → {to}",
                change
                    .images
                    .iter()
                    .map(|(c, i)| format!("{c}={i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        Action::FinishGrace { .. } => ("update-images", "grace period over".into()),
        Action::ReownPvc { pvc, .. } => ("hand-pvc", format!("pvc {pvc} goes with the pod")),
        Action::Mark { reason, marks, .. } => (
            "mark",
            format!(
                "{reason}: {}",
                marks
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("-")))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        Action::Release { .. } => ("release", "no longer matches the selector".into()),
        Action::DeletePvc { .. } => ("delete-pvc", "no pod uses it".into()),
    }
}
