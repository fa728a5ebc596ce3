//! A `large` site against the fakes: bootstrap creates the static pools only; servers the
//! autoscaler adds (here: added behind bootstrap's back with an autoscaled pool's labels) are
//! the autoscaler's in `plan`, survive a second bootstrap, and go with `destroy`.

use super::*;

const EXAMPLE: &str = "examples/hetzner-large/site.yaml";
const SITE: &str = "demo-large";

/// What bootstrap leaves: the servers, the API load balancer, and the static pool `base` (2).
fn wanted_large() -> BTreeSet<(String, String)> {
    let mut wanted = wanted(SITE, 3, 0, true);
    wanted.insert(("placement_group".to_owned(), format!("{SITE}-workers-0")));
    for i in 0..2 {
        wanted.insert(("server".to_owned(), format!("{SITE}-base-{i}")));
    }
    wanted
}

#[test]
fn bootstrap_creates_static_pools_only_and_leaves_the_autoscalers_servers_to_destroy() {
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeHetzner::start_in_background(Faults::default());
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    assert_eq!(site_resources(&fake, SITE), wanted_large());
    for (_, _, name, labels) in fake.resources() {
        if name.starts_with(&format!("{SITE}-base-")) {
            assert_eq!(labels, railyard::core::labels::pool(SITE, "base"), "{name}");
        }
    }

    // What cluster-autoscaler would create for pool `workspaces`: the labels its config names.
    let scaled = format!("{SITE}-workspaces-5f3a9c2e71d04b68");
    fake.add_foreign(
        "servers",
        &scaled,
        railyard::core::labels::pool(SITE, "workspaces"),
    );
    let output = run(&mut railyard_against(&fake, &cluster, &["plan", EXAMPLE]));
    let plan = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "no work: {plan}");
    assert!(plan.contains("* autoscaled server"), "{plan}");
    assert!(plan.contains(&scaled), "{plan}");
    assert!(
        plan.contains("0 unwanted, 1 managed by the autoscaler"),
        "{plan}"
    );

    let posts = creating_posts(&fake);
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", EXAMPLE],
    )));
    assert_eq!(
        creating_posts(&fake),
        posts,
        "a second bootstrap created something"
    );
    let mut with_scaled = wanted_large();
    with_scaled.insert(("server".to_owned(), scaled));
    assert_eq!(
        site_resources(&fake, SITE),
        with_scaled,
        "the autoscaler's server survives bootstrap"
    );

    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["destroy", EXAMPLE, "--yes"],
    )));
    assert!(
        site_resources(&fake, SITE).is_empty(),
        "destroy removes the autoscaler's server too"
    );
}

/// An autoscaled pool's type the location does not sell stops `plan` and `bootstrap` before
/// anything exists, though bootstrap never creates that pool's servers itself.
#[test]
fn an_autoscaled_pools_type_is_checked_against_the_location() {
    let fake = FakeHetzner::start_in_background(Faults {
        unavailable: vec![("ccx33", "fsn1")],
        ..Faults::default()
    });
    let cluster = TestCluster::quick(EXAMPLE);
    for verb in ["plan", "bootstrap"] {
        let output = run(&mut railyard_against(&fake, &cluster, &[verb, EXAMPLE]));
        assert_eq!(output.status.code(), Some(2), "{verb}: {}", stdout(&output));
        let error = stderr(&output);
        assert!(
            error.contains("server type `ccx33` is not available in `fsn1`"),
            "{verb}: {error}"
        );
    }
    assert_eq!(creating_posts(&fake), 0, "nothing is created");
}

/// The example with pool `base` in `nbg1` and pool `workspaces` in `hel1` (both of the site's
/// zone, `eu-central`), in a directory of its own.
fn moved_pools() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = root().join("examples/hetzner-large");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(from.join(file), dir.path().join(file)).expect("copy");
    }
    let path = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    let moved = text
        .replacen(
            "        type: cpx42\n        count: 2\n",
            "        type: cpx42\n        count: 2\n        location: nbg1\n",
            1,
        )
        .replacen(
            "        type: ccx33\n",
            "        type: ccx33\n        location: hel1\n",
            1,
        );
    assert_eq!(moved.matches("location: ").count(), 3, "{moved}");
    std::fs::write(&path, moved).expect("site");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// A pool's own location: its static servers are created there, and an autoscaled pool's type
/// is checked against its location's offers, not the site's.
#[test]
fn pools_in_their_own_locations_are_created_and_checked_there() {
    let (_dir, site) = moved_pools();
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeHetzner::start_in_background(Faults {
        unavailable: vec![("ccx33", "hel1")],
        ..Faults::default()
    });
    let output = run(&mut railyard_against(&fake, &cluster, &["plan", &site]));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let error = stderr(&output);
    assert!(
        error.contains("server type `ccx33` is not available in `hel1`"),
        "{error}"
    );
    assert_eq!(creating_posts(&fake), 0, "nothing is created");

    let fake = FakeHetzner::start_in_background(Faults::default());
    assert_ok(&run(&mut railyard_against(
        &fake,
        &cluster,
        &["bootstrap", &site],
    )));
    assert_eq!(site_resources(&fake, SITE), wanted_large());
    let locations: BTreeMap<String, String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/servers")
        .filter_map(|r| r.body)
        .map(|b| {
            (
                b["name"].as_str().unwrap_or_default().to_owned(),
                b["location"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, want) in [
        (format!("{SITE}-server-0"), "fsn1"),
        (format!("{SITE}-base-0"), "nbg1"),
        (format!("{SITE}-base-1"), "nbg1"),
    ] {
        assert_eq!(
            locations.get(&name).map(String::as_str),
            Some(want),
            "{name}: {locations:?}"
        );
    }
}
