//! `plan`, `bootstrap` and `destroy` of the DigitalOcean example against the fake DigitalOcean
//! API (`fake_digitalocean`), with the cluster half against the same fake cluster as Hetzner's.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use super::{TestCluster, assert_ok};
use crate::fake_digitalocean::{FakeDigitalOcean, Faults, Way};
use crate::support::{railyard, root, run, stderr, stdout};

pub(super) const EXAMPLE: &str = "examples/digitalocean-small/site.yaml";
pub(super) const SITE: &str = "demo-digitalocean";
const SITE_TAG: &str = "railyard-site:demo-digitalocean";

pub(super) fn against(fake: &FakeDigitalOcean, cluster: &TestCluster, args: &[&str]) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .env("DIGITALOCEAN_TOKEN", "test-token")
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env("RAILYARD_RETRY_BASE_MS", "5")
        .env("RAILYARD_POLL_MS", "5")
        .env(
            "RAILYARD_SSH_REDIRECT",
            format!("127.0.0.1:{}", cluster.sshd.port),
        )
        .env("RAILYARD_KUBE_REDIRECT", cluster.kube.address())
        .env("HOME", cluster.sshd.dir.path())
        .args(["--api-url", &fake.url()]);
    if args.first() == Some(&"bootstrap") {
        command
            .arg("--ssh-key")
            .arg(&cluster.sshd.client_key)
            .arg("--git-known-hosts")
            .arg(&cluster.known_hosts)
            .args(["--wait", "20", "--flux-wait", "30"]);
    }
    command
}

/// What the small site must hold, as (kind, name): the droplets by their tag, the untaggable
/// kinds by their site-derived names.
pub(super) fn wanted() -> BTreeSet<(String, String)> {
    [
        ("ssh_key", format!("{SITE}-key-0")),
        ("vpc", format!("{SITE}-network")),
        ("firewall", format!("{SITE}-firewall")),
        ("load_balancer", format!("{SITE}-ingress")),
        ("droplet", format!("{SITE}-server-0")),
        ("droplet", format!("{SITE}-worker-0")),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect()
}

/// The site's resources in the fake; panics on a duplicate.
pub(super) fn site_resources(fake: &FakeDigitalOcean) -> BTreeSet<(String, String)> {
    let names: BTreeSet<String> = wanted().into_iter().map(|(_, n)| n).collect();
    let mut seen = BTreeSet::new();
    for (kind, _id, name, tags) in fake.resources() {
        let ours = if kind == "droplet" {
            tags.iter().any(|t| t == SITE_TAG)
        } else {
            names.contains(&name)
        };
        if ours {
            assert!(
                seen.insert((kind.clone(), name.clone())),
                "duplicate {kind} `{name}`"
            );
        }
    }
    seen
}

pub(super) fn creating_posts(fake: &FakeDigitalOcean) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && !r.path.ends_with("/actions"))
        .count()
}

