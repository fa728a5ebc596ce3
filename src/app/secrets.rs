//! `railyard secrets`: the SOPS file's life: init, edit, encrypt, decrypt, rotate, check.
//!
//! Decrypted values go to standard output only for `decrypt`, and to a private temporary file
//! (mode 0600, removed whatever happens) for `edit`; never into a message.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use rand_core::{OsRng, RngCore};

use super::{Exit, compile_site, print_diagnostics};

/// `secrets init`: a new secrets file, encrypted to recipients the site and `.sops.yaml` agree on.
mod init;
/// `secrets split`: the k3s tokens out of the cluster's file into the machines' file.
mod split;
use crate::cli::{Cli, ErrorFormat, SecretsCommand};
use crate::core::limits::MAX_INPUT_BYTES;
use crate::core::source::line_col;
use init::create_new;

use crate::edge::{age_keys, load, replace, report, sops_config};
use crate::sops::SopsError;
use crate::sops::file::{self, Settings};
use crate::sops::rules::Rule;

pub(super) fn run(cli: &Cli, command: &SecretsCommand) -> Result<Exit> {
    match command {
        SecretsCommand::Init {
            dir,
            recipients,
            site,
        } => init::run(dir, recipients, site.as_deref()),
        SecretsCommand::Edit { file } => edit(file),
        SecretsCommand::Encrypt {
            file,
            recipients,
            in_place,
        } => {
            let (path, text) = read_input(file.as_deref())?;
            let settings = settings_for(path.as_deref(), recipients)?;
            let encrypted = file::encrypt(&text, &settings, &mut OsRng, &now())
                .map_err(|e| located(path.as_deref(), e))?;
            output(path.as_deref(), *in_place, &encrypted)
        }
        SecretsCommand::Decrypt { file, in_place } => {
            let (path, text) = read_input(file.as_deref())?;
            let decrypted = file::decrypt(&text, &age_keys::load()?)
                .map_err(|e| located(path.as_deref(), e))?;
            output(path.as_deref(), *in_place, &decrypted.plaintext)
        }
        SecretsCommand::Rotate {
            file,
            add,
            remove,
            rekey,
        } => {
            let text = read_secrets(file)?;
            let decrypted =
                file::decrypt(&text, &age_keys::load()?).map_err(|e| located(Some(file), e))?;
            let mut recipients: Vec<String> = decrypted
                .metadata
                .age
                .iter()
                .map(|(r, _)| r.clone())
                .filter(|r| !remove.contains(r))
                .collect();
            for recipient in add {
                if !recipients.contains(recipient) {
                    recipients.push(recipient.clone());
                }
            }
            if recipients.is_empty() {
                bail!(
                    "refusing to remove every recipient of `{}`: nobody could decrypt it",
                    file.display()
                );
            }
            let rotated = file::rotate(&text, &decrypted, &recipients, *rekey, &mut OsRng, &now())
                .map_err(|e| located(Some(file), e))?;
            write_atomically(file, &rotated)?;
            super::lines::report(&format!(
                "{}: encrypted to {}",
                file.display(),
                recipients.join(", ")
            ));
            Ok(Exit::Success)
        }
        SecretsCommand::Check { site, mac } => check(cli, site, *mac),
        SecretsCommand::Split { site } => split::run(cli, site),
    }
}

fn describe(path: Option<&Path>) -> String {
    match path {
        Some(path) => format!("`{}`", path.display()),
        None => "standard input".to_owned(),
    }
}

/// A SOPS error with the file it is about: `FILE:LINE:COLUMN` when it is at one place.
fn located(path: Option<&Path>, error: SopsError) -> anyhow::Error {
    let context = match error.location() {
        Some((line, column)) => format!("{}:{line}:{column}", name(path)),
        None => describe(path),
    };
    anyhow::Error::new(error).context(context)
}

fn name(path: Option<&Path>) -> String {
    path.map_or_else(|| "standard input".to_owned(), |p| p.display().to_string())
}

/// A secrets file's text, refused without reading it when it is larger than
/// [`MAX_INPUT_BYTES`]; a file that is not UTF-8 is refused at its first bad byte.
fn read_secrets(path: &Path) -> Result<String> {
    let bytes = load::read_bounded(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            anyhow::anyhow!("{}:1:1: {e}", path.display())
        } else {
            anyhow::Error::new(e).context(format!("cannot read `{}`", path.display()))
        }
    })?;
    text_of(bytes, Some(path))
}

fn text_of(bytes: Vec<u8>, path: Option<&Path>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        let (line, column) = line_col(&valid, valid.len());
        anyhow::anyhow!("{}:{line}:{column}: not UTF-8 text", name(path))
    })
}

