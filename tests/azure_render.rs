//! What railyard renders for Azure, read back from every golden site on Azure: network security
//! group rules Azure accepts, the network shape bootstrap needs (decision 0020), and pods kept
//! off WireServer except DNS, checked by running the rendered script with a recording
//! `iptables` and evaluating the chain it leaves.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use railyard::core::compile::compile;
use railyard::core::defaults::{AZURE_NSG_PRIORITIES, AZURE_WIRESERVER};
use railyard::core::firewall::Firewall;
use railyard::core::labels::AZURE_RESERVED;
use railyard::core::machines::Machines;
use railyard::edge::load::load;
use serde_json::Value as Json;

use crate::support::{cases, root};

/// A rendered site: its case directory and its files.
struct Rendered {
    case: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
}

impl Rendered {
    fn text(&self, path: &str) -> String {
        let bytes = self
            .files
            .get(path)
            .unwrap_or_else(|| panic!("{}: no `{path}`", self.case.display()));
        String::from_utf8(bytes.clone()).expect("UTF-8")
    }

    fn yaml<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let text = self.text(path);
        let value: Json = read_yaml(&text);
        serde_json::from_value(value)
            .unwrap_or_else(|e| panic!("{}: `{path}` reads back: {e}", self.case.display()))
    }
}

/// YAML to JSON through the core's own parser, as bootstrap reads host files.
fn read_yaml(text: &str) -> Json {
    use railyard::core::json_tree::JsonTree;
    use railyard::core::source::SourceFile;
    use railyard::core::yaml;
    let file = SourceFile::new("host-file.yaml", text);
    let (documents, diagnostics) = yaml::parse_stream(&file);
    assert!(diagnostics.is_empty(), "parses");
    JsonTree::new("host-file.yaml", &documents[0]).value
}

/// Every golden `ok` case and example, rendered; `azure` keeps those on Azure.
fn renders(azure: bool) -> Vec<Rendered> {
    let mut sites: Vec<PathBuf> = cases(&root().join("golden/ok"))
        .into_iter()
        .map(|case| case.join("site.yaml"))
        .collect();
    sites.extend(
        cases(&root().join("examples"))
            .into_iter()
            .map(|example| example.join("site.yaml"))
            .filter(|site| site.is_file()),
    );
    sites
        .into_iter()
        .filter_map(|site| {
            let loaded = load(&site).expect("loads");
            let tree = compile(&loaded.inputs).tree?;
            let files = tree.all_files();
            let machines = files.keys().find(|p| p.ends_with("/machines.yaml"))?;
            let on_azure =
                String::from_utf8_lossy(&files[machines]).contains("\nprovider: azure\n");
            (on_azure == azure).then(|| Rendered {
                case: site.parent().expect("a directory").to_owned(),
                files,
            })
        })
        .collect()
}

fn host(rendered: &Rendered, file: &str) -> String {
    let machines = rendered
        .files
        .keys()
        .find(|p| p.starts_with("hosts/") && p.ends_with("/machines.yaml"))
        .expect("a machines file");
    format!("{}{file}", machines.trim_end_matches("machines.yaml"))
}

