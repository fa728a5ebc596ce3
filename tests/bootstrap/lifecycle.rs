//! A site's life against the fakes: bootstrap from nothing to Flux Ready and again, destroy,
//! latency, and a plan after the site changed.

use super::*;

#[test]
fn small_and_medium_bootstrap_reach_flux_ready_and_a_second_run_creates_nothing() {
    for (example, site, servers, workers, api_lb) in [
        (
            "examples/hetzner-small/site.yaml",
            "demo-small",
            1,
            1,
            false,
        ),
        (
            "examples/hetzner-medium/site.yaml",
            "demo-medium",
            3,
            5,
            true,
        ),
    ] {
        let cluster = TestCluster::quick(example);
        let fake = FakeHetzner::start_in_background(Faults {
            page_size: 2,
            action_polls: 2,
            ..Faults::default()
        });
        let output = run(&mut railyard_against(&fake, &cluster, &["plan", example]));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stdout(&output).contains("+ create"), "{}", stdout(&output));

        let first = run(&mut railyard_against(
            &fake,
            &cluster,
            &["bootstrap", example],
        ));
        assert_ok(&first);
        let out = stdout(&first);
        assert_eq!(
            site_resources(&fake, site),
            wanted(site, servers, workers, api_lb)
        );
        check_kubeconfig(&cluster, site, api_lb);
        let public = check_cluster_half(&cluster, &out);
        check_second_run(&fake, &cluster, example, &public);

        let output = run(&mut railyard_against(&fake, &cluster, &["plan", example]));
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        fake.stop();
    }
}

/// k3s' kubeconfig, fetched from the (local) first server, for the API's public address: the
/// API load balancer's (203.0.113.0/24 in the fake) or the single server's.
fn check_kubeconfig(cluster: &TestCluster, site: &str, api_lb: bool) {
    let kubeconfig = cluster.kubeconfig(site);
    let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written");
    let api = if api_lb {
        "https://203.0.113."
    } else {
        "https://198.51.100."
    };
    assert!(text.contains(&format!("server: {api}")), "{text}");
    assert!(text.contains(&format!("current-context: {site}")), "{text}");
    // The certificate is checked for the API's private address (k3s' `tls-san`); the fake
    // API server's certificate carries no public address, as k3s' does not.
    let private = if api_lb { "10.2.0.5" } else { "10.2.0.10" };
    assert!(
        text.contains(&format!("tls-server-name: {private}")),
        "{text}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&kubeconfig)
            .expect("metadata")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

/// The cluster half: both Secrets, the sync objects, every Kustomization Ready, and the DNS
/// records last; the deploy key's public half, as printed.
fn check_cluster_half(cluster: &TestCluster, out: &str) -> String {
    let secret = |name: &str| {
        cluster
            .kube
            .object(&format!("/api/v1/namespaces/flux-system/secrets/{name}"))
    };
    let age = secret("sops-age").expect("sops-age applied");
    assert!(age["data"]["age.agekey"].is_string(), "{age}");
    let deploy = secret("flux-system").expect("deploy key applied");
    for key in ["identity", "identity.pub", "known_hosts"] {
        assert!(deploy["data"][key].is_string(), "{key} in {deploy}");
    }
    let public = base64_text(&deploy["data"]["identity.pub"]);
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert!(
        out.contains(public.trim()),
        "public half not printed:\n{out}"
    );
    assert!(
        cluster
            .kube
            .object("/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/flux-system")
            .is_some()
    );
    for name in ["flux-system", "infrastructure", "certificates", "gitpod"] {
        assert!(
            out.contains(&format!("Kustomization `{name}` ready at main@sha1:")),
            "{name}:\n{out}"
        );
    }
    let flux_ready = out.find("Flux Ready: 5 Kustomizations").expect(out);
    let dns = out.find("create these DNS records").expect(out);
    assert!(flux_ready < dns, "{out}");
    public
}

/// A second run creates nothing in the cloud and keeps the deploy key.
fn check_second_run(fake: &FakeHetzner, cluster: &TestCluster, example: &str, public: &str) {
    let posts = creating_posts(fake);
    let applies = cluster.kube.requests().len();

    let again = run(&mut railyard_against(
        fake,
        cluster,
        &["bootstrap", example],
    ));
    assert_ok(&again);
    assert_eq!(
        creating_posts(fake),
        posts,
        "a second run created something"
    );
    let again_out = stdout(&again);
    assert!(
        again_out.contains("0 to create, 0 to finish"),
        "{again_out}"
    );
    assert!(again_out.contains("deploy key kept"), "{again_out}");
    assert!(again_out.contains(public.trim()), "{again_out}");
    let deploy_applies = cluster.kube.requests()[applies..]
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/secrets/flux-system"))
        .count();
    assert_eq!(deploy_applies, 0, "the deploy key was replaced");
}

#[test]
fn destroy_deletes_the_site_and_nothing_else() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::quick(example);
    let fake = FakeHetzner::start_in_background(Faults {
        page_size: 2,
        ..Faults::default()
    });
    let foreign = BTreeMap::from([("team".to_owned(), "other".to_owned())]);
    fake.add_foreign("servers", "someone-elses-server", foreign.clone());
    fake.add_foreign("networks", "demo-small-network", foreign);
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    )));
    assert!(!site_resources(&fake, "demo-small").is_empty());

    let before = fake.resources().len();
    let dry = run(&mut railyard_against(
        &fake,
        &cluster,
        &["destroy", example],
    ));
    assert_eq!(dry.status.code(), Some(1), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("--yes"), "{}", stdout(&dry));
    assert_eq!(
        fake.resources().len(),
        before,
        "destroy without --yes deleted something"
    );

    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["destroy", example, "--yes"],
    )));
    assert!(site_resources(&fake, "demo-small").is_empty());
    let left: Vec<String> = fake
        .resources()
        .into_iter()
        .map(|(_, _, name, _)| name)
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"someone-elses-server".to_owned()));
    assert!(left.contains(&"demo-small-network".to_owned()));
}

