//! Scaleway's answers as errors: its `{"type","message",...}` bodies decoded (the arguments
//! `invalid_arguments` names, the quotas `quotas_exceeded` names), which of them are worth
//! another attempt, and which may hide a committed change.

use reqwest::Method;
use serde_json::Value as Json;

use crate::edge::retry::{ServerPause, Transient};

#[derive(Debug, thiserror::Error)]
pub enum ScalewayError {
    #[error("the Scaleway API refused `{request}`: {kind}: {message}")]
    Api {
        /// `METHOD path`.
        request: String,
        status: u16,
        /// Scaleway's `type` (`invalid_arguments`, `quotas_exceeded`, ...).
        kind: String,
        /// Its message, and the arguments or quotas at fault the body names.
        message: String,
        /// A 429's `Retry-After` in seconds.
        retry_after: Option<u64>,
    },
    #[error("cannot reach the Scaleway API for `{method} {path}`: {reason}")]
    Transport {
        method: String,
        path: String,
        reason: String,
    },
    #[error("the Scaleway API answered `{method} {path}` with something unexpected: {reason}")]
    Decode {
        method: String,
        path: String,
        reason: String,
    },
    #[error("`{path}` stays `{state}` instead of becoming `{want}`")]
    Stuck {
        path: String,
        state: String,
        want: String,
    },
    #[error("location `{0}` is not a Scaleway zone (`fr-par-1`, `nl-ams-1`, ...)")]
    Zone(String),
    #[error(
        "`--project` is not given and `{0}` is not set: the Scaleway project the site's resources belong to"
    )]
    NoProject(&'static str),
    #[error("the marketplace has no image `{label}` for `{machine_type}` in `{zone}`")]
    NoImage {
        label: String,
        machine_type: String,
        zone: String,
    },
    #[error("{what} `{name}` does not exist yet")]
    Missing { what: &'static str, name: String },
    #[error(
        "the user-data of `{name}` is {size} bytes; railyard keeps it under {limit} bytes, as on Hetzner"
    )]
    UserDataSize {
        name: String,
        size: usize,
        limit: usize,
    },
}

/// An error answer decoded; the body is Scaleway's own words, never railyard's request.
pub(super) fn from_answer(
    method: &Method,
    path: &str,
    status: u16,
    bytes: &[u8],
    retry_after: Option<u64>,
) -> ScalewayError {
    let body: Json = serde_json::from_slice(bytes).unwrap_or(Json::Null);
    let kind = body["type"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let message = body["message"].as_str().unwrap_or("no message").to_owned();
    ScalewayError::Api {
        request: format!("{method} {path}"),
        status,
        kind,
        message: format!("{message}{}", details(&body)),
        retry_after: retry_after.filter(|_| status == 429),
    }
}

/// `invalid_arguments`' arguments and `quotas_exceeded`' quotas, as one clause.
fn details(body: &Json) -> String {
    let parts: Vec<String> = body["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            if let Some(argument) = d["argument_name"].as_str() {
                let reason = d["reason"].as_str().unwrap_or("invalid");
                let help = d["help_message"].as_str().unwrap_or_default();
                Some(
                    format!("`{argument}` {reason} {help}")
                        .trim_end()
                        .to_owned(),
                )
            } else {
                d["resource"].as_str().map(|resource| {
                    format!(
                        "quota of `{resource}` is {}, {} in use",
                        d["quota"], d["current"]
                    )
                })
            }
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

impl Transient for ScalewayError {
    /// Worth sending again: 429, 5xx, a resource in a transient state, or no answer.
    fn is_transient(&self) -> bool {
        match self {
            ScalewayError::Transport { .. } => true,
            ScalewayError::Api { status, kind, .. } => {
                matches!(*status, 429 | 500 | 502 | 503 | 504) || kind == "transient_state"
            }
            _ => false,
        }
    }

    fn server_pause(&self) -> Option<ServerPause> {
        match self {
            ScalewayError::Api {
                retry_after: Some(seconds),
                ..
            } => Some(ServerPause::After(std::time::Duration::from_secs(*seconds))),
            _ => None,
        }
    }
}

impl ScalewayError {
    /// The request may have been carried out even though no answer came back.
    pub(super) fn may_have_committed(&self) -> bool {
        match self {
            ScalewayError::Transport { .. } => true,
            ScalewayError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub(super) fn is_not_found(&self) -> bool {
        matches!(self, ScalewayError::Api { status: 404, .. })
    }

    /// Scaleway's `type`, when it answered.
    pub(super) fn kind(&self) -> Option<&str> {
        match self {
            ScalewayError::Api { kind, .. } => Some(kind),
            _ => None,
        }
    }
}

/// Scaleway's errors reach bootstrap through the neutral seam in Scaleway's own words.
impl From<ScalewayError> for crate::edge::cloud::CloudError {
    fn from(error: ScalewayError) -> Self {
        crate::edge::cloud::CloudError::Api(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_arguments_and_quotas_at_fault() {
        let body = br#"{"type":"invalid_arguments","message":"invalid argument(s)","details":[{"argument_name":"rules.0.protocol","reason":"constraint","help_message":"TCP, UDP, ICMP or ANY"}]}"#;
        let e = from_answer(
            &Method::PUT,
            "/instance/v1/zones/fr-par-1/security_groups/x/rules",
            400,
            body,
            None,
        );
        assert_eq!(
            e.to_string(),
            "the Scaleway API refused `PUT /instance/v1/zones/fr-par-1/security_groups/x/rules`: invalid_arguments: invalid argument(s) (`rules.0.protocol` constraint TCP, UDP, ICMP or ANY)"
        );
        assert!(!e.is_transient());
        let body = br#"{"type":"quotas_exceeded","message":"quota(s) exceeded for this resource","details":[{"resource":"instances","quota":2,"current":2}]}"#;
        let e = from_answer(
            &Method::POST,
            "/instance/v1/zones/fr-par-1/servers",
            403,
            body,
            None,
        );
        assert!(
            e.to_string()
                .ends_with("(quota of `instances` is 2, 2 in use)"),
            "{e}"
        );
        assert!(!e.may_have_committed());
    }

    #[test]
    fn busy_limited_and_unanswered_requests_are_tried_again() {
        let busy = br#"{"type":"transient_state","message":"busy","resource":"instance_server","resource_id":"x","current_state":"starting"}"#;
        assert!(from_answer(&Method::POST, "/p", 409, busy, None).is_transient());
        let limited = from_answer(&Method::GET, "/p", 429, b"", Some(3));
        assert!(limited.is_transient());
        assert_eq!(
            limited.server_pause(),
            Some(ServerPause::After(std::time::Duration::from_secs(3)))
        );
        let gateway = from_answer(&Method::POST, "/p", 504, b"<html></html>", None);
        assert!(gateway.is_transient() && gateway.may_have_committed());
        assert!(gateway.to_string().contains("HTTP 504"), "{gateway}");
    }
}
