//! Whether the machine types a plan creates are sold in their locations now, checked before
//! anything is created: availability is per location and changes (a type sells out, or is
//! deprecated in one location first), and a create refused halfway leaves the rest behind.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::model::{Spec, Wanted};

/// A machine type as its cloud offers it in one location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub machine_type: String,
    pub location: String,
    /// Can be ordered there now.
    pub available: bool,
}

/// A machine type the plan creates where it cannot be ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    pub machine_type: String,
    pub location: String,
    /// What can be ordered there now, by name.
    pub available: Vec<String>,
}

/// Every type the site creates but its location does not sell now, with what it does sell.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct AvailabilityError(pub Vec<Unavailable>);

fn describe(all: &[Unavailable]) -> String {
    let mut out = String::new();
    for (i, u) in all.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(
            out,
            "server type `{}` is not available in `{}`",
            u.machine_type, u.location
        );
        if u.available.is_empty() {
            out.push_str(" and no type is available there now");
        } else {
            let names: Vec<String> = u.available.iter().map(|n| format!("`{n}`")).collect();
            let _ = write!(out, "; available there now: {}", names.join(", "));
        }
    }
    out.push_str(
        "; set `spec.sizeData.managerType` or `workerType` to an available type, or pick another location",
    );
    out
}

/// Checks each machine to be created against the offers; every problem at once. A location
/// the offers do not mention at all is not checked (a cloud whose client cannot list its
/// offers lists none); one they mention sells only what they say is available.
pub fn check<'a>(
    creates: impl IntoIterator<Item = &'a Wanted>,
    offers: &[Offer],
) -> Result<(), AvailabilityError> {
    let mut by_location: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for offer in offers {
        let types = by_location.entry(&offer.location).or_default();
        if offer.available {
            types.insert(&offer.machine_type);
        }
    }
    let mut missing = BTreeSet::new();
    for wanted in creates {
        if let Spec::Machine(machine) = &wanted.spec {
            let sold = by_location
                .get(machine.location.as_str())
                .is_none_or(|types| types.contains(machine.machine_type.as_str()));
            if !sold {
                missing.insert((machine.machine_type.clone(), machine.location.clone()));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(AvailabilityError(
        missing
            .into_iter()
            .map(|(machine_type, location)| Unavailable {
                available: by_location
                    .get(location.as_str())
                    .into_iter()
                    .flatten()
                    .map(|t| (*t).to_owned())
                    .collect(),
                machine_type,
                location,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Labels, Machine};

    fn machine(name: &str, machine_type: &str, location: &str) -> Wanted {
        Wanted {
            name: name.to_owned(),
            labels: Labels::new(),
            spec: Spec::Machine(Machine {
                machine_type: machine_type.to_owned(),
                image: String::new(),
                location: location.to_owned(),
                ssh_keys: Vec::new(),
                user_data: String::new(),
                placement_group: String::new(),
                network: None,
                start: true,
            }),
            then: Vec::new(),
        }
    }

    fn offer(machine_type: &str, location: &str, available: bool) -> Offer {
        Offer {
            machine_type: machine_type.to_owned(),
            location: location.to_owned(),
            available,
        }
    }

    #[test]
    fn types_sold_out_or_not_sold_in_the_location_are_named_with_the_alternatives() {
        let offers = [
            offer("cpx42", "nbg1", false),
            offer("cpx32", "nbg1", true),
            offer("cpx22", "nbg1", true),
            offer("cx23", "fsn1", true),
            offer("cpx42", "fsn1", true),
        ];
        let wanted = [
            machine("s-server-0", "cpx42", "nbg1"),
            machine("s-worker-0", "cpx42", "nbg1"),
            machine("s-worker-1", "cx23", "nbg1"),
            machine("s-worker-2", "cpx42", "fsn1"),
        ];
        let error = check(&wanted, &offers).expect_err("two types are missing");
        assert_eq!(
            error.to_string(),
            "server type `cpx42` is not available in `nbg1`; available there now: `cpx22`, `cpx32`; \
             server type `cx23` is not available in `nbg1`; available there now: `cpx22`, `cpx32`; \
             set `spec.sizeData.managerType` or `workerType` to an available type, or pick another location"
        );
        assert_eq!(check(&wanted[3..], &offers), Ok(()));
        // Nothing is known of hel1: not checked. All sold out in ash: nothing available.
        let elsewhere = [machine("s-worker-3", "cpx42", "hel1")];
        assert_eq!(check(&elsewhere, &offers), Ok(()));
        let sold_out = [offer("cpx42", "ash", false)];
        let error = check(&[machine("s-worker-4", "cpx42", "ash")], &sold_out);
        assert!(error.is_err_and(|e| e.to_string().contains("no type is available there now")),);
    }
}
