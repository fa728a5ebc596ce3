//! Rust source reduced to its code: comments and the insides of string and char literals
//! blanked, then cut into tokens with line numbers, for the tidy scanners.
//!
//! Blanking rather than deleting keeps every line where it was, so a finding names the line a
//! reader sees. Tokens are what the scanners need and no more: identifiers, `::`, and single
//! punctuation characters.

/// `text` with every comment and the inside of every string, byte string, raw string and char
/// literal replaced by spaces; newlines stay, so lines keep their numbers.
pub(crate) fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && is_ident(chars[i - 1]);
        let end = if c == '/' && next == Some('/') {
            line_comment_end(&chars, i)
        } else if c == '/' && next == Some('*') {
            block_comment_end(&chars, i)
        } else if c == '"' {
            quoted_end(&chars, i + 1, '"')
        } else if c == '\'' {
            char_literal_end(&chars, i)
        } else if !after_ident && matches!(c, 'r' | 'b' | 'c') {
            prefixed_literal_end(&chars, i)
        } else {
            None
        };
        match end {
            Some(end) => {
                out.extend(
                    chars[i..end]
                        .iter()
                        .map(|&c| if c == '\n' { '\n' } else { ' ' }),
                );
                i = end;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

pub(crate) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn line_comment_end(chars: &[char], start: usize) -> Option<usize> {
    let rest = chars[start..].iter().position(|&c| c == '\n');
    Some(rest.map_or(chars.len(), |n| start + n))
}

/// Block comments nest in Rust.
fn block_comment_end(chars: &[char], start: usize) -> Option<usize> {
    let (mut depth, mut i) = (0_usize, start);
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    Some(chars.len())
}

/// The end of a literal whose body starts at `body` and closes with `close`, `\` escaping.
fn quoted_end(chars: &[char], body: usize, close: char) -> Option<usize> {
    let mut i = body;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == close => return Some(i + 1),
            _ => i += 1,
        }
    }
    Some(chars.len())
}

/// `'x'`, `'\n'`, `'\u{1b}'` are literals; `'a` and `'static` are lifetimes and stay.
fn char_literal_end(chars: &[char], start: usize) -> Option<usize> {
    match (chars.get(start + 1), chars.get(start + 2)) {
        (Some('\\'), _) => quoted_end(chars, start + 1, '\''),
        (Some(_), Some('\'')) => Some(start + 3),
        _ => None,
    }
}

/// `r"…"`, `r#"…"#`, `b"…"`, `br#"…"#`, `c"…"`, `b'x'`; `r#type` is a raw identifier.
fn prefixed_literal_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start;
    if chars[i] == 'b' && chars.get(i + 1) == Some(&'\'') {
        return char_literal_end(chars, i + 1);
    }
    if matches!(chars[i], 'b' | 'c') && chars.get(i + 1) == Some(&'r') {
        i += 1;
    }
    if chars[i] != 'r' {
        return (chars.get(i + 1) == Some(&'"')).then(|| quoted_end(chars, i + 2, '"'))?;
    }
    let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
    let open = i + 1 + hashes;
    if chars.get(open) != Some(&'"') {
        return None;
    }
    let mut j = open + 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) text: String,
    /// 1-based.
    pub(crate) line: usize,
}

impl Token {
    pub(crate) fn is(&self, text: &str) -> bool {
        self.text == text
    }

    pub(crate) fn is_ident(&self) -> bool {
        self.text.starts_with(is_ident)
    }
}

/// The tokens of blanked text: identifiers (lifetimes and numbers too), `::`, and every other
/// character that is not white space, alone.
pub(crate) fn tokens(blanked: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (index, line) in blanked.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let len =
                if is_ident(c) || (c == '\'' && chars.get(i + 1).is_some_and(|&n| is_ident(n))) {
                    1 + chars[i + 1..].iter().take_while(|&&c| is_ident(c)).count()
                } else if c == ':' && chars.get(i + 1) == Some(&':') {
                    2
                } else {
                    1
                };
            if !c.is_whitespace() {
                tokens.push(Token {
                    text: chars[i..i + len].iter().collect(),
                    line: index + 1,
                });
            }
            i += len;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_literals_are_blanked_lines_kept() {
        let source =
            "let a = \"std::fs { }\"; // std::fs\n/* outer /* inner */ still */ b\n'{' '\\'' c";
        let blanked = blank(source);
        assert_eq!(blanked.lines().count(), source.lines().count());
        assert!(!blanked.contains("std"));
        assert!(!blanked.contains('{'));
        assert!(blanked.contains(" b"));
        assert!(blanked.trim_end().ends_with('c'));
    }

    #[test]
    fn raw_strings_and_lifetimes() {
        let source = "f(r#\"a \" } fn x\"#, br\"}\", b'}', &'a str, r#type)";
        let blanked = blank(source);
        assert!(!blanked.contains('}'), "{blanked}");
        assert!(!blanked.contains("fn"), "{blanked}");
        assert!(blanked.contains("'a str"), "{blanked}");
        assert!(blanked.contains("r#type"), "{blanked}");
    }

    #[test]
    fn tokens_carry_lines() {
        let tokens = tokens("use std::{fs,\n io};");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["use", "std", "::", "{", "fs", ",", "io", "}", ";"]);
        assert_eq!(tokens[6].line, 2);
    }
}
