//! k3s configuration files and the manifests k3s applies at first boot, as host files.
//!
//! The same bytes are embedded in the user-data; the copies under `hosts/<site>/k3s/` are for
//! review and for the tests' oracles. Flux is installed by k3s (a `HelmChart` in the first
//! server's auto-deploy directory); the same bytes are in Flux's own path, so after first boot
//! Flux keeps that `HelmChart` and k3s' helm-controller upgrades Flux when it changes
//! (decision 0005).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::emit;
use crate::generate::common_labels;
use crate::json_value::value;
use crate::labels;
use crate::layout;
use crate::model::{CLUSTER_CIDR, GITPOD_NODE_LABELS, Pool, Server, Site};
use crate::placeholder;
use crate::site::{Taint, TaintEffect};

/// Taint that keeps workloads off dedicated servers (k3s docs: `CriticalAddonsOnly`).
const SERVER_TAINT: &str = "CriticalAddonsOnly=true:NoExecute";

/// The flux2 chart's repository (formats.md §3, fluxcd-community).
const FLUX_CHART_REPO: &str = "https://fluxcd-community.github.io/helm-charts";

/// One node role's k3s configuration file, as text.
pub fn server_config(site: &Site, server: &Server) -> String {
    let mut config = serde_json::Map::new();
    config.insert("token".into(), value!(placeholder::secret("k3s_token")));
    config.insert(
        "agent-token".into(),
        value!(placeholder::secret("k3s_agent_token")),
    );
    if site.has_dedicated_servers() {
        if server.index == 0 {
            config.insert("cluster-init".into(), value!(true));
        } else {
            config.insert(
                "server".into(),
                value!(format!("https://{}:6443", site.api_address)),
            );
        }
    }
    // Only addresses known before the machine exists: where the cloud assigns private
    // addresses (DigitalOcean's DHCP), a server's own one is unknown to its user-data, which
    // cannot change after the create. k3s puts the node's `node-ip` and `node-external-ip`
    // (set at boot by `cloud-init/node-network.sh.hbs`) into its serving certificate itself
    // (docs.k3s.io/cli/server, `--tls-san`: "additional" names; k3s-io/k3s#1381).
    let mut sans = vec![site.api_address.clone()];
    if server.private_ip != site.api_address {
        sans.push(server.private_ip.clone());
    }
    let own = placeholder::address(&layout::server_private_address(server.index));
    sans.retain(|san| *san != own);
    if !sans.is_empty() {
        config.insert("tls-san".into(), value!(sans));
    }
    config.insert("cluster-cidr".into(), value!(CLUSTER_CIDR));
    config.insert("disable".into(), value!(["traefik"]));
    config.insert("write-kubeconfig-mode".into(), value!("0600"));
    config.insert("secrets-encryption".into(), value!(true));
    let mut node_labels = vec![value!(labels::node_role(labels::SERVER_NODE))];
    if server.runs_workloads {
        node_labels.extend(gitpod_node_labels());
    } else {
        config.insert("node-taint".into(), value!([SERVER_TAINT]));
    }
    config.insert("node-label".into(), Json::from(node_labels));
    emit::document(&Json::Object(config))
}

/// The workers' k3s configuration: the agent token only, never the server token.
pub fn worker_config(site: &Site) -> String {
    emit::document(&value!({
        "server": format!("https://{}:6443", site.api_address),
        "token": placeholder::secret("k3s_agent_token"),
        "node-label": std::iter::once(value!(labels::node_role(labels::AGENT_NODE)))
            .chain(gitpod_node_labels())
            .collect::<Vec<_>>(),
    }))
}

/// A worker pool's k3s configuration (`large`): the workers' settings, plus the pool's own
/// labels and taints, so a node registers with them whoever created its server.
pub fn pool_config(site: &Site, pool: &Pool) -> String {
    let mut config = serde_json::Map::new();
    config.insert(
        "server".into(),
        value!(format!("https://{}:6443", site.api_address)),
    );
    config.insert(
        "token".into(),
        value!(placeholder::secret("k3s_agent_token")),
    );
    let node_labels: Vec<Json> = pool_node_labels(pool)
        .into_iter()
        .map(|(k, v)| value!(format!("{k}={v}")))
        .collect();
    config.insert("node-label".into(), Json::from(node_labels));
    if !pool.taints.is_empty() {
        let taints: Vec<Json> = pool.taints.iter().map(|t| value!(taint(t))).collect();
        config.insert("node-taint".into(), Json::from(taints));
    }
    emit::document(&Json::Object(config))
}

/// Every label a pool's node registers with, in `node-label` order: the workers' (role, then
/// Gitpod's), then the pool's own. cluster-autoscaler's node template carries the same, so a
/// pool at 0 is scaled up for a pod that selects any of them (Gitpod's workspaces do).
pub fn pool_node_labels(pool: &Pool) -> Vec<(String, String)> {
    std::iter::once((labels::ROLE.to_owned(), labels::AGENT_NODE.to_owned()))
        .chain(
            GITPOD_NODE_LABELS
                .iter()
                .map(|l| ((*l).to_owned(), "true".to_owned())),
        )
        .chain(pool.labels.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect()
}

/// A taint as k3s' `node-taint` takes it: `key=value:Effect`, or `key:Effect` without a value.
fn taint(taint: &Taint) -> String {
    let effect = taint_effect(taint.effect);
    match &taint.value {
        Some(value) => format!("{}={value}:{effect}", taint.key),
        None => format!("{}:{effect}", taint.key),
    }
}

/// The effect as Kubernetes spells it.
pub fn taint_effect(effect: TaintEffect) -> &'static str {
    match effect {
        TaintEffect::NoSchedule => "NoSchedule",
        TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        TaintEffect::NoExecute => "NoExecute",
    }
}

/// The `HelmChart` that installs Flux's controllers, pinned, on the first server.
pub fn flux_manifest(site: &Site) -> String {
    emit::document(&value!({
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": { "name": "flux2", "namespace": "kube-system", "labels": common_labels(site) },
        "spec": {
            "repo": FLUX_CHART_REPO,
            "chart": "flux2",
            "version": &site.versions.flux_chart,
            "targetNamespace": "flux-system",
            "createNamespace": true,
            // Image automation is not part of railyard's flow; the four default controllers are.
            "valuesContent": "imageAutomationController:\n  create: false\nimageReflectionController:\n  create: false\n",
        },
    }))
}

fn gitpod_node_labels() -> impl Iterator<Item = Json> {
    GITPOD_NODE_LABELS
        .iter()
        .map(|l| value!(format!("{l}=true")))
}

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    for server in &site.servers {
        files.insert(
            layout::k3s_server_config(&site.name, server.index),
            server_config(site, server).into_bytes(),
        );
    }
    if site.workers.count > 0 {
        files.insert(
            layout::k3s_worker_config(&site.name),
            worker_config(site).into_bytes(),
        );
    }
    for pool in &site.pools {
        files.insert(
            layout::k3s_pool_config(&site.name, &pool.name),
            pool_config(site, pool).into_bytes(),
        );
    }
    // One text, two places: first boot applies the host copy, Flux the cluster copy.
    let flux = flux_manifest(site).into_bytes();
    files.insert(layout::flux_helm_chart(&site.name), flux.clone());
    files.insert(layout::k3s_flux_manifest(&site.name), flux);
}
