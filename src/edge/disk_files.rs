//! The overlay engine's view of the disk: read-only, below one root directory.
//!
//! The engine refuses paths that leave the root by name (`..`, absolute); here the same holds
//! for symbolic links, which only the disk can resolve: a file or directory whose real location
//! is outside the root reads as an error, so an overlay cannot smuggle `/etc/passwd` into a
//! generated Secret through a link.

use std::io;
use std::path::{Path, PathBuf};

use crate::core::load_problem::LoadProblem;
use crate::core::overlay::{Files, ReadError};
use crate::edge::load::{decode, describe, read_bounded};

pub struct DiskFiles {
    /// The root as given, joined to the engine's relative paths.
    root: PathBuf,
    /// The root with every link resolved, for the containment check.
    real_root: PathBuf,
}

impl DiskFiles {
    /// Files below `root`, which must exist.
    pub fn new(root: &Path) -> io::Result<DiskFiles> {
        Ok(DiskFiles {
            root: root.to_path_buf(),
            real_root: root.canonicalize()?,
        })
    }

    /// The real location of the engine's `path`, refused when a link takes it outside the root.
    fn resolve(&self, path: &str) -> Result<PathBuf, ReadError> {
        let joined = self.root.join(path);
        let real = joined
            .canonicalize()
            .map_err(|e| ReadError::Unreadable(describe(&e)))?;
        if real.starts_with(&self.real_root) {
            Ok(real)
        } else {
            Err(ReadError::LinkOutsideRoot(real))
        }
    }
}

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Result<String, ReadError> {
        // Where the text stops being UTF-8, found as the site loader finds it.
        decode(self.read_bytes(path)?).map_err(|problem| match problem {
            LoadProblem::NotUtf8 {
                at: Some((line, column)),
            } => ReadError::NotUtf8At { line, column },
            _ => ReadError::NotUtf8,
        })
    }

    fn read_bytes(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let real = self.resolve(path)?;
        read_bounded(&real).map_err(|e| ReadError::Unreadable(describe(&e)))
    }

    /// A directory that a link takes outside the root still answers true, so that reading
    /// its kustomization reports the link instead of a missing resource.
    fn is_dir(&self, path: &str) -> bool {
        self.root.join(path).is_dir()
    }

    fn is_file(&self, path: &str) -> bool {
        self.root.join(path).is_file()
    }

    /// kustomize's loader resolves links in both and compares (`RestrictionRootOnly`); a path
    /// that does not resolve is left to the read, which reports why.
    fn resolves_within(&self, path: &str, dir: &str) -> bool {
        match (
            self.root.join(path).canonicalize(),
            self.root.join(dir).canonicalize(),
        ) {
            (Ok(file), Ok(dir)) => file.starts_with(dir),
            _ => true,
        }
    }
}
