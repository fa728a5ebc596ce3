//! The certificates layer: the DNS01 solver's Secret, the ACME `ClusterIssuer` and Gitpod's
//! wildcard `Certificate` (formats.md §4; seed-reference.md §1.7, `cert_manager`).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::generate::common_labels;
use crate::generate::infrastructure::{
    CERT_MANAGER_NAMESPACE, GITPOD_NAMESPACE, HETZNER_TOKEN_KEY,
};
use crate::generate::layers::{self, CERTIFICATES};
use crate::generate::substituted::{self, Entry};
use crate::gitpod_config::CERTIFICATE_SECRET;
use crate::json_value::value;
use crate::model::Site;
use crate::site::{Akamai, AzureDns, CloudDns, Dns01, Rfc2136, Route53};

pub const ISSUER: &str = "gitpod-issuer";
/// The solver's credentials, in cert-manager's namespace (where a ClusterIssuer reads them).
const SOLVER_SECRET: &str = "railyard-dns01";

const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let (solver, entries) = solver(&site.cert_manager.dns01);
    let mut issuer_documents = Vec::new();
    if !entries.is_empty() {
        issuer_documents.push(substituted::secret(
            site,
            SOLVER_SECRET,
            CERT_MANAGER_NAMESPACE,
            "Opaque",
            &entries,
        ));
    }
    issuer_documents.push(cluster_issuer(site, solver));
    let documents = vec![
        ("cluster-issuer.yaml".to_owned(), issuer_documents),
        ("certificate.yaml".to_owned(), vec![certificate(site)]),
    ];
    layers::write(site, &CERTIFICATES, documents, files);
}

fn secret_ref(key: &str) -> Json {
    value!({ "name": SOLVER_SECRET, "key": key })
}

/// The `dns01` solver and the solver Secret's entries it reads.
fn solver(dns01: &Dns01) -> (Json, Vec<Entry<'_>>) {
    let mut entries = Vec::new();
    let solver = if let Some(s) = &dns01.cloudflare {
        entries.push(substituted::text("api-token", &s.api_token.secret_key));
        let mut solver = value!({ "apiTokenSecretRef": secret_ref("api-token") });
        if let Some(email) = &s.email {
            solver["email"] = value!(email);
        }
        value!({ "cloudflare": solver })
    } else if let Some(s) = &dns01.route53 {
        value!({ "route53": route53(s, &mut entries) })
    } else if let Some(s) = &dns01.digitalocean {
        entries.push(substituted::text("access-token", &s.token.secret_key));
        value!({ "digitalocean": { "tokenSecretRef": secret_ref("access-token") } })
    } else if let Some(s) = &dns01.azure_dns {
        value!({ "azureDNS": azure_dns(s, &mut entries) })
    } else if let Some(s) = &dns01.cloud_dns {
        value!({ "cloudDNS": cloud_dns(s, &mut entries) })
    } else if let Some(s) = &dns01.rfc2136 {
        value!({ "rfc2136": rfc2136(s, &mut entries) })
    } else if let Some(s) = &dns01.acme_dns {
        entries.push(substituted::base64("acmedns.json", &s.account.secret_key));
        value!({ "acmeDNS": { "host": &s.host, "accountSecretRef": secret_ref("acmedns.json") } })
    } else if let Some(s) = &dns01.akamai {
        value!({ "akamai": akamai(s, &mut entries) })
    } else if let Some(s) = &dns01.hetzner {
        // Hetzner's official webhook (formats.md §4).
        entries.push(substituted::text(HETZNER_TOKEN_KEY, &s.token.secret_key));
        value!({ "webhook": { "groupName": "acme.hetzner.com", "solverName": "hetzner", "config": { "tokenSecretKeyRef": secret_ref(HETZNER_TOKEN_KEY) } } })
    } else if let Some(s) = &dns01.webhook {
        let mut solver = value!({ "groupName": &s.group_name, "solverName": &s.solver_name });
        if let Some(config) = &s.config {
            solver["config"] = Json::Object(config.clone());
        }
        value!({ "webhook": solver })
    } else {
        unreachable!("validation admits exactly one DNS01 solver")
    };
    (value!({ "dns01": solver }), entries)
}

