//! The work budget of one overlay build, and what operations cost in it.

use std::cell::Cell;

use serde_json::Value as Json;

use super::error::OutOfWork;
use crate::diagnostic::Diagnostic;
use crate::limits::MAX_OVERLAY_WORK;

/// The work an overlay build may still do ([`MAX_OVERLAY_WORK`]): one step is an object
/// compared with a selector or a name, a list entry compared while merging, a node walked (name
/// references, images); a node a patch, a copy or a transformer adds costs [`KEEP`] steps. Steps that loop
/// spend as they go and stop at the first step the budget cannot pay; the step's caller then
/// reports it where the work was asked for.
#[derive(Default)]
pub(crate) struct Work {
    spent: Cell<usize>,
}

impl Work {
    /// Spends `steps`; an error once the build has taken more than [`MAX_OVERLAY_WORK`]. The
    /// steps count even then, so every later spend fails too.
    pub(crate) fn spend(&self, steps: usize) -> Result<(), OutOfWork> {
        let spent = self.spent.get().saturating_add(steps);
        self.spent.set(spent);
        if spent <= MAX_OVERLAY_WORK {
            Ok(())
        } else {
            Err(OutOfWork)
        }
    }
}

/// The error for a build that ran out of [`Work`], at the step that did.
pub(super) fn too_much_work(at: Diagnostic) -> Diagnostic {
    Diagnostic {
        message: OutOfWork.to_string(),
        ..at
    }
    .expected(format!(
        "at most {MAX_OVERLAY_WORK} steps of patching, selecting, merging and renaming"
    ))
    .hint("use fewer or smaller patches, or narrower targets; each patch applies to every object it selects")
}

/// What one node an operation adds to an object costs, in steps: besides being walked, it is
/// memory the build keeps (a JSON node with its map costs a couple of hundred bytes).
pub(super) const KEEP: usize = 8;

/// What an object costs to copy or walk: one step per node, one more per 8 bytes of text.
pub(super) fn weight(value: &Json) -> usize {
    match value {
        Json::String(s) => 1 + s.len() / 8,
        Json::Array(items) => 1 + items.iter().map(weight).sum::<usize>(),
        Json::Object(map) => {
            1 + map
                .iter()
                .map(|(k, v)| k.len() / 8 + weight(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}
