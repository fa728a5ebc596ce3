//! What every cloud client reads off an HTTP exchange the same way: a numeric header, and a
//! transport error as its chain of causes without the URL (whose query may carry values).

/// A response header as a number (`ratelimit-reset`, `retry-after`, ...).
pub fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A transport error for messages: what failed, down to its cause, never the URL.
pub fn transport_reason(error: reqwest::Error) -> String {
    cause_chain(&error.without_url())
}

/// An error and its sources, joined by `: `.
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        reason = format!("{reason}: {cause}");
        source = cause.source();
    }
    reason
}