/// Azure's rule name grammar: 1 to 80 of letters, digits, `_`, `.`, `-`, starting with a
/// letter or digit and ending with one or `_`.
fn valid_nsg_name(name: &str) -> bool {
    let first = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last = name
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    (1..=80).contains(&name.len())
        && first
        && last
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[test]
fn every_azure_nsg_rule_has_one_family_a_valid_name_and_its_own_priority() {
    let sites = renders(true);
    assert!(sites.len() >= 3, "the Azure cases and example render");
    for site in &sites {
        let firewall: Firewall = site.yaml(&host(site, "firewall.yaml"));
        assert_eq!(firewall.direction, "in", "{}", site.case.display());
        let mut names = BTreeSet::new();
        let mut priorities = BTreeSet::new();
        for rule in &firewall.rules {
            let at = format!("{}: {rule:?}", site.case.display());
            let families: BTreeSet<bool> = rule.sources.iter().map(|s| s.contains(':')).collect();
            assert_eq!(families.len(), 1, "one address family: {at}");
            let name = rule.name.as_deref().expect(&at);
            assert!(valid_nsg_name(name), "a valid NSG rule name: {at}");
            assert!(names.insert(name.to_owned()), "a unique name: {at}");
            let priority = rule.priority.expect(&at);
            assert!(AZURE_NSG_PRIORITIES.contains(&priority), "in range: {at}");
            assert!(priorities.insert(priority), "a unique priority: {at}");
        }
        // Nothing the site allows is lost in the split: each (port, protocol) keeps its sources.
        let sources = |port: &str| -> BTreeSet<String> {
            firewall
                .rules
                .iter()
                .filter(|r| r.port.as_deref() == Some(port))
                .flat_map(|r| r.sources.iter().cloned())
                .collect()
        };
        assert!(sources("443").contains("0.0.0.0/0") && sources("443").contains("::/0"));
    }
}

#[test]
fn rules_elsewhere_stay_unnamed_and_unnumbered() {
    for site in renders(false) {
        let firewall: Firewall = site.yaml(&host(&site, "firewall.yaml"));
        assert!(
            firewall
                .rules
                .iter()
                .all(|r| r.name.is_none() && r.priority.is_none()),
            "{}",
            site.case.display()
        );
        let machines: Machines = site.yaml(&host(&site, "machines.yaml"));
        assert!(machines.azure.is_none(), "{}", site.case.display());
    }
}

#[test]
fn azure_sites_declare_their_outbound_path_static_address_public_ip_and_probes() {
    for site in renders(true) {
        let at = site.case.display().to_string();
        let machines: Machines = site.yaml(&host(&site, "machines.yaml"));
        let azure = machines.azure.as_ref().expect(&at);
        assert!(!azure.subnet.default_outbound_access, "{at}");
        assert_eq!(azure.subnet.nat_gateway, azure.nat_gateway.name, "{at}");
        assert!(!azure.nat_gateway.public_ip.is_empty(), "{at}");
        let server0 = &machines.servers[0];
        let nic = azure
            .nics
            .iter()
            .find(|n| n.machine == server0.name)
            .expect(&at);
        assert_eq!(nic.private_ip_allocation, "Static", "{at}");
        assert_eq!(nic.private_ip, server0.private_ip, "{at}");
        assert_eq!(nic.private_ip, machines.api_address, "{at}");
        assert!(
            nic.public_ip.is_some(),
            "server 0 has a public address: {at}"
        );
        let probed: Vec<u16> = azure
            .ingress_load_balancer
            .probes
            .iter()
            .filter(|p| p.protocol == "Tcp")
            .map(|p| p.port)
            .collect();
        assert_eq!(probed, machines.ingress_load_balancer.ports, "{at}");
        assert!(!azure.tags.is_empty(), "{at}");
        for (name, value) in &azure.tags {
            assert!(!name.contains(AZURE_RESERVED), "tag `{name}`: {at}");
            assert!(name.len() <= 512 && value.len() <= 256, "{at}");
        }
        assert_eq!(
            azure.tags.get("railyard-site"),
            Some(&machines.site),
            "{at}"
        );
    }
}

/// A recording `iptables`: `-C` looks a rule up in `$CHAIN`, `-I PREROUTING 1` puts it first.
const FAKE_IPTABLES: &str = r#"#!/bin/sh
set -eu
[ "$1 $2" = "-t raw" ] || { echo "unexpected table: $*" >&2; exit 2; }
op=$3
[ "$4" = PREROUTING ] || { echo "unexpected chain: $*" >&2; exit 2; }
shift 4
case "$op" in
  -C) grep -qxF -- "$*" "$CHAIN" ;;
  -I) [ "$1" = 1 ] || exit 2; shift; { printf '%s\n' "$*"; cat "$CHAIN"; } > "$CHAIN.new"; mv "$CHAIN.new" "$CHAIN" ;;
  *) echo "unexpected operation: $op" >&2; exit 2 ;;
esac
"#;

/// The metadata block script as one machine's user-data writes it.
fn metadata_script(user_data: &str) -> String {
    let document = read_yaml(user_data);
    let entry = document["write_files"]
        .as_array()
        .expect("write_files")
        .iter()
        .find(|f| f["path"] == "/usr/local/lib/railyard/metadata-block.sh")
        .expect("the metadata block is written");
    entry["content"].as_str().expect("text").to_owned()
}

/// Runs `script` twice with the recording `iptables`; the chain it leaves, first rule first.
fn chain_after(script: &str, dir: &Path) -> Vec<String> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let fake = bin.join("iptables");
    std::fs::write(&fake, FAKE_IPTABLES).expect("write");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let chain = dir.join("chain");
    std::fs::write(&chain, "").expect("chain");
    let script_path = dir.join("metadata-block.sh");
    std::fs::write(&script_path, script).expect("write");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut after = Vec::new();
    // Twice: the unit runs at every boot and must never stack rules.
    for _ in 0..2 {
        let status = Command::new("sh")
            .arg(&script_path)
            .env("PATH", &path)
            .env("CHAIN", &chain)
            .status()
            .expect("sh runs");
        assert!(status.success(), "the script succeeds");
        after.push(std::fs::read_to_string(&chain).expect("chain"));
    }
    assert_eq!(after[0], after[1], "a second run adds nothing");
    after[0].lines().map(str::to_owned).collect()
}

