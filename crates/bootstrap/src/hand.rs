//! Hand provisioning, as values: the machines of a rendered site a user can boot without
//! bootstrap (bare metal, a cloud railyard does not provision, their own Terraform), the
//! placeholders each machine's user-data holds, and the user-data with every value filled in.
//!
//! Secrets come from the decrypted secrets file and addresses from the user (`--address
//! NAME=IP`); the edge reads both and prints the result, which is never written to a file.

use std::collections::BTreeMap;

use railyard_core::layout;
use railyard_core::machines::Machines;
use railyard_core::placeholder::{self, FillError, Placeholder};

/// The placeholder kinds and where their values come from.
const SECRET: &str = "secret";
const ADDRESS: &str = "address";

/// One machine of the render and the user-data file it boots with (a path in the render).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandMachine {
    pub name: String,
    pub user_data: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandError {
    #[error("site `{site}` renders no machine `{wanted}`; its machines: {known}")]
    NoSuchMachine {
        site: String,
        wanted: String,
        known: String,
    },
    #[error("`{file}`: {source}")]
    Placeholders { file: String, source: FillError },
    #[error("the user-data of `{machine}` cannot be filled: {}", missing(.unfilled))]
    Unfilled {
        machine: String,
        unfilled: Vec<Placeholder>,
    },
}

/// Each value still missing, with where it would come from.
fn missing(unfilled: &[Placeholder]) -> String {
    let items: Vec<String> = unfilled
        .iter()
        .map(|p| match p.kind.as_str() {
            SECRET => format!("secret `{}` (not in the secrets file)", p.name),
            ADDRESS => format!("address `{}` (pass `--address {}=IP`)", p.name, p.name),
            _ => format!("`{p}` (railyard cannot fill it)"),
        })
        .collect();
    items.join(", ")
}

/// Every machine of the render: the servers, then each worker by its name, then the pools'.
pub fn machines(site: &str, machines: &Machines) -> Vec<HandMachine> {
    let servers = machines.servers.iter().map(|s| HandMachine {
        name: s.name.clone(),
        user_data: layout::host_file(site, &s.user_data),
    });
    let workers = (0..machines.workers.count).map(|i| HandMachine {
        name: format!("{}{i}", machines.workers.name_prefix),
        user_data: layout::host_file(site, &machines.workers.user_data),
    });
    // A static pool's servers by name; an autoscaled pool's has no fixed names, so its
    // user-data is offered under the pool's prefix without an index.
    let pools = machines.pools.iter().flat_map(|pool| {
        let user_data = layout::host_file(site, &pool.user_data);
        let names: Vec<String> = if pool.autoscaled.is_some() {
            vec![pool.name_prefix.trim_end_matches('-').to_owned()]
        } else {
            (0..pool.static_count())
                .map(|i| pool.server_name(i))
                .collect()
        };
        names.into_iter().map(move |name| HandMachine {
            name,
            user_data: user_data.clone(),
        })
    });
    servers.chain(workers).chain(pools).collect()
}

/// The machine named `wanted`, by its full name (`demo-server-0`) or without the site's
/// prefix (`server-0`).
pub fn find(site: &str, all: &[HandMachine], wanted: &str) -> Result<HandMachine, HandError> {
    let full = format!("{site}-{wanted}");
    all.iter()
        .find(|m| m.name == wanted || m.name == full)
        .cloned()
        .ok_or_else(|| HandError::NoSuchMachine {
            site: site.to_owned(),
            wanted: wanted.to_owned(),
            known: known(all),
        })
}

/// The machines' names for an error: every server, and the workers as a range.
fn known(all: &[HandMachine]) -> String {
    let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
    match names.as_slice() {
        [] => "none".to_owned(),
        [one] => format!("`{one}`"),
        many if many.len() <= 6 => {
            let quoted: Vec<String> = many.iter().map(|n| format!("`{n}`")).collect();
            quoted.join(", ")
        }
        [first @ .., last] => {
            let head: Vec<String> = first.iter().take(4).map(|n| format!("`{n}`")).collect();
            format!("{}, … `{last}`", head.join(", "))
        }
    }
}

