//! Site-relative paths: the path-safety rule and the key a file is loaded under.
//!
//! This is not the overlay engine's `overlay::normalize`, which resolves `..` the way
//! kustomize does for paths inside overlays; a [`RelativePath`] has no `..` to resolve, so
//! its key only drops empty and `.` segments.

/// A path below the site file's directory: not empty, not absolute, no `..`, no backslash or
/// NUL; with its key, the spelling every reader of the loaded files looks it up by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelativePath {
    text: String,
    key: String,
}

/// Why a path is not a [`RelativePath`]; shown after "path `x` ".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelativePathError {
    #[error("is empty")]
    Empty,
    #[error("is absolute")]
    Absolute,
    #[error("leaves the site directory (`..`)")]
    Climbs,
    #[error("contains a backslash or NUL")]
    Backslash,
}

impl RelativePath {
    pub fn parse(path: &str) -> Result<RelativePath, RelativePathError> {
        if path.is_empty() {
            Err(RelativePathError::Empty)
        } else if path.starts_with('/') || path.starts_with('\\') || path.get(1..3) == Some(":\\") {
            Err(RelativePathError::Absolute)
        } else if path.split(['/', '\\']).any(|p| p == "..") {
            Err(RelativePathError::Climbs)
        } else if path.contains(['\0', '\\']) {
            Err(RelativePathError::Backslash)
        } else {
            Ok(RelativePath {
                text: path.to_owned(),
                key: path_key(path),
            })
        }
    }

    /// The path as the site spells it, for messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name the edge loads the file under (see [`path_key`]).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// `./a/b`, `a//b` and `a/b` name the same file: the path without empty and `.` segments.
/// `..` is kept as it is: callers pass paths that [`RelativePath::parse`] accepts, or that
/// are only looked up (a path with `..` is never loaded, so it finds nothing).
pub fn path_key(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        for (path, expected) in [
            ("secrets.sops.yaml", Ok("secrets.sops.yaml")),
            ("./keys//admin.pub", Ok("keys/admin.pub")),
            ("keys/./admin.pub", Ok("keys/admin.pub")),
            ("../x", Err(RelativePathError::Climbs)),
            ("a/../../b", Err(RelativePathError::Climbs)),
            ("a\\..\\b", Err(RelativePathError::Climbs)),
            ("/etc/passwd", Err(RelativePathError::Absolute)),
            ("\\x", Err(RelativePathError::Absolute)),
            ("c:\\x", Err(RelativePathError::Absolute)),
            ("a\\b", Err(RelativePathError::Backslash)),
            ("a\0b", Err(RelativePathError::Backslash)),
            ("", Err(RelativePathError::Empty)),
        ] {
            let parsed = RelativePath::parse(path);
            assert_eq!(
                parsed.as_ref().map(RelativePath::key).map_err(|e| *e),
                expected,
                "{path:?}"
            );
            if let Ok(parsed) = parsed {
                assert_eq!(parsed.as_str(), path);
            }
        }
    }

    #[test]
    fn keys_drop_only_empty_and_dot_segments() {
        assert_eq!(path_key("./a/./b/"), "a/b");
        assert_eq!(path_key("."), "");
        assert_eq!(path_key("a/../b"), "a/../b");
    }
}
