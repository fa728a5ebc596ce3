//! The kubeconfig k3s writes on a server, made usable from outside: its server address becomes
//! the cluster's public API address, and its cluster, user and context (all `default`) are
//! named after the site, so several sites live side by side in one `KUBECONFIG`. Reading a
//! kubeconfig's credentials is the client's (`kube::config`, in `edge/kube.rs`), not railyard's.

use serde_json::{Value as Json, json};

use railyard_core::emit;
use railyard_core::json_tree::JsonTree;
use railyard_core::source::SourceFile;
use railyard_core::yaml;

/// A kubeconfig railyard cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KubeconfigError {
    #[error("{what} does not parse: {message}")]
    Parse { what: &'static str, message: String },
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("the server's kubeconfig has not exactly one of `{0}`")]
    NotExactlyOne(String),
    #[error("the server's kubeconfig names no API server")]
    NoApiServer,
}

/// The first document of a kubeconfig as JSON; `what` names it in errors.
fn parse(text: &str, what: &'static str) -> Result<Json, KubeconfigError> {
    let file = SourceFile::new("kubeconfig", text);
    let (documents, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        return Err(KubeconfigError::Parse {
            what,
            message: first.message.clone(),
        });
    }
    let root = documents.first().ok_or(KubeconfigError::Empty(what))?;
    Ok(JsonTree::new("kubeconfig", root).value)
}

/// `text` (k3s' `/etc/rancher/k3s/k3s.yaml`) with `server` as the API address (`https://IP:6443`),
/// the certificate checked for `tls_server_name` when given, and every name set to `site`.
pub fn rewrite(
    text: &str,
    site: &str,
    server: &str,
    tls_server_name: Option<&str>,
) -> Result<String, KubeconfigError> {
    let mut config = parse(text, "the server's kubeconfig")?;
    let one = |config: &Json, key: &str| -> Result<Json, KubeconfigError> {
        match config[key].as_array().map(Vec::as_slice) {
            Some([only]) => Ok(only.clone()),
            _ => Err(KubeconfigError::NotExactlyOne(key.to_owned())),
        }
    };
    let mut cluster = one(&config, "clusters")?;
    let mut user = one(&config, "users")?;
    let mut context = one(&config, "contexts")?;
    if cluster["cluster"]["server"].as_str().is_none() {
        return Err(KubeconfigError::NoApiServer);
    }
    cluster["name"] = json!(site);
    cluster["cluster"]["server"] = json!(server);
    if let Some(name) = tls_server_name {
        cluster["cluster"]["tls-server-name"] = json!(name);
    }
    user["name"] = json!(site);
    context["name"] = json!(site);
    context["context"]["cluster"] = json!(site);
    context["context"]["user"] = json!(site);
    config["clusters"] = json!([cluster]);
    config["users"] = json!([user]);
    config["contexts"] = json!([context]);
    config["current-context"] = json!(site);
    Ok(emit::document(&config))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape k3s v1.36 writes (certificate data shortened).
    const K3S_YAML: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tQ0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tQ0VSVA==
    client-key-data: LS0tS0VZ
";

    #[test]
    fn names_and_address_are_the_sites() {
        let out = rewrite(K3S_YAML, "demo", "https://203.0.113.7:6443", None).expect("rewrites");
        assert!(out.contains("server: https://203.0.113.7:6443"), "{out}");
        assert!(out.contains("current-context: demo"), "{out}");
        assert!(!out.contains("default"), "{out}");
        assert!(out.contains("client-key-data: LS0tS0VZ"), "{out}");
    }

    #[test]
    fn the_private_address_is_the_name_the_certificate_is_checked_for() {
        let out = rewrite(
            K3S_YAML,
            "demo",
            "https://203.0.113.7:6443",
            Some("10.2.0.5"),
        )
        .expect("rewrites");
        assert!(out.contains("tls-server-name: 10.2.0.5"), "{out}");
        assert!(
            out.contains("certificate-authority-data: LS0tQ0E="),
            "{out}"
        );
        assert!(
            out.contains("client-certificate-data: LS0tQ0VSVA=="),
            "{out}"
        );
    }

    #[test]
    fn a_kubeconfig_of_another_shape_is_refused() {
        for text in ["", "clusters: []\n", "a: [\n"] {
            assert!(
                rewrite(text, "demo", "https://x:6443", None).is_err(),
                "{text:?}"
            );
        }
    }
}
