//! Every path railyard writes and every name that crosses stages, in one place: the render
//! writes these, bootstrap and `status` read them back, and the writer stages under them.
//!
//! Paths are relative to the output root (or, for the kubeconfig, to the user's home). A name
//! changed here changes for the writer and every reader at once.

/// The directory Flux applies: `clusters/<site>`.
pub fn cluster_dir(site: &str) -> String {
    format!("clusters/{site}")
}

/// Files for machines, outside every directory Flux applies: `hosts/<site>`.
pub fn hosts_dir(site: &str) -> String {
    format!("hosts/{site}")
}

/// `hosts/<site>/machines.yaml`: the machines bootstrap creates.
pub fn machines(site: &str) -> String {
    format!("{}/{MACHINES_FILE}", hosts_dir(site))
}

/// `hosts/<site>/firewall.yaml`: the inbound rules bootstrap applies.
pub fn firewall(site: &str) -> String {
    format!("{}/firewall.yaml", hosts_dir(site))
}

/// `hosts/<site>/dns-records.yaml`: the records the user creates.
pub fn dns_records(site: &str) -> String {
    format!("{}/dns-records.yaml", hosts_dir(site))
}

const MACHINES_FILE: &str = "machines.yaml";

/// The directory of the machines' user-data, relative to `hosts/<site>`.
const USER_DATA_DIR: &str = "cloud-init";

/// `hosts/<site>/cloud-init`: user-data, read by cloud-init once, at a machine's first boot.
pub fn user_data_dir(site: &str) -> String {
    format!("{}/{USER_DATA_DIR}", hosts_dir(site))
}

/// A server's user-data, relative to `hosts/<site>` (as `machines.yaml` names it).
pub fn server_user_data(index: u32) -> String {
    format!("{USER_DATA_DIR}/server-{index}.yaml")
}

/// The workers' shared user-data, relative to `hosts/<site>`.
pub const WORKER_USER_DATA: &str = "cloud-init/worker.yaml";

/// A worker pool's user-data (`large`), relative to `hosts/<site>`: static pools' servers boot
/// it, and cluster-autoscaler's config carries the same text for an autoscaled pool.
pub fn pool_user_data(pool: &str) -> String {
    format!("{USER_DATA_DIR}/pool-{pool}.yaml")
}

/// A file `machines.yaml` names (user-data), as a path from the output root.
pub fn host_file(site: &str, relative: &str) -> String {
    format!("{}/{relative}", hosts_dir(site))
}

/// `hosts/<site>/k3s`: the k3s configs the user-data writes, for review.
pub fn k3s_dir(site: &str) -> String {
    format!("{}/k3s", hosts_dir(site))
}

/// A server's k3s config (its `tls-san` names the API's private address).
pub fn k3s_server_config(site: &str, index: u32) -> String {
    format!("{}/server-{index}.config.yaml", k3s_dir(site))
}

/// The workers' k3s config.
pub fn k3s_worker_config(site: &str) -> String {
    format!("{}/worker.config.yaml", k3s_dir(site))
}

/// A worker pool's k3s config (`large`).
pub fn k3s_pool_config(site: &str, pool: &str) -> String {
    format!("{}/pool-{pool}.config.yaml", k3s_dir(site))
}

/// The infrastructure layer's file holding cluster-autoscaler (`large` with an autoscaled pool).
pub const CLUSTER_AUTOSCALER_FILE: &str = "cluster-autoscaler.yaml";
/// cluster-autoscaler's objects' name (the upstream example's), and its Secret's keys.
pub const CLUSTER_AUTOSCALER: &str = "cluster-autoscaler";
pub const CLUSTER_AUTOSCALER_CONFIG_KEY: &str = "cluster-config.json";
pub const CLUSTER_AUTOSCALER_TOKEN_KEY: &str = "token";

/// The HelmChart k3s installs Flux from.
pub fn k3s_flux_manifest(site: &str) -> String {
    format!("{}/manifests/{K3S_FLUX_MANIFEST_FILE}", k3s_dir(site))
}

/// The same HelmChart in Flux's path, so a version change is a diff Flux applies (decision 0005).
pub fn flux_helm_chart(site: &str) -> String {
    format!("{}/{FLUX_HELM_CHART_FILE}", flux_system_dir(site))
}

/// The Flux HelmChart's file name inside `flux-system/`.
pub const FLUX_HELM_CHART_FILE: &str = "flux2-helmchart.yaml";

