//! Rules for the platform layer: parts that belong together (a solver's credentials, one
//! backend per Gitpod store) and optional features that only fit some sites.

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{
    AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_DISK_CSI, AZURE_DNS, AZURE_MANAGED_IDENTITY,
    AZURE_TENANT_ID, BACKUP_SCHEDULE, BACKUP_SIZE, CONTAINER_REGISTRY, DATABASE, DATABASE_BACKUP,
    DIGITALOCEAN_CSI, HETZNER_CSI, OBJECT_STORAGE, PROVIDER, RFC2136_KEY_NAME, RFC2136_SECRET,
    ROUTE53_ACCESS_KEY, ROUTE53_SECRET, S3, SCALEWAY_CSI, field,
};

/// The optional CSI drivers: where each is enabled, the provider it needs, and its name in
/// messages.
const CSI_DRIVERS: [(&str, &str, &str); 4] = [
    (HETZNER_CSI, "hetzner", "Hetzner"),
    (DIGITALOCEAN_CSI, "digitalocean", "DigitalOcean"),
    (SCALEWAY_CSI, "scaleway", "Scaleway"),
    (AZURE_DISK_CSI, "azure", "Azure Disk"),
];

/// Fields that need each other, and why.
const PAIRS: [(&str, &str, &str); 3] = [
    (
        ROUTE53_ACCESS_KEY,
        ROUTE53_SECRET,
        "an access key needs its secret, and the other way round; or use neither and sign in with a `role` or the node's identity",
    ),
    (
        RFC2136_KEY_NAME,
        RFC2136_SECRET,
        "TSIG needs both the key name and the secret",
    ),
    (
        AZURE_CLIENT_ID,
        AZURE_CLIENT_SECRET,
        "a service principal needs `clientID`, `clientSecret` and `tenantID`",
    ),
];

impl Rules<'_> {
    pub(super) fn platform(&mut self) {
        self.pairs();
        self.one_choice();
        self.features();
    }

    fn present(&self, pointer: &str) -> bool {
        self.value(pointer).is_some()
    }

    fn missing_beside(&mut self, have: &str, missing: &str, hint: &str) {
        let field = field(missing);
        self.out.push(
            self.tree
                .key_error(have, format!("`{field}` is missing beside this field"))
                .expected(format!("`{field}` as well"))
                .hint(hint),
        );
    }

    fn pairs(&mut self) {
        for (a, b, hint) in PAIRS {
            for (have, missing) in [(a, b), (b, a)] {
                if self.present(have) && !self.present(missing) {
                    self.missing_beside(have, missing, hint);
                }
            }
        }
        if self.present(AZURE_CLIENT_ID) && !self.present(AZURE_TENANT_ID) {
            self.missing_beside(AZURE_CLIENT_ID, AZURE_TENANT_ID, PAIRS[2].2);
        }
        self.azure_dns_credentials();
    }

    /// cert-manager's Azure DNS solver signs in with a service principal only: a managed
    /// identity needs workload identity's webhook (not on k3s) or the node's instance metadata
    /// service, which railyard closes to pods (decision 0020).
    fn azure_dns_credentials(&mut self) {
        if self.present(AZURE_MANAGED_IDENTITY) {
            self.out.push(
                self.tree
                    .key_error(
                        AZURE_MANAGED_IDENTITY,
                        "cert-manager cannot sign in with a managed identity here",
                    )
                    .expected("a service principal: `clientID`, `clientSecret` and `tenantID`")
                    .hint("k3s has no workload-identity webhook, and railyard closes the instance metadata service to pods, so no token would ever come; create a service principal with the DNS Zone Contributor role"),
            );
        } else if self.present(AZURE_DNS) && !self.present(AZURE_CLIENT_ID) {
            self.out.push(
                self.tree
                    .key_error(AZURE_DNS, "no service principal for Azure DNS")
                    .expected("`clientID`, `clientSecret` and `tenantID`")
                    .hint("cert-manager signs in to Azure DNS with a service principal's client secret, kept in the secrets file"),
            );
        }
    }

    fn one_choice(&mut self) {
        for (pointer, what) in [
            (DATABASE, "database"),
            (OBJECT_STORAGE, "object storage"),
            (CONTAINER_REGISTRY, "container registry"),
        ] {
            if let Some(Json::Object(choices)) = self.value(pointer) {
                if choices.len() != 1 {
                    let names: Vec<&str> = choices.keys().map(String::as_str).collect();
                    let message = if names.is_empty() {
                        format!("no {what} chosen")
                    } else {
                        format!(
                            "{} {what} choices ({}); exactly one is used",
                            names.len(),
                            names.join(", ")
                        )
                    };
                    let field = field(pointer);
                    self.out.push(
                        self.tree
                            .key_error(pointer, message)
                            .expected("exactly one choice")
                            .hint(format!(
                                "remove the `{field}` block to keep the {what} in the cluster"
                            )),
                    );
                }
            }
        }
    }

    fn features(&mut self) {
        let provider = self.str(PROVIDER).map(str::to_owned);
        for (pointer, needs, driver) in CSI_DRIVERS {
            if self.present(pointer) && provider.as_deref().is_some_and(|p| p != needs) {
                let field = field(pointer);
                self.out.push(
                    self.tree
                        .key_error(
                            pointer,
                            format!(
                                "the {driver} CSI driver needs provider `{needs}`, not `{}`",
                                provider.clone().unwrap_or_default()
                            ),
                        )
                        .expected(format!("no `{field}` on this provider"))
                        .hint(format!(
                            "remove `{field}`; k3s' local-path storage serves volumes instead"
                        )),
                );
            }
        }
        if self.present(DATABASE_BACKUP) && self.present(DATABASE) {
            self.out.push(
                self.tree.key_error(DATABASE_BACKUP, "the database backup dumps the in-cluster database, but the site uses an external one")
                    .expected("no `databaseBackup` beside `spec.gitpod.database`")
                    .hint("back the external database up where it runs, and remove `databaseBackup`"),
            );
        } else if self.present(DATABASE_BACKUP) && !self.present(S3) {
            // The in-cluster MinIO keeps its volume on one node, maybe the database's own: a
            // dump there would not survive the loss of that node (decision 0014).
            self.out.push(
                self.tree.key_error(DATABASE_BACKUP, "the database backup is uploaded off the cluster to the site's S3 storage, but the site has none")
                    .expected("`spec.gitpod.objectStorage.s3` beside `databaseBackup`")
                    .hint("add `objectStorage.s3` (Hetzner Object Storage, DigitalOcean Spaces and Scaleway Object Storage all speak S3), or remove `databaseBackup`"),
            );
        }
        if let Some(schedule) = self.str(BACKUP_SCHEDULE) {
            if schedule.split_whitespace().count() != 5 {
                self.error(
                    BACKUP_SCHEDULE,
                    format!("`{schedule}` is not a cron schedule"),
                    "five fields: minute hour day-of-month month day-of-week",
                    "e.g. `0 3 * * *` for 03:00 every day",
                );
            }
        }
        if let Some(size) = self.str(BACKUP_SIZE) {
            let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let valid = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && matches!(&size[digits.len()..], "Mi" | "Gi" | "Ti");
            if !valid {
                self.error(
                    BACKUP_SIZE,
                    format!("`{size}` is not a volume size"),
                    "a Kubernetes quantity such as `8Gi`",
                    "use `Mi`, `Gi` or `Ti`",
                );
            }
        }
    }
}
