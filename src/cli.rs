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
    /// Treat warnings as errors: exit 1 and write nothing when there is one.
    #[arg(long, global = true)]
    pub strict: bool,
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
    /// Write a commented site.yaml and .sops.yaml into DIR; never overwrites. Values not given
    /// as flags are asked for on a terminal (defaults shown), or defaulted with `--yes`.
    Init {
        /// Directory to write into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The site's name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// Cloud provider (default hetzner).
        #[arg(long, value_parser = ["hetzner", "digitalocean", "scaleway", "azure"])]
        provider: Option<String>,
        /// The provider's location (default: one per provider, e.g. nbg1, fra1, fr-par-1, uksouth).
        #[arg(long)]
        location: Option<String>,
        /// Domain Gitpod is served at (default gitpod.example.com).
        #[arg(long)]
        domain: Option<String>,
        /// DNS01 solver for the wildcard certificate (default: the provider's DNS, else cloudflare).
        #[arg(long, value_parser = ["cloudflare", "digitalocean", "hetzner"])]
        dns01: Option<String>,
        /// SSH public key file for the machines (repeatable; default ~/.ssh/id_ed25519.pub,
        /// id_ecdsa.pub or id_rsa.pub, the first that exists).
        #[arg(long = "ssh-key", value_name = "FILE")]
        ssh_keys: Vec<PathBuf>,
        /// Repository Flux pulls, ssh:// (default: an example to replace).
        #[arg(long = "git-url", value_name = "URL")]
        git_url: Option<String>,
        /// age recipient for site.yaml and `.sops.yaml` (repeatable; default: the recipients of
        /// your own age identities, found as sops finds them).
        #[arg(long = "age-recipient")]
        age_recipients: Vec<String>,
        /// Ask nothing: take the default for every value not given.
        #[arg(long)]
        yes: bool,
    },
    /// Check a site file and report every problem; exit 1 if any.
    Validate {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
    },
    /// Rewrite site files of an older format (`apiVersion`) to the current one, in place,
    /// keeping comments, order and layout; a file already current is left alone.
    Migrate {
        /// The site files (default `site.yaml`).
        sites: Vec<PathBuf>,
        /// Write nothing; exit 1 if any file has a migration pending.
        #[arg(long)]
        check: bool,
    },
    /// Render a site (or every site under a directory) into the output directory atomically.
    Render {
        /// The site file (default `site.yaml`).
        site: Option<PathBuf>,
        /// Render every `site.yaml` found under this directory instead, in parallel.
        #[arg(long, value_name = "DIR", conflicts_with = "site")]
        all: Option<PathBuf>,
        /// Output directory (a git work tree, typically).
        #[arg(long, default_value = "rendered")]
        out: PathBuf,
        /// Write nothing; exit 1 if the output differs from a fresh render.
        #[arg(long)]
        check: bool,
        /// Overwrite rendered files edited by hand, discarding the edits (without it, a render
        /// that would overwrite or remove one exits 1 and writes nothing).
        #[arg(long, conflicts_with = "check")]
        force: bool,
    },
    /// Compare a fresh render with the output directory or a git revision; exit 1 on differences.
    Diff {
        /// The site file (default `site.yaml`).
        site: Option<PathBuf>,
        /// Compare every `site.yaml` found under this directory instead.
        #[arg(long, value_name = "DIR", conflicts_with = "site")]
        all: Option<PathBuf>,
        /// The rendered output to compare with.
        #[arg(long, default_value = "rendered")]
        out: PathBuf,
        /// Compare with this revision of the repository instead, read without a checkout.
        #[arg(long, value_name = "REV")]
        git: Option<String>,
        /// The repository for `--git`.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// How to print the differences: a unified diff, Markdown for a review, or JSON.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Render into a git repository's work tree and commit railyard's paths.
    Commit {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        /// The repository (its work tree receives the render at the site's `git.path`).
        #[arg(long)]
        repo: PathBuf,
        /// Refuse unless this branch is checked out.
        #[arg(long)]
        branch: Option<String>,
        /// The commit's message (default: `railyard: NAME: ` and what the render changes).
        #[arg(long)]
        message: Option<String>,
        /// `Name <email>` (default: `user.name` and `user.email` from git config).
        #[arg(long)]
        author: Option<String>,
        /// Overwrite rendered files edited by hand (committed edits included), discarding the
        /// edits.
        #[arg(long)]
        force: bool,
    },
    /// Print the site file's JSON Schema.
    Schema,
    /// kustomize-compatible overlays.
    #[command(subcommand)]
    Overlay(OverlayCommand),
    /// Read the cloud and print what bootstrap would create, finish, keep, or report as
    /// different; exit 1 when there is anything to do.
    Plan {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Provision the site's machines on Hetzner Cloud (token in `HCLOUD_TOKEN`), finishing
    /// whatever an earlier run left; then print the DNS records to create.
    Bootstrap {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        #[command(flatten)]
        cloud: CloudArgs,
        /// Where to write the cluster's kubeconfig (mode 0600; default
        /// `~/.kube/railyard/<site>.yaml`).
        #[arg(long, value_name = "FILE")]
        kubeconfig: Option<PathBuf>,
        /// The SSH identity for the machines (default: the agent and `~/.ssh/config`).
        #[arg(long, value_name = "FILE")]
        ssh_key: Option<PathBuf>,
        /// How long to wait for k3s on the first server, in seconds.
        #[arg(long, default_value_t = 900)]
        wait: u64,
        /// The age identity the cluster decrypts the secrets file with (default: your identity
        /// that is one of its recipients; a dedicated cluster key is better).
        #[arg(long, value_name = "FILE")]
        age_key: Option<PathBuf>,
        /// `known_hosts` lines of the git host for the deploy key (default: `ssh-keyscan`).
        #[arg(long, value_name = "FILE")]
        git_known_hosts: Option<PathBuf>,
        /// How long to wait for Flux to install and its Kustomizations to be Ready, in seconds.
        #[arg(long, default_value_t = 1800)]
        flux_wait: u64,
    },
    /// Show the cluster: nodes, Flux sources, Kustomizations and HelmReleases, and whether
    /// Flux applied the commit the site's branch points at. Exit 1 when not all is ready.
    Status {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        /// The cluster's kubeconfig (default: `~/.kube/railyard/<site>.yaml`, which bootstrap
        /// writes).
        #[arg(long, value_name = "FILE")]
        kubeconfig: Option<PathBuf>,
        /// The git repository Flux pulls, checked out (default: the one holding the site file).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
    /// Delete every cloud resource carrying the site's label, and nothing else.
    Destroy {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        /// Delete; without it, list what would be deleted and exit 1.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Print the user-data of one rendered machine, its secrets and the given addresses filled
    /// in, for booting it by hand (bare metal, another cloud, your own Terraform); to standard
    /// output only. Exit 1, naming each, when a value is missing.
    MachineData {
        /// The site file.
        site: PathBuf,
        /// The machine: its name (`demo-server-0`) or without the site's prefix (`worker-2`).
        machine: String,
        /// The value of an address placeholder, `NAME=IP` (repeatable), as `validate` lists
        /// them: `--address server-0-private-ip=10.0.0.5`.
        #[arg(long = "address", value_name = "NAME=IP", value_parser = name_and_ip)]
        addresses: Vec<(String, std::net::IpAddr)>,
    },
    /// The SOPS secrets file: create, edit, encrypt, decrypt, rotate, check.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Print the completion script for SHELL to standard output.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print railyard's manual page (roff) to standard output, or write one page per command.
    Man {
        /// Write `railyard.1`, `railyard-render.1`, `railyard-secrets-edit.1`, … into this
        /// directory instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
pub struct CloudArgs {
    /// The cloud API's base URL (tests point it at a local fake); by default the API of the
    /// site's provider.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The Scaleway project the site's resources belong to (overrides
    /// `SCW_DEFAULT_PROJECT_ID`); Scaleway only.
    #[arg(long, value_name = "ID")]
    pub project: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OverlayCommand {
    /// Print what `kubectl kustomize DIR` prints.
    Build {
        /// The directory holding `kustomization.yaml`.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Nothing outside this directory is read, through `..`, absolute paths or symbolic
        /// links alike; DIR must be inside it. Default: the git work tree holding DIR, else
        /// DIR's filesystem root (each kustomization's files must still sit in or below its
        /// own directory, as with kustomize).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Create `secrets.sops.yaml` with generated values for what railyard needs, empty
    /// placeholders for what the site references, and `.sops.yaml` unless one with the same
    /// recipients exists; never overwrites.
    Init {
        /// Directory to write into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// age recipient to encrypt to (repeatable; default: those of an existing DIR/.sops.yaml,
        /// else the site's `spec.secrets.ageRecipients`).
        #[arg(long = "age")]
        recipients: Vec<String>,
        /// The site whose secret references get placeholders (default: DIR/site.yaml if present).
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Decrypt to a private temporary file, open `$EDITOR`, re-encrypt; unchanged values keep
    /// their ciphertext, and text that cannot be encrypted reopens the editor with the error.
    Edit {
        /// The encrypted secrets file.
        file: PathBuf,
    },
    /// Encrypt a plaintext file (standard input when absent or `-`).
    Encrypt {
        /// The plaintext file.
        file: Option<PathBuf>,
        /// age recipient (repeatable); default: the nearest `.sops.yaml` creation rule.
        #[arg(long = "age")]
        recipients: Vec<String>,
        /// Replace the file instead of printing.
        #[arg(long)]
        in_place: bool,
    },
    /// Decrypt a file (standard input when absent or `-`) to standard output.
    Decrypt {
        /// The encrypted file.
        file: Option<PathBuf>,
        /// Replace the file instead of printing.
        #[arg(long)]
        in_place: bool,
    },
    /// Add or remove recipients: the data key is re-wrapped, values are untouched.
    Rotate {
        /// The encrypted secrets file.
        file: PathBuf,
        /// age recipient to add (repeatable).
        #[arg(long = "add", value_name = "RECIPIENT")]
        add: Vec<String>,
        /// age recipient to remove (repeatable); the last one cannot be removed.
        #[arg(long = "remove", value_name = "RECIPIENT")]
        remove: Vec<String>,
        /// Use a new data key and encrypt every value again.
        #[arg(long)]
        rekey: bool,
    },
    /// Check that the site's secret references resolve; with `--mac`, decrypt too: the MAC
    /// verifies and no value is empty.
    Check {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
        /// Decrypt the secrets file too (needs an age identity): the MAC verifies and no value
        /// is empty.
        #[arg(long)]
        mac: bool,
    },
    /// Move the k3s tokens out of the cluster's secrets file into the machines' file
    /// (`spec.secrets.machineFile`), re-encrypting both; a `v1alpha1` site is then migrated.
    Split {
        /// The site file.
        #[arg(default_value = "site.yaml")]
        site: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// `NAME=IP`, as `--address` takes it.
fn name_and_ip(text: &str) -> Result<(String, std::net::IpAddr), String> {
    let (name, ip) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=IP"))?;
    let ip = ip
        .trim()
        .parse()
        .map_err(|_| format!("`{ip}` is not an IP address"))?;
    Ok((name.trim().to_owned(), ip))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument and subcommand without help text, named by its command path.
    fn undocumented(command: &clap::Command, path: &str, found: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                found.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                found.push(sub_path.clone());
            }
            undocumented(sub, &sub_path, found);
        }
    }

    #[test]
    fn every_argument_and_command_has_help() {
        let mut command = super::Cli::command();
        command.build();
        let mut found = Vec::new();
        undocumented(&command, "railyard", &mut found);
        assert!(found.is_empty(), "without help text: {found:#?}");
    }

    #[test]
    fn the_walk_finds_an_undocumented_argument() {
        let command = clap::Command::new("t")
            .arg(clap::Arg::new("plain").long("plain"))
            .subcommand(clap::Command::new("sub").about("a subcommand"));
        let mut found = Vec::new();
        undocumented(&command, "t", &mut found);
        assert_eq!(found, ["t plain"]);
    }
}
