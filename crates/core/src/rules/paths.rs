//! User overlays: each a safe directory inside the site's, holding a readable kustomization.

use super::Rules;
use super::pointers::{OVERLAY, OVERLAYS, at};
use crate::limits::MAX_OVERLAYS;
use crate::load_problem::{LoadProblem, LoadedFiles};
use crate::values::path_key;

/// The names kustomize looks for in a directory, in its order.
const KUSTOMIZATION_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

impl Rules<'_> {
    pub(super) fn overlays(&mut self, files: &LoadedFiles) {
        let count = self.len(OVERLAYS);
        if count > MAX_OVERLAYS {
            self.error(
                &at(OVERLAY, MAX_OVERLAYS),
                format!("too many overlays ({count})"),
                format!("at most {MAX_OVERLAYS} overlay directories"),
                "combine overlays: one kustomization may list others as its resources",
            );
        }
        for i in 0..count.min(MAX_OVERLAYS) {
            let pointer = at(OVERLAY, i);
            if let Some(path) = self.str(&pointer).map(str::to_owned) {
                self.overlay(files, &pointer, &path);
            }
        }
    }

    fn overlay(&mut self, files: &LoadedFiles, pointer: &str, path: &str) {
        // looked up before the path is checked: an unsafe path was never loaded, so it
        // finds nothing here and is reported as unsafe below
        let dir = path_key(path);
        let kustomizations: Vec<(String, Result<(), &LoadProblem>)> = KUSTOMIZATION_NAMES
            .iter()
            .map(|name| format!("{dir}/{name}"))
            .filter_map(|path| {
                files
                    .get(&path)
                    .map(|file| (path, file.as_ref().map(|_| ())))
            })
            .collect();
        let has_kustomization = kustomizations.iter().any(|(_, file)| file.is_ok());
        let unreadable = kustomizations
            .iter()
            .find_map(|(path, file)| file.err().map(|why| (path, why)));
        if let (false, Some((file, why))) = (has_kustomization, unreadable) {
            self.error(
                pointer,
                format!("cannot read `{file}`: {why}"),
                "a readable kustomization.yaml",
                "railyard overlays are small hand-written kustomizations; check the file",
            );
        } else if let Some(Err(why)) = files.get(&dir) {
            let (expected, hint) = match why {
                LoadProblem::TooManyEntries { limit } => (
                    format!("at most {limit} files and directories below it"),
                    "keep only the overlay's own files in its directory",
                ),
                _ => (
                    "a directory inside the site's directory".to_owned(),
                    "copy the overlay into the site's directory; railyard reads nothing outside it",
                ),
            };
            self.error(
                pointer,
                format!("overlay directory `{path}` {why}"),
                expected,
                hint,
            );
        } else if self.safe_path(pointer, path).is_some() && !has_kustomization {
            self.error(
                pointer,
                format!("overlay directory `{path}` holds no kustomization.yaml"),
                "a directory beside the site file with a kustomization.yaml",
                "create it, or remove the entry; paths are relative to the site file",
            );
        }
    }
}
