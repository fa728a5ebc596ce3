//! Static pools wherever bootstrap provisions: a `small` DigitalOcean or Scaleway site with a
//! static pool gets the pool's servers through the cloud's own create path, with the pool's
//! label as a tag, its user-data filled in, a second run creating nothing, a clean `plan`,
//! and `destroy` taking them with the rest.

use super::*;
use crate::fake_digitalocean::{FakeDigitalOcean, Faults as DigitalOceanFaults};
use crate::fake_scaleway::{FakeScaleway, Faults as ScalewayFaults, tag_map};

/// A copy of an example with a static pool `builds` of `count` servers of `machine_type`, and
/// the directory that holds it.
fn with_pool(example: &str, machine_type: &str, count: u32) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = root().join(example);
    let from = from.parent().expect("the example's directory");
    for file in [
        "site.yaml",
        "secrets.sops.yaml",
        "machine-secrets.sops.yaml",
    ] {
        std::fs::copy(from.join(file), dir.path().join(file)).expect("copy");
    }
    let path = dir.path().join("site.yaml");
    let text = std::fs::read_to_string(&path).expect("site");
    let pooled = text.replacen(
        "  size: small\n",
        &format!(
            "  size: small\n  sizeData:\n    pools:\n      - name: builds\n        type: {machine_type}\n        count: {count}\n        labels:\n          example.com/builds: \"true\"\n"
        ),
        1,
    );
    assert_ne!(pooled, text, "{example} is a small site");
    std::fs::write(&path, pooled).expect("site");
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

/// The user-data a create request sent for `name`, filled in.
fn sent_user_data(bodies: impl Iterator<Item = Value>, name: &str, key: &str) -> String {
    let body = bodies
        .into_iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("{name} was created"));
    let text = body[key].as_str().map(str::to_owned);
    text.unwrap_or_else(|| panic!("{name}: no `{key}` in {body}"))
}

fn pool_user_data_checks(user_data: &str, name: &str) {
    assert!(
        !user_data.contains("@@railyard:"),
        "{name}: unfilled placeholder"
    );
    assert!(
        user_data.contains("example.com/builds=true"),
        "{name}: the pool's node label is in its k3s config"
    );
}

#[test]
fn a_digitalocean_static_pool_is_created_tagged_and_destroyed_with_the_site() {
    use super::digitalocean::{EXAMPLE, SITE, against, creating_posts, site_resources, wanted};
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeDigitalOcean::start_in_background(DigitalOceanFaults::default());
    let (_dir, site) = with_pool(EXAMPLE, "g-4vcpu-16gb", 2);
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", &site])));
    let mut want = wanted();
    for i in 0..2 {
        want.insert(("droplet".to_owned(), format!("{SITE}-builds-{i}")));
    }
    assert_eq!(site_resources(&fake), want);
    for (kind, _, name, tags) in fake.resources() {
        if kind == "droplet" && name.starts_with(&format!("{SITE}-builds-")) {
            let mut tags = tags.clone();
            tags.sort();
            assert_eq!(
                tags,
                [
                    format!("railyard-pool:{SITE}:builds"),
                    format!("railyard-role:{SITE}:worker"),
                    format!("railyard-site:{SITE}"),
                ],
                "{name}"
            );
        }
    }
    let bodies = || {
        fake.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v2/droplets")
            .filter_map(|r| r.body)
    };
    let builds = format!("{SITE}-builds-1");
    let user_data = sent_user_data(bodies(), &builds, "user_data");
    pool_user_data_checks(&user_data, &builds);
    let size = bodies()
        .find(|b| b["name"] == builds.as_str())
        .map(|b| b["size"].clone());
    assert_eq!(size, Some(Value::from("g-4vcpu-16gb")));

    let posts = creating_posts(&fake);
    assert_ok(&run(&mut against(&fake, &cluster, &["bootstrap", &site])));
    assert_eq!(
        creating_posts(&fake),
        posts,
        "the second run created something"
    );
    let output = run(&mut against(&fake, &cluster, &["plan", &site]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains(&builds), "{}", stdout(&output));

    assert_ok(&run(&mut against(
        &fake,
        &cluster,
        &["destroy", &site, "--yes"],
    )));
    assert!(
        site_resources(&fake).is_empty(),
        "{:?}",
        site_resources(&fake)
    );
    fake.stop();
}

#[test]
fn a_scaleway_static_pool_is_created_labelled_and_destroyed_with_the_site() {
    use super::scaleway::{
        EXAMPLE, SITE, creating_posts, railyard_at, site_resources, wanted_small,
    };
    let cluster = TestCluster::quick(EXAMPLE);
    let fake = FakeScaleway::start_in_background(ScalewayFaults::default());
    let (_dir, site) = with_pool(EXAMPLE, "PRO2-S", 2);
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", &site],
    )));
    let mut want = wanted_small();
    for i in 0..2 {
        let machine = format!("{SITE}-builds-{i}");
        want.insert(("ips".to_owned(), format!("railyard.dev/machine={machine}")));
        want.insert(("volumes".to_owned(), format!("{machine}-root")));
        want.insert(("servers".to_owned(), machine));
    }
    assert_eq!(site_resources(&fake, SITE), want);
    let servers: Vec<_> = fake
        .resources()
        .into_iter()
        .filter(|s| s.collection == "servers" && s.name.starts_with(&format!("{SITE}-builds-")))
        .collect();
    assert_eq!(servers.len(), 2);
    for server in &servers {
        let tags = tag_map(&server.tags);
        assert_eq!(
            tags.get("railyard.dev/pool").map(String::as_str),
            Some("builds"),
            "{}",
            server.name
        );
        assert_eq!(
            tags.get("railyard.dev/role").map(String::as_str),
            Some("worker"),
            "{}",
            server.name
        );
    }
    let builds = format!("{SITE}-builds-0");
    let user_data = fake
        .user_data(&builds)
        .unwrap_or_else(|| panic!("{builds} got user-data"));
    pool_user_data_checks(&user_data, &builds);

    let posts = creating_posts(&fake);
    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["bootstrap", &site],
    )));
    assert_eq!(
        creating_posts(&fake),
        posts,
        "the second run created something"
    );
    let output = run(&mut railyard_at(&fake, &cluster, &["plan", &site]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    assert_ok(&run(&mut railyard_at(
        &fake,
        &cluster,
        &["destroy", &site, "--yes"],
    )));
    assert!(
        site_resources(&fake, SITE).is_empty(),
        "{:?}",
        site_resources(&fake, SITE)
    );
}
