//! A machine's rendered user-data by digest, for clouds that never serve a machine's user-data
//! back and cannot change it (Azure's `customData`): the client keeps the digest beside the
//! machine (a tag) at the create, and the plan reports a machine whose rendered file has
//! changed since as different, to be replaced by hand, never sent again.
//!
//! The digest is of the rendered file as reviewed, before addresses and secrets are filled
//! in, so it names no secret.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use crate::model::{Existing, Kind, Spec, Wanted};
use crate::plan::{Plan, Step};

/// The first 16 hex digits of the SHA-256 of a rendered user-data file: enough to tell a
/// change, short enough for a tag value.
pub fn digest(rendered: &[u8]) -> String {
    Sha256::digest(rendered)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest of each wanted machine's rendered user-data, by machine name; a file missing
/// from the render gives none.
pub fn digests(wanted: &[Wanted], files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    wanted
        .iter()
        .filter_map(|w| match &w.spec {
            Spec::Machine(m) => files
                .get(&m.user_data)
                .map(|bytes| (w.name.clone(), digest(bytes))),
            _ => None,
        })
        .collect()
}

/// Turns each kept machine whose recorded digest differs from its rendered file's into a
/// difference bootstrap leaves as it is; machines without a recorded digest are as they were.
pub fn mark_changes(plan: &mut Plan, existing: &[Existing], digests: &BTreeMap<String, String>) {
    for step in &mut plan.steps {
        let Step::Keep {
            kind: Kind::Machine,
            name,
            id,
        } = step
        else {
            continue;
        };
        let recorded = existing
            .iter()
            .find(|e| e.kind == Kind::Machine && &e.id == id)
            .and_then(|e| e.facts.user_data.as_deref());
        let (Some(recorded), Some(rendered)) = (recorded, digests.get(name.as_str())) else {
            continue;
        };
        if recorded != rendered {
            *step = Step::Differs {
                kind: Kind::Machine,
                name: name.clone(),
                id: id.clone(),
                what: "its user-data was rendered differently since it was created; the cloud cannot change it on a machine that exists, so replace the machine to apply it".to_owned(),
                converge: None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, ResourceId};

    fn kept(name: &str) -> Step {
        Step::Keep {
            kind: Kind::Machine,
            name: name.to_owned(),
            id: ResourceId(format!("id-{name}")),
        }
    }

    fn found(name: &str, user_data: Option<&str>) -> Existing {
        Existing {
            kind: Kind::Machine,
            id: ResourceId(format!("id-{name}")),
            name: name.to_owned(),
            labels: BTreeMap::new(),
            facts: Facts {
                user_data: user_data.map(str::to_owned),
                ..Facts::default()
            },
        }
    }

    #[test]
    fn a_changed_rendering_is_a_difference_left_as_it_is() {
        let old = digest(b"#cloud-config\nA\n");
        let new = digest(b"#cloud-config\nB\n");
        assert_ne!(old, new);
        assert_eq!(old.len(), 16);
        let mut plan = Plan {
            site: "demo".to_owned(),
            steps: vec![kept("a"), kept("b"), kept("c")],
        };
        let existing = [
            found("a", Some(&old)),
            found("b", Some(&new)),
            found("c", None),
        ];
        let digests = BTreeMap::from([
            ("a".to_owned(), new.clone()),
            ("b".to_owned(), new.clone()),
            ("c".to_owned(), new),
        ]);
        mark_changes(&mut plan, &existing, &digests);
        assert!(matches!(
            &plan.steps[0],
            Step::Differs { name, converge: None, .. } if name == "a"
        ));
        assert_eq!(plan.steps[1], kept("b"));
        assert_eq!(
            plan.steps[2],
            kept("c"),
            "no recorded digest: nothing to compare"
        );
    }
}
