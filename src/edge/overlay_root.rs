//! The root `railyard overlay build DIR` reads below when `--root` is not given: the git work
//! tree that holds DIR (the nearest directory upwards with a `.git`, a directory or, in a
//! linked work tree or submodule, a file), else DIR's filesystem root. So a build works from
//! any working directory, as `kubectl kustomize DIR` does, and bases anywhere in the
//! repository are reachable; each kustomization's own files must still sit in or below its
//! directory (the engine's rule, kustomize's `LoadRestrictionsRootOnly`).

use std::path::{Path, PathBuf};

/// The default root for the real (link-resolved, absolute) directory `real_dir`.
pub fn default_root(real_dir: &Path) -> PathBuf {
    real_dir
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .or_else(|| real_dir.ancestors().last())
        .unwrap_or(real_dir)
        .to_path_buf()
}

/// A file the engine names below `root`, as a user reads it: relative to the working
/// directory when it is below it, else absolute.
pub fn shown(root: &Path, file: &str) -> String {
    let full = root.join(file);
    std::env::current_dir()
        .and_then(|cwd| cwd.canonicalize())
        .ok()
        .and_then(|cwd| full.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(full)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::default_root;
    use std::path::Path;

    #[test]
    fn the_nearest_git_work_tree_else_the_filesystem_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().canonicalize().expect("real");
        let deep = real.join("repo/apps/prod");
        std::fs::create_dir_all(&deep).expect("create");
        // no work tree inside: whatever holds the temporary directory (`/` outside git)
        let outside = default_root(&real);
        assert!(outside == Path::new("/") || real.starts_with(&outside));
        assert_eq!(default_root(&deep), outside);
        std::fs::create_dir_all(real.join("repo/.git")).expect("create");
        assert_eq!(default_root(&deep), real.join("repo"));
        // a linked work tree or a submodule has a `.git` file
        std::fs::write(
            real.join("repo/apps/.git"),
            "gitdir: ../.git/worktrees/apps\n",
        )
        .expect("write");
        assert_eq!(default_root(&deep), real.join("repo/apps"));
    }
}
