//! Git remote URLs: `ssh://[user@]host[:port]/path`, `https://[user@]host[:port]/path`, and
//! git's scp-like `[user@]host:path`.
//!
//! The grammar is the general one; what Flux accepts of it (no scp-like form, a user in
//! `ssh://`) is the git rule's business, and `app::flux` reads the host to scan from here.

/// How the URL is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GitScheme {
    Ssh,
    Https,
    /// `[user@]host:path`, without a scheme.
    ScpLike,
}

/// A parsed git URL: a host (never empty) and a repository path (never only slashes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GitUrl {
    pub scheme: GitScheme,
    pub user: Option<String>,
    pub host: String,
    /// The port written in the URL; `None` means the scheme's default.
    pub port: Option<u16>,
    /// The repository path after the host, without the separating `/` or `:`.
    pub path: String,
}

/// Why a text is not a [`GitUrl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GitUrlError {
    #[error("the scheme must be `ssh://` or `https://`")]
    Scheme,
    #[error("it needs a host and a repository path")]
    HostOrPath,
    #[error("the port is not a number")]
    Port,
}

impl GitScheme {
    /// The form a URL is written in, from its beginning alone; `None` for another scheme
    /// (`http://`, `git://`, `file://`) or a text with neither scheme nor `:`.
    pub fn of(url: &str) -> Option<GitScheme> {
        if url.starts_with("ssh://") {
            Some(GitScheme::Ssh)
        } else if url.starts_with("https://") {
            Some(GitScheme::Https)
        } else if !url.contains("://") && url.contains(':') {
            Some(GitScheme::ScpLike)
        } else {
            None
        }
    }
}

impl GitUrl {
    pub fn parse(url: &str) -> Result<GitUrl, GitUrlError> {
        let scheme = GitScheme::of(url).ok_or(GitUrlError::Scheme)?;
        if url.contains(char::is_whitespace) {
            return Err(GitUrlError::HostOrPath);
        }
        let (user_host, port, path) = match scheme {
            GitScheme::Ssh | GitScheme::Https => {
                let rest = &url[url.find("://").unwrap_or_default() + 3..];
                let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
                let (user_host, port) = match authority.rsplit_once(':') {
                    // a `:` in a user's password or in an IPv6 literal is not a port's
                    Some((user_host, port)) if !port.contains(['@', ']']) => (
                        user_host,
                        Some(port.parse().map_err(|_| GitUrlError::Port)?),
                    ),
                    _ => (authority, None),
                };
                (user_host, port, path)
            }
            GitScheme::ScpLike => {
                let (user_host, path) = url.split_once(':').unwrap_or((url, ""));
                (user_host, None, path)
            }
        };
        let (user, host) = match user_host.rsplit_once('@') {
            Some((user, host)) => (Some(user.to_owned()), host),
            None => (None, user_host),
        };
        if host.is_empty() || path.trim_matches('/').is_empty() {
            return Err(GitUrlError::HostOrPath);
        }
        Ok(GitUrl {
            scheme,
            user,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The host and port an SSH client connects to; `None` for HTTPS.
    pub fn ssh_address(&self) -> Option<(&str, u16)> {
        match self.scheme {
            GitScheme::Https => None,
            GitScheme::Ssh | GitScheme::ScpLike => Some((&self.host, self.port.unwrap_or(22))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL and what it parses into: scheme, user, host, port, path.
    type Form = (
        &'static str,
        GitScheme,
        Option<&'static str>,
        &'static str,
        Option<u16>,
        &'static str,
    );

    fn check(cases: &[Form]) {
        for (url, scheme, user, host, port, path) in cases {
            let parsed = GitUrl::parse(url).expect(url);
            assert_eq!(parsed.scheme, *scheme, "{url}");
            assert_eq!(parsed.user.as_deref(), *user, "{url}");
            assert_eq!(
                (parsed.host.as_str(), parsed.port, parsed.path.as_str()),
                (*host, *port, *path),
                "{url}"
            );
        }
    }

    #[test]
    fn ssh_forms() {
        let git = Some("git");
        check(&[
            (
                "ssh://git@github.com/example/fleet.git",
                GitScheme::Ssh,
                git,
                "github.com",
                None,
                "example/fleet.git",
            ),
            (
                "ssh://git@gitea.example.com:2222/ops/fleet.git",
                GitScheme::Ssh,
                git,
                "gitea.example.com",
                Some(2222),
                "ops/fleet.git",
            ),
            (
                "ssh://github.com/x",
                GitScheme::Ssh,
                None,
                "github.com",
                None,
                "x",
            ),
            (
                "ssh://git@[2001:db8::1]/fleet.git",
                GitScheme::Ssh,
                git,
                "[2001:db8::1]",
                None,
                "fleet.git",
            ),
            (
                "ssh://git@[2001:db8::1]:2222/fleet.git",
                GitScheme::Ssh,
                git,
                "[2001:db8::1]",
                Some(2222),
                "fleet.git",
            ),
        ]);
    }

    #[test]
    fn https_and_scp_like_forms() {
        check(&[
            (
                "https://github.com/example/fleet.git",
                GitScheme::Https,
                None,
                "github.com",
                None,
                "example/fleet.git",
            ),
            (
                "https://token@git.example.com:8443/fleet",
                GitScheme::Https,
                Some("token"),
                "git.example.com",
                Some(8443),
                "fleet",
            ),
            (
                "git@gitlab.com:group/fleet.git",
                GitScheme::ScpLike,
                Some("git"),
                "gitlab.com",
                None,
                "group/fleet.git",
            ),
            (
                "gitlab.com:group/fleet.git",
                GitScheme::ScpLike,
                None,
                "gitlab.com",
                None,
                "group/fleet.git",
            ),
        ]);
    }

    #[test]
    fn refusals() {
        for (url, why) in [
            ("http://github.com/example/fleet.git", GitUrlError::Scheme),
            ("git://github.com/example/fleet.git", GitUrlError::Scheme),
            ("github.com/example/fleet.git", GitUrlError::Scheme),
            ("https://github.com", GitUrlError::HostOrPath),
            ("https://github.com//", GitUrlError::HostOrPath),
            ("ssh://git@/fleet.git", GitUrlError::HostOrPath),
            ("ssh://git@host/a b", GitUrlError::HostOrPath),
            ("git@:fleet.git", GitUrlError::HostOrPath),
            ("ssh://git@host:ssh/fleet.git", GitUrlError::Port),
            ("ssh://git@host:70000/fleet.git", GitUrlError::Port),
        ] {
            assert_eq!(GitUrl::parse(url), Err(why), "{url}");
        }
    }

    #[test]
    fn ssh_addresses() {
        for (url, expected) in [
            (
                "ssh://git@github.com/example/fleet.git",
                Some(("github.com", 22)),
            ),
            (
                "ssh://git@git.example.com:2222/fleet.git",
                Some(("git.example.com", 2222)),
            ),
            ("git@gitlab.com:group/fleet.git", Some(("gitlab.com", 22))),
            ("https://github.com/example/fleet.git", None),
        ] {
            let parsed = GitUrl::parse(url).expect(url);
            assert_eq!(parsed.ssh_address(), expected, "{url}");
        }
    }
}
