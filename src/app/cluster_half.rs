//! The cluster half of `bootstrap` on its own: what `bootstrap` does once it holds the new
//! cluster's kubeconfig. The command line reaches it only through `bootstrap`; tests call it
//! directly against a real API server, with no cloud in front of it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use super::flux;
use super::runtime::runtime;

/// What `bootstrap --age-key --git-known-hosts --flux-wait` pass to the cluster half.
pub struct ClusterHalf {
    /// The age identity file the cluster decrypts with (`--age-key`).
    pub age_key: Option<PathBuf>,
    /// `known_hosts` lines for the git host (`--git-known-hosts`; default: `ssh-keyscan`).
    pub git_known_hosts: Option<PathBuf>,
    /// How long to wait for Flux's API and for its Kustomizations to become Ready.
    pub wait: Duration,
}

/// Checks the age identity, then gives Flux its Secrets and sync objects and waits until every
/// Kustomization the render expects is Ready, exactly as `bootstrap` does after it has written
/// the kubeconfig: `files` is the site's render (paths relative to the repository root).
pub fn install(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    kubeconfig_text: &str,
    half: &ClusterHalf,
) -> Result<()> {
    let setup = flux::Setup {
        age_key: half.age_key.clone(),
        git_known_hosts: half.git_known_hosts.clone(),
        wait: half.wait,
    };
    let identity = flux::cluster_identity(site, files, &setup)?;
    runtime()?.block_on(flux::install(
        site,
        files,
        kubeconfig_text,
        &setup,
        &identity,
    ))
}
