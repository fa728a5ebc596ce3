//! Wires the command line to the core and the edges; every command ends in an [`Exit`]:
//! 0 success, 1 findings (invalid site, differences), 2 errors (usage, IO, internal).

mod cloud;
/// The cluster half of `bootstrap` alone, for tests against a real API server.
pub mod cluster_half;
mod commit;
mod current;
mod diff;
mod failure;
mod fleet;
mod flux;
mod hand_edits;
mod init;
mod lines;
mod machine_data;
mod manual;
mod migrate;
mod runtime;
mod secrets;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{Cli, Color, Command, ErrorFormat, OverlayCommand};
use crate::core::compile::{self, Output};
use crate::core::{diagnostic, schema};
use crate::edge::load::{self, Loaded};
use crate::edge::{report, write};

/// How a command ended: the exit statuses of DESIGN.md §7. Ordered by severity, so the worst
/// of several outcomes is their `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: done, nothing to report.
    Success,
    /// 1: the command ran and found something: an invalid site, differences, a refusal.
    Findings,
    /// 2: the command could not do its work: usage, IO, internal errors.
    Error,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Findings => 1,
            Exit::Error => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Runs one command; errors are printed here, so `main` only returns the status.
pub fn run(cli: Cli) -> Exit {
    let json = cli.error_format == ErrorFormat::Json;
    lines::set_json(json);
    if json && !prints_its_product(&cli.command) {
        // The array is printed even when nothing joins it: `[]` is the document of a success.
        failure::hold(Vec::new());
    }
    let result = dispatch(&cli);
    let error = match &result {
        Err(error) if is_broken_pipe(error) => return Exit::Success,
        Err(error) => {
            eprintln!("error: {error:#}");
            Some(error)
        }
        Ok(_) => None,
    };
    if cli.error_format == ErrorFormat::Json {
        // One array on stdout, whatever happened: the error joins the findings before it.
        if let Some(text) = failure::finish(error) {
            let mut stdout = std::io::stdout();
            if stdout.write_all(text.as_bytes()).is_err() {
                return Exit::Error;
            }
            let _ = stdout.flush();
        }
    }
    result.unwrap_or(Exit::Error)
}

pub use failure::usage_error as usage_error_json;

/// Whether the command's stdout is its product (a schema, a diff, user-data, plaintext, a
/// manual page), printed as it is under `--error-format json` too; the array then appears
/// only when the command fails, alone. Every other command prints the array in every case.
fn prints_its_product(command: &Command) -> bool {
    use crate::cli::SecretsCommand;
    match command {
        Command::Schema
        | Command::Diff { .. }
        | Command::Overlay(_)
        | Command::Completions { .. }
        | Command::MachineData { .. }
        | Command::Man { out: None } => true,
        Command::Secrets(
            SecretsCommand::Encrypt { in_place, .. } | SecretsCommand::Decrypt { in_place, .. },
        ) => !in_place,
        _ => false,
    }
}

fn dispatch(cli: &Cli) -> Result<Exit> {
    match &cli.command {
        Command::Schema => {
            std::io::stdout().write_all(schema::site_schema_text().as_bytes())?;
            Ok(Exit::Success)
        }
        Command::Init { .. } => init::run(&init::Flags::of(&cli.command)),
        Command::Validate { site } => validate(cli, site),
        Command::Migrate { sites, check } => migrate::run(cli, sites, *check),
        Command::Render {
            site,
            all,
            out,
            check,
            force,
        } => render(cli, site.as_deref(), all.as_deref(), out, (*check, *force)),
        Command::Diff {
            site,
            all,
            out,
            git,
            repo,
            format,
        } => diff::run(
            cli,
            &diff::Request {
                site: site.as_deref(),
                all: all.as_deref(),
                out,
                git: git.as_deref(),
                repo,
                format: *format,
            },
        ),
        Command::Commit {
            site,
            repo,
            branch,
            message,
            author,
            force,
        } => commit::run(
            cli,
            &commit::Request {
                site,
                repo,
                branch: branch.as_deref(),
                message: message.as_deref(),
                author: author.as_deref(),
                hand_edits: write_mode(*force),
            },
        ),
        Command::Overlay(OverlayCommand::Build { dir, root }) => {
            overlay_build(cli, dir, root.as_deref())
        }
        Command::Completions { shell } => manual::completions(*shell),
        Command::Man { out } => manual::man(out.as_deref()),
        Command::Secrets(command) => secrets::run(cli, command),
        Command::MachineData {
            site,
            machine,
            addresses,
        } => machine_data::run(cli, site, machine, addresses),
        cloud_command => dispatch_cloud(cli, cloud_command),
    }
}

