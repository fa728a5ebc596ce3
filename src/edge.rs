//! The edges: everything that touches the outside world (files, terminal, network), kept out
//! of `core`.

pub mod age_keys;
pub mod azure;
pub mod clients;
pub mod cloud;
pub mod digitalocean;
pub mod disk_files;
pub mod git;
pub mod hetzner;
pub mod http;
pub mod kube;
pub mod load;
pub mod overlay_root;
pub mod replace;
pub mod report;
pub mod retry;
pub mod scaleway;
pub mod sops_config;
pub mod ssh;
pub mod write;
