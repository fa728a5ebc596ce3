//! Carrying out a plan through the cloud's client: converge what bootstrap converges, then run
//! every resource's create and follow-ups as one chain, all chains at once, each starting when
//! what it needs from the earlier waves is there (`bootstrap::schedule`), with at most
//! `IN_FLIGHT` chains sending requests.
//!
//! A chain that fails stops the chains still waiting to start (they would otherwise take an
//! address its resource was to hold); the chains under way finish, so the next run finds each
//! resource whole or not there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context, Result};
use tokio::sync::watch;

use super::CloudCommand;
use crate::app::lines::progress;
use crate::bootstrap::model::{Existing, FollowUp, Kind, ResourceId, Spec, Wanted};
use crate::bootstrap::plan::{Plan, Step};
use crate::bootstrap::schedule::{self, WAVES, Wait};
use crate::core::{labels, layout, placeholder};
use crate::edge::cloud::{Cloud, Refs};

/// How many chains send requests at once.
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
    let static_backends = context.client.profile().static_backends;
    let chains: Vec<Chain> = plan
        .steps
        .iter()
        .filter_map(|step| Chain::of(step, static_backends))
        .collect();
    let mut gate = Gate::default();
    for chain in &chains {
        gate.claiming[usize::from(chain.wave)] += 1;
        gate.running[usize::from(chain.wave)] += 1;
    }
    let run = Run {
        context,
        secrets,
        state: Mutex::new(State {
            refs: existing
                .iter()
                .map(|o| ((o.kind, o.name.clone()), o.id.clone()))
                .collect(),
            resources: existing
                .iter()
                .map(|o| ((o.kind, o.name.clone()), o.clone()))
                .collect(),
        }),
        limit: tokio::sync::Semaphore::new(IN_FLIGHT),
        gate: watch::Sender::new(gate),
        progress: progress_bar(chains.len()),
    };
    let results = futures::future::join_all(chains.iter().map(|c| run.chain(c))).await;
    run.progress.finish_and_clear();
    for result in results {
        result?;
    }
    Ok(run.state().resources.clone())
}

/// One resource's work: its create (or the follow-ups an earlier run left undone) and the
/// follow-ups in order.
struct Chain<'p> {
    kind: Kind,
    name: &'p str,
    wave: u8,
    work: Work<'p>,
}

enum Work<'p> {
    Create(&'p Wanted),
    Finish {
        id: &'p ResourceId,
        then: &'p [FollowUp],
    },
}

impl<'p> Chain<'p> {
    fn of(step: &'p Step, static_backends: bool) -> Option<Chain<'p>> {
        match step {
            Step::Create(wanted) => Some(Chain {
                kind: wanted.kind(),
                name: &wanted.name,
                wave: schedule::wave_of(
                    wanted.kind(),
                    &wanted.then,
                    is_server(wanted),
                    static_backends,
                ),
                work: Work::Create(wanted),
            }),
            Step::Finish {
                kind,
                name,
                id,
                then,
            } => Some(Chain {
                kind: *kind,
                name,
                wave: schedule::wave_of(*kind, then, false, static_backends),
                work: Work::Finish { id, then },
            }),
            _ => None,
        }
    }
}

/// How far the chains of each wave are; a chain that failed closes the gate for good.
#[derive(Clone, Default)]
struct Gate {
    /// Chains of each wave not yet past their claim point.
    claiming: [usize; WAVES as usize],
    /// Chains of each wave not yet ended.
    running: [usize; WAVES as usize],
    failed: bool,
}

impl Gate {
    fn open_for(&self, wave: u8, needs_facts: bool) -> bool {
        (0..wave).all(|earlier| {
            let i = usize::from(earlier);
            match schedule::wait(earlier, wave, needs_facts) {
                Wait::Claimed => self.claiming[i] == 0,
                Wait::Complete => self.running[i] == 0,
            }
        })
    }
}

/// A chain's marks on the gate; dropped before its end (an error), it closes the gate.
struct Marks<'g> {
    gate: &'g watch::Sender<Gate>,
    wave: usize,
    claimed: bool,
    ended: bool,
}

impl Marks<'_> {
    fn claim(&mut self) {
        if !self.claimed {
            self.claimed = true;
            self.gate.send_modify(|g| g.claiming[self.wave] -= 1);
        }
    }

    fn end(mut self) {
        self.claim();
        self.ended = true;
        self.gate.send_modify(|g| g.running[self.wave] -= 1);
    }
}

impl Drop for Marks<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.gate.send_modify(|g| g.failed = true);
        }
    }
}

/// What the chains share: the ids to refer to and the resources as last read.
struct State {
    refs: Refs,
    resources: Resources,
}

/// The state of one run of the plan.
struct Run<'a> {
    context: &'a CloudCommand,
    secrets: &'a BTreeMap<String, String>,
    state: Mutex<State>,
    limit: tokio::sync::Semaphore,
    gate: watch::Sender<Gate>,
    progress: indicatif::ProgressBar,
}

