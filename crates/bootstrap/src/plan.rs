//! What bootstrap would do, as a value: the resources a site wants compared with what the cloud
//! holds under the site's label.
//!
//! The cloud is the only state: a resource belongs to a site when it carries the site's label,
//! and is matched to a wanted one by kind and name. Nothing here calls the cloud; the edge lists
//! the resources and the app carries out the steps through the edge's cloud clients.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::model::{Existing, FirewallRule, FollowUp, Kind, ResourceId, Spec, Wanted};
use railyard_core::labels;

/// What bootstrap does about one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Create(Wanted),
    Keep {
        kind: Kind,
        name: String,
        id: ResourceId,
    },
    /// Wanted and present, but not as wanted; `converge` holds the wanted spec when bootstrap
    /// fixes it (firewall rules).
    Differs {
        kind: Kind,
        name: String,
        id: ResourceId,
        what: String,
        converge: Option<Spec>,
    },
    /// Carries the site's label but the site does not want it (bootstrap leaves it alone).
    Unwanted {
        kind: Kind,
        name: String,
        id: ResourceId,
    },
    /// A server of an autoscaled pool: cluster-autoscaler created it and owns it, so bootstrap
    /// neither counts it as missing nor as unwanted; `railyard destroy` removes it with the site.
    Autoscaled {
        kind: Kind,
        name: String,
        id: ResourceId,
        pool: String,
    },
    /// The site's public key, held by the account under another name (`held_as`): clouds that
    /// refuse a second copy of a key make it the site's key as it is. It does not carry the
    /// site's label, so `destroy` leaves it.
    Adopted {
        kind: Kind,
        name: String,
        id: ResourceId,
        held_as: String,
    },
    /// Created, but an earlier run stopped before its follow-up work was done.
    Finish {
        kind: Kind,
        name: String,
        id: ResourceId,
        then: Vec<FollowUp>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub site: String,
    pub steps: Vec<Step>,
}

/// How many steps of each sort a plan holds, for its summary line.
#[derive(Default)]
struct Tally {
    create: usize,
    keep: usize,
    differ: usize,
    unwanted: usize,
    finish: usize,
    autoscaled: usize,
}

impl Plan {
    /// Whether bootstrap has anything to do or report.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| {
            !matches!(
                s,
                Step::Keep { .. } | Step::Adopted { .. } | Step::Autoscaled { .. }
            )
        })
    }

    pub fn creates(&self) -> impl Iterator<Item = &Wanted> {
        self.steps.iter().filter_map(|s| match s {
            Step::Create(wanted) => Some(wanted),
            _ => None,
        })
    }

    /// The plan for people, one line per resource.
    pub fn to_text(&self) -> String {
        let mut out = format!("plan for site `{}`:\n", self.site);
        let mut tally = Tally::default();
        for step in &self.steps {
            out.push_str(&line(step, &mut tally));
            out.push('\n');
        }
        let Tally {
            create,
            keep,
            differ,
            unwanted,
            finish,
            autoscaled,
        } = tally;
        let _ = write!(
            out,
            "{create} to create, {finish} to finish, {keep} to keep, {differ} different, {unwanted} unwanted"
        );
        // Only a site with autoscaled servers says so, so every other plan reads as before.
        if autoscaled > 0 {
            let _ = write!(out, ", {autoscaled} managed by the autoscaler");
        }
        out.push('\n');
        out
    }
}

/// The autoscaled pool a machine belongs to, by its pool label.
fn autoscaled_pool(existing: &Existing, autoscaled: &[String]) -> Option<String> {
    if existing.kind != Kind::Machine {
        return None;
    }
    existing
        .labels
        .get(labels::POOL)
        .filter(|pool| autoscaled.contains(pool))
        .cloned()
}

