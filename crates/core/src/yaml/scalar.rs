//! The YAML scalar grammar, the only place that decides it: how a plain scalar resolves, and
//! whether a string written back must be quoted, and how.
//!
//! The reference is Go's `gopkg.in/yaml.v3`, which Kubernetes tools (kubectl, kustomize, Flux,
//! sops) read and write with: YAML 1.2's core schema plus Go's integer syntax (`0755` is
//! octal, `1_000` has separators) and Go's timestamps. `tests/yaml_v3.rs` checks this module
//! against the real library, scalar by scalar.

mod style;
mod timestamp;

pub use style::{Place, Style, string_style};
pub(crate) use style::{is_break, is_printable};

/// What a plain (unquoted, untagged) scalar means, as yaml.v3 decodes it into `interface{}`.
#[derive(Clone, Debug, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` that fits 64 bits unsigned (Go's `uint64`).
    Uint(u64),
    Float(f64),
    /// A valid calendar time, as Go formats it with `time.RFC3339Nano`.
    Timestamp(String),
    /// The text itself.
    Str,
}

/// Resolves `text` written as a plain scalar. As in yaml.v3, only a first character that can
/// start something else (a digit, a sign, `.`, or a letter of `true`, `null`, ...) leads to
/// anything but a string, and `<<` is a string here: merge keys are the parser's business.
pub fn resolve(text: &str) -> Plain {
    // every word below is five bytes at most, and past them a letter starts only strings: the
    // names and keys written out are asked this, and most are longer
    if text.len() > 5 && text.as_bytes()[0].is_ascii_alphabetic() {
        return Plain::Str;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Plain::Null,
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Plain::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Plain::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Plain::Float(f64::NAN),
        _ => {}
    }
    match text.as_bytes()[0] {
        // Go's `strconv.ParseFloat` on the text as it is, which takes `_` between digits
        b'.' if underscores_between_digits(text) => {
            yaml_float(&text.replace('_', "")).map_or(Plain::Str, Plain::Float)
        }
        b'.' => Plain::Str,
        b'0'..=b'9' | b'+' | b'-' => number_or_time(text),
        _ => Plain::Str,
    }
}

/// Whether `text` may be written as a plain scalar: it reads back as the same string, and it
/// would not read as a YAML 1.1 boolean or sexagesimal number either (yaml.v3 quotes those for
/// YAML 1.1 readers). Whether YAML syntax allows it plain is [`string_style`]'s question.
pub fn reads_back_plain(text: &str) -> bool {
    resolve(text) == Plain::Str && !is_yaml11_bool(text) && !is_sexagesimal(text)
}

/// YAML 1.1's boolean words, which yaml.v3 reads as strings but quotes when writing.
pub fn is_yaml11_bool(text: &str) -> bool {
    // the words are three bytes at most
    text.len() <= 3
        && matches!(
            text,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
        )
}

