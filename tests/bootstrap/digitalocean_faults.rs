//! The DigitalOcean example under injected faults and kills (twenty seeded runs, each
//! converging on one re-run), and its secrets only in the droplet creates' user-data.

use std::process::Stdio;
use std::time::Duration;

use super::digitalocean::{EXAMPLE, against, site_resources, wanted};
use super::{TestCluster, assert_ok};
use crate::fake_digitalocean::{FakeDigitalOcean, Faults};
use crate::fake_kube::KubeFaults;
use crate::support::{run, stderr, stdout};

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

/// Runs bootstrap, killed after `kill` (of wall time, or of cluster requests) if given;
/// returns whether it was killed.
fn bootstrap_maybe_killed(
    fake: &FakeDigitalOcean,
    cluster: &TestCluster,
    kill: Option<(Duration, usize)>,
) -> bool {
    let mut child = against(fake, cluster, &["bootstrap", EXAMPLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("railyard starts");
    let started = std::time::Instant::now();
    let Some((after, cluster_requests)) = kill else {
        child.wait().expect("railyard runs");
        return false;
    };
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        let due = if cluster_requests > 0 {
            cluster.kube.requests().len() >= cluster_requests
        } else {
            started.elapsed() >= after
        };
        if due {
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One seed's faulty first run and its clean re-run; returns (killed, killed in the cluster
/// phase, faulty answers, first run unfinished).
fn faulty_run(seed: u64) -> (usize, usize, usize, usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let faults = Faults {
        page_size: 1 + rng.next(4) as usize,
        action_time: Duration::from_millis(rng.next(60)),
        rate_limit_every: [0, 7, 11][rng.next(3) as usize],
        server_error_every: [0, 5, 9][rng.next(3) as usize],
        drop_response_every: [0, 2, 3][rng.next(3) as usize],
        seed,
        ..Faults::default()
    };
    let fake = FakeDigitalOcean::start_in_background(faults);
    let cluster = TestCluster::start(
        EXAMPLE,
        KubeFaults {
            server_error_every: [0, 4, 7][rng.next(3) as usize],
            flux_installed_after: 1 + rng.next(3) as u32,
            ready_after: 1 + rng.next(3) as u32,
            ..KubeFaults::default()
        },
    );
    let kill = match rng.next(4) {
        0 | 1 => Some((Duration::from_millis(30 + rng.next(300)), 0)),
        2 => Some((Duration::ZERO, 1 + rng.next(12) as usize)),
        _ => None,
    };
    let killed = bootstrap_maybe_killed(&fake, &cluster, kill);
    let first = site_resources(&fake);
    let hurt = (
        usize::from(killed),
        usize::from(killed && !cluster.kube.requests().is_empty()),
        fake.requests()
            .iter()
            .filter(|r| r.status == 429 || r.status >= 500)
            .count(),
        usize::from(first != wanted()),
    );
    fake.set_faults(Faults::default());
    cluster.kube.set_faults(KubeFaults::default());
    let rerun = run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert!(
        rerun.status.success(),
        "seed {seed}: the re-run failed after {} resources:\n{}\n{}",
        first.len(),
        stdout(&rerun),
        stderr(&rerun)
    );
    assert_eq!(site_resources(&fake), wanted(), "seed {seed}");
    assert!(
        stdout(&rerun).contains("Flux Ready: 5 Kustomizations"),
        "seed {seed}: {}",
        stdout(&rerun)
    );
    fake.stop();
    hurt
}

#[test]
fn twenty_faulty_digitalocean_runs_each_converge_after_at_most_one_rerun() {
    crate::bootstrap::twenty_seeded_runs(5, |seed| faulty_run(seed).into());
}

#[test]
fn digitalocean_secrets_travel_only_in_the_droplet_creates_user_data() {
    let cluster = TestCluster::quick(EXAMPLE);
    let secrets = super::example_secret_values("examples/digitalocean-small");
    let fake = FakeDigitalOcean::start_in_background(Faults {
        server_error_every: 6,
        drop_response_every: 3,
        ..Faults::default()
    });
    let output = run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&output);
    let mut carried = 0;
    for request in fake.requests() {
        let body = request
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let create = request.method == "POST" && request.path == "/v2/droplets";
        for secret in &secrets {
            if body.contains(secret.as_str()) {
                assert!(create, "a secret in {} {}", request.method, request.path);
                let user_data = request.body.as_ref().map(|b| b["user_data"].to_string());
                assert!(
                    user_data.is_some_and(|u| u.contains(secret.as_str())),
                    "a secret outside user_data"
                );
                carried += 1;
            }
        }
    }
    assert!(carried >= 2, "the user-data carried no secret");
    for secret in &secrets {
        assert!(
            !stdout(&output).contains(secret.as_str()),
            "a secret on stdout"
        );
        assert!(
            !stderr(&output).contains(secret.as_str()),
            "a secret on stderr"
        );
    }
    fake.stop();
}

/// A run killed just after the server's create leaves a droplet still starting, without its
/// address; the re-run waits for the address before it fills the worker's user-data.
#[test]
fn a_rerun_waits_for_the_address_of_a_server_still_starting() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(Faults {
        action_time: Duration::from_millis(1500),
        ..Faults::default()
    });
    let mut child = against(&fake, &cluster, &["bootstrap", EXAMPLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("railyard starts");
    let server_created = || {
        fake.requests().iter().any(|r| {
            r.method == "POST"
                && r.path == "/v2/droplets"
                && r.status == 202
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["name"] == "demo-digitalocean-server-0")
        })
    };
    while !server_created() {
        assert!(matches!(child.try_wait(), Ok(None)), "the run ended first");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    let rerun = run(&mut against(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert_ok(&rerun);
    assert_eq!(site_resources(&fake), wanted());
    assert!(stdout(&rerun).contains("Flux Ready"), "{}", stdout(&rerun));
}