/// The current time as sops writes `lastmodified`: UTC, seconds, `Z`.
pub(super) fn now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn read_input(file: Option<&Path>) -> Result<(Option<PathBuf>, String)> {
    match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => Ok((Some(path.to_owned()), read_secrets(path)?)),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_INPUT_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            if bytes.len() > MAX_INPUT_BYTES {
                bail!("standard input:1:1: the input is larger than {MAX_INPUT_BYTES} bytes");
            }
            Ok((None, text_of(bytes, None)?))
        }
    }
}

fn output(path: Option<&Path>, in_place: bool, text: &str) -> Result<Exit> {
    match (path, in_place) {
        (Some(path), true) => write_atomically(path, text)?,
        (None, true) => bail!("`--in-place` needs a file"),
        (_, false) => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(Exit::Success)
}

/// The edge's atomic replace, with the path in the error.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    replace::replace_file(path, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn settings_for(path: Option<&Path>, recipients: &[String]) -> Result<Settings> {
    let rule = path.map(sops_config::creation_rule).transpose()?.flatten();
    let recipients = if recipients.is_empty() {
        rule.as_ref()
            .map(|r| r.recipients.clone())
            .unwrap_or_default()
    } else {
        recipients.to_vec()
    };
    if recipients.is_empty() {
        bail!("no age recipient: pass `--age`, or add a creation rule to `.sops.yaml`");
    }
    Ok(Settings {
        recipients,
        rule: rule
            .and_then(|r| r.rule)
            .unwrap_or_else(Rule::default_for_railyard),
    })
}

/// A private directory for a decrypted copy, removed with everything in it when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir> {
        let mut random = [0_u8; 8];
        OsRng.fill_bytes(&mut random);
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("railyard-secrets-{name}"));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create `{}`", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        Ok(PrivateDir(path))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Marks the lines `edit` puts above the user's text when it cannot be encrypted; they are
/// removed again before the text is read.
const EDIT_MARK: &str = "# railyard: ";

/// How many lines [`edit_header`] writes; positions in the reopened copy are shifted by it.
const EDIT_HEADER_LINES: usize = 3;

/// Decrypts to a private copy, opens the editor, and re-encrypts what it leaves; text that
/// cannot be encrypted goes back to the editor with the error on top, so no edit is lost.
fn edit(path: &Path) -> Result<Exit> {
    let original = read_secrets(path)?;
    let decrypted =
        file::decrypt(&original, &age_keys::load()?).map_err(|e| located(Some(path), e))?;
    // Removed with the copy on every return, the error ones included.
    let private = PrivateDir::new()?;
    let copy = private
        .0
        .join(path.file_name().unwrap_or_else(|| "secrets.yaml".as_ref()));
    write_private(&copy, decrypted.plaintext.as_bytes(), true)?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let mut shown = decrypted.plaintext.clone().into_bytes();
    let mut reopened = false;
    loop {
        let status = run_editor(&editor, &copy)?;
        if !status.success() {
            return nothing_written(path, &format!("the editor exited with {status}"));
        }
        let bytes = std::fs::read(&copy).context("cannot read the edited copy")?;
        if reopened && bytes == shown {
            return nothing_written(path, "the edited copy was left as it was reopened");
        }
        let edited = if reopened {
            without_header(&bytes)
        } else {
            &bytes[..]
        };
        if edited == decrypted.plaintext.as_bytes() {
            super::lines::report(&format!("{}: no change", path.display()));
            return Ok(Exit::Success);
        }
        if edited.trim_ascii().is_empty() {
            return nothing_written(path, "the edited copy is empty");
        }
        let (location, message) = match std::str::from_utf8(edited) {
            Err(error) => {
                let valid = &edited[..error.valid_up_to()];
                let valid = std::str::from_utf8(valid).unwrap_or_default();
                (
                    Some(line_col(valid, valid.len())),
                    "not UTF-8 text".to_owned(),
                )
            }
            Ok(text) => match file::reencrypt(&original, &decrypted, text, &mut OsRng, &now()) {
                Ok(encrypted) => {
                    drop(private);
                    write_atomically(path, &encrypted)?;
                    super::lines::report(&format!("{}: saved", path.display()));
                    return Ok(Exit::Success);
                }
                Err(SopsError::Yaml {
                    line,
                    column,
                    message,
                }) => (Some((line, column)), message),
                Err(other) => (other.location(), other.to_string()),
            },
        };
        let (summary, header) = edit_header(location, &message);
        eprintln!("{}: {summary}; reopening the editor", path.display());
        shown = [header.as_bytes(), edited].concat();
        write_private(&copy, &shown, false)?;
        reopened = true;
    }
}

