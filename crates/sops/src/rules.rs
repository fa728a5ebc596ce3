//! Which values a SOPS file encrypts: one of the suffix or regex rules of its `sops:` block
//! (formats.md §1.3), applied to every key of a value's path.

use regex::Regex;

use railyard_core::limits::MAX_REGEX_BYTES;

#[derive(Clone, Debug)]
pub enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
}

/// railyard's default, Flux's convention: only a Secret's `data` and `stringData`.
pub const DEFAULT_ENCRYPTED_REGEX: &str = "^(data|stringData)$";

impl Rule {
    pub fn default_for_railyard() -> Rule {
        Rule::EncryptedRegex(Regex::new(DEFAULT_ENCRYPTED_REGEX).expect("a valid regex"))
    }

    /// The `sops:` block's field for this rule and its value.
    pub fn field(&self) -> (&'static str, String) {
        match self {
            Rule::UnencryptedSuffix(s) => ("unencrypted_suffix", s.clone()),
            Rule::EncryptedSuffix(s) => ("encrypted_suffix", s.clone()),
            Rule::UnencryptedRegex(r) => ("unencrypted_regex", r.as_str().to_owned()),
            Rule::EncryptedRegex(r) => ("encrypted_regex", r.as_str().to_owned()),
        }
    }

    /// Reads the rule from a `sops:` block's field; none present means sops' own default.
    pub fn from_field(name: &str, value: &str) -> Result<Option<Rule>, regex::Error> {
        Ok(Some(match name {
            "unencrypted_suffix" => Rule::UnencryptedSuffix(value.to_owned()),
            "encrypted_suffix" => Rule::EncryptedSuffix(value.to_owned()),
            "unencrypted_regex" => Rule::UnencryptedRegex(bounded(value)?),
            "encrypted_regex" => Rule::EncryptedRegex(bounded(value)?),
            _ => return Ok(None),
        }))
    }

    /// Whether a value at `path` is encrypted.
    pub fn encrypts(&self, path: &[String]) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|k| k.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|k| r.is_match(k)),
            Rule::EncryptedRegex(r) => path.iter().any(|k| r.is_match(k)),
        }
    }
}

/// A rule's regular expression, compiled within [`MAX_REGEX_BYTES`].
fn bounded(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_BYTES)
        .dfa_size_limit(MAX_REGEX_BYTES)
        .build()
}

/// sops' default when a file names no rule.
pub fn sops_default() -> Rule {
    Rule::UnencryptedSuffix("_unencrypted".to_owned())
}
