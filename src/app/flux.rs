//! The cluster half of `bootstrap` and the `status` command: the `sops-age` Secret, the git
//! Secret (an ssh deploy key, or an https repository's credentials), the Flux sync objects,
//! and waiting until every Flux Kustomization is Ready.
//!
//! k3s installs Flux itself (the rendered HelmChart in the server's auto-deploy manifests), so
//! bootstrap only waits for Flux's API, gives it what it cannot get from git, and applies the
//! GitRepository and root Kustomization once; from then on Flux manages them from the
//! repository. Every step is an idempotent apply, so a re-run after any failure goes on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

use crate::app::lines::{self, progress, report};
use crate::app::runtime::{millis, runtime};
use crate::bootstrap::cluster::{self, FLUX_NAMESPACE};
use crate::bootstrap::git_credentials;
use crate::bootstrap::readiness::{self, Readiness};
use crate::bootstrap::status::{self, ClusterState};
use crate::core::layout::{self, GIT_SECRET};
use crate::edge::kube::{Kube, KubeError, WatchError};
use crate::edge::{age_keys, ssh};

/// What the cluster half of bootstrap needs besides the rendered tree.
pub(super) struct Setup {
    /// The age identity the cluster decrypts with (default: the user's identity that is a
    /// recipient of the secrets file).
    pub(super) age_key: Option<PathBuf>,
    /// `known_hosts` lines for the git host (default: `ssh-keyscan` of it).
    pub(super) git_known_hosts: Option<PathBuf>,
    /// How long to wait for Flux to install and for its Kustomizations to become Ready.
    pub(super) wait: Duration,
}

/// A client for the cluster a kubeconfig names, through kube's kubeconfig loading (its current
/// context). `RAILYARD_KUBE_REDIRECT` (`HOST:PORT`) sends its requests elsewhere: tests put a
/// local API server behind the fake cloud's address. Runs inside the runtime: the client's
/// connection pool lives there.
async fn connect(kubeconfig_text: &str) -> Result<Kube> {
    Ok(Kube::connect(kubeconfig_text, redirect().as_deref(), retry_base()).await?)
}

fn redirect() -> Option<String> {
    std::env::var("RAILYARD_KUBE_REDIRECT").ok()
}

fn retry_base() -> Duration {
    millis("RAILYARD_RETRY_BASE_MS").unwrap_or(Duration::from_secs(1))
}

fn poll() -> Duration {
    millis("RAILYARD_POLL_MS").unwrap_or(Duration::from_secs(2))
}

/// The age identity to give the cluster, as its `AGE-SECRET-KEY-1...` line: checked before
/// bootstrap creates anything, so a wrong key costs nothing.
pub(super) fn cluster_identity(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    setup: &Setup,
) -> Result<String> {
    use age::secrecy::ExposeSecret as _;
    let secrets_path = layout::secrets_copy(site);
    let secrets_text = files
        .get(&secrets_path)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .with_context(|| format!("the render has no `{secrets_path}`"))?;
    if let Some(path) = &setup.age_key {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the age key `{}`", path.display()))?;
        let identity = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .with_context(|| format!("`{}` holds no age identity", path.display()))?;
        let parsed: age::x25519::Identity = identity
            .parse()
            .map_err(|_| anyhow::anyhow!("`{}` holds no valid age identity", path.display()))?;
        let recipient = parsed.to_public().to_string();
        if !secrets_text.contains(&recipient) {
            bail!(
                "the age key in `{}` (recipient `{recipient}`) cannot decrypt the secrets file: add the recipient to `spec.secrets.ageRecipients` and run `railyard secrets rotate`",
                path.display()
            );
        }
        return Ok(parsed.to_string().expose_secret().to_owned());
    }
    age_keys::load()?
        .into_iter()
        .find(|identity| secrets_text.contains(&identity.to_public().to_string()))
        .map(|identity| identity.to_string().expose_secret().to_owned())
        .context("none of your age identities is a recipient of the secrets file: pass the cluster's key with `--age-key FILE`")
}

/// `ssh://[user@]host[:port]/path` or `user@host:path`: the host and port to scan.
fn ssh_host(url: &str) -> Option<(String, u16)> {
    let url = crate::core::values::GitUrl::parse(url).ok()?;
    url.ssh_address()
        .map(|(host, port)| (host.to_owned(), port))
}

/// Waits until `ready` says so, every poll interval, until `deadline`; failures of the API
/// count as "not yet". Only for what cannot be watched: the API server itself coming up, and
/// Flux's API groups appearing in discovery.
async fn wait_until<T>(
    what: &str,
    deadline: Instant,
    mut ready: impl AsyncFnMut() -> Result<Option<T>, KubeError>,
) -> Result<T> {
    let mut last = String::from("not yet");
    loop {
        match ready().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e @ (KubeError::Transport { .. } | KubeError::Api { .. })) => {
                last = e.to_string();
            }
            Err(e) => return Err(e.into()),
        }
        if Instant::now() >= deadline {
            bail!("gave up waiting for {what}; last: {last}");
        }
        tokio::time::sleep(poll()).await;
    }
}

fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Gives Flux its Secrets and sync objects and waits until every Kustomization the render
/// expects is Ready.
pub(super) async fn install(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    kubeconfig_text: &str,
    setup: &Setup,
    identity: &str,
) -> Result<()> {
    let deadline = Instant::now() + setup.wait;
    let sync = cluster::sync_objects(site, files)?;
    let expected = cluster::expected_kustomizations(site, files)?;
    let kube = connect(kubeconfig_text).await?;

    let bar = spinner("waiting for Flux to be installed by k3s");
    wait_for_flux(&kube, deadline).await?;
    bar.suspend(|| progress(&format!("Flux's namespace `{FLUX_NAMESPACE}` exists")));
    apply_sync(&kube, site, files, &sync, setup, identity, &bar).await?;
    bar.finish_and_clear();
    wait_for_kustomizations(&kube, &expected, deadline, setup.wait).await?;
    report(&format!("Flux Ready: {} Kustomizations", expected.len()));
    Ok(())
}

/// Waits for the API, Flux's API groups (installed by k3s) and Flux's namespace.
async fn wait_for_flux(kube: &Kube, deadline: Instant) -> Result<()> {
    wait_until("the Kubernetes API", deadline, async || {
        kube.version().await
    })
    .await?;
    for group in [
        &cluster::GIT_REPOSITORY,
        &cluster::KUSTOMIZATION,
        &cluster::HELM_RELEASE,
    ] {
        wait_until(
            &format!("Flux's API `{}`", group.api_version),
            deadline,
            async || kube.group(group).await,
        )
        .await?;
    }
    kube.watch_until(
        &cluster::NAMESPACE,
        "the `flux-system` namespace",
        deadline,
        |namespaces| {
            namespaces
                .iter()
                .any(|n| n["metadata"]["name"] == FLUX_NAMESPACE)
                .then_some(())
        },
    )
    .await?;
    Ok(())
}

/// Applies the two Secrets and the rendered sync objects.
async fn apply_sync(
    kube: &Kube,
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    sync: &[Json],
    setup: &Setup,
    identity: &str,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    kube.apply(&cluster::sops_age_secret(site, identity))
        .await?;
    bar.suspend(|| progress("applied Secret `sops-age` (the cluster's age identity)"));
    let repository = sync
        .iter()
        .find(|o| o["kind"] == cluster::GIT_REPOSITORY.kind)
        .context("the render's gotk-sync.yaml has no GitRepository")?;
    let url = repository["spec"]["url"].as_str().unwrap_or_default();
    if ssh_host(url).is_some() {
        deploy_key(kube, site, url, setup, bar).await?;
    } else {
        https_credentials(kube, site, files, identity, url, bar).await?;
    }
    for object in sync {
        kube.apply(object).await?;
        bar.suspend(|| {
            progress(&format!(
                "applied {} `{}`",
                object["kind"].as_str().unwrap_or("?"),
                object["metadata"]["name"].as_str().unwrap_or("?")
            ));
        });
    }
    Ok(())
}

/// Waits until every expected Kustomization is Ready, announcing each change of state.
async fn wait_for_kustomizations(
    kube: &Kube,
    expected: &[(String, String)],
    deadline: Instant,
    wait: Duration,
) -> Result<()> {
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(expected.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    )
    .with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} Flux Kustomizations ready {wide_bar} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut announced: BTreeMap<String, Readiness> = BTreeMap::new();
    let result = kube
        .watch_until(&cluster::KUSTOMIZATION, "Flux", deadline, |items| {
            let states = readiness::kustomizations(expected, items);
            for (name, state) in &states {
                let changed = announced.get(name).is_none_or(|before| {
                    std::mem::discriminant(before) != std::mem::discriminant(state)
                });
                if changed && !matches!(state, Readiness::Missing) {
                    progress.suspend(|| match state {
                        Readiness::Ready(Some(revision)) => {
                            lines::progress(&format!("Kustomization `{name}` ready at {revision}"))
                        }
                        _ => lines::progress(&format!("Kustomization `{name}`: {state}")),
                    });
                }
                announced.insert(name.clone(), state.clone());
            }
            let ready = states.iter().filter(|(_, s)| s.is_ready()).count();
            progress.set_position(ready as u64);
            (ready == states.len()).then_some(())
        })
        .await;
    progress.finish_and_clear();
    if let Err(error) = result {
        if let WatchError::Kube(error) = error {
            return Err(error.into());
        }
        let waiting: Vec<String> = announced
            .iter()
            .filter(|(_, s)| !s.is_ready())
            .map(|(name, state)| format!("`{name}` {state}"))
            .collect();
        bail!(
            "Flux is not ready after {} s: {}; run bootstrap again to keep waiting, or `railyard status` for details",
            wait.as_secs(),
            waiting.join("; ")
        );
    }
    Ok(())
}

