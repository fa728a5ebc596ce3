//! The one integration test binary: each module says what belongs in it.

/// Helpers shared by the modules below: running the binary, temporary trees, snapshots.
mod support;

/// Golden directories: site in, expected tree or expected diagnostics out.
mod golden;

/// `validate` generates only part of a site, yet says what `render` would say.
mod validate_agrees;

/// The command line as a user runs it: exit codes, determinism, atomic writes, ownership.
mod cli;

/// `render` and `commit` never overwrite hand edits silently; `--all` refuses duplicate names.
mod overwrite;

/// `render --all`: refusals found in the last site, trees alive at once.
mod fleet;

/// A render whose inputs, version and outputs match the lock generates nothing.
mod unchanged_inputs;

/// A new user's first hour: `init` (flags or a terminal), `secrets init`, edit, render, commit.
mod first_hour;

/// `--error-format json`: every exit path of every command prints `schema/errors.schema.json`.
mod cli_json;

/// `commit` and `diff --git` on real repositories, checked with the git command line.
mod git_workflow;

/// `railyard secrets` against the real sops: interoperability, edit, tampering, leaks.
mod secrets;

/// Command-line conventions: shell completions and the manual page.
mod conventions;

/// Architecture invariants checked as tests: pure core, module docs, schema freshness.
mod tidy;

/// `railyard migrate` and the site format's versions.
mod migrate;

/// `large` on Hetzner: cluster-autoscaler's pools boot railyard's own worker user-data, at the
/// autoscaler release of the cluster's Kubernetes minor.
mod autoscaler;
/// Day 2 through Git: upgrade Plans against the rendered node labels, one k3s version
/// everywhere, Flux's first-boot handover, maintenance windows.
mod day2;
/// The monitoring feature: kube-prometheus-stack, Gitpod's scrape config and dashboards.
mod monitoring;

/// What Azure can run: NSG rules, the network shape, and WireServer closed to pods but DNS.
mod azure_render;
/// The database backup's rendered dump against a private MariaDB, restored by the README.
mod backup_restore;
/// The in-cluster stores' volumes on the site's CSI class, through the installer Job's script.
mod stores;

/// Rendered user-data runs no download before checking its pinned sha256.
mod pinned_installs;

/// Real tools nobody here wrote, run over the rendered trees.
mod oracles;

/// The overlay engine against the kustomize differential corpus in `tests/kustomize/`.
mod overlay;
/// `overlay build` on the command line: its default root, and unmatched patch targets.
mod overlay_cli;

/// The krusty oracle (kustomize's engine in one process) and its own check against the corpus.
mod krusty;

/// Random kustomizations, built by railyard and by kustomize's engine: same bytes.
mod overlay_property;

/// Path safety: links, `..` and absolute paths never lead a read or a write outside.
mod path_safety;

/// Hostile filesystem conditions: read-only, full, unreadable, a file where a directory goes.
mod filesystem;

/// A stateful fake of the Hetzner Cloud API for `bootstrap`'s tests, and tests of the fake.
mod fake_hetzner;
mod fake_kube;

/// A stateful fake of Azure Resource Manager and its token endpoint, and tests of the fake.
mod fake_azure;
/// A stateful fake of the DigitalOcean API for `bootstrap`'s tests, and tests of the fake.
mod fake_digitalocean;
/// A stateful fake of the Scaleway APIs for `bootstrap`'s tests, and tests of the fake.
mod fake_scaleway;

/// `plan`, `bootstrap` and `destroy` against the fake Hetzner API, faults and kills included.
mod bootstrap;

/// `machine-data`: a machine's user-data filled in for hand provisioning, never written.
mod machine_data;

/// k3s' kubeconfig fetched over SSH from a real sshd on loopback, then rewritten.
mod ssh;

/// Hostile inputs: bombs, depth, size, loops; each a located error, bounded in time and memory.
mod hostile;

/// Inputs the fuzzers in `fuzz/` crashed on, and their seed corpora, replayed on stable.
mod fuzz_regressions;

/// The YAML scalar grammar against Go's yaml.v3: resolution and quoting, scalar by scalar.
mod yaml_v3;