/// A bar on a terminal (stderr); the lines it prints go where `lines::progress` sends them.
fn progress_bar(work: usize) -> indicatif::ProgressBar {
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
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refs(&self) -> Refs {
        self.state().refs.clone()
    }

    fn record(&self, resource: Existing) {
        let key = (resource.kind, resource.name.clone());
        let mut state = self.state();
        state.refs.insert(key.clone(), resource.id.clone());
        state.resources.insert(key, resource);
    }

    /// Waits until the chain's wave may start; false when another chain failed first.
    async fn ready(&self, wave: u8, needs_facts: bool) -> bool {
        let mut gate = self.gate.subscribe();
        gate.wait_for(|g| g.failed || g.open_for(wave, needs_facts))
            .await
            .is_ok_and(|g| !g.failed)
    }

    /// One chain from its start to the resource read back; a chain the gate stopped does
    /// nothing.
    async fn chain(&self, chain: &Chain<'_>) -> Result<()> {
        let mut marks = Marks {
            gate: &self.gate,
            wave: usize::from(chain.wave),
            claimed: false,
            ended: false,
        };
        let needed = match &chain.work {
            Work::Create(wanted) => self.needed_addresses(wanted),
            Work::Finish { .. } => BTreeSet::new(),
        };
        if !self.ready(chain.wave, !needed.is_empty()).await {
            // Not started: the gate is closed already, so it need not be closed again.
            marks.ended = true;
            return Ok(());
        }
        self.await_addresses(needed).await?;
        let _slot = self.limit.acquire().await?;
        let client = &self.context.client;
        let (id, then, adopted, created) = match &chain.work {
            Work::Create(wanted) => {
                let (resource, then, adopted) = self.create(wanted).await?;
                (resource.id.clone(), then, adopted, Some(resource))
            }
            Work::Finish { id, then } => ((*id).clone(), then.to_vec(), false, None),
        };
        let point = schedule::claim_point(&then);
        if point == 0 {
            marks.claim();
        }
        for (done, step) in then.iter().enumerate() {
            client
                .follow_up(chain.kind, &id, step, &self.refs())
                .await?;
            if done + 1 == point {
                marks.claim();
            }
        }
        let resource = match created {
            Some(resource) if then.is_empty() => resource,
            _ => client.get(chain.kind, &id).await?,
        };
        self.record(resource);
        marks.end();
        self.progress.inc(1);
        let verb = match (&chain.work, adopted) {
            (Work::Finish { .. }, _) => "finished",
            (Work::Create(_), true) => "adopted",
            (Work::Create(_), false) => "created",
        };
        self.progress.suspend(|| {
            progress(&format!(
                "{verb} {} `{}` (#{id})",
                chain.kind.noun(),
                chain.name
            ));
        });
        Ok(())
    }

    /// Creates a resource; returns it, the follow-ups it still needs, and whether it was
    /// adopted. A fresh create's answer predates its follow-ups, so all are done but what the
    /// create itself carried (`Wanted::after_create`); an adopted resource was just read, so
    /// what it already has is skipped.
    async fn create(&self, wanted: &Wanted) -> Result<(Existing, Vec<FollowUp>, bool)> {
        let user_data = self.user_data(wanted)?;
        let created = self
            .context
            .client
            .create(&self.context.site, wanted, &self.refs(), user_data)
            .await?;
        let then = if created.adopted {
            wanted.remaining(&created.resource.facts)
        } else {
            wanted.after_create(&created.resource.facts)
        };
        let resource = created.resource;
        {
            let mut state = self.state();
            state
                .refs
                .insert((resource.kind, resource.name.clone()), resource.id.clone());
        }
        Ok((resource, then, created.adopted))
    }

    /// The assigned addresses a machine's user-data names (placeholders of kind `address`).
    fn needed_addresses(&self, wanted: &Wanted) -> BTreeSet<String> {
        let Spec::Machine(machine) = &wanted.spec else {
            return BTreeSet::new();
        };
        let Some(bytes) = self.context.files.get(&machine.user_data) else {
            return BTreeSet::new();
        };
        placeholder::scan(&String::from_utf8_lossy(bytes))
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.kind == "address")
            .map(|p| p.name)
            .collect()
    }

    /// Waits until every server whose assigned address a user-data names reports it: a server
    /// an earlier run created may still be starting (DigitalOcean assigns the address when the
    /// droplet is up).
    async fn await_addresses(&self, needed: BTreeSet<String>) -> Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
        for name in needed {
            let count = self.state().resources.len() as u32;
            let Some(index) = (0..count).find(|i| layout::server_private_address(*i) == name)
            else {
                continue;
            };
            let key = (
                Kind::Machine,
                layout::cloud::server(&self.context.site, index),
            );
            loop {
                let Some(server) = self.state().resources.get(&key).cloned() else {
                    break;
                };
                if server.facts.private_ipv4.is_some() || std::time::Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(super::timing().poll).await;
                let fresh = self.context.client.get(Kind::Machine, &server.id).await?;
                self.state().resources.insert(key.clone(), fresh);
            }
        }
        Ok(())
    }

    /// An address placeholder's value: server N's private address as the cloud reports it.
    fn assigned_address(&self, name: &str) -> Option<String> {
        let state = self.state();
        (0..state.resources.len() as u32)
            .find(|i| layout::server_private_address(*i) == name)
            .and_then(|i| {
                let server = layout::cloud::server(&self.context.site, i);
                state.resources.get(&(Kind::Machine, server))
            })
            .and_then(|r| r.facts.private_ipv4.clone())
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