/// The commands that talk to a cloud API or a cluster.
fn dispatch_cloud(cli: &Cli, command: &Command) -> Result<Exit> {
    match command {
        Command::Plan { site, cloud } => cloud::plan(cli, site, cloud),
        Command::Bootstrap {
            site,
            cloud,
            kubeconfig,
            ssh_key,
            wait,
            age_key,
            git_known_hosts,
            flux_wait,
        } => cloud::bootstrap(
            cli,
            site,
            cloud,
            &cloud::Cluster {
                kubeconfig: kubeconfig.clone(),
                ssh_key: ssh_key.clone(),
                wait: Duration::from_secs(*wait),
                flux: flux::Setup {
                    age_key: age_key.clone(),
                    git_known_hosts: git_known_hosts.clone(),
                    wait: Duration::from_secs(*flux_wait),
                },
            },
        ),
        Command::Status {
            site,
            kubeconfig,
            repo,
        } => cloud::status(cli, site, kubeconfig.as_deref(), repo.as_deref()),
        Command::Destroy { site, yes, cloud } => cloud::destroy(cli, site, cloud, *yes),
        other => unreachable!("`{other:?}` is not a cloud command; `dispatch` runs it"),
    }
}

/// Checks a site as `render` would, generating only what its findings and the notes on hand
/// provisioning come from (`compile::validate`).
fn validate(cli: &Cli, site: &Path) -> Result<Exit> {
    let loaded = load::load(site)?;
    let validated = if loaded.problems.is_empty() {
        compile::validate(&loaded.inputs)
    } else {
        compile::Validated {
            diagnostics: loaded.problems.clone(),
            hosts: None,
        }
    };
    let output = Output {
        tree: None,
        diagnostics: validated.diagnostics,
    };
    let exit = print_diagnostics(cli, &loaded, &output);
    if exit == Exit::Success {
        status(&format!(
            "{}: valid",
            loaded.display_name(&loaded.inputs.site.name)
        ));
        if let Some(hosts) = &validated.hosts {
            for line in machine_data::needs(&hosts.site, &hosts.machines, &hosts.files) {
                status(&line);
            }
        }
    }
    Ok(exit)
}

/// `render`'s flags: `(--check, --force)`.
type RenderFlags = (bool, bool);

fn render(
    cli: &Cli,
    site: Option<&Path>,
    all: Option<&Path>,
    out: &Path,
    (check, force): RenderFlags,
) -> Result<Exit> {
    match all {
        // clap refuses a site together with `--all`.
        Some(dir) => {
            let mode = if check {
                fleet::Mode::Check
            } else {
                fleet::Mode::Render(write_mode(force))
            };
            fleet::render_all(cli, dir, out, mode)
        }
        None if check => check_one(cli, &site_or_default(site), out),
        None => render_one(cli, &site_or_default(site), out, force),
    }
}

/// What `--force` asks of the writer.
fn write_mode(force: bool) -> write::HandEdits {
    if force {
        write::HandEdits::Overwrite
    } else {
        write::HandEdits::Refuse
    }
}

fn site_or_default(site: Option<&Path>) -> PathBuf {
    site.map_or_else(|| PathBuf::from("site.yaml"), Path::to_path_buf)
}

