//! A Scaleway site's life against the fake Scaleway APIs (`fake_scaleway`): bootstrap from
//! nothing to Flux Ready and again, plan, destroy with what servers leave behind, and the
//! rendered security-group rules against the fake's strictness.

use super::*;
use crate::fake_scaleway::{FakeScaleway, Faults as ScalewayFaults, PROJECT, Summary, tag_map};

mod faults;

pub(super) const EXAMPLE: &str = "examples/scaleway-small/site.yaml";
pub(super) const SITE: &str = "demo-scaleway";

pub(super) fn railyard_at(fake: &FakeScaleway, cluster: &TestCluster, args: &[&str]) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .env("SCW_SECRET_KEY", "scw-test-secret-key")
        .env("SCW_DEFAULT_PROJECT_ID", PROJECT)
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

/// The site's resources in the fake, as (collection, name); panics on a duplicate.
pub(super) fn site_resources(fake: &FakeScaleway, site: &str) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for Summary {
        collection,
        name,
        tags,
        ..
    } in fake.resources()
    {
        let tagged = tag_map(&tags).get(SITE_LABEL).map(String::as_str) == Some(site);
        let key_of_site = collection == "ssh_keys" && name.starts_with(&format!("{site}-key-"));
        if tagged || key_of_site {
            let label = if name.is_empty() {
                tags.iter()
                    .find(|t| t.starts_with("railyard.dev/machine="))
                    .cloned()
                    .unwrap_or_default()
            } else {
                name.clone()
            };
            assert!(
                seen.insert((collection.clone(), label.clone())),
                "duplicate {collection} `{label}`"
            );
        }
    }
    seen
}

/// What a small Scaleway site is: key, network, security group, placement groups, the
/// ingress load balancer, two servers, each with a flexible IP and a root volume, and
/// server-0's reserved private address.
pub(super) fn wanted_small() -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let mut add = |collection: &str, name: String| {
        wanted.insert((collection.to_owned(), name));
    };
    add("ssh_keys", format!("{SITE}-key-0"));
    add("private_networks", format!("{SITE}-network"));
    add("security_groups", format!("{SITE}-firewall"));
    add("placement_groups", format!("{SITE}-servers"));
    add("placement_groups", format!("{SITE}-workers-0"));
    add("lbs", format!("{SITE}-ingress"));
    for machine in [format!("{SITE}-server-0"), format!("{SITE}-worker-0")] {
        add("ips", format!("railyard.dev/machine={machine}"));
        add("volumes", format!("{machine}-root"));
        add("servers", machine);
    }
    add("ipam_ips", String::new());
    wanted
}

pub(super) fn creating_posts(fake: &FakeScaleway) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && !r.path.ends_with("/action"))
        .count()
}

#[test]
fn small_bootstrap_reaches_flux_ready_then_plan_is_clean_and_destroy_leaves_nothing() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        page_size: 2,
        polls: 2,
        ..ScalewayFaults::default()
    });
    fake.add_foreign("servers", &format!("{SITE}-server-0"), &["team=other"]);
    let output = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("+ create"), "{}", stdout(&output));

    let first = run(&mut railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&first);
    let out = stdout(&first);
    assert!(out.contains("Flux Ready: 5 Kustomizations"), "{out}");
    assert_eq!(site_resources(&fake, SITE), wanted_small());
    for machine in ["server-0", "worker-0"] {
        let name = format!("{SITE}-{machine}");
        assert_eq!(
            fake.server_state(&name).as_deref(),
            Some("running"),
            "{name}"
        );
        let data = fake.user_data(&name).expect("user-data set");
        assert!(data.starts_with("#cloud-config"), "{data}");
        assert!(!data.contains("@@railyard:secret:"), "secrets filled in");
    }

    check_rules(&fake);

    let posts = creating_posts(&fake);
    let again = run(&mut railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&again);
    assert_eq!(
        creating_posts(&fake),
        posts,
        "a second run created something"
    );
    assert!(
        stdout(&again).contains("0 to create, 0 to finish"),
        "{}",
        stdout(&again)
    );
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));

    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    assert_eq!(site_resources(&fake, SITE), BTreeSet::new());
    let left: Vec<(String, String)> = fake
        .resources()
        .into_iter()
        .map(|r| (r.collection, r.name))
        .collect();
    assert_eq!(
        left,
        vec![("servers".to_owned(), format!("{SITE}-server-0"))],
        "only the foreign server stays"
    );
}

