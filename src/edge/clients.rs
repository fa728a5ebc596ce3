//! Every cloud client railyard has, behind one value: `Client` dispatches the `Cloud`
//! operations to the client its profile names, and `PROFILES` lists what each can provision.
//!
//! It is the one module that names every client, so that the seam (`edge/cloud.rs`) names
//! none and no client depends on another.

use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{Existing, FollowUp, Kind, Profile, ResourceId, Spec, Wanted};
use crate::edge::cloud::{Cloud, CloudError, Created, Refs, Timing};
use crate::edge::digitalocean::{self, DigitalOcean};
use crate::edge::hetzner::{self, Hetzner};

/// Every cloud railyard can provision, by `provider` in `machines.yaml`.
pub static PROFILES: &[&Profile] = &[&hetzner::PROFILE, &digitalocean::PROFILE];

/// A client for one of the clouds in `PROFILES`.
pub enum Client {
    Hetzner(Hetzner),
    DigitalOcean(DigitalOcean),
}

impl Client {
    /// The API `profile`'s cloud serves at.
    pub fn default_url(profile: &Profile) -> &'static str {
        match profile.provider {
            "digitalocean" => digitalocean::DEFAULT_URL,
            _ => hetzner::DEFAULT_URL,
        }
    }

    /// A client for `profile`'s cloud at `url`.
    pub fn connect(
        profile: &Profile,
        url: &str,
        token: &str,
        timing: Timing,
    ) -> Result<Client, CloudError> {
        match profile.provider {
            "hetzner" => Ok(Client::Hetzner(Hetzner::new(url, token, timing)?)),
            "digitalocean" => Ok(Client::DigitalOcean(DigitalOcean::new(url, token, timing)?)),
            other => Err(CloudError::NoClient(other.to_owned())),
        }
    }
}

impl Cloud for Client {
    fn profile(&self) -> &'static Profile {
        match self {
            Client::Hetzner(c) => c.profile(),
            Client::DigitalOcean(c) => c.profile(),
        }
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        match self {
            Client::Hetzner(c) => c.inventory(site).await,
            Client::DigitalOcean(c) => c.inventory(site).await,
        }
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        match self {
            Client::Hetzner(c) => Cloud::get(c, kind, id).await,
            Client::DigitalOcean(c) => Cloud::get(c, kind, id).await,
        }
    }

    async fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        match self {
            Client::Hetzner(c) => Cloud::create(c, site, wanted, refs, user_data).await,
            Client::DigitalOcean(c) => Cloud::create(c, site, wanted, refs, user_data).await,
        }
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        match self {
            Client::Hetzner(c) => c.converge(kind, id, spec).await,
            Client::DigitalOcean(c) => c.converge(kind, id, spec).await,
        }
    }

    async fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        refs: &Refs,
    ) -> Result<(), CloudError> {
        match self {
            Client::Hetzner(c) => c.follow_up(kind, id, step, refs).await,
            Client::DigitalOcean(c) => c.follow_up(kind, id, step, refs).await,
        }
    }

    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        match self {
            Client::Hetzner(c) => c.offers().await,
            Client::DigitalOcean(c) => c.offers().await,
        }
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        match self {
            Client::Hetzner(c) => Cloud::delete(c, kind, id).await,
            Client::DigitalOcean(c) => Cloud::delete(c, kind, id).await,
        }
    }
}
