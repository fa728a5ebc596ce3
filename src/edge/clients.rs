//! Every cloud client railyard has, behind one value: `Client` dispatches the `Cloud`
//! operations to the client its profile names, and `PROFILES` lists what each can provision.
//!
//! It is the one module that names every client, so that the seam (`edge/cloud.rs`) names
//! none and no client depends on another.

use std::collections::BTreeMap;

use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Existing, FollowUp, HeldKey, Kind, Profile, ResourceId, Spec, Wanted,
};
use crate::core::machines::Machines;
use crate::edge::azure::{self, AzureClient, Principal};
use crate::edge::cloud::{Cloud, CloudError, Created, Refs, Timing};
use crate::edge::digitalocean::{self, DigitalOcean};
use crate::edge::hetzner::{self, Hetzner};
use crate::edge::scaleway::{self, Scaleway, ScalewayError};

/// Every cloud railyard can provision, by `provider` in `machines.yaml`.
pub static PROFILES: &[&Profile] = &[
    &hetzner::PROFILE,
    &digitalocean::PROFILE,
    &scaleway::PROFILE,
    &azure::PROFILE,
];

/// A client for one of the clouds in `PROFILES`.
pub enum Client {
    Hetzner(Hetzner),
    DigitalOcean(DigitalOcean),
    Scaleway(Scaleway),
    /// Boxed: it holds the site's `azure` block.
    Azure(Box<AzureClient>),
}

/// Calls `$call` on whichever client `$self` holds.
macro_rules! each {
    ($self:expr, $c:ident => $call:expr) => {
        match $self {
            Client::Hetzner($c) => $call,
            Client::DigitalOcean($c) => $call,
            Client::Scaleway($c) => $call,
            Client::Azure($c) => {
                let $c: &AzureClient = $c;
                $call
            }
        }
    };
}

impl Client {
    /// A client for `profile`'s cloud at `url` (its public API when `None`), for the site
    /// `machines` describes; `project` is Scaleway's project, given on the command line;
    /// `user_data` the digests of the machines' rendered user-data, by name (`Azure` keeps them).
    pub fn connect(
        profile: &Profile,
        url: Option<&str>,
        project: Option<&str>,
        token: &str,
        machines: &Machines,
        user_data: &BTreeMap<String, String>,
        timing: Timing,
    ) -> Result<Client, CloudError> {
        let location = machines.location.as_str();
        if project.is_some() && profile.provider != "scaleway" {
            return Err(CloudError::NoProjects(profile.title));
        }
        match profile.provider {
            "hetzner" => Ok(Client::Hetzner(Hetzner::new(
                url.unwrap_or(hetzner::DEFAULT_URL),
                token,
                timing,
            )?)),
            "digitalocean" => Ok(Client::DigitalOcean(DigitalOcean::new(
                url.unwrap_or(digitalocean::DEFAULT_URL),
                token,
                timing,
            )?)),
            "scaleway" => {
                // The project the site's resources are created in: `--project`, else as
                // Scaleway's own tools take it.
                let project = project
                    .map(str::to_owned)
                    .or_else(|| std::env::var(scaleway::PROJECT_VARIABLE).ok())
                    .filter(|p| !p.trim().is_empty())
                    .ok_or(ScalewayError::NoProject(scaleway::PROJECT_VARIABLE))?;
                Ok(Client::Scaleway(Scaleway::new(
                    url.unwrap_or(scaleway::DEFAULT_URL),
                    token,
                    project.trim(),
                    location,
                    timing,
                )?))
            }
            "azure" => Ok(Client::Azure(Box::new(AzureClient::new(
                url.unwrap_or(azure::DEFAULT_URL),
                Principal::from_env(token)?,
                machines,
                user_data.clone(),
                timing,
            )?))),
            other => Err(CloudError::NoClient(other.to_owned())),
        }
    }
}

impl Cloud for Client {
    fn profile(&self) -> &'static Profile {
        each!(self, c => c.profile())
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        each!(self, c => c.inventory(site).await)
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        each!(self, c => Cloud::get(c, kind, id).await)
    }

    async fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        each!(self, c => Cloud::create(c, site, wanted, refs, user_data).await)
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        each!(self, c => c.converge(kind, id, spec).await)
    }

    async fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        refs: &Refs,
    ) -> Result<(), CloudError> {
        each!(self, c => c.follow_up(kind, id, step, refs).await)
    }

    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        each!(self, c => c.offers().await)
    }

    async fn held_keys(&self) -> Result<Vec<HeldKey>, CloudError> {
        each!(self, c => c.held_keys().await)
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        each!(self, c => Cloud::delete(c, kind, id).await)
    }
}
