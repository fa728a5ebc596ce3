//! Reads a site file and the files it names into `core::compile::Inputs`.
//!
//! Names are relative to the site file's directory, so the compiler's output does not depend
//! on where railyard was started from.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::core::compile::{self, Inputs};
use crate::core::diagnostic::{self, Diagnostic};
use crate::core::limits::{
    MAX_INPUT_BYTES, MAX_OVERLAY_ENTRIES, MAX_OVERLAYS, MAX_SITE_FILES, MAX_SITE_INPUT_BYTES,
};
use crate::core::load_problem::{LoadProblem, LoadedFiles};
use crate::core::source::{self, SourceFile};

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
    /// Why the site file itself cannot be compiled (larger than the limit, not UTF-8), at the
    /// place in it; when present, `inputs.site` holds what could be read of it, or nothing.
    pub problems: Vec<Diagnostic>,
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
    let (site, problems) = read_site(site_path, name)?;
    let site_dir = site_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut files = LoadedFiles::new();
    if problems.is_empty() {
        // Names are checked by the compiler (`..` and absolute paths are refused there); links
        // can only be checked here, against where the site directory really is.
        let mut home = Confined::new(&site_dir);
        home.budget.bytes = site.text.len();
        let named = compile::named(&site);
        read_references(&mut home, named.files, &mut files)?;
        read_overlays(&mut home, named.overlay_dirs, &mut files)?;
    }
    Ok(Loaded {
        inputs: Inputs { site, files },
        site_dir,
        problems,
    })
}

/// The site file, with why it cannot be compiled (too large: no text; not UTF-8: the text
/// before the first bad byte).
fn read_site(site_path: &Path, name: String) -> Result<(SourceFile, Vec<Diagnostic>), LoadError> {
    let mut problems = Vec::new();
    let text = match read_bounded(site_path) {
        Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
            problems.push(diagnostic::too_large(&name));
            String::new()
        }
        Err(source) => {
            return Err(LoadError::Site {
                path: site_path.to_owned(),
                source,
            });
        }
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|e| {
            let valid = e.utf8_error().valid_up_to();
            let valid = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
            problems.push(diagnostic::not_utf8(&name, &valid));
            valid
        }),
    };
    Ok((SourceFile::new(name, text), problems))
}

/// The files the site names (the secrets file, SSH key files), each once.
fn read_references(
    home: &mut Confined,
    references: Vec<String>,
    files: &mut LoadedFiles,
) -> Result<(), LoadError> {
    for relative in references {
        if files.contains_key(&relative) {
            continue;
        }
        let loaded = home
            .read_text(&relative)?
            .map(|text| SourceFile::new(relative.clone(), text));
        files.insert(relative, loaded);
    }
    Ok(())
}

/// Every file below each overlay directory; a directory that cannot be walked is entered with
/// the reason, under its own name.
fn read_overlays(
    home: &mut Confined,
    mut overlay_dirs: Vec<String>,
    files: &mut LoadedFiles,
) -> Result<(), LoadError> {
    // more are refused by the compiler; the same directory twice is read once
    overlay_dirs.truncate(MAX_OVERLAYS);
    overlay_dirs.sort();
    overlay_dirs.dedup();
    for dir in overlay_dirs {
        if let Err(why) = home.real(&dir) {
            // a missing directory is reported by the compiler as one without a kustomization
            if why != LoadProblem::Missing {
                files.insert(dir.clone(), Err(why));
            }
            continue;
        }
        let mut found = Vec::new();
        let mut room = MAX_OVERLAY_ENTRIES;
        if !walk(&home.dir.join(&dir), &dir, &mut found, &mut room) {
            let limit = MAX_OVERLAY_ENTRIES;
            files.insert(dir.clone(), Err(LoadProblem::TooManyEntries { limit }));
            continue;
        }
        for (relative, link) in found {
            let loaded = match link {
                Found::File => home.read_text(&relative)?,
                Found::DirectoryLink => Err(LoadProblem::DirectoryLink),
            }
            .map(|text| SourceFile::new(relative.clone(), text));
            files.insert(relative, loaded);
        }
    }
    Ok(())
}

/// What the edge has read for one site so far (see [`MAX_SITE_INPUT_BYTES`], [`MAX_SITE_FILES`]).
#[derive(Default)]
struct Budget {
    files: usize,
    bytes: usize,
}

