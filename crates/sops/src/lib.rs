//! SOPS files with age recipients, compatible with the `sops` CLI both ways.
//!
//! Not part of the pure core: encryption needs randomness and a clock, which callers pass in
//! (`rng`, `now`), and age draws its own. Nothing here reads files or the environment.

pub mod cipher;
pub mod document;
pub mod file;
pub mod mac;
pub mod rules;
pub mod split;

/// What can go wrong with a secrets file; messages name key paths, never values.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    #[error("the file is not encrypted (it has no `sops:` block)")]
    NotEncrypted,
    #[error("the file is already encrypted")]
    AlreadyEncrypted,
    #[error("cannot decrypt: {0}")]
    Unsupported(String),
    #[error("none of the age identities opens the data key; the file is encrypted to {}", .0.join(", "))]
    NoIdentity(Vec<String>),
    #[error("the value at `{0}` cannot be decrypted: {1}")]
    Value(String, ValueError),
    #[error("the MAC does not match: the file was changed without its key")]
    MacMismatch,
    #[error("the file is damaged: {0}")]
    Corrupt(String),
    /// A file that parses as YAML but not as a SOPS document (no document, or one that is not
    /// a mapping); invalid YAML is [`SopsError::Yaml`].
    #[error("the file is damaged: {0}")]
    Document(document::DocumentError),
    /// At a 1-based line and column of the file.
    #[error("the file is not valid YAML: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{0}` is not an age recipient")]
    BadRecipient(String),
    #[error("age: {0}")]
    Age(String),
    #[error(
        "the value at `{0}` has a comment on its line, which would stay unencrypted; put the comment on a line of its own"
    )]
    TrailingComment(String),
}

/// Why one encrypted value cannot be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error(transparent)]
    Cipher(#[from] cipher::CipherError),
    #[error("it should be encrypted but is plain text")]
    PlainText,
}

impl SopsError {
    /// Where in the file the problem is, when it is at one place.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            SopsError::Yaml { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}

impl From<document::DocumentError> for SopsError {
    fn from(error: document::DocumentError) -> SopsError {
        match error {
            document::DocumentError::Yaml {
                line,
                column,
                message,
            } => SopsError::Yaml {
                line,
                column,
                message,
            },
            other => SopsError::Document(other),
        }
    }
}
