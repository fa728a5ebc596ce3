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

/// One placeholder as written in a host file: its kind (`secret`, `address`) and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Placeholder {
    pub kind: String,
    pub name: String,
}

impl std::fmt::Display for Placeholder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@@railyard:{}:{}@@", self.kind, self.name)
    }
}

/// Every placeholder `text` holds, each once, sorted.
pub fn scan(text: &str) -> Result<Vec<Placeholder>, FillError> {
    let mut found = std::collections::BTreeSet::new();
    fill(text, |p| {
        found.insert(p.clone());
        Some(String::new())
    })?;
    Ok(found.into_iter().collect())
}

/// `text` with every placeholder replaced by `lookup`'s value for it; when any has none, an
/// error naming every such placeholder (never a value).
pub fn fill(
    text: &str,
    mut lookup: impl FnMut(&Placeholder) -> Option<String>,
) -> Result<String, FillError> {
    const OPEN: &str = "@@railyard:";
    let mut out = String::with_capacity(text.len());
    let mut missing = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        let end = after.find("@@").ok_or(FillError::Unterminated)?;
        let (kind, name) = after[..end].split_once(':').unwrap_or(("", &after[..end]));
        let placeholder = Placeholder {
            kind: kind.to_owned(),
            name: name.to_owned(),
        };
        match lookup(&placeholder) {
            Some(value) => out.push_str(&value),
            None => {
                missing.insert(placeholder);
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(FillError::Unfilled(missing.into_iter().collect()))
    }
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
    #[error("no value for {}", unfilled(.0))]
    Unfilled(Vec<Placeholder>),
}

fn unfilled(all: &[Placeholder]) -> String {
    let names: Vec<String> = all.iter().map(|p| format!("`{p}`")).collect();
    names.join(", ")
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
    fn every_placeholder_is_found_and_every_missing_value_named() {
        let text = "a @@railyard:secret:token@@ b @@railyard:address:ip@@ @@railyard:secret:token@@ @@railyard:address:other@@";
        let found = scan(text).expect("terminated");
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "@@railyard:address:ip@@",
                "@@railyard:address:other@@",
                "@@railyard:secret:token@@"
            ]
        );
        let values = |p: &Placeholder| match (p.kind.as_str(), p.name.as_str()) {
            ("secret", "token") => Some("s3cret".to_owned()),
            ("address", "ip") => Some("10.0.0.2".to_owned()),
            _ => None,
        };
        let error = fill(text, values).expect_err("`other` has no value");
        assert_eq!(
            error.to_string(),
            "no value for `@@railyard:address:other@@`"
        );
        let filled = fill(
            "x @@railyard:secret:token@@ @@railyard:address:ip@@",
            values,
        );
        assert_eq!(filled, Ok("x s3cret 10.0.0.2".to_owned()));
        assert_eq!(scan("@@railyard:secret:x"), Err(FillError::Unterminated));
    }

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
