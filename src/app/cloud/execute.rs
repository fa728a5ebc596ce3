//! Carrying out a plan through the cloud's client: converge what bootstrap converges, then
//! create and finish in four waves, each concurrent with at most `IN_FLIGHT` requests.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::CloudCommand;
use crate::app::lines::progress;
use crate::bootstrap::model::{Existing, FollowUp, Kind, ResourceId, Spec, Wanted};
use crate::bootstrap::plan::{Plan, Step};
use crate::core::{labels, layout, placeholder};
use crate::edge::cloud::{Cloud, Refs};

/// How many requests bootstrap keeps in flight at once.
const IN_FLIGHT: usize = 16;

/// Every resource of the site as it stands after the plan, by kind and name.
pub(super) type Resources = BTreeMap<(Kind, String), Existing>;

/// Runs the plan; returns the site's resources as the cloud last reported them.
pub(super) async fn execute(
    context: &CloudCommand,
    plan: &Plan,
    existing: &[Existing],
    secrets: &BTreeMap<String, String>,
) -> Result<Resources> {
    let mut run = Run {
        context,
        secrets,
        refs: existing
            .iter()
            .map(|o| ((o.kind, o.name.clone()), o.id.clone()))
            .collect(),
        resources: existing
            .iter()
            .map(|o| ((o.kind, o.name.clone()), o.clone()))
            .collect(),
        limit: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
        progress: progress_bar(plan),
    };
    for step in &plan.steps {
        if let Step::Differs {
            kind,
            name,
            id,
            converge: Some(spec),
            ..
        } = step
        {
            context.client.converge(*kind, id, spec).await?;
            progress(&format!("converged {} `{name}`", kind.noun()));
        }
    }
    for wave in 0..4 {
        run.create_wave(plan, wave).await?;
        run.finish_wave(plan, wave).await?;
    }
    run.progress.finish_and_clear();
    Ok(run.resources)
}

/// The state of one run of the plan.
struct Run<'a> {
    context: &'a CloudCommand,
    secrets: &'a BTreeMap<String, String>,
    refs: Refs,
    resources: Resources,
    limit: Arc<tokio::sync::Semaphore>,
    progress: indicatif::ProgressBar,
}

/// A bar on a terminal (stderr); the lines it prints go where `lines::progress` sends them.
fn progress_bar(plan: &Plan) -> indicatif::ProgressBar {
    let work = plan.creates().count()
        + plan
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Finish { .. }))
            .count();
    indicatif::ProgressBar::with_draw_target(
        Some(work as u64),
        indicatif::ProgressDrawTarget::stderr(),
    )
    .with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} resources {wide_bar} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

