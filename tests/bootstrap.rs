//! `plan`, `bootstrap` and `destroy` against the fake Hetzner API (`fake_hetzner`): the real
//! binary, real HTTP, faults injected by the fake and by killing the process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::fake_hetzner::{FakeHetzner, Faults};
use crate::fake_kube::{FakeKube, KubeFaults};
use crate::ssh::{Sshd, sshd_binary};
use crate::support::{railyard, root, run, stderr, stdout};

const SITE_LABEL: &str = "railyard.dev/site";

/// The example site's resources, by kind and name, as bootstrap must leave them.
fn wanted(site: &str, servers: usize, workers: usize, api_lb: bool) -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let mut add = |kind: &str, name: String| {
        wanted.insert((kind.to_owned(), name));
    };
    add("ssh_key", format!("{site}-key-0"));
    add("network", format!("{site}-network"));
    add("firewall", format!("{site}-firewall"));
    add("placement_group", format!("{site}-servers"));
    for g in 0..workers.div_ceil(10) {
        add("placement_group", format!("{site}-workers-{g}"));
    }
    add("load_balancer", format!("{site}-ingress"));
    if api_lb {
        add("load_balancer", format!("{site}-api"));
    }
    for i in 0..servers {
        add("server", format!("{site}-server-{i}"));
    }
    for i in 0..workers {
        add("server", format!("{site}-worker-{i}"));
    }
    wanted
}

/// The cluster bootstrap reaches once the machines exist: a local sshd standing in for the
/// first server (it serves k3s' kubeconfig), and a fake Kubernetes API server behind it whose
/// simulated Flux applies the site's rendered Kustomizations.
struct TestCluster {
    sshd: Sshd,
    kube: FakeKube,
    known_hosts: PathBuf,
}

impl TestCluster {
    fn start(example: &str, faults: KubeFaults) -> TestCluster {
        let binary =
            sshd_binary().expect("sshd (Debian package openssh-server; tests/run.sh installs it)");
        let kube = FakeKube::start_in_background(faults);
        kube.set_children(flux_children(example));
        let sshd = Sshd::start(&binary, &kube.kubeconfig());
        let known_hosts = sshd.dir.path().join("git_known_hosts");
        std::fs::write(
            &known_hosts,
            "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
        )
        .expect("write");
        TestCluster {
            sshd,
            kube,
            known_hosts,
        }
    }

    /// Flux installs after two looks and each Kustomization needs two reconciles.
    fn quick(example: &str) -> TestCluster {
        TestCluster::start(
            example,
            KubeFaults {
                flux_installed_after: 2,
                ready_after: 2,
                ..KubeFaults::default()
            },
        )
    }

    /// The kubeconfig bootstrap wrote for `site`.
    fn kubeconfig(&self, site: &str) -> PathBuf {
        self.sshd
            .dir
            .path()
            .join(format!(".kube/railyard/{site}.yaml"))
    }
}

/// The Kustomizations the example renders beside its directories (Flux creates them from git).
fn flux_children(example: &str) -> Vec<Value> {
    let loaded = railyard::edge::load::load(&root().join(example)).expect("example loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("example compiles");
    railyard::bootstrap::cluster::rendered_kustomizations(&tree.site, &tree.files)
        .expect("rendered Kustomizations parse")
        .into_iter()
        .filter(|k| k["metadata"]["name"] != "flux-system")
        .collect()
}

fn railyard_against(fake: &FakeHetzner, cluster: &TestCluster, args: &[&str]) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .env("HCLOUD_TOKEN", "test-token")
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env("RAILYARD_RETRY_BASE_MS", "5")
        .env("RAILYARD_POLL_MS", "5")
        .env(
            "RAILYARD_SSH_REDIRECT",
            format!("127.0.0.1:{}", cluster.sshd.port),
        )
        .env("RAILYARD_KUBE_REDIRECT", cluster.kube.address())
        .env("HOME", cluster.sshd.dir.path());
    if args.first() != Some(&"status") {
        command.args(["--api-url", &fake.url()]);
    }
    if args.first() == Some(&"bootstrap") {
        command
            .arg("--ssh-key")
            .arg(&cluster.sshd.client_key)
            .arg("--git-known-hosts")
            .arg(&cluster.known_hosts)
            .args(["--wait", "20"]);
        if !args.contains(&"--flux-wait") {
            command.args(["--flux-wait", "30"]);
        }
    }
    command
}

