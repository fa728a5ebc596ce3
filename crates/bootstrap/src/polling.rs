//! How actions are waited for, as values: which ids one poll asks about, and how long to wait
//! before the next look as the actions age.
//!
//! A cloud's asynchronous actions (Hetzner's server creates and starts take 10–30 s, attaching
//! to a network or powering on about a second) are polled together: every action anyone waits
//! for goes into one list request, as many ids as a page holds, so a hundred machines cost a few
//! requests a round, not one each. Young actions are looked at every quarter `base`, since the
//! short ones end within a second or two and each is on a chain of dependent steps; older ones
//! less often, up to `MAX_FACTOR` bases, since a long action rarely ends in the next second,
//! which keeps the polls of a long run inside the cloud's hourly request budget (Hetzner's
//! client tooling moved from a constant poll to a growing one for the same reason,
//! terraform-provider-hcloud #798).

/// The most an interval grows to, in multiples of the base.
pub const MAX_FACTOR: u64 = 8;

/// The least an interval shrinks to, as a divisor of the base.
pub const MIN_DIVISOR: u64 = 4;

/// The wait before the next look, in milliseconds, at actions the youngest of which is
/// `age_ms` old: a quarter of the age, at least a quarter base and at most `MAX_FACTOR` bases
/// (hcloud-go looks every 500 ms; railyard starts faster and backs off from there, so a
/// chain of one-second actions is not paced by the poll). Milliseconds, not `Duration`: time is
/// the edge's, this crate only computes.
pub fn interval_ms(base_ms: u64, age_ms: u64) -> u64 {
    (age_ms / 4).clamp(
        (base_ms / MIN_DIVISOR).max(1),
        base_ms.saturating_mul(MAX_FACTOR),
    )
}

/// The ids to ask about, in requests of at most `page` ids each (the list's largest page, so
/// each answer is whole).
pub fn batches(ids: &[u64], page: usize) -> Vec<Vec<u64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.chunks(page.max(1)).map(<[u64]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn young_actions_are_looked_at_often_and_old_ones_less_often() {
        let at = |millis: u64| interval_ms(1000, millis);
        assert_eq!(at(0), 250);
        assert_eq!(at(1000), 250);
        assert_eq!(at(2000), 500);
        assert_eq!(at(12_000), 3000);
        assert_eq!(at(3_600_000), 8000);
        assert_eq!(interval_ms(1, 0), 1, "never a busy loop");
        // A one-second action is seen done within a quarter second of its end.
        let looks_until = |end: u64| {
            let (mut now, mut looks) = (0, 0);
            while now < end {
                now += interval_ms(1000, now);
                looks += 1;
            }
            (now, looks)
        };
        assert_eq!(looks_until(1000), (1000, 4));
        // A 30 s action costs 20 looks, and is seen done within a quarter of its time.
        let (seen, looks) = looks_until(30_000);
        assert!(
            looks <= 20 && seen < 37_500,
            "{looks} looks, seen at {seen} ms"
        );
    }

    #[test]
    fn batches_hold_each_id_once_and_at_most_a_page() {
        let ids: Vec<u64> = (1..=120).chain([5, 7]).collect();
        let batches = batches(&ids, 50);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [50, 50, 20]
        );
        assert_eq!(batches.concat(), (1..=120).collect::<Vec<u64>>());
    }
}
