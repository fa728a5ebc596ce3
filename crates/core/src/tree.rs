//! The rendered tree (path → bytes) and its lock file, which records what railyard owns.
//!
//! The lock names the tool, the sha256 of every input and of every output. It lets
//! `render --check` tell stale output (inputs changed) from hand edits (an output's bytes no
//! longer match), and lets `render` remove exactly the files it rendered before.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const TOOL: &str = concat!("railyard ", env!("CARGO_PKG_VERSION"));
pub const LOCK_VERSION: u32 = 1;

/// The lock file's path for a site, relative to the output root.
pub fn lock_path(site: &str) -> String {
    crate::layout::lock(site)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lock {
    pub lock_version: u32,
    pub tool: String,
    pub site: String,
    /// sha256 over the sorted input names and digests: one value for commit messages.
    pub inputs_digest: String,
    pub inputs: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
}

impl Lock {
    pub fn new(
        site: &str,
        inputs: &BTreeMap<String, Vec<u8>>,
        outputs: &BTreeMap<String, Vec<u8>>,
    ) -> Lock {
        let inputs = Lock::digests(inputs);
        let mut joined =
            String::with_capacity(inputs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (name, digest) in &inputs {
            joined.push_str(name);
            joined.push('\0');
            joined.push_str(digest);
            joined.push('\n');
        }
        Lock {
            lock_version: LOCK_VERSION,
            tool: TOOL.to_owned(),
            site: site.to_owned(),
            inputs_digest: sha256(joined.as_bytes()),
            inputs,
            outputs: Lock::digests(outputs),
        }
    }

    /// Each file's sha256, by name: how the lock records inputs and outputs.
    pub fn digests(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
        files.iter().map(|(k, v)| (k.clone(), sha256(v))).collect()
    }

    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a lock always serialises");
        text.push('\n');
        text
    }

    pub fn parse(text: &str) -> Result<Lock, serde_json::Error> {
        serde_json::from_str(text)
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    // by hand: a `format!` per byte cost more than a small file's hash
    for byte in digest {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    hex
}

/// A site's rendered files plus its lock, ready for the edge to write or compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    pub site: String,
    /// Rendered files, lock excluded.
    pub files: BTreeMap<String, Vec<u8>>,
    pub lock: Lock,
}

impl Tree {
    pub fn lock_path(&self) -> String {
        lock_path(&self.site)
    }

    /// Every file to write, the lock included.
    pub fn all_files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = self.files.clone();
        files.insert(self.lock_path(), self.lock.to_text().into_bytes());
        files
    }
}

#[cfg(test)]
mod tests {
    use super::sha256;

    #[test]
    fn digests_are_lower_case_hex_with_their_algorithm() {
        // FIPS 180-2's examples: the empty message and "abc".
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
