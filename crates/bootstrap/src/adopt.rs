//! The site's SSH key held by the account under another name, adopted by the plan: clouds that
//! refuse a second copy of a public key (DigitalOcean, Scaleway's IAM) would otherwise be
//! asked to create it on every run, and the plan would never be clean.

use crate::model::{Existing, HeldKey, Kind, Spec, Wanted};
use crate::plan::{Plan, Step};

/// Turns each SSH key the plan would create into an adopted one when the account already holds
/// its public key under another name (`held`): such clouds refuse the create, so the plan
/// would say "create" forever. Returns the adopted keys as resources under their wanted
/// names, without the site's label, for the run's references.
pub fn held_keys(plan: &mut Plan, held: &[HeldKey]) -> Vec<Existing> {
    let mut adopted = Vec::new();
    for step in &mut plan.steps {
        let Step::Create(Wanted {
            name,
            spec: Spec::SshKey { public_key },
            ..
        }) = step
        else {
            continue;
        };
        let Some(key) = held.iter().find(|k| k.holds(public_key)) else {
            continue;
        };
        adopted.push(Existing {
            kind: Kind::SshKey,
            id: key.id.clone(),
            name: name.clone(),
            labels: crate::model::Labels::new(),
            facts: crate::model::Facts::default(),
        });
        *step = Step::Adopted {
            kind: Kind::SshKey,
            name: name.clone(),
            id: key.id.clone(),
            held_as: key.name.clone(),
        };
    }
    adopted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, ResourceId};
    use crate::plan::plan;

    #[test]
    fn a_key_the_account_holds_under_another_name_is_adopted_not_created() {
        let key = |public_key: &str| Wanted {
            name: "s-key-0".to_owned(),
            labels: Labels::new(),
            spec: Spec::SshKey {
                public_key: public_key.to_owned(),
            },
            then: Vec::new(),
        };
        let held = [HeldKey {
            id: ResourceId("77".to_owned()),
            name: "laptop".to_owned(),
            public_key: "ssh-ed25519 AAAAkey laptop@home".to_owned(),
        }];
        let mut mine = plan("s", vec![key("ssh-ed25519 AAAAkey admin@site")], &[], &[]);
        let refs = held_keys(&mut mine, &held);
        assert!(!mine.has_changes(), "{}", mine.to_text());
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].name.as_str(), refs[0].id.0.as_str()),
            ("s-key-0", "77")
        );
        assert!(
            refs[0].labels.is_empty(),
            "an adopted key never carries the site"
        );
        let text = mine.to_text();
        assert!(text.contains("holds this public key as `laptop`"), "{text}");
        assert!(
            text.contains("0 to create, 0 to finish, 1 to keep"),
            "{text}"
        );
        let mut other = plan("s", vec![key("ssh-ed25519 AAAAother admin@site")], &[], &[]);
        assert!(held_keys(&mut other, &held).is_empty());
        assert_eq!(other.creates().count(), 1);
    }
}
