//! OpenSSH public key lines (`ssh-ed25519 AAAA... comment`), checked down to the key blob.

use base64::Engine;

/// Why a public key line was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not an OpenSSH public key line")]
    Shape,
    #[error("unsupported key type `{0}`")]
    Type(String),
    #[error("the key data is not valid base64")]
    Base64,
    #[error("the key data does not match its type `{0}`")]
    Blob(String),
    #[error("RSA key of {0} bits is too short")]
    WeakRsa(usize),
}

const TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Parses one key line and returns its type.
pub fn parse(line: &str) -> Result<&str, KeyError> {
    let mut parts = line.split_whitespace();
    let (Some(kind), Some(data)) = (parts.next(), parts.next()) else {
        return Err(KeyError::Shape);
    };
    if !TYPES.contains(&kind) {
        return Err(if kind.starts_with("-----") || kind.starts_with("AAAA") {
            KeyError::Shape
        } else {
            KeyError::Type(kind.to_owned())
        });
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| KeyError::Base64)?;
    let mut reader = Reader(&blob);
    let bad = || KeyError::Blob(kind.to_owned());
    if reader.string().ok_or_else(bad)? != kind.as_bytes() {
        return Err(bad());
    }
    match kind {
        "ssh-ed25519" => {
            if reader.string().ok_or_else(bad)?.len() != 32 {
                return Err(bad());
            }
        }
        "ssh-rsa" => {
            let _exponent = reader.string().ok_or_else(bad)?;
            let modulus = reader.string().ok_or_else(bad)?;
            let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
            if bits < 2048 {
                return Err(KeyError::WeakRsa(bits));
            }
        }
        k if k.starts_with("ecdsa-sha2-") => {
            let curve = reader.string().ok_or_else(bad)?;
            if !k.ends_with(std::str::from_utf8(curve).map_err(|_| bad())?) {
                return Err(bad());
            }
            let point = reader.string().ok_or_else(bad)?;
            if point.first() != Some(&4) {
                return Err(bad());
            }
        }
        _ => {
            reader.string().ok_or_else(bad)?;
        }
    }
    Ok(kind)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let value = self.0.get(4..4 + len)?;
        self.0 = &self.0[4 + len..];
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyError, parse};

    #[test]
    fn key_lines() {
        let ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy admin@example.com";
        let ec = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEJ557tz+Qba3C5bxRNEP9NKJaOFdUTqrloEKvRftXeeCJkVEwEu0Oa04rKmHB/qOtTjrwW7jwRktvBDhKOrYyY= ops@example.com";
        let weak = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDRRxFMvw/2L0vDllzC0yzsm4kWxRUzBQnirkl8k3vaGSwwn0tql1w+1QMhmCT5poUwsXtK6cOfw9vjJyY8rU+xTx2+Lp5ICPsH5g86S3fxIQP68GWvf1nX32pMfhnT3tCbr2ZVm5pjCl00ClofT8AFTerKNHFqFjV7u8I/W826Cw== root@vm";
        let cases: &[(&str, Result<&str, KeyError>)] = &[
            (ed, Ok("ssh-ed25519")),
            (ec, Ok("ecdsa-sha2-nistp256")),
            (weak, Err(KeyError::WeakRsa(1024))),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOM",
                Err(KeyError::Base64),
            ),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq",
                Err(KeyError::Blob("ssh-ed25519".into())),
            ),
            (
                "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==",
                Err(KeyError::Blob("ssh-ed25519".into())),
            ),
            ("ssh-dss AAAA", Err(KeyError::Type("ssh-dss".into()))),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", Err(KeyError::Shape)),
            ("", Err(KeyError::Shape)),
        ];
        for (line, want) in cases {
            assert_eq!(&parse(line), want, "{line}");
        }
    }
}