fn route53<'a>(s: &'a Route53, entries: &mut Vec<Entry<'a>>) -> Json {
    let mut solver = value!({ "region": &s.region });
    if let Some(zone) = &s.hosted_zone_id {
        solver["hostedZoneID"] = value!(zone);
    }
    if let Some(role) = &s.role {
        solver["role"] = value!(role);
    }
    if let Some(id) = &s.access_key_id {
        entries.push(substituted::text("access-key-id", &id.secret_key));
        solver["accessKeyIDSecretRef"] = secret_ref("access-key-id");
    }
    if let Some(key) = &s.secret_access_key {
        entries.push(substituted::text("secret-access-key", &key.secret_key));
        solver["secretAccessKeySecretRef"] = secret_ref("secret-access-key");
    }
    solver
}

fn azure_dns<'a>(s: &'a AzureDns, entries: &mut Vec<Entry<'a>>) -> Json {
    let mut solver = value!({ "subscriptionID": &s.subscription_id, "resourceGroupName": &s.resource_group_name, "hostedZoneName": &s.hosted_zone_name });
    if let Some(environment) = &s.environment {
        solver["environment"] = value!(environment);
    }
    // A service principal only: the rules refuse a managed identity (decision 0020).
    if let (Some(client), Some(secret), Some(tenant)) =
        (&s.client_id, &s.client_secret, &s.tenant_id)
    {
        entries.push(substituted::text("client-secret", &secret.secret_key));
        solver["clientID"] = value!(client);
        solver["clientSecretSecretRef"] = secret_ref("client-secret");
        solver["tenantID"] = value!(tenant);
    }
    solver
}

fn cloud_dns<'a>(s: &'a CloudDns, entries: &mut Vec<Entry<'a>>) -> Json {
    let mut solver = value!({ "project": &s.project });
    if let Some(zone) = &s.hosted_zone_name {
        solver["hostedZoneName"] = value!(zone);
    }
    if let Some(account) = &s.service_account {
        entries.push(substituted::base64("key.json", &account.secret_key));
        solver["serviceAccountSecretRef"] = secret_ref("key.json");
    }
    solver
}

fn rfc2136<'a>(s: &'a Rfc2136, entries: &mut Vec<Entry<'a>>) -> Json {
    let mut solver = value!({ "nameserver": &s.nameserver });
    if let Some(name) = &s.tsig_key_name {
        solver["tsigKeyName"] = value!(name);
    }
    if let Some(algorithm) = &s.tsig_algorithm {
        solver["tsigAlgorithm"] = value!(algorithm);
    }
    if let Some(secret) = &s.tsig_secret {
        entries.push(substituted::text("tsig-secret", &secret.secret_key));
        solver["tsigSecretSecretRef"] = secret_ref("tsig-secret");
    }
    solver
}

fn akamai<'a>(s: &'a Akamai, entries: &mut Vec<Entry<'a>>) -> Json {
    entries.push(substituted::text(
        "client-token",
        &s.client_token.secret_key,
    ));
    entries.push(substituted::text(
        "client-secret",
        &s.client_secret.secret_key,
    ));
    entries.push(substituted::text(
        "access-token",
        &s.access_token.secret_key,
    ));
    value!({
        "serviceConsumerDomain": &s.service_consumer_domain,
        "clientTokenSecretRef": secret_ref("client-token"),
        "clientSecretSecretRef": secret_ref("client-secret"),
        "accessTokenSecretRef": secret_ref("access-token"),
    })
}

fn cluster_issuer(site: &Site, solver: Json) -> Json {
    let server = match site.cert_manager.acme.as_deref() {
        None | Some("production") => LETS_ENCRYPT,
        Some("staging") => LETS_ENCRYPT_STAGING,
        Some(url) => url,
    };
    value!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": { "name": ISSUER, "labels": common_labels(site) },
        "spec": {
            "acme": {
                "server": server,
                "email": &site.cert_manager.email,
                "privateKeySecretRef": { "name": "issuer-account-key" },
                "solvers": [solver],
            },
        },
    })
}

/// The wildcard certificate Gitpod serves: `domain`, `*.domain` and `*.ws.domain`.
fn certificate(site: &Site) -> Json {
    let mut labels = common_labels(site);
    labels["app"] = value!("gitpod");
    value!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": { "name": CERTIFICATE_SECRET, "namespace": GITPOD_NAMESPACE, "labels": labels },
        "spec": {
            "secretName": CERTIFICATE_SECRET,
            "secretTemplate": { "labels": { "app": "gitpod" } },
            "issuerRef": { "name": ISSUER, "kind": "ClusterIssuer", "group": "cert-manager.io" },
            "dnsNames": [&site.domain, format!("*.{}", site.domain), format!("*.ws.{}", site.domain)],
        },
    })
}