/// yaml.v3's order for a text starting with a digit or a sign: a timestamp, then Go's
/// `ParseInt(s, 0, 64)` and `ParseUint`, then a float, all with `_` removed.
fn number_or_time(text: &str) -> Plain {
    if let Some(time) = timestamp::parse(text) {
        return Plain::Timestamp(time);
    }
    // a `replace` always makes a new string; most numbers have no `_`
    let plain = if text.contains('_') {
        std::borrow::Cow::Owned(text.replace('_', ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if let Some(i) = go_int(&plain) {
        return Plain::Int(i);
    }
    if let Some(u) = go_uint(&plain) {
        return Plain::Uint(u);
    }
    yaml_float(&plain).map_or(Plain::Str, Plain::Float)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then what [`go_uint`] reads.
fn go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = i128::from(go_uint(body)?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// Go's `strconv.ParseUint(s, 0, 64)`: `0x`, `0o` or `0b` and at least one digit, or a
/// leading `0` (octal, so `08` is not an integer), or decimal digits; no sign.
fn go_uint(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let (digits, radix) = match b {
        [] => return None,
        [b'0', prefix, _, ..] if matches!(prefix.to_ascii_lowercase(), b'b' | b'o' | b'x') => {
            let radix = match prefix.to_ascii_lowercase() {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (&text[2..], radix)
        }
        [b'0', ..] => (&text[1..], 8),
        _ => (text, 10),
    };
    if digits.is_empty() {
        // `0` alone
        return Some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, yaml.v3's float syntax, when Go's
/// `ParseFloat` takes it: a value too large for 64 bits (`1e400`) is an error there, so a string.
fn yaml_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => !int.is_empty() && digits(int) && digits(frac),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Whether every `_` in a decimal number stands between two digits, as Go's number syntax asks.
fn underscores_between_digits(text: &str) -> bool {
    let b = text.as_bytes();
    let digit = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit);
    (0..b.len()).all(|i| b[i] != b'_' || (digit(i.checked_sub(1)) && digit(Some(i + 1))))
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, YAML 1.1's sexagesimal numbers.
fn is_sexagesimal(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    // asked of every string written out: most are words, which the first byte rules out
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let (body, fraction) = match body.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (body, None),
    };
    let mut parts = body.split(':');
    let first = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    first.starts_with(|c: char| c.is_ascii_digit())
        && first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !rest.is_empty()
        && rest.iter().all(|p| {
            (1..=2).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || p.as_bytes()[0] <= b'5')
        })
        && fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::{Plain, resolve};

    #[test]
    fn plain_scalars_resolve_as_yaml_v3_resolves_them() {
        let cases: &[(&str, Plain)] = &[
            ("~", Plain::Null),
            ("true", Plain::Bool(true)),
            ("yes", Plain::Str),
            ("<<", Plain::Str),
            ("42", Plain::Int(42)),
            ("-0x1f", Plain::Int(-31)),
            ("0o17", Plain::Int(15)),
            ("0600", Plain::Int(384)),
            ("08", Plain::Float(8.0)),
            ("1_000", Plain::Int(1000)),
            ("18446744073709551615", Plain::Uint(u64::MAX)),
            ("1e400", Plain::Str),
            (".5_0", Plain::Float(0.5)),
            ("._5", Plain::Str),
            (
                "2024-02-29",
                Plain::Timestamp("2024-02-29T00:00:00Z".into()),
            ),
            ("2023-02-29", Plain::Str),
            ("2024-13-01", Plain::Str),
            ("1.2.3", Plain::Str),
            ("0xFFFFFFFFFFFFFFFF", Plain::Uint(u64::MAX)),
        ];
        for (text, want) in cases {
            assert_eq!(&resolve(text), want, "{text}");
        }
    }

    /// As Go's `time.Parse` reads them and `time.RFC3339Nano` writes them.
    #[test]
    fn timestamps_follow_go() {
        let cases = [
            (
                "2001-12-14t21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14T21:59:43+00:00", Some("2001-12-14T21:59:43Z")),
            (
                "2001-12-14T21:59:43+05:60",
                Some("2001-12-14T21:59:43+06:00"),
            ),
            ("2001-12-14T21:59:43,5Z", Some("2001-12-14T21:59:43.5Z")),
            (
                "2001-12-14T1:2:3.1234567891Z",
                Some("2001-12-14T01:02:03.123456789Z"),
            ),
            ("2001-12-14  1:2:3", Some("2001-12-14T01:02:03Z")),
            ("2001-12-14T21:59:60Z", None),
            ("2001-12-14T21:59:43", None),
            ("2001-12-14 21:59:43Z", None),
            ("2001-12-14T21:59:43z", None),
            ("2100-02-29", None),
            ("2000-02-29", Some("2000-02-29T00:00:00Z")),
        ];
        for (text, want) in cases {
            let want = want.map_or(Plain::Str, |t| Plain::Timestamp(t.to_owned()));
            assert_eq!(resolve(text), want, "{text}");
        }
    }
}
