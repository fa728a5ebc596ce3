//! Day 2 through Git, checked on every golden site and example: the k3s upgrade Plans select
//! exactly the nodes the rendered k3s configs label as servers and as agents; the version in
//! every user-data is the Plans' version for any valid `spec.versions.k3s` (a seeded property
//! test); the first server hands Flux's HelmChart over to Flux as k3s' rules need; and a
//! maintenance window change stays inside Flux's path.
//!
//! The rendered YAML is read with the core's own parser: these tests judge the relations
//! between rendered files, not the YAML (the oracles judge that with PyYAML and real tools).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use railyard::core::compile::compile;
use railyard::core::json_tree::JsonTree;
use railyard::core::layout;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;
use railyard::edge::load::load;
use serde_json::Value;

use crate::support::{cases, root};

type Tree = BTreeMap<String, Vec<u8>>;

/// Every golden `ok` site and every example site.
fn sites() -> Vec<PathBuf> {
    let mut sites: Vec<PathBuf> = cases(&root().join("golden/ok"))
        .into_iter()
        .chain(cases(&root().join("examples")))
        .map(|dir| dir.join("site.yaml"))
        .filter(|site| site.is_file())
        .collect();
    sites.sort();
    assert!(sites.len() >= 30, "too few sites: {}", sites.len());
    sites
}

/// The tree `site` renders, with its text replaced when `text` is given.
fn render(site: &Path, text: Option<&str>) -> Tree {
    let mut loaded = load(site).expect("the site loads");
    if let Some(text) = text {
        loaded.inputs.site.text = text.to_owned();
    }
    let output = compile(&loaded.inputs);
    match output.tree {
        Some(tree) => tree.files,
        None => panic!("{}: {:?}", site.display(), output.diagnostics),
    }
}

fn documents(name: &str, bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("rendered text is UTF-8");
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(name, text));
    assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
    nodes.iter().map(|n| JsonTree::new(name, n).value).collect()
}

fn document(tree: &Tree, path: &str) -> Value {
    let bytes = tree
        .get(path)
        .unwrap_or_else(|| panic!("`{path}` is rendered"));
    documents(path, bytes).remove(0)
}

/// The site's name: the one `hosts/<site>/machines.yaml` in the tree.
fn site_name(tree: &Tree) -> String {
    tree.keys()
        .find_map(|p| p.strip_prefix("hosts/")?.strip_suffix("/machines.yaml"))
        .expect("a machines file")
        .to_owned()
}

/// A user-data file's `write_files` entry at `path`: its content.
fn written(user_data: &Value, path: &str) -> Option<String> {
    user_data["write_files"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == path)
        .map(|f| f["content"].as_str().expect("text content").to_owned())
}

/// One node kind as rendered: the k3s config (host copy, checked equal to the user-data's
/// copy) and its `node-label` entries as a map.
struct Node {
    user_data: String,
    labels: BTreeMap<String, String>,
    taints: Vec<String>,
}

fn node(tree: &Tree, site: &str, user_data: &str, config: &str) -> Node {
    let path = layout::host_file(site, user_data);
    let cloud_config = document(tree, &path);
    let embedded = written(&cloud_config, "/etc/rancher/k3s/config.yaml").expect("a k3s config");
    let host_copy = std::str::from_utf8(&tree[config]).expect("text");
    assert_eq!(embedded, host_copy, "{path} and {config} differ");
    let k3s = documents(config, host_copy.as_bytes()).remove(0);
    let strings = |key: &str| -> Vec<String> {
        k3s[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let labels = strings("node-label")
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("key=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Node {
        user_data: path,
        labels,
        taints: strings("node-taint"),
    }
}

/// The server nodes and the agent nodes `machines.yaml` says the site has.
fn nodes(tree: &Tree, site: &str) -> (Vec<Node>, Vec<Node>) {
    let machines = document(tree, &layout::machines(site));
    let servers = machines["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let index = u32::try_from(i).expect("small");
            let user_data = s["userData"].as_str().expect("user-data");
            node(
                tree,
                site,
                user_data,
                &layout::k3s_server_config(site, index),
            )
        })
        .collect();
    let agents = if machines["workers"]["count"].as_u64().unwrap_or(0) > 0 {
        let user_data = machines["workers"]["userData"].as_str().expect("user-data");
        vec![node(
            tree,
            site,
            user_data,
            &layout::k3s_worker_config(site),
        )]
    } else {
        Vec::new()
    };
    (servers, agents)
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) selects a node's labels.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_label = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_expression = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(e["key"].as_str().unwrap_or_default());
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v.as_str())),
                Some("NotIn") => value.is_none_or(|v| !values.contains(&v.as_str())),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                other => panic!("unknown operator {other:?}"),
            }
        });
    by_label && by_expression
}

