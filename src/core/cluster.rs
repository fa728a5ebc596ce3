//! What railyard writes to and reads from a site's cluster, as values: the API paths of the
//! few kinds it touches, the Secrets bootstrap creates, the Flux sync objects and the
//! Kustomizations a render expects, their readiness, and the report `status` prints.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::core::generate::flux::{GIT_SECRET, SOPS_AGE_SECRET};
use crate::core::json_tree::JsonTree;
use crate::core::source::SourceFile;
use crate::core::yaml;

/// The namespace Flux runs in and bootstrap writes to.
pub const FLUX_NAMESPACE: &str = "flux-system";

/// One kind railyard reads or writes: its API group/version, plural and scope. A fixed table
/// instead of discovery: bootstrap and status touch these kinds only.
pub struct ApiKind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

pub const NAMESPACE: ApiKind = kind("v1", "Namespace", "namespaces", false);
pub const NODE: ApiKind = kind("v1", "Node", "nodes", false);
pub const SECRET: ApiKind = kind("v1", "Secret", "secrets", true);
pub const GIT_REPOSITORY: ApiKind = kind(
    "source.toolkit.fluxcd.io/v1",
    "GitRepository",
    "gitrepositories",
    true,
);
pub const HELM_REPOSITORY: ApiKind = kind(
    "source.toolkit.fluxcd.io/v1",
    "HelmRepository",
    "helmrepositories",
    true,
);
pub const KUSTOMIZATION: ApiKind = kind(
    "kustomize.toolkit.fluxcd.io/v1",
    "Kustomization",
    "kustomizations",
    true,
);
pub const HELM_RELEASE: ApiKind = kind(
    "helm.toolkit.fluxcd.io/v2",
    "HelmRelease",
    "helmreleases",
    true,
);

const KINDS: [ApiKind; 7] = [
    NAMESPACE,
    NODE,
    SECRET,
    GIT_REPOSITORY,
    HELM_REPOSITORY,
    KUSTOMIZATION,
    HELM_RELEASE,
];

const fn kind(
    api_version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> ApiKind {
    ApiKind {
        api_version,
        kind,
        plural,
        namespaced,
    }
}

impl ApiKind {
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    pub fn group_path(&self) -> String {
        if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        }
    }

    /// Every object of the kind, across namespaces.
    pub fn list_path(&self) -> String {
        format!("{}/{}", self.group_path(), self.plural)
    }

    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!(
                "{}/namespaces/{ns}/{}/{name}",
                self.group_path(),
                self.plural
            ),
            None => format!("{}/{}/{name}", self.group_path(), self.plural),
        }
    }
}

/// The API path of an object railyard applies.
pub fn object_path(object: &Json) -> Result<String, String> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind_name = object["kind"].as_str().unwrap_or_default();
    let kind = KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind_name)
        .ok_or_else(|| format!("railyard does not apply `{api_version}` `{kind_name}`"))?;
    let name = object["metadata"]["name"]
        .as_str()
        .ok_or_else(|| format!("a `{kind_name}` without a name"))?;
    let namespace = object["metadata"]["namespace"].as_str();
    if kind.namespaced && namespace.is_none() {
        return Err(format!("`{kind_name}` `{name}` has no namespace"));
    }
    Ok(kind.object_path(namespace, name))
}

fn labels(site: &str) -> Json {
    json!({ "app.kubernetes.io/managed-by": "railyard", "railyard.dev/site": site })
}

fn secret(site: &str, name: &str, data: &[(&str, &[u8])]) -> Json {
    let data: serde_json::Map<String, Json> = data
        .iter()
        .map(|(key, value)| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(value);
            ((*key).to_owned(), Json::String(encoded))
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": name, "namespace": FLUX_NAMESPACE, "labels": labels(site) },
        "type": "Opaque",
        "data": data,
    })
}

