//! The Gitpod layer: Gitpod's Secrets (values by reference), the installer config, and the Job
//! that runs Gitpod's own installer (formats.md §7; seed-reference.md §4.3 for the Secrets and
//! keys the installer checks). railyard does not reimplement the installer: it pins it.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::emit;
use crate::generate::common_labels;
use crate::generate::infrastructure::GITPOD_NAMESPACE;
use crate::generate::layers::{self, GITPOD, no_substitution};
use crate::generate::substituted::{self, Entry};
use crate::gitpod_config::{
    DATABASE_CA_SECRET, DATABASE_SECRET, OBJECT_STORAGE_SECRET, REGISTRY_SECRET,
    SSH_HOST_KEY_SECRET, auth_provider_secret,
};
use crate::model::Site;
use crate::site::{Database, ObjectStorage};
use crate::tree::sha256;

const INSTALLER_SCRIPT: &str = include_str!("scripts/gitpod-installer.sh");
const BACKUP_SCRIPT: &str = include_str!("scripts/database-backup.sh");

const INSTALLER: &str = "gitpod-installer";
const CONFIG_MAP: &str = "gitpod-installer-config";
const CONFIG_FILE: &str = "gitpod.config.yaml";
/// The secrets-file key of the SSH gateway's host key (base64 of the private key file).
pub const SSH_HOST_KEY: &str = "gitpod_ssh_gateway_host_key";
/// MySQL 5.7, the version Gitpod's in-cluster database runs (seed-reference.md §1.6).
const BACKUP_IMAGE: &str = "mysql:5.7.44";

pub fn generate(site: &Site, files: &mut BTreeMap<String, Vec<u8>>) {
    let config_text = emit::document(&site.gitpod_config);
    let mut documents = vec![
        ("secrets.yaml".to_owned(), secrets(site)),
        (
            "installer-config.yaml".to_owned(),
            vec![config_map(site, &config_text)],
        ),
        ("installer-rbac.yaml".to_owned(), rbac(site)),
        (
            "installer-job.yaml".to_owned(),
            vec![job(site, &config_text)],
        ),
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
    json!({ "name": name, "namespace": GITPOD_NAMESPACE, "labels": common_labels(site) })
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
        let entries = [substituted::text(
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
            substituted::text("encryptionKeys", &db.encryption_keys.secret_key),
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
            substituted::text("encryptionKeys", &db.encryption_keys.secret_key),
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
    let document = json!({
        "id": provider.id,
        "host": provider.host,
        "type": kind,
        "oauth": {
            "clientId": provider.client_id,
            "clientSecret": emit::literal(&substituted::reference(&provider.client_secret.secret_key)),
            "callBackUrl": format!("https://{}/auth/{}/callback", site.domain, provider.host),
        },
    });
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(site, &auth_provider_secret(&provider.id)),
        "type": "Opaque",
        "stringData": { "provider": emit::document(&document) },
    })
}

fn config_map(site: &Site, config_text: &str) -> Json {
    let mut config_map = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(site, CONFIG_MAP), "data": { CONFIG_FILE: config_text } });
    // The user's config is passed through as written, `${...}` included.
    no_substitution(&mut config_map);
    config_map
}

/// The installer's rights: everything inside Gitpod's namespace, and the cluster-scoped kinds
/// Gitpod's manifests create. Creating ClusterRoles for Gitpod's components needs `escalate`
/// and `bind`; that is the least a Job that installs Gitpod can hold.
fn rbac(site: &Site) -> Vec<Json> {
    let labels = common_labels(site);
    let verbs_all = json!([
        "get", "list", "watch", "create", "update", "patch", "delete"
    ]);
    let cluster_role = format!("railyard-{INSTALLER}");
    vec![
        json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(site, INSTALLER) }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(site, INSTALLER),
            "rules": [{ "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"] }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(site, INSTALLER),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": INSTALLER },
            "subjects": [{ "kind": "ServiceAccount", "name": INSTALLER, "namespace": GITPOD_NAMESPACE }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": cluster_role, "labels": labels },
            "rules": [
                { "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles", "clusterrolebindings"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "bind", "escalate"] },
                { "apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list", "watch", "create", "update", "patch"] },
                { "apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"], "verbs": verbs_all },
                { "apiGroups": ["scheduling.k8s.io"], "resources": ["priorityclasses"], "verbs": verbs_all },
                { "apiGroups": ["node.k8s.io"], "resources": ["runtimeclasses"], "verbs": verbs_all },
                { "apiGroups": [""], "resources": ["namespaces", "nodes"], "verbs": ["get", "list", "watch"] },
                { "apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list", "watch"] },
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": cluster_role, "labels": labels },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role },
            "subjects": [{ "kind": "ServiceAccount", "name": INSTALLER, "namespace": GITPOD_NAMESPACE }],
        }),
    ]
}

/// The installer Job, named after a digest of config and installer: a change of either runs a
/// new Job (a Job's pod template cannot change), and Flux prunes the old one.
fn job(site: &Site, config_text: &str) -> Json {
    let image = format!(
        "{}:{}",
        site.gitpod.installer.image, site.gitpod.installer.version
    );
    let digest = sha256(format!("{config_text}\n{image}\n").as_bytes());
    let name = format!(
        "{INSTALLER}-{}",
        &digest["sha256:".len().."sha256:".len() + 10]
    );
    let mut job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(site, &name),
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": { "labels": { "app.kubernetes.io/name": INSTALLER } },
                "spec": {
                    "serviceAccountName": INSTALLER,
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "installer",
                        "image": image,
                        "command": ["/bin/sh", "-c"],
                        "args": [INSTALLER_SCRIPT],
                        "volumeMounts": [{ "name": "config", "mountPath": "/config", "readOnly": true }],
                    }],
                    "volumes": [{ "name": "config", "configMap": { "name": CONFIG_MAP } }],
                },
            },
        },
    });
    no_substitution(&mut job);
    job
}

/// A daily `mysqldump` of the in-cluster database (the seed author's own install ran one).
fn database_backup(site: &Site, schedule: &str, size: &str) -> Vec<Json> {
    let mut claim = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(site, "db-backup"),
        "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": size } } },
    });
    // Backups outlive the feature: Flux never deletes this claim.
    claim["metadata"]["annotations"] = json!({ "kustomize.toolkit.fluxcd.io/prune": "disabled" });
    let mut cron = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata(site, "db-backup"),
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": { "spec": { "backoffLimit": 1, "template": { "spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "mysqldump",
                    "image": BACKUP_IMAGE,
                    "command": ["/bin/sh", "-c"],
                    "args": [BACKUP_SCRIPT],
                    "env": [{ "name": "MYSQL_PWD", "valueFrom": { "secretKeyRef": { "name": "db-password", "key": "mysql-root-password" } } }],
                    "volumeMounts": [{ "name": "backup", "mountPath": "/backup" }],
                }],
                "volumes": [{ "name": "backup", "persistentVolumeClaim": { "claimName": "db-backup" } }],
            } } } },
        },
    });
    no_substitution(&mut cron);
    vec![claim, cron]
}
