//! Whether a string can be written plain, single-quoted, double-quoted or as a literal block:
//! libyaml's scalar analysis as yaml.v3 runs it, and yaml.v3's choice among the styles allowed.

use super::reads_back_plain;

/// How a string scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Where a string is written, which limits the styles it can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A mapping key, written as a simple key: on one line, and not empty when plain.
    Key,
    /// A value in block context.
    Value,
    /// A value that must stay on one line (an edit in place), so never a block.
    OneLine,
}

/// The style yaml.v3 (and so kustomize and kubectl) writes `s` in, in block context, at
/// `place`: plain when it reads back as the same string, a literal block when it has line
/// breaks, single quotes where only YAML syntax is in the way, double quotes otherwise.
///
/// One deliberate difference from yaml.v3: a string with a tab is never a literal block,
/// because kustomize's copy of yaml.v3 refuses those and railyard prints what kustomize prints.
pub fn string_style(s: &str, place: Place) -> Style {
    if is_word(s) {
        // nothing of YAML's syntax can be in the way: only what the word reads as matters
        return if reads_back_plain(s) {
            Style::Plain
        } else {
            Style::Double
        };
    }
    if place == Place::Value && is_clean_block(s) {
        return Style::Literal;
    }
    if let Some(plain_allowed) = one_line_plain_allowed(s) {
        return match (reads_back_plain(s), plain_allowed) {
            (true, true) => Style::Plain,
            (true, false) => Style::Single,
            (false, _) => Style::Double,
        };
    }
    analysed_style(s, place)
}

/// A word: an ASCII letter, then letters, digits, `-`, `_`, `.` and `/` (most keys, kinds,
/// names, versions and paths). It holds no blank, line break, `:` or `#`, and starts with no
/// indicator, so the analysis allows it plain in every place, from one pass over the bytes.
fn is_word(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// For non-empty one-line printable ASCII without tabs (most keys, names, versions, paths,
/// commands and URLs),
/// where the analysis allows single quotes and a plain scalar unless a blank at either end or
/// an indicator is in the way: whether a plain scalar is allowed, from one pass over the
/// bytes. `None` for any other text, which the full analysis decides.
fn one_line_plain_allowed(s: &str) -> Option<bool> {
    let bytes = s.as_bytes();
    let (&first, &last) = (bytes.first()?, bytes.last()?);
    if !every_byte(bytes, |b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    let blank_after = |i: usize| bytes.get(i + 1).is_none_or(|&b| b == b' ');
    let first_indicator = match first {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => true,
        b'?' | b':' | b'-' => blank_after(0),
        _ => false,
    };
    // most text has neither `:` nor `#`, which a vectorised pass tells first
    let inner_indicator = !every_byte(&bytes[1..], |b| b != b':' && b != b'#')
        && (1..bytes.len()).any(|i| match bytes[i] {
            b':' => blank_after(i),
            b'#' => bytes[i - 1] == b' ',
            _ => false,
        });
    let indicators =
        first_indicator || inner_indicator || s.starts_with("---") || s.starts_with("...");
    Some(!(first == b' ' || last == b' ' || indicators))
}

/// Multi-line ASCII text (scripts, configs) that the analysis would allow as a literal block:
/// printable characters and `\n` only (no tab, CR or other special), no space before a line
/// break and none at the end. A value with a line break is a literal block exactly when a
/// block is allowed, so such text needs no walk over its characters one by one.
fn is_clean_block(s: &str) -> bool {
    s.contains('\n')
        && every_byte(s.as_bytes(), |b| b == b'\n' || (b' '..=b'~').contains(&b))
        && !s.ends_with(' ')
        && !s.contains(" \n")
}

/// Whether `test` holds for every byte. Scripts and configs are long, and every string written
/// is asked this: sixteen bytes at a time without stopping early, a loop the compiler turns
/// into vector instructions, costs a fraction of a byte-by-byte pass.
fn every_byte(bytes: &[u8], test: impl Fn(u8) -> bool) -> bool {
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if !chunk.iter().fold(true, |all, &b| all & test(b)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| test(b))
}

/// The style from libyaml's full analysis of the characters.
fn analysed_style(s: &str, place: Place) -> Style {
    let analysis = Analysis::of(s);
    let mut style = if place == Place::Key && analysis.multiline {
        Style::Double
    } else if s.contains('\n') {
        Style::Literal
    } else if reads_back_plain(s) {
        Style::Plain
    } else {
        Style::Double
    };
    if style == Style::Plain && (!analysis.plain_allowed || (s.is_empty() && place == Place::Key)) {
        style = Style::Single;
    }
    if style == Style::Single && !analysis.single_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!analysis.block_allowed || place != Place::Value) {
        style = Style::Double;
    }
    style
}

/// YAML line breaks: CR, LF, NEL, LS, PS.
pub(crate) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// yaml.v3's printable set: no NEL, nothing beyond the Basic Multilingual Plane.
pub(crate) fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}')
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
}

/// libyaml's `is_blankz`: a space, a tab, a line break, NUL, or the end of the text.
fn is_blankz(c: Option<&char>) -> bool {
    c.is_none_or(|&c| c == ' ' || c == '\t' || c == '\0' || is_break(c))
}