/// The Secret Flux decrypts the secrets file with (`age.agekey`, as Flux's guide names it).
pub fn sops_age_secret(site: &str, identity: &str) -> Json {
    secret(
        site,
        SOPS_AGE_SECRET,
        &[("age.agekey", format!("{identity}\n").as_bytes())],
    )
}

/// The Secret Flux pulls the repository with over SSH, in the layout `flux bootstrap` writes.
pub fn deploy_key_secret(site: &str, private: &str, public: &str, known_hosts: &str) -> Json {
    secret(
        site,
        GIT_SECRET,
        &[
            ("identity", private.as_bytes()),
            ("identity.pub", public.as_bytes()),
            ("known_hosts", known_hosts.as_bytes()),
        ],
    )
}

/// The public half kept in an existing deploy-key Secret.
pub fn deploy_key_public(secret: &Json) -> Option<String> {
    let encoded = secret["data"]["identity.pub"].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Some(String::from_utf8(bytes).ok()?.trim().to_owned())
}

fn documents(name: &str, bytes: &[u8]) -> Result<Vec<Json>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not UTF-8"))?;
    let file = SourceFile::new(name, text);
    let (nodes, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        return Err(format!("`{name}` does not parse: {}", first.message));
    }
    Ok(nodes
        .iter()
        .map(|node| JsonTree::new(name, node).value)
        .filter(|value| !value.is_null())
        .collect())
}

/// The rendered GitRepository and root Kustomization that bootstrap applies once; from then
/// on Flux manages them from the repository.
pub fn sync_objects(site: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Json>, String> {
    let name = format!("clusters/{site}/flux-system/gotk-sync.yaml");
    let bytes = files
        .get(&name)
        .ok_or_else(|| format!("the render has no `{name}`"))?;
    documents(&name, bytes)
}

/// The API's private address, the first of the first server's `tls-san`: the kubeconfig names
/// it as `tls-server-name`, since the certificate k3s serves does not carry the public address
/// of a load balancer in front of it.
pub fn api_private_address(site: &str, files: &BTreeMap<String, Vec<u8>>) -> Option<String> {
    let name = format!("hosts/{site}/k3s/server-0.config.yaml");
    let config = documents(&name, files.get(&name)?)
        .ok()?
        .into_iter()
        .next()?;
    config["tls-san"][0].as_str().map(str::to_owned)
}

/// Every Flux Kustomization the render makes the cluster hold: the root one and those beside
/// the directories in `clusters/<site>/`.
pub fn rendered_kustomizations(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Json>, String> {
    let prefix = format!("clusters/{site}/");
    let mut objects = sync_objects(site, files)?;
    for (path, bytes) in files {
        let top_level = path
            .strip_prefix(&prefix)
            .is_some_and(|rest| !rest.contains('/') && rest != "kustomization.yaml");
        if top_level {
            objects.extend(documents(path, bytes)?);
        }
    }
    objects.retain(|object| {
        object["kind"] == KUSTOMIZATION.kind && object["apiVersion"] == KUSTOMIZATION.api_version
    });
    Ok(objects)
}

/// The rendered Kustomizations as (namespace, name), sorted.
pub fn expected_kustomizations(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<(String, String)>, String> {
    let mut expected: Vec<(String, String)> = rendered_kustomizations(site, files)?
        .iter()
        .map(|object| {
            let namespace = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or(FLUX_NAMESPACE);
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            (namespace.to_owned(), name.to_owned())
        })
        .collect();
    expected.sort();
    Ok(expected)
}

/// Where a Flux object stands, from its `Ready` condition (kstatus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Not in the cluster (yet).
    Missing,
    /// Ready for its current generation; the revision it applied or fetched, if it says.
    Ready(Option<String>),
    /// Reconciling or not yet observed.
    Progressing(String),
    /// `Ready=False` or `Stalled`: why, in the controller's words.
    Failed(String),
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready(_))
    }
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Readiness::Missing => f.write_str("missing"),
            Readiness::Ready(_) => f.write_str("ready"),
            Readiness::Progressing(why) => write!(f, "progressing: {why}"),
            Readiness::Failed(why) => write!(f, "not ready: {why}"),
        }
    }
}