fn check_one(cli: &Cli, site: &Path, out: &Path) -> Result<Exit> {
    let (loaded, output, current) = current::compile(cli, site, out)?;
    let exit = print_diagnostics(cli, &loaded, &output);
    if let Some(current) = current {
        status(&format!(
            "{}: site `{}` is up to date",
            out.display(),
            current.site
        ));
        return Ok(Exit::Success);
    }
    let Some(tree) = output.tree else {
        return Ok(exit);
    };
    let differences = write::check(out, &tree)?;
    if differences.is_empty() {
        status(&format!(
            "{}: site `{}` is up to date",
            out.display(),
            tree.site
        ));
        return Ok(Exit::Success);
    }
    let hint = format!(
        "run `railyard render {} --out {}` and commit the result",
        site.display(),
        out.display()
    );
    if cli.error_format == ErrorFormat::Json {
        failure::hold(report::json_differences(out, &differences, &hint));
        return Ok(Exit::Findings);
    }
    println!(
        "{}: differs from a fresh render of site `{}`:",
        out.display(),
        tree.site
    );
    for difference in &differences {
        println!("  {difference}");
    }
    println!("{hint}");
    Ok(Exit::Findings)
}

/// Renders one site; files edited by hand are findings printed with the site's diagnostics (one
/// JSON array on stdout), and nothing is written.
fn render_one(cli: &Cli, site: &Path, out: &Path, force: bool) -> Result<Exit> {
    let (loaded, output, current) = if force {
        current::compile_always(cli, site)?
    } else {
        current::compile(cli, site, out)?
    };
    if let Some(current) = current {
        hand_edits::print_with_site(cli, &loaded, &output, &[]);
        status(&format!(
            "rendered site `{}` into {}: 0 written, 0 removed, {} unchanged (inputs match the lock: nothing generated)",
            current.site,
            out.display(),
            current.files
        ));
        return Ok(Exit::Success);
    }
    let Some(tree) = &output.tree else {
        return Ok(print_diagnostics(cli, &loaded, &output));
    };
    let written = write::render(out, tree, write_mode(force));
    let edited = match &written {
        Err(write::WriteError::EditedByHand { paths }) => {
            let discard = format!(
                "railyard render {} --out {} --force",
                site.display(),
                out.display()
            );
            hand_edits::findings(out, paths, &discard)
        }
        _ => Vec::new(),
    };
    hand_edits::print_with_site(cli, &loaded, &output, &edited);
    if !edited.is_empty() {
        eprintln!(
            "refusing to render site `{}` into {}: {} file(s) edited by hand; nothing written",
            tree.site,
            out.display(),
            edited.len()
        );
        return Ok(Exit::Findings);
    }
    let summary = written?;
    let line = format!(
        "rendered site `{}` into {}: {} written, {} removed, {} unchanged",
        tree.site,
        out.display(),
        summary.written.len(),
        summary.removed.len(),
        summary.unchanged
    );
    status(&line);
    Ok(Exit::Success)
}

/// Where the site's rendered tree sits in its repository: its `spec.git.path` (`` for the top).
fn site_root(loaded: &Loaded) -> String {
    let file = &loaded.inputs.site;
    let (documents, _) = crate::core::yaml::parse_stream(file);
    documents
        .first()
        .map(|d| crate::core::json_tree::JsonTree::new(&file.name, d))
        .and_then(|t| {
            t.str_at(crate::core::rules::pointers::GIT_PATH)
                .map(crate::core::values::path_key)
        })
        .unwrap_or_default()
}

fn compile_site(cli: &Cli, site: &Path) -> Result<(Loaded, Output)> {
    let loaded = load::load(site)?;
    let output = compile_loaded(cli, &loaded);
    Ok((loaded, output))
}

/// Compiles a loaded site; under `--strict` a warning drops the tree.
fn compile_loaded(cli: &Cli, loaded: &Loaded) -> Output {
    let mut output = if loaded.problems.is_empty() {
        compile::compile(&loaded.inputs)
    } else {
        Output {
            tree: None,
            diagnostics: loaded.problems.clone(),
        }
    };
    // `--strict`: a warning stops the command as an error would, before anything is written.
    if failed(cli, &output.diagnostics) {
        output.tree = None;
    }
    output
}

/// Whether the diagnostics fail the command: any error, or any warning under `--strict`.
fn failed(cli: &Cli, diagnostics: &[diagnostic::Diagnostic]) -> bool {
    diagnostic::has_errors(diagnostics) || (cli.strict && !diagnostics.is_empty())
}

/// A line for people: stdout, unless stdout carries JSON (then stderr).
fn status(line: &str) {
    lines::progress(line);
}

