//! `railyard init`: the answers from flags, else from the user on a terminal, else defaults;
//! then `site.yaml` and `.sops.yaml`, never over an existing file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::Exit;
use super::lines::report;
use crate::cli::Command;
use crate::core::defaults;
use crate::core::init::{self, Answers, Dns01Solver};
use crate::core::site::Provider;
use crate::core::values::{DnsLabel, Fqdn, GitUrl};

/// `init`'s flags, as the command line gives them.
pub(super) struct Flags<'a> {
    pub dir: &'a Path,
    pub name: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub location: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub dns01: Option<&'a str>,
    pub ssh_keys: &'a [PathBuf],
    pub git_url: Option<&'a str>,
    pub age_recipients: &'a [String],
    /// Take defaults for everything not given, without asking.
    pub yes: bool,
}

impl<'a> Flags<'a> {
    /// The flags of `railyard init`; any other command is a caller's bug.
    pub(super) fn of(command: &'a Command) -> Flags<'a> {
        let Command::Init {
            dir,
            name,
            provider,
            location,
            domain,
            dns01,
            ssh_keys,
            git_url,
            age_recipients,
            yes,
        } = command
        else {
            unreachable!("init::Flags::of is called for `railyard init` only")
        };
        Flags {
            dir,
            name: name.as_deref(),
            provider: provider.as_deref(),
            location: location.as_deref(),
            domain: domain.as_deref(),
            dns01: dns01.as_deref(),
            ssh_keys,
            git_url: git_url.as_deref(),
            age_recipients,
            yes: *yes,
        }
    }
}

/// Where an answer missing from the flags comes from.
enum Source {
    /// Standard input and error are a terminal: ask, showing the default.
    Ask(std::io::StdinLock<'static>),
    Defaults,
}

pub(super) fn run(flags: &Flags) -> Result<Exit> {
    let name = site_name(flags)?;
    let files = [flags.dir.join("site.yaml"), flags.dir.join(".sops.yaml")];
    let existing: Vec<String> = files
        .iter()
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite {}; init never overwrites",
            existing.join(", ")
        );
    }
    let interactive =
        !flags.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut source = if interactive {
        Source::Ask(std::io::stdin().lock())
    } else {
        Source::Defaults
    };
    let answers = answers(flags, name, &mut source)?;
    std::fs::create_dir_all(flags.dir)
        .with_context(|| format!("cannot create `{}`", flags.dir.display()))?;
    let texts = [
        init::site_file(&answers),
        init::sops_config(&answers.age_recipients),
    ];
    for (path, text) in files.iter().zip(texts) {
        write_new(path, &text)?;
        report(&format!("wrote {}", path.display()));
    }
    print_next_steps(flags.dir, &answers);
    Ok(Exit::Success)
}

fn site_name(flags: &Flags) -> Result<String> {
    let name = match flags.name {
        Some(name) => name.to_owned(),
        None => {
            let absolute = std::path::absolute(flags.dir)
                .with_context(|| format!("cannot resolve `{}`", flags.dir.display()))?;
            absolute
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_else(|| "gitpod".to_owned())
        }
    };
    if let Err(why) = DnsLabel::parse(&name) {
        bail!("site name `{name}` is not a DNS label: {why}; pass `--name`");
    }
    Ok(name)
}

fn answers(flags: &Flags, name: String, source: &mut Source) -> Result<Answers> {
    let provider = answer(
        source,
        flags.provider,
        "--provider",
        "cloud provider (hetzner, digitalocean, scaleway, azure)",
        "hetzner".to_owned(),
        parse_provider,
    )?;
    let offered = defaults::provider(provider);
    let location = answer(
        source,
        flags.location,
        "--location",
        &format!("location ({})", offered.locations.join(", ")),
        init::default_location(provider).to_owned(),
        |text| {
            offered
                .locations
                .contains(&text)
                .then(|| text.to_owned())
                .ok_or_else(|| format!("not a {} location", offered.name))
        },
    )?;
    let domain = answer(
        source,
        flags.domain,
        "--domain",
        "domain Gitpod is served at",
        init::DEFAULT_DOMAIN.to_owned(),
        |text| {
            Fqdn::parse(text)
                .map(|_| text.to_owned())
                .map_err(|e| e.to_string())
        },
    )?;
    let dns01 = answer(
        source,
        flags.dns01,
        "--dns01",
        "DNS01 solver for the wildcard certificate (cloudflare, digitalocean, hetzner)",
        Dns01Solver::default_for(provider).name().to_owned(),
        |text| Dns01Solver::parse(text).ok_or_else(|| "not a solver init can write".to_owned()),
    )?;
    let git_url = answer(
        source,
        flags.git_url,
        "--git-url",
        "git repository Flux pulls (ssh://… or https://…)",
        init::DEFAULT_GIT_URL.to_owned(),
        |text| {
            GitUrl::parse(text)
                .map(|_| text.to_owned())
                .map_err(|e| e.to_string())
        },
    )?;
    Ok(Answers {
        name,
        provider,
        location,
        domain,
        dns01,
        ssh_keys: ssh_keys(flags, source)?,
        git_url,
        age_recipients: age_recipients(flags, source)?,
    })
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    [
        Provider::Hetzner,
        Provider::Digitalocean,
        Provider::Scaleway,
        Provider::Azure,
    ]
    .into_iter()
    .find(|p| defaults::provider(*p).name == text)
    .ok_or_else(|| "not a provider railyard renders".to_owned())
}