/// A path with its links resolved, and the metadata of the file itself when that was read.
type Resolved = (PathBuf, Option<std::fs::Metadata>);

/// The site's directory, as the place every input must really be in.
struct Confined {
    dir: PathBuf,
    /// `dir` with its links resolved; `None` when it cannot be resolved (then nothing reads).
    real: Option<PathBuf>,
    budget: Budget,
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
            budget: Budget::default(),
        }
    }

    /// Where `relative` really is, refused when a symbolic link takes it outside the directory.
    fn real(&self, relative: &str) -> Result<PathBuf, LoadProblem> {
        self.real_with_metadata(relative).map(|(real, _)| real)
    }

    /// [`Confined::real`], with the file's metadata when resolving it looked at the file
    /// itself (no link on the way): the read then need not ask again.
    fn real_with_metadata(&self, relative: &str) -> Result<Resolved, LoadProblem> {
        let (real, metadata) = match self.plain_below_home(relative) {
            Some(found) => found?,
            None => {
                let real = self.dir.join(relative).canonicalize();
                (real.map_err(|e| problem(&e))?, None)
            }
        };
        match &self.real {
            Some(home) if real.starts_with(home) => Ok((real, metadata)),
            _ => Err(LoadProblem::LinkOutside {
                target: real.display().to_string(),
            }),
        }
    }

    /// Where `relative` is when none of its components is a link: the resolved directory
    /// joined with it, found with one `lstat` per component where resolving the whole path
    /// would read every component of the directory's path again. `None` when a component is a
    /// link or not a plain name, so that the caller resolves the path as the system does.
    fn plain_below_home(&self, relative: &str) -> Option<Result<Resolved, LoadProblem>> {
        let home = self.real.as_ref()?;
        let relative = Path::new(relative);
        if !relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        let mut path = home.clone();
        let mut last = None;
        for component in relative.components() {
            path.push(component);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => return None,
                Ok(meta) => last = Some(meta),
                Err(e) => return Some(Err(problem(&e))),
            }
        }
        Some(Ok((path, last)))
    }

    /// The text of `relative`, or why the site cannot use it (a finding); an error of the
    /// machine (permission denied, a failing disk) is the outer error.
    fn read_text(&mut self, relative: &str) -> Result<Result<String, LoadProblem>, LoadError> {
        let too_large = LoadProblem::InputsTooLarge {
            limit: MAX_SITE_INPUT_BYTES,
        };
        if self.budget.files >= MAX_SITE_FILES {
            return Ok(Err(LoadProblem::TooManyFiles {
                limit: MAX_SITE_FILES,
            }));
        }
        if self.budget.bytes > MAX_SITE_INPUT_BYTES {
            return Ok(Err(too_large));
        }
        self.budget.files += 1;
        let (real, metadata) = match self.real_with_metadata(relative) {
            Ok(found) => found,
            Err(why) => return Ok(Err(why)),
        };
        let read = match metadata {
            Some(metadata) => read_bounded_with(&real, metadata),
            None => read_bounded(&real),
        };
        match read.and_then(|bytes| {
            decode(bytes).map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))
        }) {
            Ok(text) => {
                self.budget.bytes += text.len();
                if self.budget.bytes > MAX_SITE_INPUT_BYTES {
                    return Ok(Err(too_large));
                }
                Ok(Ok(text))
            }
            Err(e) if is_finding(&e) => Ok(Err(problem(&e))),
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
/// missing kustomization is then reported by the compiler at the site's line). Stops, false,
/// when there are more than `room` files and directories.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Found)>, room: &mut usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    let mut listed = Vec::new();
    for entry in entries.flatten() {
        if *room == 0 {
            return false;
        }
        *room -= 1;
        listed.push(entry);
    }
    listed.sort_by_key(std::fs::DirEntry::file_name);
    for entry in listed {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = format!("{prefix}/{name}");
        if kind.is_dir() {
            if !walk(&entry.path(), &path, out, room) {
                return false;
            }
        } else if kind.is_symlink() && entry.path().is_dir() {
            out.push((path, Found::DirectoryLink));
        } else if kind.is_file() || kind.is_symlink() {
            out.push((path, Found::File));
        }
    }
    true
}

/// The bytes of a regular file, refused without reading it when it is larger than
/// [`MAX_INPUT_BYTES`] (`FileTooLarge`), or when it is not a regular file (`InvalidInput`: a
/// FIFO would block, a device would never end).
pub fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    read_bounded_with(path, std::fs::metadata(path)?)
}

