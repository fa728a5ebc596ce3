//! The `databaseBackup` feature: a CronJob that dumps the in-cluster MySQL with a supported
//! client into the Pod's scratch volume, then uploads the dump off the cluster to the site's S3
//! storage and deletes the dumps older than the retention there (decision 0014).

use serde_json::Value as Json;

use crate::defaults::{BACKUP_CLIENT_IMAGE, BACKUP_KEEP_DAYS, BACKUP_PREFIX, BACKUP_UPLOAD_IMAGE};
use crate::generate::layers::no_substitution;
use crate::gitpod_config::OBJECT_STORAGE_SECRET;
use crate::json_value::value;
use crate::model::Site;
use crate::site::S3Storage;

/// The dump script the first container runs (`BACKUP_DIR`, `DB_HOST`, `DB_PASSWORD`).
const DUMP_SCRIPT: &str = include_str!("../scripts/database-backup.sh");
/// The upload script the second container runs.
const UPLOAD_SCRIPT: &str = include_str!("../scripts/database-upload.sh");

/// The in-cluster database Gitpod's installer deploys: its Service and root password Secret
/// (seed-reference.md §1.6).
const DATABASE_HOST: &str = "mysql.gitpod.svc.cluster.local";
const DATABASE_PASSWORD: (&str, &str) = ("db-password", "mysql-root-password");

/// Where the dump waits between the two containers.
const SCRATCH: &str = "/backup";

/// The CronJob, or none when the site has no S3 storage (a rule reports that).
pub(super) fn cron_job(site: &Site, metadata: Json, schedule: &str, size: &str) -> Option<Json> {
    let s3 = site.gitpod.object_storage.as_ref()?.s3.as_ref()?;
    let scratch = value!([{ "name": "scratch", "mountPath": SCRATCH }]);
    let mut cron = value!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": metadata,
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "jobTemplate": { "spec": { "backoffLimit": 1, "template": { "spec": {
                "restartPolicy": "Never",
                // The dump first; the upload runs only when it succeeded.
                "initContainers": [{
                    "name": "mysqldump",
                    "image": BACKUP_CLIENT_IMAGE,
                    "command": ["/bin/sh", "-c"],
                    "args": [DUMP_SCRIPT],
                    "env": [
                        env("BACKUP_DIR", SCRATCH),
                        env("DB_HOST", DATABASE_HOST),
                        secret_env("DB_PASSWORD", DATABASE_PASSWORD.0, DATABASE_PASSWORD.1),
                    ],
                    "volumeMounts": &scratch,
                }],
                "containers": [{
                    "name": "upload",
                    "image": BACKUP_UPLOAD_IMAGE,
                    "command": ["/bin/sh", "-c"],
                    "args": [UPLOAD_SCRIPT],
                    "env": upload_env(s3),
                    "volumeMounts": scratch,
                }],
                // Only while the Job runs: the backups themselves live off the cluster.
                "volumes": [{ "name": "scratch", "emptyDir": { "sizeLimit": size } }],
            } } } },
        },
    });
    no_substitution(&mut cron);
    Some(cron)
}

/// rclone's remote `backup` from its environment variables (rclone.org/docs, "Config file"
/// section on `RCLONE_CONFIG_<NAME>_<OPTION>`): the site's endpoint, the keys from the object
/// storage Secret Gitpod reads too, by reference only.
fn upload_env(s3: &S3Storage) -> Json {
    value!([
        env("BACKUP_DIR", SCRATCH),
        env(
            "BACKUP_DESTINATION",
            &format!("backup:{}/{BACKUP_PREFIX}", s3.bucket)
        ),
        env("KEEP_DAYS", &BACKUP_KEEP_DAYS.to_string()),
        env("RCLONE_CONFIG_BACKUP_TYPE", "s3"),
        env("RCLONE_CONFIG_BACKUP_PROVIDER", "Other"),
        env("RCLONE_CONFIG_BACKUP_ENDPOINT", &s3.endpoint),
        // The bucket exists (Gitpod uses it); a key may not be allowed to create buckets.
        env("RCLONE_CONFIG_BACKUP_NO_CHECK_BUCKET", "true"),
        secret_env(
            "RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID",
            OBJECT_STORAGE_SECRET,
            "accessKeyId"
        ),
        secret_env(
            "RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY",
            OBJECT_STORAGE_SECRET,
            "secretAccessKey"
        ),
    ])
}

fn env(name: &str, value: &str) -> Json {
    value!({ "name": name, "value": value })
}

fn secret_env(name: &str, secret: &str, key: &str) -> Json {
    value!({ "name": name, "valueFrom": { "secretKeyRef": { "name": secret, "key": key } } })
}
