//! Watches, as the Kubernetes API documents them ("Efficient detection of changes" in the API
//! concepts): `GET` of a collection with `watch=true` (or `1`) answers a stream of
//! newline-delimited JSON events `{"type": ..., "object": ...}`: `ADDED`, `MODIFIED`, and, with
//! `allowWatchBookmarks=true`, a `BOOKMARK` whose object holds only its kind and
//! `metadata.resourceVersion`. `resourceVersion` says where the watch starts: unset or `0`,
//! with an `ADDED` event for every object there is; a number, with the changes after it.
//!
//! Simpler than a real server: an object changed twice since the watch's start is sent once,
//! as it is now (so `ADDED` when it was created after the start); there is no history to
//! compact, so never `410 Gone`; no `DELETED` (nothing is deleted). The fake ends every watch
//! soon, as a server may at any time (its `timeoutSeconds`, a restart): at once after the
//! events a request finds, else after `HOLD` with nothing new, in both cases with a bookmark
//! when asked for one; the client watches again from the last `resourceVersion` it saw. Each
//! watch request moves the simulated controllers one step, as a `GET` or `LIST` does.

use std::time::Duration;

use serde_json::{Value, json};

use super::kinds::KINDS;
use super::state::{Refusal, State};

/// How long a watch with nothing to report stays open.
pub(super) const HOLD: Duration = Duration::from_millis(20);

/// One watch: of a kind, in a namespace or across them, from a resourceVersion.
#[derive(Clone, Debug)]
pub(super) struct Watch {
    pub(super) kind: usize,
    pub(super) namespace: Option<String>,
    /// Changes after this; `None` for "every object there is".
    pub(super) since: Option<u64>,
    pub(super) bookmarks: bool,
}

impl Watch {
    /// The watch a collection GET asks for, if it asks for one; refused when its
    /// `resourceVersion` is not a number.
    pub(super) fn asked(
        kind: usize,
        namespace: Option<&str>,
        value: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Watch>, Refusal> {
        if !value("watch").is_some_and(|w| w == "true" || w == "1") {
            return Ok(None);
        }
        let since = match value("resourceVersion").as_deref() {
            None | Some("" | "0") => None,
            Some(number) => Some(number.parse::<u64>().map_err(|_| {
                Refusal::new(
                    400,
                    "BadRequest",
                    format!("invalid resource version: {number:?}"),
                )
            })?),
        };
        Ok(Some(Watch {
            kind,
            namespace: namespace.map(str::to_owned),
            since,
            bookmarks: value("allowWatchBookmarks").is_some_and(|b| b == "true" || b == "1"),
        }))
    }
}

impl State {
    /// The events of `watch` there are now, in resourceVersion order, then its bookmark if it
    /// asked for one (read together, so no change falls between them).
    pub(super) fn watch_events(&self, watch: &Watch) -> Vec<Value> {
        let mut found: Vec<(u64, Value)> = self
            .objects
            .iter()
            .filter(|(key, _)| {
                key.kind == watch.kind
                    && watch
                        .namespace
                        .as_deref()
                        .is_none_or(|n| key.namespace == n)
            })
            .filter_map(|(key, object)| {
                let version = object["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                let kind = match watch.since {
                    None => "ADDED",
                    Some(since) if version <= since => return None,
                    Some(since) if self.born.get(key).is_some_and(|b| *b > since) => "ADDED",
                    Some(_) => "MODIFIED",
                };
                Some((version, json!({"type": kind, "object": object})))
            })
            .collect();
        found.sort_by_key(|(version, _)| *version);
        let mut events: Vec<Value> = found.into_iter().map(|(_, event)| event).collect();
        if watch.bookmarks {
            events.push(self.bookmark(watch));
        }
        events
    }

    /// The bookmark that ends a watch: the cluster's resourceVersion now.
    fn bookmark(&self, watch: &Watch) -> Value {
        let kind = &KINDS[watch.kind];
        json!({
            "type": "BOOKMARK",
            "object": {
                "apiVersion": kind.api_version(),
                "kind": kind.kind,
                "metadata": {"resourceVersion": self.resource_version.to_string()},
            },
        })
    }
}
