//! `plan`, `bootstrap` and `destroy`: a site's machines on Hetzner Cloud, and the cluster's
//! kubeconfig once k3s is up.
//!
//! The cloud is the only state: each run lists what carries the site's label, computes a plan
//! (a value, `core::plan`) and carries it out. A run stopped anywhere is finished by the next.
//! Independent resources are created at the same time, in two waves: keys, network, firewall
//! and placement groups; then load balancers and servers, which refer to the first wave.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value as Json, json};

use crate::app::{Exit, compile_site, flux, print_diagnostics};
use crate::cli::Cli;
use crate::core::plan::{self, FollowUp, Kind, Observed, Plan, Step, Wanted};
use crate::core::{cluster, kubeconfig, placeholder};
use crate::edge::hetzner::{CloudError, Hetzner, Timing};
use crate::edge::{age_keys, ssh};
use crate::sops::file as sops_file;

/// How many requests bootstrap keeps in flight at once.
const IN_FLIGHT: usize = 16;

/// What every cloud command needs: the client and the site's rendered tree.
struct Site {
    client: Arc<Hetzner>,
    site: String,
    files: BTreeMap<String, Vec<u8>>,
    site_dir: std::path::PathBuf,
    secrets_file: String,
}

/// The compiled site and a client; `Err(code)` when the site has errors (already reported).
fn context(cli: &Cli, site: &Path, api_url: &str) -> Result<Result<Site, Exit>> {
    let (loaded, output) = compile_site(site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(Err(code));
    };
    plan::wanted(&tree.site, &tree.files).map_err(anyhow::Error::msg)?;
    let token = std::env::var("HCLOUD_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .context("HCLOUD_TOKEN is not set: create an API token (read & write) in the Hetzner Cloud console for the site's project")?;
    let client = Hetzner::new(api_url, token.trim(), timing())?;
    let secrets_file = crate::core::compile::secrets_file(&loaded.inputs.site).unwrap_or_default();
    Ok(Ok(Site {
        client: Arc::new(client),
        site: tree.site.clone(),
        files: tree.files,
        site_dir: loaded.site_dir,
        secrets_file,
    }))
}

/// Retry and poll timing; `RAILYARD_RETRY_BASE_MS` and `RAILYARD_POLL_MS` shorten them for tests
/// against the local fake (never needed against the real API).
fn timing() -> Timing {
    let mut timing = Timing::default();
    if let Some(base) = millis("RAILYARD_RETRY_BASE_MS") {
        timing.base = base;
        timing.cap = base * 60;
        timing.rate_limit_cap = base * 60;
    }
    if let Some(poll) = millis("RAILYARD_POLL_MS") {
        timing.poll = poll;
    }
    timing
}

/// A duration in milliseconds from the environment (the test hooks above).
pub(super) fn millis(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn current_plan(context: &Site) -> Result<(Plan, Vec<Observed>)> {
    let wanted = plan::wanted(&context.site, &context.files).map_err(anyhow::Error::msg)?;
    let observed = context.client.inventory(&context.site).await?;
    Ok((plan::plan(&context.site, wanted, &observed), observed))
}

/// `railyard plan`: read the cloud, print the plan; exit 1 when bootstrap has work to do.
pub(super) fn plan(cli: &Cli, site: &Path, api_url: &str) -> Result<Exit> {
    let context = match context(cli, site, api_url)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    let (plan, _) = runtime()?.block_on(current_plan(&context))?;
    print!("{}", plan.to_text());
    Ok(if plan.has_changes() {
        Exit::Findings
    } else {
        Exit::Success
    })
}

/// `railyard destroy`: every resource carrying the site's label, dependents first.
pub(super) fn destroy(cli: &Cli, site: &Path, api_url: &str, yes: bool) -> Result<Exit> {
    let context = match context(cli, site, api_url)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let observed = context.client.inventory(&context.site).await?;
        if observed.is_empty() {
            println!(
                "nothing in the project carries the label of site `{}`",
                context.site
            );
            return Ok(Exit::Success);
        }
        let mut ordered = observed.clone();
        ordered.sort_by(|a, b| {
            (std::cmp::Reverse(a.kind), &a.name).cmp(&(std::cmp::Reverse(b.kind), &b.name))
        });
        println!("resources of site `{}`:", context.site);
        for o in &ordered {
            println!("  - {:<16} {} (#{})", o.kind.noun(), o.name, o.id);
        }
        if !yes {
            println!(
                "not deleted: run again with `--yes` to delete these {} resources",
                ordered.len()
            );
            return Ok(Exit::Findings);
        }
        for kind in Kind::ALL.into_iter().rev() {
            let batch: Vec<&Observed> = ordered.iter().filter(|o| o.kind == kind).collect();
            let client = &context.client;
            let results = futures::future::join_all(batch.iter().map(|o| async move {
                let actions = client.delete(o.kind, o.id).await?;
                client.wait(&actions).await?;
                Ok::<_, CloudError>(())
            }))
            .await;
            for result in results {
                result?;
            }
            if !batch.is_empty() {
                println!("deleted {} {}(s)", batch.len(), kind.noun());
            }
        }
        Ok(Exit::Success)
    })
}