#[test]
fn digitalocean_small_bootstrap_reaches_flux_ready_and_a_second_run_creates_nothing() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults {
        page_size: 2,
        action_time: Duration::from_millis(50),
        ..Faults::default()
    });
    let output = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("+ create"), "{}", stdout(&output));

    let first = run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&first);
    let out = stdout(&first);
    assert!(out.contains("Flux Ready: 5 Kustomizations"), "{out}");
    assert_eq!(site_resources(&fake), wanted());

    // The rendered firewall, as applied, lets the machines out for what they need and lets
    // the private network in (the worker joins the server on 6443 over it).
    let private = fake
        .requests()
        .iter()
        .find(|r| r.method == "POST" && r.path == "/v2/vpcs")
        .and_then(|r| r.body.clone())
        .expect("the VPC was created");
    let range = private["ip_range"].as_str().expect("a range").to_owned();
    let inside = range.replace(".0/20", ".9");
    for droplet in [format!("{SITE}-server-0"), format!("{SITE}-worker-0")] {
        for (protocol, port) in [
            ("udp", 53),
            ("tcp", 443),
            ("tcp", 80),
            ("udp", 123),
            ("tcp", 22),
        ] {
            assert!(
                fake.allows(&droplet, Way::Out, protocol, port, "192.0.2.1"),
                "{droplet} out {protocol}/{port}"
            );
        }
        assert!(
            fake.allows(&droplet, Way::In, "tcp", 6443, &inside),
            "{droplet} in 6443 from {inside}"
        );
        assert!(
            fake.allows(&droplet, Way::Out, "tcp", 6443, &inside),
            "{droplet} out 6443 to {inside}"
        );
        assert!(
            !fake.allows(&droplet, Way::In, "tcp", 10250, "192.0.2.1"),
            "{droplet}: kubelet open"
        );
    }
    // The worker's user-data names the server's private address, as the cloud assigned it.
    let worker = fake
        .requests()
        .iter()
        .find(|r| {
            r.method == "POST"
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["name"] == format!("{SITE}-worker-0"))
        })
        .and_then(|r| r.body.clone())
        .expect("the worker was created");
    let user_data = worker["user_data"].as_str().expect("user-data");
    assert!(
        !user_data.contains("@@railyard:"),
        "unfilled placeholder in the worker's user-data"
    );
    assert!(
        user_data.contains(&format!(
            "server: https://{}",
            range.trim_end_matches(".0/20").to_owned() + ".2"
        )),
        "{range}"
    );

    let posts = creating_posts(&fake);
    let again = run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&again);
    assert_eq!(
        creating_posts(&fake),
        posts,
        "the second run created something"
    );
    let output = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    fake.stop();
}

#[test]
fn digitalocean_destroy_deletes_the_site_and_nothing_without_its_tag() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults {
        page_size: 2,
        ..Faults::default()
    });
    let foreign = fake.add_foreign_droplet(&format!("{SITE}-server-0"), &["someone-else"]);
    fake.add_foreign_vpc("someone-elses-network", "lon1", "10.99.0.0/16");
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE])));
    assert_eq!(site_resources(&fake), wanted());
    assert_ok(&run(&mut against(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    assert!(
        site_resources(&fake).is_empty(),
        "{:?}",
        site_resources(&fake)
    );
    let left: Vec<(String, String)> = fake
        .resources()
        .into_iter()
        .map(|(kind, id, name, _)| (kind, if id == foreign { id } else { name }))
        .collect();
    assert!(
        left.contains(&("droplet".to_owned(), foreign.clone())),
        "{left:?}"
    );
    assert!(
        left.contains(&("vpc".to_owned(), "someone-elses-network".to_owned())),
        "{left:?}"
    );
    assert_eq!(left.len(), 2, "{left:?}");
}

/// The small site at 100 ms per request converges; the wall time it prints is what
/// benches/bootstrap.sh reports (speed is measured there, never asserted here).
#[test]
fn digitalocean_bootstrap_with_latency_converges_and_prints_its_time() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults {
        latency: Duration::from_millis(100),
        action_time: Duration::from_secs(1),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let mut command = against(&fake, &cluster, &["bootstrap", EXAMPLE]);
    command.env("RAILYARD_POLL_MS", "500");
    let output = run(&mut command);
    let elapsed = started.elapsed();
    assert_ok(&output);
    let out = stdout(&output);
    let provisioned = out
        .lines()
        .find_map(|l| l.strip_prefix("cloud resources in place after "))
        .expect(&out);
    println!(
        "bootstrap digitalocean small, 1 server + 1 worker, 100 ms per request, 1 s actions: cloud resources in place after {provisioned}; {:.2} s wall in all (k3s, Flux), {} requests",
        elapsed.as_secs_f64(),
        fake.requests().len()
    );
    fake.stop();
}

/// Two sites in one account: the second's VPC gets its own default range, which the account
/// accepts beside the first's (DigitalOcean refuses overlapping VPC ranges).
#[test]
fn two_digitalocean_sites_bootstrap_side_by_side_in_one_account() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults::default());
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE])));
    let dir = tempfile::tempdir().expect("tempdir");
    let example = root().join("examples/digitalocean-small");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(example.join(file), dir.path().join(file)).expect("copy");
    }
    let path = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    std::fs::write(
        &path,
        text.replace("name: demo-digitalocean", "name: second-site"),
    )
    .expect("site");
    let second = run(&mut against(
        &fake,
        &cluster,
        &["bootstrap", &path.to_string_lossy()],
    ));
    assert_ok(&second);
    let ranges: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/vpcs" && r.status == 201)
        .filter_map(|r| {
            r.body
                .as_ref()
                .and_then(|b| b["ip_range"].as_str().map(str::to_owned))
        })
        .collect();
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    assert_ne!(ranges[0], ranges[1]);
    let droplets = fake
        .resources()
        .into_iter()
        .filter(|(kind, ..)| kind == "droplet")
        .count();
    assert_eq!(droplets, 4);
    // The admin key is the first site's; the second uses it (DigitalOcean holds a key's
    // material once) and its destroy leaves it and the first site alone.
    assert_ok(&run(&mut against(
        &fake,
        &cluster,
        &["destroy", &path.to_string_lossy(), "--yes"],
    )));
    assert_eq!(site_resources(&fake), wanted());
    let left = fake.resources();
    assert!(
        left.iter()
            .all(|(_, _, name, _)| !name.starts_with("second-site")),
        "{left:?}"
    );
}

