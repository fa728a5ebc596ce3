//! Rules for the platform layer: parts that belong together (a solver's credentials, one
//! backend per Gitpod store) and optional features that only fit some sites.

use serde_json::Value as Json;

use super::Rules;

/// Fields that need each other, and why.
const PAIRS: [(&str, &str, &str); 3] = [
    (
        "/spec/certManager/dns01/route53/accessKeyID",
        "/spec/certManager/dns01/route53/secretAccessKey",
        "an access key needs its secret, and the other way round; or use neither and sign in with a `role` or the node's identity",
    ),
    (
        "/spec/certManager/dns01/rfc2136/tsigKeyName",
        "/spec/certManager/dns01/rfc2136/tsigSecret",
        "TSIG needs both the key name and the secret",
    ),
    (
        "/spec/certManager/dns01/azureDNS/clientID",
        "/spec/certManager/dns01/azureDNS/clientSecret",
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
        self.tree.value.pointer(pointer).is_some()
    }

    fn missing_beside(&mut self, have: &str, missing: &str, hint: &str) {
        let field = missing.rsplit('/').next().unwrap_or_default();
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
        let azure = "/spec/certManager/dns01/azureDNS";
        if self.present(&format!("{azure}/clientID")) && !self.present(&format!("{azure}/tenantID"))
        {
            self.missing_beside(
                &format!("{azure}/clientID"),
                &format!("{azure}/tenantID"),
                PAIRS[2].2,
            );
        }
        if self.present(&format!("{azure}/managedIdentityClientID"))
            && self.present(&format!("{azure}/clientID"))
        {
            self.out.push(
                self.tree
                    .key_error(
                        &format!("{azure}/managedIdentityClientID"),
                        "both a managed identity and a service principal",
                    )
                    .expected("one of `managedIdentityClientID` or `clientID`")
                    .hint("cert-manager signs in with one of them; remove the other"),
            );
        }
    }

    fn one_choice(&mut self) {
        for (pointer, what) in [
            ("/spec/gitpod/database", "database"),
            ("/spec/gitpod/objectStorage", "object storage"),
            ("/spec/gitpod/containerRegistry", "container registry"),
        ] {
            if let Some(Json::Object(choices)) = self.tree.value.pointer(pointer) {
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
                    let field = pointer.rsplit('/').next().unwrap_or_default();
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
        let provider = self.str("/spec/cloud/provider").map(str::to_owned);
        if self.present("/spec/features/hetznerCsi")
            && provider.as_deref().is_some_and(|p| p != "hetzner")
        {
            self.out.push(
                self.tree
                    .key_error(
                        "/spec/features/hetznerCsi",
                        format!(
                            "the Hetzner CSI driver needs provider `hetzner`, not `{}`",
                            provider.unwrap_or_default()
                        ),
                    )
                    .expected("no `hetznerCsi` on this provider")
                    .hint("remove `hetznerCsi`; k3s' local-path storage serves volumes instead"),
            );
        }
        if self.present("/spec/features/databaseBackup") && self.present("/spec/gitpod/database") {
            self.out.push(
                self.tree.key_error("/spec/features/databaseBackup", "the database backup dumps the in-cluster database, but the site uses an external one")
                    .expected("no `databaseBackup` beside `spec.gitpod.database`")
                    .hint("back the external database up where it runs, and remove `databaseBackup`"),
            );
        }
        if let Some(schedule) = self.str("/spec/features/databaseBackup/schedule") {
            if schedule.split_whitespace().count() != 5 {
                self.error(
                    "/spec/features/databaseBackup/schedule",
                    format!("`{schedule}` is not a cron schedule"),
                    "five fields: minute hour day-of-month month day-of-week",
                    "e.g. `0 3 * * *` for 03:00 every day",
                );
            }
        }
        if let Some(size) = self.str("/spec/features/databaseBackup/size") {
            let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let valid = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && matches!(&size[digits.len()..], "Mi" | "Gi" | "Ti");
            if !valid {
                self.error(
                    "/spec/features/databaseBackup/size",
                    format!("`{size}` is not a volume size"),
                    "a Kubernetes quantity such as `8Gi`",
                    "use `Mi`, `Gi` or `Ti`",
                );
            }
        }
    }
}
