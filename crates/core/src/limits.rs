//! Every bound railyard puts on what an input may cost, in one place.
//!
//! A hostile or broken input (an alias bomb, a million-deep list, a base that includes itself
//! twice per level) must end in an error at the place that crossed a bound, in bounded time and
//! memory, never in a hang, a crash or an out-of-memory kill. Each bound is far above what a
//! hand-written site, secrets file or kustomization needs; README.md ("Input limits") lists them.

/// Largest single input file, in bytes (the site file, the secrets file, an SSH key file, a
/// kustomization, a resource, patch or generator file). Kubernetes itself caps a ConfigMap or a
/// Secret at 1 MiB.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// Deepest nesting of mappings and lists in a YAML file.
pub const MAX_DEPTH: usize = 64;

/// Most YAML nodes (keys and values, every document of the file, aliases expanded and anchored
/// copies counted) one file may hold.
pub const MAX_NODES: usize = 100_000;

/// Most bytes of key paths a YAML file may hold: the length of every value's path from its
/// document's root (`spec.ssh.authorizedKeys[0]`), summed. Every value's path is kept for
/// messages, so long keys above many values would otherwise cost their length once per value.
pub const MAX_PATH_BYTES: usize = 16 << 20;

/// Most diagnostics reported for one run; the rest are counted in a last one.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Longest source line quoted under a diagnostic; a longer one is named by position only.
pub const MAX_QUOTED_LINE: usize = 1_000;

/// Most entries of `spec.overlays`.
pub const MAX_OVERLAYS: usize = 16;

/// Most files and directories below one overlay directory of a site.
pub const MAX_OVERLAY_ENTRIES: usize = 1_000;

/// Most bytes the edge reads for one site: the site file, the files it names and every file
/// below its overlay directories.
pub const MAX_SITE_INPUT_BYTES: usize = 8 << 20;

/// Deepest chain of kustomizations including one another as bases.
pub const MAX_BASE_DEPTH: usize = 32;

/// Most kustomizations one overlay build may load, a base included twice counting twice.
pub const MAX_KUSTOMIZATIONS: usize = 500;

/// Most bytes one overlay build may read, a file read twice counting twice.
pub const MAX_OVERLAY_BYTES: usize = 4 << 20;

/// Most objects one overlay build may hold at once.
pub const MAX_OBJECTS: usize = 10_000;

/// Most steps of work one overlay build may take: objects compared with selectors and names,
/// list entries compared while merging, nodes walked, and nodes patches, copies and transformers
/// add to objects (eight steps each, as they are also memory kept). A few hundred objects with
/// dozens of patches take tens of thousands.
pub const MAX_OVERLAY_WORK: usize = 2_000_000;

/// Deepest nesting of an object an overlay produces (a JSON 6902 `add` may deepen one).
pub const MAX_OBJECT_DEPTH: usize = 2 * MAX_DEPTH;

/// Largest compiled regular expression (patch targets, image names, SOPS rules), in bytes.
pub const MAX_REGEX_BYTES: usize = 1 << 18;

/// Longest `apiVersion`, `kind`, `metadata.name` or `metadata.namespace` of an object in an
/// overlay (Kubernetes allows 253 bytes for most names).
pub const MAX_NAME_BYTES: usize = 1_024;

/// Most files the edge reads for one site (the files it names and its overlay files).
pub const MAX_SITE_FILES: usize = 2_000;
