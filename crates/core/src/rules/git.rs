//! The git repository Flux pulls from: a URL Flux accepts, a branch name, a safe path.

use super::Rules;
use super::pointers::{GIT_AUTH, GIT_BRANCH, GIT_PATH, GIT_PUBLIC, GIT_URL};
use crate::values::{GitScheme, GitUrl, GitUrlError};

/// Why Flux cannot use a git URL: the reason and a hint.
type Refusal = (&'static str, &'static str);

impl Rules<'_> {
    pub(super) fn git(&mut self) {
        if let Some(url) = self.str(GIT_URL).map(str::to_owned) {
            match flux_url(&url) {
                Ok(parsed) => self.git_credentials(&url, parsed.scheme),
                Err((why, hint)) => self.error(
                    GIT_URL,
                    format!("git URL `{url}` cannot be used by Flux: {why}"),
                    "`ssh://git@host/org/repo.git` or `https://host/org/repo.git`",
                    hint,
                ),
            }
        }
        if let Some(branch) = self.str(GIT_BRANCH) {
            if let Err(why) = branch_name(branch) {
                self.error(
                    GIT_BRANCH,
                    format!("`{branch}` is not a valid branch name: {why}"),
                    "a git branch name such as `main`",
                    "see `git check-ref-format --branch`",
                );
            }
        }
        if let Some(path) = self.str(GIT_PATH).map(str::to_owned) {
            self.safe_path(GIT_PATH, &path);
        }
    }
}

impl Rules<'_> {
    /// How Flux authenticates: an ssh URL with the deploy key bootstrap makes; an https URL
    /// with `auth` (exactly one kind) or as a public repository, never silently with nothing.
    fn git_credentials(&mut self, url: &str, scheme: GitScheme) {
        let auth = self.value(GIT_AUTH).cloned();
        let public = self.value(GIT_PUBLIC).and_then(serde_json::Value::as_bool);
        if scheme == GitScheme::Ssh {
            if auth.is_some() {
                self.error(
                    GIT_AUTH,
                    format!("`auth` is for https URLs, and `{url}` is ssh"),
                    "no `auth` with an `ssh://` URL",
                    "over ssh Flux uses the deploy key `railyard bootstrap` creates; remove `auth`, or use the repository's `https://` URL",
                );
            }
            if public == Some(true) {
                self.error(
                    GIT_PUBLIC,
                    format!("`public` is for https URLs, and `{url}` is ssh"),
                    "no `public` with an `ssh://` URL",
                    "Flux always needs a key over ssh; use the repository's `https://` URL to pull it without credentials",
                );
            }
            return;
        }
        match (&auth, public) {
            (None, Some(true)) => {}
            (None, _) => self.error(
                GIT_URL,
                format!("Flux cannot pull `{url}`: an https repository needs credentials or `public: true`"),
                "`spec.git.auth` (`basic` or `githubApp`) or `spec.git.public: true`",
                "add `auth: {basic: {username: {secretKey: KEY}, password: {secretKey: KEY}}}` under `spec.git` with a read-only token in the secrets file, or `public: true` when anyone may clone it",
            ),
            (Some(_), Some(true)) => self.error(
                GIT_PUBLIC,
                "a public repository takes no `auth`",
                "either `auth` or `public: true`",
                "remove one of them",
            ),
            (Some(auth), _) => {
                let kinds = ["basic", "githubApp"]
                    .iter()
                    .filter(|k| auth.get(**k).is_some())
                    .count();
                if kinds != 1 {
                    self.error(
                        GIT_AUTH,
                        "`auth` needs exactly one of `basic` and `githubApp`",
                        "`basic` or `githubApp`",
                        "`basic` for a user name and token, `githubApp` for a GitHub App installation",
                    );
                }
            }
        }
    }
}

const SCP_LIKE: Refusal = (
    "Flux does not accept the scp-like form `user@host:path`",
    "write it as `ssh://git@host/org/repo.git` (a `:` before the path becomes `/`)",
);

const SCHEME: Refusal = (
    "the scheme must be `ssh://` or `https://`",
    "Flux pulls over SSH (with a deploy key) or HTTPS",
);

