//! Patch targets that select nothing. kustomize skips such a patch without a word, and
//! `railyard overlay build` follows it; a site's own overlays (`spec.overlays`) are written
//! against railyard's rendered objects, where a target matching nothing is almost always a
//! typo, so there each one comes back as a warning at the patch (`--strict` fails on it).

use std::cell::RefCell;

use crate::diagnostic::{Diagnostic, Severity};

/// What a build does with a patch whose target selects nothing.
#[derive(Default)]
pub(crate) struct Unmatched {
    /// Whether to report them (site overlays) or skip them (kustomize's way).
    warn: bool,
    found: RefCell<Vec<Diagnostic>>,
}

impl Unmatched {
    /// Reporting each as a warning.
    pub(crate) fn warning() -> Unmatched {
        Unmatched {
            warn: true,
            found: RefCell::default(),
        }
    }

    /// A patch at `at` selected nothing: kept as a warning, or dropped.
    pub(crate) fn report(&self, at: Diagnostic) {
        if self.warn {
            self.found.borrow_mut().push(Diagnostic {
                severity: Severity::Warning,
                ..at
            });
        }
    }

    /// The warnings gathered, in the order the patches ran.
    pub(crate) fn take(&self) -> Vec<Diagnostic> {
        self.found.take()
    }
}