/// The condition of `type` on an object.
fn condition<'a>(object: &'a Json, kind: &str) -> Option<&'a Json> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// An object's readiness: `Ready=True` counts only when it describes the current generation.
pub fn readiness(object: &Json) -> Readiness {
    let generation = object["metadata"]["generation"].as_i64();
    let observed = object["status"]["observedGeneration"].as_i64();
    let words = |c: &Json| {
        let reason = c["reason"].as_str().unwrap_or("unknown");
        match c["message"].as_str().filter(|m| !m.is_empty()) {
            Some(message) => format!("{reason}: {message}"),
            None => reason.to_owned(),
        }
    };
    if let Some(stalled) = condition(object, "Stalled").filter(|c| c["status"] == "True") {
        return Readiness::Failed(words(stalled));
    }
    let Some(ready) = condition(object, "Ready") else {
        return Readiness::Progressing("not yet reconciled".to_owned());
    };
    if generation.is_some() && observed.is_some() && generation != observed {
        return Readiness::Progressing(format!(
            "generation {} not yet observed",
            generation.unwrap_or_default()
        ));
    }
    match ready["status"].as_str() {
        Some("True") => Readiness::Ready(revision(object)),
        Some("False")
            if ready["reason"] != "Progressing" && ready["reason"] != "DependencyNotReady" =>
        {
            Readiness::Failed(words(ready))
        }
        _ => Readiness::Progressing(words(ready)),
    }
}