/// The placeholders each distinct user-data file holds, by file.
pub fn needs(
    all: &[HandMachine],
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<BTreeMap<String, Vec<Placeholder>>, HandError> {
    let mut needs = BTreeMap::new();
    for machine in all {
        if needs.contains_key(&machine.user_data) {
            continue;
        }
        let text = files
            .get(&machine.user_data)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let found = placeholder::scan(&text).map_err(|source| HandError::Placeholders {
            file: machine.user_data.clone(),
            source,
        })?;
        needs.insert(machine.user_data.clone(), found);
    }
    Ok(needs)
}

/// The user-data with every placeholder filled; every missing value named at once.
pub fn fill(
    machine: &HandMachine,
    text: &str,
    secrets: &BTreeMap<String, String>,
    addresses: &BTreeMap<String, String>,
) -> Result<String, HandError> {
    placeholder::fill(text, |p| match p.kind.as_str() {
        SECRET => secrets.get(&p.name).cloned(),
        ADDRESS => addresses.get(&p.name).cloned(),
        _ => None,
    })
    .map_err(|error| match error {
        FillError::Unfilled(unfilled) => HandError::Unfilled {
            machine: machine.name.clone(),
            unfilled,
        },
        source => HandError::Placeholders {
            file: machine.user_data.clone(),
            source,
        },
    })
}

/// Whether a placeholder's value comes from the secrets file.
pub fn is_secret(placeholder: &Placeholder) -> bool {
    placeholder.kind == SECRET
}

#[cfg(test)]
mod tests {
    use super::*;
    use railyard_core::machines::{Server, Workers};

    fn site_machines() -> Vec<HandMachine> {
        let mut m: Machines = serde_json::from_value(serde_json::json!({
            "apiVersion": "railyard.dev/v1alpha1", "kind": "Machines", "site": "s",
            "provider": "digitalocean", "location": "fra1", "size": "small", "image": "u",
            "network": { "cidr": "10.2.0.0/16", "subnet": "10.2.0.0/24" },
            "apiAddress": "10.2.0.10", "servers": [],
            "workers": { "count": 0, "type": "x", "namePrefix": "s-worker-", "userData": "cloud-init/worker.yaml" },
            "ingressLoadBalancer": { "ports": [80], "targets": ["servers"] },
        }))
        .expect("machines");
        m.servers.push(Server {
            name: "s-server-0".to_owned(),
            machine_type: "x".to_owned(),
            private_ip: "10.2.0.10".to_owned(),
            user_data: "cloud-init/server-0.yaml".to_owned(),
        });
        m.workers = Workers {
            count: 2,
            ..m.workers
        };
        machines("s", &m)
    }

    #[test]
    fn machines_are_found_by_full_or_short_name() {
        let all = site_machines();
        let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["s-server-0", "s-worker-0", "s-worker-1"]);
        let worker = find("s", &all, "worker-1").expect("short name");
        assert_eq!(worker.user_data, "hosts/s/cloud-init/worker.yaml");
        assert_eq!(
            find("s", &all, "s-server-0").expect("full name").name,
            "s-server-0"
        );
        let error = find("s", &all, "worker-7").expect_err("no such worker");
        assert_eq!(
            error.to_string(),
            "site `s` renders no machine `worker-7`; its machines: `s-server-0`, `s-worker-0`, `s-worker-1`"
        );
    }

    #[test]
    fn a_static_pools_servers_by_name_and_an_autoscaled_pool_by_its_node_group() {
        let m: Machines = serde_json::from_value(serde_json::json!({
            "apiVersion": "railyard.dev/v1alpha1", "kind": "Machines", "site": "s",
            "provider": "hetzner", "location": "fsn1", "size": "large", "image": "u",
            "network": { "cidr": "10.2.0.0/16", "subnet": "10.2.0.0/24" },
            "apiAddress": "10.2.0.5", "servers": [],
            "workers": { "count": 0, "type": "x", "namePrefix": "s-worker-", "userData": "cloud-init/worker.yaml" },
            "pools": [
                { "name": "base", "type": "x", "count": 2, "namePrefix": "s-base-", "userData": "cloud-init/pool-base.yaml" },
                { "name": "burst", "type": "x", "autoscaled": { "min": 0, "max": 3 }, "namePrefix": "s-burst-", "userData": "cloud-init/pool-burst.yaml" },
            ],
            "ingressLoadBalancer": { "ports": [80], "targets": ["workers"] },
        }))
        .expect("machines");
        let all = machines("s", &m);
        let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["s-base-0", "s-base-1", "s-burst"]);
        let burst = find("s", &all, "burst").expect("the node group by its short name");
        assert_eq!(burst.user_data, "hosts/s/cloud-init/pool-burst.yaml");
    }

    #[test]
    fn every_missing_value_is_named_with_its_source() {
        let all = site_machines();
        let text =
            "t: @@railyard:secret:k3s_token@@\nip: @@railyard:address:server-0-private-ip@@\n";
        let secrets = BTreeMap::new();
        let addresses = BTreeMap::new();
        let error = fill(&all[1], text, &secrets, &addresses).expect_err("nothing given");
        assert_eq!(
            error.to_string(),
            "the user-data of `s-worker-0` cannot be filled: address `server-0-private-ip` \
             (pass `--address server-0-private-ip=IP`), secret `k3s_token` (not in the secrets file)"
        );
        let secrets = BTreeMap::from([("k3s_token".to_owned(), "t0k".to_owned())]);
        let addresses = BTreeMap::from([("server-0-private-ip".to_owned(), "10.0.0.5".to_owned())]);
        assert_eq!(
            fill(&all[1], text, &secrets, &addresses),
            Ok("t: t0k\nip: 10.0.0.5\n".to_owned())
        );
        let files = BTreeMap::from([(all[1].user_data.clone(), text.as_bytes().to_vec())]);
        let needs = needs(&all, &files).expect("scans");
        assert_eq!(needs[&all[1].user_data].len(), 2);
        assert!(needs[&all[0].user_data].is_empty());
    }
}
