//! Validated values: site fields parsed once into types that keep their grammar's guarantees.
//!
//! The schema check reads the site as raw strings (`site.rs`); rules parse those strings here,
//! report the parse error at the field, and later steps use the parsed value instead of
//! re-reading the text. Each error's `Display` is the reason a rule shows after the value.

mod cidr;
mod dns;
mod git_url;
mod path;

pub use cidr::{Cidr, CidrError};
pub use dns::{DnsLabel, DnsLabelError, Fqdn, FqdnError};
pub use git_url::{GitScheme, GitUrl, GitUrlError};
pub use path::{RelativePath, RelativePathError, path_key};