/// The Secret Flux pulls with: an SSH deploy key, generated once and then kept in the cluster,
/// its public half printed for the user to add to the git host.
async fn deploy_key(
    kube: &Kube,
    site: &str,
    url: &str,
    setup: &Setup,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let existing = kube
        .object(&cluster::SECRET, Some(FLUX_NAMESPACE), GIT_SECRET)
        .await?;
    let Some((host, port)) = ssh_host(url) else {
        return Ok(());
    };
    if let Some(public) = existing.as_ref().and_then(cluster::deploy_key_public) {
        bar.suspend(|| {
            report(&format!(
                "deploy key kept; it must be a read-only deploy key of `{url}`:\n  {public}"
            ));
        });
        return Ok(());
    }
    let known_hosts = match &setup.git_known_hosts {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read `{}`", file.display()))?,
        None => ssh::keyscan(&host, port).with_context(|| {
            format!(
                "cannot read the host keys of `{host}`; pass them with `--git-known-hosts FILE`"
            )
        })?,
    };
    let private = ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
        .context("cannot generate a deploy key")?;
    let mut public = private.public_key().clone();
    public.set_comment(format!("flux-{site}"));
    let public = public
        .to_openssh()
        .context("cannot encode the deploy key")?;
    let private_text = private
        .to_openssh(ssh_key::LineEnding::LF)
        .context("cannot encode the deploy key")?;
    kube.apply(&cluster::deploy_key_secret(
        site,
        &private_text,
        &public,
        &known_hosts,
    ))
    .await?;
    bar.suspend(|| {
        report(&format!(
            "applied Secret `{GIT_SECRET}` with a new deploy key; add it to `{url}` as a read-only deploy key:\n  {public}"
        ));
    });
    Ok(())
}

/// The Secret Flux pulls an `https://` repository with: the rendered one, its values filled
/// from the secrets file (decrypted in memory with the cluster's identity). Flux cannot fetch
/// the repository that holds it before it exists; from then on Flux applies it from git. A
/// public repository renders none.
async fn https_credentials(
    kube: &Kube,
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    identity: &str,
    url: &str,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    if !files.contains_key(&layout::git_credentials(site)) {
        bar.suspend(|| {
            report(&format!(
                "Flux pulls `{url}` over HTTPS as a public repository"
            ))
        });
        return Ok(());
    }
    let parsed: age::x25519::Identity = identity
        .parse()
        .map_err(|_| anyhow::anyhow!("the cluster's age identity does not parse"))?;
    let secrets_path = layout::secrets_copy(site);
    let text = files
        .get(&secrets_path)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .with_context(|| format!("the render has no `{secrets_path}`"))?;
    let decrypted = crate::sops::file::decrypt(&text, &[parsed])
        .with_context(|| format!("cannot decrypt `{secrets_path}`"))?;
    let values: BTreeMap<String, String> = decrypted
        .values()
        .into_iter()
        .filter_map(|(path, value)| Some((path.strip_prefix("stringData:")?.to_owned(), value)))
        .collect();
    let secret = git_credentials::secret(site, files, &values)?
        .context("the render's git credentials hold no Secret")?;
    kube.apply(&secret).await?;
    bar.suspend(|| {
        progress(&format!(
            "applied Secret `{GIT_SECRET}` in `{FLUX_NAMESPACE}` (the credentials Flux pulls `{url}` with)"
        ));
    });
    Ok(())
}

/// `railyard status`: nodes, Flux sources, Kustomizations and HelmReleases, compared with the
/// commit the site's branch points at in the local repository.
pub(super) fn status(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    kubeconfig_path: &Path,
    repo: &Path,
) -> Result<bool> {
    // Read by kube below; looked at first so that a missing file is an IO error with the hint.
    std::fs::metadata(kubeconfig_path).with_context(|| {
        format!(
            "cannot read the kubeconfig `{}` (bootstrap writes it; or pass `--kubeconfig`)",
            kubeconfig_path.display()
        )
    })?;
    let branch = cluster::sync_objects(site, files)?
        .iter()
        .find_map(|o| o["spec"]["ref"]["branch"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "main".to_owned());
    let head = match crate::edge::git::branch_head(repo, &branch) {
        Ok(head) => head,
        Err(e) => {
            eprintln!("note: no committed HEAD to compare with: {e}");
            None
        }
    };
    let state = runtime()?.block_on(async {
        let kube = Kube::connect_file(kubeconfig_path, redirect().as_deref(), retry_base())
            .await
            .with_context(|| {
                format!("cannot use the kubeconfig `{}`", kubeconfig_path.display())
            })?;
        let nodes = kube.list(&cluster::NODE).await?.unwrap_or_default();
        let mut sources: Option<Vec<Json>> = None;
        for kind in [&cluster::GIT_REPOSITORY, &cluster::HELM_REPOSITORY] {
            if let Some(items) = kube.list(kind).await? {
                sources.get_or_insert_with(Vec::new).extend(items);
            }
        }
        Ok::<_, anyhow::Error>(ClusterState {
            nodes,
            sources,
            kustomizations: kube.list(&cluster::KUSTOMIZATION).await?,
            helm_releases: kube.list(&cluster::HELM_RELEASE).await?,
            head,
        })
    })?;
    let (text_report, healthy) = status::report(site, &state);
    report(&text_report);
    Ok(healthy)
}
