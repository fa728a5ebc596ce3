//! The machines' secrets file: the k3s tokens bootstrap fills into user-data, kept apart from
//! the cluster's file so that no cluster Secret holds them (decision 0013).

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{MACHINE_SECRETS_FILE, POOLS, SIZE};
use crate::defaults;
use crate::diagnostic::Diagnostic;
use crate::load_problem::LoadedFiles;
use crate::secrets_file::{self, Role, SecretsInfo};
use crate::source::SourceFile;

/// Keys only machines use: bootstrap and `machine-data` fill them into user-data, and the
/// cluster never reads them, so they belong in the machines' file.
pub const MACHINE_SECRET_KEYS: &[(&str, &str)] = &[
    (
        "k3s_token",
        "the k3s server token, filled into the servers' user-data by bootstrap",
    ),
    (
        "k3s_agent_token",
        "the k3s agent token workers join with, filled into their user-data by bootstrap",
    ),
];

/// Where a site keeps the machines' secrets, by its format version (the compiler knows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretsLayout {
    /// `v1alpha1`: every value in the one secrets file, as it always was.
    OneFile,
    /// From `v1alpha2` on: the machines' values in their own file.
    Split,
    /// An `apiVersion` railyard does not know: the schema reports it, and which file holds
    /// what is left unchecked.
    Unknown,
}

impl Rules<'_> {
    /// The machines' file: readable, encrypted to the site's recipients, holding the machine
    /// keys; and none of those keys in the cluster's file, at their line there.
    pub(super) fn machine_secrets(
        &mut self,
        files: &LoadedFiles,
        recipients: &[Json],
        cluster: (&SourceFile, &SecretsInfo),
    ) {
        self.no_machine_keys_in(cluster.0, cluster.1);
        let (pointer, text) = match self.str(MACHINE_SECRETS_FILE) {
            Some(text) => (MACHINE_SECRETS_FILE, text.to_owned()),
            None => ("/spec/secrets", defaults::MACHINE_SECRETS_FILE.to_owned()),
        };
        let Some(path) = self.safe_path(pointer, &text) else {
            return;
        };
        let file = match files.get(path.key()) {
            Some(Ok(file)) => file,
            Some(Err(why)) => {
                // Unset, the key is named: the file is `machineFile`'s default.
                let diagnostic = if pointer == MACHINE_SECRETS_FILE {
                    self.tree.value_error(
                        pointer,
                        format!("cannot read the machines' secrets file `{text}`: {why}"),
                    )
                } else {
                    self.tree.key_error(pointer, format!("cannot read the machines' secrets file `{text}` (the default of `machineFile`): {why}"))
                };
                self.out.push(diagnostic
                    .expected("a SOPS-encrypted Secret of the k3s tokens, relative to the site file")
                    .hint("`railyard secrets split` moves the tokens out of the cluster's secrets file into it; `railyard secrets init` writes both files for a new site"));
                return;
            }
            None => return,
        };
        let (info, diagnostics) = secrets_file::read_as(file, Role::Machine);
        self.out.extend(diagnostics);
        let noun = "the machines' secrets file";
        self.encrypted_to(recipients, &text, &info, noun);
        self.builtin_keys(file, &info, MACHINE_SECRET_KEYS, noun);
    }

    /// A machine-only key in the cluster's file would reach a cluster Secret, readable by
    /// anyone who may read Secrets in `flux-system`.
    ///
    /// One exception: cluster-autoscaler boots an autoscaled pool's nodes itself, with user-data
    /// Flux fills in, so such a site needs `k3s_agent_token` (an agent's only) in the cluster's
    /// file too; the server token never.
    fn no_machine_keys_in(&mut self, file: &SourceFile, info: &SecretsInfo) {
        let autoscaled = self.has_autoscaled_pools();
        // Only `large` boots autoscaled pools; elsewhere the pools rule refuses them already.
        let large = self.str(SIZE) == Some("large");
        if autoscaled && large && !info.keys.iter().any(|k| k == AGENT_TOKEN) {
            self.out.push(
                self.tree
                    .value_error(POOLS, format!("autoscaled pools need `{AGENT_TOKEN}` in the cluster's secrets file as well"))
                    .expected(format!("`{AGENT_TOKEN}` in both secrets files, the same value"))
                    .hint("cluster-autoscaler boots the pools' nodes with user-data that Flux fills in from the cluster's file; add the agent token there with `railyard secrets edit`"),
            );
        }
        for (key, span) in info.keys.iter().zip(&info.key_spans) {
            if autoscaled && key == AGENT_TOKEN {
                continue;
            }
            if MACHINE_SECRET_KEYS.iter().any(|(k, _)| k == key) {
                self.out.push(
                    Diagnostic::error(&file.name, *span, &format!("stringData.{key}"), format!("`{key}` belongs in the machines' secrets file, not in the cluster's"))
                        .expected("only values the cluster uses; the k3s tokens only in the machines' file")
                        .hint("the cluster's file becomes a Secret in `flux-system`; `railyard secrets split` moves the tokens into the machines' file"),
                );
            }
        }
    }

    /// Whether a pool has `min`/`max`: cluster-autoscaler creates its servers.
    fn has_autoscaled_pools(&self) -> bool {
        self.value(POOLS)
            .and_then(Json::as_array)
            .is_some_and(|pools| {
                pools
                    .iter()
                    .any(|p| p.get("min").is_some() || p.get("max").is_some())
            })
    }
}

/// The agent token, which autoscaled nodes join with.
const AGENT_TOKEN: &str = "k3s_agent_token";
