//! `portcullis check`: validate manifests without serving.

use std::process::ExitCode;

use crate::cli::CheckArgs;
use crate::settings::Settings;

/// Prints `file:line: reason` for each problem; exit status 1 when there is any.
pub(crate) fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::for_check(&args.manifests)?;
    let problems = config::check(&settings.manifests, &settings.load);
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        eprintln!("{}: ok", settings.manifests.display());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "{}: {} problem(s)",
            settings.manifests.display(),
            problems.len()
        );
        Ok(ExitCode::FAILURE)
    }
}
