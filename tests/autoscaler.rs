//! `large` on Hetzner: cluster-autoscaler's rendered configuration against railyard's own
//! rendered worker user-data, and the autoscaler's version against k3s'.
//!
//! The configuration is read as Flux would apply it: its `${key}` references filled, its `$${`
//! escapes undone; what is left must be the pool's user-data byte for byte, placeholders and all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use railyard::core::compile::compile;
use railyard::core::defaults::{self, CLUSTER_AUTOSCALER_RELEASES};
use railyard::core::json_tree::JsonTree;
use railyard::core::layout;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;
use railyard::edge::load::load;
use serde_json::Value;

use crate::support::root;

type Tree = BTreeMap<String, Vec<u8>>;

/// Hetzner's limit on a server's `user_data` (cloud-apis.md §2), autoscaled servers included.
const USER_DATA_LIMIT: usize = 32 * 1024;

fn site() -> std::path::PathBuf {
    root().join("golden/ok/large-pools/site.yaml")
}

/// The tree the site renders (with its text replaced when given), or its diagnostics' messages.
fn render(site: &Path, text: Option<&str>) -> Result<Tree, Vec<String>> {
    let mut loaded = load(site).expect("the site loads");
    if let Some(text) = text {
        loaded.inputs.site.text = text.to_owned();
    }
    let output = compile(&loaded.inputs);
    output.tree.map(|t| t.files).ok_or_else(|| {
        output
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect()
    })
}

