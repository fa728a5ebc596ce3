//! The seam between bootstrap's neutral plan and each cloud's API: the `Cloud` operations every
//! client implements, the clients railyard has (`Client`), and their profiles.
//!
//! Adding a cloud is a client module with its wire format and table (like `hetzner.rs` and
//! `hetzner/`), a `Client` variant and a `PROFILES` entry; the plan and the app stay as they
//! are.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::bootstrap::model::{Existing, FollowUp, Kind, Profile, ResourceId, Spec, Wanted};
use crate::edge::hetzner::{self, Hetzner, HetznerError};
use crate::edge::retry::Policy;

/// Every cloud railyard can provision, by `provider` in `machines.yaml`.
pub static PROFILES: &[&Profile] = &[&hetzner::PROFILE];

/// Ids of the site's resources by kind and name, for requests that refer to others.
pub type Refs = BTreeMap<(Kind, String), ResourceId>;

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error(transparent)]
    Hetzner(#[from] HetznerError),
    #[error("{kind} `{name}` does not exist yet")]
    Unresolved { kind: &'static str, name: String },
    #[error("railyard has no client for provider `{0}`")]
    NoClient(String),
}

/// Retry and poll timing of a client.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub retry: Policy,
    /// How often a running action is looked at.
    pub poll: Duration,
}

impl Default for Timing {
    /// cloud-apis.md §1: the cloud retry policy; polls every second.
    fn default() -> Timing {
        Timing {
            retry: Policy::CLOUD,
            poll: Duration::from_secs(1),
        }
    }
}

/// A resource as created or adopted (an earlier run's, found by name and label).
pub struct Created {
    pub resource: Existing,
    pub adopted: bool,
}

/// What bootstrap asks of a cloud, in the neutral model. Every operation waits until the cloud
/// has carried it out.
pub trait Cloud {
    fn profile(&self) -> &'static Profile;
    /// Every resource carrying the site's label.
    fn inventory(&self, site: &str) -> impl Future<Output = Result<Vec<Existing>, CloudError>>;
    fn get(
        &self,
        kind: Kind,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Existing, CloudError>>;
    /// Creates a resource (or adopts the site's own of that name); `user_data` is a machine's
    /// filled-in user-data, which only the request carries.
    fn create(
        &self,
        site: &str,
        wanted: &Wanted,
        refs: &Refs,
        user_data: Option<String>,
    ) -> impl Future<Output = Result<Created, CloudError>>;
    /// Makes an existing resource as `spec` says, where the plan can converge it.
    fn converge(
        &self,
        kind: Kind,
        id: &ResourceId,
        spec: &Spec,
    ) -> impl Future<Output = Result<(), CloudError>>;
    fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        refs: &Refs,
    ) -> impl Future<Output = Result<(), CloudError>>;
    /// Deletes a resource; one already gone counts as deleted.
    fn delete(&self, kind: Kind, id: &ResourceId) -> impl Future<Output = Result<(), CloudError>>;
}

/// A client for one of the clouds in `PROFILES`.
pub enum Client {
    Hetzner(Hetzner),
}

impl Client {
    /// A client for `profile`'s cloud at `url`.
    pub fn connect(
        profile: &Profile,
        url: &str,
        token: &str,
        timing: Timing,
    ) -> Result<Client, CloudError> {
        match profile.provider {
            "hetzner" => Ok(Client::Hetzner(Hetzner::new(url, token, timing)?)),
            other => Err(CloudError::NoClient(other.to_owned())),
        }
    }
}

impl Cloud for Client {
    fn profile(&self) -> &'static Profile {
        match self {
            Client::Hetzner(c) => c.profile(),
        }
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        match self {
            Client::Hetzner(c) => c.inventory(site).await,
        }
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        match self {
            Client::Hetzner(c) => Cloud::get(c, kind, id).await,
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
        }
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        match self {
            Client::Hetzner(c) => c.converge(kind, id, spec).await,
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
        }
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        match self {
            Client::Hetzner(c) => Cloud::delete(c, kind, id).await,
        }
    }
}
