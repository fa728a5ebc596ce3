//! An Azure site's life against the fake Resource Manager (`fake_azure`): bootstrap from
//! nothing to Flux Ready and again with nothing new, plan, the rendered NSG rules and network
//! shape as the fake stores them, and destroy, which never touches a foreign resource group or
//! an untagged VM in the site's own.

use super::*;
use crate::fake_azure::{
    CLIENT_ID, CLIENT_SECRET, FakeAzure, Faults as AzureFaults, SUBSCRIPTION, Summary, TENANT,
};

mod faults;

pub(super) const EXAMPLE: &str = "examples/azure-small/site.yaml";
pub(super) const SITE: &str = "demo-azure";
const GROUP: &str = "railyard-demo-azure";

pub(super) fn railyard_at(fake: &FakeAzure, cluster: &TestCluster, args: &[&str]) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
        .env("AZURE_AUTHORITY_HOST", fake.url())
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

/// The resources tagged with the site, as (type, name); panics on a duplicate.
pub(super) fn site_resources(fake: &FakeAzure, site: &str) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for Summary {
        kind, name, tags, ..
    } in fake.resources()
    {
        if tags.get("railyard-site").map(String::as_str) == Some(site) {
            assert!(
                seen.insert((kind.clone(), name.clone())),
                "duplicate {kind} `{name}`"
            );
        }
    }
    seen
}

/// What a small Azure site is: its group, key, network with its NAT gateway, NSG, the ingress
/// load balancer, two VMs with their NICs, and public addresses for server-0, the NAT gateway
/// and the load balancer.
pub(super) fn wanted_small() -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let mut add = |kind: &str, name: String| {
        wanted.insert((kind.to_owned(), name));
    };
    add("resourceGroups", GROUP.to_owned());
    add("Microsoft.Compute/sshPublicKeys", format!("{SITE}-key-0"));
    add(
        "Microsoft.Network/virtualNetworks",
        format!("{SITE}-network"),
    );
    add("Microsoft.Network/natGateways", format!("{SITE}-nat"));
    add(
        "Microsoft.Network/networkSecurityGroups",
        format!("{SITE}-firewall"),
    );
    add("Microsoft.Network/loadBalancers", format!("{SITE}-ingress"));
    for ip in ["nat-ip", "server-0-ip", "ingress-ip"] {
        add(
            "Microsoft.Network/publicIPAddresses",
            format!("{SITE}-{ip}"),
        );
    }
    for machine in ["server-0", "worker-0"] {
        add(
            "Microsoft.Compute/virtualMachines",
            format!("{SITE}-{machine}"),
        );
        add(
            "Microsoft.Network/networkInterfaces",
            format!("{SITE}-{machine}-nic"),
        );
    }
    wanted
}

/// PUTs that made something new (answered 201).
pub(super) fn creations(fake: &FakeAzure) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.status == 201)
        .count()
}

#[test]
fn small_azure_bootstrap_reaches_flux_ready_then_nothing_new_and_destroy_spares_the_foreign() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults {
        page_size: 2,
        ..AzureFaults::default()
    });
    fake.add_foreign(
        "resourceGroups",
        "team-other",
        "team-other",
        &[("team", "other")],
        serde_json::json!({"location": "uksouth"}),
    );
    let output = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("+ create"), "{}", stdout(&output));

    let first = run(&mut railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&first);
    assert!(stdout(&first).contains("Flux Ready"), "{}", stdout(&first));
    assert_eq!(site_resources(&fake, SITE), wanted_small());
    for machine in ["server-0", "worker-0"] {
        let data = fake
            .custom_data(&format!("{SITE}-{machine}"))
            .expect("customData");
        assert!(data.starts_with("#cloud-config"), "{data}");
        assert!(!data.contains("@@railyard:"), "placeholders filled in");
    }
    check_network(&fake);

    let made = creations(&fake);
    let vm_puts = |fake: &FakeAzure| {
        fake.requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains("virtualMachines"))
            .count()
    };
    let vms = vm_puts(&fake);
    let again = run(&mut railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&again);
    assert_eq!(creations(&fake), made, "a second run created something");
    assert_eq!(vm_puts(&fake), vms, "a second run sent a VM again");
    assert!(
        stdout(&again).contains("0 to create, 0 to finish"),
        "{}",
        stdout(&again)
    );
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));

    // An untagged VM in the site's group: destroy leaves it, and so the group.
    fake.add_foreign(
        "Microsoft.Compute/virtualMachines",
        GROUP,
        "hand-made",
        &[],
        serde_json::json!({"location": "uksouth"}),
    );
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    let left: BTreeSet<(String, String)> = fake
        .resources()
        .into_iter()
        .map(|r| (r.kind, r.name))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("resourceGroups", "team-other"),
        ("resourceGroups", GROUP),
        ("Microsoft.Compute/virtualMachines", "hand-made"),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n.to_owned()))
    .collect();
    assert_eq!(left, expected);
}