/// Firewall rules changed by hand are reported and put back by a full replacement.
#[test]
fn digitalocean_firewall_rules_changed_by_hand_converge() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults::default());
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE])));
    let (_, id, _, _) = fake
        .resources()
        .into_iter()
        .find(|(kind, ..)| kind == "firewall")
        .expect("the firewall");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .put(format!("{}/firewalls/{id}", fake.url()))
            .bearer_auth("token")
            .json(&serde_json::json!({
                "name": format!("{SITE}-firewall"),
                "inbound_rules": [{"protocol": "tcp", "ports": "22", "sources": {"addresses": ["0.0.0.0/0"]}}],
                "tags": [SITE_TAG],
            }))
            .send()
            .await
            .expect("the fake answers")
            .status()
    });
    assert!(status.is_success(), "{status}");
    assert!(!fake.allows(
        &format!("{SITE}-worker-0"),
        Way::Out,
        "tcp",
        443,
        "192.0.2.1"
    ));
    let plan = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
    assert!(stdout(&plan).contains("rules differ"), "{}", stdout(&plan));
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE])));
    assert!(fake.allows(
        &format!("{SITE}-worker-0"),
        Way::Out,
        "tcp",
        443,
        "192.0.2.1"
    ));
    let plan = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
}

/// The site's public key already in the account under the user's own name: DigitalOcean
/// refuses a second copy (422 "SSH Key is already in use on your account"), so the plan keeps
/// the user's key, bootstrap never sends it, a second plan has nothing to do, and `destroy`
/// leaves the key: it is not the site's.
#[test]
fn digitalocean_adopts_the_sites_key_held_under_another_name() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults::default());
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy me@laptop";
    let id = fake.add_foreign_ssh_key("my-laptop", key);
    let plan = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    let text = stdout(&plan);
    assert!(
        text.contains(&format!("keep      SSH key          {SITE}-key-0 (#{id})"))
            && text.contains("holds this public key as `my-laptop`"),
        "{text}"
    );
    assert!(!text.contains("create    SSH key"), "{text}");
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE])));
    let sent = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/account/keys")
        .count();
    assert_eq!(sent, 0, "the key was sent to be created");
    let droplets: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v2/droplets" && r.status < 300)
        .collect();
    assert_eq!(droplets.len(), 2);
    for droplet in &droplets {
        let keys = &droplet.body.as_ref().expect("a body")["ssh_keys"];
        assert_eq!(
            keys,
            &serde_json::json!([id.parse::<u64>().expect("an id")]),
            "{keys}"
        );
    }
    let again = run(&mut against(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert_ok(&run(&mut against(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    let left = fake.resources();
    assert_eq!(
        left.iter()
            .map(|(kind, _, name, _)| (kind.as_str(), name.as_str()))
            .filter(|(kind, _)| *kind != "vpc")
            .collect::<Vec<_>>(),
        vec![("ssh_key", "my-laptop")],
        "{left:?}"
    );
}
