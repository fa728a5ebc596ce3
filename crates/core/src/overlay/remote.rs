//! Which `resources`, `bases` and `components` entries name something remote, which railyard
//! refuses (kustomize would clone or download it): the URL forms kustomize's repository spec
//! parser reads (`api/internal/git/repospec.go` at v5.5.0: a scheme, `git::`, scp-like
//! `user@host:path`, a `?ref=`/`?version=` query, or a well-known forge host).

/// Hosts kustomize reads as a repository even without a scheme (`github.com/org/repo`).
const FORGE_HOSTS: [&str; 3] = ["github.com/", "gitlab.com/", "bitbucket.org/"];

/// Whether `entry` names a remote base, component or file rather than a local path.
pub(super) fn is_remote(entry: &str) -> bool {
    let scp_like = entry
        .split_once(':')
        .is_some_and(|(user_host, _)| user_host.contains('@') && !user_host.contains('/'));
    entry.contains("://")
        || entry.starts_with("git::")
        || scp_like
        || entry.contains("?ref=")
        || entry.contains("?version=")
        || FORGE_HOSTS.iter().any(|host| entry.starts_with(host))
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_forms_are_told_from_local_paths() {
        for remote in [
            "https://github.com/org/repo//dir?ref=v1",
            "git@github.com:org/repo.git//dir",
            "git::https://example.com/repo.git",
            "github.com/org/repo/dir",
            "gitlab.com/org/repo",
            "example.com/org/repo?ref=main",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in ["../base", "app.yaml", "dir/with@sign/x.yaml", "a:b.yaml"] {
            assert!(!is_remote(local), "{local}");
        }
    }
}
