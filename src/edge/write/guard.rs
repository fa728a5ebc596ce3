//! Paths below an output directory for one site's render, each directory on the way checked
//! once: the writer reads, creates and moves through this, never through a symlink.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{WriteError, io_error};

/// Paths below an output directory, each directory on the way checked once per run: never a
/// symlink, and remembered when missing, so that a first render does not probe for thousands of
/// files that cannot exist yet.
pub(super) struct Guard<'a> {
    pub(super) out: &'a Path,
    /// Relative directory → whether it exists.
    dirs: std::collections::HashMap<String, bool>,
}

impl<'a> Guard<'a> {
    pub(super) fn new(out: &'a Path) -> Guard<'a> {
        Guard {
            out,
            dirs: std::collections::HashMap::new(),
        }
    }

    /// Whether the parent directories of `relative` exist; an error on a symlink among them.
    pub(super) fn parents_exist(&mut self, relative: &str) -> Result<bool, WriteError> {
        let mut end = 0;
        while let Some(slash) = relative[end..].find('/') {
            end += slash;
            let dir = &relative[..end];
            let exists = match self.dirs.get(dir) {
                Some(exists) => *exists,
                None => {
                    let path = self.out.join(dir);
                    let exists = match fs::symlink_metadata(&path) {
                        Ok(meta) if meta.file_type().is_symlink() => {
                            return Err(WriteError::Symlink(path));
                        }
                        Ok(meta) if !meta.is_dir() => {
                            let source = io::Error::from(io::ErrorKind::NotADirectory);
                            return Err(io_error("use as a directory", &path)(source));
                        }
                        Ok(_) => true,
                        Err(_) => false,
                    };
                    self.dirs.insert(dir.to_owned(), exists);
                    exists
                }
            };
            if !exists {
                return Ok(false);
            }
            end += 1;
        }
        Ok(true)
    }

    /// Whether the directory `relative` exists; an error on a symlink at or above it.
    pub(super) fn dir_exists(&mut self, relative: &str) -> Result<bool, WriteError> {
        self.parents_exist(&format!("{relative}/"))
    }

    /// Records that this run created the directory `relative`.
    pub(super) fn made(&mut self, relative: &str) {
        self.dirs.insert(relative.to_owned(), true);
    }

    /// The bytes at `relative`; NotFound without a syscall when its directory is missing. The
    /// file is opened with `O_NOFOLLOW`: a symlink fails the open itself, where checking first
    /// would cost a call for every file.
    pub(super) fn read(&mut self, relative: &str) -> Result<io::Result<Vec<u8>>, WriteError> {
        if !self.parents_exist(relative)? {
            return Ok(Err(io::ErrorKind::NotFound.into()));
        }
        let path = self.out.join(relative);
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path);
        let mut file = match opened {
            Ok(file) => file,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(WriteError::Symlink(path));
            }
            Err(e) => return Ok(Err(e)),
        };
        // Sized from the metadata and read through `Take`, which (unlike `File` itself) asks
        // the system for no size and position of its own.
        let read = file.metadata().and_then(|meta| {
            let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
            (&mut file).take(u64::MAX).read_to_end(&mut bytes)?;
            Ok(bytes)
        });
        Ok(read)
    }

    /// `out/relative` with its parent directories created, refusing symlinks on the way.
    pub(super) fn create_parents(&mut self, relative: &str) -> Result<PathBuf, WriteError> {
        if !self.parents_exist(relative)? {
            let target = self.out.join(relative);
            let parent = target.parent().unwrap_or(self.out);
            fs::create_dir_all(parent).map_err(io_error("create directory", parent))?;
            let mut end = 0;
            while let Some(slash) = relative[end..].find('/') {
                end += slash;
                self.dirs.insert(relative[..end].to_owned(), true);
                end += 1;
            }
        }
        let target = self.out.join(relative);
        if fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(WriteError::Symlink(target));
        }
        Ok(target)
    }
}
