//! The `railyard` binary: parse the command line, run it, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One TLS crypto provider for every client, chosen before any connection (DESIGN.md §9).
    let _ = rustls::crypto::ring::default_provider().install_default();
    ExitCode::from(railyard::app::run(railyard::cli::Cli::parse()))
}