/// A medium site with 10 workers at 100 ms per request converges, its creates overlapping as
/// `assert_pipelined` says; the wall time it prints is what benches/bootstrap.sh reports (speed
/// is measured there, never asserted here).
#[test]
fn bootstrap_with_latency_converges_and_prints_its_time() {
    let cluster = TestCluster::quick("examples/hetzner-medium/site.yaml");
    let dir = tempfile::tempdir().expect("tempdir");
    let site = root().join("examples/hetzner-medium");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(site.join(file), dir.path().join(file)).expect("copy");
    }
    let path = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    std::fs::write(&path, text.replace("workers: 5", "workers: 10")).expect("site");
    let fake = FakeHetzner::start_in_background(Faults {
        latency: Duration::from_millis(100),
        action_polls: 1,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let mut command = railyard_against(&fake, &cluster, &["bootstrap", &path.to_string_lossy()]);
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
        "bootstrap medium, 3 servers + 10 workers, 100 ms per request: cloud resources in place after {provisioned}; {:.2} s wall in all (k3s, Flux), {} requests",
        elapsed.as_secs_f64(),
        fake.requests().len()
    );
    assert_pipelined(&fake.requests());
    fake.stop();
}

/// The shape of a bootstrap in the fake's log, not its speed: attaches to the network take
/// turns (none refused as `locked`); the workers' creates all overlap; and they start while a
/// resource at a fixed address is still being followed up (they wait for the fixed addresses
/// to be held, not for the servers to be powered on and read back).
fn assert_pipelined(requests: &[crate::fake_hetzner::Recorded]) {
    let locked: Vec<&str> = requests
        .iter()
        .filter(|r| r.status == 423)
        .map(|r| r.path.as_str())
        .collect();
    assert!(locked.is_empty(), "refused as locked: {locked:?}");
    let workers: Vec<&crate::fake_hetzner::Recorded> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/servers")
        .filter(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b["name"].as_str().is_some_and(|n| n.contains("-worker-")))
        })
        .collect();
    assert_eq!(workers.len(), 10, "one create per worker");
    let last_arrival = workers.iter().map(|r| r.arrived).max().expect("workers");
    let first_answer = workers.iter().map(|r| r.answered).min().expect("workers");
    assert!(
        last_arrival < first_answer,
        "the workers' creates ran one after another, not at once"
    );
    let first_worker = workers.iter().map(|r| r.arrived).min().expect("workers");
    // What holds a fixed address: attached with an `ip`.
    let fixed: Vec<String> = requests
        .iter()
        .filter(|r| r.path.ends_with("/actions/attach_to_network"))
        .filter(|r| r.body.as_ref().is_some_and(|b| b.get("ip").is_some()))
        .map(|r| {
            r.path
                .trim_end_matches("/actions/attach_to_network")
                .to_owned()
        })
        .collect();
    assert_eq!(
        fixed.len(),
        4,
        "3 servers and the API load balancer: {fixed:?}"
    );
    let last_read = requests
        .iter()
        .filter(|r| r.method == "GET" && fixed.contains(&r.path))
        .map(|r| r.arrived)
        .max()
        .expect("the fixed-address resources are read back");
    assert!(
        first_worker < last_read,
        "the workers waited until every server and the API load balancer was read back"
    );
}

/// After a bootstrap, a site asking for fewer workers of another type: the plan reports the
/// changed type and the extra workers, and bootstrap leaves both alone.
#[test]
fn plan_reports_changed_types_and_unwanted_machines() {
    let fake = FakeHetzner::start_in_background(Faults::default());
    let example = "examples/hetzner-medium/site.yaml";
    let cluster = TestCluster::quick(example);
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    )));
    let dir = tempfile::tempdir().expect("tempdir");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(
            root().join("examples/hetzner-medium").join(file),
            dir.path().join(file),
        )
        .expect("copy");
    }
    let site = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&site).expect("site");
    let changed = text.replace(
        "    workers: 5\n",
        "    workers: 3\n    workerType: cpx52\n",
    );
    assert_ne!(changed, text, "the example's worker count moved");
    std::fs::write(&site, changed).expect("site");
    let site = site.to_string_lossy().into_owned();
    let output = run(&mut railyard_against(&fake, &cluster, &["plan", &site]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let plan = stdout(&output);
    assert!(plan.contains("0 to create, 0 to finish"), "{plan}");
    assert_eq!(plan.matches("~ differs").count(), 3, "{plan}");
    assert!(
        plan.contains("server type is `cpx42`, the site wants `cpx52`"),
        "{plan}"
    );
    assert!(
        plan.contains("! unwanted  server           demo-medium-worker-3"),
        "{plan}"
    );
    assert!(
        plan.contains("! unwanted  server           demo-medium-worker-4"),
        "{plan}"
    );
    let before = fake.resources().len();
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", &site],
    )));
    assert_eq!(
        fake.resources().len(),
        before,
        "bootstrap deleted or added machines"
    );
}
