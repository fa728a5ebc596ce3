//! Every JSON pointer into the site file that a rule or the Gitpod config reads or reports, in
//! one place.
//!
//! A `*` segment stands for an array index (or a map key); [`at`] fills it in. The test below
//! resolves each pointer in the generated schema, so a rule cannot name a field that does not
//! exist.

/// Defines the pointer constants and [`ALL`], so that the list cannot miss one.
macro_rules! pointers {
    ($($name:ident = $value:literal;)*) => {
        $(pub const $name: &str = $value;)*
        /// Every pointer above, for the test that each names a field of the schema.
        pub const ALL: &[&str] = &[$($value),*];
    };
}

pointers! {
    NAME = "/metadata/name";
    DOMAIN = "/spec/domain";
    SIZE = "/spec/size";
    PROVIDER = "/spec/cloud/provider";
    LOCATION = "/spec/cloud/location";
    MANAGER_TYPE = "/spec/sizeData/managerType";
    WORKER_TYPE = "/spec/sizeData/workerType";
    IMAGE = "/spec/sizeData/image";
    WORKERS = "/spec/sizeData/workers";
    POOLS = "/spec/sizeData/pools";
    POOL_NAME = "/spec/sizeData/pools/*/name";
    POOL_TYPE = "/spec/sizeData/pools/*/type";
    POOL_COUNT = "/spec/sizeData/pools/*/count";
    POOL_MIN = "/spec/sizeData/pools/*/min";
    POOL_MAX = "/spec/sizeData/pools/*/max";
    POOL_LOCATION = "/spec/sizeData/pools/*/location";
    POOL_LABELS = "/spec/sizeData/pools/*/labels";
    POOL_TAINTS = "/spec/sizeData/pools/*/taints";
    POOL_TAINT_KEY = "/spec/sizeData/pools/*/taints/*/key";
    POOL_TAINT_VALUE = "/spec/sizeData/pools/*/taints/*/value";
    AUTOSCALER_TOKEN = "/spec/sizeData/autoscalerToken";
    SSH = "/spec/ssh";
    SSH_KEYS = "/spec/ssh/authorizedKeys";
    SSH_KEY = "/spec/ssh/authorizedKeys/*";
    SSH_KEY_FILES = "/spec/ssh/authorizedKeyFiles";
    SSH_KEY_FILE = "/spec/ssh/authorizedKeyFiles/*";
    GIT_URL = "/spec/git/url";
    GIT_BRANCH = "/spec/git/branch";
    GIT_PATH = "/spec/git/path";
    GIT_AUTH = "/spec/git/auth";
    GIT_PUBLIC = "/spec/git/public";
    MAINTENANCE = "/spec/maintenance";
    API_VERSION = "/apiVersion";
    K3S_VERSION = "/spec/versions/k3s";
    FLUX_VERSION = "/spec/versions/flux";
    CERT_MANAGER_VERSION = "/spec/versions/certManager";
    ACME_EMAIL = "/spec/certManager/email";
    ACME_SERVER = "/spec/certManager/acme";
    DNS01 = "/spec/certManager/dns01";
    ROUTE53_ACCESS_KEY = "/spec/certManager/dns01/route53/accessKeyID";
    ROUTE53_SECRET = "/spec/certManager/dns01/route53/secretAccessKey";
    RFC2136_KEY_NAME = "/spec/certManager/dns01/rfc2136/tsigKeyName";
    RFC2136_SECRET = "/spec/certManager/dns01/rfc2136/tsigSecret";
    AZURE_DNS = "/spec/certManager/dns01/azureDNS";
    AZURE_CLIENT_ID = "/spec/certManager/dns01/azureDNS/clientID";
    AZURE_CLIENT_SECRET = "/spec/certManager/dns01/azureDNS/clientSecret";
    AZURE_TENANT_ID = "/spec/certManager/dns01/azureDNS/tenantID";
    AZURE_MANAGED_IDENTITY = "/spec/certManager/dns01/azureDNS/managedIdentityClientID";
    INSTALLER_IMAGE = "/spec/gitpod/installer/image";
    INSTALLER_VERSION = "/spec/gitpod/installer/version";
    AUTH_PROVIDERS = "/spec/gitpod/authProviders";
    AUTH_PROVIDER_ID = "/spec/gitpod/authProviders/*/id";
    AUTH_PROVIDER_HOST = "/spec/gitpod/authProviders/*/host";
    DATABASE = "/spec/gitpod/database";
    OBJECT_STORAGE = "/spec/gitpod/objectStorage";
    CONTAINER_REGISTRY = "/spec/gitpod/containerRegistry";
    GITPOD_CONFIG = "/spec/gitpod/config";
    DATABASE_EXTERNAL = "/spec/gitpod/database/external";
    DATABASE_CA_CERT = "/spec/gitpod/database/external/caCert";
    CLOUD_SQL = "/spec/gitpod/database/cloudSQL";
    CLOUD_SQL_INSTANCE = "/spec/gitpod/database/cloudSQL/instance";
    S3 = "/spec/gitpod/objectStorage/s3";
    S3_ENDPOINT = "/spec/gitpod/objectStorage/s3/endpoint";
    S3_BUCKET = "/spec/gitpod/objectStorage/s3/bucket";
    AZURE_STORAGE = "/spec/gitpod/objectStorage/azure";
    CLOUD_STORAGE = "/spec/gitpod/objectStorage/cloudStorage";
    CLOUD_STORAGE_PROJECT = "/spec/gitpod/objectStorage/cloudStorage/project";
    REGISTRY_EXTERNAL = "/spec/gitpod/containerRegistry/external";
    REGISTRY_URL = "/spec/gitpod/containerRegistry/external/url";
    ADMIN_CIDRS = "/spec/firewall/adminCidrs";
    ADMIN_CIDR = "/spec/firewall/adminCidrs/*";
    NETWORK = "/spec/network";
    PRIVATE_CIDR = "/spec/network/privateCidr";
    OVERLAYS = "/spec/overlays";
    OVERLAY = "/spec/overlays/*";
    HETZNER_CSI = "/spec/features/hetznerCsi";
    DIGITALOCEAN_CSI = "/spec/features/digitaloceanCsi";
    SCALEWAY_CSI = "/spec/features/scalewayCsi";
    AZURE_DISK_CSI = "/spec/features/azureDiskCsi";
    DATABASE_BACKUP = "/spec/features/databaseBackup";
    BACKUP_SCHEDULE = "/spec/features/databaseBackup/schedule";
    BACKUP_SIZE = "/spec/features/databaseBackup/size";
    AGE_RECIPIENTS = "/spec/secrets/ageRecipients";
    AGE_RECIPIENT = "/spec/secrets/ageRecipients/*";
    SECRETS_FILE = "/spec/secrets/file";
    MACHINE_SECRETS_FILE = "/spec/secrets/machineFile";
    MAINTENANCE_DAYS = "/spec/maintenance/days";
    MAINTENANCE_DAY = "/spec/maintenance/days/*";
    MAINTENANCE_START = "/spec/maintenance/start";
    MAINTENANCE_END = "/spec/maintenance/end";
    MAINTENANCE_TIME_ZONE = "/spec/maintenance/timeZone";
}

