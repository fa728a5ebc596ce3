//! DNS names: one label (a site name) and a lowercase fully qualified domain name.

use std::fmt;
use std::ops::Deref;

/// A DNS label: lowercase letters, digits and `-`, not at either end, 1 to 63 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct DnsLabel(String);

/// Why a text is not a [`DnsLabel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsLabelError {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than 63 characters")]
    TooLong,
    #[error("only lowercase letters, digits and `-` are allowed")]
    Characters,
    #[error("it must start and end with a letter or digit")]
    Hyphen,
}

impl DnsLabel {
    pub fn parse(name: &str) -> Result<DnsLabel, DnsLabelError> {
        if name.is_empty() {
            return Err(DnsLabelError::Empty);
        }
        if name.len() > 63 {
            return Err(DnsLabelError::TooLong);
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(DnsLabelError::Characters);
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(DnsLabelError::Hyphen);
        }
        Ok(DnsLabel(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated name reads as the text it was parsed from.
impl Deref for DnsLabel {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A lowercase domain name of at least two [`DnsLabel`]s, at most 253 characters, without a
/// trailing dot, whose last label is not numeric (so it cannot be an IPv4 address).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Fqdn(String);

/// Why a text is not an [`Fqdn`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FqdnError {
    #[error("it is longer than 253 characters")]
    TooLong,
    #[error("it needs at least two labels")]
    OneLabel,
    #[error("label `{label}`: {why}")]
    Label { label: String, why: DnsLabelError },
    #[error("the last label cannot be numeric")]
    NumericTopLevel,
}

impl Fqdn {
    pub fn parse(name: &str) -> Result<Fqdn, FqdnError> {
        if name.len() > 253 {
            return Err(FqdnError::TooLong);
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(FqdnError::OneLabel);
        }
        for label in &labels {
            DnsLabel::parse(label).map_err(|why| FqdnError::Label {
                label: (*label).to_owned(),
                why,
            })?;
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(FqdnError::NumericTopLevel);
        }
        Ok(Fqdn(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated name reads as the text it was parsed from.
impl Deref for Fqdn {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for (name, expected) in [
            ("demo", Ok(())),
            ("gitpod-eu-1", Ok(())),
            ("Demo", Err(DnsLabelError::Characters)),
            ("a_b", Err(DnsLabelError::Characters)),
            ("-demo", Err(DnsLabelError::Hyphen)),
            ("demo-", Err(DnsLabelError::Hyphen)),
            ("", Err(DnsLabelError::Empty)),
            (&"a".repeat(64)[..], Err(DnsLabelError::TooLong)),
        ] {
            assert_eq!(DnsLabel::parse(name).map(|_| ()), expected, "{name}");
        }
        assert_eq!(DnsLabel::parse(&"a".repeat(63)).map(|l| l.0.len()), Ok(63));
    }

    #[test]
    fn domains() {
        for (name, ok) in [
            ("gitpod.example.com", true),
            ("a.b", true),
            ("example", false),
            ("Gitpod.example.com", false),
            ("a..b", false),
            ("x.123", false),
            ("gitpod.example.com.", false),
        ] {
            assert_eq!(Fqdn::parse(name).is_ok(), ok, "{name}");
        }
        assert_eq!(
            Fqdn::parse("a..b").map(|_| ()).unwrap_err().to_string(),
            "label ``: it is empty"
        );
        assert_eq!(
            Fqdn::parse(&format!("{}.com", "a.".repeat(126))).unwrap_err(),
            FqdnError::TooLong
        );
    }
}
