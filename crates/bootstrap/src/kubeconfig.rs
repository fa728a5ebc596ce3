//! The kubeconfig k3s writes on a server, made usable from outside: its server address becomes
//! the cluster's public API address, and its cluster, user and context (all `default`) are
//! named after the site, so several sites live side by side in one `KUBECONFIG`.

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
    #[error("the kubeconfig has no `current-context`")]
    NoCurrentContext,
    #[error("the kubeconfig has no entry `{name}` in `{list}`")]
    NoEntry { list: String, name: String },
    #[error("cluster `{0}` has no `https://` server")]
    NoServer(String),
    #[error("`{0}` is not base64")]
    NotBase64(String),
    #[error("user `{0}` has a client certificate or key but not both")]
    HalfClientCertificate(String),
    #[error("user `{0}` has neither `client-certificate-data` nor `token`")]
    NoCredentials(String),
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

/// What a client needs from a kubeconfig's current context.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `https://HOST:PORT`, as written.
    pub server: String,
    /// The PEM the server's certificate must chain to (k3s always writes it; the client
    /// refuses a kubeconfig without it rather than trust the system's roots).
    pub certificate_authority: Option<Vec<u8>>,
    /// PEM certificate and key of the client certificate, when the user has one.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    pub token: Option<String>,
    /// The name the server's certificate is checked for, when not the server's host.
    pub tls_server_name: Option<String>,
}

impl std::fmt::Debug for Credentials {
    // Never print the key or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The current context's server and credentials, from the `*-data` fields (what k3s writes;
/// file references would make the result depend on the reader's disk).
pub fn credentials(text: &str) -> Result<Credentials, KubeconfigError> {
    let config = parse(text, "the kubeconfig")?;
    let current = config["current-context"]
        .as_str()
        .ok_or(KubeconfigError::NoCurrentContext)?;
    let named = |list: &str, name: &str| -> Result<Json, KubeconfigError> {
        config[list]
            .as_array()
            .into_iter()
            .flatten()
            .find(|entry| entry["name"].as_str() == Some(name))
            .cloned()
            .ok_or_else(|| KubeconfigError::NoEntry {
                list: list.to_owned(),
                name: name.to_owned(),
            })
    };
    let context = named("contexts", current)?;
    let cluster_name = context["context"]["cluster"].as_str().unwrap_or_default();
    let user_name = context["context"]["user"].as_str().unwrap_or_default();
    let cluster = named("clusters", cluster_name)?;
    let user = named("users", user_name)?;
    let server = cluster["cluster"]["server"]
        .as_str()
        .filter(|s| s.starts_with("https://"))
        .ok_or_else(|| KubeconfigError::NoServer(cluster_name.to_owned()))?
        .to_owned();
    let data = |value: &Json, key: &str| -> Result<Option<Vec<u8>>, KubeconfigError> {
        use base64::Engine as _;
        value[key]
            .as_str()
            .map(|text| {
                base64::engine::general_purpose::STANDARD
                    .decode(text.trim())
                    .map_err(|_| KubeconfigError::NotBase64(key.to_owned()))
            })
            .transpose()
    };
    let certificate_authority = data(&cluster["cluster"], "certificate-authority-data")?;
    let client = match (
        data(&user["user"], "client-certificate-data")?,
        data(&user["user"], "client-key-data")?,
    ) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => {
            return Err(KubeconfigError::HalfClientCertificate(user_name.to_owned()));
        }
    };
    let token = user["user"]["token"].as_str().map(str::to_owned);
    let tls_server_name = cluster["cluster"]["tls-server-name"]
        .as_str()
        .map(str::to_owned);
    if client.is_none() && token.is_none() {
        return Err(KubeconfigError::NoCredentials(user_name.to_owned()));
    }
    Ok(Credentials {
        server,
        certificate_authority,
        client,
        token,
        tls_server_name,
    })
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
    fn credentials_come_from_the_current_context() {
        let rewritten = rewrite(
            K3S_YAML,
            "demo",
            "https://203.0.113.7:6443",
            Some("10.2.0.5"),
        )
        .expect("rewrites");
        let credentials = credentials(&rewritten).expect("reads");
        assert_eq!(credentials.server, "https://203.0.113.7:6443");
        assert_eq!(credentials.tls_server_name.as_deref(), Some("10.2.0.5"));
        assert_eq!(
            credentials.certificate_authority.as_deref(),
            Some(&b"---CA"[..])
        );
        assert_eq!(
            credentials.client,
            Some((b"---CERT".to_vec(), b"---KEY".to_vec()))
        );
        assert!(!format!("{credentials:?}").contains("KEY"));
        for broken in [
            K3S_YAML.replace("current-context: default", "current-context: other"),
            K3S_YAML.replace("https://127.0.0.1", "http://127.0.0.1"),
            K3S_YAML.replace("    client-key-data: LS0tS0VZ\n", ""),
            K3S_YAML.replace("LS0tS0VZ", "%%%"),
        ] {
            assert!(super::credentials(&broken).is_err(), "{broken}");
        }
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
