//! Pinned versions: each in the format its project releases.

use super::Rules;
use super::pointers::{CERT_MANAGER_VERSION, FLUX_VERSION, K3S_VERSION, field};

/// A pinned version's pointer, its format check, and what it should look like.
type VersionCheck = (&'static str, fn(&str) -> bool, &'static str);

const CHECKS: [VersionCheck; 3] = [
    (
        K3S_VERSION,
        k3s_version,
        "a k3s release such as `v1.36.2+k3s1`",
    ),
    (
        FLUX_VERSION,
        is_semver,
        "a `flux2` chart version such as `2.18.3`",
    ),
    (
        CERT_MANAGER_VERSION,
        |v| v.strip_prefix('v').is_some_and(is_semver),
        "a cert-manager version such as `v1.21.1`",
    ),
];

impl Rules<'_> {
    pub(super) fn versions(&mut self) {
        for (pointer, valid, expected) in CHECKS {
            if let Some(version) = self.str(pointer) {
                if !valid(version) {
                    self.error(
                        pointer,
                        format!("`{version}` is not a valid {} version", field(pointer)),
                        expected,
                        "remove the pin to use railyard's tested default",
                    );
                }
            }
        }
    }
}

/// `v1.36.2+k3s1`: a `v`, a semantic version, `+k3s` and a build number.
pub(super) fn k3s_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|r| r.split_once("+k3s"))
        .is_some_and(|(semver, build)| {
            is_semver(semver) && !build.is_empty() && build.bytes().all(|b| b.is_ascii_digit())
        })
}

/// `1.2.3`: three dot-separated numbers.
fn is_semver(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}
