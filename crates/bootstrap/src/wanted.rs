//! The resources a site wants, from its rendered `hosts/<site>/machines.yaml` and
//! `firewall.yaml` (the files a reviewer approved), through the typed `Machines` and
//! `Firewall`, in the provider-neutral model.

use std::collections::BTreeMap;

use crate::model::{
    Direction, FirewallRule, FollowUp, LoadBalancer, Machine, Profile, Spec, Wanted,
};
use crate::{RenderError, typed};
use railyard_core::firewall::{DnsRecord, DnsRecords, Firewall};
use railyard_core::labels::{self, site_selector};
use railyard_core::layout;
use railyard_core::machines::{self, Machines, Targets};

/// The host files bootstrap provisions from.
#[derive(Clone, Debug)]
pub struct HostFiles {
    pub machines: Machines,
    pub firewall: Firewall,
}

/// Reads a site's host files from its rendered tree.
pub fn read(site: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<HostFiles, RenderError> {
    Ok(HostFiles {
        machines: typed(files, &layout::machines(site))?,
        firewall: typed(files, &layout::firewall(site))?,
    })
}

/// The DNS records of a rendered site.
pub fn dns_records(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<DnsRecord>, RenderError> {
    Ok(typed::<DnsRecords>(files, &layout::dns_records(site))?.records)
}

/// The profile of the cloud `machines.yaml` names, among those railyard has a client for.
pub fn profile_for<'a>(
    machines: &Machines,
    profiles: &[&'a Profile],
) -> Result<&'a Profile, RenderError> {
    profiles
        .iter()
        .find(|p| p.provider == machines.provider)
        .copied()
        .ok_or_else(|| RenderError::Provider {
            supported: profiles
                .iter()
                .map(|p| p.title)
                .collect::<Vec<_>>()
                .join(" and "),
            site: machines.site.clone(),
            provider: machines.provider.clone(),
        })
}

/// Every resource the site wants, in creation order within each kind.
pub fn wanted(host: &HostFiles, profile: &Profile) -> Result<Vec<Wanted>, RenderError> {
    let machines = &host.machines;
    let site = machines.site.as_str();
    // A network lives in a zone where the cloud names one (Hetzner's `network_zone`; none on
    // Scaleway, whose private networks live in the client's region) or, elsewhere, in the
    // machines' location (a DigitalOcean VPC's region).
    let zone = if profile.network_zone {
        machines.network.zone.clone()
    } else {
        Some(machines.location.clone())
    };
    let mut wanted = Vec::new();
    for (i, key) in machines.ssh_keys.iter().enumerate() {
        wanted.push(plain(
            layout::cloud::ssh_key(site, i),
            site,
            "admin",
            Spec::SshKey {
                public_key: key.clone(),
            },
        ));
    }
    wanted.push(plain(
        layout::cloud::network(site),
        site,
        "network",
        Spec::Network {
            ip_range: machines.network.cidr.clone(),
            subnet: machines.network.subnet.clone(),
            zone,
        },
    ));
    wanted.push(firewall(site, &host.firewall));
    if profile.spread_group_size > 0 {
        wanted.push(plain(
            layout::cloud::server_group(site),
            site,
            "server",
            Spec::PlacementGroup,
        ));
    }
    for g in 0..worker_groups(machines, profile) {
        wanted.push(plain(
            layout::cloud::worker_group(site, g),
            site,
            "worker",
            Spec::PlacementGroup,
        ));
    }
    wanted.extend(load_balancers(machines, profile));
    wanted.extend(servers(machines, profile));
    wanted.extend(workers(machines, profile));
    wanted.extend(pool_servers(machines, profile));
    Ok(wanted)
}

/// A resource without follow-ups.
fn plain(name: String, site: &str, role: &str, spec: Spec) -> Wanted {
    Wanted {
        name,
        labels: labels::resource(site, role),
        spec,
        then: Vec::new(),
    }
}

/// Spread groups for the workers bootstrap creates: the implicit workers, then the static
/// pools' servers, in file order, filling one group after another.
fn worker_groups(machines: &Machines, profile: &Profile) -> usize {
    match profile.spread_group_size {
        0 => 0,
        size => static_workers(machines).div_ceil(size),
    }
}

/// The spread group of machine `index` of a role, none where the cloud has none.
fn spread_group(profile: &Profile, name: impl FnOnce(usize) -> String, index: usize) -> String {
    match profile.spread_group_size {
        0 => String::new(),
        size => name(index / size),
    }
}

fn static_workers(machines: &Machines) -> usize {
    machines.workers.count as usize
        + machines
            .pools
            .iter()
            .map(|p| p.static_count() as usize)
            .sum::<usize>()
}

/// The names of the site's autoscaled pools, whose servers cluster-autoscaler owns.
pub fn autoscaled_pools(machines: &Machines) -> Vec<String> {
    machines
        .pools
        .iter()
        .filter(|p| p.autoscaled.is_some())
        .map(|p| p.name.clone())
        .collect()
}

/// An autoscaled pool's servers as they would be created, one per pool, named by the node
/// group: never created by bootstrap, but checked against the location's offers with what it
/// creates, since a type the location does not sell would leave the pool unable to grow.
pub fn autoscaled_machines(machines: &Machines) -> Vec<Wanted> {
    let site = machines.site.as_str();
    machines
        .pools
        .iter()
        .filter(|pool| pool.autoscaled.is_some())
        .map(|pool| Wanted {
            name: layout::cloud::node_group(site, &pool.name),
            labels: labels::pool(site, &pool.name),
            spec: Spec::Machine(Machine {
                machine_type: pool.machine_type.clone(),
                image: machines.image.clone(),
                location: pool.location_in(machines).to_owned(),
                ssh_keys: ssh_key_names(machines),
                user_data: layout::host_file(site, &pool.user_data),
                placement_group: String::new(),
                network: Some(layout::cloud::network(site)),
                start: true,
            }),
            then: Vec::new(),
        })
        .collect()
}

/// A static pool's servers: workers with the pool's label, user-data, type and location,
/// joining the network at creation; spread groups continue after the implicit workers' (a
/// Hetzner placement group names no location, so one group may span the network zone's).
/// Autoscaled pools get none: cluster-autoscaler creates theirs.
fn pool_servers(machines: &Machines, profile: &Profile) -> Vec<Wanted> {
    let site = machines.site.as_str();
    let mut index = machines.workers.count as usize;
    let mut wanted = Vec::new();
    for pool in &machines.pools {
        for i in 0..pool.static_count() {
            wanted.push(Wanted {
                name: pool.server_name(i),
                labels: labels::pool(site, &pool.name),
                spec: Spec::Machine(Machine {
                    machine_type: pool.machine_type.clone(),
                    image: machines.image.clone(),
                    location: pool.location_in(machines).to_owned(),
                    ssh_keys: ssh_key_names(machines),
                    user_data: layout::host_file(site, &pool.user_data),
                    placement_group: spread_group(
                        profile,
                        |group| layout::cloud::worker_group(site, group),
                        index,
                    ),
                    network: Some(layout::cloud::network(site)),
                    start: true,
                }),
                then: Vec::new(),
            });
            index += 1;
        }
    }
    wanted
}

fn firewall(site: &str, firewall: &Firewall) -> Wanted {
    let inbound = firewall.rules.iter().map(|r| FirewallRule {
        direction: Direction::In,
        description: r.description.clone(),
        protocol: r.protocol.clone(),
        port: r.port.clone(),
        sources: r.sources.clone(),
    });
    let outbound = firewall.outbound.iter().map(|r| FirewallRule {
        direction: Direction::Out,
        description: r.description.clone(),
        protocol: r.protocol.clone(),
        port: r.port.clone(),
        sources: r.destinations.clone(),
    });
    let rules = inbound.chain(outbound).collect();
    plain(
        layout::cloud::firewall(site),
        site,
        "firewall",
        Spec::Firewall {
            rules,
            applies_to: site_selector(site),
        },
    )
}

fn load_balancers(machines: &Machines, profile: &Profile) -> Vec<Wanted> {
    let site = machines.site.as_str();
    let mut balancers = vec![(layout::cloud::INGRESS_ROLE, &machines.ingress_load_balancer)];
    if let Some(api) = &machines.api_load_balancer {
        balancers.push((layout::cloud::API_ROLE, api));
    }
    balancers
        .into_iter()
        .map(|(role, lb)| {
            let mut then = vec![FollowUp::AttachToNetwork {
                network: layout::cloud::network(site),
                ip: lb.private_ip.clone(),
            }];
            then.extend(lb.targets.iter().map(|target| {
                let role = match target {
                    Targets::Servers => "server",
                    Targets::Workers => "worker",
                };
                FollowUp::AddTarget {
                    selector: labels::role_selector(site, role),
                }
            }));
            Wanted {
                name: layout::cloud::load_balancer(site, role),
                labels: labels::resource(site, role),
                spec: Spec::LoadBalancer(LoadBalancer {
                    size: profile
                        .load_balancer_size(machines.target_count(lb))
                        .to_owned(),
                    location: machines.location.clone(),
                    ports: lb.ports.clone(),
                }),
                then,
            }
        })
        .collect()
}

fn ssh_key_names(machines: &Machines) -> Vec<String> {
    (0..machines.ssh_keys.len())
        .map(|i| layout::cloud::ssh_key(&machines.site, i))
        .collect()
}

/// Servers are created stopped, attached at their fixed address, then powered on.
/// Servers at a fixed private address are created stopped, attached at it, then started;
/// where the cloud assigns the address (a placeholder in `machines.yaml`), they join the
/// network at the create and start at once.
fn servers(machines: &Machines, profile: &Profile) -> Vec<Wanted> {
    let site = machines.site.as_str();
    machines
        .servers
        .iter()
        .map(|server: &machines::Server| {
            let assigned = railyard_core::placeholder::scan(&server.private_ip)
                .is_ok_and(|found| !found.is_empty());
            let then = if assigned {
                Vec::new()
            } else {
                vec![
                    FollowUp::AttachToNetwork {
                        network: layout::cloud::network(site),
                        ip: Some(server.private_ip.clone()),
                    },
                    FollowUp::PowerOn,
                ]
            };
            Wanted {
                name: server.name.clone(),
                labels: labels::resource(site, "server"),
                spec: Spec::Machine(Machine {
                    machine_type: server.machine_type.clone(),
                    image: machines.image.clone(),
                    location: machines.location.clone(),
                    ssh_keys: ssh_key_names(machines),
                    user_data: layout::host_file(site, &server.user_data),
                    placement_group: spread_group(
                        profile,
                        |_| layout::cloud::server_group(site),
                        0,
                    ),
                    network: assigned.then(|| layout::cloud::network(site)),
                    start: assigned,
                }),
                then,
            }
        })
        .collect()
}

/// Workers join the network at creation, at any free address.
fn workers(machines: &Machines, profile: &Profile) -> Vec<Wanted> {
    let site = machines.site.as_str();
    (0..machines.workers.count)
        .map(|i| Wanted {
            name: machines.worker_name(i),
            labels: labels::resource(site, "worker"),
            spec: Spec::Machine(Machine {
                machine_type: machines.workers.machine_type.clone(),
                image: machines.image.clone(),
                location: machines.location.clone(),
                ssh_keys: ssh_key_names(machines),
                user_data: layout::host_file(site, &machines.workers.user_data),
                placement_group: spread_group(
                    profile,
                    |g| layout::cloud::worker_group(site, g),
                    i as usize,
                ),
                network: Some(layout::cloud::network(site)),
                start: true,
            }),
            then: Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    const PROFILE: Profile = Profile {
        provider: "test",
        title: "Test Cloud",
        token_variable: "TEST_TOKEN",
        token_hint: "",
        spread_group_size: 10,
        network_zone: true,
        load_balancer_sizes: &[(25, "lb11"), (75, "lb21"), (150, "lb31")],
        static_backends: false,
    };

    #[test]
    fn load_balancer_sizes_grow_with_their_targets() {
        for (targets, want) in [
            (1, "lb11"),
            (25, "lb11"),
            (26, "lb21"),
            (75, "lb21"),
            (76, "lb31"),
            (1000, "lb31"),
        ] {
            assert_eq!(PROFILE.load_balancer_size(targets), want, "{targets}");
        }
    }

    fn host(workers: u32) -> HostFiles {
        let files: BTreeMap<String, Vec<u8>> = [
            (
                "hosts/s/machines.yaml",
                format!(
                    "apiVersion: railyard.dev/v1alpha1\nkind: Machines\nsite: s\nprovider: test\nlocation: nbg1\nsize: medium\nimage: ubuntu-24.04\nnetwork:\n  cidr: 10.2.0.0/16\n  subnet: 10.2.0.0/24\n  zone: eu-central\napiAddress: 10.2.0.5\nsshKeys:\n- ssh-ed25519 AAAA\nservers:\n- name: s-server-0\n  type: cpx32\n  privateIP: 10.2.0.10\n  userData: cloud-init/server-0.yaml\nworkers:\n  count: {workers}\n  type: cpx42\n  namePrefix: s-worker-\n  userData: cloud-init/worker.yaml\ningressLoadBalancer:\n  ports: [80, 443, 22]\n  targets: [servers, workers]\napiLoadBalancer:\n  privateIP: 10.2.0.5\n  ports: [6443]\n  targets: [servers]\n"
                ),
            ),
            (
                "hosts/s/firewall.yaml",
                "apiVersion: railyard.dev/v1alpha1\nkind: Firewall\nsite: s\ndirection: in\nrules:\n- description: HTTPS\n  protocol: tcp\n  port: \"443\"\n  sources: [0.0.0.0/0]\n".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(path, text)| (path.to_owned(), text.into_bytes()))
        .collect();
        read("s", &files).expect("host files read")
    }

    #[test]
    fn static_pools_follow_the_workers_in_the_spread_groups_and_autoscaled_ones_are_not_created() {
        let mut host = host(9);
        host.machines.pools = serde_json::from_value(serde_json::json!([
            { "name": "builds", "type": "cpx52", "count": 3, "namePrefix": "s-builds-", "userData": "cloud-init/pool-builds.yaml" },
            { "name": "burst", "type": "ccx33", "autoscaled": { "min": 0, "max": 5 }, "namePrefix": "s-burst-", "userData": "cloud-init/pool-burst.yaml" },
        ]))
        .expect("pools");
        let wanted = wanted(&host, &PROFILE).expect("wanted");
        let groups: Vec<&str> = wanted
            .iter()
            .filter(|w| w.kind() == Kind::PlacementGroup)
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(groups, ["s-servers", "s-workers-0", "s-workers-1"]);
        let pool: Vec<(&str, &str, &str)> = wanted
            .iter()
            .filter_map(|w| match &w.spec {
                Spec::Machine(m) if w.name.starts_with("s-b") => Some((
                    w.name.as_str(),
                    m.placement_group.as_str(),
                    m.user_data.as_str(),
                )),
                _ => None,
            })
            .collect();
        let user_data = "hosts/s/cloud-init/pool-builds.yaml";
        assert_eq!(
            pool,
            [
                ("s-builds-0", "s-workers-0", user_data),
                ("s-builds-1", "s-workers-1", user_data),
                ("s-builds-2", "s-workers-1", user_data),
            ]
        );
        let builds = wanted
            .iter()
            .find(|w| w.name == "s-builds-0")
            .expect("a pool server");
        assert_eq!(builds.labels, labels::pool("s", "builds"));
        assert_eq!(autoscaled_pools(&host.machines), ["burst"]);
        let scaled = autoscaled_machines(&host.machines);
        assert_eq!(scaled.len(), 1);
        assert_eq!(scaled[0].name, "s-burst");
        assert!(!wanted.iter().any(|w| w.name.starts_with("s-burst")));
    }

    /// A pool's own location is where its servers (static) and its node group's template
    /// (autoscaled, for the availability check) are; the rest stay in the site's. The site's
    /// firewall applies by a selector every pool server's labels satisfy.
    #[test]
    fn pools_are_created_in_their_own_location_under_the_sites_firewall() {
        let mut host = host(1);
        host.machines.pools = serde_json::from_value(serde_json::json!([
            { "name": "builds", "type": "cpx52", "location": "fsn1", "count": 2, "namePrefix": "s-builds-", "userData": "cloud-init/pool-builds.yaml" },
            { "name": "burst", "type": "ccx33", "location": "hel1", "autoscaled": { "min": 0, "max": 5 }, "namePrefix": "s-burst-", "userData": "cloud-init/pool-burst.yaml" },
            { "name": "plain", "type": "cpx42", "count": 1, "namePrefix": "s-plain-", "userData": "cloud-init/pool-plain.yaml" },
        ]))
        .expect("pools");
        let wanted = wanted(&host, &PROFILE).expect("wanted");
        let location = |w: &Wanted| match &w.spec {
            Spec::Machine(m) => Some((w.name.clone(), m.location.clone())),
            _ => None,
        };
        let machines: Vec<(String, String)> = wanted.iter().filter_map(location).collect();
        for (name, want) in [
            ("s-server-0", "nbg1"),
            ("s-worker-0", "nbg1"),
            ("s-builds-0", "fsn1"),
            ("s-builds-1", "fsn1"),
            ("s-plain-0", "nbg1"),
        ] {
            assert!(
                machines.contains(&(name.to_owned(), want.to_owned())),
                "{name} in {want}: {machines:?}"
            );
        }
        let scaled: Vec<(String, String)> = autoscaled_machines(&host.machines)
            .iter()
            .filter_map(location)
            .collect();
        assert_eq!(scaled, [("s-burst".to_owned(), "hel1".to_owned())]);
        let Some(Spec::Firewall { applies_to, .. }) = wanted
            .iter()
            .find(|w| w.kind() == Kind::Firewall)
            .map(|w| &w.spec)
        else {
            panic!("a firewall");
        };
        let (key, value) = applies_to.split_once('=').expect("key=value");
        for pool in ["builds", "burst"] {
            assert_eq!(
                labels::pool("s", pool).get(key).map(String::as_str),
                Some(value)
            );
        }
    }

    #[test]
    fn the_site_wants_its_machines_in_creation_order() {
        let wanted = wanted(&host(26), &PROFILE).expect("wanted");
        let names: Vec<(Kind, &str)> = wanted.iter().map(|w| (w.kind(), w.name.as_str())).collect();
        assert_eq!(
            names[..8],
            [
                (Kind::SshKey, "s-key-0"),
                (Kind::Network, "s-network"),
                (Kind::Firewall, "s-firewall"),
                (Kind::PlacementGroup, "s-servers"),
                (Kind::PlacementGroup, "s-workers-0"),
                (Kind::PlacementGroup, "s-workers-1"),
                (Kind::PlacementGroup, "s-workers-2"),
                (Kind::LoadBalancer, "s-ingress"),
            ]
        );
        assert_eq!(wanted.len(), 8 + 1 + 1 + 26);
        let Spec::LoadBalancer(ingress) = &wanted[7].spec else {
            panic!("not a load balancer")
        };
        // One server and 26 workers behind it.
        assert_eq!(ingress.size, "lb21");
        let worker = wanted.last().expect("a worker");
        let Spec::Machine(machine) = &worker.spec else {
            panic!("not a machine")
        };
        assert_eq!(
            (
                worker.name.as_str(),
                machine.placement_group.as_str(),
                machine.network.as_deref()
            ),
            ("s-worker-25", "s-workers-2", Some("s-network"))
        );
        assert_eq!(machine.user_data, "hosts/s/cloud-init/worker.yaml");
        let server = &wanted[9];
        assert_eq!(
            server.then,
            [
                FollowUp::AttachToNetwork {
                    network: "s-network".to_owned(),
                    ip: Some("10.2.0.10".to_owned()),
                },
                FollowUp::PowerOn,
            ]
        );
    }

    #[test]
    fn a_cloud_without_a_client_is_named() {
        let host = host(1);
        let other = Profile {
            provider: "other",
            ..PROFILE
        };
        assert_eq!(
            profile_for(&host.machines, &[&other])
                .err()
                .map(|e| e.to_string()),
            Some("bootstrap provisions Test Cloud only; site `s` is on `test`".to_owned())
        );
        assert!(profile_for(&host.machines, &[&other, &PROFILE]).is_ok());
    }
}
