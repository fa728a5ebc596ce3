//! cloud-init user-data for k3s servers and workers, from the Handlebars templates in `cloud-init/`.
//!
//! Secret values and cloud-assigned addresses are placeholders (`core::placeholder`) that
//! bootstrap fills in when it creates a machine; nothing secret is committed.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::defaults;
use crate::generate::k3s;
use crate::json_value::value;
use crate::layout;
use crate::model::{CLUSTER_CIDR, Pool, Site};
use crate::site::Provider;
use crate::template::Template;

const NODE_TEMPLATE: &str = include_str!("../../../../cloud-init/node.yaml.hbs");
const SSHD_PORT_SCRIPT: &str = include_str!("../../../../cloud-init/sshd-port.sh");
const NODE_NETWORK_SCRIPT: &str = include_str!("../../../../cloud-init/node-network.sh.hbs");
const METADATA_BLOCK_SCRIPT: &str = include_str!("../../../../cloud-init/metadata-block.sh.hbs");
const INSTALL_K3S_SCRIPT: &str = include_str!("../../../../cloud-init/install-k3s.sh.hbs");
const METADATA_BLOCK_UNIT: &str =
    include_str!("../../../../cloud-init/railyard-metadata-block.service");
const FLUX_HANDOVER_SCRIPT: &str = include_str!("../../../../cloud-init/flux-handover.sh.hbs");
const UNATTENDED_UPGRADES: &str = include_str!("../../../../cloud-init/unattended-upgrades.conf");
const AUTO_UPGRADES: &str = include_str!("../../../../cloud-init/auto-upgrades.conf");

/// Packages every node installs: curl for the k3s installer, iptables for the metadata block,
/// fuse3 for Gitpod's FUSE filesystem shifting (shiftfs is gone from Ubuntu 22.04 and 24.04),
/// unattended-upgrades for security patches (in Ubuntu's cloud images, named so it stays).
const PACKAGES: &[&str] = &[
    "ca-certificates",
    "curl",
    "fuse3",
    "iptables",
    "unattended-upgrades",
];

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    for server in &site.servers {
        let path = layout::host_file(&site.name, &layout::server_user_data(server.index));
        // k3s does not sync its auto-deploy directory between servers: Flux goes on the first.
        let flux = (server.index == 0).then(|| k3s::flux_manifest(site));
        let text = render(
            site,
            &format!("server {}", server.index),
            "server",
            &k3s::server_config(site, server),
            Node {
                flux_manifest: flux.as_deref(),
                ..Node::default()
            },
        );
        files.insert(path, text.into_bytes());
    }
    if site.workers.count > 0 {
        let path = layout::host_file(&site.name, layout::WORKER_USER_DATA);
        files.insert(
            path,
            render(
                site,
                "worker",
                "agent",
                &k3s::worker_config(site),
                Node::default(),
            )
            .into_bytes(),
        );
    }
    for pool in &site.pools {
        let path = layout::host_file(&site.name, &layout::pool_user_data(&pool.name));
        files.insert(path, pool_user_data(site, pool).into_bytes());
    }
}

/// A worker pool's user-data: the workers' template with the pool's k3s config. Static pools'
/// servers boot it from `hosts/<site>/`, and cluster-autoscaler's config carries the same text
/// for an autoscaled pool's servers, so both join at the same pinned k3s version.
pub fn pool_user_data(site: &Site, pool: &Pool) -> String {
    render(
        site,
        &format!("worker of pool {}", pool.name),
        "agent",
        &k3s::pool_config(site, pool),
        Node {
            flux_manifest: None,
            hcloud_provider_id: site.provider == Provider::Hetzner,
        },
    )
}

/// What differs between the machines' user-data beyond the k3s config.
#[derive(Clone, Copy, Default)]
struct Node<'a> {
    /// The first server's Flux HelmChart.
    flux_manifest: Option<&'a str>,
    /// Whether the node registers with Hetzner's provider ID (a `large` pool's, which
    /// cluster-autoscaler must match to its server).
    hcloud_provider_id: bool,
}