/// The server Plan and the agent Plan: the agent Plan is the one whose `prepare` step waits
/// for another Plan, which must be the server Plan.
fn plans(tree: &Tree, site: &str) -> (Value, Value) {
    let path = format!(
        "{}/infrastructure/k3s-upgrade.yaml",
        layout::cluster_dir(site)
    );
    let plans: Vec<Value> = documents(&path, &tree[&path])
        .into_iter()
        .filter(|d| d["kind"] == "Plan")
        .collect();
    assert_eq!(plans.len(), 2, "{path}: two Plans");
    let (agent, server): (Vec<Value>, Vec<Value>) = plans
        .into_iter()
        .partition(|p| p["spec"]["prepare"].is_object());
    let (agent, server) = (agent[0].clone(), server[0].clone());
    assert_eq!(
        agent["spec"]["prepare"]["args"],
        serde_json::json!(["prepare", server["metadata"]["name"]]),
        "{path}: the agent Plan waits for the server Plan"
    );
    (server, agent)
}

fn tolerates(plan: &Value, taint: &str) -> bool {
    let key = taint.split(['=', ':']).next().unwrap_or_default();
    plan["spec"]["tolerations"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|t| t["key"] == key && t["operator"] == "Exists")
}

#[test]
fn the_plans_select_exactly_the_servers_then_exactly_the_agents() {
    for site_file in sites() {
        let tree = render(&site_file, None);
        let site = site_name(&tree);
        let (servers, agents) = nodes(&tree, &site);
        let (server_plan, agent_plan) = plans(&tree, &site);
        for (plan, ours, theirs) in [
            (&server_plan, &servers, &agents),
            (&agent_plan, &agents, &servers),
        ] {
            let selector = &plan["spec"]["nodeSelector"];
            let name = &plan["metadata"]["name"];
            for node in ours {
                assert!(
                    selects(selector, &node.labels),
                    "{name} misses {}",
                    node.user_data
                );
                for taint in &node.taints {
                    assert!(
                        tolerates(plan, taint),
                        "{name}: {} has `{taint}`",
                        node.user_data
                    );
                }
            }
            for node in theirs {
                assert!(
                    !selects(selector, &node.labels),
                    "{name} takes {}",
                    node.user_data
                );
            }
            assert_eq!(plan["spec"]["concurrency"], 1, "{name}: one node at a time");
        }
        assert_eq!(server_plan["spec"]["cordon"], true);
        assert!(agent_plan["spec"]["drain"]["timeout"].is_string());
    }
}

/// splitmix64, seeded: every run draws the same cases, and a failure names its case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The site text with `spec.versions.k3s` set to `version` (added, or replacing a pin).
fn with_k3s_version(text: &str, version: &str) -> String {
    if text.contains("\n  versions:\n") {
        text.lines()
            .map(|l| {
                if l.starts_with("    k3s: ") {
                    format!("    k3s: {version}")
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    } else {
        text.replacen(
            "\nspec:\n",
            &format!("\nspec:\n  versions:\n    k3s: {version}\n"),
            1,
        )
    }
}

/// Every k3s release name (`v1.2.3+k3s4`) in a text.
fn k3s_versions(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("+k3s") {
        let start = text[..at]
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'v'))
            .map_or(0, |i| i + 1);
        let build = text[at + 4..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(text.len(), |i| at + 4 + i);
        found.push(text[start..build].to_owned());
    }
    found
}

#[test]
fn every_user_data_installs_the_version_the_plans_upgrade_to() {
    let sites = sites();
    let mut rng = Rng(0x5eed_da72);
    for case in 0..48 {
        let site_file = &sites[usize::try_from(rng.below(sites.len() as u64)).expect("small")];
        let mut version = format!(
            "v{}.{}.{}+k3s{}",
            1 + rng.below(3),
            rng.below(100),
            rng.below(100),
            1 + rng.below(9)
        );
        let text = std::fs::read_to_string(site_file).expect("site text");
        // A site with autoscaled pools accepts only the k3s minors an autoscaler release
        // exists for (`tests/autoscaler.rs` checks the refusal); keep its patch and build.
        if text.contains("size: large") {
            let releases = railyard::core::defaults::CLUSTER_AUTOSCALER_RELEASES;
            let (minor, _) = releases[case % releases.len()];
            let rest = version.splitn(3, '.').nth(2).expect("a patch").to_owned();
            version = format!("v1.{minor}.{rest}");
        }
        let tree = render(site_file, Some(&with_k3s_version(&text, &version)));
        let site = site_name(&tree);
        let (server_plan, agent_plan) = plans(&tree, &site);
        let context = format!("case {case}: {} with {version}", site_file.display());
        assert_eq!(
            server_plan["spec"]["version"],
            version.as_str(),
            "{context}"
        );
        assert_eq!(agent_plan["spec"]["version"], version.as_str(), "{context}");
        let user_data: Vec<(&String, &Vec<u8>)> = tree
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("hosts/{site}/cloud-init/")))
            .collect();
        assert!(!user_data.is_empty(), "{context}: no user-data");
        for (path, bytes) in user_data {
            let found = k3s_versions(std::str::from_utf8(bytes).expect("text"));
            assert!(!found.is_empty(), "{context}: {path} names no k3s version");
            assert!(
                found.iter().all(|v| *v == version),
                "{context}: {path} names {found:?}"
            );
        }
    }
}