/// One answer: the flag's value (checked; a bad flag is an error), else the user's (asked
/// again until it checks), else the default.
fn answer<T>(
    source: &mut Source,
    flag: Option<&str>,
    flag_name: &str,
    question: &str,
    default: String,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<T> {
    if let Some(value) = flag {
        return check(value).map_err(|why| anyhow::anyhow!("{flag_name} `{value}`: {why}"));
    }
    let Source::Ask(input) = source else {
        return check(&default).map_err(|why| anyhow::anyhow!("default `{default}`: {why}"));
    };
    loop {
        let text = ask(input, question, &default)?;
        let text = if text.is_empty() {
            default.clone()
        } else {
            text
        };
        match check(&text) {
            Ok(value) => return Ok(value),
            Err(why) => eprintln!("`{text}`: {why}"),
        }
    }
}

fn ask(input: &mut std::io::StdinLock<'static>, question: &str, default: &str) -> Result<String> {
    let mut stderr = std::io::stderr();
    if default.is_empty() {
        write!(stderr, "{question}: ")?;
    } else {
        write!(stderr, "{question} [{default}]: ")?;
    }
    stderr.flush()?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        bail!("no answer to `{question}` (end of input); pass the flags and `--yes` in scripts");
    }
    Ok(line.trim().to_owned())
}

/// The SSH public keys: `--ssh-key` files, else the first of the user's usual public keys.
fn ssh_keys(flags: &Flags, source: &mut Source) -> Result<Vec<String>> {
    let files: Vec<PathBuf> = if flags.ssh_keys.is_empty() {
        let found = usual_public_key();
        let default = found
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        match source {
            Source::Defaults => found.into_iter().collect(),
            Source::Ask(_) => {
                let path = answer(
                    source,
                    None,
                    "--ssh-key",
                    "SSH public key file",
                    default,
                    |t| {
                        read_public_key(Path::new(t))
                            .map(|_| PathBuf::from(t))
                            .map_err(|e| format!("{e:#}"))
                    },
                )?;
                vec![path]
            }
        }
    } else {
        flags.ssh_keys.to_vec()
    };
    files.iter().map(|path| read_public_key(path)).collect()
}

fn usual_public_key() -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"]
        .iter()
        .map(|name| home.join(".ssh").join(name))
        .find(|path| path.is_file())
}

fn read_public_key(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the SSH public key `{}`", path.display()))?;
    let line = text.trim();
    crate::core::ssh_key::parse(line).map_err(|why| {
        anyhow::anyhow!("`{}` is not an OpenSSH public key: {why}", path.display())
    })?;
    Ok(line.to_owned())
}

/// The age recipients: `--age-recipient`, else those of the user's own age identities (where
/// `sops` finds them), offered as the default on a terminal.
fn age_recipients(flags: &Flags, source: &mut Source) -> Result<Vec<String>> {
    for recipient in flags.age_recipients {
        check_recipient(recipient)
            .map_err(|why| anyhow::anyhow!("--age-recipient `{recipient}`: {why}"))?;
    }
    if !flags.age_recipients.is_empty() {
        return Ok(flags.age_recipients.to_vec());
    }
    let own: Vec<String> = crate::edge::age_keys::load()
        .map(|ids| ids.iter().map(|id| id.to_public().to_string()).collect())
        .unwrap_or_default();
    match source {
        Source::Defaults => Ok(own),
        Source::Ask(_) => {
            let answer = answer(
                source,
                None,
                "--age-recipient",
                "age recipient(s) to encrypt the secrets to, comma-separated",
                own.join(","),
                |text| {
                    let list: Vec<String> = text
                        .split(',')
                        .map(|r| r.trim().to_owned())
                        .filter(|r| !r.is_empty())
                        .collect();
                    list.iter().try_for_each(|r| check_recipient(r))?;
                    Ok(list)
                },
            )?;
            Ok(answer)
        }
    }
}

fn check_recipient(text: &str) -> Result<(), String> {
    text.parse::<age::x25519::Recipient>()
        .map(|_| ())
        .map_err(|_| {
            "not an age recipient (`age1…`; `age-keygen -y KEYFILE` prints yours)".to_owned()
        })
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    handle
        .write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn print_next_steps(dir: &Path, answers: &Answers) {
    if answers.ssh_keys.is_empty() {
        report("replace the SSH key placeholder in site.yaml (or pass `--ssh-key FILE`)");
    }
    if answers.age_recipients.is_empty() {
        report(
            "replace the age recipient placeholder in site.yaml and .sops.yaml \
             (`age-keygen` makes a key; or pass `--age-recipient`)",
        );
    }
    report(&format!(
        "next: `railyard secrets init {dir}` (encrypts to the site's recipients), \
         `railyard secrets edit {dir}/secrets.sops.yaml` to fill in the {solver} token, \
         then `railyard validate {dir}/site.yaml`",
        dir = dir.display(),
        solver = answers.dns01.name(),
    ));
}
