//! `plan`, `bootstrap` and `destroy`: a site's machines on its cloud, and the cluster's
//! kubeconfig once k3s is up.
//!
//! The cloud is the only state: each run lists what carries the site's label, computes a plan
//! (a value, `bootstrap::plan`) and carries it out through the cloud's client
//! (`edge::cloud::Cloud`), knowing no wire format. A run stopped anywhere is finished by the
//! next. Every resource's create and follow-ups run as one chain, all chains at once, each
//! starting when what it needs from the waves before it is there (`cloud/execute.rs`,
//! `bootstrap::schedule`).

mod execute;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::app::lines::{progress, report};
use crate::app::runtime::{millis, runtime};
use crate::app::{Exit, compile_site, flux, print_diagnostics};
use crate::bootstrap::model::{Existing, Kind, Profile};
use crate::bootstrap::plan::{self, Plan, Step};
use crate::bootstrap::wanted::{self, HostFiles};
use crate::bootstrap::{adopt, availability, cluster, kubeconfig, user_data};
use crate::cli::{Cli, CloudArgs};
use crate::core::{layout, placeholder};
use crate::edge::clients::{Client, PROFILES};
use crate::edge::cloud::{Cloud, Timing};
use crate::edge::retry::Policy;
use crate::edge::{age_keys, ssh};
use crate::sops::file as sops_file;

/// What every cloud command works with: the site's rendered tree and host files, and a client
/// for its cloud.
struct CloudCommand {
    client: Client,
    profile: &'static Profile,
    site: String,
    files: BTreeMap<String, Vec<u8>>,
    host: HostFiles,
    site_dir: PathBuf,
    secrets_file: String,
}

/// The cloud command running, for the messages that name it and the token access it needs.
#[derive(Clone, Copy)]
enum Verb {
    Plan,
    Bootstrap,
    Destroy,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Plan => "plan",
            Verb::Bootstrap => "bootstrap",
            Verb::Destroy => "destroy",
        }
    }

    /// What the token must allow: `plan` only lists, so a read-only token is the safer choice.
    fn access(self) -> &'static str {
        match self {
            Verb::Plan => "plan only reads, so a read-only token suffices",
            Verb::Bootstrap => "bootstrap creates resources, so the token needs read & write",
            Verb::Destroy => "destroy deletes resources, so the token needs read & write",
        }
    }
}

/// The compiled site and a client; `Err(code)` when the site has errors (already reported).
fn context(
    cli: &Cli,
    site: &Path,
    cloud: &CloudArgs,
    verb: Verb,
) -> Result<Result<CloudCommand, Exit>> {
    let (loaded, output) = compile_site(cli, site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(Err(code));
    };
    let host = wanted::read(&tree.site, &tree.files)?;
    let profile = wanted::profile_for(&host.machines, PROFILES)?;
    let digests = user_data::digests(&wanted::wanted(&host, profile)?, &tree.files);
    let token = std::env::var(profile.token_variable)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .with_context(|| {
            format!(
                "`{}` needs `{}`, which is not set: {}; {}",
                verb.name(),
                profile.token_variable,
                profile.token_hint,
                verb.access()
            )
        })?;
    let client = Client::connect(
        profile,
        cloud.api_url.as_deref(),
        cloud.project.as_deref(),
        token.trim(),
        &host.machines,
        &digests,
        timing(),
    )?;
    // User-data's secrets are the machines': a `v1alpha2` site keeps them in their own file.
    let secrets_file =
        crate::core::compile::machine_secrets_file(&loaded.inputs.site).unwrap_or_default();
    Ok(Ok(CloudCommand {
        client,
        profile,
        site: tree.site.clone(),
        files: tree.files,
        host,
        site_dir: loaded.site_dir,
        secrets_file,
    }))
}

/// Retry and poll timing; `RAILYARD_RETRY_BASE_MS` and `RAILYARD_POLL_MS` shorten them for tests
/// against the local fake (never needed against the real API).
fn timing() -> Timing {
    let mut timing = Timing::default();
    if let Some(base) = millis("RAILYARD_RETRY_BASE_MS") {
        timing.retry = Policy::CLOUD.with_base(base);
    }
    if let Some(poll) = millis("RAILYARD_POLL_MS") {
        timing.poll = poll;
    }
    timing
}

/// The plan against the cloud; machine types it creates, and the autoscaled pools' types, are
/// checked against their locations first, so a sold-out type stops the run before anything
/// exists (or before a pool is left unable to grow).
async fn current_plan(context: &CloudCommand) -> Result<(Plan, Vec<Existing>)> {
    let wanted = wanted::wanted(&context.host, context.profile)?;
    let digests = user_data::digests(&wanted, &context.files);
    let mut existing = context.client.inventory(&context.site).await?;
    let autoscaled = wanted::autoscaled_pools(&context.host.machines);
    let mut plan = plan::plan(&context.site, wanted, &autoscaled, &existing);
    // A machine's user-data cannot change where the cloud keeps a digest of it (Azure).
    user_data::mark_changes(&mut plan, &existing, &digests);
    if plan.creates().any(|w| w.kind() == Kind::SshKey) {
        // The site's key held under another name is the site's key as it is, for the plan
        // and for this run's references; it never joins the site (destroy leaves it).
        let held = context.client.held_keys().await?;
        existing.extend(adopt::held_keys(&mut plan, &held));
    }
    let scaled = wanted::autoscaled_machines(&context.host.machines);
    if plan.creates().any(|w| w.kind() == Kind::Machine) || !scaled.is_empty() {
        let offers = context.client.offers().await?;
        availability::check(plan.creates().chain(&scaled), &offers)?;
    }
    Ok((plan, existing))
}