/// The revision an object applied (Kustomization), fetched (sources) or released (HelmRelease).
fn revision(object: &Json) -> Option<String> {
    let status = &object["status"];
    [
        &status["lastAppliedRevision"],
        &status["artifact"]["revision"],
        &status["history"][0]["chartVersion"],
        &status["lastAttemptedRevision"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
    .map(str::to_owned)
}

/// The commit in a Flux git revision: `main@sha1:<sha>` (Flux 2.x) or `main/<sha>` (older).
pub fn revision_commit(revision: &str) -> &str {
    revision
        .rsplit_once(':')
        .or_else(|| revision.rsplit_once('/'))
        .map_or(revision, |(_, sha)| sha)
}

/// The readiness of each expected Kustomization in a list of them.
pub fn kustomizations(expected: &[(String, String)], items: &[Json]) -> Vec<(String, Readiness)> {
    expected
        .iter()
        .map(|(namespace, name)| {
            let found = items.iter().find(|item| {
                item["metadata"]["name"] == name.as_str()
                    && item["metadata"]["namespace"] == namespace.as_str()
            });
            (name.clone(), found.map_or(Readiness::Missing, readiness))
        })
        .collect()
}

/// What `status` read from the cluster. `None` for a kind whose API the cluster lacks.
#[derive(Default)]
pub struct Observed {
    pub nodes: Vec<Json>,
    pub sources: Option<Vec<Json>>,
    pub kustomizations: Option<Vec<Json>>,
    pub helm_releases: Option<Vec<Json>>,
    /// The commit the site's branch points at in the local repository, when known.
    pub head: Option<String>,
}

/// The `status` report and whether everything is ready and at the committed HEAD.
pub fn report(site: &str, observed: &Observed) -> (String, bool) {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut healthy = true;
    let _ = writeln!(out, "site `{site}`");
    let _ = writeln!(out, "nodes:");
    if observed.nodes.is_empty() {
        healthy = false;
        let _ = writeln!(out, "  (none registered)");
    }
    for node in &observed.nodes {
        let ready = condition(node, "Ready");
        let is_ready = ready.is_some_and(|c| c["status"] == "True");
        healthy &= is_ready;
        let roles: Vec<&str> = node["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .collect();
        let state = if is_ready {
            "ready".to_owned()
        } else {
            let why = ready
                .and_then(|c| c["message"].as_str())
                .unwrap_or("no Ready condition");
            format!("not ready: {why}")
        };
        let _ = writeln!(
            out,
            "  {:<28} {:<22} {:<14} {state}",
            node["metadata"]["name"].as_str().unwrap_or("?"),
            if roles.is_empty() {
                "worker".to_owned()
            } else {
                roles.join(",")
            },
            node["status"]["nodeInfo"]["kubeletVersion"]
                .as_str()
                .unwrap_or("?"),
        );
    }
    let sections = [
        ("sources", &observed.sources),
        ("kustomizations", &observed.kustomizations),
        ("helm releases", &observed.helm_releases),
    ];
    for (title, items) in sections {
        let _ = writeln!(out, "{title}:");
        let Some(items) = items else {
            healthy = false;
            let _ = writeln!(out, "  (Flux's API is not installed)");
            continue;
        };
        if items.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        let mut sorted: Vec<&Json> = items.iter().collect();
        sorted.sort_by_key(|item| {
            (
                item["kind"].as_str().unwrap_or_default().to_owned(),
                item["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                item["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        });
        for item in sorted {
            let state = readiness(item);
            healthy &= state.is_ready();
            let mut line = format!(
                "  {:<40} {state}",
                format!(
                    "{}/{}",
                    item["kind"].as_str().unwrap_or("?"),
                    item["metadata"]["name"].as_str().unwrap_or("?")
                )
            );
            if let Readiness::Ready(Some(revision)) = &state {
                let _ = write!(line, " at {revision}");
                let from_git = (item["kind"] == GIT_REPOSITORY.kind
                    || item["kind"] == KUSTOMIZATION.kind)
                    && (revision.contains("@sha1:") || revision.contains('/'));
                if let (true, Some(head)) = (from_git, &observed.head) {
                    if revision_commit(revision) == head {
                        line.push_str(" (committed HEAD)");
                    } else {
                        healthy = false;
                        let _ = write!(line, " (not the committed HEAD {head})");
                    }
                }
            }
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(
        out,
        "{}",
        if healthy {
            "everything is ready at the committed HEAD"
        } else {
            "not everything is ready"
        }
    );
    (out, healthy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(kind: &str, name: &str, revision: &str, generation: i64, observed: i64) -> Json {
        json!({
            "kind": kind,
            "metadata": { "name": name, "namespace": "flux-system", "generation": generation },
            "status": {
                "observedGeneration": observed,
                "lastAppliedRevision": revision,
                "conditions": [{ "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded" }],
            },
        })
    }

    #[test]
    fn paths_follow_group_scope_and_plural() {
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "flux-system"}}),
                Ok("/api/v1/namespaces/flux-system/secrets/s".to_owned()),
            ),
            (
                json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "k", "namespace": "ns"}}),
                Ok(
                    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/ns/kustomizations/k"
                        .to_owned(),
                ),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
                Ok("/api/v1/namespaces/n".to_owned()),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
                Err("`Secret` `s` has no namespace".to_owned()),
            ),
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
                Err("railyard does not apply `apps/v1` `Deployment`".to_owned()),
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(object_path(&object), expected, "{object}");
        }
        assert_eq!(
            KUSTOMIZATION.list_path(),
            "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"
        );
    }

    #[test]
    fn readiness_reads_the_ready_condition_for_the_current_generation() {
        let failed = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "ReconciliationFailed", "message": "boom"}]}});
        let waiting = json!({"status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "DependencyNotReady", "message": "x"}]}});
        let stalled = json!({"status": {"conditions": [
            {"type": "Ready", "status": "Unknown", "reason": "Progressing"},
            {"type": "Stalled", "status": "True", "reason": "InvalidPath", "message": "no such path"}]}});
        let cases = [
            (
                ready("Kustomization", "a", "main@sha1:abc", 2, 2),
                Readiness::Ready(Some("main@sha1:abc".to_owned())),
            ),
            (
                ready("Kustomization", "a", "main@sha1:abc", 3, 2),
                Readiness::Progressing("generation 3 not yet observed".to_owned()),
            ),
            (
                failed,
                Readiness::Failed("ReconciliationFailed: boom".to_owned()),
            ),
            (
                waiting,
                Readiness::Progressing("DependencyNotReady: x".to_owned()),
            ),
            (
                stalled,
                Readiness::Failed("InvalidPath: no such path".to_owned()),
            ),
            (
                json!({"metadata": {}}),
                Readiness::Progressing("not yet reconciled".to_owned()),
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(readiness(&object), expected, "{object}");
        }
    }

    #[test]
    fn revisions_name_their_commit() {
        for (revision, commit) in [
            ("main@sha1:abc", "abc"),
            ("main/abc", "abc"),
            ("abc", "abc"),
        ] {
            assert_eq!(revision_commit(revision), commit);
        }
    }

    #[test]
    fn the_rendered_kustomizations_are_expected() {
        let mut files = BTreeMap::new();
        files.insert(
            "clusters/s/flux-system/gotk-sync.yaml".to_owned(),
            b"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\n".to_vec(),
        );
        files.insert(
            "clusters/s/gitpod.yaml".to_owned(),
            b"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: gitpod\n  namespace: flux-system\n".to_vec(),
        );
        files.insert(
            "clusters/s/kustomization.yaml".to_owned(),
            b"resources: []\n".to_vec(),
        );
        files.insert(
            "clusters/s/gitpod/job.yaml".to_owned(),
            b"kind: Kustomization\n".to_vec(),
        );
        let expected = expected_kustomizations("s", &files).expect("parses");
        assert_eq!(
            expected,
            [
                ("flux-system".to_owned(), "flux-system".to_owned()),
                ("flux-system".to_owned(), "gitpod".to_owned())
            ]
        );
        let states = kustomizations(
            &expected,
            &[ready("Kustomization", "gitpod", "main@sha1:1", 1, 1)],
        );
        assert_eq!(states[0].1, Readiness::Missing);
        assert!(states[1].1.is_ready());
    }

    #[test]
    fn the_report_compares_revisions_with_the_committed_head() {
        let node = json!({"metadata": {"name": "s-server-0", "labels": {"node-role.kubernetes.io/control-plane": "true"}},
            "status": {"nodeInfo": {"kubeletVersion": "v1.36.1+k3s1"}, "conditions": [{"type": "Ready", "status": "True"}]}});
        let mut observed = Observed {
            nodes: vec![node],
            sources: Some(vec![]),
            kustomizations: Some(vec![ready(
                "Kustomization",
                "flux-system",
                "main@sha1:abc",
                1,
                1,
            )]),
            helm_releases: Some(vec![]),
            head: Some("abc".to_owned()),
        };
        let (text, healthy) = report("s", &observed);
        assert!(healthy, "{text}");
        assert!(text.contains("Kustomization/flux-system"), "{text}");
        assert!(text.contains("(committed HEAD)"), "{text}");
        observed.head = Some("def".to_owned());
        let (text, healthy) = report("s", &observed);
        assert!(!healthy);
        assert!(text.contains("not the committed HEAD def"), "{text}");
        observed.helm_releases = None;
        let (text, healthy) = report("s", &observed);
        assert!(!healthy);
        assert!(text.contains("Flux's API is not installed"), "{text}");
    }

    #[test]
    fn secrets_hold_their_values_base64_encoded() {
        let secret = deploy_key_secret(
            "s",
            "PRIVATE",
            "ssh-ed25519 AAAA railyard",
            "github.com ssh-ed25519 X",
        );
        assert_eq!(
            deploy_key_public(&secret).as_deref(),
            Some("ssh-ed25519 AAAA railyard")
        );
        assert!(!secret.to_string().contains("PRIVATE"));
        let age = sops_age_secret("s", "AGE-SECRET-KEY-1X");
        assert_eq!(age["metadata"]["name"], "sops-age");
        assert_eq!(age["data"]["age.agekey"], "QUdFLVNFQ1JFVC1LRVktMVgK");
    }
}
