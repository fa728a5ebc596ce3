//! The SOPS MAC: SHA-512 over the plaintext of every value in document order (formats.md §1.2).

use sha2::{Digest, Sha256, Sha512};

/// Accumulates values in document order; keys, comments and nulls are not part of it.
pub struct Mac {
    hash: Sha512,
}

impl Mac {
    /// `only_encrypted` (sops' `mac_only_encrypted`) seeds the hash with sha256("sops").
    pub fn new(only_encrypted: bool) -> Mac {
        let mut hash = Sha512::new();
        if only_encrypted {
            hash.update(Sha256::digest(b"sops"));
        }
        Mac { hash }
    }

    pub fn add(&mut self, plaintext: &[u8]) {
        self.hash.update(plaintext);
    }

    /// Upper-case hex, as sops writes it before encrypting it.
    pub fn finish(self) -> String {
        self.hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }
}
