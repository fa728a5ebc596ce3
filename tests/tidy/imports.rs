//! The paths a Rust file names, resolved as far as the file alone allows: `use` trees read as
//! trees (groups, nesting, `self`, `as`, globs), paths written in code without a `use`, and
//! names bound by a `use` followed back to what they stand for.
//!
//! `use std::{fs as f}` and then `f::read` resolve to `std::fs` and `std::fs::read`; `super`
//! and `self` resolve against the file's module and the inline `mod` blocks around them.

use std::collections::BTreeMap;

use super::lexer::{Token, blank, tokens};

/// One path a file names, resolved: `["std", "fs", "read"]`, `["crate", "core", "yaml"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) path: Vec<String>,
    pub(crate) line: usize,
}

impl Reference {
    pub(crate) fn text(&self) -> String {
        self.path.join("::")
    }

    pub(crate) fn starts_with(&self, prefix: &[&str]) -> bool {
        self.path.len() >= prefix.len() && self.path.iter().zip(prefix).all(|(a, b)| a == b)
    }
}

/// What a file names: resolved paths, and the macros it calls (`println`, without the `!`).
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) paths: Vec<Reference>,
    pub(crate) macros: Vec<Reference>,
}

/// A path as written, with the module it was written in.
#[derive(Clone)]
struct Raw {
    path: Vec<String>,
    line: usize,
    module: Vec<String>,
    /// From a `use`: already relative to the crate root or an external crate, never to a binding.
    from_use: bool,
}