/// The fake stores what the render says: every rendered NSG rule (one family, named,
/// numbered), the subnet private by default behind the NAT gateway and the NSG, server-0 at
/// its static address with a public IP, both NICs in the load balancer's pool.
fn check_network(fake: &FakeAzure) {
    let loaded = railyard::edge::load::load(&root().join(EXAMPLE)).expect("example loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("compiles");
    let rendered = railyard::bootstrap::wanted::read(SITE, &tree.files)
        .expect("host files")
        .firewall;
    let nsg = fake
        .body(
            "Microsoft.Network/networkSecurityGroups",
            &format!("{SITE}-firewall"),
        )
        .expect("nsg");
    let stored = nsg["properties"]["securityRules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(stored.len(), rendered.rules.len());
    for rule in &rendered.rules {
        let found = stored
            .iter()
            .find(|s| s["name"] == rule.name.as_deref().unwrap_or_default())
            .expect("rule by name");
        assert_eq!(
            found["properties"]["priority"].as_u64(),
            rule.priority.map(u64::from),
            "{rule:?}"
        );
        assert_eq!(
            found["properties"]["sourceAddressPrefixes"],
            serde_json::json!(rule.sources)
        );
    }
    let vnet = fake
        .body(
            "Microsoft.Network/virtualNetworks",
            &format!("{SITE}-network"),
        )
        .expect("vnet");
    let subnet = &vnet["properties"]["subnets"][0]["properties"];
    assert_eq!(subnet["defaultOutboundAccess"], false);
    assert!(
        subnet["natGateway"]["id"]
            .as_str()
            .is_some_and(|id| id.ends_with(&format!("/{SITE}-nat")))
    );
    assert!(
        subnet["networkSecurityGroup"]["id"]
            .as_str()
            .is_some_and(|id| id.ends_with(&format!("/{SITE}-firewall")))
    );
    let server = fake
        .body(
            "Microsoft.Network/networkInterfaces",
            &format!("{SITE}-server-0-nic"),
        )
        .expect("nic");
    let config = &server["properties"]["ipConfigurations"][0]["properties"];
    assert_eq!(
        (
            config["privateIPAllocationMethod"].as_str(),
            config["privateIPAddress"].as_str()
        ),
        (Some("Static"), Some("10.2.0.10"))
    );
    assert!(
        config["publicIPAddress"]["id"]
            .as_str()
            .is_some_and(|id| id.ends_with("-server-0-ip"))
    );
    for machine in ["server-0", "worker-0"] {
        let nic = fake
            .body(
                "Microsoft.Network/networkInterfaces",
                &format!("{SITE}-{machine}-nic"),
            )
            .expect("nic");
        let pools = &nic["properties"]["ipConfigurations"][0]["properties"]["loadBalancerBackendAddressPools"];
        assert_eq!(pools.as_array().map(Vec::len), Some(1), "{machine}: {nic}");
    }
    let lb = fake
        .body(
            "Microsoft.Network/loadBalancers",
            &format!("{SITE}-ingress"),
        )
        .expect("lb");
    assert_eq!(lb["properties"]["probes"].as_array().map(Vec::len), Some(3));
}

/// Without a resource group of its own left over, destroy deletes the group railyard made.
#[test]
fn destroy_deletes_the_group_railyard_made_once_empty() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults::default());
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    let left: Vec<(String, String)> = fake
        .resources()
        .into_iter()
        .map(|r| (r.kind, r.name))
        .collect();
    assert_eq!(left, Vec::<(String, String)>::new());
}

