//! Azure's answers as errors: `{"error":{"code","message","details"}}` decoded, which of them
//! are worth another attempt, and the token endpoint's refusals (never with what was sent).

use serde_json::Value as Json;

use crate::edge::retry::{ServerPause, Transient};

#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    #[error("Azure Resource Manager refused `{request}`: {code}: {message}")]
    Api {
        /// `METHOD path`.
        request: String,
        status: u16,
        /// Azure's `code` (`ResourceNotFound`, `PropertyChangeNotAllowed`, ...).
        code: String,
        /// Its message, and the details' codes.
        message: String,
        /// A 429's `Retry-After` in seconds.
        retry_after: Option<u64>,
    },
    #[error("cannot reach Azure for `{method} {path}`: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("Azure answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the identity endpoint refused the service principal (HTTP {status}): {reason}")]
    Token { status: u16, reason: String },
    #[error("the operation on `{path}` ended `{status}`: {code}: {message}")]
    Failed {
        path: String,
        status: String,
        code: String,
        message: String,
    },
    #[error("`{path}` is still `{state}` after {seconds} s")]
    Stuck {
        path: String,
        state: String,
        seconds: u64,
    },
    #[error("`{0}` is not set: the service principal's {1}")]
    Missing(&'static str, &'static str),
    #[error("`machines.yaml` has no `azure` block: render the site again with this railyard")]
    NoBlock,
    #[error("Azure answered a link to `{0}`, outside the API railyard was given")]
    ForeignLink(String),
    #[error(
        "the user-data of `{name}` is {size} bytes; Azure's `customData` holds at most {limit}"
    )]
    UserDataSize {
        name: String,
        size: usize,
        limit: usize,
    },
}

impl AzureError {
    pub(super) fn code(&self) -> Option<&str> {
        match self {
            AzureError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub(super) fn is_not_found(&self) -> bool {
        matches!(self, AzureError::Api { status: 404, .. })
    }
}

/// An error answer decoded; the body is Azure's own words, never railyard's request.
pub(super) fn from_answer(
    request: String,
    status: u16,
    bytes: &[u8],
    retry_after: Option<u64>,
) -> AzureError {
    let body: Json = serde_json::from_slice(bytes).unwrap_or(Json::Null);
    let error = &body["error"];
    let code = error["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = error["message"].as_str().unwrap_or("no message").to_owned();
    let details: Vec<&str> = error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    let message = if details.is_empty() {
        message
    } else {
        format!("{message} ({})", details.join(", "))
    };
    AzureError::Api {
        request,
        status,
        code,
        message,
        retry_after: retry_after.filter(|_| status == 429),
    }
}

impl Transient for AzureError {
    /// Worth sending again: throttling, 5xx, an expired token (fetched anew), another
    /// operation still running on the resource, or no answer.
    fn is_transient(&self) -> bool {
        match self {
            AzureError::Transport { .. } => true,
            // No answer from the identity endpoint, or a busy one; a refusal stays one.
            AzureError::Token { status, .. } => matches!(*status, 0 | 429 | 500..=599),
            AzureError::Api { status, code, .. } => {
                matches!(*status, 429 | 500 | 502 | 503 | 504)
                    || code == "ExpiredAuthenticationToken"
                    || code == "RetryableErrorDueToAnotherOperation"
            }
            _ => false,
        }
    }

    fn server_pause(&self) -> Option<ServerPause> {
        match self {
            AzureError::Api {
                retry_after: Some(s),
                ..
            } => Some(ServerPause::After(std::time::Duration::from_secs(*s))),
            _ => None,
        }
    }
}