/// `railyard plan`: read the cloud, print the plan; exit 1 when bootstrap has work to do.
pub(super) fn plan(cli: &Cli, site: &Path, cloud: &CloudArgs) -> Result<Exit> {
    let context = match context(cli, site, cloud, Verb::Plan)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    let (plan, _) = runtime()?.block_on(current_plan(&context))?;
    report(&plan.to_text());
    Ok(if plan.has_changes() {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// `railyard destroy`: every resource carrying the site's label, dependents first.
pub(super) fn destroy(cli: &Cli, site: &Path, cloud: &CloudArgs, yes: bool) -> Result<Exit> {
    let context = match context(cli, site, cloud, Verb::Destroy)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let existing = context.client.inventory(&context.site).await?;
        if existing.is_empty() {
            report(&format!(
                "nothing in the project carries the label of site `{}`",
                context.site
            ));
            return Ok(Exit::Success);
        }
        let mut ordered = existing;
        ordered.sort_by(|a, b| {
            (std::cmp::Reverse(a.kind), &a.name).cmp(&(std::cmp::Reverse(b.kind), &b.name))
        });
        report(&format!("resources of site `{}`:", context.site));
        for o in &ordered {
            report(&format!("  - {:<16} {} (#{})", o.kind.noun(), o.name, o.id));
        }
        if !yes {
            report(&format!(
                "not deleted: run again with `--yes` to delete these {} resources",
                ordered.len()
            ));
            return Ok(Exit::Findings);
        }
        let client = &context.client;
        for kind in Kind::ALL.into_iter().rev() {
            let batch: Vec<&Existing> = ordered.iter().filter(|o| o.kind == kind).collect();
            let results =
                futures::future::join_all(batch.iter().map(|o| client.delete(o.kind, &o.id))).await;
            for result in results {
                result?;
            }
            if !batch.is_empty() {
                report(&format!("deleted {} {}(s)", batch.len(), kind.noun()));
            }
        }
        Ok(Exit::Success)
    })
}

/// How bootstrap reaches the cluster once the machines exist.
pub(super) struct Cluster {
    pub(super) kubeconfig: Option<PathBuf>,
    pub(super) ssh_key: Option<PathBuf>,
    pub(super) wait: Duration,
    pub(super) flux: flux::Setup,
}

/// `railyard bootstrap`: carry out the plan, wait for k3s and write the cluster's kubeconfig,
/// give Flux its Secrets and sync objects, wait until it is Ready, and print the DNS records.
pub(super) fn bootstrap(
    cli: &Cli,
    site: &Path,
    cloud: &CloudArgs,
    cluster: &Cluster,
) -> Result<Exit> {
    let context = match context(cli, site, cloud, Verb::Bootstrap)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    let secrets = read_secrets(&context)?;
    let identity = flux::cluster_identity(&context.site, &context.files, &cluster.flux)?;
    let resources = runtime()?.block_on(async {
        let (plan, existing) = current_plan(&context).await?;
        report(&plan.to_text());
        let started = std::time::Instant::now();
        let resources = execute::execute(&context, &plan, &existing, &secrets).await?;
        progress(&format!(
            "cloud resources in place after {:.2} s",
            started.elapsed().as_secs_f64()
        ));
        for step in &plan.steps {
            if let Step::Differs {
                kind,
                name,
                what,
                converge: None,
                ..
            } = step
            {
                report(&format!("left as it is: {} `{name}`: {what}", kind.noun()));
            }
        }
        Ok::<_, anyhow::Error>(resources)
    })?;
    let address = |kind: Kind, name: String| {
        resources
            .get(&(kind, name))
            .and_then(|r| r.facts.public_ipv4.clone())
    };
    let site_name = &context.site;
    let first = address(Kind::Machine, layout::cloud::server(site_name, 0))
        .context("the first server has no public address")?;
    let api = address(
        Kind::LoadBalancer,
        layout::cloud::load_balancer(site_name, layout::cloud::API_ROLE),
    )
    .unwrap_or_else(|| first.clone());
    // The certificate k3s serves names the API's private address: the first server's
    // `tls-san`, or, where the cloud assigned it, the server's own (its `node-ip`).
    let private = resources
        .get(&(Kind::Machine, layout::cloud::server(site_name, 0)))
        .and_then(|r| r.facts.private_ipv4.clone());
    let tls_name = cluster::api_private_address(&context.site, &context.files).or(private);
    let (path, config) = write_kubeconfig(&context, cluster, &first, &api, tls_name.as_deref())?;
    report(&format!(
        "k3s is up; kubeconfig for context `{site_name}` written to {}",
        path.display()
    ));
    runtime()?.block_on(flux::install(
        site_name,
        &context.files,
        &config,
        &cluster.flux,
        &identity,
    ))?;
    let ingress = address(
        Kind::LoadBalancer,
        layout::cloud::load_balancer(site_name, layout::cloud::INGRESS_ROLE),
    );
    print_dns_records(&context, ingress.as_deref())?;
    Ok(Exit::Success)
}

/// Where bootstrap keeps known hosts and kubeconfigs: `~/.kube/railyard`.
fn kube_state_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(layout::KUBE_STATE_DIR)
}