/// The site's resources in the fake, as (kind, name); panics on a duplicate name.
fn site_resources(fake: &FakeHetzner, site: &str) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for (kind, _id, name, labels) in fake.resources() {
        if labels.get(SITE_LABEL).map(String::as_str) == Some(site) {
            assert!(
                seen.insert((kind.clone(), name.clone())),
                "duplicate {kind} `{name}`"
            );
        }
    }
    seen
}

fn creating_posts(fake: &FakeHetzner) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && !r.path.contains("/actions/"))
        .count()
}

fn assert_ok(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

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
        // k3s' kubeconfig, fetched from the (local) first server, for the API's public address:
        // the API load balancer's (203.0.113.0/24 in the fake) or the single server's.
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

        // The cluster half: both Secrets, the sync objects, every Kustomization Ready, and
        // the DNS records last.
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
        let flux_ready = out.find("Flux Ready: 4 Kustomizations").expect(&out);
        let dns = out.find("create these DNS records").expect(&out);
        assert!(flux_ready < dns, "{out}");
        let posts = creating_posts(&fake);
        let applies = cluster.kube.requests().len();

        let again = run(&mut railyard_against(
            &fake,
            &cluster,
            &["bootstrap", example],
        ));
        assert_ok(&again);
        assert_eq!(
            creating_posts(&fake),
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

        let output = run(&mut railyard_against(&fake, &cluster, &["plan", example]));
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        fake.stop();
    }
}

fn base64_text(value: &Value) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("a string"))
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

/// A small deterministic generator for the fault schedule (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// When a run is killed: after a time, or once the cluster has seen some requests.
#[derive(Clone, Copy)]
enum Kill {
    After(Duration),
    AfterClusterRequests(usize),
}

/// Runs bootstrap, killing it as `kill` says if given; returns whether it was killed.
fn bootstrap_maybe_killed(
    fake: &FakeHetzner,
    cluster: &TestCluster,
    example: &str,
    kill: Option<Kill>,
) -> bool {
    let mut command = railyard_against(fake, cluster, &["bootstrap", example]);
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("railyard starts");
    let started = std::time::Instant::now();
    let Some(kill) = kill else {
        child.wait().expect("railyard runs");
        return false;
    };
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        let due = match kill {
            Kill::After(after) => started.elapsed() >= after,
            Kill::AfterClusterRequests(n) => cluster.kube.requests().len() >= n,
        };
        if due {
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What one faulty run did, for the schedule's overall check.
#[derive(Default)]
struct Hurt {
    killed: usize,
    in_cluster: usize,
    faulted: usize,
    incomplete: usize,
}

/// One seed's faulty first run (killed or not) and its clean re-run, which must converge.
fn faulty_run(seed: u64, example: &str, site: &str, want: &BTreeSet<(String, String)>) -> Hurt {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let faults = Faults {
        page_size: 1 + rng.next(4) as usize,
        action_polls: rng.next(3) as u32,
        rate_limit_every: [0, 7, 11][rng.next(3) as usize],
        server_error_every: [0, 5, 9][rng.next(3) as usize],
        drop_response_every: [0, 3, 4][rng.next(3) as usize],
        seed,
        ..Faults::default()
    };
    let fake = FakeHetzner::start_in_background(faults);
    let cluster = TestCluster::start(
        example,
        KubeFaults {
            server_error_every: [0, 4, 7][rng.next(3) as usize],
            flux_installed_after: 1 + rng.next(3) as u32,
            ready_after: 1 + rng.next(3) as u32,
            ..KubeFaults::default()
        },
    );
    // Kills land anywhere from the first cloud requests to the wait for Flux.
    let kill = match rng.next(4) {
        0 | 1 => Some(Kill::After(Duration::from_millis(50 + rng.next(400)))),
        2 => Some(Kill::AfterClusterRequests(1 + rng.next(12) as usize)),
        _ => None,
    };
    let was_killed = bootstrap_maybe_killed(&fake, &cluster, example, kill);
    let first = site_resources(&fake, site);
    let hurt = Hurt {
        killed: usize::from(was_killed),
        in_cluster: usize::from(was_killed && !cluster.kube.requests().is_empty()),
        faulted: fake
            .requests()
            .iter()
            .filter(|r| r.status == 429 || r.status >= 500)
            .count(),
        incomplete: usize::from(first != *want),
    };
    fake.set_faults(Faults::default());
    cluster.kube.set_faults(KubeFaults::default());
    let rerun = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    ));
    assert!(
        rerun.status.success(),
        "seed {seed}: the re-run failed after {} resources:\n{}\n{}",
        first.len(),
        stdout(&rerun),
        stderr(&rerun)
    );
    assert_eq!(site_resources(&fake, site), *want, "seed {seed}");
    assert!(
        stdout(&rerun).contains("Flux Ready: 4 Kustomizations"),
        "seed {seed}: {}",
        stdout(&rerun)
    );
    fake.stop();
    hurt
}

