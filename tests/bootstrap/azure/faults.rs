//! Twenty Azure bootstrap runs hurt by 429s, 5xx, PUTs whose answer is lost, short-lived
//! tokens and kills (in the cloud and the cluster phase), each converging on one re-run to
//! exactly the wanted resources; and the canary: no secret in any request body but a VM's
//! `customData` (the client secret only in the token request), nor in any output.

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

/// Runs bootstrap, killed after `after` or once the cluster saw `cluster_requests`.
fn bootstrap_maybe_killed(
    fake: &FakeAzure,
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
    let fake = FakeAzure::start_in_background(AzureFaults {
        page_size: 1 + rng.next(3) as usize,
        settle: Duration::from_millis(5 + rng.next(40)),
        rate_limit_every: [0, 7, 11][rng.next(3) as usize],
        server_error_every: [0, 5, 9][rng.next(3) as usize],
        drop_response_every: [0, 2, 3][rng.next(3) as usize],
        token_lifetime: [3599, 2, 1][rng.next(3) as usize],
        ..AzureFaults::default()
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
    fake.set_faults(AzureFaults::default());
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
        stdout(&rerun).contains("Flux Ready"),
        "seed {seed}: {}",
        stdout(&rerun)
    );
    for machine in ["server-0", "worker-0"] {
        let name = format!("{SITE}-{machine}");
        assert!(
            fake.custom_data(&name).is_some(),
            "seed {seed}: {name} has no customData"
        );
    }
    hurt
}

#[test]
fn twenty_faulty_azure_runs_each_converge_after_at_most_one_rerun() {
    crate::bootstrap::twenty_seeded_runs(4, |seed| faulty_run(seed).into());
}

#[test]
fn secrets_travel_only_in_custom_data_and_the_token_request() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeAzure::start_in_background(AzureFaults {
        server_error_every: 6,
        drop_response_every: 3,
        token_lifetime: 1,
        ..AzureFaults::default()
    });
    let secrets = crate::bootstrap::example_secret_values("examples/azure-small");
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
    let requests = fake.requests();
    let fetched = requests
        .iter()
        .filter(|r| r.path.ends_with("/oauth2/v2.0/token"))
        .count();
    let tokens: Vec<String> = (1..=fetched)
        .map(|i| format!("fake-access-token-{i:08}"))
        .collect();
    assert!(
        tokens.len() >= 2,
        "the short-lived token was fetched again: {}",
        tokens.len()
    );
    let mut carried = 0;
    for request in &requests {
        let token_request = request.path.ends_with("/oauth2/v2.0/token");
        let vm = request.method == "PUT" && request.path.contains("/virtualMachines/");
        let mut body: serde_json::Value = serde_json::from_str(&request.body).unwrap_or_default();
        if vm {
            use base64::Engine as _;
            let data = body["properties"]["osProfile"]["customData"]
                .as_str()
                .unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(data)
                .expect("base64");
            let text = String::from_utf8(decoded).expect("UTF-8");
            carried += usize::from(secrets.iter().any(|s| text.contains(s.as_str())));
            body["properties"]["osProfile"]["customData"] = serde_json::Value::Null;
        }
        let rest = if vm {
            body.to_string()
        } else {
            request.body.clone()
        };
        let named =
            |s: &str| rest.contains(s) || request.query.contains(s) || request.path.contains(s);
        assert!(
            !secrets.iter().any(|s| named(s)) && !tokens.iter().any(|t| named(t)),
            "a secret in {} {}",
            request.method,
            request.path
        );
        assert!(
            token_request || !named(CLIENT_SECRET),
            "the client secret in {} {}",
            request.method,
            request.path
        );
    }
    assert!(carried >= 2, "the customData carried no secret");
    for output in &outputs {
        let text = format!("{}{}", stdout(output), stderr(output));
        for secret in secrets
            .iter()
            .map(String::as_str)
            .chain([CLIENT_SECRET])
            .chain(tokens.iter().map(String::as_str))
        {
            assert!(!text.contains(secret), "a secret in the output");
        }
    }
}

/// `destroy` killed at seeded points, then run again, leaves nothing of the site: the key is
/// deleted last (with the group railyard made), so a stopped destroy is always found again.
#[test]
fn a_killed_azure_destroy_is_finished_by_the_next() {
    let cluster = TestCluster::quick(EXAMPLE);
    let mut rng = Rng(0x5EED_A2E0_0000_0001);
    let mut killed = 0;
    for round in 0..4 {
        let fake = FakeAzure::start_in_background(AzureFaults::default());
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
        let after = 10 + rng.next(60) as usize;
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
        let left: Vec<(String, String)> = fake
            .resources()
            .into_iter()
            .map(|r| (r.kind, r.name))
            .collect();
        assert!(left.is_empty(), "round {round}: {left:?}");
    }
    assert!(killed >= 2, "only {killed} destroys were killed");
}