/// What YAML syntax allows for a string in block context (libyaml's scalar analysis).
struct Analysis {
    /// Any line break at all, `\n` or another.
    multiline: bool,
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
}

/// What a pass over the characters found.
#[derive(Default)]
struct Found {
    indicators: bool,
    line_breaks: bool,
    special: bool,
    tabs: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    break_space: bool,
    space_break: bool,
}

impl Analysis {
    fn of(s: &str) -> Analysis {
        if s.is_empty() {
            return Analysis {
                multiline: false,
                plain_allowed: true,
                single_allowed: true,
                block_allowed: false,
            };
        }
        let found = Found::scan(s);
        let mut analysis = Analysis {
            multiline: found.line_breaks,
            plain_allowed: true,
            single_allowed: true,
            block_allowed: true,
        };
        if found.leading_space
            || found.leading_break
            || found.trailing_space
            || found.trailing_break
            || found.line_breaks
            || found.indicators
        {
            analysis.plain_allowed = false;
        }
        if found.trailing_space {
            analysis.block_allowed = false;
        }
        if found.break_space || found.space_break || found.tabs || found.special {
            analysis.plain_allowed = false;
            analysis.single_allowed = false;
        }
        // kustomize's copy of yaml.v3 also refuses literal blocks with tabs
        if found.space_break || found.special || found.tabs {
            analysis.block_allowed = false;
        }
        analysis
    }
}

impl Found {
    fn scan(s: &str) -> Found {
        let mut chars = s.chars().peekable();
        let mut found = Found {
            indicators: s.starts_with("---") || s.starts_with("..."),
            ..Found::default()
        };
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let mut i = 0;
        while let Some(c) = chars.next() {
            let next = chars.peek();
            let followed_by_whitespace = is_blankz(next);
            let last = next.is_none();
            found.indicators |=
                is_indicator(c, i == 0, preceded_by_whitespace, followed_by_whitespace);
            if c == '\t' {
                found.tabs = true;
            } else if !is_printable(c) {
                found.special = true;
            }
            if c == ' ' {
                found.leading_space |= i == 0;
                found.trailing_space |= last;
                found.break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(c) {
                found.line_breaks = true;
                found.leading_break |= i == 0;
                found.trailing_break |= last;
                found.space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_whitespace = is_blankz(Some(&c));
            i += 1;
        }
        found
    }
}

/// Whether `c` is a block-context indicator where it stands, which rules out a plain scalar.
fn is_indicator(c: char, first: bool, after_blank: bool, before_blank: bool) -> bool {
    if first {
        match c {
            '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
            | '@' | '`' => true,
            '?' | ':' | '-' => before_blank,
            _ => false,
        }
    } else {
        match c {
            ':' => before_blank,
            '#' => after_blank,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Place, analysed_style, string_style};

    /// Plain words: names, versions, paths, and the words that read as something else.
    const WORDS: &[&str] = &[
        "a",
        "web",
        "apps/v1",
        "metadata",
        "y",
        "Y",
        "yes",
        "No",
        "on",
        "OFF",
        "null",
        "Null",
        "true",
        "FALSE",
        "n",
        "e5",
        "x1.5",
        "a-b_c.d/e",
        "nginx",
        "infinity",
        "nan",
        "Inf",
        "svc-000-config",
        "app.kubernetes.io/name",
        "registry.example.com/team/app-0",
        "NULL",
        "False",
        "Off",
        "a.",
        "x-",
        "b/",
        "z_",
        "e...",
    ];

    /// Multi-line text, clean and with every reason a block is refused.
    const BLOCKS: &[&str] = &[
        "a\nb",
        "a\nb\n",
        "#!/bin/sh\nset -eu\n",
        "\nleading break\n",
        " leading space\nx",
        "x\n\n\n",
        "trailing space\nx ",
        "space before break \nx",
        "tab\t\nx",
        "cr\r\nx",
        "- a: b\n  c: '#'\n",
        "\n",
        "\n ",
        "a\n b",
    ];

    /// One-line text with spaces, indicators and quotes.
    const LINES: &[&str] = &[
        "hello world",
        " leading",
        "trailing ",
        "a: b",
        "a:b",
        "a:",
        "a #b",
        "a#b",
        "#a",
        "- a",
        "-a",
        "-",
        ":",
        "? x",
        "?x",
        "--- a",
        "...",
        "'quoted'",
        "\"q\"",
        "@at",
        "`tick",
        "%p",
        "100",
        "1.5",
        "true",
        "0o17",
        "1:20",
        "http://example.com/a?b=c#frag",
        "echo $HOME && ls",
        "a, b",
        "{a}",
        "x!",
        "~",
    ];

    /// The shortcuts (plain words, clean blocks, one-line text) answer as the full analysis
    /// does, in every place.
    #[test]
    fn words_get_the_style_the_full_analysis_gives() {
        for word in WORDS.iter().chain(BLOCKS).chain(LINES) {
            for place in [Place::Key, Place::Value, Place::OneLine] {
                assert_eq!(
                    string_style(word, place),
                    analysed_style(word, place),
                    "{word}"
                );
            }
        }
    }
}
