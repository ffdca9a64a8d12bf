//! What each command does; thin, calling into `client`, `output` and (later) `controller`.

pub mod common;
pub mod complete;
pub mod completion;
pub mod controller;
pub mod crds;
pub mod drive;
pub mod get;
pub mod rollout;
pub mod rollout_cr;
pub mod scale;
pub mod set;
pub mod version;
pub mod workload;

use crate::cli::{Cli, Command};
use crate::error::Result;

pub async fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Version(a) => version::run(&cli.global, a).await,
        Command::Rollout(c) => rollout::run(&cli.global, c).await,
        Command::Crds(c) => crds::run(&cli.global, c).await,
        Command::Get(a) => get::get(&cli.global, a).await,
        Command::Describe(a) => get::describe(&cli.global, a).await,
        Command::Scale(a) => scale::run(&cli.global, a).await,
        Command::Set(c) => set::run(&cli.global, c).await,
        Command::Controller(c) => controller::run(&cli.global, c).await,
        Command::Completion(a) => completion::run(a),
    }
}
