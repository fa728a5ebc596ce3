//! The Secret Flux pulls an `https://` repository with, as bootstrap applies it on the first
//! run: Flux cannot fetch the repository that holds the Secret before the Secret exists, so
//! bootstrap fills the rendered Secret's `${key}` references from the decrypted secrets file,
//! as Flux's substitution will, and applies it; Flux owns it from then on.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value as Json, json};

use crate::{RenderError, documents};
use railyard_core::layout;

/// Why the credentials Secret cannot be made. No variant carries a secret value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("the secrets file has no `{0}`, which the git credentials name")]
    MissingKey(String),
    #[error("`{0}` holds no Secret")]
    NoSecret(String),
}

/// The rendered credentials Secret with its values filled in, all under `data` (base64); `None`
/// when the render has none (an ssh URL or a public repository).
pub fn secret(
    site: &str,
    files: &BTreeMap<String, Vec<u8>>,
    values: &BTreeMap<String, String>,
) -> Result<Option<Json>, CredentialsError> {
    let path = layout::git_credentials(site);
    let Some(bytes) = files.get(&path) else {
        return Ok(None);
    };
    let rendered = documents(&path, bytes)?
        .into_iter()
        .find(|o| o["kind"] == "Secret")
        .ok_or_else(|| CredentialsError::NoSecret(path.clone()))?;
    let mut data = Map::new();
    for (section, encode) in [("stringData", true), ("data", false)] {
        let entries = rendered[section].as_object().cloned().unwrap_or_default();
        for (key, value) in entries {
            let filled = substitute(value.as_str().unwrap_or_default(), values)?;
            let encoded = if encode {
                base64::engine::general_purpose::STANDARD.encode(filled)
            } else {
                filled
            };
            data.insert(key, Json::String(encoded));
        }
    }
    Ok(Some(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": rendered["metadata"]["name"],
            "namespace": rendered["metadata"]["namespace"],
            "labels": rendered["metadata"]["labels"],
        },
        "type": rendered["type"],
        "data": data,
    })))
}

/// `${name}` replaced by the secrets file's value of `name`, as Flux's post-build substitution
/// replaces it; any other text stays.
fn substitute(text: &str, values: &BTreeMap<String, String>) -> Result<String, CredentialsError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        let value = values
            .get(name)
            .ok_or_else(|| CredentialsError::MissingKey(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(text: &str) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([(layout::git_credentials("s"), text.as_bytes().to_vec())])
    }

    fn decoded(secret: &Json, key: &str) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret["data"][key].as_str().expect("a value"))
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn references_are_filled_from_the_secrets_file() {
        let rendered = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: flux-system\n  namespace: flux-system\ntype: Opaque\ndata:\n  githubAppPrivateKey: ${key_b64}\nstringData:\n  username: |-\n    ${user}\n  githubAppID: \"42\"\n";
        let values = BTreeMap::from([
            ("user".to_owned(), "robot".to_owned()),
            ("key_b64".to_owned(), "UEVN".to_owned()),
        ]);
        let secret = secret("s", &files(rendered), &values)
            .expect("fills")
            .expect("a Secret");
        assert_eq!(decoded(&secret, "username"), "robot");
        assert_eq!(decoded(&secret, "githubAppID"), "42");
        assert_eq!(secret["data"]["githubAppPrivateKey"], "UEVN");
        assert_eq!(secret["metadata"]["namespace"], "flux-system");
        assert!(secret.get("stringData").is_none());
    }

    #[test]
    fn a_missing_key_is_named_and_no_render_is_no_secret() {
        let rendered = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: flux-system\nstringData:\n  password: ${token}\n";
        assert_eq!(
            secret("s", &files(rendered), &BTreeMap::new()),
            Err(CredentialsError::MissingKey("token".to_owned()))
        );
        assert_eq!(secret("s", &BTreeMap::new(), &BTreeMap::new()), Ok(None));
    }
}