/// k3s' auto-deploy directory on a server, and the first-boot Flux manifest's name in it. k3s
/// names the manifest's `Addon` after the file name up to its first dot (`basename` in k3s'
/// `pkg/deploy/controller.go`), and ignores the file once `<name>.skip` exists beside it.
pub const K3S_MANIFESTS_DIR: &str = "/var/lib/rancher/k3s/server/manifests";
pub const K3S_FLUX_MANIFEST_FILE: &str = "railyard-flux.yaml";

/// `clusters/<site>/kustomization.yaml`: the root of what Flux applies.
pub fn cluster_kustomization(site: &str) -> String {
    format!("{}/kustomization.yaml", cluster_dir(site))
}

/// `clusters/<site>/flux-system`: the sync objects and the secrets file.
pub fn flux_system_dir(site: &str) -> String {
    format!("{}/flux-system", cluster_dir(site))
}

/// The GitRepository and root Kustomization bootstrap applies once.
pub fn gotk_sync(site: &str) -> String {
    format!("{}/gotk-sync.yaml", flux_system_dir(site))
}

/// The secrets file's copy, byte for byte.
pub fn secrets_copy(site: &str) -> String {
    format!("{}/{SECRETS_FILE}", flux_system_dir(site))
}

/// The secrets file's name inside `flux-system/`.
pub const SECRETS_FILE: &str = "secrets.sops.yaml";

/// A platform layer's directory (`clusters/<site>/<layer>`).
pub fn layer_dir(site: &str, layer: &str) -> String {
    format!("{}/{layer}", cluster_dir(site))
}

/// The Secret Flux pulls an `https://` repository with, in the infrastructure layer (where Flux
/// substitutes it from the secrets file); bootstrap applies it first, substituted itself.
pub fn git_credentials(site: &str) -> String {
    format!(
        "{}/{GIT_CREDENTIALS_FILE}",
        layer_dir(site, "infrastructure")
    )
}

/// The git credentials' file name inside the infrastructure layer.
pub const GIT_CREDENTIALS_FILE: &str = "git-credentials.yaml";

/// A platform layer's Flux Kustomization, beside its directory.
pub fn layer_kustomization(site: &str, layer: &str) -> String {
    format!("{}/{layer}.yaml", cluster_dir(site))
}

/// Where the objects a user overlay adds (that no rendered file held) are written: beside
/// Gitpod's layer in `cluster_dir`, named after the overlay's directory.
pub fn user_overlay_objects(cluster_dir: &str, overlay_dir: &str) -> String {
    let name = overlay_dir.rsplit('/').next().unwrap_or(overlay_dir);
    format!("{cluster_dir}/gitpod/overlay-{name}.yaml")
}

/// railyard's own state directory in the output root.
pub const STATE_DIR: &str = ".railyard";

/// `.railyard/<site>.lock`.
pub fn lock(site: &str) -> String {
    format!("{STATE_DIR}/{site}.lock")
}

/// A render's staging directory inside `.railyard/`, before its commit point.
pub fn staging_name(site: &str) -> String {
    format!("{site}.txn.tmp")
}

/// A committed render's staging directory inside `.railyard/`, being rolled forward.
pub fn committed_name(site: &str) -> String {
    format!("{site}.txn")
}

/// Where bootstrap keeps its SSH known-hosts file and kubeconfigs, below the user's home.
pub const KUBE_STATE_DIR: &str = ".kube/railyard";

/// The kubeconfig bootstrap writes for a site, inside `KUBE_STATE_DIR`.
pub fn kubeconfig_name(site: &str) -> String {
    format!("{site}.yaml")
}

/// The namespace Flux runs in and bootstrap writes to.
pub const FLUX_NAMESPACE: &str = "flux-system";
/// The in-cluster Secret holding the age identity Flux decrypts with (formats.md §2.1).
pub const SOPS_AGE_SECRET: &str = "sops-age";
/// The in-cluster Secret holding the git deploy key (`flux bootstrap`'s name).
pub const GIT_SECRET: &str = "flux-system";
/// The GitRepository and root Kustomization bootstrap applies and Flux syncs from
/// (`flux bootstrap`'s name), which every layer's Kustomization refers to.
pub const FLUX_SYNC_NAME: &str = "flux-system";
/// The address placeholder for the ingress load balancer's public IPv4, rendered into the DNS
/// records and filled in by bootstrap when it prints them.
pub const INGRESS_ADDRESS: &str = "ingress-ipv4";

