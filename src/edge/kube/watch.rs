//! Waiting on the cluster by watching it: kube's watcher lists a kind once, then follows its
//! changes from that list's `resourceVersion` (bookmarks on, a lost or expired watch listed
//! again), and after every complete view of the objects the caller's pure check (railyard's
//! kstatus rules) says whether the wait is over.
//!
//! A failed list or watch is not the end of the wait: the watcher starts that step again on
//! the next poll, after the shared policy's backoff (growing with the failures in a row, the
//! server's `retryAfterSeconds` first), until the deadline. Only a failure no retry can mend
//! (credentials, an answer that does not decode) ends it early.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::StreamExt as _;
use kube::api::DynamicObject;
use kube::runtime::watcher::{self, Event};
use serde_json::Value as Json;

use super::{Kube, KubeError, READ_TIMEOUT, failed, with_type};
use crate::bootstrap::cluster::ApiKind;
use crate::edge::retry::Transient as _;

/// How long the server keeps one watch open (`timeoutSeconds`): below the client's read
/// timeout, since a quiet watch may send nothing until it ends.
const WATCH_SECONDS: u32 = 25;

/// Why a watch ended without the wait being over.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("gave up waiting for {what}; last: {last}")]
    Deadline { what: String, last: String },
    #[error(transparent)]
    Kube(#[from] KubeError),
}

/// The objects seen so far, by namespace and name, and the next list's while it is read.
#[derive(Default)]
struct View {
    objects: BTreeMap<(String, String), Json>,
    listing: Option<BTreeMap<(String, String), Json>>,
}

impl View {
    /// Takes in one event; true when the view is complete and changed.
    fn take(&mut self, kind: &ApiKind, event: Event<DynamicObject>) -> bool {
        let entry = |object: DynamicObject| {
            let key = (
                object.metadata.namespace.clone().unwrap_or_default(),
                object.metadata.name.clone().unwrap_or_default(),
            );
            (key, with_type(kind, object))
        };
        match event {
            Event::Init => {
                self.listing = Some(BTreeMap::new());
                false
            }
            Event::InitApply(object) => {
                let (key, json) = entry(object);
                self.listing.get_or_insert_default().insert(key, json);
                false
            }
            Event::InitDone => {
                // Objects the new list left out were deleted meanwhile.
                self.objects = self.listing.take().unwrap_or_default();
                true
            }
            Event::Apply(object) => {
                let (key, json) = entry(object);
                self.objects.insert(key, json);
                true
            }
            Event::Delete(object) => {
                let (key, _) = entry(object);
                self.objects.remove(&key);
                true
            }
        }
    }
}

const _: () = assert!((WATCH_SECONDS as u64) < READ_TIMEOUT.as_secs());

impl Kube {
    /// Watches every object of `kind` across namespaces until `done`, shown each complete view
    /// (the first list, then each change), returns `Some`; `what` names the wait in errors.
    pub async fn watch_until<T>(
        &self,
        kind: &ApiKind,
        what: &str,
        deadline: Instant,
        mut done: impl FnMut(&[Json]) -> Option<T>,
    ) -> Result<T, WatchError> {
        let deadline = tokio::time::Instant::from_std(deadline);
        // The server ends each watch before the client's read timeout could, and kube watches
        // again from the last resourceVersion it saw.
        let config = watcher::Config::default().timeout(WATCH_SECONDS);
        let mut events = std::pin::pin!(watcher::watcher(self.api(kind, None), config));
        let mut view = View::default();
        let mut failures = 0;
        let mut last = String::from("no answer yet");
        let operation = format!("watch `{}`", kind.plural);
        loop {
            let next = tokio::time::timeout_at(deadline, events.next()).await;
            let Ok(Some(event)) = next else {
                return Err(WatchError::Deadline {
                    what: what.to_owned(),
                    last,
                });
            };
            match event {
                Ok(event) => {
                    failures = 0;
                    if view.take(kind, event) {
                        let objects: Vec<Json> = view.objects.values().cloned().collect();
                        if let Some(value) = done(&objects) {
                            return Ok(value);
                        }
                        last = String::from("not yet");
                    }
                }
                Err(error) => {
                    let error = self.watch_failed(&operation, error);
                    if !error.is_network() {
                        return Err(error.into());
                    }
                    let delay = match error.server_pause() {
                        Some(pause) => self.retry.pause_length(Some(pause)),
                        None => self.retry.backoff(failures),
                    };
                    last = error.to_string();
                    failures = (failures + 1).min(self.retry.policy.attempts);
                    tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + delay))
                        .await;
                }
            }
        }
    }

    fn watch_failed(&self, what: &str, error: watcher::Error) -> KubeError {
        match error {
            watcher::Error::InitialListFailed(e)
            | watcher::Error::WatchStartFailed(e)
            | watcher::Error::WatchFailed(e) => failed(&self.server, what, e),
            watcher::Error::WatchError(status) => {
                failed(&self.server, what, kube::Error::Api(status))
            }
            watcher::Error::NoResourceVersion => KubeError::Decode {
                what: what.to_owned(),
                reason: "no `metadata.resourceVersion` in the answer".to_owned(),
            },
        }
    }
}