#[test]
fn twenty_faulty_runs_each_converge_after_at_most_one_rerun() {
    let example = "examples/hetzner-medium/site.yaml";
    let site = "demo-medium";
    let want = wanted(site, 3, 5, true);
    // Each seed has its own fake cloud, cluster and home, so seeds run side by side; the runs
    // mostly wait (on fakes, polls and kills), so a few at a time cut the wall time.
    const AT_ONCE: usize = 5;
    let next = std::sync::atomic::AtomicU64::new(1);
    let total = std::sync::Mutex::new(Hurt::default());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if seed > 20 {
                        return;
                    }
                    let hurt = faulty_run(seed, example, site, &want);
                    let mut total = total.lock().unwrap_or_else(|e| e.into_inner());
                    total.killed += hurt.killed;
                    total.in_cluster += hurt.in_cluster;
                    total.faulted += hurt.faulted;
                    total.incomplete += hurt.incomplete;
                }
            });
        }
    });
    let Hurt {
        killed,
        in_cluster,
        faulted,
        incomplete,
    } = total.into_inner().unwrap_or_else(|e| e.into_inner());
    // The schedule must really hurt: kills mid-run, injected faults, first runs left unfinished.
    eprintln!(
        "20 runs: {killed} killed ({in_cluster} of them in the cluster phase), {faulted} faulty answers, {incomplete} left unfinished"
    );
    assert!(
        killed >= 3 && in_cluster >= 1 && faulted >= 20 && incomplete >= 3,
        "{killed} {in_cluster} {faulted} {incomplete}"
    );
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

