//! Rules for the platform layer: parts that belong together (a solver's credentials, one
//! backend per Gitpod store) and optional features that only fit some sites.

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{
    AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_MANAGED_IDENTITY, AZURE_TENANT_ID, BACKUP_SCHEDULE,
    BACKUP_SIZE, CONTAINER_REGISTRY, DATABASE, DATABASE_BACKUP, DIGITALOCEAN_CSI, HETZNER_CSI,
    OBJECT_STORAGE, PROVIDER, RFC2136_KEY_NAME, RFC2136_SECRET, ROUTE53_ACCESS_KEY, ROUTE53_SECRET,
    SCALEWAY_CSI, field,
};

/// The optional CSI drivers: where each is enabled, the provider it needs, and its name in
/// messages.
const CSI_DRIVERS: [(&str, &str, &str); 3] = [
    (HETZNER_CSI, "hetzner", "Hetzner"),
    (DIGITALOCEAN_CSI, "digitalocean", "DigitalOcean"),
    (SCALEWAY_CSI, "scaleway", "Scaleway"),
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
        if self.present(AZURE_MANAGED_IDENTITY) && self.present(AZURE_CLIENT_ID) {
            self.out.push(
                self.tree
                    .key_error(
                        AZURE_MANAGED_IDENTITY,
                        "both a managed identity and a service principal",
                    )
                    .expected("one of `managedIdentityClientID` or `clientID`")
                    .hint("cert-manager signs in with one of them; remove the other"),
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
