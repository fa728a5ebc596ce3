//! One retry policy for every client railyard talks to over the network: capped exponential
//! backoff with full jitter, and pauses the server asks for (`Retry-After`, `RateLimit-Reset`)
//! taking precedence over the computed delay.
//!
//! Time and randomness come in through the `Clock` and `Jitter` traits, so the policy is tested
//! once, with a fake clock and a fixed random sequence, and never sleeps in tests.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often and how long to wait between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The first delay's ceiling; doubled per attempt up to `cap`, then fully jittered.
    pub base: Duration,
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The longest pause a server may impose at once.
    pub pause_cap: Duration,
}

impl Policy {
    /// cloud-apis.md §1: base 1 s, ×2, cap 60 s, full jitter, 5 retries.
    pub const CLOUD: Policy = Policy {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(60),
        attempts: 6,
        pause_cap: Duration::from_secs(60),
    };

    /// A policy scaled to another first delay (the test hook `RAILYARD_RETRY_BASE_MS`): the
    /// cap and the longest pause stay sixty times the base.
    pub fn with_base(self, base: Duration) -> Policy {
        Policy {
            base,
            cap: base * 60,
            pause_cap: base * 60,
            ..self
        }
    }

    /// The full-jitter delay before retry `attempt` (0 for the first retry): uniform in
    /// `[0, min(cap, base × 2^attempt))`, `fraction` being a uniform draw from `[0, 1)`.
    pub fn backoff(&self, attempt: u32, fraction: f64) -> Duration {
        let ceiling = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        ceiling.mul_f64(fraction.clamp(0.0, 1.0))
    }
}

/// What a server said about when to ask again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerPause {
    /// `Retry-After: <seconds>`.
    After(Duration),
    /// `RateLimit-Reset: <unix seconds>`: the budget is back at that instant.
    Until { unix_seconds: u64 },
}