/// The address placeholder for server `index`'s private IPv4 where the cloud assigns it (its
/// DHCP): rendered into the machines' join address, filled in by bootstrap from what the
/// cloud reports once the server exists.
pub fn server_private_address(index: u32) -> String {
    format!("server-{index}-private-ip")
}

/// Names of a site's cloud resources: rendered into `machines.yaml` (servers, workers) or
/// derived by bootstrap, and matched by name against what the cloud holds.
pub mod cloud {
    /// A server's name.
    pub fn server(site: &str, index: u32) -> String {
        format!("{site}-server-{index}")
    }

    /// Workers are named by this prefix and their index.
    pub fn worker_prefix(site: &str) -> String {
        format!("{site}-worker-")
    }

    /// An autoscaled pool's cluster-autoscaler node group, `<site>-<pool>`: the autoscaler
    /// names its servers `<node group>-<hex>`, so they read as the site's and cannot collide
    /// with another site's pool of the same name.
    pub fn node_group(site: &str, pool: &str) -> String {
        format!("{site}-{pool}")
    }

    /// A worker pool's servers are named by this prefix and their index (static pools), or a
    /// suffix cluster-autoscaler chooses (autoscaled pools).
    pub fn pool_prefix(site: &str, pool: &str) -> String {
        format!("{}-", node_group(site, pool))
    }

    /// The user's SSH key at `index` in the site file.
    pub fn ssh_key(site: &str, index: usize) -> String {
        format!("{site}-key-{index}")
    }

    pub fn network(site: &str) -> String {
        format!("{site}-network")
    }

    pub fn firewall(site: &str) -> String {
        format!("{site}-firewall")
    }

    /// The servers' spread placement group.
    pub fn server_group(site: &str) -> String {
        format!("{site}-servers")
    }

    /// The workers' spread placement group at `index` (groups have a size limit).
    pub fn worker_group(site: &str, index: usize) -> String {
        format!("{site}-workers-{index}")
    }

    /// A load balancer by role (`INGRESS_ROLE`, `API_ROLE`).
    pub fn load_balancer(site: &str, role: &str) -> String {
        format!("{site}-{role}")
    }

    /// Azure: the site's resource group, which holds every resource of the site.
    pub fn resource_group(site: &str) -> String {
        format!("railyard-{site}")
    }

    /// Azure: the subnet of the site's virtual network the machines are in.
    pub const SUBNET: &str = "nodes";

    /// Azure: the NAT gateway that is the subnet's outbound path (decision 0020).
    pub fn nat_gateway(site: &str) -> String {
        format!("{site}-nat")
    }

    /// Azure: a resource's public address (a machine's, the NAT gateway's, a load balancer's).
    pub fn public_ip(resource: &str) -> String {
        format!("{resource}-ip")
    }

    /// Azure: a machine's network interface.
    pub fn nic(machine: &str) -> String {
        format!("{machine}-nic")
    }

    /// The role of the load balancer in front of Gitpod.
    pub const INGRESS_ROLE: &str = "ingress";
    /// The role of the load balancer in front of the servers' API (three servers).
    pub const API_ROLE: &str = "api";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_documented_shape() {
        assert_eq!(machines("s"), "hosts/s/machines.yaml");
        assert_eq!(
            host_file("s", &server_user_data(2)),
            "hosts/s/cloud-init/server-2.yaml"
        );
        assert_eq!(gotk_sync("s"), "clusters/s/flux-system/gotk-sync.yaml");
        assert_eq!(
            flux_helm_chart("s"),
            "clusters/s/flux-system/flux2-helmchart.yaml"
        );
        assert_eq!(
            k3s_flux_manifest("s"),
            "hosts/s/k3s/manifests/railyard-flux.yaml"
        );
        assert_eq!(
            secrets_copy("s"),
            "clusters/s/flux-system/secrets.sops.yaml"
        );
        assert_eq!(
            k3s_server_config("s", 0),
            "hosts/s/k3s/server-0.config.yaml"
        );
        assert_eq!(lock("s"), ".railyard/s.lock");
        assert_eq!(layer_kustomization("s", "gitpod"), "clusters/s/gitpod.yaml");
        assert_eq!(cloud::worker_group("s", 1), "s-workers-1");
        assert_eq!(
            host_file("s", WORKER_USER_DATA),
            format!("{}/worker.yaml", user_data_dir("s"))
        );
    }
}
