//! Twenty bootstrap runs hurt by injected faults and kills, each converging on a re-run.

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

/// One seed's faulty first run (killed or not) and its clean re-run, which must converge.
fn faulty_run(
    seed: u64,
    example: &str,
    site: &str,
    want: &BTreeSet<(String, String)>,
) -> super::Hurt {
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
    // Lost action answers and a worker's failed start, drawn apart so that the schedule of
    // the faults above and of the kills below stays what it was.
    let mut documented = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
    let faults = Faults {
        drop_action_every: [0, 3, 5][documented.next(3) as usize],
        fail_actions: [None, Some(("start_server", "worker", 1))][documented.next(2) as usize],
        ..faults
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
    let hurt = super::Hurt {
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
        stdout(&rerun).contains("Flux Ready: 5 Kustomizations"),
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
    super::twenty_seeded_runs(5, |seed| faulty_run(seed, example, site, &want));
}
