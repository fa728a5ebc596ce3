//! The kubeconfig k3s writes on a server, made usable from outside: its server address becomes
//! the cluster's public API address, and its cluster, user and context (all `default`) are
//! named after the site, so several sites live side by side in one `KUBECONFIG`.

use serde_json::{Value as Json, json};

use crate::core::emit;
use crate::core::json_tree::JsonTree;
use crate::core::source::SourceFile;
use crate::core::yaml;

/// `text` (k3s' `/etc/rancher/k3s/k3s.yaml`) with `server` as the API address (`https://IP:6443`)
/// and every name set to `site`.
pub fn rewrite(text: &str, site: &str, server: &str) -> Result<String, String> {
    let file = SourceFile::new("k3s.yaml", text);
    let (documents, diagnostics) = yaml::parse_stream(&file);
    if let Some(first) = diagnostics.first() {
        return Err(format!(
            "the server's kubeconfig does not parse: {}",
            first.message
        ));
    }
    let root = documents
        .first()
        .ok_or("the server's kubeconfig is empty")?;
    let mut config = JsonTree::new("k3s.yaml", root).value;
    let one = |config: &Json, key: &str| -> Result<Json, String> {
        match config[key].as_array().map(Vec::as_slice) {
            Some([only]) => Ok(only.clone()),
            _ => Err(format!(
                "the server's kubeconfig has not exactly one of `{key}`"
            )),
        }
    };
    let mut cluster = one(&config, "clusters")?;
    let mut user = one(&config, "users")?;
    let mut context = one(&config, "contexts")?;
    if cluster["cluster"]["server"].as_str().is_none() {
        return Err("the server's kubeconfig names no API server".to_owned());
    }
    cluster["name"] = json!(site);
    cluster["cluster"]["server"] = json!(server);
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
        let out = rewrite(K3S_YAML, "demo", "https://203.0.113.7:6443").expect("rewrites");
        assert!(out.contains("server: https://203.0.113.7:6443"), "{out}");
        assert!(out.contains("current-context: demo"), "{out}");
        assert!(!out.contains("default"), "{out}");
        assert!(out.contains("client-key-data: LS0tS0VZ"), "{out}");
    }

    #[test]
    fn a_kubeconfig_of_another_shape_is_refused() {
        for text in ["", "clusters: []\n", "a: [\n"] {
            assert!(rewrite(text, "demo", "https://x:6443").is_err(), "{text:?}");
        }
    }
}
