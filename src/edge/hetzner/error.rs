//! What can go wrong talking to the Hetzner Cloud API, and which of it is worth another try.
//! Messages never include a request body: the create-server body holds the filled user-data.

use crate::edge::retry::{ServerPause, Transient};

#[derive(Debug, thiserror::Error)]
pub enum HetznerError {
    #[error("the Hetzner API refused `{method} {path}`: {code}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        code: String,
        message: String,
        /// A 429's `RateLimit-Reset` (Unix seconds).
        reset: Option<u64>,
    },
    #[error("cannot reach the Hetzner API for `{method} {path}`: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the Hetzner API answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error("action `{command}` (#{id}) failed: {code}: {message}")]
    Action {
        id: u64,
        command: String,
        code: String,
        message: String,
    },
    #[error(
        "{kind} `{name}` exists in the project without the site's label `{label}`; railyard will not adopt it: rename or delete it"
    )]
    NotOurs {
        kind: &'static str,
        name: String,
        label: String,
    },
}

impl Transient for HetznerError {
    /// Worth sending again: the cloud may answer differently in a moment.
    fn is_transient(&self) -> bool {
        match self {
            HetznerError::Transport { .. } => true,
            HetznerError::Api { status, code, .. } => {
                matches!(*status, 429 | 500 | 502 | 503 | 504)
                    || matches!(
                        code.as_str(),
                        "conflict" | "rate_limit_exceeded" | "locked" | "timeout" | "bad_gateway"
                    )
            }
            _ => false,
        }
    }

    fn server_pause(&self) -> Option<ServerPause> {
        match self {
            HetznerError::Api {
                reset: Some(unix_seconds),
                ..
            } => Some(ServerPause::Until {
                unix_seconds: *unix_seconds,
            }),
            _ => None,
        }
    }
}

impl HetznerError {
    /// The request may have been carried out even though no answer came back.
    pub(super) fn may_have_committed(&self) -> bool {
        match self {
            HetznerError::Transport { .. } => true,
            HetznerError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(super) fn code(&self) -> Option<&str> {
        match self {
            HetznerError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Hetzner's errors reach bootstrap through the neutral seam in Hetzner's own words.
impl From<HetznerError> for crate::edge::cloud::CloudError {
    fn from(error: HetznerError) -> Self {
        crate::edge::cloud::CloudError::Api(Box::new(error))
    }
}
