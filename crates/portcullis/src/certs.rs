//! `portcullis certs --state-dir DIR`: the ACME certificates kept in the state folder.

use std::process::ExitCode;

use crate::cli::CertsArgs;

/// Prints one line per certificate; exit 1 when any has a last error.
pub(crate) fn run(args: &CertsArgs) -> anyhow::Result<ExitCode> {
    let list = acme::list(&args.state_dir);
    if list.is_empty() {
        println!("no ACME certificates in {}", args.state_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", acme::render_list(&list));
    let failing = list.iter().any(|c| c.last_error.is_some());
    Ok(if failing {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
