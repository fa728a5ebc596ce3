//! The command line as the user wrote it (clap derive); no IO and no defaults beyond clap's.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Lay the tracks for a self-hosted Gitpod: one site file in, a reviewable GitOps repository out.
#[derive(Debug, Parser)]
#[command(name = "railyard", version, about, long_about = None)]
pub struct Cli {
    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// How to print diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented site.yaml and .sops.yaml into DIR; never overwrites.
    Init {
        /// Directory to write into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The site's name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// age recipient for `.sops.yaml` creation rules (repeatable).
        #[arg(long = "age-recipient")]
        age_recipients: Vec<String>,
    },
    /// Check a site file and report every problem; exit 1 if any.
    Validate {
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
    },
    /// Render a site into the output directory atomically.
    Render {
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        /// Output directory (a git work tree, typically).
        #[arg(long, default_value = "rendered")]
        out: PathBuf,
        /// Write nothing; exit 1 if the output differs from a fresh render.
        #[arg(long)]
        check: bool,
    },
    /// Print the site file's JSON Schema.
    Schema,
}