/// Waits until k3s on the first server has written its kubeconfig, fetches it over SSH (port
/// 2244, or 22 while cloud-init has not moved sshd yet), and writes it for the API address.
fn write_kubeconfig(
    context: &CloudCommand,
    cluster: &Cluster,
    first: &str,
    api: &str,
    tls_name: Option<&str>,
) -> Result<(PathBuf, String)> {
    let state = kube_state_dir();
    let mut target = ssh::Target {
        host: first.to_owned(),
        ports: vec![2244, 22],
        user: "root".to_owned(),
        identity: cluster.ssh_key.clone(),
        known_hosts: state.join("known_hosts"),
    };
    // Test hook: every machine is the local sshd at this address (the fake cloud's addresses
    // lead nowhere).
    if let Ok(redirect) = std::env::var("RAILYARD_SSH_REDIRECT") {
        if let Some((host, port)) = redirect.rsplit_once(':') {
            target.host = host.to_owned();
            target.ports = vec![
                port.parse()
                    .context("RAILYARD_SSH_REDIRECT needs HOST:PORT")?,
            ];
        }
    }
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create `{}`", state.display()))?;
    progress(&format!(
        "waiting for k3s on {first} (at most {} s)",
        cluster.wait.as_secs()
    ));
    let text = ssh::wait_for(
        &target,
        "cat /etc/rancher/k3s/k3s.yaml",
        Duration::from_secs(5).min(cluster.wait),
        cluster.wait,
    )?;
    let config = kubeconfig::rewrite(
        &text,
        &context.site,
        &format!("https://{api}:6443"),
        tls_name,
    )?;
    let path = cluster
        .kubeconfig
        .clone()
        .unwrap_or_else(|| state.join(layout::kubeconfig_name(&context.site)));
    write_private(&path, config.as_bytes())?;
    Ok((path, config))
}

/// Writes a file only its owner can read, replacing it atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot write `{}`", temporary.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write `{}`", path.display()))
}

/// The decrypted machines' secrets file's `stringData`, in memory only.
fn read_secrets(context: &CloudCommand) -> Result<BTreeMap<String, String>> {
    decrypted_secrets(&context.site_dir.join(&context.secrets_file))
}

/// The `stringData` of the secrets file at `path`, decrypted with the user's age identities,
/// in memory only.
pub(super) fn decrypted_secrets(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secrets file `{}`", path.display()))?;
    let identities = age_keys::load()?;
    let decrypted = sops_file::decrypt(&text, &identities)
        .with_context(|| format!("cannot decrypt `{}`", path.display()))?;
    Ok(decrypted
        .values()
        .into_iter()
        .filter_map(|(path, value)| Some((path.strip_prefix("stringData:")?.to_owned(), value)))
        .collect())
}

fn print_dns_records(context: &CloudCommand, ingress: Option<&str>) -> Result<()> {
    let records = wanted::dns_records(&context.site, &context.files)?;
    let address = ingress.unwrap_or("(the ingress load balancer has no address yet)");
    report("create these DNS records at your DNS provider:");
    for record in records {
        let value = record
            .value
            .replace(&placeholder::address(layout::INGRESS_ADDRESS), address);
        report(&format!(
            "  {}  {}  {value}  (ttl {})",
            record.name, record.kind, record.ttl
        ));
    }
    Ok(())
}

/// `railyard status`: the cluster's state as Flux and the nodes report it; exit 1 unless all
/// is ready at the committed HEAD.
pub(super) fn status(
    cli: &Cli,
    site: &Path,
    kubeconfig: Option<&Path>,
    repo: Option<&Path>,
) -> Result<Exit> {
    let (loaded, output) = compile_site(cli, site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(code);
    };
    let path = match kubeconfig {
        Some(path) => path.to_owned(),
        None => kube_state_dir().join(layout::kubeconfig_name(&tree.site)),
    };
    let repo = repo.map_or_else(|| loaded.site_dir.clone(), Path::to_owned);
    let healthy = flux::status(&tree.site, &tree.files, &path, &repo)?;
    Ok(if healthy {
        Exit::Success
    } else {
        Exit::Findings
    })
}