#[test]
fn the_k3s_version_finder_finds_what_it_should() {
    assert_eq!(
        k3s_versions("A=v1.36.2+k3s1 sh; b: v1.2.3+k3s12\n"),
        ["v1.36.2+k3s1", "v1.2.3+k3s12"]
    );
    assert!(k3s_versions("no version").is_empty());
}

/// k3s' deploy controller (`pkg/deploy/controller.go`) re-applies every `.yaml` file of its
/// manifests directory when k3s starts (`listFilesIn` with `force`), except a file `X` beside
/// which `X.skip` exists (`shouldSkipFile`), and names a file's Addon after its name up to the
/// first dot (`basename`). The handover relies on exactly that: the first server writes the
/// HelmChart there, and its script marks that very file `.skip` once the Addon of that name
/// records the file's checksum. Flux's copy holds the same bytes; no other machine writes one.
#[test]
fn the_first_server_hands_flux_over_as_k3s_rules_need() {
    for site_file in sites() {
        let tree = render(&site_file, None);
        let site = site_name(&tree);
        let host_copy = &tree[&layout::k3s_flux_manifest(&site)];
        assert_eq!(
            host_copy,
            &tree[&layout::flux_helm_chart(&site)],
            "{site}: one HelmChart, two places"
        );
        let flux_system = document(
            &tree,
            &format!("{}/kustomization.yaml", layout::flux_system_dir(&site)),
        );
        assert!(
            flux_system["resources"]
                .as_array()
                .expect("resources")
                .contains(&Value::from(layout::FLUX_HELM_CHART_FILE)),
            "{site}: Flux applies its HelmChart"
        );
        let file = layout::K3S_FLUX_MANIFEST_FILE;
        assert!(
            !file.starts_with('.') && file.ends_with(".yaml"),
            "k3s skips `{file}`"
        );
        let manifest = format!("{}/{file}", layout::K3S_MANIFESTS_DIR);
        let addon = file.split('.').next().expect("a name");
        for path in tree
            .keys()
            .filter(|p| p.starts_with(&format!("hosts/{site}/cloud-init/")))
        {
            let user_data = document(&tree, path);
            let writes: Vec<&str> = user_data["write_files"]
                .as_array()
                .expect("write_files")
                .iter()
                .filter_map(|f| f["path"].as_str())
                .filter(|p| p.starts_with(layout::K3S_MANIFESTS_DIR))
                .collect();
            let handover = written(&user_data, "/usr/local/lib/railyard/flux-handover.sh");
            let runs = user_data["runcmd"].as_array().expect("runcmd");
            if !path.ends_with("/server-0.yaml") {
                assert!(
                    writes.is_empty() && handover.is_none(),
                    "{path}: only server 0"
                );
                continue;
            }
            assert_eq!(writes, [manifest.as_str()], "{path}");
            let written_copy = written(&user_data, &manifest).expect("the manifest");
            assert_eq!(written_copy.as_bytes(), host_copy.as_slice(), "{path}");
            let script = handover.expect("the handover script");
            assert!(
                script.contains(&format!("manifest=\"{manifest}\"")),
                "{script}"
            );
            assert!(script.contains("touch \"$manifest.skip\""), "{script}");
            assert!(
                script.contains(&format!("get addon \"{addon}\"")),
                "{script}"
            );
            assert!(script.contains("{.spec.checksum}") && script.contains("sha256sum"));
            assert_eq!(
                runs.last(),
                Some(&serde_json::json!([
                    "/usr/local/lib/railyard/flux-handover.sh"
                ])),
                "{path}: the handover runs last, after k3s is installed"
            );
        }
    }
}

/// A maintenance window changes kured's arguments and the Plans' windows, in Flux's path
/// only: no user-data, no host file.
#[test]
fn a_maintenance_change_stays_inside_fluxs_path() {
    // `spec.maintenance` is part of `railyard.dev/v1alpha2`: the minimal case with a public
    // `https` repository is the smallest site of that format (its tokens in the machines' file).
    let site_file = root().join("golden/ok/git-https-public/site.yaml");
    let text = std::fs::read_to_string(&site_file).expect("site text");
    let before = render(&site_file, Some(&text));
    let window = "\nspec:\n  maintenance:\n    days: [tu, thursday]\n    start: \"23:00\"\n    end: \"01:30\"\n    timeZone: America/New_York\n";
    let after = render(&site_file, Some(&text.replacen("\nspec:\n", window, 1)));
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        changed,
        [
            "clusters/golden/infrastructure/k3s-upgrade.yaml",
            "clusters/golden/system/kured.yaml"
        ]
    );
    let (server_plan, _) = plans(&after, "golden");
    assert_eq!(
        server_plan["spec"]["window"],
        serde_json::json!({ "days": ["tue", "thu"], "startTime": "23:00", "endTime": "01:30", "timeZone": "America/New_York" })
    );
    let kured =
        String::from_utf8(after["clusters/golden/system/kured.yaml"].clone()).expect("text");
    for argument in [
        "--reboot-days=tue,thu",
        "--start-time=23:00",
        "--end-time=01:30",
        "--time-zone=America/New_York",
    ] {
        assert!(kured.contains(argument), "kured lacks {argument}");
    }
}
