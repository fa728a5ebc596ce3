//! Hetzner's documented semantics that a second, independent fake found bootstrap mishandling:
//! a label selector released seconds after its servers are gone, answers lost after an action
//! was committed, actions ending in `error`, server types sold out in a location, and action
//! polls one or two ids at a time.

use super::*;

const SMALL: &str = "examples/hetzner-small/site.yaml";

/// `plan` or `destroy` against the fake alone (neither reaches the cluster).
fn cloud_command(fake: &FakeHetzner, args: &[&str]) -> Output {
    run(railyard()
        .current_dir(root())
        .args(args)
        .args(["--api-url", &fake.url()])
        .env("HCLOUD_TOKEN", "test-token")
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env("RAILYARD_RETRY_BASE_MS", "5")
        .env("RAILYARD_POLL_MS", "5"))
}

/// The example site in a temporary directory, with `edit` applied to its text.
fn edited_site(example: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = root().join(example);
    let source = source.parent().expect("a directory");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(source.join(file), dir.path().join(file)).expect("copy");
    }
    let path = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    std::fs::write(&path, edited).expect("site");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// The firewall's label selector keeps counting deleted servers for a while (Hetzner applies
/// selector changes asynchronously); one `destroy` still deletes everything.
#[test]
fn destroy_finishes_while_the_firewall_selector_is_released() {
    let cluster = TestCluster::quick(SMALL);
    let fake = FakeHetzner::start_in_background(Faults::default());
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", SMALL],
    )));
    fake.set_faults(Faults {
        selector_release: Duration::from_secs(2),
        action_polls: 1,
        ..Faults::default()
    });
    let output = cloud_command(&fake, &["destroy", SMALL, "--yes"]);
    assert_ok(&output);
    assert!(
        site_resources(&fake, "demo-small").is_empty(),
        "{}",
        stdout(&output)
    );
}

/// Every action's answer is lost after the action was committed: bootstrap reads the resource
/// back instead of sending the action again into a 422 `…_already_…`.
#[test]
fn lost_answers_to_actions_are_read_back() {
    let example = "examples/hetzner-medium/site.yaml";
    let cluster = TestCluster::quick(example);
    let fake = FakeHetzner::start_in_background(Faults {
        drop_action_every: 1,
        action_polls: 1,
        ..Faults::default()
    });
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", example],
    ));
    assert_ok(&output);
    assert_eq!(
        site_resources(&fake, "demo-medium"),
        wanted("demo-medium", 3, 5, true)
    );
    let refused: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.status == 422)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(refused.is_empty(), "actions sent again: {refused:?}");
}

/// A machine whose start ended in `error` stays off: `plan` reports it as work to finish and
/// the next bootstrap powers it on.
#[test]
fn a_start_that_ended_in_error_is_finished() {
    let cluster = TestCluster::quick(SMALL);
    // The server's power-on is the first start, the worker's start after create the second.
    let fake = FakeHetzner::start_in_background(Faults {
        fail_actions: Some(("start_server", "", 2)),
        action_polls: 1,
        ..Faults::default()
    });
    let mut runs = 0;
    loop {
        let output = run(&mut railyard_against(
            &fake,
            &cluster,
            &["bootstrap", SMALL],
        ));
        runs += 1;
        if output.status.code() == Some(0) {
            break;
        }
        assert!(runs < 4, "bootstrap did not converge: {}", stderr(&output));
        assert!(
            stderr(&output).contains("action_failed"),
            "{}",
            stderr(&output)
        );
        let plan = cloud_command(&fake, &["plan", SMALL]);
        assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
        assert!(stdout(&plan).contains("power on"), "{}", stdout(&plan));
    }
    for name in ["demo-small-server-0", "demo-small-worker-0"] {
        assert_eq!(
            fake.server_status(name).as_deref(),
            Some("running"),
            "{name}"
        );
    }
    let plan = cloud_command(&fake, &["plan", SMALL]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
}

/// A worker's start after create ends in `error`: the same run finds it off and powers it on.
#[test]
fn a_worker_whose_start_failed_is_powered_on_in_the_same_run() {
    let cluster = TestCluster::quick(SMALL);
    let fake = FakeHetzner::start_in_background(Faults {
        fail_actions: Some(("start_server", "worker", 1)),
        action_polls: 1,
        ..Faults::default()
    });
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", SMALL],
    ));
    assert_ok(&output);
    assert_eq!(
        fake.server_status("demo-small-worker-0").as_deref(),
        Some("running")
    );
    let power_ons = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/actions/poweron"))
        .count();
    assert_eq!(
        power_ons, 2,
        "one power-on for the server, one for the worker"
    );
}

/// A server type sold out in the site's location is found before anything is created, and
/// the message names the type, the location and what is available there.
#[test]
fn server_types_are_checked_against_the_location_first() {
    let fake = FakeHetzner::start_in_background(Faults {
        unavailable: vec![("cpx42", "nbg1")],
        ..Faults::default()
    });
    for verb in ["plan", "bootstrap"] {
        let mut command = railyard();
        command
            .current_dir(root())
            .args([verb, SMALL, "--api-url", &fake.url()])
            .env("HCLOUD_TOKEN", "test-token")
            .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
            .env("RAILYARD_RETRY_BASE_MS", "5")
            .env("HOME", root().join("target"));
        let output = run(&mut command);
        assert_eq!(output.status.code(), Some(2), "{verb}: {}", stdout(&output));
        let error = stderr(&output);
        assert!(
            error.contains("server type `cpx42` is not available in `nbg1`"),
            "{verb}: {error}"
        );
        assert!(error.contains("`cpx32`"), "{verb}: {error}");
        assert!(!error.contains("`cx23`, `cpx42`"), "{verb}: {error}");
    }
    let posts: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(posts.is_empty(), "changed the cloud: {posts:?}");
}

/// A site of 97 workers (a full Hetzner network with its 3 managers) polls its actions in batches: the poll requests are bounded by the rounds
/// of waiting, not by the number of actions. The count is printed for BENCHMARKS.md.
#[test]
fn a_full_network_of_workers_polls_its_actions_in_batches() {
    let example = "examples/hetzner-medium/site.yaml";
    let cluster = TestCluster::quick(example);
    let (_dir, site) = edited_site(example, |t| t.replace("workers: 5", "workers: 97"));
    let fake = FakeHetzner::start_in_background(Faults {
        action_polls: 2,
        ..Faults::default()
    });
    let output = run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", &site],
    ));
    assert_ok(&output);
    let requests = fake.requests();
    let polls = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/actions"))
        .count();
    let actions: usize = requests
        .iter()
        .filter(|r| r.method == "POST" && r.status < 300)
        .count();
    println!(
        "97 workers: {polls} action polls for {actions} action-starting requests, {} requests in all",
        requests.len()
    );
    // Each action needs three looks (two running, one done). Polled one waiter at a time,
    // that is about three polls per action (348 polls for the 129 of 100 workers before batching). Batched,
    // every action waiting at a look shares it (50 ids a request), so the polls grow with the
    // rounds of waiting (three waves; a create, then each follow-up in turn, three looks
    // each: some 30 rounds), not with the actions: well under one poll per two actions.
    assert!(polls * 2 <= actions, "{polls} polls for {actions} actions");
}
