//! cloud-init user-data for k3s servers and workers, from the Handlebars templates in `cloud-init/`.
//!
//! k3s is configured through `/etc/rancher/k3s/config.yaml`, written here as data; secret
//! values are `@@railyard:secret:NAME@@` placeholders that bootstrap fills in at creation.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use handlebars::{Handlebars, handlebars_helper};
use serde_json::{Value as Json, json};

use crate::core::emit;
use crate::core::generate::hosts_dir;
use crate::core::model::{GITPOD_NODE_LABELS, NETWORK_CIDR, Server, Site};

const NODE_TEMPLATE: &str = include_str!("../../../cloud-init/node.yaml.hbs");
const SSHD_PORT_SCRIPT: &str = include_str!("../../../cloud-init/sshd-port.sh");
const NODE_NETWORK_SCRIPT: &str = include_str!("../../../cloud-init/node-network.sh.hbs");

/// Packages every node installs: curl for the k3s installer, fuse3 for Gitpod's FUSE-based
/// filesystem shifting (shiftfs is gone from the kernels of Ubuntu 22.04 and 24.04).
const PACKAGES: &[&str] = &["ca-certificates", "curl", "fuse3"];

/// Taint that keeps workloads off dedicated servers (k3s docs: `CriticalAddonsOnly`).
const SERVER_TAINT: &str = "CriticalAddonsOnly=true:NoExecute";

/// The placeholder bootstrap replaces with the value of secrets-file key `name`.
pub fn secret_placeholder(name: &str) -> String {
    format!("@@railyard:secret:{name}@@")
}

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    for server in &site.servers {
        let path = format!(
            "{}/cloud-init/server-{}.yaml",
            hosts_dir(site),
            server.index
        );
        files.insert(
            path,
            render(
                site,
                &format!("server {}", server.index),
                "server",
                &server_config(site, server),
            )
            .into_bytes(),
        );
    }
    if site.workers.count > 0 {
        let path = format!("{}/cloud-init/worker.yaml", hosts_dir(site));
        files.insert(
            path,
            render(site, "worker", "agent", &worker_config(site)).into_bytes(),
        );
    }
}

fn server_config(site: &Site, server: &Server) -> Json {
    let mut config = serde_json::Map::new();
    config.insert("token".into(), json!(secret_placeholder("k3s_token")));
    config.insert(
        "agent-token".into(),
        json!(secret_placeholder("k3s_agent_token")),
    );
    if site.has_dedicated_servers() {
        if server.index == 0 {
            config.insert("cluster-init".into(), json!(true));
        } else {
            config.insert(
                "server".into(),
                json!(format!("https://{}:6443", site.api_address)),
            );
        }
    }
    let mut sans = vec![site.api_address.clone()];
    if server.private_ip != site.api_address {
        sans.push(server.private_ip.clone());
    }
    config.insert("tls-san".into(), json!(sans));
    config.insert("disable".into(), json!(["traefik"]));
    config.insert("write-kubeconfig-mode".into(), json!("0600"));
    config.insert("secrets-encryption".into(), json!(true));
    if server.runs_workloads {
        config.insert("node-label".into(), node_labels());
    } else {
        config.insert("node-taint".into(), json!([SERVER_TAINT]));
    }
    Json::Object(config)
}

fn worker_config(site: &Site) -> Json {
    json!({
        "server": format!("https://{}:6443", site.api_address),
        "token": secret_placeholder("k3s_agent_token"),
        "node-label": node_labels(),
    })
}

fn node_labels() -> Json {
    Json::from(
        GITPOD_NODE_LABELS
            .iter()
            .map(|l| format!("{l}=true"))
            .collect::<Vec<_>>(),
    )
}

fn render(site: &Site, role: &str, k3s_command: &str, k3s_config: &Json) -> String {
    let network_script = registry()
        .render("node-network", &json!({ "network_cidr": NETWORK_CIDR }))
        .expect("the network script template renders");
    let data = json!({
        "role": role,
        "site": site.name,
        "packages": PACKAGES,
        "ssh_keys": site.ssh_keys,
        "sshd_port_script": SSHD_PORT_SCRIPT,
        "node_network_script": network_script,
        "k3s_config": emit::document(k3s_config),
        "k3s_version": site.versions.k3s,
        "k3s_command": k3s_command,
    });
    registry()
        .render("node", &data)
        .expect("the node template renders with complete data")
}

handlebars_helper!(json_helper: |value: Json| serde_json::to_string(&value).expect("a JSON value always serialises"));
handlebars_helper!(indent_helper: |width: u64, text: str| indent(text, usize::try_from(width).unwrap_or(0)));

/// Indents every non-empty line by `width` spaces; drops the final newline (the template has it).
fn indent(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    text.trim_end_matches('\n')
        .lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("json", Box::new(json_helper));
        registry.register_helper("indent", Box::new(indent_helper));
        registry
            .register_template_string("node", NODE_TEMPLATE)
            .expect("the node template parses");
        registry
            .register_template_string("node-network", NODE_NETWORK_SCRIPT)
            .expect("the network script template parses");
        registry
    })
}
