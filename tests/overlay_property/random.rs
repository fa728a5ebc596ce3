//! Randomness: a seeded stream, so a seed and a case number reproduce a case.

/// splitmix64: a few lines, no dependency, and the same stream on every platform and release,
/// which is what makes a seed and a case number a complete reproduction.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn for_case(seed: u64, case: u64) -> Rng {
        let mut rng = Rng(seed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(super) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("less than n")
    }

    /// A number in `low..=high`.
    pub(super) fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Between `low` and `high` distinct items, in random order.
    pub(super) fn some<T: Copy>(&mut self, items: &[T], low: usize, high: usize) -> Vec<T> {
        let mut all = items.to_vec();
        self.shuffle(&mut all);
        let count = self.range(low.min(items.len()), high.min(items.len()));
        all.truncate(count);
        all
    }

    pub(super) fn hex(&mut self, length: usize) -> String {
        (0..length)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }
}
