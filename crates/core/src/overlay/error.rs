//! The overlay engine's errors below the diagnostic level: why a file cannot be read, why a
//! path is refused, why a pattern does not compile, and the work budget running out. Each
//! prints the exact text the engine has always put into its diagnostics.

use std::path::PathBuf;

use crate::limits::{MAX_OVERLAY_BYTES, MAX_OVERLAY_WORK};

/// Why [`super::Files`] cannot give a file's content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("no such file")]
    Missing,
    #[error("not UTF-8 text")]
    NotUtf8,
    /// Where the first byte that is not UTF-8 sits, 1-based.
    #[error("not UTF-8 text (line {line}, column {column})")]
    NotUtf8At { line: usize, column: usize },
    #[error("a symbolic link leads it to `{}`, outside the overlay root", .0.display())]
    LinkOutsideRoot(PathBuf),
    /// The reason the loader gave (an I/O error it described, a file it refused).
    #[error("{0}")]
    Unreadable(String),
}

/// The build has done more than [`MAX_OVERLAY_WORK`] steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the overlay takes too many steps to build")]
pub struct OutOfWork;

/// Why the engine refuses a read, a path or a pattern.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "the overlay reads more than {MAX_OVERLAY_BYTES} bytes in all (a file read twice counts twice)"
    )]
    TooManyBytes,
    #[error("`{entry}` is an absolute path")]
    Absolute { entry: String },
    #[error("`{entry}` leads outside the overlay root `{root}`")]
    OutsideRoot { entry: String, root: String },
    #[error("`{entry}` is not in or below the kustomization's directory `{dir}`")]
    OutsideDirectory { entry: String, dir: String },
    #[error(
        "the overlay takes too many steps to build: renaming references needs more than {MAX_OVERLAY_WORK} steps"
    )]
    RenamingOutOfWork,
    #[error(transparent)]
    AmbiguousReference(Box<AmbiguousReference>),
}

/// A name reference that several different objects answer (kustomize: "found multiple
/// possible referrals"), typically one base included twice under different prefixes.
#[derive(Clone, Debug, thiserror::Error)]
#[error(
    "{referrer} refers to `{name}` in `{field}`, which is more than one object: `{candidates}`"
)]
pub struct AmbiguousReference {
    pub field: String,
    pub name: String,
    pub referrer: String,
    pub candidates: String,
    /// The referrer's file and the start of its document.
    pub file: String,
    pub at: crate::source::Span,
}

/// Why an overlay's regular expression is refused.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PatternError {
    #[error("it compiles to more than {0} bytes")]
    TooBig(usize),
    #[error(transparent)]
    Invalid(regex::Error),
}

#[cfg(test)]
mod tests {
    use super::{Error, OutOfWork, PatternError, ReadError};

    /// The texts diagnostics have always carried; tests of whole builds compare them too.
    #[test]
    fn errors_print_the_engines_messages() {
        let cases: [(String, &str); 8] = [
            (ReadError::Missing.to_string(), "no such file"),
            (
                ReadError::NotUtf8At { line: 2, column: 5 }.to_string(),
                "not UTF-8 text (line 2, column 5)",
            ),
            (
                ReadError::LinkOutsideRoot("/etc/passwd".into()).to_string(),
                "a symbolic link leads it to `/etc/passwd`, outside the overlay root",
            ),
            (
                Error::from(ReadError::Unreadable("permission denied".to_owned())).to_string(),
                "permission denied",
            ),
            (
                Error::OutsideRoot {
                    entry: "../x".to_owned(),
                    root: "site".to_owned(),
                }
                .to_string(),
                "`../x` leads outside the overlay root `site`",
            ),
            (
                Error::OutsideDirectory {
                    entry: "../b.yaml".to_owned(),
                    dir: "a".to_owned(),
                }
                .to_string(),
                "`../b.yaml` is not in or below the kustomization's directory `a`",
            ),
            (
                OutOfWork.to_string(),
                "the overlay takes too many steps to build",
            ),
            (
                PatternError::TooBig(100).to_string(),
                "it compiles to more than 100 bytes",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
