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
        let joined: String = inputs.iter().map(|(k, v)| format!("{k}\0{v}\n")).collect();
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
    let mut hex = String::with_capacity(71);
    hex.push_str("sha256:");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
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
