//! Helpers for the integration tests.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Golden `ok` cases stored as differences from a base case.
pub(crate) mod golden_layout;

/// A fake HTTP API served on loopback until dropped.
pub(crate) mod served;

/// The crate root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when `UPDATE_GOLDEN=1`: expected files are rewritten instead of compared.
pub(crate) fn updating() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

/// A `railyard` command with a clean, fixed environment.
pub(crate) fn railyard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_railyard"));
    command
        .env_remove("RAILYARD_FAILPOINT")
        .env("NO_COLOR", "1");
    command
}

pub(crate) fn run(command: &mut Command) -> Output {
    command.output().expect("railyard runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file below `dir`, by path relative to it, with its bytes.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let relative = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(relative, std::fs::read(&path).expect("readable"));
        }
    }
}

/// Copies a directory's files (not recursively into `expected/`) into `to`.
pub(crate) fn copy_inputs(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

/// Sorted subdirectories of `dir`.
pub(crate) fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    cases
}

/// Starts a command that stops at `failpoint`, waits until it is there, and SIGKILLs it.
pub(crate) fn kill_at(command: &mut Command, failpoint: &str) {
    let mut child = command
        .env("RAILYARD_FAILPOINT", failpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let reached =
        lines.any(|l| l.is_ok_and(|l| l.contains(&format!("failpoint {failpoint} reached"))));
    assert!(reached, "never reached failpoint `{failpoint}`");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}
