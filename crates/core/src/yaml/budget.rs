//! Limits on the work one file can cause: nodes, key paths, reported problems, depth.

use crate::diagnostic::Diagnostic;
use crate::limits::MAX_DIAGNOSTICS;
use crate::source::Span;

use super::{Abort, Builder, MAX_DEPTH, MAX_NODES, MAX_PATH_BYTES, Node, Value};

impl Builder<'_> {
    /// Counts `nodes` more nodes whose key paths are `path_bytes` long in all.
    pub(super) fn count(
        &mut self,
        span: Span,
        nodes: usize,
        path_bytes: usize,
    ) -> Result<(), Abort> {
        self.nodes += nodes;
        self.path_bytes += path_bytes;
        if self.nodes > MAX_NODES {
            let hint = if self.aliased {
                "remove the aliases (`*name`) that repeat large parts of the document"
            } else {
                "railyard inputs are small hand-written files; split this one or check that it is the right file"
            };
            self.diagnostics.push(
                Diagnostic::error(
                    &self.file.name,
                    span,
                    "",
                    "document expands to too many nodes",
                )
                .expected(format!("at most {MAX_NODES} nodes, aliases expanded"))
                .hint(hint),
            );
            return Err(Abort);
        }
        if self.path_bytes > MAX_PATH_BYTES {
            self.diagnostics.push(
                Diagnostic::error(
                    &self.file.name,
                    span,
                    "",
                    "key paths are too long in total",
                )
                .expected(format!(
                    "at most {MAX_PATH_BYTES} bytes of key paths, summed over every value"
                ))
                .hint("every value below a key repeats it in its path; shorten the long keys above this point"),
            );
            return Err(Abort);
        }
        Ok(())
    }

    /// Reports `diagnostic`; abandons the file once there are as many as will be shown.
    pub(super) fn report(&mut self, diagnostic: Diagnostic) -> Result<(), Abort> {
        if self.diagnostics.len() + 1 >= MAX_DIAGNOSTICS {
            let at = Diagnostic::error(
                &self.file.name,
                diagnostic.span,
                "",
                "too many problems: the rest of this file is not checked",
            )
            .expected(format!(
                "at most {MAX_DIAGNOSTICS} problems reported at once"
            ))
            .hint("fix the problems above and run again");
            self.diagnostics.push(at);
            return Err(Abort);
        }
        self.diagnostics.push(diagnostic);
        Ok(())
    }

    pub(super) fn too_deep(&mut self, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(&self.file.name, span, "", "nesting is too deep")
                .expected(format!("at most {MAX_DEPTH} levels of mappings and lists"))
                .hint("a site file needs only a few levels; check the indentation"),
        );
    }

    /// Counts the copy of `node` an alias at `span` makes, its root's path `path_len` long.
    pub(super) fn count_tree(
        &mut self,
        node: &Node,
        span: Span,
        path_len: usize,
    ) -> Result<(), Abort> {
        self.count(span, 1, path_len)?;
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, n)| self.count_tree(n, span, path_len + 2 + decimal_digits(i))),
            Value::Map(entries) => entries
                .iter()
                .try_for_each(|e| self.count_tree(&e.value, span, path_len + 1 + e.key.len())),
            _ => Ok(()),
        }
    }
}

/// How many decimal digits `n` has (a list index's length in a path).
pub(super) fn decimal_digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}
