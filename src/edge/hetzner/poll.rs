//! Waiting for actions together: every action any task of the client waits for is looked at in
//! the same list request (`GET /actions?id=…&id=…`, a page of ids each), one task polling for
//! all while the others wait for their outcome; the pause between looks grows as the actions
//! age (`bootstrap::polling`). A hundred machines cost a few requests a round, not one each.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use reqwest::Method;
use serde_json::Value as Json;

use super::{Hetzner, HetznerError};
use crate::bootstrap::polling;
use std::time::Duration;

/// The most ids one list request asks about: the largest page Hetzner serves.
const PAGE: usize = 50;

/// How a polled action ended.
#[derive(Clone)]
enum Ended {
    Success,
    Error {
        command: String,
        code: String,
        message: String,
    },
}

#[derive(Default)]
struct Board {
    /// Actions someone waits for: when they were first waited for, and by how many tasks.
    waiting: BTreeMap<u64, (Duration, usize)>,
    /// How the actions seen to end ended, until their waiters take the outcome.
    ended: BTreeMap<u64, Ended>,
    last_poll: Option<Duration>,
}

/// The actions a client waits for, and whose turn it is to poll.
#[derive(Default)]
pub(super) struct Poller {
    board: Mutex<Board>,
    turn: tokio::sync::Mutex<()>,
}

impl Poller {
    fn board(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, ids: &[u64], now: Duration) {
        let mut board = self.board();
        for id in ids {
            board.waiting.entry(*id).or_insert((now, 0)).1 += 1;
        }
    }

    /// The outcome for a waiter once every one of its actions ended (or one failed); its
    /// actions are then no longer waited for on its behalf.
    fn take(&self, ids: &[u64]) -> Option<Result<(), HetznerError>> {
        let mut board = self.board();
        let failed = ids.iter().find_map(|id| match board.ended.get(id) {
            Some(Ended::Error {
                command,
                code,
                message,
            }) => Some(HetznerError::Action {
                id: *id,
                command: command.clone(),
                code: code.clone(),
                message: message.clone(),
            }),
            _ => None,
        });
        if failed.is_none() && !ids.iter().all(|id| board.ended.contains_key(id)) {
            return None;
        }
        release(&mut board, ids);
        Some(failed.map_or(Ok(()), Err))
    }

    fn forget(&self, ids: &[u64]) {
        release(&mut self.board(), ids);
    }

    /// How long to wait before the next look, and then what to look at.
    fn pause(&self, base: Duration, now: Duration) -> Duration {
        let board = self.board();
        let youngest = board.waiting.values().map(|(since, _)| *since).max();
        match (board.last_poll, youngest) {
            (Some(last), Some(since)) => {
                let age = now.saturating_sub(since);
                let interval = Duration::from_millis(polling::interval_ms(
                    u64::try_from(base.as_millis()).unwrap_or(u64::MAX),
                    u64::try_from(age.as_millis()).unwrap_or(u64::MAX),
                ));
                (last + interval).saturating_sub(now)
            }
            _ => Duration::ZERO,
        }
    }

    fn pending(&self) -> Vec<u64> {
        let board = self.board();
        board
            .waiting
            .keys()
            .filter(|id| !board.ended.contains_key(id))
            .copied()
            .collect()
    }

    fn record(&self, looked_at: &[u64], seen: Vec<(u64, Option<Ended>)>, now: Duration) {
        let mut board = self.board();
        let mut missing: Vec<u64> = looked_at.to_vec();
        for (id, ended) in seen {
            missing.retain(|m| *m != id);
            if let Some(ended) = ended {
                board.ended.insert(id, ended);
            }
        }
        // An action the API does not know any more is over (as a single wait always took it).
        for id in missing {
            board.ended.insert(id, Ended::Success);
        }
        board.last_poll = Some(now);
    }
}

/// One waiter fewer for each id; an id nobody waits for is dropped.
fn release(board: &mut Board, ids: &[u64]) {
    for id in ids {
        if let Some((_, waiters)) = board.waiting.get_mut(id) {
            *waiters = waiters.saturating_sub(1);
            if *waiters == 0 {
                board.waiting.remove(id);
                board.ended.remove(id);
            }
        }
    }
}

