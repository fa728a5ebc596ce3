//! A string near the top of a file, read from the parser's events without building the tree.
//!
//! Before compiling, the edge asks for a site's name to find the lock of its last render, and
//! the compiler parses the whole file again right after; reading the events only as far as
//! `metadata.name` (the file's third line, as people write it) leaves the rest unscanned.

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::MAX_INPUT_BYTES;
use super::scalar::{self, Plain};

/// The string at `path` (the keys of nested mappings, from the first document's root mapping)
/// when the events up to it say so plainly: no anchor, alias or tag on the way, no parse error
/// before it, and a plain value that reads as a string. `None` otherwise, and then the caller
/// parses the whole file as it would have: this only spares that parse where the answer is
/// plain, and where it is, the tree's answer is the same (the first of duplicate keys wins in
/// both).
pub(crate) fn string_at(text: &str, path: &[&str]) -> Option<String> {
    if text.len() > MAX_INPUT_BYTES {
        return None;
    }
    let mut parser = Parser::new_from_str(text);
    let mut next = move || match parser.next_event() {
        Some(Ok((event, _))) => Some(event),
        _ => None,
    };
    loop {
        match next()? {
            Event::StreamStart | Event::DocumentStart(_) | Event::Nothing => {}
            Event::MappingStart(0, None) => break,
            _ => return None,
        }
    }
    let mut keys = path.iter();
    let mut key = *keys.next()?;
    loop {
        match next()? {
            Event::Scalar(text, _, 0, None) if text == key => match next()? {
                Event::MappingStart(0, None) => key = *keys.next()?,
                Event::Scalar(value, style, 0, None) if keys.len() == 0 => {
                    let string =
                        style != ScalarStyle::Plain || scalar::resolve(&value) == Plain::Str;
                    return string.then(|| value.into_owned());
                }
                _ => return None,
            },
            Event::Scalar(..) => skip_value(&mut next)?,
            _ => return None,
        }
    }
}

/// Reads past one value, whatever it holds.
fn skip_value<'a>(next: &mut impl FnMut() -> Option<Event<'a>>) -> Option<()> {
    let mut depth = 0usize;
    loop {
        match next()? {
            Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.checked_sub(1)?,
            Event::Scalar(..) | Event::Alias(_) => {}
            _ => return None,
        }
        if depth == 0 {
            return Some(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::string_at;
    use crate::source::SourceFile;
    use crate::yaml::{self, Node};

    const PATH: &[&str] = &["metadata", "name"];

    /// What the whole tree says.
    fn from_tree(text: &str) -> Option<String> {
        let (documents, _) = yaml::parse_stream(&SourceFile::new("site.yaml", text));
        let node = PATH
            .iter()
            .try_fold(documents.first()?, |node: &Node, key| node.get(key))?;
        node.as_str().map(str::to_owned)
    }

    /// Where the events answer, they answer as the tree does.
    #[test]
    fn plain_answers_are_the_trees() {
        let found = [
            "apiVersion: v1\nkind: Site\nmetadata:\n  name: demo\nspec: {a: [1, {b: c}]}\n",
            "spec:\n  x: [a, {b: [c]}]\n  y: |\n    text\nmetadata: {labels: {a: b}, name: 'quoted'}\n",
            "metadata:\n  name: first\n  other: x\nmetadata:\n  name: second\n",
            "metadata:\n  name: \"yes\"\n",
            "a: &x 1\nb: *x\nmetadata:\n  name: after-an-alias\n",
            "metadata:\n  name: demo\nspec: [unclosed\n",
        ];
        for text in found {
            let peeked = string_at(text, PATH);
            assert!(peeked.is_some(), "{text}");
            // a parse error after the name leaves the tree without the document
            if !text.contains("unclosed") {
                assert_eq!(peeked, from_tree(text), "{text}");
            }
        }
    }

    /// Anything the events cannot say plainly is left to the whole parse.
    #[test]
    fn the_rest_is_left_to_the_tree() {
        let unsure = [
            "metadata:\n  name: 123\n",
            "metadata:\n  name: null\n",
            "metadata: &m\n  name: demo\n",
            "metadata:\n  name: !!str demo\n",
            "base: &n demo\nmetadata:\n  name: *n\n",
            "metadata:\n  labels: {}\n",
            "metadata:\n  name:\n    nested: x\n",
            "- a list\n",
            "",
            "metadata:\n\tname: demo\n",
        ];
        for text in unsure {
            assert_eq!(string_at(text, PATH), None, "{text}");
        }
    }
}