/// [`read_bounded`] of a file whose metadata the caller has already read.
fn read_bounded_with(path: &Path, metadata: std::fs::Metadata) -> io::Result<Vec<u8>> {
    if metadata.is_dir() {
        return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            LoadProblem::NotRegular,
        ));
    }
    let too_large = || {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            LoadProblem::TooLarge {
                limit: MAX_INPUT_BYTES,
            },
        )
    };
    if metadata.len() > MAX_INPUT_BYTES as u64 {
        return Err(too_large());
    }
    // sized from the metadata, so that a file is read in one call rather than in doubling steps
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0) + 1);
    std::fs::File::open(path)?
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The text of a regular file of at most [`MAX_INPUT_BYTES`]; not UTF-8 is `InvalidData`.
pub fn read_text(path: &Path) -> io::Result<String> {
    decode(read_bounded(path)?).map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))
}

/// Bytes as text, or why not: `not UTF-8 text`, with the line and column of the first bad byte.
pub fn decode(bytes: Vec<u8>) -> Result<String, LoadProblem> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        LoadProblem::NotUtf8 {
            at: Some(source::line_col(&valid, valid.len())),
        }
    })
}

/// Whether a failed read is the site's problem (a missing file, a directory, not text) rather
/// than the machine's.
fn is_finding(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::InvalidData
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::FileTooLarge
            | io::ErrorKind::InvalidInput
    )
}

/// An IO error as a short lower-case phrase, without the OS error number.
pub fn describe(error: &io::Error) -> String {
    problem(error).to_string()
}

/// Why a read failed, as a load problem: railyard's own reasons (`read_bounded`, `read_text`)
/// are carried inside the error; the system's are named by their kind.
pub fn problem(error: &io::Error) -> LoadProblem {
    let inner = error.get_ref();
    if let Some(own) = inner.and_then(|e| e.downcast_ref::<LoadProblem>()) {
        return own.clone();
    }
    match error.kind() {
        io::ErrorKind::NotFound => LoadProblem::Missing,
        io::ErrorKind::PermissionDenied => LoadProblem::PermissionDenied,
        io::ErrorKind::InvalidData | io::ErrorKind::FileTooLarge | io::ErrorKind::InvalidInput
            if inner.is_some() =>
        {
            LoadProblem::Other(error.to_string())
        }
        io::ErrorKind::InvalidData => LoadProblem::NotUtf8 { at: None },
        io::ErrorKind::IsADirectory => LoadProblem::Directory,
        _ => LoadProblem::Other(error.to_string().to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_failures_become_typed_problems() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let missing = dir.path().join("missing.pub");
        let error = read_text(&missing).expect_err("no file");
        assert_eq!(problem(&error), LoadProblem::Missing);
        let error = read_text(dir.path()).expect_err("a directory");
        assert_eq!(problem(&error), LoadProblem::Directory);
        let bad = dir.path().join("bad.pub");
        std::fs::write(&bad, b"ok\n\xff").expect("written");
        let error = read_text(&bad).expect_err("not UTF-8");
        assert_eq!(problem(&error), LoadProblem::NotUtf8 { at: Some((2, 1)) });
        assert_eq!(describe(&error), "not UTF-8 text (line 2, column 1)");
        let large = dir.path().join("large.pub");
        std::fs::write(&large, vec![b'a'; MAX_INPUT_BYTES + 1]).expect("written");
        let error = read_text(&large).expect_err("too large");
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        let limit = MAX_INPUT_BYTES;
        assert_eq!(problem(&error), LoadProblem::TooLarge { limit });
    }

    #[test]
    fn a_crowded_overlay_directory_is_named_with_its_limit() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let overlay = dir.path().join("big");
        std::fs::create_dir(&overlay).expect("created");
        for i in 0..=MAX_OVERLAY_ENTRIES {
            std::fs::write(overlay.join(format!("f{i}")), "").expect("written");
        }
        let site = dir.path().join("site.yaml");
        std::fs::write(&site, "spec:\n  overlays: [big]\n").expect("written");
        let loaded = load(&site).expect("loads");
        let limit = MAX_OVERLAY_ENTRIES;
        assert_eq!(
            loaded.inputs.files.get("big"),
            Some(&Err(LoadProblem::TooManyEntries { limit }))
        );
    }
}
