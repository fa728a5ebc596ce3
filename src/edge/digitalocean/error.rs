//! What can go wrong talking to the DigitalOcean API, and which of it is worth another try.
//! Messages never include a request body: the droplet create holds the filled user-data.

use crate::edge::retry::{ServerPause, Transient};

#[derive(Debug, thiserror::Error)]
pub enum DigitalOceanError {
    #[error("the DigitalOcean API refused `{method} {path}`: {id}: {message}")]
    Api {
        method: String,
        path: String,
        status: u16,
        /// The error body's `id` (`unprocessable_entity`, `too_many_requests`, ...).
        id: String,
        message: String,
        /// A 429's `retry-after` or `ratelimit-reset`.
        pause: Option<ServerPause>,
    },
    #[error("cannot reach the DigitalOcean API for `{method} {path}`: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the DigitalOcean API answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error("action `{kind}` (#{id}) ended `{status}`")]
    Action {
        id: u64,
        kind: String,
        status: String,
    },
    #[error("`{path}` did not become ready within 15 minutes")]
    Timeout { path: String },
}

impl Transient for DigitalOceanError {
    /// Worth sending again: the cloud may answer differently in a moment.
    fn is_transient(&self) -> bool {
        match self {
            DigitalOceanError::Transport { .. } => true,
            DigitalOceanError::Api { status, .. } => matches!(*status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    fn server_pause(&self) -> Option<ServerPause> {
        match self {
            DigitalOceanError::Api { pause, .. } => *pause,
            _ => None,
        }
    }
}

impl DigitalOceanError {
    /// Whether the request may have been carried out although it failed.
    pub(super) fn may_have_committed(&self) -> bool {
        match self {
            DigitalOceanError::Transport { .. } => true,
            DigitalOceanError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(super) fn status(&self) -> Option<u16> {
        match self {
            DigitalOceanError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// DigitalOcean's errors reach bootstrap through the neutral seam in its own words.
impl From<DigitalOceanError> for crate::edge::cloud::CloudError {
    fn from(error: DigitalOceanError) -> Self {
        crate::edge::cloud::CloudError::Api(Box::new(error))
    }
}