/// How bootstrap reaches the cluster once the machines exist.
pub(super) struct Cluster {
    pub(super) kubeconfig: Option<std::path::PathBuf>,
    pub(super) ssh_key: Option<std::path::PathBuf>,
    pub(super) wait: Duration,
    pub(super) flux: flux::Setup,
}

/// `railyard bootstrap`: carry out the plan, wait for k3s and write the cluster's kubeconfig,
/// give Flux its Secrets and sync objects, wait until it is Ready, and print the DNS records.
pub(super) fn bootstrap(cli: &Cli, site: &Path, api_url: &str, cluster: &Cluster) -> Result<Exit> {
    let context = match context(cli, site, api_url)? {
        Ok(context) => context,
        Err(code) => return Ok(code),
    };
    let secrets = read_secrets(&context)?;
    let identity = flux::cluster_identity(&context.site, &context.files, &cluster.flux)?;
    let raws = runtime()?.block_on(async {
        let (plan, observed) = current_plan(&context).await?;
        print!("{}", plan.to_text());
        let started = std::time::Instant::now();
        let raws = execute(&context, &plan, &observed, &secrets).await?;
        println!(
            "cloud resources in place after {:.2} s",
            started.elapsed().as_secs_f64()
        );
        for step in &plan.steps {
            if let Step::Differs {
                kind,
                name,
                what,
                converge: None,
                ..
            } = step
            {
                println!("left as it is: {} `{name}`: {what}", kind.noun());
            }
        }
        Ok::<_, anyhow::Error>(raws)
    })?;
    let address = |kind: Kind, name: String| {
        raws.get(&(kind, name))
            .and_then(|raw| raw["public_net"]["ipv4"]["ip"].as_str())
            .map(str::to_owned)
    };
    let site_name = &context.site;
    let first = address(Kind::Server, format!("{site_name}-server-0"))
        .context("the first server has no public address")?;
    let api =
        address(Kind::LoadBalancer, format!("{site_name}-api")).unwrap_or_else(|| first.clone());
    let (path, config) = write_kubeconfig(&context, cluster, &first, &api)?;
    println!(
        "k3s is up; kubeconfig for context `{site_name}` written to {}",
        path.display()
    );
    runtime()?.block_on(flux::install(
        site_name,
        &context.files,
        &config,
        &cluster.flux,
        &identity,
    ))?;
    print_dns_records(
        &context,
        address(Kind::LoadBalancer, format!("{site_name}-ingress")).as_deref(),
    )?;
    Ok(Exit::Success)
}