/// Secret values travel only in the create-server user-data, and never reach a message.
#[test]
fn secrets_appear_only_in_user_data() {
    let example = "examples/hetzner-medium/site.yaml";
    let cluster = TestCluster::quick(example);
    let decrypted = run(railyard()
        .current_dir(root())
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .args([
            "secrets",
            "decrypt",
            "examples/hetzner-medium/secrets.sops.yaml",
        ]));
    let secrets: Vec<String> = stdout(&decrypted)
        .lines()
        .skip_while(|l| !l.starts_with("stringData:"))
        .skip(1)
        .filter_map(|l| l.split_once(": ").map(|(_, v)| v.trim().to_owned()))
        .filter(|v| v.len() >= 16)
        .collect();
    assert!(secrets.len() >= 2, "{secrets:?}");
    let fake = FakeHetzner::start_in_background(Faults {
        server_error_every: 6,
        ..Faults::default()
    });
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    ));
    assert_ok(&output);
    let mut carried = 0;
    for request in fake.requests() {
        let body = request
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let is_create_server = request.method == "POST" && request.path.ends_with("/servers");
        for secret in &secrets {
            if body.contains(secret.as_str()) {
                assert!(
                    is_create_server,
                    "a secret in {} {}",
                    request.method, request.path
                );
                carried += 1;
            }
        }
        if is_create_server && request.status < 300 {
            assert!(
                !body.contains("@@railyard:"),
                "an unfilled placeholder was sent"
            );
        }
    }
    assert!(carried > 0, "no user-data carried the k3s tokens");
    for secret in &secrets {
        assert!(
            !stdout(&output).contains(secret.as_str())
                && !stderr(&output).contains(secret.as_str())
        );
    }

    // In the cluster: the age identity only in the `sops-age` apply, the deploy key's private
    // half only in the `flux-system` Secret's, the machines' secrets nowhere; none in output.
    use base64::Engine as _;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let identity = std::fs::read_to_string(root().join("examples/age.key"))
        .expect("age key")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("an identity")
        .to_owned();
    let deploy = cluster
        .kube
        .object("/api/v1/namespaces/flux-system/secrets/flux-system")
        .expect("deploy key applied");
    let private = base64_text(&deploy["data"]["identity"]);
    assert!(private.contains("OPENSSH PRIVATE KEY"), "{private}");
    let cluster_secrets = [
        (
            identity.clone(),
            encode(&format!("{identity}\n")),
            "/secrets/sops-age",
        ),
        (private.clone(), encode(&private), "/secrets/flux-system"),
    ];
    let mut applied = 0;
    for request in cluster.kube.requests() {
        for secret in &secrets {
            assert!(
                !request.body.contains(secret.as_str()),
                "{} {}",
                request.method,
                request.path
            );
        }
        for (plain, encoded, path) in &cluster_secrets {
            assert!(
                !request.body.contains(plain.as_str()),
                "{} {}",
                request.method,
                request.path
            );
            if request.body.contains(encoded.as_str()) {
                assert!(
                    request.method == "PATCH" && request.path.ends_with(path),
                    "a cluster secret in {} {}",
                    request.method,
                    request.path
                );
                applied += 1;
            }
        }
    }
    assert!(applied >= 2, "the Secrets were not applied");
    for request in fake.requests() {
        let body = request
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        for (plain, encoded, _) in &cluster_secrets {
            assert!(!body.contains(plain.as_str()) && !body.contains(encoded.as_str()));
        }
    }
    for (plain, encoded, _) in &cluster_secrets {
        for text in [stdout(&output), stderr(&output)] {
            assert!(!text.contains(plain.as_str()) && !text.contains(encoded.as_str()));
        }
    }
    assert!(!stdout(&output).contains("PRIVATE KEY"));
    fake.stop();
}

/// A medium site with 10 workers at 100 ms per request converges; the wall time it prints is
/// what benches/bootstrap.sh reports (speed is measured there, never asserted here).
#[test]
fn bootstrap_with_latency_converges_and_prints_its_time() {
    let cluster = TestCluster::quick("examples/hetzner-medium/site.yaml");
    let dir = tempfile::tempdir().expect("tempdir");
    let site = root().join("examples/hetzner-medium");
    for file in ["site.yaml", "secrets.sops.yaml"] {
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
    fake.stop();
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
    for file in ["site.yaml", "secrets.sops.yaml"] {
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

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", stderr(&output));
    stdout(&output).trim().to_owned()
}

/// A commit on `main` in a fresh repository; its id.
fn commit(dir: &std::path::Path, file: &str) -> String {
    std::fs::write(dir.join(file), file).expect("write");
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", file]);
    git(dir, &["rev-parse", "HEAD"])
}

fn node(name: &str, role: Option<&str>) -> Value {
    let mut labels = serde_json::Map::new();
    if let Some(role) = role {
        labels.insert(format!("node-role.kubernetes.io/{role}"), "true".into());
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": { "name": name, "labels": labels },
        "status": {
            "nodeInfo": { "kubeletVersion": "v1.36.1+k3s1" },
            "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady" }],
        },
    })
}

