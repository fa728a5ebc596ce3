//! Gitpod: the installer image and tag, and unique, well-formed auth providers.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{
    AUTH_PROVIDER_HOST, AUTH_PROVIDER_ID, AUTH_PROVIDERS, INSTALLER_IMAGE, INSTALLER_VERSION, at,
};
use crate::values::Fqdn;

impl Rules<'_> {
    pub(super) fn gitpod(&mut self) {
        if let Some(image) = self.str(INSTALLER_IMAGE) {
            if !image_name(image) {
                self.error(
                    INSTALLER_IMAGE,
                    format!("`{image}` is not an image name without tag"),
                    "a registry path such as `registry.example.com/gitpod/installer`",
                    "put the tag in `installer.version`",
                );
            }
        }
        if let Some(version) = self.str(INSTALLER_VERSION) {
            if !image_tag(version) {
                self.error(
                    INSTALLER_VERSION,
                    format!("`{version}` is not an image tag"),
                    "letters, digits, `_`, `.` and `-`, at most 128",
                    "e.g. `2023.03.1`",
                );
            }
        }
        self.auth_providers();
    }

    fn auth_providers(&mut self) {
        let providers = self
            .value(AUTH_PROVIDERS)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let mut seen = BTreeMap::new();
        for (i, provider) in providers.iter().enumerate() {
            if let Some(id) = provider.get("id").and_then(Json::as_str) {
                if let Some(first) = seen.insert(id.to_owned(), i) {
                    self.error(
                        &at(AUTH_PROVIDER_ID, i),
                        format!("auth provider id `{id}` is used twice"),
                        "a unique id per provider",
                        format!("it is already used by authProviders[{first}]"),
                    );
                }
            }
            if let Some(host) = provider.get("host").and_then(Json::as_str) {
                if Fqdn::parse(host).is_err() {
                    self.error(
                        &at(AUTH_PROVIDER_HOST, i),
                        format!("`{host}` is not a host name"),
                        "a host such as `github.com`",
                        "no scheme or path",
                    );
                }
            }
        }
    }
}

/// A registry path without tag or digest, in lowercase.
fn image_name(image: &str) -> bool {
    let last = image.rsplit('/').next().unwrap_or("");
    !image.is_empty()
        && !last.contains(':')
        && !image.contains('@')
        && image.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
        })
}

/// An OCI tag: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, at most 128.
fn image_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}