fn render(site: &Site, role: &str, k3s_command: &str, k3s_config: &str, node: Node<'_>) -> String {
    let flux_manifest = node.flux_manifest;
    let network_script = TEMPLATES
        .node_network
        .render(
            &value!({ "network_cidr": &site.network.cidr, "hcloud_provider_id": node.hcloud_provider_id }),
        )
        .expect("the network script renders");
    let metadata_script = TEMPLATES
        .metadata_block
        .render(&value!({ "cluster_cidr": CLUSTER_CIDR, "wireserver": wireserver(site) }))
        .expect("the metadata script renders");
    let install_script = TEMPLATES
        .install_k3s
        .render(&value!({
            "url": defaults::K3S_INSTALL_SCRIPT.url,
            "sha256": defaults::K3S_INSTALL_SCRIPT.sha256,
            "k3s_version": &site.versions.k3s,
            "k3s_command": k3s_command,
        }))
        .expect("the k3s install script renders");
    let data = value!({
        "role": role,
        "site": &site.name,
        "packages": PACKAGES,
        "ssh_keys": &site.ssh_keys,
        "sshd_port_script": SSHD_PORT_SCRIPT,
        "node_network_script": network_script,
        "metadata_block_script": metadata_script,
        "metadata_block_unit": METADATA_BLOCK_UNIT,
        "k3s_config": k3s_config,
        "install_k3s_script": install_script,
        "flux": flux_manifest.map(flux_first_boot),
        "unattended_upgrades": UNATTENDED_UPGRADES,
        "auto_upgrades": AUTO_UPGRADES,
    });
    TEMPLATES
        .node
        .render(&data)
        .expect("the node template renders with complete data")
}

/// The address besides the link-local range that pods must not reach: Azure's WireServer
/// (`false` elsewhere, which the template reads as absent).
fn wireserver(site: &Site) -> serde_json::Value {
    if site.provider == Provider::Azure {
        value!(defaults::AZURE_WIRESERVER)
    } else {
        value!(false)
    }
}

/// Where the first server's user-data writes Flux's HelmChart, and the script that marks it
/// `.skip` once k3s has applied it (decision 0005).
fn flux_first_boot(text: &str) -> serde_json::Value {
    let manifest = format!(
        "{}/{}",
        layout::K3S_MANIFESTS_DIR,
        layout::K3S_FLUX_MANIFEST_FILE
    );
    let handover = TEMPLATES
        .flux_handover
        .render(
            &value!({ "manifest": &manifest, "addon": k3s_addon_name(layout::K3S_FLUX_MANIFEST_FILE) }),
        )
        .expect("the handover script renders");
    value!({ "manifest": manifest, "text": text, "handover": handover })
}

/// The name of the `Addon` k3s records a manifest under: the file name up to its first dot
/// (`basename` in k3s' `pkg/deploy/controller.go`).
pub fn k3s_addon_name(file: &str) -> &str {
    file.split('.').next().unwrap_or(file)
}

/// The templates, parsed on first use (once per process).
struct Templates {
    node: Template<'static>,
    node_network: Template<'static>,
    metadata_block: Template<'static>,
    install_k3s: Template<'static>,
    flux_handover: Template<'static>,
}

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    let parse = |text| Template::parse(text).expect("the cloud-init templates parse");
    Templates {
        node: parse(NODE_TEMPLATE),
        node_network: parse(NODE_NETWORK_SCRIPT),
        metadata_block: parse(METADATA_BLOCK_SCRIPT),
        install_k3s: parse(INSTALL_K3S_SCRIPT),
        flux_handover: parse(FLUX_HANDOVER_SCRIPT),
    }
});

#[cfg(test)]
mod handlebars_oracle;