/// The rendered `firewall.yaml` is what the security group holds, one Scaleway rule per
/// source, accepted by the fake's strictness (upper-case protocols, one `ip_range`, integer
/// ports); no private-network rule, which a security group would never match.
fn check_rules(fake: &FakeScaleway) {
    let loaded = railyard::edge::load::load(&root().join(EXAMPLE)).expect("example loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("example compiles");
    let rendered = railyard::bootstrap::wanted::read(SITE, &tree.files)
        .expect("host files parse")
        .firewall;
    let stored = fake.security_rules(&format!("{SITE}-firewall"));
    let sources: usize = rendered.rules.iter().map(|r| r.sources.len()).sum();
    assert!(sources >= 8, "{rendered:?}");
    assert_eq!(stored.len(), sources, "{stored:?}");
    for rule in &rendered.rules {
        assert!(
            rule.sources.iter().all(|s| !s.starts_with("10.")),
            "a private-network rule rendered for Scaleway: {rule:?}"
        );
        let (from, to) = match rule.port.as_deref().and_then(|p| p.split_once('-')) {
            Some((from, to)) => (from.parse::<u64>().ok(), to.parse::<u64>().ok()),
            None => (rule.port.as_deref().and_then(|p| p.parse().ok()), None),
        };
        for source in &rule.sources {
            let found = stored.iter().any(|s| {
                s["ip_range"] == source.as_str()
                    && s["protocol"] == rule.protocol.to_uppercase()
                    && s["dest_port_from"].as_u64() == from
                    && s["dest_port_to"].as_u64() == to
            });
            assert!(found, "{rule:?} from {source} not in {stored:?}");
        }
    }
}

/// A small Scaleway site at 100 ms per request converges; the figures it prints are what
/// benches/bootstrap.sh reports (speed is measured there, never asserted here).
#[test]
fn scaleway_bootstrap_with_latency_converges_and_prints_its_time() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        latency: Duration::from_millis(100),
        polls: 1,
        ..ScalewayFaults::default()
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
        "bootstrap scaleway small, 1 server + 1 worker, 100 ms per request: cloud resources in place after {provisioned}; {:.2} s wall in all (k3s, Flux), {} requests",
        elapsed.as_secs_f64(),
        fake.requests().len()
    );
    fake.stop();
}

/// Without a project, the command stops before any request and says which variable to set.
#[test]
fn a_missing_project_is_named_before_any_request() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults::default());
    let output =
        run(railyard_at(&fake, &cluster, &["plan", EXAMPLE]).env_remove("SCW_DEFAULT_PROJECT_ID"));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("`SCW_DEFAULT_PROJECT_ID` is not set"),
        "{}",
        stderr(&output)
    );
    assert!(fake.requests().is_empty());
}

/// `--project` names the project without the variable, and over it; other clouds refuse it.
#[test]
fn the_project_flag_overrides_the_variable() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults::default());
    let flagged = run(
        railyard_at(&fake, &cluster, &["plan", EXAMPLE, "--project", PROJECT])
            .env_remove("SCW_DEFAULT_PROJECT_ID"),
    );
    assert_eq!(flagged.status.code(), Some(1), "{}", stderr(&flagged));
    assert!(
        stdout(&flagged).contains("+ create"),
        "{}",
        stdout(&flagged)
    );
    let other = "00000000-0000-4000-8000-000000000001";
    let before = fake.requests().len();
    let overridden = run(&mut railyard_at(
        &fake,
        &cluster,
        &["plan", EXAMPLE, "--project", other],
    ));
    assert_eq!(overridden.status.code(), Some(1), "{}", stderr(&overridden));
    let sent = fake.requests();
    let scoped: Vec<&str> = sent[before..]
        .iter()
        .filter(|r| r.query.contains("project"))
        .map(|r| r.query.as_str())
        .collect();
    assert!(!scoped.is_empty());
    assert!(
        scoped
            .iter()
            .all(|q| q.contains(other) && !q.contains(PROJECT)),
        "{scoped:?}"
    );
    let digitalocean = run(railyard()
        .current_dir(root())
        .args(["plan", super::digitalocean::EXAMPLE, "--project", other])
        .env("DIGITALOCEAN_TOKEN", "test-token")
        .args(["--api-url", "http://127.0.0.1:9"]));
    assert_eq!(digitalocean.status.code(), Some(2));
    assert!(
        stderr(&digitalocean).contains("`--project` names a Scaleway project"),
        "{}",
        stderr(&digitalocean)
    );
}

/// A type in shortage in the zone stops `plan` and `bootstrap` before anything is created,
/// naming what the zone sells.
#[test]
fn a_type_in_shortage_stops_the_run_before_any_create() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        shortage: vec!["PRO2-XS"],
        ..ScalewayFaults::default()
    });
    for verb in ["plan", "bootstrap"] {
        let output = run(&mut railyard_at(&fake, &cluster, &[verb, EXAMPLE]));
        assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
        let err = stderr(&output);
        assert!(
            err.contains("server type `PRO2-XS` is not available in `nl-ams-1`"),
            "{err}"
        );
        assert!(err.contains("`POP2-4C-16G`"), "{err}");
    }
    assert_eq!(creating_posts(&fake), 0);
}