/// One step's line, counted.
fn line(step: &Step, tally: &mut Tally) -> String {
    match step {
        Step::Create(w) => {
            tally.create += 1;
            format!("  + create    {:<16} {}", w.kind().noun(), w.name)
        }
        Step::Keep { kind, name, id } => {
            tally.keep += 1;
            format!("  = keep      {:<16} {name} (#{id})", kind.noun())
        }
        Step::Adopted {
            kind,
            name,
            id,
            held_as,
        } => {
            tally.keep += 1;
            format!(
                "  = keep      {:<16} {name} (#{id}): the account holds this public key as `{held_as}`; used as it is, `railyard destroy` leaves it",
                kind.noun()
            )
        }
        Step::Differs {
            kind,
            name,
            id,
            what,
            converge,
        } => {
            tally.differ += 1;
            let action = if converge.is_some() {
                "bootstrap converges it"
            } else {
                "bootstrap leaves it; recreate it by hand"
            };
            format!(
                "  ~ differs   {:<16} {name} (#{id}): {what}; {action}",
                kind.noun()
            )
        }
        Step::Finish {
            kind,
            name,
            id,
            then,
        } => {
            tally.finish += 1;
            let work: Vec<String> = then.iter().map(FollowUp::describe).collect();
            format!(
                "  > finish    {:<16} {name} (#{id}): {}",
                kind.noun(),
                work.join(", ")
            )
        }
        Step::Autoscaled {
            kind,
            name,
            id,
            pool,
        } => {
            tally.autoscaled += 1;
            format!(
                "  * autoscaled {:<15} {name} (#{id}): pool `{pool}`, managed by the autoscaler; bootstrap leaves it, `railyard destroy` removes it",
                kind.noun()
            )
        }
        Step::Unwanted { kind, name, id } => {
            tally.unwanted += 1;
            format!(
                "  ! unwanted  {:<16} {name} (#{id}): carries the site's label but the site does not want it; `railyard destroy` or delete it by hand",
                kind.noun()
            )
        }
    }
}

/// Compares what the site wants with what the cloud holds under its label. A machine with the
/// label of one of `autoscaled` (the site's autoscaled pools) is the autoscaler's.
pub fn plan(site: &str, wanted: Vec<Wanted>, autoscaled: &[String], existing: &[Existing]) -> Plan {
    let mut steps = Vec::new();
    let mut seen = BTreeSet::new();
    for want in wanted {
        let found = existing
            .iter()
            .find(|o| o.kind == want.kind() && o.name == want.name);
        let Some(found) = found else {
            steps.push(Step::Create(want));
            continue;
        };
        seen.insert((found.kind, found.id.clone()));
        steps.push(step(want, found));
    }
    let mut unwanted: Vec<&Existing> = existing
        .iter()
        .filter(|o| o.labels.get(labels::SITE).map(String::as_str) == Some(site))
        .filter(|o| !seen.contains(&(o.kind, o.id.clone())))
        .collect();
    unwanted.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    steps.extend(
        unwanted
            .into_iter()
            .map(|o| match autoscaled_pool(o, autoscaled) {
                Some(pool) => Step::Autoscaled {
                    kind: o.kind,
                    name: o.name.clone(),
                    id: o.id.clone(),
                    pool,
                },
                None => Step::Unwanted {
                    kind: o.kind,
                    name: o.name.clone(),
                    id: o.id.clone(),
                },
            }),
    );
    Plan {
        site: site.to_owned(),
        steps,
    }
}

/// The step for a wanted resource the cloud holds.
fn step(want: Wanted, found: &Existing) -> Step {
    let kind = want.kind();
    if let Some((what, converge)) = difference(&want, found) {
        return Step::Differs {
            kind,
            name: want.name,
            id: found.id.clone(),
            what,
            converge,
        };
    }
    let then = want.remaining(&found.facts);
    if then.is_empty() {
        Step::Keep {
            kind,
            name: want.name,
            id: found.id.clone(),
        }
    } else {
        Step::Finish {
            kind,
            name: want.name,
            id: found.id.clone(),
            then,
        }
    }
}