/// The autoscaler file's objects, by kind.
fn autoscaler(tree: &Tree) -> BTreeMap<String, Value> {
    let path = format!(
        "{}/{}",
        layout::layer_dir("golden", "infrastructure"),
        layout::CLUSTER_AUTOSCALER_FILE
    );
    let text = std::str::from_utf8(&tree[&path]).expect("UTF-8");
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(&path, text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    nodes
        .iter()
        .map(|n| JsonTree::new(&path, n).value)
        .map(|v| (v["kind"].as_str().expect("a kind").to_owned(), v))
        .collect()
}

/// The `--nodes` flags' node group names and the Deployment's image.
fn deployment(objects: &BTreeMap<String, Value>) -> (BTreeSet<String>, String) {
    let container = &objects["Deployment"]["spec"]["template"]["spec"]["containers"][0];
    let groups = container["command"]
        .as_array()
        .expect("a command")
        .iter()
        .filter_map(|arg| arg.as_str()?.strip_prefix("--nodes="))
        .map(|spec| spec.rsplit(':').next().expect("a name").to_owned())
        .collect();
    (
        groups,
        container["image"].as_str().expect("an image").to_owned(),
    )
}

/// The labels a pool's rendered k3s config registers its nodes with, as a JSON map.
fn registered_labels(tree: &Tree, pool: &str) -> Value {
    let path = layout::k3s_pool_config("golden", pool);
    let text = std::str::from_utf8(&tree[&path]).expect("UTF-8");
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(&path, text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let config = JsonTree::new(&path, &nodes[0]).value;
    let labels = config["node-label"].as_array().expect("node labels");
    assert!(
        labels.len() > 1,
        "{path}: the role and Gitpod's labels at least"
    );
    labels
        .iter()
        .map(|l| {
            let (key, value) = l.as_str().expect("text").split_once('=').expect("k=v");
            (key.to_owned(), Value::from(value))
        })
        .collect::<serde_json::Map<String, Value>>()
        .into()
}

/// What Flux's post-build substitution makes of `text`, given the secrets file's keys: each
/// `${key}` is the key's value (here: the placeholder bootstrap would fill), each `$${` a `${`.
fn as_flux_applies(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(reference) = after.strip_prefix("${") {
            let end = reference.find('}').expect("a closed reference");
            out.push_str(&format!("@@railyard:secret:{}@@", &reference[..end]));
            rest = &reference[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn each_autoscaled_pool_boots_the_user_data_railyard_renders_for_it() {
    let tree = render(&site(), None).expect("the large site renders");
    let objects = autoscaler(&tree);
    let secret = &objects["Secret"];
    let config: Value = serde_json::from_str(
        secret["stringData"][layout::CLUSTER_AUTOSCALER_CONFIG_KEY]
            .as_str()
            .expect("the config is text"),
    )
    .expect("the config is JSON");
    let node_configs = config["nodeConfigs"].as_object().expect("node configs");
    let (groups, _) = deployment(&objects);
    let keys: BTreeSet<String> = node_configs.keys().cloned().collect();
    assert_eq!(
        keys, groups,
        "`nodeConfigs` and `--nodes` name the same pools"
    );
    assert_eq!(keys.len(), 2, "the case has two autoscaled pools");
    for (group, node_config) in node_configs {
        let pool = group.strip_prefix("golden-").expect("`<site>-<pool>`");
        let cloud_init = node_config["cloudInit"].as_str().expect("text");
        let rendered = layout::host_file("golden", &layout::pool_user_data(pool));
        let rendered = std::str::from_utf8(&tree[&rendered]).expect("UTF-8");
        assert_eq!(as_flux_applies(cloud_init), rendered, "pool `{pool}`");
        assert!(rendered.contains("${distro_id}"), "the escape is exercised");
        assert!(cloud_init.contains("${k3s_agent_token}"));
        assert!(
            cloud_init.len() <= USER_DATA_LIMIT && rendered.len() <= USER_DATA_LIMIT,
            "pool `{pool}`: user-data over Hetzner's 32 KiB"
        );
        assert_eq!(
            node_config["labels"],
            registered_labels(&tree, pool),
            "pool `{pool}`: the autoscaler's node template has the labels the node registers with"
        );
        assert_eq!(node_config["serverLabels"]["railyard.dev/pool"], pool);
        assert_eq!(node_config["serverLabels"]["railyard.dev/site"], "golden");
    }
    assert_eq!(
        secret["stringData"][layout::CLUSTER_AUTOSCALER_TOKEN_KEY],
        "${hcloud_token}",
        "the Hetzner token is a reference to the secrets file"
    );
    for (path, bytes) in &tree {
        if path.starts_with("clusters/") && !path.ends_with(layout::SECRETS_FILE) {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("@@railyard:"), "{path} holds a placeholder");
        }
    }
}

#[test]
fn the_static_pool_has_user_data_but_no_node_group() {
    let tree = render(&site(), None).expect("the large site renders");
    let (groups, _) = deployment(&autoscaler(&tree));
    assert!(!groups.contains("golden-base"));
    let base = layout::host_file("golden", &layout::pool_user_data("base"));
    assert!(
        tree.contains_key(&base),
        "bootstrap boots the static pool from {base}"
    );
}

#[test]
fn the_autoscaler_minor_is_the_kubernetes_minor_of_every_k3s_in_the_table() {
    let text = std::fs::read_to_string(site()).expect("site text");
    let mut images = BTreeSet::new();
    for (minor, tag) in CLUSTER_AUTOSCALER_RELEASES {
        for patch in [0, 3, 11] {
            let k3s = format!("v1.{minor}.{patch}+k3s2");
            let pinned = text.replace(
                "  domain:",
                &format!("  versions:\n    k3s: {k3s}\n  domain:"),
            );
            let tree = render(&site(), Some(&pinned)).unwrap_or_else(|e| panic!("{k3s}: {e:?}"));
            let (_, image) = deployment(&autoscaler(&tree));
            let image_tag = image.rsplit(':').next().expect("a tag");
            assert_eq!(image_tag, *tag, "{k3s}");
            assert_eq!(
                defaults::kubernetes_minor(image_tag),
                Some(*minor),
                "{k3s}: the autoscaler {image_tag} is of another minor"
            );
            images.insert(image);
        }
    }
    assert_eq!(
        images.len(),
        CLUSTER_AUTOSCALER_RELEASES.len(),
        "a k3s minor bump changes the autoscaler image in the same render"
    );
}

#[test]
fn a_k3s_minor_without_an_autoscaler_release_is_refused_at_its_pin() {
    let text = std::fs::read_to_string(site()).expect("site text");
    let pinned = text.replace("  domain:", "  versions:\n    k3s: v1.30.4+k3s1\n  domain:");
    let errors = render(&site(), Some(&pinned)).expect_err("no autoscaler for 1.30");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("spec.versions.k3s:") && e.contains("cluster-autoscaler")),
        "{errors:?}"
    );
}

/// A pool's own location reaches its node group (`--nodes=min:max:TYPE:LOCATION:name`); the
/// other pools keep the site's.
#[test]
fn an_autoscaled_pool_in_another_location_scales_there() {
    let text = std::fs::read_to_string(site()).expect("site text");
    let moved = text.replacen(
        "        type: ccx33\n",
        "        type: ccx33\n        location: fsn1\n",
        1,
    );
    assert_ne!(moved, text, "the workspaces pool is in the site");
    let tree = render(&site(), Some(&moved)).expect("the large site renders");
    let objects = autoscaler(&tree);
    let container = &objects["Deployment"]["spec"]["template"]["spec"]["containers"][0];
    let nodes: Vec<&str> = container["command"]
        .as_array()
        .expect("a command")
        .iter()
        .filter_map(|arg| arg.as_str()?.strip_prefix("--nodes="))
        .collect();
    assert_eq!(
        nodes,
        [
            "1:20:ccx33:fsn1:golden-workspaces",
            "0:10:cpx52:nbg1:golden-headless"
        ]
    );
}

/// Autoscaled servers get the site's firewall through their labels: bootstrap's firewall
/// applies to the site's label selector (`bootstrap::wanted`), which every pool's
/// `serverLabels` satisfy, as static pool servers' labels do.
#[test]
fn autoscaled_servers_carry_the_label_the_sites_firewall_applies_to() {
    let tree = render(&site(), None).expect("the large site renders");
    let objects = autoscaler(&tree);
    let config = objects["Secret"]["stringData"][layout::CLUSTER_AUTOSCALER_CONFIG_KEY]
        .as_str()
        .expect("the config");
    let config: Value = serde_json::from_str(config).expect("JSON");
    let selector = railyard::core::labels::site_selector("golden");
    let (key, value) = selector.split_once('=').expect("key=value");
    let node_configs = config["nodeConfigs"].as_object().expect("node configs");
    assert_eq!(node_configs.len(), 2);
    for (group, node) in node_configs {
        assert_eq!(node["serverLabels"][key], value, "{group}");
        let pool = group
            .strip_prefix("golden-")
            .expect("a node group of the site");
        assert_eq!(
            serde_json::to_value(railyard::core::labels::pool("golden", pool)).expect("labels"),
            node["serverLabels"],
            "{group}: the labels bootstrap gives a static pool's servers"
        );
    }
}
