//! "Did you mean" suggestions by edit distance.

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let word = word.to_lowercase();
    let length = word.chars().count();
    candidates
        .iter()
        .map(|c| (c.to_lowercase(), *c))
        // the distance is at least the difference in length: skip what cannot be near
        .filter(|(lower, _)| lower.chars().count().abs_diff(length) <= limit)
        .map(|(lower, c)| (distance(&word, &lower), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// "did you mean `x`?" for a near miss, else `otherwise`.
pub fn hint(word: &str, candidates: &[&str], otherwise: impl FnOnce() -> String) -> String {
    did_you_mean(word, candidates).map_or_else(otherwise, |near| format!("did you mean `{near}`?"))
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_near_names_only() {
        let names = ["provider", "location", "authorizedKeys"];
        for (word, want) in [
            ("provder", Some("provider")),
            ("Location", Some("location")),
            ("authorizedkey", Some("authorizedKeys")),
            ("zone", None),
        ] {
            assert_eq!(did_you_mean(word, &names), want, "{word}");
        }
    }
}
