//! What a DigitalOcean site renders is what DigitalOcean's API and firewalls let run: the
//! firewall lets out what bootstrap and k3s need and lets in the site's private range, and two
//! sites of one account get private ranges that do not overlap.

use railyard::bootstrap::wanted::{self, HostFiles};
use railyard::core::layout;

use crate::support::root;

/// The committed renders (the golden test keeps them equal to what railyard renders).
const SITES: &[(&str, &str)] = &[
    ("golden/ok/digitalocean-small/expected", "golden"),
    ("golden/ok/digitalocean-second-site/expected", "second"),
    (
        "golden/examples/digitalocean-small/expected",
        "demo-digitalocean",
    ),
];

/// The site's host files, read as bootstrap reads them.
fn host(dir: &str, site: &str) -> HostFiles {
    let files = [layout::machines(site), layout::firewall(site)]
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(root().join(dir).join(&name)).expect("a host file");
            (name, bytes)
        })
        .collect();
    wanted::read(site, &files).expect("host files bootstrap reads")
}

fn ipv4_range(cidr: &str) -> (u32, u32) {
    let (address, prefix) = cidr.split_once('/').expect("a CIDR");
    let base = u32::from(address.parse::<std::net::Ipv4Addr>().expect("IPv4"));
    let size = 1u32 << (32 - prefix.parse::<u32>().expect("a prefix"));
    (base, base + (size - 1))
}

#[test]
fn digitalocean_firewalls_let_out_what_bootstrap_and_k3s_need_and_let_in_the_private_range() {
    for (dir, site) in SITES {
        let HostFiles { machines, firewall } = host(dir, site);
        let private = machines.network.cidr.clone();
        let anywhere = ["0.0.0.0/0".to_owned(), "::/0".to_owned()];
        let out = |protocol: &str, port: Option<&str>, to: &[String]| {
            firewall.outbound.iter().any(|r| {
                r.protocol == protocol
                    && r.port.as_deref() == port
                    && to.iter().all(|d| r.destinations.contains(d))
            })
        };
        for (protocol, port) in [
            ("udp", Some("53")),
            ("tcp", Some("53")),
            ("udp", Some("123")),
            ("tcp", Some("80")),
            ("tcp", Some("443")),
            ("tcp", Some("22")),
            ("icmp", None),
        ] {
            assert!(
                out(protocol, port, &anywhere),
                "{site}: out {protocol} {port:?}"
            );
        }
        for protocol in ["tcp", "udp", "icmp"] {
            assert!(
                out(protocol, None, std::slice::from_ref(&private)),
                "{site}: out {protocol} to {private}"
            );
            assert!(
                firewall.rules.iter().any(|r| r.protocol == protocol
                    && r.port.is_none()
                    && r.sources == [private.clone()]),
                "{site}: in {protocol} from {private}"
            );
        }
    }
}

#[test]
fn two_digitalocean_sites_get_private_ranges_that_do_not_overlap() {
    let ranges: Vec<(u32, u32)> = SITES
        .iter()
        .map(|(dir, site)| ipv4_range(&host(dir, site).machines.network.cidr))
        .collect();
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            assert!(a.1 < b.0 || b.1 < a.0, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn digitalocean_user_data_names_no_address_only_the_cloud_knows_for_the_machine_itself() {
    for (dir, site) in SITES {
        let path = root()
            .join(dir)
            .join("hosts")
            .join(site)
            .join("cloud-init/server-0.yaml");
        let text = std::fs::read_to_string(&path).expect("server-0's user-data");
        assert!(!text.contains("@@railyard:address:"), "{path:?}");
    }
}
