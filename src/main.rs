//! The `railyard` binary: parse the command line, run it, exit with its status.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// Small blocks from mimalloc, large ones from the system (crates/alloc, decision 0029).
#[global_allocator]
static ALLOCATOR: railyard_alloc::Split = railyard_alloc::Split;

fn main() -> ExitCode {
    // One TLS crypto provider for every client, chosen before any connection (DESIGN.md §9).
    let _ = rustls::crypto::ring::default_provider().install_default();
    match railyard::cli::Cli::try_parse() {
        Ok(cli) => ExitCode::from(railyard::app::run(cli)),
        Err(error) => refused(&error),
    }
}

/// A command line clap refused (or `--help`, `--version`, which are not failures). clap parses
/// before the format is known, so `--error-format json` is looked for in the raw arguments.
fn refused(error: &clap::Error) -> ExitCode {
    let failure = !matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    );
    if failure && asks_for_json(std::env::args_os().skip(1)) {
        let _ = error.print();
        let mut rendered = error.render().to_string();
        if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            // clap prints the help alone (exit 2): say why first.
            rendered = format!("a subcommand is required\n{rendered}");
        }
        let text = railyard::app::usage_error_json(&rendered);
        let mut stdout = std::io::stdout();
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
        return ExitCode::from(railyard::app::Exit::Error.code());
    }
    error.exit()
}

/// Whether the arguments before a `--` hold `--error-format json` or `--error-format=json`.
fn asks_for_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
        .collect();
    args.iter().any(|a| a == "--error-format=json")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--error-format" && pair[1] == "json")
}