/// A group the user made (untagged) is used as it is: never tagged, never deleted.
#[test]
fn a_users_own_group_is_used_and_kept() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults::default());
    fake.add_foreign(
        "resourceGroups",
        GROUP,
        GROUP,
        &[("owner", "ops")],
        serde_json::json!({"location": "uksouth"}),
    );
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    let placed: Vec<Summary> = fake.resources();
    assert!(placed.len() > 10, "{placed:?}");
    assert!(placed.iter().all(|r| r.group == GROUP), "{placed:?}");
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    let left: Vec<Summary> = fake.resources();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].tags.get("owner").map(String::as_str), Some("ops"));
    assert!(!left[0].tags.contains_key("railyard-site"));
}

/// A small Azure site at 100 ms per request converges; the figures it prints are what
/// benches/bootstrap.sh reports (speed is measured there, never asserted here).
#[test]
fn azure_bootstrap_with_latency_converges_and_prints_its_time() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults {
        latency: Duration::from_millis(100),
        ..AzureFaults::default()
    });
    let started = std::time::Instant::now();
    let mut command = railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]);
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
        "bootstrap azure small, 1 server + 1 worker, 100 ms per request: cloud resources in place after {provisioned}; {:.2} s wall in all (k3s, Flux), {} requests",
        elapsed.as_secs_f64(),
        fake.requests().len()
    );
}

/// Without the service principal's tenant, the command stops before any request and names it.
#[test]
fn a_missing_tenant_is_named_before_any_request() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults::default());
    let output =
        run(railyard_at(&fake, &cluster, &["plan", EXAMPLE]).env_remove("AZURE_TENANT_ID"));
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("AZURE_TENANT_ID"),
        "{}",
        stderr(&output)
    );
    assert!(fake.requests().is_empty());
}

/// A VM's `customData` cannot change: once the rendered user-data differs from what a VM was
/// created with (its digest tag), `plan` reports the VM as different, and `bootstrap` leaves it
/// as it is without sending it again.
#[test]
fn a_changed_user_data_is_reported_as_different_and_never_sent_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = root().join("examples/azure-small");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(example.join(file), dir.path().join(file)).expect("copy");
    }
    let site = dir.path().join("site.yaml");
    let site_arg = site.to_str().expect("UTF-8 path");
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults::default());
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", site_arg],
    )));
    let clean = run(&mut railyard_at(&fake, &cluster, &["plan", site_arg]));
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));

    // The key's comment is in every machine's rendered user-data.
    let text = std::fs::read_to_string(&site).expect("site");
    std::fs::write(&site, text.replace("admin@example.com", "ops@example.com")).expect("site");
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", site_arg]));
    assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
    let out = stdout(&plan);
    for machine in ["server-0", "worker-0"] {
        assert!(
            out.lines().any(|l| l.contains("differs")
                && l.contains(&format!("{SITE}-{machine}"))
                && l.contains("user-data")),
            "{out}"
        );
    }
    let vm_puts = |fake: &FakeAzure| {
        fake.requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/virtualMachines/"))
            .count()
    };
    let before = vm_puts(&fake);
    let again = run(&mut railyard_at(&fake, &cluster, &["bootstrap", site_arg]));
    assert_ok(&again);
    assert_eq!(vm_puts(&fake), before, "a VM was sent again");
    assert!(
        stdout(&again).contains("left as it is: server"),
        "{}",
        stdout(&again)
    );
}

/// Against Azure's token buckets (small here), bootstrap waits out an empty bucket and its
/// 429s and still reaches exactly the wanted resources.
#[test]
fn throttled_azure_bootstrap_waits_out_the_buckets() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults {
        buckets: Some((2, 4)),
        ..AzureFaults::default()
    });
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    assert_eq!(site_resources(&fake, SITE), wanted_small());
    let throttled = fake.requests().iter().filter(|r| r.status == 429).count();
    assert!(throttled >= 1, "the buckets never ran dry");
}

/// A VM size the subscription may not order in the site's location stops `plan` and
/// `bootstrap` before anything is created, naming what can be ordered there.
#[test]
fn a_restricted_size_stops_the_run_before_any_create() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults {
        restricted: vec!["Standard_D4s_v5"],
        ..AzureFaults::default()
    });
    for verb in ["plan", "bootstrap"] {
        let output = run(&mut railyard_at(&fake, &cluster, &[verb, EXAMPLE]));
        assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
        let err = stderr(&output);
        assert!(
            err.contains("server type `Standard_D4s_v5` is not available in `uksouth`"),
            "{err}"
        );
        assert!(err.contains("`Standard_D4as_v5`"), "{err}");
    }
    assert!(fake.requests().iter().all(|r| r.method != "PUT"));
}
