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
    /// A file the site names exists but cannot be read (permissions, a failing disk): an
    /// error of the machine, not of the site, so it stops the run instead of becoming a finding.
    #[error("cannot read `{path}`")]
    Input { path: PathBuf, source: io::Error },
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
    // Names are checked by the compiler (`..` and absolute paths are refused there); links can
    // only be checked here, against where the site directory really is.
    let home = Confined::new(&site_dir);
    for relative in compile::references(&site) {
        let loaded = home
            .read_text(&relative)?
            .map(|text| SourceFile::new(relative.clone(), text));
        files.insert(relative, loaded);
    }
    for dir in compile::overlay_dirs(&site) {
        if let Err(why) = home.real(&dir) {
            if why != "no such file" {
                files.insert(dir.clone(), Err(why));
            }
            continue;
        }
        let mut found = Vec::new();
        walk(&site_dir.join(&dir), &dir, &mut found);
        for (relative, link) in found {
            let loaded = match link {
                Found::File => home.read_text(&relative)?,
                Found::DirectoryLink => Err(
                    "is a symbolic link to a directory, which railyard does not follow in overlays"
                        .to_owned(),
                ),
            }
            .map(|text| SourceFile::new(relative.clone(), text));
            files.insert(relative, loaded);
        }
    }
    Ok(Loaded {
        inputs: Inputs { site, files },
        site_dir,
    })
}

/// The site's directory, as the place every input must really be in.
struct Confined {
    dir: PathBuf,
    /// `dir` with its links resolved; `None` when it cannot be resolved (then nothing reads).
    real: Option<PathBuf>,
}

impl Confined {
    fn new(dir: &Path) -> Confined {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        Confined {
            dir: dir.to_path_buf(),
            real: dir.canonicalize().ok(),
        }
    }

    /// Where `relative` really is, refused when a symbolic link takes it outside the directory.
    fn real(&self, relative: &str) -> Result<PathBuf, String> {
        let real = self
            .dir
            .join(relative)
            .canonicalize()
            .map_err(|e| describe(&e))?;
        match &self.real {
            Some(home) if real.starts_with(home) => Ok(real),
            _ => Err(format!(
                "is a symbolic link to `{}`, outside the site directory",
                real.display()
            )),
        }
    }

    /// The text of `relative`, or why the site cannot use it (a finding); an error of the
    /// machine (permission denied, a failing disk) is the outer error.
    fn read_text(&self, relative: &str) -> Result<Result<String, String>, LoadError> {
        let real = match self.real(relative) {
            Ok(real) => real,
            Err(why) => return Ok(Err(why)),
        };
        match read_text(&real) {
            Ok(text) => Ok(Ok(text)),
            Err(e) if is_finding(&e) => Ok(Err(describe(&e))),
            Err(source) => Err(LoadError::Input {
                path: self.dir.join(relative),
                source,
            }),
        }
    }
}

/// What the walk found: a file (perhaps through a link, checked when read), or a link to a
/// directory, which is not followed.
enum Found {
    File,
    DirectoryLink,
}

/// Every file below `dir`, as `prefix/relative` paths; symbolic links are reported, not
/// followed into directories (a loop would never end); unreadable directories are skipped (a
/// missing kustomization is then reported by the compiler at the site's line).
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Found)>) {
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
        let path = format!("{prefix}/{name}");
        if kind.is_dir() {
            walk(&entry.path(), &path, out);
        } else if kind.is_symlink() && entry.path().is_dir() {
            out.push((path, Found::DirectoryLink));
        } else if kind.is_file() || kind.is_symlink() {
            out.push((path, Found::File));
        }
    }
}

fn read_text(path: &Path) -> io::Result<String> {
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Whether a failed read is the site's problem (a missing file, a directory, not text) rather
/// than the machine's.
fn is_finding(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::InvalidData | io::ErrorKind::IsADirectory
    )
}

/// An IO error as a short lower-case phrase, without the OS error number.
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::InvalidData => "not UTF-8 text".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => error.to_string().to_lowercase(),
    }
}
