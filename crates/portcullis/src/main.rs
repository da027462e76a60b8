//! The `portcullis` binary: command-line parsing, wiring of the library crates, and process
//! concerns (signals, logging, file watching). All behaviour lives in the libraries.

#![forbid(unsafe_code)]

mod certs;
mod check;
mod cli;
mod crs_install;
mod crs_verify;
mod demo;
mod serve;
mod settings;
mod waf_cmd;
mod waf_flags;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, CrsCommand, WafCommand};

/// mimalloc instead of glibc malloc: the proxy path makes ~40 short-lived allocations per
/// request (header maps, hyper read buffers, the access event) and the WAF many more.
/// Measured with callgrind (docs/performance.md): proxied GET 52.5k -> 48.1k instructions
/// per request (-8 %), POST 1 KiB -8 %; CRS evaluation of a benign GET -8 %, of an SQLi
/// GET -10 %.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_diagnostics();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("portcullis: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Check(args) => check::run(&args),
            Command::Certs(args) => certs::run(&args),
            Command::Crs(CrsCommand::Install(args)) => crs_install::run(&args).await,
            Command::Serve(args) => serve::run(&args).await,
            Command::DemoBackend(args) => demo::run(args.listen, args.name)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Waf(WafCommand::Eval(args)) => waf_cmd::eval(&args),
            Command::Waf(WafCommand::Regression(args)) => waf_cmd::regression(&args),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("portcullis: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Diagnostics go to stderr (stdout carries the access log). `RUST_LOG` sets the level.
fn init_diagnostics() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
