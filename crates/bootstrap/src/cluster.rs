//! What railyard writes to and reads from a site's cluster, as values: the few kinds it
//! touches (their REST paths are the client's, `edge/kube.rs`), the Secrets bootstrap creates, the Flux sync objects and the
//! Kustomizations a render expects. Readiness is in `readiness.rs`, the `status` report in
//! `status.rs`.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Value as Json, json};

use crate::{RenderError, documents};
use railyard_core::labels;
pub use railyard_core::layout::FLUX_NAMESPACE;
use railyard_core::layout::{self, GIT_SECRET, SOPS_AGE_SECRET};

/// An object railyard will not apply.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ObjectError {
    #[error("railyard does not apply `{api_version}` `{kind}`")]
    Unknown { api_version: String, kind: String },
    #[error("a `{0}` without a name")]
    NoName(String),
    #[error("`{kind}` `{name}` has no namespace")]
    NoNamespace { kind: String, name: String },
}

/// One kind railyard reads or writes: its API group/version, plural and scope. A fixed table
/// instead of discovery: bootstrap and status touch these kinds only.
#[derive(Debug, PartialEq, Eq)]
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

static KINDS: [ApiKind; 7] = [
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

/// An object railyard applies, identified by its kind in the table.
#[derive(Debug, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    pub kind: &'static ApiKind,
    /// Set for every namespaced kind.
    pub namespace: Option<&'a str>,
    pub name: &'a str,
}

/// Which of railyard's kinds an object is, with its namespace and name.
pub fn identify(object: &Json) -> Result<ObjectRef<'_>, ObjectError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind_name = object["kind"].as_str().unwrap_or_default();
    let kind = KINDS
        .iter()
        .find(|k| k.api_version == api_version && k.kind == kind_name)
        .ok_or_else(|| ObjectError::Unknown {
            api_version: api_version.to_owned(),
            kind: kind_name.to_owned(),
        })?;
    let name = object["metadata"]["name"]
        .as_str()
        .ok_or_else(|| ObjectError::NoName(kind_name.to_owned()))?;
    let namespace = object["metadata"]["namespace"].as_str();
    if kind.namespaced && namespace.is_none() {
        return Err(ObjectError::NoNamespace {
            kind: kind_name.to_owned(),
            name: name.to_owned(),
        });
    }
    Ok(ObjectRef {
        kind,
        namespace: namespace.filter(|_| kind.namespaced),
        name,
    })
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
        "metadata": { "name": name, "namespace": FLUX_NAMESPACE, "labels": labels::site(site) },
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

/// The rendered GitRepository and root Kustomization that bootstrap applies once; from then
/// on Flux manages them from the repository.
pub fn sync_objects(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Json>, RenderError> {
    let name = layout::gotk_sync(site);
    let bytes = files
        .get(&name)
        .ok_or_else(|| RenderError::Missing(name.clone()))?;
    documents(&name, bytes)
}

/// The API's private address, the first of the first server's `tls-san`: the kubeconfig names
/// it as `tls-server-name`, since the certificate k3s serves does not carry the public address
/// of a load balancer in front of it.
pub fn api_private_address(site: &str, files: &BTreeMap<String, Vec<u8>>) -> Option<String> {
    let name = layout::k3s_server_config(site, 0);
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
) -> Result<Vec<Json>, RenderError> {
    let prefix = format!("{}/", layout::cluster_dir(site));
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
) -> Result<Vec<(String, String)>, RenderError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::ready;

    #[test]
    fn objects_are_identified_by_the_table() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "flux-system"}});
        let found = identify(&secret).expect("a Secret");
        assert_eq!(
            (found.kind.plural, found.namespace, found.name),
            ("secrets", Some("flux-system"), "s")
        );
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "namespace": "x"}});
        assert_eq!(identify(&namespace).expect("a Namespace").namespace, None);
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
                "`Secret` `s` has no namespace",
            ),
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
                "railyard does not apply `apps/v1` `Deployment`",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {}}),
                "a `Secret` without a name",
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(
                identify(&object).map_err(|e| e.to_string()),
                Err(expected.to_owned()),
                "{object}"
            );
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
        let states = crate::readiness::kustomizations(
            &expected,
            &[ready("Kustomization", "gitpod", "main@sha1:1", 1, 1)],
        );
        assert_eq!(states[0].1, crate::readiness::Readiness::Missing);
        assert!(states[1].1.is_ready());
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
