//! Resource arguments as kubectl takes them: `TYPE/NAME …` (types may differ), `TYPE NAME …`,
//! or `TYPE` with `-l SELECTOR`.

use super::kinds::{self, Kind};
use crate::error::{Error, Result};

/// What the arguments asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Named objects, in the order given (duplicates removed).
    Named(Vec<(Kind, String)>),
    /// Every object of a kind matching a label selector.
    Selector(Kind, String),
}

pub fn parse(args: &[String], selector: Option<&str>) -> Result<Selection> {
    let Some(first) = args.first() else {
        return Err(Error::usage(
            "you must specify the type of resource and a name, e.g. deployment/web or deployment web",
        ));
    };
    if first.contains('/') {
        if selector.is_some() {
            return Err(Error::usage(
                "a label selector (-l) cannot be combined with TYPE/NAME arguments",
            ));
        }
        let mut out: Vec<(Kind, String)> = Vec::new();
        for a in args {
            let (t, n) = a.split_once('/').ok_or_else(|| {
                Error::usage(format!(
                    "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got \"{a}\" after \"{first}\")"
                ))
            })?;
            if n.is_empty() || n.contains('/') {
                return Err(Error::usage(format!(
                    "\"{a}\" is not TYPE/NAME: the name must be non-empty and contain no '/'"
                )));
            }
            let k = kinds::resolve(t)?;
            if !out.iter().any(|(ok, on)| *ok == k && on == n) {
                out.push((k, n.to_string()));
            }
        }
        return Ok(Selection::Named(out));
    }
    let kind = kinds::resolve(first)?;
    let names = &args[1..];
    match (names.is_empty(), selector) {
        (true, Some(sel)) => Ok(Selection::Selector(kind, sel.to_string())),
        (true, None) => Err(Error::usage(format!(
            "name of the {} is required: give `{} NAME` or `{}/NAME`, or select with -l",
            kind.singular(),
            first,
            first
        ))),
        (false, Some(_)) => Err(Error::usage(
            "name cannot be provided when a selector (-l) is specified",
        )),
        (false, None) => {
            let mut out: Vec<(Kind, String)> = Vec::new();
            for n in names {
                if n.contains('/') {
                    return Err(Error::usage(format!(
                        "\"{n}\": mix of TYPE NAME and TYPE/NAME arguments; use one form"
                    )));
                }
                if !out.iter().any(|(_, on)| on == n) {
                    out.push((kind, n.clone()));
                }
            }
            Ok(Selection::Named(out))
        }
    }
}

/// Checks that every kind in the selection is one the command supports.
pub fn check_kinds(sel: &Selection, command: &str, supported: &[Kind]) -> Result<()> {
    let kinds: Vec<Kind> = match sel {
        Selection::Named(v) => v.iter().map(|(k, _)| *k).collect(),
        Selection::Selector(k, _) => vec![*k],
    };
    for k in kinds {
        if !supported.contains(&k) {
            let list: Vec<String> = supported.iter().map(|k| k.resource()).collect();
            return Err(Error::usage(format!(
                "{command} does not support {} yet; supported: {}",
                k.resource(),
                list.join(", ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::kinds::{CLONESET, DEPLOYMENT};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn forms() {
        assert_eq!(
            parse(&s(&["deployment/a", "deploy/b", "deployment/a"]), None).unwrap(),
            Selection::Named(vec![(DEPLOYMENT, "a".into()), (DEPLOYMENT, "b".into())])
        );
        assert_eq!(
            parse(&s(&["deploy", "a", "b"]), None).unwrap(),
            Selection::Named(vec![(DEPLOYMENT, "a".into()), (DEPLOYMENT, "b".into())])
        );
        assert_eq!(
            parse(&s(&["cs"]), Some("app=web")).unwrap(),
            Selection::Selector(CLONESET, "app=web".into())
        );
        assert_eq!(
            parse(&s(&["deployment/a", "cloneset/b"]), None).unwrap(),
            Selection::Named(vec![(DEPLOYMENT, "a".into()), (CLONESET, "b".into())])
        );
    }

    #[test]
    fn bad_forms_are_usage_errors() {
        for (args, sel) in [
            (s(&[]), None),
            (s(&["deploy"]), None),
            (s(&["deploy", "a"]), Some("x=y")),
            (s(&["deploy/a"]), Some("x=y")),
            (s(&["deploy/a", "b"]), None),
            (s(&["deploy/"]), None),
            (s(&["deploy", "a/b"]), None),
            (s(&["nope/a"]), None),
        ] {
            let e = parse(&args, sel).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{args:?}: {e}");
        }
    }

    #[test]
    fn unsupported_kind_names_the_supported_ones() {
        let sel = parse(&s(&["cloneset/a"]), None).unwrap();
        let e = check_kinds(&sel, "rollout pause", &[DEPLOYMENT])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rollout pause does not support clonesets.apps.kruise.io"),
            "{e}"
        );
        assert!(e.contains("deployments.apps"), "{e}");
    }
}
