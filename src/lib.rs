//! railyard: a site file in, a reviewable GitOps repository for a self-hosted Gitpod out.
//!
//! `core` is the pure compiler; `edge` holds every side effect (files, terminal); `cli` and
//! `app` turn a command line into calls to both and an exit status.

pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod core;
pub mod edge;
pub mod fuzzing;
pub mod sops;
