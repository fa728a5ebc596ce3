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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::cluster::KUSTOMIZATION;

    fn object(name: &str, revision: &str) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "status": {"lastAppliedRevision": revision},
        }))
        .expect("a dynamic object")
    }

    fn names(view: &View) -> Vec<(String, String)> {
        view.objects
            .values()
            .map(|o| {
                let text = |v: &Json| v.as_str().unwrap_or_default().to_owned();
                (
                    text(&o["metadata"]["name"]),
                    text(&o["status"]["lastAppliedRevision"]),
                )
            })
            .collect()
    }

    #[test]
    fn a_view_is_complete_after_each_list_and_follows_changes() {
        let mut view = View::default();
        assert!(!view.take(&KUSTOMIZATION, Event::Init));
        assert!(!view.take(&KUSTOMIZATION, Event::InitApply(object("a", "1"))));
        assert!(!view.take(&KUSTOMIZATION, Event::InitApply(object("b", "1"))));
        assert!(view.objects.is_empty(), "a list half read is no view");
        assert!(view.take(&KUSTOMIZATION, Event::InitDone));
        assert_eq!(
            names(&view),
            [("a".into(), "1".into()), ("b".into(), "1".into())]
        );
        assert!(view.take(&KUSTOMIZATION, Event::Apply(object("a", "2"))));
        assert!(view.take(&KUSTOMIZATION, Event::Delete(object("b", "1"))));
        assert_eq!(names(&view), [("a".to_owned(), "2".to_owned())]);
        // A new list replaces the view: what it leaves out was deleted meanwhile.
        view.take(&KUSTOMIZATION, Event::Init);
        view.take(&KUSTOMIZATION, Event::InitApply(object("c", "3")));
        assert_eq!(names(&view), [("a".to_owned(), "2".to_owned())]);
        assert!(view.take(&KUSTOMIZATION, Event::InitDone));
        assert_eq!(names(&view), [("c".to_owned(), "3".to_owned())]);
    }
}
