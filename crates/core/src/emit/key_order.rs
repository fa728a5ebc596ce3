//! The order Go's YAML encoders give mapping keys, which kustomize prints with.

/// The order Go's YAML encoders (yaml.v2 and v3, which kustomize prints with) give map keys:
/// runs of digits compare as numbers (`PORT_9` before `PORT_10`), letters compare by code
/// point, and a letter sorts after anything else (checked against kubectl in the corpus).
/// ASCII keys (nearly all) compare as bytes, without collecting their characters.
pub(super) fn go_yaml_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        order(a.as_bytes(), b.as_bytes())
    } else {
        let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        order(&ar, &br)
    }
}

/// What the order asks of a character; for ASCII bytes the same answers as for `char`s.
trait Letter: Copy + Ord {
    fn is_alphabetic(self) -> bool;
    fn is_numeric(self) -> bool;
    fn is_zero(self) -> bool;
    fn digit(self) -> i64;
}

impl Letter for u8 {
    fn is_alphabetic(self) -> bool {
        self.is_ascii_alphabetic()
    }
    fn is_numeric(self) -> bool {
        self.is_ascii_digit()
    }
    fn is_zero(self) -> bool {
        self == b'0'
    }
    fn digit(self) -> i64 {
        if self.is_ascii_digit() {
            i64::from(self - b'0')
        } else {
            0
        }
    }
}

impl Letter for char {
    fn is_alphabetic(self) -> bool {
        char::is_alphabetic(self)
    }
    fn is_numeric(self) -> bool {
        char::is_numeric(self)
    }
    fn is_zero(self) -> bool {
        self == '0'
    }
    fn digit(self) -> i64 {
        i64::from(self.to_digit(10).unwrap_or(0))
    }
}

fn order<T: Letter>(ar: &[T], br: &[T]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0_i64, 0_i64);
        if ar[i].is_zero() || br[i].is_zero() {
            let mut j = i;
            while j > 0 && ar[j - 1].is_numeric() {
                j -= 1;
                if !ar[j].is_zero() {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_numeric() {
            an = an.saturating_mul(10).saturating_add(ar[ai].digit());
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_numeric() {
            bn = bn.saturating_mul(10).saturating_add(br[bi].digit());
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    /// The order `kubectl kustomize` (kustomize v5.5) printed for these keys. Go's rule is not
    /// transitive (`a01` < `a10` < `a1b` < `a01`), so with keys like all three the result
    /// depends on Go's sort algorithm; railyard does not reproduce that, and `a1b` is left out.
    const KUBECTL: &[&str] = &[
        "_a", "0", "00", "1a", "Ab", "PORT_1", "PORT_9", "PORT_10", "a", "a_b", "a01", "a001",
        "a9x", "a10", "aB", "x-y", "x.y", "xY", "ä",
    ];

    #[test]
    fn map_keys_sort_as_go_yaml_sorts_them() {
        let mut keys: Vec<&str> = KUBECTL.iter().rev().copied().collect();
        keys.sort_by(|a, b| super::go_yaml_key_order(a, b));
        assert_eq!(keys, KUBECTL);
    }
}
