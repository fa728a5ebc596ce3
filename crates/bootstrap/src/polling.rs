//! How actions are waited for, as values: which ids one poll asks about, and how long to wait
//! before the next look as the actions age.
//!
//! A cloud's asynchronous actions (Hetzner's server creates and starts take 10–30 s) are polled
//! together: every action anyone waits for goes into one list request, as many ids as a page
//! holds, so a hundred machines cost a few requests a round, not one each. Young actions are
//! looked at every `base`; older ones less often, since a long action rarely ends in the next
//! second, which keeps the polls of a long run inside the cloud's hourly request budget.

/// The most an interval grows to, in multiples of the base.
pub const MAX_FACTOR: u64 = 8;

/// The wait before the next look, in milliseconds, at actions the youngest of which is
/// `age_ms` old: the base for the first four bases, then a quarter of the age, at most
/// `MAX_FACTOR` bases (hcloud-go looks every 500 ms; railyard starts at its base and backs off
/// from there). Milliseconds, not `Duration`: time is the edge's, this crate only computes.
pub fn interval_ms(base_ms: u64, age_ms: u64) -> u64 {
    (age_ms / 4).clamp(base_ms, base_ms.saturating_mul(MAX_FACTOR))
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
    fn young_actions_are_looked_at_every_base_and_old_ones_less_often() {
        let at = |secs: u64| interval_ms(1000, secs * 1000);
        assert_eq!(at(0), 1000);
        assert_eq!(at(4), 1000);
        assert_eq!(at(12), 3000);
        assert_eq!(at(3600), 8000);
        // A 30 s action: looks at 0, 1, 2, 3, 4 s, then at a quarter of the age.
        let mut now = 0;
        let mut looks = 0;
        while now < 30_000 {
            now += interval_ms(1000, now);
            looks += 1;
        }
        assert!(looks < 15, "{looks} looks for 30 s");
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