/// What the chain does with a packet: the first matching rule's target, else `ACCEPT`.
fn verdict(chain: &[String], from: &str, to: &str, protocol: &str, port: u16) -> String {
    for rule in chain {
        let words: Vec<&str> = rule.split_whitespace().collect();
        let arg = |flag: &str| {
            words
                .windows(2)
                .find(|w| w[0] == flag)
                .map(|w| w[1].trim_matches('"'))
        };
        let matches = arg("-s").is_none_or(|cidr| in_cidr(from, cidr))
            && arg("-d").is_none_or(|cidr| in_cidr(to, cidr))
            && arg("-p").is_none_or(|p| p == protocol)
            && arg("--dport").is_none_or(|p| p == port.to_string());
        if matches {
            return arg("-j").expect("a target").to_owned();
        }
    }
    "ACCEPT".to_owned()
}

fn in_cidr(address: &str, cidr: &str) -> bool {
    let (network, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let bits: u32 = bits.parse().expect("prefix length");
    let number = |a: &str| -> u32 {
        let ip: std::net::Ipv4Addr = a.parse().expect("IPv4");
        u32::from(ip)
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    number(address) & mask == number(network) & mask
}

#[test]
fn pods_reach_wireserver_only_for_dns_on_azure() {
    let pod = "10.42.1.7";
    let node = "10.2.0.10";
    let mut checked = 0;
    for (azure, sites) in [(true, renders(true)), (false, renders(false))] {
        for site in sites {
            let user_data = site
                .files
                .iter()
                .filter(|(p, _)| p.contains("/cloud-init/") && p.ends_with(".yaml"));
            for (path, bytes) in user_data {
                let at = format!("{}: {path}", site.case.display());
                let script = metadata_script(&String::from_utf8_lossy(bytes));
                let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join("azure-metadata-block")
                    .join(std::process::id().to_string())
                    .join(checked.to_string());
                let chain = chain_after(&script, &dir);
                checked += 1;
                let ws = AZURE_WIRESERVER;
                for (protocol, port) in [("udp", 53), ("tcp", 53)] {
                    assert_eq!(verdict(&chain, pod, ws, protocol, port), "ACCEPT", "{at}");
                }
                let blocked = if azure { "DROP" } else { "ACCEPT" };
                for (protocol, port) in [("tcp", 80), ("tcp", 32526), ("udp", 67), ("icmp", 0)] {
                    assert_eq!(
                        verdict(&chain, pod, ws, protocol, port),
                        blocked,
                        "{at}: {protocol} {port}"
                    );
                    assert_eq!(verdict(&chain, node, ws, protocol, port), "ACCEPT", "{at}");
                }
                for metadata in ["169.254.169.254", "169.254.42.42"] {
                    assert_eq!(verdict(&chain, pod, metadata, "tcp", 80), "DROP", "{at}");
                    assert_eq!(verdict(&chain, node, metadata, "tcp", 80), "ACCEPT", "{at}");
                }
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
    assert!(checked > 10, "user-data of Azure and other sites checked");
}

/// A client secret of the characters Entra generates, standing in for the secrets file's.
const CANARY_SECRET: &str = "Ab1~cD2.eF3_gH4-iJ5";

#[test]
fn the_disk_driver_finds_the_sites_group_and_location_and_signs_in_with_the_secret() {
    let mut checked = 0;
    for site in renders(true) {
        let at = site.case.display().to_string();
        let Some(path) = site
            .files
            .keys()
            .find(|p| p.ends_with("/infrastructure/azure-disk-csi.yaml"))
        else {
            continue;
        };
        checked += 1;
        let secret = read_yaml(&site.text(path));
        assert_eq!(secret["kind"], "Secret", "{at}");
        assert_eq!(secret["metadata"]["name"], "azure-cloud-provider", "{at}");
        assert_eq!(secret["metadata"]["namespace"], "kube-system", "{at}");
        let text = secret["stringData"]["cloud-config"].as_str().expect(&at);
        // Flux fills in `${key}`; the render holds the reference and no value.
        let start = text.find("${").expect(&at);
        let end = start + text[start..].find('}').expect(&at);
        let key = &text[start + 2..end];
        assert!(
            !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{at}: a secrets-file key"
        );
        let filled = text.replace(&text[start..=end], CANARY_SECRET);
        let config: Json = serde_json::from_str(&filled).expect(&at);
        let machines: Machines = site.yaml(&host(&site, "machines.yaml"));
        let azure = machines.azure.as_ref().expect(&at);
        assert_eq!(config["aadClientSecret"], CANARY_SECRET, "{at}");
        assert_eq!(
            config["resourceGroup"],
            azure.resource_group.as_str(),
            "{at}"
        );
        assert_eq!(config["location"], machines.location.as_str(), "{at}");
        // The pods' way to the instance metadata service is closed (decision 0020).
        assert_eq!(config["useInstanceMetadata"], false, "{at}");
        assert_eq!(config["useManagedIdentityExtension"], false, "{at}");
        assert_eq!(config["vmType"], "standard", "{at}");
        for field in ["tenantId", "subscriptionId", "aadClientId"] {
            assert!(
                config[field].as_str().is_some_and(|v| !v.is_empty()),
                "{at}: {field}"
            );
        }
    }
    assert!(checked >= 1, "a golden Azure site runs the disk driver");
}
