//! One SOPS value: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` (formats.md §1.1).
//!
//! AES-256-GCM with a 32-byte IV, the data key as key, and the value's key path as additional
//! data, so a ciphertext moved to another key fails to decrypt.

use aes_gcm::AesGcm;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::generic_array::typenum::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::RngCore;

/// AES-256-GCM with sops' 32-byte nonce.
type Cipher = AesGcm<Aes256, U32>;

/// What a plaintext was before it became bytes, so decryption can give it back its YAML type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Comment,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Str => "str",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Comment => "comment",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "str" | "bytes" | "time" => Kind::Str,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "comment" => Kind::Comment,
            _ => return None,
        })
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("not a sops value (`ENC[AES256_GCM,…]`)")]
    Format,
    #[error(
        "authentication failed: the value, its IV or tag was altered, or it belongs to another key"
    )]
    Authentication,
}

/// The data key: 32 bytes.
pub type DataKey = [u8; 32];

/// Encrypts `plaintext` of `kind` under `key`, with `path` as additional data.
pub fn encrypt(
    key: &DataKey,
    plaintext: &[u8],
    kind: Kind,
    aad: &str,
    rng: &mut dyn RngCore,
) -> String {
    let mut iv = [0_u8; 32];
    rng.fill_bytes(&mut iv);
    let cipher = Cipher::new(GenericArray::from_slice(key));
    let sealed = cipher
        .encrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM encryption cannot fail for in-memory data");
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag),
        kind.name()
    )
}

/// Whether `text` has the shape of a sops value.
pub fn is_encrypted(text: &str) -> bool {
    text.starts_with("ENC[AES256_GCM,") && text.ends_with(']')
}

/// Decrypts a sops value; returns its plaintext and kind.
pub fn decrypt(key: &DataKey, value: &str, aad: &str) -> Result<(Vec<u8>, Kind), CipherError> {
    let inner = value
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|v| v.strip_suffix(']'))
        .ok_or(CipherError::Format)?;
    let mut fields = [None; 4];
    for part in inner.split(',') {
        let (name, content) = part.split_once(':').ok_or(CipherError::Format)?;
        let slot = match name {
            "data" => 0,
            "iv" => 1,
            "tag" => 2,
            "type" => 3,
            _ => return Err(CipherError::Format),
        };
        fields[slot] = Some(content);
    }
    let [Some(data), Some(iv), Some(tag), Some(kind)] = fields else {
        return Err(CipherError::Format);
    };
    let kind = Kind::parse(kind).ok_or(CipherError::Format)?;
    let decode = |text: &str| STANDARD.decode(text).map_err(|_| CipherError::Format);
    let (mut sealed, iv, tag) = (decode(data)?, decode(iv)?, decode(tag)?);
    if iv.len() != 32 || tag.len() != 16 {
        return Err(CipherError::Format);
    }
    sealed.extend_from_slice(&tag);
    let cipher = Cipher::new(GenericArray::from_slice(key));
    let plaintext = cipher
        .decrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| CipherError::Authentication)?;
    Ok((plaintext, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u8);

    impl RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    #[test]
    fn round_trip_and_authentication() {
        let key = [7_u8; 32];
        let value = encrypt(
            &key,
            b"hunter2",
            Kind::Str,
            "stringData:password:",
            &mut Counter(0),
        );
        assert_eq!(
            decrypt(&key, &value, "stringData:password:"),
            Ok((b"hunter2".to_vec(), Kind::Str))
        );
        assert_eq!(
            decrypt(&key, &value, "stringData:other:"),
            Err(CipherError::Authentication)
        );
        assert_eq!(
            decrypt(&[8; 32], &value, "stringData:password:"),
            Err(CipherError::Authentication)
        );
        assert_eq!(decrypt(&key, "plain", ""), Err(CipherError::Format));
    }
}
