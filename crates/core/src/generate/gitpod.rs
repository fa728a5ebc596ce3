//! The Gitpod layer: Gitpod's Secrets (values by reference), the installer config, and the Job
//! that runs Gitpod's own installer (formats.md §7; seed-reference.md §4.3 for the Secrets and
//! keys the installer checks). railyard does not reimplement the installer: it pins it
//! (`installer.rs`: the Job that runs it).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::emit;
use crate::generate::common_labels;
use crate::generate::infrastructure::GITPOD_NAMESPACE;
use crate::generate::layers::{self, GITPOD};
use crate::generate::substituted::{self, Entry};
use crate::gitpod_config::{
    DATABASE_CA_SECRET, DATABASE_SECRET, OBJECT_STORAGE_SECRET, REGISTRY_SECRET,
    SSH_HOST_KEY_SECRET, auth_provider_secret,
};
use crate::json_value::value;
use crate::model::Site;
use crate::site::{Database, ObjectStorage};

mod backup;
mod installer;

pub use installer::name_job;

/// The secrets-file key of the SSH gateway's host key (base64 of the private key file).
pub const SSH_HOST_KEY: &str = "gitpod_ssh_gateway_host_key";

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let config_text = emit::document(&site.gitpod_config);
    let config_map = vec![installer::config_map(site, &config_text)];
    let mut job = installer::job(site, &config_text);
    // the config file's bytes as `layers::write` writes them
    installer::rename(&mut job, emit::documents(&config_map).as_bytes());
    let mut documents = vec![
        ("secrets.yaml".to_owned(), secrets(site)),
        (installer::CONFIG_FILE_NAME.to_owned(), config_map),
        ("installer-rbac.yaml".to_owned(), installer::rbac(site)),
        (installer::JOB_FILE.to_owned(), vec![job]),
    ];
    if let Some(backup) = &site.features.database_backup {
        let schedule = backup.schedule.as_deref().unwrap_or("0 3 * * *");
        let size = backup.size.as_deref().unwrap_or("8Gi");
        documents.push((
            "database-backup.yaml".to_owned(),
            database_backup(site, schedule, size),
        ));
    }
    layers::write(site, &GITPOD, documents, files);
}

fn metadata(site: &Site, name: &str) -> Json {
    value!({ "name": name, "namespace": GITPOD_NAMESPACE, "labels": common_labels(site) })
}

fn secrets(site: &Site) -> Vec<Json> {
    let gitpod = &site.gitpod;
    let mut secrets = vec![substituted::secret(
        site,
        SSH_HOST_KEY_SECRET,
        GITPOD_NAMESPACE,
        "Opaque",
        &[substituted::base64("host-key", SSH_HOST_KEY)],
    )];
    for provider in &gitpod.auth_providers {
        secrets.push(auth_provider(site, provider));
    }
    let database = gitpod.database.clone().unwrap_or_default();
    secrets.extend(database_secrets(site, &database));
    let storage = gitpod.object_storage.clone().unwrap_or_default();
    secrets.extend(object_storage_secret(site, &storage));
    if let Some(registry) = gitpod
        .container_registry
        .as_ref()
        .and_then(|r| r.external.as_ref())
    {
        let entries = [substituted::json(
            ".dockerconfigjson",
            &registry.docker_config_json.secret_key,
        )];
        secrets.push(substituted::secret(
            site,
            REGISTRY_SECRET,
            GITPOD_NAMESPACE,
            "kubernetes.io/dockerconfigjson",
            &entries,
        ));
    }
    secrets
}

/// An external database's Secrets (its credentials, and its CA when it has one), or Cloud
/// SQL's; none for the in-cluster database.
fn database_secrets(site: &Site, database: &Database) -> Vec<Json> {
    let mut secrets = Vec::new();
    if let Some(db) = &database.external {
        let port = db.port.unwrap_or(3306).to_string();
        let entries = [
            substituted::plain("host", &db.host),
            substituted::plain("port", &port),
            substituted::plain("username", &db.username),
            substituted::text("password", &db.password.secret_key),
            substituted::json("encryptionKeys", &db.encryption_keys.secret_key),
        ];
        secrets.push(substituted::secret(
            site,
            DATABASE_SECRET,
            GITPOD_NAMESPACE,
            "Opaque",
            &entries,
        ));
        if let Some(ca) = &db.ca_cert {
            secrets.push(substituted::secret(
                site,
                DATABASE_CA_SECRET,
                GITPOD_NAMESPACE,
                "Opaque",
                &[substituted::base64("ca.crt", &ca.secret_key)],
            ));
        }
    }
    if let Some(db) = &database.cloud_sql {
        let entries = [
            substituted::base64("credentials.json", &db.service_account.secret_key),
            substituted::json("encryptionKeys", &db.encryption_keys.secret_key),
            substituted::text("password", &db.password.secret_key),
            substituted::plain("username", &db.username),
        ];
        secrets.push(substituted::secret(
            site,
            DATABASE_SECRET,
            GITPOD_NAMESPACE,
            "Opaque",
            &entries,
        ));
    }
    secrets
}

/// The object store's credentials, for S3, Azure or Cloud Storage; none for the in-cluster
/// store.
fn object_storage_secret(site: &Site, storage: &ObjectStorage) -> Option<Json> {
    let entries: Vec<Entry<'_>> = if let Some(s3) = &storage.s3 {
        vec![
            substituted::text("accessKeyId", &s3.access_key_id.secret_key),
            substituted::text("secretAccessKey", &s3.secret_access_key.secret_key),
        ]
    } else if let Some(azure) = &storage.azure {
        vec![
            substituted::plain("accountName", &azure.account_name),
            substituted::text("accountKey", &azure.account_key.secret_key),
        ]
    } else if let Some(gcs) = &storage.cloud_storage {
        vec![substituted::base64(
            "service-account.json",
            &gcs.service_account.secret_key,
        )]
    } else {
        return None;
    };
    Some(substituted::secret(
        site,
        OBJECT_STORAGE_SECRET,
        GITPOD_NAMESPACE,
        "Opaque",
        &entries,
    ))
}

/// An auth provider's Secret: key `provider`, a YAML document the installer reads.
fn auth_provider(site: &Site, provider: &crate::site::AuthProvider) -> Json {
    let kind = match provider.kind {
        crate::site::AuthProviderKind::GitHub => "GitHub",
        crate::site::AuthProviderKind::GitLab => "GitLab",
        crate::site::AuthProviderKind::Bitbucket => "Bitbucket",
    };
    let document = value!({
        "id": &provider.id,
        "host": &provider.host,
        "type": kind,
        "oauth": {
            "clientId": &provider.client_id,
            "clientSecret": emit::literal(&substituted::reference(&provider.client_secret.secret_key)),
            "callBackUrl": format!("https://{}/auth/{}/callback", site.domain, provider.host),
        },
    });
    value!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(site, &auth_provider_secret(&provider.id)),
        "type": "Opaque",
        "stringData": { "provider": emit::document(&document) },
    })
}

/// A daily dump of the in-cluster database, uploaded to the site's S3 storage.
fn database_backup(site: &Site, schedule: &str, size: &str) -> Vec<Json> {
    backup::cron_job(site, metadata(site, "db-backup"), schedule, size)
        .into_iter()
        .collect()
}
