//! `scale TYPE/NAME --replicas N [--delete-pod POD …]`.

use crate::cli::GlobalArgs;
use crate::cli::scale::ScaleArgs;
use crate::cmd::common::connect;
use crate::cmd::common::{WRITTEN_FORMATS, check_output, for_each, names, selection};
use crate::cmd::drive::{self, Drive};
use crate::cmd::workload::{self, Cx, Verb};
use crate::error::{Error, Result};

pub async fn run(global: &GlobalArgs, a: &ScaleArgs) -> Result<()> {
    if a.replicas < 0 || a.replicas > i64::from(i32::MAX) {
        return Err(Error::usage(format!(
            "--replicas must be a number of pods from 0 to {}, not {}",
            i32::MAX,
            a.replicas
        )));
    }
    let sel = selection(&a.target, "scale", Verb::Scale)?;
    check_output(a.output.output, WRITTEN_FORMATS)?;
    let kube = connect(global).await?;
    let targets = names(&kube, sel).await?;
    if !a.delete_pod.is_empty() && targets.len() != 1 {
        return Err(Error::usage(
            "--delete-pod needs exactly one workload to scale",
        ));
    }
    if a.replicas == 0 && a.write.dry_run == crate::cli::DryRun::None {
        let what: Vec<String> = targets
            .iter()
            .map(|(k, n)| format!("{}/{n}", k.singular()))
            .collect();
        crate::output::confirm(
            global.yes,
            &format!(
                "Scale {} to 0 replicas (every pod deleted)?",
                what.join(", ")
            ),
        )?;
    }
    let cx = Cx {
        kube: &kube,
        write: &a.write,
        output: a.output.output,
    };
    let replicas = a.replicas as i32;
    for_each(targets, |kind, name| {
        let cx = &cx;
        async move {
            let w = workload::of(kind);
            let written = w.scale(cx, &name, replicas, &a.delete_pod).await?;
            drive::finish(cx, w, &name, written, Some(Drive::from(&a.drive))).await
        }
    })
    .await
}
