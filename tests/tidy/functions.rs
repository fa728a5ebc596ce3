//! Function lengths, from the `fn` line to the line of its closing brace, found by matching
//! braces in blanked source (so a brace or a `fn` inside a string or a comment does not count).

use super::lexer::{Token, blank, tokens};

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Function {
    pub(crate) name: String,
    /// The line of the `fn` keyword, 1-based.
    pub(crate) line: usize,
    /// Lines from the `fn` line to the closing brace, both included.
    pub(crate) lines: usize,
}

/// Every function with a body in `text`, nested ones included (and counted inside their outer
/// function too). Declarations without a body (`fn f();`) and `fn(..)` pointer types are not
/// functions here.
pub(crate) fn functions(text: &str) -> Vec<Function> {
    let tokens = tokens(&blank(text));
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !token.is("fn") {
            continue;
        }
        let Some(name) = tokens.get(i + 1).filter(|t| t.is_ident()) else {
            continue;
        };
        let Some(open) = body_start(&tokens, i + 2) else {
            continue;
        };
        let Some(close) = matching_brace(&tokens, open) else {
            continue;
        };
        found.push(Function {
            name: name.text.clone(),
            line: token.line,
            lines: tokens[close].line - token.line + 1,
        });
    }
    found
}

/// The `{` that opens the body: the first one outside the signature's brackets, unless a `;`
/// comes first (a declaration in a trait or an `extern` block).
fn body_start(tokens: &[Token], from: usize) -> Option<usize> {
    let mut depth = 0_i32;
    for (i, token) in tokens.iter().enumerate().skip(from) {
        match token.text.as_str() {
            "(" | "[" => depth += 1,
            ")" | "]" => depth -= 1,
            "{" if depth == 0 => return Some(i),
            ";" if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

fn matching_brace(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0_usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_fn_to_closing_brace() {
        let source = "/// doc\nfn a(x: fn(u8) -> u8) -> u8 {\n    let s = \"}\";\n    x(1)\n}\n";
        assert_eq!(
            functions(source),
            [Function {
                name: "a".to_owned(),
                line: 2,
                lines: 4
            }]
        );
    }

    #[test]
    fn a_fn_in_a_string_or_comment_is_not_counted() {
        let source = "const S: &str = \"fn fake() {\";\n// fn other() {}\nfn real() -> &'static str { r#\"fn raw() { }\"# }\n";
        let names: Vec<String> = functions(source).into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["real"]);
    }

    #[test]
    fn declarations_and_nested_functions() {
        let source = "trait T { fn d(&self); }\nfn outer() {\n    fn inner() {\n    }\n}\n";
        let found: Vec<(String, usize)> = functions(source)
            .into_iter()
            .map(|f| (f.name, f.lines))
            .collect();
        assert_eq!(found, [("outer".to_owned(), 4), ("inner".to_owned(), 2)]);
    }
}