/// A server a run left `stopped` without its user-data is never powered on as it is: the plan
/// lists it apart, and bootstrap adopts it, sets its user-data, then starts it.
#[test]
fn a_server_left_without_user_data_is_adopted_and_completed() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults::default());
    let name = format!("{SITE}-server-0");
    let site_tag = format!("{SITE_LABEL}={SITE}");
    let id = fake.add_half_created(&name, &[&site_tag, "railyard.dev/role=server"]);
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    let out = stdout(&plan);
    assert!(out.contains(&format!("{name} (no user-data yet)")), "{out}");
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    assert_eq!(
        fake.server_ids(&name),
        vec![id],
        "adopted, not created again"
    );
    assert_eq!(fake.server_state(&name).as_deref(), Some("running"));
    assert!(
        fake.user_data(&name)
            .is_some_and(|d| d.starts_with("#cloud-config"))
    );
    assert_eq!(site_resources(&fake, SITE), wanted_small());
}

/// Where IAM refuses a public key the project already holds, the user's own key serves as it
/// is, and `destroy` leaves it: it is not the site's.
#[test]
fn the_users_own_key_serves_where_iam_refuses_a_second_copy() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        unique_public_keys: true,
        ..ScalewayFaults::default()
    });
    fake.add_foreign("ssh_keys", "my-laptop", &[]);
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    let text = stdout(&plan);
    assert!(
        text.contains("keep      SSH key") && text.contains("holds this public key as `my-laptop`"),
        "{text}"
    );
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    // The key was never sent: the plan adopted it, so IAM had nothing to refuse.
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/ssh-keys")),
        "{:?}",
        fake.requests()
    );
    let again = run(&mut railyard_at(&fake, &cluster, &["plan", EXAMPLE]));
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let keys = |fake: &FakeScaleway| -> Vec<String> {
        fake.resources()
            .into_iter()
            .filter(|r| r.collection == "ssh_keys")
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(keys(&fake), vec!["my-laptop"]);
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    assert_eq!(keys(&fake), vec!["my-laptop"]);
    assert_eq!(site_resources(&fake, SITE), BTreeSet::new());
}

/// The Scaleway example copied under another site name, with `extra` appended to its `spec`.
fn copied_site(dir: &std::path::Path, name: &str, extra: &str) -> std::path::PathBuf {
    let example = root().join("examples/scaleway-small");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(example.join(file), dir.join(file)).expect("copy");
    }
    let path = dir.join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    let text = text.replace(&format!("name: {SITE}"), &format!("name: {name}"));
    std::fs::write(&path, format!("{}\n{extra}", text.trim_end())).expect("site");
    path
}

/// The subnets of the private networks the fake created, in order.
fn created_subnets(fake: &FakeScaleway) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/private-networks") && r.status < 300)
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .map(|b| b["subnets"].to_string())
        .collect()
}

/// Two sites in one project: each private network is created with its own site's range
/// (private networks of a region's VPC are routed to each other, so they must not overlap),
/// a site's `privateCidr` is what its network is created with, and a network whose range is
/// no longer the site's is reported by `plan`.
#[test]
fn each_scaleway_site_gets_its_own_private_range_and_plan_reports_a_changed_one() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults::default());
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    let dir = tempfile::tempdir().expect("tempdir");
    let second = copied_site(dir.path(), "second-site", "");
    let second = second.to_string_lossy().into_owned();
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", &second],
    )));
    let subnets = created_subnets(&fake);
    assert_eq!(subnets.len(), 2, "{subnets:?}");
    assert_ne!(subnets[0], subnets[1]);

    let chosen = tempfile::tempdir().expect("tempdir");
    let third = copied_site(
        chosen.path(),
        "third-site",
        "  network:\n    privateCidr: 10.77.0.0/16\n",
    );
    let third = third.to_string_lossy().into_owned();
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", &third],
    )));
    assert_eq!(created_subnets(&fake)[2], r#"["10.77.0.0/24"]"#);

    // The site now asks for another range: the network it has is reported, not replaced.
    let path = chosen.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    std::fs::write(&path, text.replace("10.77.0.0/16", "10.78.0.0/16")).expect("site");
    let plan = run(&mut railyard_at(&fake, &cluster, &["plan", &third]));
    let out = stdout(&plan);
    assert_eq!(plan.status.code(), Some(1), "{out}");
    assert!(
        out.contains("~ differs   network")
            && out.contains("its range is `10.77.0.0/24`, the site's is `10.78.0.0/16`"),
        "{out}"
    );
}
