//! `set image`'s JSON-patch operations on a pod template, shared by every kind.

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// JSON-patch ops setting images in a pod template (`prefix` = path of the template), and the
/// init containers touched. Errors name the containers there are.
pub fn image_ops(
    template: &Value,
    prefix: &str,
    pairs: &[(String, String)],
    what: &str,
) -> Result<(Vec<Value>, Vec<String>)> {
    let mut ops = Vec::new();
    let mut init = Vec::new();
    let mut names = Vec::new();
    for (list, is_init) in [("containers", false), ("initContainers", true)] {
        for (i, c) in template
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let n = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            names.push(n.clone());
            for (want, image) in pairs {
                if want == &n || want == "*" {
                    ops.push(json!({"op": "replace", "path": format!("{prefix}/spec/{list}/{i}/image"), "value": image}));
                    if is_init {
                        init.push(n.clone());
                    }
                }
            }
        }
    }
    for (want, _) in pairs {
        if want != "*" && !names.contains(want) {
            return Err(Error::usage(format!(
                "container \"{want}\" not found in {what} (its containers: {}); nothing was changed",
                names.join(", ")
            )));
        }
    }
    Ok((ops, init))
}