/// `status` after a bootstrap: nodes and Flux objects ready at the commit the local branch
/// points at (exit 0); once the branch moves on, the applied revision is reported as not the
/// committed HEAD (exit 1).
#[test]
fn status_compares_what_flux_applied_with_the_committed_head() {
    let example = "examples/hetzner-small/site.yaml";
    let repo = tempfile::tempdir().expect("tempdir");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    let first = commit(repo.path(), "one");
    let cluster = TestCluster::quick(example);
    cluster.kube.set_revision(&first);
    cluster
        .kube
        .add(node("demo-small-server-0", Some("control-plane")));
    cluster.kube.add(node("demo-small-worker-0", None));
    let condition =
        serde_json::json!([{ "type": "Ready", "status": "True", "reason": "Succeeded" }]);
    cluster.kube.add(serde_json::json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": { "name": "jetstack", "namespace": "flux-system", "generation": 1 },
        "status": { "observedGeneration": 1, "conditions": condition,
                    "artifact": { "revision": "sha256:1a2b" } },
    }));
    cluster.kube.add(serde_json::json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": { "name": "cert-manager", "namespace": "cert-manager", "generation": 2 },
        "status": { "observedGeneration": 2, "conditions": condition,
                    "history": [{ "chartVersion": "v1.19.1" }] },
    }));
    let fake = FakeHetzner::start_in_background(Faults::default());
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    )));
    let status = |cluster: &TestCluster| {
        let kubeconfig = cluster.kubeconfig("demo-small");
        run(&mut railyard_against(
            &fake,
            cluster,
            &[
                "status",
                example,
                "--kubeconfig",
                &kubeconfig.to_string_lossy(),
                "--repo",
                &repo.path().to_string_lossy(),
            ],
        ))
    };
    let output = status(&cluster);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    for expected in [
        "demo-small-server-0",
        "control-plane",
        "v1.36.1+k3s1",
        "GitRepository/flux-system",
        "Kustomization/gitpod",
        "HelmRepository/jetstack                  ready at sha256:1a2b\n",
        "HelmRelease/cert-manager                 ready at v1.19.1\n",
        &format!("ready at main@sha1:{first} (committed HEAD)"),
        "everything is ready at the committed HEAD",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }

    let second = commit(repo.path(), "two");
    let output = status(&cluster);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("(not the committed HEAD {second})")),
        "{text}"
    );
    fake.stop();
}

/// A Kustomization Flux cannot apply stops bootstrap with the controller's reason (exit 2),
/// and `status` shows it (exit 1).
#[test]
fn a_failing_kustomization_stops_bootstrap_with_its_reason() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::start(
        example,
        KubeFaults {
            flux_installed_after: 1,
            ready_after: 1,
            failing: Some(("gitpod".to_owned(), "installer Job failed".to_owned())),
            ..KubeFaults::default()
        },
    );
    let fake = FakeHetzner::start_in_background(Faults::default());
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example, "--flux-wait", "2"],
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("Flux is not ready after 2 s")
            && error.contains("`gitpod` not ready: ReconciliationFailed: installer Job failed"),
        "{error}"
    );
    assert!(
        stdout(&output).contains("Kustomization `certificates` ready"),
        "{}",
        stdout(&output)
    );
    let kubeconfig = cluster.kubeconfig("demo-small");
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "status",
            example,
            "--kubeconfig",
            &kubeconfig.to_string_lossy(),
        ],
    ));
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("not ready: ReconciliationFailed: installer Job failed"),
        "{}",
        stdout(&output)
    );
    fake.stop();
}

/// The cluster's age identity must be a recipient of the secrets file, or bootstrap stops
/// before it creates anything; `status` without a kubeconfig says where to get one.
#[test]
fn a_cluster_key_that_cannot_decrypt_and_a_missing_kubeconfig_are_clear_errors() {
    let example = "examples/hetzner-small/site.yaml";
    let cluster = TestCluster::quick(example);
    let fake = FakeHetzner::start_in_background(Faults::default());
    let stranger = cluster.sshd.dir.path().join("stranger.key");
    let identity = {
        use age::secrecy::ExposeSecret as _;
        age::x25519::Identity::generate()
            .to_string()
            .expose_secret()
            .to_owned()
    };
    std::fs::write(&stranger, format!("{identity}\n")).expect("write");
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "bootstrap",
            example,
            "--age-key",
            &stranger.to_string_lossy(),
        ],
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("stranger.key") && error.contains("cannot decrypt the secrets file"),
        "{error}"
    );
    assert!(!error.contains("AGE-SECRET-KEY"), "{error}");
    assert!(
        fake.resources().is_empty(),
        "bootstrap created cloud resources first"
    );
    assert!(
        cluster.kube.requests().iter().all(|r| r.method == "GET"),
        "bootstrap wrote to the cluster"
    );

    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &[
            "status",
            example,
            "--kubeconfig",
            "/nonexistent/kubeconfig.yaml",
        ],
    ));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read the kubeconfig `/nonexistent/kubeconfig.yaml`"),
        "{}",
        stderr(&output)
    );
    fake.stop();
}
