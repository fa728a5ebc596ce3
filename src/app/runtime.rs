//! What the cloud and cluster commands share to run: the async runtime, and the waits that
//! tests shorten through the environment.

use std::time::Duration;

use anyhow::{Context, Result};

/// A duration in milliseconds from the environment: the test hooks `RAILYARD_RETRY_BASE_MS` and
/// `RAILYARD_POLL_MS`, which shorten waits and change nothing else.
pub(super) fn millis(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
}

/// One multi-threaded runtime per command, shared by the cloud and the cluster clients.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