/// The names in `text`, a file whose module is `module` (`["core", "yaml"]`; empty for the root
/// or a file outside the crate's module tree).
pub(crate) fn names(text: &str, module: &[String]) -> Names {
    let tokens = tokens(&blank(text));
    let mut raw = Vec::new();
    let mut bindings: BTreeMap<String, Raw> = BTreeMap::new();
    let mut macros = Vec::new();
    let mut scopes = Scopes::new(module);
    let mut i = 0;
    while i < tokens.len() {
        scopes.step(&tokens, i);
        let token = &tokens[i];
        if token.is("use") {
            let (trees, end) = use_trees(&tokens, i + 1);
            for (path, binding) in trees {
                let raw_path = Raw {
                    path,
                    line: token.line,
                    module: scopes.current(),
                    from_use: true,
                };
                if let Some(name) = binding {
                    bindings.insert(name, raw_path.clone());
                }
                raw.push(raw_path);
            }
            i = end;
            continue;
        }
        // `a::b` continues a path; `::std` after anything else starts a global one.
        let continues =
            i > 1 && tokens[i - 1].is("::") && (tokens[i - 2].is_ident() || tokens[i - 2].is(">"));
        if token.is_ident() && !continues {
            if tokens.get(i + 1).is_some_and(|t| t.is("!"))
                && tokens
                    .get(i + 2)
                    .is_some_and(|t| matches!(t.text.as_str(), "(" | "[" | "{"))
            {
                macros.push(Reference {
                    path: vec![token.text.clone()],
                    line: token.line,
                });
            } else if tokens.get(i + 1).is_some_and(|t| t.is("::")) {
                let (path, end) = code_path(&tokens, i);
                raw.push(Raw {
                    path,
                    line: token.line,
                    module: scopes.current(),
                    from_use: false,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let paths = raw
        .iter()
        .filter_map(|r| resolve(r, &bindings, 0))
        .map(|(path, line)| Reference { path, line })
        .collect();
    Names { paths, macros }
}

/// `a::b::c` from token `start`; stops before `::<` and anything that is not a name.
fn code_path(tokens: &[Token], start: usize) -> (Vec<String>, usize) {
    let mut path = vec![tokens[start].text.clone()];
    let mut i = start + 1;
    while tokens.get(i).is_some_and(|t| t.is("::"))
        && tokens.get(i + 1).is_some_and(|t| t.is_ident())
    {
        path.push(tokens[i + 1].text.clone());
        i += 2;
    }
    (path, i)
}

/// A path a `use` tree names, with the name it binds (`None` for a glob or `as _`).
type Bound = (Vec<String>, Option<String>);

/// Every path a `use` tree names, each with the name it binds (`None` for globs and `as _`),
/// and the index after the closing `;`.
fn use_trees(tokens: &[Token], start: usize) -> (Vec<Bound>, usize) {
    let mut found = Vec::new();
    let mut i = start;
    if tokens.get(i).is_some_and(|t| t.is("::")) {
        i += 1;
    }
    let end = tree(tokens, i, &[], &mut found);
    let after = tokens[end.min(tokens.len())..]
        .iter()
        .position(|t| t.is(";"))
        .map_or(tokens.len(), |n| end + n + 1);
    (found, after)
}

/// One tree below `prefix`, from `i`; returns the index after it.
fn tree(tokens: &[Token], mut i: usize, prefix: &[String], found: &mut Vec<Bound>) -> usize {
    let mut path = prefix.to_vec();
    while let Some(token) = tokens.get(i) {
        match token.text.as_str() {
            "{" => return group(tokens, i + 1, &path, found),
            "*" => {
                path.push("*".to_owned());
                found.push((path, None));
                return i + 1;
            }
            "self" if !path.is_empty() => i += 1,
            text if token.is_ident() => {
                path.push(text.to_owned());
                i += 1;
            }
            _ => break,
        }
        if tokens.get(i).is_some_and(|t| t.is("::")) {
            i += 1;
        } else {
            break;
        }
    }
    let binding = if tokens.get(i).is_some_and(|t| t.is("as")) {
        i += 2;
        Some(tokens[i - 1].text.clone()).filter(|n| n != "_")
    } else {
        path.last().cloned()
    };
    if !path.is_empty() {
        found.push((path, binding));
    }
    i
}

/// `{ a, b::{c, d}, e as f }` after its `{`; returns the index after the `}`.
fn group(tokens: &[Token], mut i: usize, prefix: &[String], found: &mut Vec<Bound>) -> usize {
    while let Some(token) = tokens.get(i) {
        match token.text.as_str() {
            "}" => return i + 1,
            "," => i += 1,
            _ => {
                let next = tree(tokens, i, prefix, found);
                i = if next == i { i + 1 } else { next };
            }
        }
    }
    i
}

/// The path `raw` stands for: `crate`, `self` and `super` against its module, a leading name
/// bound by a `use` replaced by what it binds.
fn resolve(
    raw: &Raw,
    bindings: &BTreeMap<String, Raw>,
    depth: usize,
) -> Option<(Vec<String>, usize)> {
    let first = raw.path.first()?;
    let mut path = match first.as_str() {
        "crate" => vec!["crate".to_owned()],
        "self" | "super" => {
            let mut module = raw.module.clone();
            let supers = raw.path.iter().take_while(|s| *s == "super").count();
            module.truncate(module.len().checked_sub(supers)?);
            let mut path = vec!["crate".to_owned()];
            path.extend(module);
            let skip = supers.max(usize::from(first == "self"));
            path.extend(raw.path[skip..].iter().cloned());
            return Some((path, raw.line));
        }
        name => match bindings.get(name) {
            Some(bound) if !raw.from_use && depth < 8 => resolve(bound, bindings, depth + 1)?.0,
            _ => vec![name.to_owned()],
        },
    };
    path.extend(raw.path[1..].iter().cloned());
    Some((path, raw.line))
}

/// The module a token is in: the file's module plus the inline `mod name { … }` blocks open
/// around it.
struct Scopes {
    file: Vec<String>,
    /// Inline modules, each with the brace depth inside it.
    open: Vec<(String, usize)>,
    depth: usize,
}

impl Scopes {
    fn new(module: &[String]) -> Scopes {
        Scopes {
            file: module.to_vec(),
            open: Vec::new(),
            depth: 0,
        }
    }

    fn step(&mut self, tokens: &[Token], i: usize) {
        match tokens[i].text.as_str() {
            "{" => {
                self.depth += 1;
                let named = i >= 2 && tokens[i - 2].is("mod") && tokens[i - 1].is_ident();
                if named {
                    self.open.push((tokens[i - 1].text.clone(), self.depth));
                }
            }
            "}" => {
                if self.open.last().is_some_and(|(_, d)| *d == self.depth) {
                    self.open.pop();
                }
                self.depth = self.depth.saturating_sub(1);
            }
            _ => {}
        }
    }

    fn current(&self) -> Vec<String> {
        let mut module = self.file.clone();
        module.extend(self.open.iter().map(|(name, _)| name.clone()));
        module
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str, module: &[&str]) -> Vec<String> {
        let module: Vec<String> = module.iter().map(|s| (*s).to_owned()).collect();
        names(text, &module)
            .paths
            .iter()
            .map(Reference::text)
            .collect()
    }

    #[test]
    fn grouped_nested_and_renamed_imports() {
        let found = paths(
            "use std::{fs, io::{self, Read}, env as e};\nuse ::std::net::*;\nfn f() { e::var(\"X\"); io::stdin(); }",
            &[],
        );
        for wanted in [
            "std::fs",
            "std::io",
            "std::io::Read",
            "std::env",
            "std::net::*",
            "std::env::var",
            "std::io::stdin",
        ] {
            assert!(found.contains(&wanted.to_owned()), "{wanted} in {found:?}");
        }
    }

    #[test]
    fn paths_without_a_use_and_not_in_strings() {
        let found = paths(
            "fn f() { let _ = std::fs::read(\"x\"); let s = \"std::env::var\"; } // std::process\nfn g() { (::std::env::args)(); }",
            &[],
        );
        assert_eq!(found, ["std::fs::read", "std::env::args"]);
    }

    #[test]
    fn super_and_self_follow_modules_and_inline_mods() {
        let found = paths(
            "use super::emit;\nuse self::inner::X;\nmod tests {\n    use super::Thing;\n}\n",
            &["core", "yaml"],
        );
        assert_eq!(
            found,
            [
                "crate::core::emit",
                "crate::core::yaml::inner::X",
                "crate::core::yaml::Thing"
            ]
        );
    }

    #[test]
    fn macros_are_names_with_a_bang() {
        let names = names("fn f() { if a != b { println!(\"x\"); } }", &[]);
        let macros: Vec<String> = names.macros.iter().map(Reference::text).collect();
        assert_eq!(macros, ["println"]);
    }
}
