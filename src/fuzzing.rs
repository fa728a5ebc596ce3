//! Fuzzing entry points: bytes in, railyard's parsers and compilers run, any panic is a bug.
//!
//! The `cargo fuzz` targets in `fuzz/` call these, and `tests/fuzz_regressions.rs` replays every
//! crash found so far through them on stable. Each returns what it saw, so the replay test can
//! also check that a rejected input came back with a diagnostic that says where. Nothing here
//! reads the disk: every file an input may name is a fixed text compiled into this module.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::core::compile::{self, Inputs};
use crate::core::diagnostic::{self, Diagnostic};
use crate::core::load_problem::{LoadProblem, LoadedFiles};
use crate::core::overlay;
use crate::core::secrets_file;
use crate::core::source::SourceFile;
use crate::edge::load::Loaded;
use crate::edge::report;
use crate::sops;

/// The public example key of `examples/age.key`; never encrypt anything real to it.
pub const EXAMPLE_AGE_KEY: &str =
    "AGE-SECRET-KEY-1YQ922PF8TZYJ04NGDUF3SKAMEPAATG2YSN09A7M69KVDHPEJ2ZGQDVZFXV";

/// The files a fuzzed site may name, as if they sat beside it on disk: a secrets file with every
/// key the golden sites use and the machines' file beside it, one that is not encrypted, an SSH
/// key file, two user overlays, and a file that is not UTF-8. Any other name reads as a missing file.
const SITE_DIR: &[(&str, &[u8])] = &[
    (
        "secrets.sops.yaml",
        include_bytes!("../golden/err/domain-uppercase/secrets.sops.yaml"),
    ),
    (
        "machine-secrets.sops.yaml",
        include_bytes!("../golden/err/domain-uppercase/machine-secrets.sops.yaml"),
    ),
    (
        "plain.sops.yaml",
        include_bytes!("../golden/err/secrets-file-not-encrypted/secrets.sops.yaml"),
    ),
    (
        "keys/admin.pub",
        include_bytes!("../golden/ok/key-file-https-subpath-pins/keys/admin.pub"),
    ),
    (
        "overlays/tuning/kustomization.yaml",
        include_bytes!("../golden/ok/user-overlays/overlays/tuning/kustomization.yaml"),
    ),
    (
        "overlays/extras/kustomization.yaml",
        include_bytes!("../golden/ok/user-overlays/overlays/extras/kustomization.yaml"),
    ),
    (
        "overlays/extras/network-policy.yaml",
        include_bytes!("../golden/ok/user-overlays/overlays/extras/network-policy.yaml"),
    ),
    ("binary.sops.yaml", b"\xff\xfe not text"),
];

/// What one run saw: whether the input got as far as the code under test, and what came out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// False when the bytes were not UTF-8 (the targets take text).
    pub ran: bool,
    /// Every diagnostic the run produced (the site compiler's, or the overlay engine's).
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the input was accepted (a rendered tree, a decrypted file, a built overlay).
    pub accepted: bool,
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        diagnostic::has_errors(&self.diagnostics)
    }
}

/// Site text in, through `compile` and the helpers the edge calls before it.
pub fn site(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::default();
    };
    let site = SourceFile::new("site.yaml", text);
    let files = site_files(&site);
    let _ = compile::secrets_file(&site);
    let inputs = Inputs { site, files };
    let output = compile::compile(&inputs);
    // What `railyard check` prints: the site's lines quoted under each diagnostic, or JSON.
    let loaded = Loaded {
        inputs,
        site_dir: PathBuf::new(),
        problems: Vec::new(),
    };
    let _ = report::human(&output.diagnostics, &loaded, false);
    let _ = report::json(&output.diagnostics, &loaded);
    Outcome {
        ran: true,
        accepted: output.tree.is_some(),
        diagnostics: output.diagnostics,
    }
}

/// The secrets file a `v1alpha1` site finds instead: one file, the k3s tokens included.
const V1ALPHA1_SECRETS: &[u8] = include_bytes!("../golden/ok/minimal/secrets.sops.yaml");

