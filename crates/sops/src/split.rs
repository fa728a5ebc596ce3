//! Moving entries of a decrypted file's `stringData` into a new file, line by line, so the
//! file they leave keeps its layout and comments. Values stay in the returned texts only.

use crate::document::{self, DocumentError, line_end};

/// The two plain texts a split makes.
pub struct Split {
    /// The original without the moved entries.
    pub kept: String,
    /// The header, then each moved entry in file order.
    pub moved: String,
    /// The keys moved, in file order.
    pub keys: Vec<String>,
}

/// Why a file cannot be split; messages name keys, never values.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(
        "the value of `{0}` is not on its key's line; move it by hand (`railyard secrets edit`)"
    )]
    NotOnItsLine(String),
}

/// `plaintext` without the top-level `stringData` entries named in `keys`, and `header`
/// (which ends with `stringData:` and a newline) followed by those entries. Each entry must be
/// one line (`key: value`), as every generated value is; anything else is refused rather than
/// guessed at.
pub fn split(plaintext: &str, keys: &[&str], header: &str) -> Result<Split, SplitError> {
    let parsed = document::parse(plaintext)?;
    let mut cuts = Vec::new();
    let mut moved = header.to_owned();
    let mut moved_keys = Vec::new();
    for leaf in &parsed.leaves {
        let [section, key] = leaf.path.as_slice() else {
            continue;
        };
        if section != "stringData" || !keys.contains(&key.as_str()) {
            continue;
        }
        let start = plaintext[..leaf.span.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = line_end(plaintext, leaf.span.end.max(leaf.span.start));
        let line = &plaintext[start..end];
        let before_value = &plaintext[start..leaf.span.start];
        let one_line = line.trim_end_matches('\n').lines().count() == 1;
        if !one_line || !before_value.trim_start().starts_with(key.as_str()) {
            return Err(SplitError::NotOnItsLine(key.clone()));
        }
        moved.push_str("    ");
        moved.push_str(line.trim_start().trim_end_matches('\n'));
        moved.push('\n');
        moved_keys.push(key.clone());
        cuts.push((start, end));
    }
    let mut kept = String::with_capacity(plaintext.len());
    let mut at = 0;
    for (start, end) in cuts {
        kept.push_str(&plaintext[at..start]);
        at = end;
    }
    kept.push_str(&plaintext[at..]);
    Ok(Split {
        kept,
        moved,
        keys: moved_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "kind: Secret\nstringData:\n";

    #[test]
    fn moves_the_named_entries_and_keeps_everything_else() {
        let text = "kind: Secret\nstringData:\n  # a comment\n  a: one\n  k3s_token: 'x y'\n  b: two\n  k3s_agent_token: z\n";
        let split = split(text, &["k3s_token", "k3s_agent_token"], HEADER).unwrap();
        assert_eq!(
            split.kept,
            "kind: Secret\nstringData:\n  # a comment\n  a: one\n  b: two\n"
        );
        assert_eq!(
            split.moved,
            "kind: Secret\nstringData:\n    k3s_token: 'x y'\n    k3s_agent_token: z\n"
        );
        assert_eq!(split.keys, ["k3s_token", "k3s_agent_token"]);
    }

    #[test]
    fn a_key_elsewhere_or_absent_is_left_alone() {
        let text = "metadata:\n  k3s_token: name\nstringData:\n  a: one\n";
        let split = split(text, &["k3s_token"], HEADER).unwrap();
        assert_eq!(split.kept, text);
        assert_eq!(split.moved, HEADER);
        assert!(split.keys.is_empty());
    }

    #[test]
    fn a_value_off_its_key_line_is_refused() {
        let text = "stringData:\n  k3s_token: |\n    line one\n    line two\n";
        assert!(matches!(
            split(text, &["k3s_token"], HEADER),
            Err(SplitError::NotOnItsLine(key)) if key == "k3s_token"
        ));
    }
}