/// A finding about a whole file that a command (not the compiler) made: a line on stdout, or
/// an entry of the JSON array.
fn finding(cli: &Cli, file: &Path, message: &str) {
    match cli.error_format {
        ErrorFormat::Human => println!("{}: {message}", file.display()),
        ErrorFormat::Json => failure::hold(vec![report::json_finding(file, message, None)]),
    }
}

/// Whether diagnostics on stderr get colour.
fn stderr_color(cli: &Cli) -> bool {
    match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => report::auto_color(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ),
    }
}

/// Whether output on stdout gets colour.
fn stdout_color(cli: &Cli) -> bool {
    match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => report::auto_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ),
    }
}

fn print_diagnostics(cli: &Cli, loaded: &Loaded, output: &Output) -> Exit {
    match cli.error_format {
        // `machine-data` prints its user-data alone when the site is clean; the others print
        // an array, empty then. Its warnings go to stderr for people, so that stdout stays the
        // user-data alone.
        ErrorFormat::Json
            if !failed(cli, &output.diagnostics)
                && matches!(cli.command, Command::MachineData { .. }) =>
        {
            eprint!(
                "{}",
                report::human(&output.diagnostics, loaded, stderr_color(cli))
            );
        }
        ErrorFormat::Json => failure::hold(report::json_items(&output.diagnostics, loaded)),
        ErrorFormat::Human if !output.diagnostics.is_empty() => eprint!(
            "{}",
            report::human(&output.diagnostics, loaded, stderr_color(cli))
        ),
        ErrorFormat::Human => {}
    }
    if failed(cli, &output.diagnostics) {
        Exit::Findings
    } else {
        Exit::Success
    }
}

fn overlay_build(cli: &Cli, dir: &Path, given_root: Option<&Path>) -> Result<Exit> {
    let real_dir = dir
        .canonicalize()
        .with_context(|| format!("cannot read `{}`", dir.display()))?;
    let root = match given_root {
        Some(root) => root.to_path_buf(),
        None => crate::edge::overlay_root::default_root(&real_dir),
    };
    let root = root.as_path();
    let files = crate::edge::disk_files::DiskFiles::new(root)
        .with_context(|| format!("cannot read the overlay root `{}`", root.display()))?;
    // The engine sees paths relative to the root; links in DIR itself are resolved first.
    let real_root = root.canonicalize()?;
    let Ok(relative) = real_dir.strip_prefix(&real_root) else {
        anyhow::bail!(
            "`{}` is outside the overlay root `{}`; pass `--root` with a directory that contains it",
            dir.display(),
            root.display()
        );
    };
    let relative = match relative.to_string_lossy().into_owned() {
        empty if empty.is_empty() => ".".to_owned(),
        relative => relative,
    };
    match crate::core::overlay::build(&files, &relative) {
        Ok(built) => {
            std::io::stdout().write_all(crate::core::overlay::print(&built.objects).as_bytes())?;
            // the process ends here: freeing every object node by node would cost a tenth of
            // a large build, and the system takes the memory back whole
            std::mem::forget(built);
            Ok(Exit::Success)
        }
        Err(mut diagnostics) => {
            if given_root.is_none() {
                for diagnostic in &mut diagnostics {
                    diagnostic.file = crate::edge::overlay_root::shown(root, &diagnostic.file);
                }
            } else if root != Path::new(".") {
                for diagnostic in &mut diagnostics {
                    diagnostic.file = root.join(&diagnostic.file).display().to_string();
                }
            }
            match cli.error_format {
                ErrorFormat::Json => failure::hold(report::json_files_items(&diagnostics)),
                ErrorFormat::Human => {
                    eprint!("{}", report::human_files(&diagnostics, stderr_color(cli)));
                }
            }
            Ok(Exit::Findings)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn exit_statuses_are_those_of_the_design() {
        let codes: Vec<u8> = [Exit::Success, Exit::Findings, Exit::Error]
            .into_iter()
            .map(Exit::code)
            .collect();
        assert_eq!(codes, [0, 1, 2]);
    }

    #[test]
    fn the_worst_outcome_wins() {
        assert_eq!(Exit::Success.max(Exit::Findings), Exit::Findings);
        assert_eq!(Exit::Error.max(Exit::Findings), Exit::Error);
    }
}