/// The files `edge::load` would hand the compiler for this site, read from [`SITE_DIR`].
fn site_files(site: &SourceFile) -> LoadedFiles {
    let legacy = !compile::splits_secrets(site);
    let read = |path: &str| -> Result<SourceFile, LoadProblem> {
        let (_, bytes) = SITE_DIR
            .iter()
            .find(|(name, _)| *name == path)
            .ok_or(LoadProblem::Missing)?;
        let bytes = if legacy && path == "secrets.sops.yaml" {
            V1ALPHA1_SECRETS
        } else {
            bytes
        };
        let text = std::str::from_utf8(bytes).map_err(|_| LoadProblem::NotUtf8 { at: None })?;
        Ok(SourceFile::new(path, text))
    };
    let mut files = LoadedFiles::new();
    let named = compile::named(site);
    for relative in named.files {
        let loaded = read(&relative);
        files.insert(relative, loaded);
    }
    for dir in named.overlay_dirs {
        let prefix = format!("{dir}/");
        for (name, _) in SITE_DIR.iter().filter(|(n, _)| n.starts_with(&prefix)) {
            files.insert((*name).to_owned(), read(name));
        }
    }
    files
}

fn example_identity() -> &'static age::x25519::Identity {
    static IDENTITY: OnceLock<age::x25519::Identity> = OnceLock::new();
    IDENTITY.get_or_init(|| EXAMPLE_AGE_KEY.parse().expect("the example key parses"))
}

/// A secrets file's text in, through the SOPS document parser, decryption with the example
/// key, and the key-name reader the compiler uses.
pub fn sops(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::default();
    };
    let _ = sops::document::parse(text);
    let (_, diagnostics) = secrets_file::read(&SourceFile::new("secrets.sops.yaml", text));
    let decrypted = sops::file::decrypt(text, std::slice::from_ref(example_identity()));
    if let Ok(decrypted) = &decrypted {
        let _ = decrypted.values();
    }
    Outcome {
        ran: true,
        accepted: decrypted.is_ok(),
        diagnostics,
    }
}

/// The line that starts a new file in the overlay format: `=== PATH`.
pub const OVERLAY_SEPARATOR: &[u8] = b"=== ";

/// An overlay's files in one input, built with the overlay engine and printed.
///
/// The format: bytes up to the first line that starts with `=== ` are `kustomization.yaml`
/// (when there are any);
/// each `=== PATH` line starts the file `PATH` (normalised; a later file of the same path wins).
/// A file named `BUILD` names the directory to build, as in `tests/kustomize/`; else `.`.
pub fn overlay(data: &[u8]) -> Outcome {
    let files = overlay_files(data);
    let dir = match files.get("BUILD").map(|b| String::from_utf8_lossy(b)) {
        Some(dir) => overlay::normalize(dir.trim()),
        None => ".".to_owned(),
    };
    match overlay::build(&files, &dir) {
        Ok(built) => {
            let _ = overlay::print(&built.objects);
            Outcome {
                ran: true,
                accepted: true,
                diagnostics: Vec::new(),
            }
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                check_span(&files, d);
            }
            Outcome {
                ran: true,
                accepted: false,
                diagnostics,
            }
        }
    }
}

/// A diagnostic about a text file points inside it, at character boundaries, as the renderer
/// of `railyard overlay build` needs.
fn check_span(files: &BTreeMap<String, Vec<u8>>, d: &Diagnostic) {
    let Some(Ok(text)) = files.get(&d.file).map(|b| std::str::from_utf8(b)) else {
        return;
    };
    assert!(
        d.span.start <= d.span.end
            && text.is_char_boundary(d.span.start)
            && text.is_char_boundary(d.span.end),
        "diagnostic `{}` has span {:?} outside `{}` ({} bytes)",
        d.message,
        d.span,
        d.file,
        text.len()
    );
}

/// Splits an overlay input into files (see [`overlay`]).
pub fn overlay_files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    // `None` while in the bytes before the first `=== ` line.
    let mut name: Option<String> = None;
    let mut body: Vec<u8> = Vec::new();
    let mut flush = |name: Option<String>, body: Vec<u8>, last: bool| match name {
        Some(name) => {
            files.insert(name, body);
        }
        None if !body.is_empty() || last => {
            files.insert("kustomization.yaml".to_owned(), body);
        }
        None => {}
    };
    for line in data.split_inclusive(|b| *b == b'\n') {
        if let Some(header) = line.strip_prefix(OVERLAY_SEPARATOR) {
            flush(name.take(), std::mem::take(&mut body), false);
            let path = String::from_utf8_lossy(header);
            name = Some(overlay::normalize(path.trim_end_matches(['\n', '\r'])));
        } else {
            body.extend_from_slice(line);
        }
    }
    flush(name, body, true);
    files
}
