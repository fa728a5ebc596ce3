//! Reads a site file and the files it names into `core::compile::Inputs`.
//!
//! Names are relative to the site file's directory, so the compiler's output does not depend
//! on where railyard was started from.

use std::io;
use std::path::{Path, PathBuf};

use crate::core::compile::{self, Inputs};
use crate::core::rules::LoadedFiles;
use crate::core::source::SourceFile;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read site file `{path}`")]
    Site { path: PathBuf, source: io::Error },
    #[error("site file `{0}` has no file name")]
    NoFileName(PathBuf),
}

/// The loaded inputs and where the site lives, for showing file names to the user.
pub struct Loaded {
    pub inputs: Inputs,
    /// The site file's directory as the user gave it (`examples/hetzner-small`, or ``).
    pub site_dir: PathBuf,
}

impl Loaded {
    /// The name a user recognises for a compiler file name (`examples/x/site.yaml`).
    pub fn display_name(&self, name: &str) -> String {
        self.site_dir.join(name).display().to_string()
    }
}

pub fn load(site_path: &Path) -> Result<Loaded, LoadError> {
    let name = site_path
        .file_name()
        .ok_or_else(|| LoadError::NoFileName(site_path.to_owned()))?
        .to_string_lossy()
        .into_owned();
    let text = read_text(site_path).map_err(|source| LoadError::Site {
        path: site_path.to_owned(),
        source,
    })?;
    let site = SourceFile::new(name, text);
    let site_dir = site_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = LoadedFiles::new();
    for relative in compile::references(&site) {
        let path = site_dir.join(&relative);
        let loaded = read_text(&path)
            .map(|text| SourceFile::new(relative.clone(), text))
            .map_err(|e| describe(&e));
        files.insert(relative, loaded);
    }
    for dir in compile::overlay_dirs(&site) {
        let mut found = Vec::new();
        walk(&site_dir.join(&dir), &dir, &mut found);
        for relative in found {
            let loaded = read_text(&site_dir.join(&relative))
                .map(|text| SourceFile::new(relative.clone(), text))
                .map_err(|e| describe(&e));
            files.insert(relative, loaded);
        }
    }
    Ok(Loaded {
        inputs: Inputs { site, files },
        site_dir,
    })
}

/// Every regular file below `dir`, as `prefix/relative` paths; unreadable directories are
/// skipped (a missing kustomization is then reported by the compiler at the site's line).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&entry.path(), &format!("{prefix}/{name}"), out);
        } else if kind.is_file() {
            out.push(format!("{prefix}/{name}"));
        }
    }
}

fn read_text(path: &Path) -> io::Result<String> {
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// An IO error as a short lower-case phrase, without the OS error number.
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::InvalidData => "not UTF-8 text".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => error.to_string().to_lowercase(),
    }
}
