//! Values: the texts, words and raw YAML tokens a case draws from.

use serde_json::Value;

use super::random::Rng;
use super::yaml_text::raw;

/// Strings that YAML or kustomize treat specially; each must come out as the same string.
pub(super) const TRICKY: &[&str] = &[
    "yes",
    "no",
    "on",
    "Off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "~",
    "",
    "0",
    "123",
    "03",
    "0644",
    "1.0",
    "1e3",
    "0x1F",
    "1.10",
    "+1",
    ".5",
    "-7",
    "12:30",
    "2024-01-15",
    "1.2.3",
    "10.0.0.1",
    "1_000",
    ".inf",
    "it's",
    "a: b",
    "# not a comment",
    "value #1",
    " leading space",
    "trailing space ",
    "*.example.com",
    "- dash",
    "-",
    "?",
    "{braces}",
    "[brackets]",
    "&anchor",
    "!tag",
    "%percent",
    "@at",
    "`tick`",
    "|pipe",
    ">folded",
    "https://example.com/a?b=1&c=2",
    "say \"hi\"",
    "back\\slash",
    "tab\tinside",
    "C:\\Windows",
    "=",
    "key=value",
    "a,b,c",
    "50%",
];

pub(super) const UNICODE: &[&str] = &[
    "héllo wörld",
    "日本語のテキスト",
    "launch 🚀 now",
    "Ωmega",
    "naïve café",
    "Привет, мир",
    "🎉🎉",
    "non\u{a0}breaking",
];

pub(super) const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "charlie",
    "kustomize",
    "railyard",
    "overlay",
    "cluster",
    "über",
    "naïve",
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "it's",
    "a:b",
    "#hash",
    "42",
    "yes",
];

/// Plain scalars written as they are, whatever YAML makes of them: numbers in every notation,
/// YAML 1.1 booleans, nulls, timestamps. Only where kustomize takes any type (custom resources).
pub(super) const RAW_TOKENS: &[&str] = &[
    "yes",
    "no",
    "on",
    "true",
    "False",
    "TRUE",
    "null",
    "~",
    "1.0",
    "1e3",
    "0644",
    "0o755",
    "0x1F",
    "09",
    "+12",
    "1.10",
    "2.5e-1",
    "42",
    "-7",
    "3.14159",
    "2024-01-15",
    "2024-01-15T10:00:00Z",
    "12:30",
    "1_000",
    "0.0",
    "-0",
    "100000000000000000000",
];

/// A value for a string field: often awkward, sometimes long, sometimes several lines.
pub(super) fn text(rng: &mut Rng) -> String {
    match rng.below(14) {
        0..=5 => rng.pick(TRICKY).to_owned(),
        6 | 7 => sentence(rng, 60, 150),
        8 => rng.pick(UNICODE).to_owned(),
        9 => lines(rng),
        10 => {
            let length = rng.range(70, 110);
            format!("https://example.com/{}", rng.hex(length))
        }
        _ => rng.pick(WORDS).to_owned(),
    }
}

/// A value that fits on one line (labels, literals, patch targets' neighbours).
pub(super) fn line(rng: &mut Rng) -> String {
    loop {
        let value = text(rng);
        if !value.contains('\n') {
            return value;
        }
    }
}

/// Words joined by spaces until the text is about `low..high` characters long: around the
/// 80-column folding limit of kustomize's YAML writer.
pub(super) fn sentence(rng: &mut Rng, low: usize, high: usize) -> String {
    let target = rng.range(low, high);
    let mut text = rng.pick(WORDS).to_owned();
    while text.chars().count() < target {
        text.push(' ');
        text.push_str(rng.pick(WORDS));
    }
    text
}

/// Two to four lines: literal blocks, indented lines, blank lines, trailing spaces.
pub(super) fn lines(rng: &mut Rng) -> String {
    let mut text = String::new();
    for i in 0..rng.range(2, 4) {
        if i > 0 {
            text.push('\n');
        }
        match rng.below(6) {
            0 if i > 0 => text.push_str("  indented line"),
            1 if i > 0 => {}
            2 => text.push_str("trailing space "),
            3 => text.push_str(&sentence(rng, 20, 100)),
            _ => text.push_str(rng.pick(WORDS)),
        }
    }
    if rng.chance(50) {
        text.push('\n');
    }
    text
}

pub(super) fn raw_token(rng: &mut Rng) -> Value {
    raw(rng.pick(RAW_TOKENS))
}
