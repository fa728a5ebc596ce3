//! `plan`, `bootstrap` and `destroy` against the fake Hetzner API (`fake_hetzner`): the real
//! binary, real HTTP, faults injected by the fake and by killing the process.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::fake_hetzner::{FakeHetzner, Faults};
use crate::ssh::{K3S_YAML, Sshd, sshd_binary};
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

/// A local sshd that serves k3s' kubeconfig to every machine bootstrap waits for.
fn cluster_sshd() -> Sshd {
    let binary =
        sshd_binary().expect("sshd (Debian package openssh-server; tests/run.sh installs it)");
    Sshd::start(&binary, K3S_YAML)
}

fn railyard_against(fake: &FakeHetzner, sshd: &Sshd, args: &[&str]) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .args(["--api-url", &fake.url()])
        .env("HCLOUD_TOKEN", "test-token")
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env("RAILYARD_RETRY_BASE_MS", "5")
        .env("RAILYARD_POLL_MS", "5")
        .env("RAILYARD_SSH_REDIRECT", format!("127.0.0.1:{}", sshd.port))
        .env("HOME", sshd.dir.path());
    if args.first() == Some(&"bootstrap") {
        command
            .arg("--ssh-key")
            .arg(&sshd.client_key)
            .args(["--wait", "20"]);
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
fn small_and_medium_bootstrap_converge_and_a_second_run_creates_nothing() {
    let sshd = cluster_sshd();
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
        let fake = FakeHetzner::start_in_background(Faults {
            page_size: 2,
            action_polls: 2,
            ..Faults::default()
        });
        let output = run(&mut railyard_against(&fake, &sshd, &["plan", example]));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stdout(&output).contains("+ create"), "{}", stdout(&output));

        assert_ok(&run(&mut railyard_against(
            &fake,
            &sshd,
            &["bootstrap", example],
        )));
        assert_eq!(
            site_resources(&fake, site),
            wanted(site, servers, workers, api_lb)
        );
        // k3s' kubeconfig, fetched from the (local) first server, for the API's public address:
        // the API load balancer's (203.0.113.0/24 in the fake) or the single server's.
        let kubeconfig = sshd.dir.path().join(format!(".kube/railyard/{site}.yaml"));
        let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written");
        let api = if api_lb {
            "https://203.0.113."
        } else {
            "https://198.51.100."
        };
        assert!(text.contains(&format!("server: {api}")), "{text}");
        assert!(text.contains(&format!("current-context: {site}")), "{text}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&kubeconfig)
                .expect("metadata")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let posts = creating_posts(&fake);

        let again = run(&mut railyard_against(&fake, &sshd, &["bootstrap", example]));
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

        let output = run(&mut railyard_against(&fake, &sshd, &["plan", example]));
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
        fake.stop();
    }
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

/// Runs bootstrap, killing it after `kill_after` if given; returns whether it was killed.
fn bootstrap_maybe_killed(
    fake: &FakeHetzner,
    sshd: &Sshd,
    example: &str,
    kill_after: Option<Duration>,
) -> bool {
    let mut command = railyard_against(fake, sshd, &["bootstrap", example]);
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("railyard starts");
    let Some(after) = kill_after else {
        child.wait().expect("railyard runs");
        return false;
    };
    std::thread::sleep(after);
    let killed = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    killed
}

#[test]
fn twenty_faulty_runs_each_converge_after_at_most_one_rerun() {
    let sshd = cluster_sshd();
    let example = "examples/hetzner-medium/site.yaml";
    let site = "demo-medium";
    let want = wanted(site, 3, 5, true);
    let (mut killed, mut faulted, mut incomplete) = (0, 0, 0);
    for seed in 1..=20u64 {
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
        let kill_after = (rng.next(2) == 0).then(|| Duration::from_millis(50 + rng.next(400)));
        killed += usize::from(bootstrap_maybe_killed(&fake, &sshd, example, kill_after));
        faulted += fake
            .requests()
            .iter()
            .filter(|r| r.status == 429 || r.status >= 500)
            .count();
        let first = site_resources(&fake, site);
        incomplete += usize::from(first != want);
        fake.set_faults(Faults::default());
        let rerun = run(&mut railyard_against(&fake, &sshd, &["bootstrap", example]));
        assert!(
            rerun.status.success(),
            "seed {seed}: the re-run failed after {} resources:\n{}\n{}",
            first.len(),
            stdout(&rerun),
            stderr(&rerun)
        );
        assert_eq!(site_resources(&fake, site), want, "seed {seed}");
        fake.stop();
    }
    // The schedule must really hurt: kills mid-run, injected faults, first runs left unfinished.
    eprintln!("20 runs: {killed} killed, {faulted} faulty answers, {incomplete} left unfinished");
    assert!(
        killed >= 3 && faulted >= 20 && incomplete >= 3,
        "{killed} {faulted} {incomplete}"
    );
}

#[test]
fn destroy_deletes_the_site_and_nothing_else() {
    let sshd = cluster_sshd();
    let example = "examples/hetzner-small/site.yaml";
    let fake = FakeHetzner::start_in_background(Faults {
        page_size: 2,
        ..Faults::default()
    });
    let foreign = BTreeMap::from([("team".to_owned(), "other".to_owned())]);
    fake.add_foreign("servers", "someone-elses-server", foreign.clone());
    fake.add_foreign("networks", "demo-small-network", foreign);
    assert_ok(&run(&mut railyard_against(
        &fake,
        &sshd,
        &["bootstrap", example],
    )));
    assert!(!site_resources(&fake, "demo-small").is_empty());

    let before = fake.resources().len();
    let dry = run(&mut railyard_against(&fake, &sshd, &["destroy", example]));
    assert_eq!(dry.status.code(), Some(1), "{}", stderr(&dry));
    assert!(stdout(&dry).contains("--yes"), "{}", stdout(&dry));
    assert_eq!(
        fake.resources().len(),
        before,
        "destroy without --yes deleted something"
    );

    assert_ok(&run(&mut railyard_against(
        &fake,
        &sshd,
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
    let sshd = cluster_sshd();
    let example = "examples/hetzner-medium/site.yaml";
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
    let output = run(&mut railyard_against(&fake, &sshd, &["bootstrap", example]));
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
    fake.stop();
}

/// A medium site with 10 workers at 100 ms per request converges; the wall time it prints is
/// what benches/bootstrap.sh reports (speed is measured there, never asserted here).
#[test]
fn bootstrap_with_latency_converges_and_prints_its_time() {
    let sshd = cluster_sshd();
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
    let mut command = railyard_against(&fake, &sshd, &["bootstrap", &path.to_string_lossy()]);
    command.env("RAILYARD_POLL_MS", "500");
    let output = run(&mut command);
    let elapsed = started.elapsed();
    assert_ok(&output);
    println!(
        "bootstrap medium, 3 servers + 10 workers, 100 ms per request: {:.2} s wall, {} requests",
        elapsed.as_secs_f64(),
        fake.requests().len()
    );
    fake.stop();
}

/// After a bootstrap, a site asking for fewer workers of another type: the plan reports the
/// changed type and the extra workers, and bootstrap leaves both alone.
#[test]
fn plan_reports_changed_types_and_unwanted_machines() {
    let sshd = cluster_sshd();
    let fake = FakeHetzner::start_in_background(Faults::default());
    let example = "examples/hetzner-medium/site.yaml";
    assert_ok(&run(&mut railyard_against(
        &fake,
        &sshd,
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
    let output = run(&mut railyard_against(&fake, &sshd, &["plan", &site]));
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
        &sshd,
        &["bootstrap", &site],
    )));
    assert_eq!(
        fake.resources().len(),
        before,
        "bootstrap deleted or added machines"
    );
}
