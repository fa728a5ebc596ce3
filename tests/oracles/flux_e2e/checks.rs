//! What the test asserts once bootstrap's cluster half has returned: each check reads the API
//! server (through kubectl) and compares it with the render, never with railyard's own
//! reading of its output (the render is built by `kubectl kustomize` and read by PyYAML).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

use super::cluster::Kubectl;
use super::git_host::GitHost;
use crate::oracles::parse_yaml_files;

/// What every check needs.
pub(super) struct Context<'a> {
    pub(super) kube: &'a Kubectl,
    pub(super) site: &'a str,
    pub(super) render: &'a Path,
    pub(super) head: &'a str,
}

const KUSTOMIZATION: &str = "kustomizations.kustomize.toolkit.fluxcd.io";

impl Context<'_> {
    fn revision(&self) -> String {
        format!("main@sha1:{}", self.head)
    }

    fn kustomization(&self, name: &str) -> Value {
        self.kube
            .get(KUSTOMIZATION, "flux-system", name)
            .unwrap_or_else(|| panic!("no Kustomization `{name}` in the cluster"))
    }
}

/// The layer Kustomizations of the render: `clusters/<site>/<layer>.yaml` beside its directory.
pub(super) fn layer_names(render: &Path, site: &str) -> Vec<String> {
    let cluster = render.join("clusters").join(site);
    let mut names: Vec<String> = std::fs::read_dir(&cluster)
        .expect("the render has the cluster's directory")
        .flatten()
        .filter_map(|e| {
            let name = e
                .file_name()
                .to_string_lossy()
                .strip_suffix(".yaml")?
                .to_owned();
            cluster.join(&name).is_dir().then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// A Secret's value, decoded from `data`.
pub(super) fn secret_value(secret: &Value, key: &str) -> String {
    let encoded = secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("the Secret has no `{key}`"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

fn condition<'a>(object: &'a Value, kind: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn is_ready(object: &Value) -> bool {
    condition(object, "Ready").is_some_and(|c| c["status"] == "True")
}

/// The GitRepository fetched HEAD over SSH with the deploy key bootstrap generated and the host
/// key bootstrap scanned.
pub(super) fn git_repository_ready(context: &Context, host: &GitHost) {
    let repository = context
        .kube
        .get(
            "gitrepositories.source.toolkit.fluxcd.io",
            "flux-system",
            "flux-system",
        )
        .expect("the GitRepository exists");
    assert!(
        is_ready(&repository),
        "GitRepository not Ready: {}",
        repository["status"]
    );
    assert_eq!(
        repository["status"]["artifact"]["revision"].as_str(),
        Some(context.revision().as_str()),
        "the GitRepository's artifact is not the pushed commit"
    );
    let secret_name = repository["spec"]["secretRef"]["name"]
        .as_str()
        .expect("a secretRef");
    let secret = context
        .kube
        .get("secret", "flux-system", secret_name)
        .expect("the deploy-key Secret exists");
    let known_hosts = secret_value(&secret, "known_hosts");
    let blob = host
        .host_key()
        .split_whitespace()
        .nth(1)
        .expect("a key")
        .to_owned();
    assert!(
        known_hosts.contains(&blob),
        "known_hosts lacks the git host's key: {known_hosts}"
    );
    let public = secret_value(&secret, "identity.pub");
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert!(secret_value(&secret, "identity").contains("OPENSSH PRIVATE KEY"));
}

/// `(namespace, name, group, kind)`: how Flux's inventory names an object.
type Id = (String, String, String, String);

/// The objects `kubectl kustomize` builds from `dir`, as Flux builds a Kustomization's path,
/// and the file they were written to.
fn built(context: &Context, dir: &Path) -> (Vec<Value>, PathBuf) {
    let out = Command::new(&context.kube.binary)
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Beside the render, not in it: the render is what gets committed.
    let built = context.render.with_extension("built");
    std::fs::create_dir_all(&built).expect("mkdir");
    let name = dir.file_name().expect("a directory name").to_string_lossy();
    let file = built.join(format!("{name}.yaml"));
    std::fs::write(&file, &out.stdout).expect("write");
    let parsed = parse_yaml_files(std::slice::from_ref(&file)).expect("PyYAML");
    let documents = parsed
        .into_iter()
        .next()
        .expect("one file")
        .1
        .expect("the build parses");
    (
        documents.into_iter().filter(|d| !d.is_null()).collect(),
        file,
    )
}

fn id(object: &Value) -> Id {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    (
        object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        group.to_owned(),
        object["kind"].as_str().unwrap_or_default().to_owned(),
    )
}

fn inventory(kustomization: &Value) -> BTreeSet<Id> {
    kustomization["status"]["inventory"]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let parts: Vec<&str> = entry["id"].as_str()?.split('_').collect();
            let [namespace, name, group, kind] = parts[..] else {
                return None;
            };
            Some((namespace.into(), name.into(), group.into(), kind.into()))
        })
        .collect()
}

/// The root Kustomization and every layer are Ready at HEAD, their inventories are exactly
/// what the render builds, and every one of those objects is in the API server. Returns the
/// counts, per layer, for the test's summary line.
pub(super) fn every_layer_applied(context: &Context, layers: &[String]) -> String {
    let cluster = context.render.join("clusters").join(context.site);
    let mut counts = Vec::new();
    for (name, dir) in std::iter::once(("flux-system".to_owned(), cluster.clone()))
        .chain(layers.iter().map(|l| (l.clone(), cluster.join(l))))
    {
        let kustomization = context.kustomization(&name);
        assert!(
            is_ready(&kustomization),
            "`{name}` not Ready: {}",
            kustomization["status"]
        );
        assert_eq!(
            kustomization["status"]["lastAppliedRevision"].as_str(),
            Some(context.revision().as_str()),
            "`{name}` did not apply HEAD"
        );
        let (documents, file) = built(context, &dir);
        let rendered: BTreeSet<Id> = documents.iter().map(id).collect();
        assert_eq!(
            rendered.len(),
            documents.len(),
            "`{name}` builds duplicates"
        );
        assert_eq!(
            inventory(&kustomization),
            rendered,
            "`{name}`: Flux's inventory is not the render"
        );
        let out = context
            .kube
            .command()
            .args(["get", "-o", "json", "-f"])
            .arg(&file)
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "`{name}`: rendered objects missing from the API server: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let found: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let found: BTreeSet<Id> = match found["items"].as_array() {
            Some(items) => items.iter().map(id).collect(),
            None => std::iter::once(id(&found)).collect(),
        };
        assert_eq!(
            found, rendered,
            "`{name}`: the API server holds other objects"
        );
        counts.push(format!("{name} {}", rendered.len()));
    }
    counts.join(", ")
}

/// The secrets file, decrypted in the cluster by kustomize-controller with railyard's `sops-age`
/// Secret, holds what the real `sops` decrypts from the example with the example key; and each
/// Secret with `${name}` in the render holds the value post-build substitution puts there.
pub(super) fn secrets_hold_the_example_values(context: &Context, sops: &Path, example: &Path) {
    let out = Command::new(sops)
        .env(
            "SOPS_AGE_KEY_FILE",
            example.parent().expect("examples").join("age.key"),
        )
        .args(["decrypt", "--output-type", "json"])
        .arg(example.join("secrets.sops.yaml"))
        .output()
        .expect("sops runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decrypted: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let values: BTreeMap<String, String> = decrypted["stringData"]
        .as_object()
        .expect("stringData")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
        .collect();
    assert!(!values.is_empty());
    let name = decrypted["metadata"]["name"].as_str().expect("a name");
    let in_cluster = context
        .kube
        .get("secret", "flux-system", name)
        .expect("the decrypted secrets file is in the cluster");
    for (key, value) in &values {
        assert_eq!(
            &secret_value(&in_cluster, key),
            value,
            "`{name}` key `{key}`"
        );
    }
    let cluster = context.render.join("clusters").join(context.site);
    let mut substituted = 0;
    for layer in layer_names(context.render, context.site) {
        let (documents, _) = built(context, &cluster.join(&layer));
        for document in documents.iter().filter(|d| d["kind"] == "Secret") {
            substituted += check_substituted(context, document, &values);
        }
    }
    assert!(substituted > 0, "no substituted Secret value was checked");
}

/// Compares each `${name}` value of a rendered Secret with the cluster's; how many it checked.
fn check_substituted(
    context: &Context,
    document: &Value,
    values: &BTreeMap<String, String>,
) -> usize {
    let (namespace, name, _, _) = id(document);
    let live = context
        .kube
        .get("secret", &namespace, &name)
        .unwrap_or_else(|| panic!("Secret `{namespace}/{name}` missing"));
    let mut checked = 0;
    for field in ["data", "stringData"] {
        for (key, template) in document[field].as_object().into_iter().flatten() {
            let template = template.as_str().unwrap_or_default();
            if !template.contains("${") {
                continue;
            }
            let mut expected = template.to_owned();
            for (variable, value) in values {
                expected = expected.replace(&format!("${{{variable}}}"), value);
            }
            assert!(
                !expected.contains("${"),
                "`{name}` `{key}`: unknown variable in {template}"
            );
            let actual = if field == "data" {
                live["data"][key].as_str().unwrap_or_default().to_owned()
            } else {
                secret_value(&live, key)
            };
            assert_eq!(actual, expected, "Secret `{namespace}/{name}` key `{key}`");
            checked += 1;
        }
    }
    checked
}

/// Each layer with `dependsOn` applied only once what it depends on was Ready: in every
/// snapshot the observer took, a layer that had applied had its dependencies Ready; and no
/// object of a layer is older than the moment its dependency turned Ready.
pub(super) fn depends_on_order(context: &Context, snapshots: &[Vec<Value>]) {
    assert!(
        snapshots.len() > 5,
        "the observer took {} snapshots",
        snapshots.len()
    );
    let mut pairs = Vec::new();
    for snapshot in snapshots {
        let by_name: BTreeMap<&str, &Value> = snapshot
            .iter()
            .filter_map(|k| Some((k["metadata"]["name"].as_str()?, k)))
            .collect();
        for (name, kustomization) in &by_name {
            let applied = kustomization["status"]["lastAppliedRevision"]
                .as_str()
                .is_some();
            for dependency in kustomization["spec"]["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let dependency = dependency["name"].as_str().expect("a name");
                pairs.push((name.to_string(), dependency.to_owned()));
                let ready = by_name.get(dependency).is_some_and(|d| is_ready(d));
                assert!(
                    !applied || ready,
                    "`{name}` had applied while `{dependency}` was not Ready"
                );
            }
        }
    }
    pairs.sort();
    pairs.dedup();
    assert!(
        pairs.len() >= 3,
        "only these dependencies were seen: {pairs:?}"
    );
    for (name, dependency) in &pairs {
        let ready_at = condition(&context.kustomization(dependency), "Ready")
            .and_then(|c| c["lastTransitionTime"].as_str().map(str::to_owned))
            .expect("a Ready time");
        for (namespace, object, group, kind) in inventory(&context.kustomization(name)) {
            let resource = if group.is_empty() {
                kind.clone()
            } else {
                format!("{kind}.{group}")
            };
            let live = context
                .kube
                .get(
                    &resource,
                    if namespace.is_empty() {
                        "default"
                    } else {
                        &namespace
                    },
                    &object,
                )
                .unwrap_or_else(|| panic!("{kind} `{object}` missing"));
            let created = live["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap_or_default();
            // RFC 3339 in UTC with whole seconds: the strings order as the times do.
            assert!(
                created >= ready_at.as_str(),
                "{kind} `{object}` of `{name}` was created at {created}, before `{dependency}` was Ready at {ready_at}"
            );
        }
    }
}