/// Waits until k3s on the first server has written its kubeconfig, fetches it over SSH (port
/// 2244, or 22 while cloud-init has not moved sshd yet), and writes it for the API address.
fn write_kubeconfig(
    context: &Site,
    cluster: &Cluster,
    first: &str,
    api: &str,
) -> Result<(std::path::PathBuf, String)> {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    let state = home.join(".kube").join("railyard");
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
    println!(
        "waiting for k3s on {first} (at most {} s)",
        cluster.wait.as_secs()
    );
    let text = ssh::wait_for(
        &target,
        "cat /etc/rancher/k3s/k3s.yaml",
        Duration::from_secs(5).min(cluster.wait),
        cluster.wait,
    )?;
    let tls_name = cluster::api_private_address(&context.site, &context.files);
    let config = kubeconfig::rewrite(
        &text,
        &context.site,
        &format!("https://{api}:6443"),
        tls_name.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    let path = cluster
        .kubeconfig
        .clone()
        .unwrap_or_else(|| state.join(format!("{}.yaml", context.site)));
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

/// The decrypted secrets file's `stringData`, in memory only.
fn read_secrets(context: &Site) -> Result<BTreeMap<String, String>> {
    let path = context.site_dir.join(&context.secrets_file);
    let text = std::fs::read_to_string(&path)
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

/// Runs the plan; returns the ingress load balancer's public IPv4 when known.
async fn execute(
    context: &Site,
    plan: &Plan,
    observed: &[Observed],
    secrets: &BTreeMap<String, String>,
) -> Result<BTreeMap<(Kind, String), Json>> {
    let client = &context.client;
    let site = &context.site;
    let mut ids: BTreeMap<(Kind, String), u64> = observed
        .iter()
        .map(|o| ((o.kind, o.name.clone()), o.id))
        .collect();
    let mut raws: BTreeMap<(Kind, String), Json> = observed
        .iter()
        .map(|o| ((o.kind, o.name.clone()), o.raw.clone()))
        .collect();
    for step in &plan.steps {
        if let Step::Differs {
            kind,
            name,
            id,
            converge: Some(body),
            ..
        } = step
        {
            let actions = client.action(*kind, *id, "set_rules", body).await?;
            client.wait(&actions).await?;
            println!("converged {} `{name}`", kind.noun());
        }
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let work = plan.creates().count()
        + plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Finish { .. }))
            .count();
    // A bar on a terminal (stderr); the lines it prints go to stdout either way.
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(work as u64),
        indicatif::ProgressDrawTarget::stderr(),
    )
    .with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} resources {wide_bar} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = &progress;
    for wave in 0..3 {
        let creates: Vec<&Wanted> = plan
            .creates()
            .filter(|w| wave_of(w.kind, &w.then) == wave)
            .collect();
        let finishes: Vec<(Kind, &String, u64, &Vec<FollowUp>)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Finish {
                    kind,
                    name,
                    id,
                    then,
                } if wave_of(*kind, then) == wave => Some((*kind, name, *id, then)),
                _ => None,
            })
            .collect();
        let mut bodies = Vec::new();
        for wanted in &creates {
            bodies.push(resolve(context, wanted, &ids, secrets)?);
        }
        let network = ids
            .get(&(Kind::Network, format!("{site}-network")))
            .copied();
        let created =
            futures::future::join_all(creates.iter().zip(bodies).map(|(wanted, body)| {
                let limit = limit.clone();
                async move {
                    let _slot = limit.acquire().await.map_err(|e| anyhow::anyhow!(e))?;
                    let created = client.create(wanted.kind, site, &body).await?;
                    client.wait(&created.actions).await?;
                    let then: Vec<&FollowUp> = wanted
                        .then
                        .iter()
                        // A fresh create's answer predates its follow-ups; an adopted
                        // resource was just read, so what it already has is skipped.
                        .filter(|f| !created.adopted || !f.done(&created.raw))
                        .collect();
                    follow_up(client, wanted.kind, created.id, &then, network).await?;
                    let raw = if wanted.then.is_empty() {
                        created.raw
                    } else {
                        client.get(wanted.kind, created.id).await?
                    };
                    progress.inc(1);
                    progress.suspend(|| {
                        println!(
                            "{} {} `{}` (#{})",
                            if created.adopted {
                                "adopted"
                            } else {
                                "created"
                            },
                            wanted.kind.noun(),
                            wanted.name,
                            created.id
                        )
                    });
                    Ok::<_, anyhow::Error>(((wanted.kind, wanted.name.clone()), created.id, raw))
                }
            }))
            .await;
        for result in created {
            let (key, id, raw) = result?;
            ids.insert(key.clone(), id);
            raws.insert(key, raw);
        }
        let network = ids
            .get(&(Kind::Network, format!("{site}-network")))
            .copied();
        let finished = futures::future::join_all(finishes.iter().map(|(kind, name, id, then)| {
            let limit = limit.clone();
            async move {
                let _slot = limit.acquire().await.map_err(|e| anyhow::anyhow!(e))?;
                let then: Vec<&FollowUp> = then.iter().collect();
                follow_up(client, *kind, *id, &then, network).await?;
                progress.inc(1);
                progress.suspend(|| println!("finished {} `{name}` (#{id})", kind.noun()));
                Ok::<_, anyhow::Error>(((*kind, (*name).clone()), client.get(*kind, *id).await?))
            }
        }))
        .await;
        for result in finished {
            let (key, raw) = result?;
            raws.insert(key, raw);
        }
    }
    progress.finish_and_clear();
    Ok(raws)
}

