//! A directory opened once, with files and directories made relative to it: the system walks
//! the directory's path once instead of for every file staged below it.

use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::{WriteError, io_error};

/// An open directory and its path, for messages.
pub(super) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl Dir {
    /// Opens the directory `path`, never through a symlink at its last component.
    pub(super) fn open(path: &Path) -> Result<Dir, WriteError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())
            .map_err(|e| io_error("open directory", path)(e.into()))?;
        Ok(Dir {
            fd,
            path: path.to_owned(),
        })
    }

    /// Makes the directory `relative`, whose parent exists.
    pub(super) fn make_dir(&self, relative: &str) -> Result<(), WriteError> {
        rustix::fs::mkdirat(&self.fd, relative, Mode::from_raw_mode(0o777))
            .map_err(|e| io_error("create directory", &self.path.join(relative))(e.into()))
    }

    /// Writes `bytes` as the new file `relative` (mode 0666 less the umask, as `fs::write`).
    pub(super) fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), WriteError> {
        let path = || self.path.join(relative);
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, relative, flags, Mode::from_raw_mode(0o666))
            .map_err(|e| io_error("write", &path())(e.into()))?;
        File::from(fd)
            .write_all(bytes)
            .map_err(|e| io_error("write", &path())(e))
    }
}
