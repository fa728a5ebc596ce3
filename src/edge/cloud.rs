//! The seam between bootstrap's neutral plan and each cloud's API: the `Cloud` operations every
//! client implements, and what they share (errors, timing, references).
//!
//! Adding a cloud is a client module with its wire format and table (like `hetzner.rs` and
//! `hetzner/`) and a variant in `edge/clients.rs`; the plan and the app stay as they are. This
//! module names no client, so every client may depend on it and none on another.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Existing, FollowUp, HeldKey, Kind, Profile, ResourceId, Spec, Wanted,
};
use crate::edge::retry::Policy;

/// Ids of the site's resources by kind and name, for requests that refer to others.
pub type Refs = BTreeMap<(Kind, String), ResourceId>;

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// What a client's API answered, in that client's own words (its own error type).
    #[error(transparent)]
    Api(Box<dyn std::error::Error + Send + Sync>),
    #[error("{kind} `{name}` does not exist yet")]
    Unresolved { kind: &'static str, name: String },
    #[error("railyard has no client for provider `{0}`")]
    NoClient(String),
    #[error("`--project` names a Scaleway project; {0} takes the project from its token")]
    NoProjects(&'static str),
}

/// Retry and poll timing of a client.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub retry: Policy,
    /// The poll base: Hetzner's young running actions are looked at every quarter of it, older
    /// ones less often (`bootstrap::polling`); the other clients start at the base.
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
    /// The machine types on sale, per location, for the availability check before creates;
    /// a client that cannot list them lists none, and nothing is checked.
    fn offers(&self) -> impl Future<Output = Result<Vec<Offer>, CloudError>> {
        async { Ok(Vec::new()) }
    }
    /// Every SSH key the account or project holds, whoever's it is, where the cloud refuses a
    /// second copy of a public key: the plan adopts the site's key held under another name.
    /// A cloud that lists none (Hetzner adopts at the create) leaves the plan as it is.
    fn held_keys(&self) -> impl Future<Output = Result<Vec<HeldKey>, CloudError>> {
        async { Ok(Vec::new()) }
    }
    /// Deletes a resource (released first from what it applies to, where the cloud needs
    /// that); one already gone counts as deleted.
    fn delete(&self, kind: Kind, id: &ResourceId) -> impl Future<Output = Result<(), CloudError>>;
}
