//! Why a file the site names could not be loaded: a finding about the site, reported by the
//! rules at the field that names the file.

use std::collections::BTreeMap;

use crate::source::SourceFile;

/// Files named by the site, by [`path_key`](crate::values::path_key), as the edge
/// loaded them: their text, or why they could not be read.
pub type LoadedFiles = BTreeMap<String, Result<SourceFile, LoadProblem>>;

/// Why the edge could not hand a named file to the compiler. The text follows the path in a
/// message (`cannot read SSH key file `x`: no such file`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadProblem {
    #[error("no such file")]
    Missing,
    #[error("permission denied")]
    PermissionDenied,
    #[error("is a directory")]
    Directory,
    /// A FIFO, a device or a socket: reading it could block or never end.
    #[error("is not a regular file")]
    NotRegular,
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Not UTF-8, with the 1-based line and column of the first bad byte when known.
    #[error("not UTF-8 text{}", at.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    NotUtf8 { at: Option<(usize, usize)> },
    #[error("is a symbolic link to `{target}`, outside the site directory")]
    LinkOutside { target: String },
    /// Inside an overlay directory, where links to directories are not followed.
    #[error("is a symbolic link to a directory, which railyard does not follow in overlays")]
    DirectoryLink,
    #[error("the site and its overlays name more than {limit} files in all")]
    TooManyFiles { limit: usize },
    #[error("the site's inputs are larger than {limit} bytes in all")]
    InputsTooLarge { limit: usize },
    /// An overlay directory with more entries below it than railyard walks.
    #[error("holds more than {limit} files and directories")]
    TooManyEntries { limit: usize },
    /// Any other reason the system gave, as a lower-case phrase.
    #[error("{0}")]
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_after_a_path() {
        for (problem, text) in [
            (LoadProblem::Missing, "no such file"),
            (LoadProblem::NotUtf8 { at: None }, "not UTF-8 text"),
            (
                LoadProblem::NotUtf8 { at: Some((2, 5)) },
                "not UTF-8 text (line 2, column 5)",
            ),
            (
                LoadProblem::TooManyEntries { limit: 10 },
                "holds more than 10 files and directories",
            ),
        ] {
            assert_eq!(problem.to_string(), text);
        }
    }
}