/// `template` with its first `*` replaced by `index`.
pub fn at(template: &str, index: usize) -> String {
    template.replacen('*', &index.to_string(), 1)
}

/// The last segment of a pointer: the field's name.
pub fn field(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;

    use super::*;
    use crate::schema::site_schema;

    /// Whether `pointer` names a place the schema describes: a key through `properties` (or an
    /// object-valued `additionalProperties`), an index or `*` through `items`.
    fn resolves(schema: &Json, pointer: &str) -> bool {
        let mut node = schema;
        for segment in pointer.split('/').skip(1) {
            let by_key = node.get("properties").and_then(|p| p.get(segment));
            let is_index = segment == "*" || segment.bytes().all(|b| b.is_ascii_digit());
            let next = by_key
                .or_else(|| node.get("items").filter(|_| is_index))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()));
            match next {
                Some(next) => node = next,
                None => return false,
            }
        }
        true
    }

    #[test]
    fn every_pointer_names_a_field_of_the_schema() {
        let schema = site_schema();
        let missing: Vec<&&str> = ALL.iter().filter(|p| !resolves(schema, p)).collect();
        assert!(missing.is_empty(), "not in the schema: {missing:?}");
    }

    #[test]
    fn a_misspelt_pointer_is_caught() {
        let schema = site_schema();
        for wrong in [
            "/spec/sizeData/wokerType",
            "/metadata/nmae",
            "/spec/ssh/authorizedKeys/0/x",
            "/spec/overlays/name",
        ] {
            assert!(!resolves(schema, wrong), "{wrong}");
        }
        assert!(resolves(schema, &at(AUTH_PROVIDER_ID, 3)));
    }

    #[test]
    fn templates_fill_in() {
        assert_eq!(at(SSH_KEY, 2), "/spec/ssh/authorizedKeys/2");
        assert_eq!(field(GIT_URL), "url");
    }
}
