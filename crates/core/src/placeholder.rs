//! Placeholders in host files: values only bootstrap knows, written `@@railyard:KIND:NAME@@`.
//!
//! `secret` names a key of the secrets file (filled in memory at machine creation, never
//! committed); `address` names an address the cloud assigns (a DHCP private address, a load
//! balancer's public address).

pub fn secret(key: &str) -> String {
    format!("@@railyard:secret:{key}@@")
}

pub fn address(name: &str) -> String {
    format!("@@railyard:address:{name}@@")
}

/// Why a host file's placeholders cannot be filled; names the placeholder, never a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error("an unterminated `@@railyard:` placeholder")]
    Unterminated,
    #[error("the secrets file has no `{0}`, which the user-data needs")]
    NoSuchSecret(String),
    #[error("placeholder `@@railyard:{0}@@` cannot be filled here")]
    NotFillable(String),
}

/// `text` with every secret placeholder replaced by `lookup(key)`; an unknown key or any other
/// placeholder left over is an error naming it (never a value).
pub fn fill_secrets(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, FillError> {
    const OPEN: &str = "@@railyard:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after.find("@@").ok_or(FillError::Unterminated)?;
        let inner = &after[..end];
        match inner.split_once(':') {
            Some(("secret", key)) => {
                let value = lookup(key).ok_or_else(|| FillError::NoSuchSecret(key.to_owned()))?;
                out.push_str(&value);
            }
            _ => {
                return Err(FillError::NotFillable(inner.to_owned()));
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_filled_and_anything_else_refused() {
        let lookup = |k: &str| (k == "token").then(|| "s3cret".to_owned());
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("a @@railyard:secret:token@@ b", Ok("a s3cret b")),
            ("no placeholders", Ok("no placeholders")),
            ("@@railyard:secret:other@@", Err("has no `other`")),
            ("@@railyard:address:ingress-ipv4@@", Err("cannot be filled")),
            ("@@railyard:secret:token", Err("unterminated")),
        ];
        for (text, want) in cases {
            match (fill_secrets(text, lookup), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want),
                (Err(got), Err(want)) => assert!(got.to_string().contains(want), "{got}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }
}