/// How a present resource differs from the wanted one, and the spec that converges it when
/// bootstrap can (firewall rules); `None` when it is as wanted.
fn difference(want: &Wanted, found: &Existing) -> Option<(String, Option<Spec>)> {
    match &want.spec {
        Spec::Machine(machine) => {
            let wanted_type = machine.machine_type.as_str();
            let found_type = found.facts.machine_type.as_deref().unwrap_or_default();
            (wanted_type != found_type).then(|| {
                (
                    format!("server type is `{found_type}`, the site wants `{wanted_type}`"),
                    None,
                )
            })
        }
        Spec::Firewall { rules, .. } => (normal(rules) != normal(&found.facts.firewall_rules))
            .then(|| {
                (
                    "its rules differ from hosts/…/firewall.yaml".to_owned(),
                    Some(want.spec.clone()),
                )
            }),
        Spec::LoadBalancer(lb) => {
            let wanted_size = lb.size.as_str();
            let found_size = found.facts.size.as_deref().unwrap_or(wanted_size);
            (wanted_size != found_size).then(|| {
                (
                    format!("type is `{found_size}`, the site needs `{wanted_size}`"),
                    None,
                )
            })
        }
        Spec::Network {
            ip_range, subnet, ..
        } => {
            let ranges = &found.facts.ranges;
            let same = ranges.is_empty() || ranges.iter().any(|r| r == ip_range || r == subnet);
            (!same).then(|| {
                (
                    format!(
                        "its range is `{}`, the site's is `{ip_range}` (`spec.network.privateCidr`)",
                        ranges.join("`, `")
                    ),
                    None,
                )
            })
        }
        Spec::SshKey { .. } | Spec::PlacementGroup => None,
    }
}

