//! Twenty Scaleway bootstrap runs hurt by 429s, 5xx, creates whose answer is lost and kills
//! (in the cloud and the cluster phase), each converging on one re-run to exactly the wanted
//! resources; and the canary: secrets only in the user-data `PATCH`, in no message.

use super::*;

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

/// Runs bootstrap, killed after `after` or once the cluster saw `cluster_requests`;
/// returns whether it was killed.
fn bootstrap_maybe_killed(
    fake: &FakeScaleway,
    cluster: &TestCluster,
    after: Option<Duration>,
    cluster_requests: Option<usize>,
) -> bool {
    let mut child = railyard_at(fake, cluster, &["bootstrap", EXAMPLE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("railyard starts");
    let started = std::time::Instant::now();
    loop {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        let due = after.is_some_and(|a| started.elapsed() >= a)
            || cluster_requests.is_some_and(|n| cluster.kube.requests().len() >= n);
        if due {
            let _ = child.kill();
            let _ = child.wait();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// (killed, killed in the cluster phase, faulty answers, first run unfinished)
fn faulty_run(seed: u64) -> (usize, usize, usize, usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        page_size: 1 + rng.next(3) as usize,
        polls: 1 + rng.next(3) as u32,
        rate_limit_every: [0, 7, 11][rng.next(3) as usize],
        server_error_every: [0, 5, 9][rng.next(3) as usize],
        drop_response_every: [0, 2, 3][rng.next(3) as usize],
        ..ScalewayFaults::default()
    });
    let cluster = TestCluster::start(
        EXAMPLE,
        KubeFaults {
            server_error_every: [0, 4, 7][rng.next(3) as usize],
            flux_installed_after: 1 + rng.next(3) as u32,
            ready_after: 1 + rng.next(3) as u32,
            ..KubeFaults::default()
        },
    );
    let (after, requests) = match rng.next(4) {
        0 | 1 => (Some(Duration::from_millis(40 + rng.next(400))), None),
        2 => (None, Some(1 + rng.next(12) as usize)),
        _ => (None, None),
    };
    let killed = bootstrap_maybe_killed(&fake, &cluster, after, requests);
    let first = site_resources(&fake, SITE);
    let faulted = fake
        .requests()
        .iter()
        .filter(|r| r.status == 429 || r.status >= 500)
        .count();
    let hurt = (
        usize::from(killed),
        usize::from(killed && !cluster.kube.requests().is_empty()),
        faulted,
        usize::from(first != wanted_small()),
    );
    fake.set_faults(ScalewayFaults::default());
    cluster.kube.set_faults(KubeFaults::default());
    let rerun = run(&mut railyard_at(&fake, &cluster, &["bootstrap", EXAMPLE]));
    assert!(
        rerun.status.success(),
        "seed {seed}: the re-run failed after {first:?}:\n{}\n{}",
        stdout(&rerun),
        stderr(&rerun)
    );
    assert_eq!(site_resources(&fake, SITE), wanted_small(), "seed {seed}");
    assert!(
        stdout(&rerun).contains("Flux Ready: 5 Kustomizations"),
        "seed {seed}: {}",
        stdout(&rerun)
    );
    for machine in ["server-0", "worker-0"] {
        let name = format!("{SITE}-{machine}");
        assert_eq!(
            fake.server_state(&name).as_deref(),
            Some("running"),
            "seed {seed}: {name}"
        );
        assert!(
            fake.user_data(&name).is_some(),
            "seed {seed}: {name} has no user-data"
        );
    }
    fake.stop();
    hurt
}

#[test]
fn twenty_faulty_scaleway_runs_each_converge_after_at_most_one_rerun() {
    crate::bootstrap::twenty_seeded_runs(4, |seed| faulty_run(seed).into());
}

#[test]
fn secrets_travel_only_in_the_user_data_patch() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults {
        server_error_every: 6,
        drop_response_every: 3,
        ..ScalewayFaults::default()
    });
    let secrets = crate::bootstrap::example_secret_values("examples/scaleway-small");
    let mut outputs = vec![run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    ))];
    assert_ok(&outputs[0]);
    outputs.push(run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    assert_ok(&outputs[1]);
    let mut carried = 0;
    for request in fake.requests() {
        let user_data =
            request.method == "PATCH" && request.path.ends_with("/user_data/cloud-init");
        let has_secret = secrets.iter().any(|s| request.body.contains(s.as_str()));
        if user_data {
            carried += usize::from(has_secret);
            assert!(
                !request.body.contains("@@railyard:secret:"),
                "unfilled secret"
            );
        } else {
            assert!(
                !has_secret && !request.query.contains("secret"),
                "a secret in {} {}",
                request.method,
                request.path
            );
        }
    }
    assert!(carried >= 2, "the user-data carried no secret");
    for output in &outputs {
        for secret in &secrets {
            assert!(
                !stdout(output).contains(secret.as_str())
                    && !stderr(output).contains(secret.as_str())
            );
        }
        assert!(
            !stderr(output).contains("scw-test-secret-key")
                && !stdout(output).contains("scw-test-secret-key")
        );
    }
}

/// `destroy` killed at seeded points, then run again, leaves nothing tagged with the site: no
/// root volume or flexible IP a half-done server deletion left behind.
#[test]
fn a_killed_destroy_is_finished_by_the_next_leaving_no_volumes() {
    let cluster = TestCluster::quick(EXAMPLE);
    let mut rng = Rng(0x5EED_5CA1_E000_0001);
    let mut killed = 0;
    for round in 0..4 {
        let fake = FakeScaleway::start_in_background(ScalewayFaults {
            polls: 2,
            ..ScalewayFaults::default()
        });
        assert_ok(&run(&mut railyard_at(
            &fake,
            &cluster,
            &["bootstrap", EXAMPLE],
        )));
        let started = fake.requests().len();
        let mut child = railyard_at(&fake, &cluster, &["destroy", EXAMPLE, "--yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("railyard starts");
        // Killed once it has sent a seeded number of requests.
        let after = 10 + rng.next(40) as usize;
        loop {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            if fake.requests().len() >= started + after {
                let _ = child.kill();
                let _ = child.wait();
                killed += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_ok(&run(&mut railyard_at(
            &fake,
            &cluster,
            &["destroy", EXAMPLE, "--yes"],
        )));
        assert_eq!(
            site_resources(&fake, SITE),
            BTreeSet::new(),
            "round {round}"
        );
        let left: Vec<String> = fake.resources().into_iter().map(|r| r.collection).collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
        fake.stop();
    }
    assert!(killed >= 2, "only {killed} destroys were killed");
}
