//! The `railyard` binary: parse the command line, run it, exit with its status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    railyard::app::run(railyard::cli::Cli::parse())
}