/// Time as the retry loop sees it.
pub trait Clock {
    /// Time since the Unix epoch, for `RateLimit-Reset`.
    fn unix_now(&self) -> Duration;
    /// A monotonic instant, as time since the clock's own origin.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

/// A uniform draw from `[0, 1)`.
pub trait Jitter {
    fn fraction(&self) -> f64;
}

/// The real clock: tokio's timer and the system's wall clock.
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> TokioClock {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn unix_now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

/// Jitter from the operating system's random source.
pub struct OsJitter;

impl Jitter for OsJitter {
    fn fraction(&self) -> f64 {
        let bits = rand_core::RngCore::next_u64(&mut rand_core::OsRng) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

/// Whether an error is worth another attempt, and what the server said about when.
pub trait Transient {
    fn is_transient(&self) -> bool;
    fn server_pause(&self) -> Option<ServerPause> {
        None
    }
}

/// The retry loop, shared by every request of one client: a server pause (a 429's
/// `RateLimit-Reset`, say) holds every request of the client, not only the one that got it.
pub struct Retry<C: Clock = TokioClock, J: Jitter = OsJitter> {
    pub policy: Policy,
    clock: C,
    jitter: J,
    /// No attempt starts before this instant (on `clock.now()`'s scale).
    paused_until: Mutex<Option<Duration>>,
}

impl Retry {
    /// The policy on the real clock with the OS's randomness.
    pub fn new(policy: Policy) -> Retry {
        Retry::with(policy, TokioClock::default(), OsJitter)
    }
}

impl<C: Clock, J: Jitter> Retry<C, J> {
    pub fn with(policy: Policy, clock: C, jitter: J) -> Retry<C, J> {
        Retry {
            policy,
            clock,
            jitter,
            paused_until: Mutex::new(None),
        }
    }

    /// The jittered delay before retry `attempt`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.policy.backoff(attempt, self.jitter.fraction())
    }

    /// How long a server's pause lasts from now, between `base` and `pause_cap`.
    pub fn pause_length(&self, pause: Option<ServerPause>) -> Duration {
        let wait = match pause {
            Some(ServerPause::After(after)) => after,
            Some(ServerPause::Until { unix_seconds }) => {
                Duration::from_secs(unix_seconds).saturating_sub(self.clock.unix_now())
            }
            None => self.policy.base,
        };
        wait.clamp(self.policy.base, self.policy.pause_cap)
    }

    /// Holds every attempt of this client until the server's pause is over.
    pub fn pause(&self, pause: Option<ServerPause>) {
        let until = self.clock.now() + self.pause_length(pause);
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    /// Waits while a pause holds the client.
    pub async fn wait_turn(&self) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            let now = self.clock.now();
            if until > now {
                self.clock.sleep(until - now).await;
            }
        }
    }

    /// Now, on the client's clock (monotonic).
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Sleeps for `duration` on the client's clock.
    pub async fn sleep(&self, duration: Duration) {
        self.clock.sleep(duration).await;
    }

    /// Runs `attempt` (given its number, from 0) until it succeeds, fails for good, or the
    /// policy's attempts are spent. Between attempts it waits the server's pause when the error
    /// names one, else the jittered backoff; every attempt first waits out a shared pause.
    pub async fn run<T, E: Transient>(
        &self,
        mut attempt: impl AsyncFnMut(u32) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut number = 0;
        loop {
            self.wait_turn().await;
            match attempt(number).await {
                Err(e) if e.is_transient() && number + 1 < self.policy.attempts => {
                    let delay = match e.server_pause() {
                        Some(pause) => self.pause_length(Some(pause)),
                        None => self.backoff(number),
                    };
                    self.clock.sleep(delay).await;
                    number += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A clock that moves only when slept on, recording every sleep.
    struct FakeClock {
        now: Cell<Duration>,
        unix_origin: Duration,
        sleeps: RefCell<Vec<Duration>>,
    }

    impl FakeClock {
        fn new() -> FakeClock {
            FakeClock {
                now: Cell::new(Duration::ZERO),
                unix_origin: Duration::from_secs(1_800_000_000),
                sleeps: RefCell::new(Vec::new()),
            }
        }
    }

    impl Clock for &FakeClock {
        fn unix_now(&self) -> Duration {
            self.unix_origin + self.now.get()
        }

        fn now(&self) -> Duration {
            self.now.get()
        }

        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
            self.now.set(self.now.get() + duration);
            self.sleeps.borrow_mut().push(duration);
            std::future::ready(())
        }
    }

    /// A fixed sequence of draws, repeated.
    struct Fixed(Vec<f64>, Cell<usize>);

    impl Jitter for Fixed {
        fn fraction(&self) -> f64 {
            let i = self.1.get();
            self.1.set(i + 1);
            self.0[i % self.0.len()]
        }
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Failure {
        Busy(Option<ServerPause>),
        Refused,
    }

    impl Transient for Failure {
        fn is_transient(&self) -> bool {
            matches!(self, Failure::Busy(_))
        }

        fn server_pause(&self) -> Option<ServerPause> {
            match self {
                Failure::Busy(pause) => *pause,
                Failure::Refused => None,
            }
        }
    }

    const POLICY: Policy = Policy {
        base: Duration::from_millis(100),
        cap: Duration::from_millis(500),
        attempts: 5,
        pause_cap: Duration::from_secs(3),
    };

    /// Runs `answers` in order through the loop; returns the outcome, the attempts made and
    /// the sleeps between them.
    fn drive(
        jitter: Vec<f64>,
        answers: Vec<Result<u32, Failure>>,
    ) -> (Result<u32, Failure>, u32, Vec<Duration>) {
        let clock = FakeClock::new();
        let retry = Retry::with(POLICY, &clock, Fixed(jitter, Cell::new(0)));
        let answers = RefCell::new(answers.into_iter());
        let made = Cell::new(0);
        let outcome = block_on(retry.run(async |n| {
            made.set(n + 1);
            answers.borrow_mut().next().unwrap_or(Ok(0))
        }));
        let sleeps = clock.sleeps.borrow().clone();
        (outcome, made.get(), sleeps)
    }

    /// Polls a future that never waits (the fake clock's sleeps are ready at once).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut context) {
                return out;
            }
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let busy = || Err(Failure::Busy(None));
        let (outcome, made, sleeps) = drive(vec![0.5], vec![busy(), busy(), busy(), busy(), Ok(7)]);
        assert_eq!(outcome, Ok(7));
        assert_eq!(made, 5);
        // Ceilings 100, 200, 400, 500 (capped) ms, each halved by the draw.
        assert_eq!(sleeps, [ms(50), ms(100), ms(200), ms(250)]);
        let (_, _, sleeps) = drive(vec![0.0, 0.999_999], vec![busy(), busy(), Ok(1)]);
        assert_eq!(sleeps[0], Duration::ZERO, "full jitter reaches zero");
        assert!(sleeps[1] < ms(200) && sleeps[1] > ms(199));
    }

    #[test]
    fn attempts_are_bounded_and_lasting_errors_are_not_retried() {
        let busy = || Err(Failure::Busy(None));
        let (outcome, made, sleeps) = drive(vec![1.0], vec![busy(); 9]);
        assert_eq!(outcome, Err(Failure::Busy(None)));
        assert_eq!((made, sleeps.len()), (5, 4));
        let (outcome, made, sleeps) = drive(vec![1.0], vec![busy(), Err(Failure::Refused)]);
        assert_eq!(outcome, Err(Failure::Refused));
        assert_eq!((made, sleeps.len()), (2, 1));
    }

    #[test]
    fn a_server_pause_takes_precedence_within_bounds() {
        let (_, _, sleeps) = drive(
            vec![0.0],
            vec![
                Err(Failure::Busy(Some(ServerPause::After(
                    Duration::from_secs(2),
                )))),
                Err(Failure::Busy(Some(ServerPause::After(
                    Duration::from_secs(30),
                )))),
                Err(Failure::Busy(Some(ServerPause::After(Duration::ZERO)))),
                Ok(1),
            ],
        );
        // As asked; capped at `pause_cap`; never shorter than `base`.
        assert_eq!(
            sleeps,
            [Duration::from_secs(2), Duration::from_secs(3), ms(100)]
        );
        let clock = FakeClock::new();
        let retry = Retry::with(POLICY, &clock, Fixed(vec![0.0], Cell::new(0)));
        let reset = (&clock).unix_now().as_secs() + 2;
        assert_eq!(
            retry.pause_length(Some(ServerPause::Until {
                unix_seconds: reset
            })),
            Duration::from_secs(2)
        );
        assert_eq!(
            retry.pause_length(Some(ServerPause::Until { unix_seconds: 5 })),
            ms(100),
            "a reset in the past waits the base"
        );
    }

    #[test]
    fn a_pause_holds_every_later_attempt_until_it_ends() {
        let clock = FakeClock::new();
        let retry = Retry::with(POLICY, &clock, Fixed(vec![0.0], Cell::new(0)));
        retry.pause(Some(ServerPause::After(Duration::from_secs(2))));
        // A shorter pause does not cut the longer one short.
        retry.pause(Some(ServerPause::After(ms(500))));
        block_on(retry.wait_turn());
        assert_eq!(clock.now.get(), Duration::from_secs(2));
        block_on(retry.wait_turn());
        assert_eq!(
            clock.sleeps.borrow().len(),
            1,
            "a pause that is over holds nothing"
        );
        let outcome: Result<u32, Failure> = block_on(retry.run(async |_| Ok(3)));
        assert_eq!(outcome, Ok(3));
        assert_eq!(clock.sleeps.borrow().len(), 1);
    }

    #[test]
    fn the_test_hook_scales_cap_and_pause_with_the_base() {
        let policy = Policy::CLOUD.with_base(ms(5));
        assert_eq!(
            (policy.cap, policy.pause_cap, policy.attempts),
            (ms(300), ms(300), 6)
        );
        assert!(OsJitter.fraction() < 1.0);
    }
}