/// Ends `edit` without writing: exit status 1, and the reason on standard error.
fn nothing_written(path: &Path, reason: &str) -> Result<Exit> {
    eprintln!("{reason}; nothing was written to `{}`", path.display());
    Ok(Exit::Findings)
}

/// Writes the private copy (mode 0600); `new` refuses a file that is already there.
fn write_private(copy: &Path, text: &[u8], new: bool) -> Result<()> {
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(new)
        .truncate(!new)
        .mode(0o600)
        .open(copy)
        .context("cannot write the private copy")?;
    handle
        .write_all(text)
        .context("cannot write the private copy")
}

fn run_editor(editor: &str, copy: &Path) -> Result<std::process::ExitStatus> {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("railyard-editor")
        .arg(copy)
        .status()
        .context("cannot start the editor")
}

/// The comment block above text that cannot be encrypted: the error, at its line and column
/// in the copy as the editor shows it (below this block), and how to leave; with the error's
/// own line for standard error.
fn edit_header(location: Option<(usize, usize)>, message: &str) -> (String, String) {
    let position = location.map_or_else(String::new, |(line, column)| {
        format!("line {}, column {column}: ", line + EDIT_HEADER_LINES)
    });
    // One line: a line break in the message would end the comment.
    let summary = format!("{position}{}", message.replace(['\n', '\r'], " "));
    let header = format!(
        "{EDIT_MARK}{summary}\n\
         {EDIT_MARK}fix it and save to encrypt; empty the file or exit the editor unchanged to write nothing\n\
         {EDIT_MARK}these lines are removed before the file is read\n"
    );
    (summary, header)
}

/// The text without the comment block [`edit_header`] put on top (or what is left of it).
fn without_header(text: &[u8]) -> &[u8] {
    let mut rest = text;
    while rest.starts_with(EDIT_MARK.as_bytes()) {
        rest = rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&[][..], |end| &rest[end + 1..]);
    }
    rest
}

fn check(cli: &Cli, site: &Path, mac: bool) -> Result<Exit> {
    let (loaded, output) = compile_site(cli, site)?;
    let exit = print_diagnostics(cli, &loaded, &output);
    if exit != Exit::Success || !mac {
        if exit == Exit::Success {
            let name = loaded.display_name(&loaded.inputs.site.name);
            super::status(&format!("{name}: every secret reference resolves"));
        }
        return Ok(exit);
    }
    let Some(secrets) = crate::core::compile::secrets_file(&loaded.inputs.site) else {
        return Ok(exit);
    };
    // The machines' file too: its values are checked like the cluster's.
    let mut files = vec![secrets];
    if let Some(machine) = crate::core::compile::machine_secrets_file(&loaded.inputs.site)
        .filter(|m| !files.contains(m))
    {
        files.push(machine);
    }
    let mut exit = Exit::Success;
    for file in files {
        exit = exit.max(check_mac(cli, &loaded.site_dir.join(file))?);
    }
    Ok(exit)
}

/// `check --mac` for one file: the MAC verifies, and an empty value is a warning.
fn check_mac(cli: &Cli, path: &Path) -> Result<Exit> {
    let path = path.to_path_buf();
    let text = read_secrets(&path)?;
    let decrypted =
        file::decrypt(&text, &age_keys::load()?).map_err(|e| located(Some(&path), e))?;
    let empty: Vec<String> = decrypted
        .values()
        .into_iter()
        .filter(|(p, v)| v.is_empty() && (p.starts_with("stringData:") || p.starts_with("data:")))
        .map(|(p, _)| format!("`{}`", p.replace(':', ".")))
        .collect();
    if !empty.is_empty() {
        // Empty values validate, and the component that needs one fails at runtime: a
        // warning, which fails the command under `--strict`.
        let message = format!(
            "the MAC verifies, but these values are empty: {}",
            empty.join(", ")
        );
        let hint = format!(
            "fill them in with `railyard secrets edit {}`",
            path.display()
        );
        match cli.error_format {
            ErrorFormat::Human => println!("{}: warning: {message}; {hint}", path.display()),
            ErrorFormat::Json => {
                super::failure::hold(vec![report::json_warning(&path, &message, Some(&hint))]);
            }
        }
        return Ok(if cli.strict {
            Exit::Findings
        } else {
            Exit::Success
        });
    }
    let line = "every reference resolves, the MAC verifies, no value is empty";
    super::status(&format!("{}: {line}", path.display()));
    Ok(Exit::Success)
}
