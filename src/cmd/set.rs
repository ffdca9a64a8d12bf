//! `set image TYPE/NAME CONTAINER=IMAGE … [--inplace]`.

use crate::cli::GlobalArgs;
use crate::cli::set::{ImageArgs, SetCommand};
use crate::client::kinds::{self, Kind};
use crate::cmd::common::connect;
use crate::cmd::common::{WRITTEN_FORMATS, check_output};
use crate::cmd::drive::{self, Drive};
use crate::cmd::workload::{self, Cx, Verb};
use crate::error::{Error, Result};

pub async fn run(global: &GlobalArgs, cmd: &SetCommand) -> Result<()> {
    match cmd {
        SetCommand::Image(a) => image(global, a).await,
    }
}

/// `CONTAINER=IMAGE` pairs.
type Pairs = Vec<(String, String)>;

/// `(kind, name, [(container, image)])` from the arguments.
fn parse(args: &[String]) -> Result<(Kind, String, Pairs)> {
    let (res, pairs): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| !a.contains('='));
    let (kind, name) = match res.as_slice() {
        [one] if one.contains('/') => {
            let (t, n) = one.split_once('/').unwrap_or_default();
            (kinds::resolve(t)?, n.to_string())
        }
        [t, n] => (kinds::resolve(t)?, n.to_string()),
        _ => {
            return Err(Error::usage(
                "give one workload (TYPE/NAME or TYPE NAME) and at least one CONTAINER=IMAGE, e.g. `set image cloneset/web nginx=nginx:1.27`",
            ));
        }
    };
    if pairs.is_empty() {
        return Err(Error::usage("at least one CONTAINER=IMAGE is required"));
    }
    let mut out = Vec::new();
    for p in pairs {
        let (c, i) = p.split_once('=').unwrap_or_default();
        if c.is_empty() || i.is_empty() {
            return Err(Error::usage(format!("{p:?} is not CONTAINER=IMAGE")));
        }
        out.push((c.to_string(), i.to_string()));
    }
    let supported = workload::supporting(Verb::SetImage);
    if !supported.contains(&kind) {
        return Err(Error::usage(format!(
            "set image supports {}, not {}",
            supported
                .iter()
                .map(|k| k.resource())
                .collect::<Vec<_>>()
                .join(", "),
            kind.resource()
        )));
    }
    Ok((kind, name, out))
}

async fn image(global: &GlobalArgs, a: &ImageArgs) -> Result<()> {
    let (kind, name, pairs) = parse(&a.args)?;
    check_output(a.output.output, WRITTEN_FORMATS)?;
    let kube = connect(global).await?;
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    let w = workload::of(kind);
    let written = w.set_image(&cx, &name, &pairs, a.inplace).await?;
    drive::finish(&cx, w, &name, written, Some(Drive::from(&a.drive))).await
}
