//! Finds age identities as the `sops` CLI does: `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, then
//! `$XDG_CONFIG_HOME/sops/age/keys.txt` (or `~/.config/sops/age/keys.txt`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no age identity: set `SOPS_AGE_KEY_FILE` or `SOPS_AGE_KEY`, or put one in `{0}`")]
    None(String),
    #[error("cannot read age identities from `{path}`")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{0}` holds a line that is not an age identity")]
    Invalid(String),
}

fn default_file() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_default();
    config.join("sops/age/keys.txt")
}

fn parse(text: &str, origin: &str) -> Result<Vec<age::x25519::Identity>, KeyError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.parse::<age::x25519::Identity>()
                .map_err(|_| KeyError::Invalid(origin.to_owned()))
        })
        .collect()
}

/// Every identity the environment offers, in sops' order.
pub fn load() -> Result<Vec<age::x25519::Identity>, KeyError> {
    let mut identities = Vec::new();
    if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
        identities.extend(parse(&text, "SOPS_AGE_KEY")?);
    }
    let files = match std::env::var_os("SOPS_AGE_KEY_FILE") {
        Some(path) => vec![PathBuf::from(path)],
        None => vec![default_file()],
    };
    for path in files {
        match std::fs::read_to_string(&path) {
            Ok(text) => identities.extend(parse(&text, &path.display().to_string())?),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && std::env::var_os("SOPS_AGE_KEY_FILE").is_none() => {}
            Err(source) => return Err(KeyError::Read { path, source }),
        }
    }
    if identities.is_empty() {
        return Err(KeyError::None(default_file().display().to_string()));
    }
    Ok(identities)
}
