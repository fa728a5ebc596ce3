//! The edges: everything that touches the outside world (files, terminal), kept out of `core`.

pub mod age_keys;
pub mod disk_files;
pub mod git;
pub mod load;
pub mod report;
pub mod sops_config;
pub mod write;