impl Run<'_> {
    /// Waits until every server whose assigned address the creates' user-data names reports
    /// it: a server an earlier run created may still be starting (DigitalOcean assigns the
    /// address when the droplet is up).
    async fn await_addresses(&mut self, creates: &[&Wanted]) -> Result<()> {
        let mut needed = std::collections::BTreeSet::new();
        for wanted in creates {
            let Spec::Machine(machine) = &wanted.spec else {
                continue;
            };
            let Some(bytes) = self.context.files.get(&machine.user_data) else {
                continue;
            };
            let found = placeholder::scan(&String::from_utf8_lossy(bytes)).unwrap_or_default();
            needed.extend(
                found
                    .into_iter()
                    .filter(|p| p.kind == "address")
                    .map(|p| p.name),
            );
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
        for name in needed {
            let Some(index) = (0..self.resources.len() as u32)
                .find(|i| layout::server_private_address(*i) == name)
            else {
                continue;
            };
            let key = (
                Kind::Machine,
                layout::cloud::server(&self.context.site, index),
            );
            while let Some(server) = self.resources.get(&key) {
                if server.facts.private_ipv4.is_some() || std::time::Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(super::timing().poll).await;
                let fresh = self.context.client.get(Kind::Machine, &server.id).await?;
                self.resources.insert(key.clone(), fresh);
            }
        }
        Ok(())
    }

    /// An address placeholder's value: server N's private address as the cloud reports it.
    fn assigned_address(&self, name: &str) -> Option<String> {
        (0..self.resources.len() as u32)
            .find(|i| layout::server_private_address(*i) == name)
            .and_then(|i| {
                let server = layout::cloud::server(&self.context.site, i);
                self.resources.get(&(Kind::Machine, server))
            })
            .and_then(|r| r.facts.private_ipv4.clone())
    }

    /// Whether the cloud's load balancers take a fixed list of backends (`wave_of`).
    fn lb_last(&self) -> bool {
        self.context.client.profile().static_backends
    }

    /// Creates the wave's resources at once, each with its follow-ups.
    async fn create_wave(&mut self, plan: &Plan, wave: u8) -> Result<()> {
        let creates: Vec<&Wanted> = plan
            .creates()
            .filter(|w| wave_of(w.kind(), &w.then, is_server(w), self.lb_last()) == wave)
            .collect();
        self.await_addresses(&creates).await?;
        let mut user_data = Vec::new();
        for wanted in &creates {
            user_data.push(self.user_data(wanted)?);
        }
        let this = &*self;
        let created = futures::future::join_all(
            creates
                .iter()
                .zip(user_data)
                .map(|(wanted, data)| this.create_one(wanted, data)),
        )
        .await;
        for result in created {
            let resource = result?;
            let key = (resource.kind, resource.name.clone());
            self.refs.insert(key.clone(), resource.id.clone());
            self.resources.insert(key, resource);
        }
        Ok(())
    }

    async fn create_one(&self, wanted: &Wanted, user_data: Option<String>) -> Result<Existing> {
        let client = &self.context.client;
        let _slot = self.limit.acquire().await?;
        let created = client
            .create(&self.context.site, wanted, &self.refs, user_data)
            .await?;
        let id = created.resource.id.clone();
        // A fresh create's answer predates its follow-ups, so all are done, plus a power-on
        // when the machine came up off (its start ended in `error`); an adopted resource was
        // just read, so what it already has is skipped.
        let then = if created.adopted {
            wanted.remaining(&created.resource.facts)
        } else {
            let mut then = wanted.then.clone();
            let off = wanted.remaining(&created.resource.facts);
            if off.contains(&FollowUp::PowerOn) && !then.contains(&FollowUp::PowerOn) {
                then.push(FollowUp::PowerOn);
            }
            then
        };
        for step in &then {
            client
                .follow_up(wanted.kind(), &id, step, &self.refs)
                .await?;
        }
        let resource = if then.is_empty() {
            created.resource
        } else {
            client.get(wanted.kind(), &id).await?
        };
        self.progress.inc(1);
        let verb = if created.adopted {
            "adopted"
        } else {
            "created"
        };
        self.progress.suspend(|| {
            progress(&format!(
                "{verb} {} `{}` (#{id})",
                wanted.kind().noun(),
                wanted.name
            ));
        });
        Ok(resource)
    }

    /// Does the follow-ups an earlier run left undone, for the wave's resources.
    async fn finish_wave(&mut self, plan: &Plan, wave: u8) -> Result<()> {
        let finishes: Vec<(Kind, &String, &ResourceId, &Vec<FollowUp>)> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Finish {
                    kind,
                    name,
                    id,
                    then,
                } if wave_of(*kind, then, false, self.lb_last()) == wave => {
                    Some((*kind, name, id, then))
                }
                _ => None,
            })
            .collect();
        let this = &*self;
        let finished =
            futures::future::join_all(finishes.iter().map(|(kind, name, id, then)| async move {
                let client = &this.context.client;
                let _slot = this.limit.acquire().await?;
                for step in then.iter() {
                    client.follow_up(*kind, id, step, &this.refs).await?;
                }
                this.progress.inc(1);
                this.progress
                    .suspend(|| progress(&format!("finished {} `{name}` (#{id})", kind.noun())));
                Ok::<_, anyhow::Error>(client.get(*kind, id).await?)
            }))
            .await;
        for result in finished {
            let resource = result?;
            self.resources
                .insert((resource.kind, resource.name.clone()), resource);
        }
        Ok(())
    }

    /// A machine's user-data: the rendered file with the addresses the cloud assigned (a
    /// server's private one, created a wave before) and the secrets filled in, in memory only.
    fn user_data(&self, wanted: &Wanted) -> Result<Option<String>> {
        let Spec::Machine(machine) = &wanted.spec else {
            return Ok(None);
        };
        let file = &machine.user_data;
        let bytes = self
            .context
            .files
            .get(file)
            .with_context(|| format!("the render has no `{file}`"))?;
        let text = String::from_utf8_lossy(bytes);
        let addressed = placeholder::fill(&text, |p| match p.kind.as_str() {
            "address" => self.assigned_address(&p.name),
            _ => Some(p.to_string()),
        })
        .map_err(|why| anyhow::anyhow!("`{file}`: {why}"))?;
        let filled = placeholder::fill_secrets(&addressed, |key| self.secrets.get(key).cloned())
            .map_err(|why| anyhow::anyhow!("`{file}`: {why}"))?;
        Ok(Some(filled))
    }
}

/// Whether a wanted machine is a k3s server (the others' user-data may name its address).
fn is_server(wanted: &Wanted) -> bool {
    wanted.kind() == Kind::Machine
        && wanted.labels.get(labels::ROLE).map(String::as_str) == Some(labels::SERVER_NODE)
}

/// Which wave creates a resource: 0 what others refer to (keys, network, firewall, placement
/// groups); 1 what takes a fixed private address (servers, the API load balancer), and servers
/// whose address the cloud assigns (workers' user-data names it), before 2 what takes any free
/// one (workers), which could otherwise take a fixed address first; 3 the ingress load
/// balancer where its backends are a static address list (Scaleway: `lb_last`), after the
/// machines it serves; elsewhere it selects them by label or tag and is made beside them.
fn wave_of(kind: Kind, then: &[FollowUp], server: bool, lb_last: bool) -> u8 {
    match kind {
        Kind::SshKey | Kind::Network | Kind::Firewall | Kind::PlacementGroup => 0,
        Kind::Machine if server => 1,
        _ if then
            .iter()
            .any(|f| matches!(f, FollowUp::AttachToNetwork { ip: Some(_), .. })) =>
        {
            1
        }
        Kind::LoadBalancer if lb_last => 3,
        _ => 2,
    }
}