/// A git URL as Flux's source controller takes it: `ssh://` with a user, or `https://`.
fn flux_url(url: &str) -> Result<GitUrl, Refusal> {
    // `user@host:path` is refused whatever follows: its fix is to rewrite the whole URL
    let scp_like_with_user = GitScheme::of(url) == Some(GitScheme::ScpLike) && url.contains('@');
    match GitUrl::parse(url) {
        _ if scp_like_with_user => Err(SCP_LIKE),
        Ok(parsed) if parsed.scheme == GitScheme::ScpLike => Err(SCHEME),
        Ok(parsed) if parsed.scheme == GitScheme::Ssh && parsed.user.is_none() => Err((
            "an ssh URL needs a user",
            "most git hosts use `ssh://git@host/org/repo.git`",
        )),
        Ok(parsed) => Ok(parsed),
        Err(GitUrlError::Scheme) => Err(SCHEME),
        Err(GitUrlError::HostOrPath) => Err((
            "it needs a host and a repository path",
            "e.g. `ssh://git@github.com/example/fleet.git`",
        )),
        Err(GitUrlError::Port) => Err((
            "the port is not a number",
            "e.g. `ssh://git@git.example.com:2222/org/repo.git`",
        )),
    }
}

fn branch_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name == "@" {
        return Err("it is empty");
    }
    if name.starts_with(['-', '/']) || name.ends_with(['/', '.']) || name.ends_with(".lock") {
        return Err("it cannot start with `-` or `/`, or end with `/`, `.` or `.lock`");
    }
    if name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.split('/').any(|p| p.starts_with('.'))
    {
        return Err("it cannot contain `..`, `//`, `@{` or a part starting with `.`");
    }
    if name
        .chars()
        .any(|c| c.is_control() || " ~^:?*[\\".contains(c))
    {
        return Err("it cannot contain spaces or any of `~^:?*[\\`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_tree::JsonTree;
    use crate::source::SourceFile;
    use crate::yaml;

    /// The YAML paths the git rules report for a `spec.git` block.
    fn reported(git: &str) -> Vec<String> {
        let file = SourceFile::new("site.yaml", format!("spec:\n  git:\n{git}"));
        let (documents, problems) = yaml::parse_stream(&file);
        assert!(problems.is_empty(), "{problems:?}");
        let tree = JsonTree::new("site.yaml", &documents[0]);
        let mut out = Vec::new();
        Rules {
            tree: &tree,
            out: &mut out,
            layout: super::super::SecretsLayout::Split,
        }
        .git();
        out.into_iter().map(|d| d.path).collect()
    }

    #[test]
    fn https_needs_exactly_one_way_in_and_ssh_takes_none() {
        let https = "    url: https://github.com/example/fleet.git\n";
        let ssh = "    url: ssh://git@github.com/example/fleet.git\n";
        let basic = "    auth:\n      basic:\n        username: {secretKey: u}\n        password: {secretKey: p}\n";
        let app = "    auth:\n      githubApp:\n        appID: 1\n        installationID: 2\n        privateKey: {secretKey: k}\n";
        let both = "    auth:\n      basic: {username: {secretKey: u}, password: {secretKey: p}}\n      githubApp: {appID: 1, installationID: 2, privateKey: {secretKey: k}}\n";
        for (git, paths) in [
            (format!("{https}{basic}"), vec![]),
            (format!("{https}{app}"), vec![]),
            (format!("{https}    public: true\n"), vec![]),
            (https.to_owned(), vec!["spec.git.url"]),
            (format!("{https}    public: false\n"), vec!["spec.git.url"]),
            (
                format!("{https}{basic}    public: true\n"),
                vec!["spec.git.public"],
            ),
            (format!("{https}{both}"), vec!["spec.git.auth"]),
            (format!("{https}    auth: {{}}\n"), vec!["spec.git.auth"]),
            (ssh.to_owned(), vec![]),
            (format!("{ssh}{basic}"), vec!["spec.git.auth"]),
            (format!("{ssh}    public: true\n"), vec!["spec.git.public"]),
        ] {
            assert_eq!(reported(&git), paths, "{git}");
        }
    }

    #[test]
    fn urls_flux_accepts() {
        for (url, ok) in [
            ("ssh://git@github.com/example/fleet.git", true),
            ("https://github.com/example/fleet.git", true),
            ("ssh://git@gitea.example.com:2222/ops/fleet.git", true),
            ("git@github.com:example/fleet.git", false),
            ("git@:", false),
            ("ssh://github.com/example/fleet.git", false),
            ("http://github.com/example/fleet.git", false),
            ("github.com:example/fleet.git", false),
            ("https://github.com", false),
        ] {
            assert_eq!(flux_url(url).is_ok(), ok, "{url}");
        }
        assert_eq!(flux_url("git@:").unwrap_err(), SCP_LIKE);
        assert_eq!(
            flux_url("github.com:example/fleet.git").unwrap_err(),
            SCHEME
        );
    }

    #[test]
    fn branches() {
        for (branch, ok) in [
            ("main", true),
            ("release/2026-11", true),
            ("a..b", false),
            ("-x", false),
            ("x.lock", false),
            ("a b", false),
            ("x/.y", false),
        ] {
            assert_eq!(branch_name(branch).is_ok(), ok, "{branch}");
        }
    }
}