/// Which wave creates a resource: 0 what others refer to (keys, network, firewall, placement
/// groups); 1 what takes a fixed private address (servers, the API load balancer), before
/// 2 what takes any free one (workers, the ingress load balancer), which could otherwise take
/// a fixed address first.
fn wave_of(kind: Kind, then: &[FollowUp]) -> u8 {
    match kind {
        Kind::SshKey | Kind::Network | Kind::Firewall | Kind::PlacementGroup => 0,
        _ if then
            .iter()
            .any(|f| matches!(f, FollowUp::AttachToNetwork { ip: Some(_) })) =>
        {
            1
        }
        _ => 2,
    }
}

/// The create body with names of other resources replaced by their ids and the user-data file
/// replaced by its text, secrets filled in.
fn resolve(
    context: &Site,
    wanted: &Wanted,
    ids: &BTreeMap<(Kind, String), u64>,
    secrets: &BTreeMap<String, String>,
) -> Result<Json> {
    let mut body = wanted.body.clone();
    let id_of = |kind: Kind, name: &str| {
        ids.get(&(kind, name.to_owned()))
            .copied()
            .with_context(|| format!("{} `{name}` does not exist yet", kind.noun()))
    };
    if wanted.kind == Kind::Server {
        let keys: Vec<u64> = body["ssh_keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(|name| id_of(Kind::SshKey, name))
            .collect::<Result<_>>()?;
        body["ssh_keys"] = json!(keys);
        if let Some(group) = body["placement_group"].as_str() {
            body["placement_group"] = json!(id_of(Kind::PlacementGroup, group)?);
        }
        if let Some(networks) = body["networks"].as_array() {
            let networks: Vec<u64> = networks
                .iter()
                .filter_map(Json::as_str)
                .map(|name| id_of(Kind::Network, name))
                .collect::<Result<_>>()?;
            body["networks"] = json!(networks);
        }
        if let Some(file) = body["user_data"].as_str() {
            let bytes = context
                .files
                .get(file)
                .with_context(|| format!("the render has no `{file}`"))?;
            let text = String::from_utf8_lossy(bytes);
            let filled = placeholder::fill_secrets(&text, |key| secrets.get(key).cloned())
                .map_err(|why| anyhow::anyhow!("`{file}`: {why}"))?;
            body["user_data"] = json!(filled);
        }
    }
    Ok(body)
}

/// The follow-up actions of one resource, each waited for before the next.
async fn follow_up(
    client: &Hetzner,
    kind: Kind,
    id: u64,
    then: &[&FollowUp],
    network: Option<u64>,
) -> Result<()> {
    for step in then {
        let (verb, body) = match step {
            FollowUp::AttachToNetwork { ip } => {
                let network = network.context("the site's network does not exist")?;
                let mut body = json!({ "network": network });
                if let Some(ip) = ip {
                    body["ip"] = json!(ip);
                }
                ("attach_to_network", body)
            }
            FollowUp::AddTarget { selector } => (
                "add_target",
                json!({ "type": "label_selector", "label_selector": { "selector": selector }, "use_private_ip": true }),
            ),
            FollowUp::PowerOn => ("poweron", json!({})),
        };
        let actions = client.action(kind, id, verb, &body).await?;
        client.wait(&actions).await?;
    }
    Ok(())
}

fn print_dns_records(context: &Site, ingress: Option<&str>) -> Result<()> {
    let records = plan::dns_records(&context.site, &context.files).map_err(anyhow::Error::msg)?;
    let address = ingress.unwrap_or("(the ingress load balancer has no address yet)");
    println!("create these DNS records at your DNS provider:");
    for record in records {
        let value = record
            .value
            .replace(&placeholder::address("ingress-ipv4"), address);
        println!(
            "  {}  {}  {value}  (ttl {})",
            record.name, record.kind, record.ttl
        );
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
    let (loaded, output) = compile_site(site)?;
    let code = print_diagnostics(cli, &loaded, &output);
    let Some(tree) = output.tree else {
        return Ok(code);
    };
    let path = match kubeconfig {
        Some(path) => path.to_owned(),
        None => std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_default()
            .join(".kube/railyard")
            .join(format!("{}.yaml", tree.site)),
    };
    let repo = repo.map_or_else(|| loaded.site_dir.clone(), Path::to_owned);
    let healthy = flux::status(&tree.site, &tree.files, &path, &repo)?;
    Ok(if healthy {
        Exit::Success
    } else {
        Exit::Findings
    })
}