fn ended(action: &Json) -> Option<Ended> {
    match action["status"].as_str() {
        Some("success") => Some(Ended::Success),
        Some("error") => Some(Ended::Error {
            command: action["command"].as_str().unwrap_or("?").to_owned(),
            code: action["error"]["code"].as_str().unwrap_or("?").to_owned(),
            message: action["error"]["message"].as_str().unwrap_or("").to_owned(),
        }),
        _ => None,
    }
}

impl Hetzner {
    /// Waits until every action has succeeded; an action that fails is an error.
    pub(super) async fn wait(&self, ids: &[u64]) -> Result<(), HetznerError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.poller.register(ids, self.retry.now());
        loop {
            if let Some(outcome) = self.poller.take(ids) {
                return outcome;
            }
            let _turn = self.poller.turn.lock().await;
            // Another task may have looked while this one waited for its turn.
            if let Some(outcome) = self.poller.take(ids) {
                return outcome;
            }
            let pause = self.poller.pause(self.poll, self.retry.now());
            if !pause.is_zero() {
                self.retry.sleep(pause).await;
            }
            let pending = self.poller.pending();
            match self.look(&pending).await {
                Ok(seen) => self.poller.record(&pending, seen, self.retry.now()),
                Err(e) => {
                    self.poller.forget(ids);
                    return Err(e);
                }
            }
        }
    }

    /// One look at the actions: a page of ids a request, every page of each answer.
    async fn look(&self, ids: &[u64]) -> Result<Vec<(u64, Option<Ended>)>, HetznerError> {
        let mut seen = Vec::new();
        for batch in polling::batches(ids, PAGE) {
            let mut page = 1u64;
            loop {
                let mut query: Vec<(String, String)> = batch
                    .iter()
                    .map(|id| ("id".to_owned(), id.to_string()))
                    .collect();
                query.push(("per_page".to_owned(), PAGE.to_string()));
                query.push(("page".to_owned(), page.to_string()));
                let answer = self.call(Method::GET, "/actions", &query, None).await?;
                for action in answer["actions"].as_array().into_iter().flatten() {
                    if let Some(id) = action["id"].as_u64() {
                        seen.push((id, ended(action)));
                    }
                }
                match answer["meta"]["pagination"]["next_page"].as_u64() {
                    Some(next) if next > page => page = next,
                    _ => break,
                }
            }
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Ended {
        Ended::Error {
            command: "start_server".to_owned(),
            code: "action_failed".to_owned(),
            message: "Action failed".to_owned(),
        }
    }

    #[test]
    fn every_waiter_of_an_action_gets_its_outcome_and_then_it_is_forgotten() {
        let poller = Poller::default();
        let second = Duration::from_secs(1);
        poller.register(&[1, 2], Duration::ZERO);
        poller.register(&[2, 3], Duration::ZERO);
        assert_eq!(poller.pending(), [1, 2, 3]);
        assert_eq!(poller.pause(second, Duration::ZERO), Duration::ZERO);
        // 1 succeeded, 2 failed, 3 still runs.
        poller.record(
            &[1, 2, 3],
            vec![(1, Some(Ended::Success)), (2, Some(failed())), (3, None)],
            Duration::ZERO,
        );
        assert_eq!(poller.pending(), [3]);
        let first = poller.take(&[1, 2]).expect("both ended");
        assert!(first.is_err_and(|e| e.to_string().contains("action_failed")));
        let other = poller.take(&[2, 3]).expect("one failed");
        assert!(other.is_err());
        assert!(poller.pending().is_empty());
        // A new action right after a look waits a quarter base from that look; one the API
        // no longer knows is over.
        poller.register(&[4], Duration::from_millis(200));
        assert_eq!(
            poller.pause(second, Duration::from_millis(200)),
            Duration::from_millis(50)
        );
        assert!(poller.take(&[4]).is_none());
        poller.record(&[4], Vec::new(), Duration::from_millis(1000));
        assert!(poller.take(&[4]).is_some_and(|r| r.is_ok()));
        assert!(poller.board().ended.is_empty() && poller.board().waiting.is_empty());
    }
}
