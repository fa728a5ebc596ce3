//! Who applies a changed rendered file to a running site, decided by its path alone.
//!
//! Flux applies `clusters/<site>/` on merge; `railyard bootstrap` converges the machines and
//! firewall files; user-data and the first-boot k3s files are read by cloud-init once, when a
//! machine is created, so a change there reaches new machines only. The path decides, never
//! the content: the same change may also render into `clusters/<site>/` (a k3s version into
//! the upgrade Plans), and that file is then labelled Flux on its own.

use crate::layout;

/// Who brings a changed file to the running site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppliedBy {
    /// Under Flux's sync path: reconciled after the merge, nothing to run.
    Flux,
    /// Machines, firewall and DNS records: `railyard bootstrap` converges them (and prints the
    /// records to create).
    Bootstrap,
    /// User-data and first-boot k3s files: used only when a machine is created.
    NewMachines,
    /// railyard's own record (the lock): applies nothing.
    Railyard,
    /// A path railyard's layout does not place for this site.
    Unknown,
}

impl AppliedBy {
    /// The JSON value (`schema/diff.schema.json`, `appliedBy`).
    pub fn as_str(self) -> &'static str {
        match self {
            AppliedBy::Flux => "flux",
            AppliedBy::Bootstrap => "bootstrap",
            AppliedBy::NewMachines => "new-machines",
            AppliedBy::Railyard => "railyard",
            AppliedBy::Unknown => "unknown",
        }
    }

    /// The label beside a file in text and Markdown.
    pub fn label(self) -> &'static str {
        match self {
            AppliedBy::Flux => "applied by Flux on merge",
            AppliedBy::Bootstrap => "needs `railyard bootstrap`",
            AppliedBy::NewMachines => "used only when a machine is created",
            AppliedBy::Railyard => "railyard's record, applies nothing",
            AppliedBy::Unknown => "not a file railyard applies",
        }
    }

    /// What the user does about a change with this label, when there is something to say.
    pub fn advice(self, site: &str) -> Option<String> {
        match self {
            AppliedBy::Bootstrap => Some(
                "run `railyard bootstrap` after the merge: it converges the machines and the \
                 firewall and prints the DNS records (`railyard plan` shows what it will do)"
                    .to_owned(),
            ),
            AppliedBy::NewMachines => Some(format!(
                "cloud-init runs once, at a machine's first boot: running machines keep what \
                 they booted with and only machines created from now on get these files; to \
                 bring a running machine there, replace it (delete it in the cloud, then \
                 `railyard bootstrap` creates it again), one machine at a time; where the same \
                 change also shows under `{}/`, Flux applies that part to running machines on \
                 merge (a k3s version through the upgrade Plans)",
                layout::cluster_dir(site)
            )),
            AppliedBy::Flux | AppliedBy::Railyard | AppliedBy::Unknown => None,
        }
    }
}

/// Who applies `path` (relative to the output root) of `site`.
pub fn applied_by(site: &str, path: &str) -> AppliedBy {
    let below = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    let bootstrap = [
        layout::machines(site),
        layout::firewall(site),
        layout::dns_records(site),
    ];
    if below(&layout::cluster_dir(site)) {
        AppliedBy::Flux
    } else if bootstrap.iter().any(|file| file == path) {
        AppliedBy::Bootstrap
    } else if below(&layout::user_data_dir(site)) || below(&layout::k3s_dir(site)) {
        AppliedBy::NewMachines
    } else if path == layout::lock(site) || below(layout::STATE_DIR) {
        AppliedBy::Railyard
    } else {
        AppliedBy::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_labelled_by_who_applies_them() {
        let cases = [
            ("clusters/s/flux-system/gotk-sync.yaml", AppliedBy::Flux),
            ("clusters/s/flux-system/secrets.sops.yaml", AppliedBy::Flux),
            (
                "clusters/s/infrastructure/cert-manager.yaml",
                AppliedBy::Flux,
            ),
            ("clusters/s/kustomization.yaml", AppliedBy::Flux),
            ("hosts/s/machines.yaml", AppliedBy::Bootstrap),
            ("hosts/s/firewall.yaml", AppliedBy::Bootstrap),
            ("hosts/s/dns-records.yaml", AppliedBy::Bootstrap),
            ("hosts/s/cloud-init/server-0.yaml", AppliedBy::NewMachines),
            ("hosts/s/cloud-init/worker.yaml", AppliedBy::NewMachines),
            ("hosts/s/k3s/server-0.config.yaml", AppliedBy::NewMachines),
            (
                "hosts/s/k3s/manifests/railyard-flux.yaml",
                AppliedBy::NewMachines,
            ),
            (".railyard/s.lock", AppliedBy::Railyard),
            // Another site's files, and look-alike prefixes, are not this site's.
            ("clusters/st/kustomization.yaml", AppliedBy::Unknown),
            ("clusters/s", AppliedBy::Unknown),
            ("hosts/s/machines.yaml.orig", AppliedBy::Unknown),
            ("hosts/s/cloud-init-old/x.yaml", AppliedBy::Unknown),
            ("README.md", AppliedBy::Unknown),
        ];
        for (path, want) in cases {
            assert_eq!(applied_by("s", path), want, "{path}");
        }
        assert_eq!(applied_by("s", &layout::secrets_copy("s")), AppliedBy::Flux);
    }

    #[test]
    fn only_changes_that_need_an_action_carry_advice() {
        assert!(AppliedBy::Flux.advice("s").is_none());
        assert!(AppliedBy::Bootstrap.advice("s").is_some());
        let advice = AppliedBy::NewMachines.advice("s").expect("advice");
        assert!(advice.contains("`clusters/s/`"), "{advice}");
    }
}
