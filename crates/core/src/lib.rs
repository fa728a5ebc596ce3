//! The pure core: parsing, validation, resolution and generation as functions of values.
//!
//! **Nothing under `core` does IO**: no files, network, clock, environment, processes or
//! randomness. `tests/tidy.rs` enforces it by scanning these sources.

pub mod builtin_overlays;
pub mod compile;
pub mod defaults;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod firewall;
pub mod generate;
pub mod gitpod_config;
pub mod init;
pub mod json_pointer;
pub mod json_tree;
pub mod json_value;
pub mod labels;
pub mod layout;
pub mod limits;
pub mod load_problem;
pub mod machines;
pub mod migrate;
pub mod model;
pub mod overlay;
pub mod placeholder;
pub mod rules;
pub mod schema;
pub mod secrets_file;
pub mod site;
pub mod site_version;
pub mod source;
pub mod ssh_key;
pub mod suggest;
pub mod template;
pub mod tree;
pub mod user_overlays;
pub mod values;
pub mod yaml;
