//! Label selectors: matching and the string form Kubernetes renders (`app=web,tier in (a,b)`),
//! which CloneSet writes to `status.labelSelector` for the scale subresource.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

struct Req {
    key: String,
    op: String,
    values: Vec<String>,
}

fn requirements(sel: &LabelSelector) -> Result<Vec<Req>, String> {
    let mut reqs = Vec::new();
    // matchLabels are Equals requirements (`app=web`), matchExpressions' In stays In
    // (`tier in (a)`) even with one value: LabelSelectorAsSelector then Requirement.String.
    for (k, v) in sel.match_labels.iter().flatten() {
        reqs.push(Req {
            key: k.clone(),
            op: "=".into(),
            values: vec![v.clone()],
        });
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(format!(
                    "operator {} on key {:?} needs values",
                    e.operator, e.key
                ));
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(format!(
                    "operator {} on key {:?} takes no values",
                    e.operator, e.key
                ));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => return Err(format!("unknown selector operator {other:?}")),
        }
        let mut values = values;
        values.sort();
        reqs.push(Req {
            key: e.key.clone(),
            op: e.operator.clone(),
            values,
        });
    }
    reqs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(reqs)
}

/// Does `labels` satisfy the selector? An empty selector matches everything.
pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> Result<bool, String> {
    Ok(requirements(sel)?.iter().all(|r| {
        let v = labels.get(&r.key);
        match r.op.as_str() {
            "=" | "In" => v.is_some_and(|v| r.values.contains(v)),
            "NotIn" => v.is_none_or(|v| !r.values.contains(v)),
            "Exists" => v.is_some(),
            _ => v.is_none(),
        }
    }))
}

/// The selector as Kubernetes prints it.
pub fn render(sel: &LabelSelector) -> Result<String, String> {
    let parts: Vec<String> = requirements(sel)?
        .into_iter()
        .map(|r| match r.op.as_str() {
            "=" => format!("{}={}", r.key, r.values[0]),
            "In" => format!("{} in ({})", r.key, r.values.join(",")),
            "NotIn" => format!("{} notin ({})", r.key, r.values.join(",")),
            "Exists" => r.key,
            _ => format!("!{}", r.key),
        })
        .collect();
    Ok(parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn renders_and_matches() {
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["b".into(), "a".into()]),
            }]),
        };
        assert_eq!(render(&sel).unwrap(), "app=web,tier in (a,b)");
        let one = LabelSelector {
            match_labels: Some([("z".to_string(), "1".to_string())].into()),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into()]),
                },
                LabelSelectorRequirement {
                    key: "gone".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        // Kubernetes' own rendering of this selector (requirements sorted by key).
        assert_eq!(render(&one).unwrap(), "!gone,tier in (a),z=1");
        let l = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(matches(&sel, &l(&[("app", "web"), ("tier", "a")])).unwrap());
        assert!(!matches(&sel, &l(&[("app", "web")])).unwrap());
    }
}
