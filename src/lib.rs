//! railyard: a site file in, a reviewable GitOps repository for a self-hosted Gitpod out.
//!
//! `core` is the pure compiler; `edge` holds every side effect (files, terminal); `cli` and
//! `app` turn a command line into calls to both and an exit status.

pub mod app;
pub use railyard_bootstrap as bootstrap;
pub mod cli;
pub use railyard_core as core;
pub mod edge;
pub mod fuzzing;
pub use railyard_sops as sops;