/// Rules compared by what they let through (direction, protocol, port, sources), in any
/// order; descriptions are for people.
fn normal(rules: &[FirewallRule]) -> Vec<String> {
    let mut rules: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{:?}|{}|{}|{:?}",
                r.direction,
                r.protocol,
                r.port.as_deref().unwrap_or_default(),
                r.sources
            )
        })
        .collect();
    rules.sort();
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Facts, Labels, Machine};

    fn existing(kind: Kind, id: &str, name: &str, site: &str, facts: Facts) -> Existing {
        Existing {
            kind,
            id: ResourceId(id.to_owned()),
            name: name.to_owned(),
            labels: Labels::from([(labels::SITE.to_owned(), site.to_owned())]),
            facts,
        }
    }

    fn machine(name: &str, machine_type: &str) -> Wanted {
        Wanted {
            name: name.to_owned(),
            labels: Labels::new(),
            spec: Spec::Machine(Machine {
                machine_type: machine_type.to_owned(),
                image: String::new(),
                location: String::new(),
                ssh_keys: Vec::new(),
                user_data: String::new(),
                placement_group: String::new(),
                network: None,
                start: true,
            }),
            then: Vec::new(),
        }
    }

    #[test]
    fn steps_follow_what_the_cloud_holds() {
        let network = Wanted {
            name: "s-network".to_owned(),
            labels: Labels::new(),
            spec: Spec::Network {
                ip_range: String::new(),
                subnet: String::new(),
                zone: None,
            },
            then: Vec::new(),
        };
        let wanted = vec![
            network,
            machine("s-server-0", "cpx32"),
            machine("s-worker-0", "cpx42"),
        ];
        let typed = |t: &str| Facts {
            machine_type: Some(t.to_owned()),
            ..Facts::default()
        };
        let cloud = vec![
            existing(Kind::Network, "1", "s-network", "s", Facts::default()),
            existing(Kind::Machine, "2", "s-server-0", "s", typed("cpx22")),
            existing(Kind::Machine, "3", "s-worker-9", "s", Facts::default()),
            existing(
                Kind::Machine,
                "4",
                "other-worker-0",
                "other",
                Facts::default(),
            ),
        ];
        let plan = plan("s", wanted, &[], &cloud);
        let kinds: Vec<&str> = plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Create(_) => "create",
                Step::Keep { .. } | Step::Adopted { .. } => "keep",
                Step::Differs { .. } => "differs",
                Step::Unwanted { .. } => "unwanted",
                Step::Finish { .. } => "finish",
                Step::Autoscaled { .. } => "autoscaled",
            })
            .collect();
        assert_eq!(kinds, ["keep", "differs", "create", "unwanted"]);
        assert!(plan.has_changes());
        let text = plan.to_text();
        assert!(text.contains("1 to create, 0 to finish, 1 to keep, 1 different, 1 unwanted"));
        assert!(
            text.contains("server type is `cpx22`, the site wants `cpx32`"),
            "{text}"
        );
    }

    #[test]
    fn an_autoscaled_pools_servers_are_the_autoscalers_and_no_change() {
        let mut scaled = existing(Kind::Machine, "7", "s-burst-1f2e", "s", Facts::default());
        scaled.labels = labels::pool("s", "burst");
        let mut stray = existing(Kind::Machine, "8", "s-gone-0", "s", Facts::default());
        stray.labels = labels::pool("s", "gone");
        let cloud = vec![scaled, stray];
        let both = plan("s", Vec::new(), &["burst".to_owned()], &cloud);
        assert!(matches!(
            &both.steps[0],
            Step::Autoscaled { name, pool, .. } if name == "s-burst-1f2e" && pool == "burst"
        ));
        assert!(
            matches!(&both.steps[1], Step::Unwanted { name, .. } if name == "s-gone-0"),
            "a pool the site no longer autoscales is unwanted: {:?}",
            both.steps
        );
        let text = both.to_text();
        assert!(
            text.contains("1 unwanted, 1 managed by the autoscaler"),
            "{text}"
        );
        let only_scaled = plan("s", Vec::new(), &["burst".to_owned()], &cloud[..1]);
        assert!(
            !only_scaled.has_changes(),
            "the autoscaler's servers are no work"
        );
    }

    #[test]
    fn a_machine_found_off_is_powered_on() {
        let worker = machine("s-worker-0", "cpx42");
        let facts = Facts {
            machine_type: Some("cpx42".to_owned()),
            on_network: true,
            powered_off: true,
            ..Facts::default()
        };
        let cloud = [existing(Kind::Machine, "3", "s-worker-0", "s", facts)];
        let plan = plan("s", vec![worker], &[], &cloud);
        assert_eq!(
            plan.steps,
            [Step::Finish {
                kind: Kind::Machine,
                name: "s-worker-0".to_owned(),
                id: ResourceId("3".to_owned()),
                then: vec![FollowUp::PowerOn],
            }]
        );
        assert!(plan.has_changes());
    }

    #[test]
    fn a_fresh_create_skips_only_what_its_answer_shows_done() {
        let attach = FollowUp::AttachToNetwork {
            network: "s-network".to_owned(),
            ip: None,
        };
        let target = FollowUp::AddTarget {
            selector: "role=worker".to_owned(),
        };
        let mut server = machine("s-server-0", "cpx32");
        server.then = vec![attach.clone(), FollowUp::PowerOn];
        // Created stopped: the answer says neither off nor attached; both are still to do.
        assert_eq!(server.after_create(&Facts::default()), server.then);
        let off = Facts {
            powered_off: true,
            on_network: true,
            ..Facts::default()
        };
        assert_eq!(server.after_create(&off), [FollowUp::PowerOn]);
        let mut balancer = machine("s-lb-ingress", "");
        balancer.spec = Spec::PlacementGroup;
        balancer.then = vec![attach, target.clone()];
        let carried = Facts {
            on_network: true,
            ..Facts::default()
        };
        assert_eq!(balancer.after_create(&carried), [target]);
        let both = Facts {
            on_network: true,
            targets: vec!["role=worker".to_owned()],
            ..Facts::default()
        };
        assert!(balancer.after_create(&both).is_empty());
    }

    #[test]
    fn follow_ups_already_done_are_not_repeated() {
        let mut server = machine("s-server-0", "cpx32");
        server.then = vec![
            FollowUp::AttachToNetwork {
                network: "s-network".to_owned(),
                ip: Some("10.2.0.10".to_owned()),
            },
            FollowUp::PowerOn,
        ];
        let facts = Facts {
            machine_type: Some("cpx32".to_owned()),
            on_network: true,
            powered_off: true,
            ..Facts::default()
        };
        let cloud = [existing(Kind::Machine, "2", "s-server-0", "s", facts)];
        let plan = plan("s", vec![server], &[], &cloud);
        assert_eq!(
            plan.steps,
            [Step::Finish {
                kind: Kind::Machine,
                name: "s-server-0".to_owned(),
                id: ResourceId("2".to_owned()),
                then: vec![FollowUp::PowerOn],
            }]
        );
    }
}
