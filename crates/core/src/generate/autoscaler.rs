//! cluster-autoscaler for `large` sites on Hetzner: its RBAC, Deployment and configuration, in
//! the infrastructure layer (where Flux substitutes from the secrets file).
//!
//! Each autoscaled pool's `cloudInit` is the pool's own user-data as railyard renders it for
//! static servers (`cloud_init::pool_user_data`), so an autoscaled node joins at the same
//! pinned k3s version. Its secret placeholders become Flux references (`${key}`) and the
//! configuration sits in a Secret, so the agent token and the Hetzner token come from the
//! secrets file at apply time and are never rendered (decision 0012).

use serde_json::{Map, Value as Json};

use crate::defaults;
use crate::emit;
use crate::generate::substituted::reference;
use crate::generate::{cloud_init, common_labels, k3s};
use crate::json_value::value;
use crate::labels;
use crate::layout::{self, CLUSTER_AUTOSCALER as NAME};
use crate::model::{Pool, PoolSize, Site};
use crate::placeholder;

mod deployment;
mod rbac;

const NAMESPACE: &str = "kube-system";
/// Where the Secret's configuration is mounted; `HCLOUD_CLUSTER_CONFIG_FILE` names it (a plain
/// JSON file, not base64, per the provider's README).
const CONFIG_DIR: &str = "/etc/cluster-autoscaler";

/// The autoscaler's objects, when the site has an autoscaled pool.
pub fn objects(site: &Site) -> Option<Vec<Json>> {
    if !site.pools.iter().any(Pool::is_autoscaled) {
        return None;
    }
    let image = defaults::cluster_autoscaler_image(&site.versions.k3s)
        .expect("validation admits only k3s minors with an autoscaler release");
    let mut objects = rbac::objects(site);
    objects.push(secret(site));
    objects.push(deployment::deployment(site, &image));
    Some(objects)
}

/// `HCLOUD_CLUSTER_CONFIG_FILE`'s JSON: the image, the subnet, and one node config per
/// autoscaled pool, keyed by the node group name `--nodes` uses (`<site>-<pool>`).
pub fn cluster_config(site: &Site) -> Json {
    let mut node_configs = Map::new();
    for pool in site.pools.iter().filter(|p| p.is_autoscaled()) {
        let taints: Vec<Json> = pool
            .taints
            .iter()
            .map(|t| value!({ "key": &t.key, "value": t.value.clone().unwrap_or_default(), "effect": k3s::taint_effect(t.effect) }))
            .collect();
        node_configs.insert(
            layout::cloud::node_group(&site.name, &pool.name),
            value!({
                "cloudInit": substituted_user_data(&cloud_init::pool_user_data(site, pool)),
                "labels": k3s::pool_node_labels(pool).into_iter().map(|(k, v)| (k, Json::from(v))).collect::<Map<String, Json>>(),
                "taints": taints,
                "serverLabels": labels::pool(&site.name, &pool.name),
            }),
        );
    }
    value!({
        "imagesForArch": { "amd64": &site.image },
        "defaultSubnetIPRange": &site.network.subnet,
        "nodeConfigs": node_configs,
    })
}

/// The user-data as Flux must see it to produce the rendered bytes: literal `${` escaped as
/// `$${` (Flux's escape; the unattended-upgrades file holds `${distro_id}`), then every secret
/// placeholder a `${key}` reference to the secrets file.
pub fn substituted_user_data(user_data: &str) -> String {
    let escaped = user_data.replace("${", "$${");
    placeholder::fill(&escaped, |p| {
        (p.kind == "secret").then(|| reference(&p.name))
    })
    .expect("a worker's user-data names only secrets, which all become references")
}

/// The `--nodes` flags: `<min>:<max>:<type>:<location>:<name>` per autoscaled pool (the
/// provider lowercases type and location itself, so they are written as the site has them).
pub fn node_groups(site: &Site) -> Vec<String> {
    site.pools
        .iter()
        .filter_map(|pool| match pool.size {
            PoolSize::Autoscaled { min, max } => Some(format!(
                "--nodes={min}:{max}:{}:{}:{}",
                pool.server_type,
                pool.location(site),
                layout::cloud::node_group(&site.name, &pool.name)
            )),
            PoolSize::Static { .. } => None,
        })
        .collect()
}

fn secret(site: &Site) -> Json {
    let config = serde_json::to_string_pretty(&cluster_config(site))
        .expect("the cluster config always serialises");
    let token = site
        .autoscaler_token
        .as_deref()
        .expect("validation requires a token for autoscaled pools");
    value!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": NAME, "namespace": NAMESPACE, "labels": common_labels(site) },
        "type": "Opaque",
        "stringData": {
            layout::CLUSTER_AUTOSCALER_CONFIG_KEY: emit::literal(&config),
            layout::CLUSTER_AUTOSCALER_TOKEN_KEY: emit::literal(&reference(token)),
        },
    })
}
