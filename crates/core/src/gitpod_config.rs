//! Gitpod's installer config (v1): railyard's base for k3s, deep-merged with `spec.gitpod.config`.
//!
//! The merged config is checked against `schema/gitpod-installer-config.v1.schema.json` and a
//! few rules of the installer's own validation; every problem is reported at the line of the
//! site file the offending value came from. The config is built from the site's JSON, so the
//! check and the renderer use the very same value.

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use crate::diagnostic::Diagnostic;
use crate::json_pointer;
use crate::json_tree::JsonTree;
use crate::json_value::value;
use crate::rules::pointers as ptr;
use crate::schema;
use crate::values::Fqdn;

const SCHEMA_TEXT: &str = include_str!("../../../schema/gitpod-installer-config.v1.schema.json");
const PREFIX: &str = ptr::GITPOD_CONFIG;

/// k3s' containerd paths (seed-reference.md §4.2, the installer's `ContainerdLocationK3s`).
const CONTAINERD_RUNTIME_DIR: &str = "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io";
const CONTAINERD_SOCKET: &str = "/run/k3s/containerd/containerd.sock";

/// Secrets the config refers to; `gitpod.rs` renders each under the same name.
pub const CERTIFICATE_SECRET: &str = "https-certificates";
pub const SSH_HOST_KEY_SECRET: &str = "ssh-gateway-host-key";
pub const DATABASE_SECRET: &str = "database";
pub const DATABASE_CA_SECRET: &str = "database-ca-cert";
pub const OBJECT_STORAGE_SECRET: &str = "object-storage";
pub const REGISTRY_SECRET: &str = "container-registry";

pub fn auth_provider_secret(id: &str) -> String {
    format!("auth-provider-{id}")
}

/// Config keys railyard writes from typed site fields; setting them in `config` is an error.
const OWNED: &[(&str, &str)] = &[
    ("/apiVersion", "railyard targets installer config `v1`"),
    ("/domain", "set `spec.domain`"),
    (
        "/certificate",
        "railyard issues the wildcard certificate `https-certificates`",
    ),
    (
        "/sshGatewayHostKey",
        "railyard renders the `ssh-gateway-host-key` Secret from the secrets file",
    ),
    ("/authProviders", "list them in `spec.gitpod.authProviders`"),
    ("/database", "use `spec.gitpod.database`"),
    ("/objectStorage", "use `spec.gitpod.objectStorage`"),
    ("/containerRegistry", "use `spec.gitpod.containerRegistry`"),
    (
        "/workspace/runtime/containerdSocket",
        "k3s' containerd socket is fixed",
    ),
    (
        "/workspace/runtime/containerdRuntimeDir",
        "k3s' containerd runtime directory is fixed",
    ),
];

fn ref_to(name: &str) -> Json {
    value!({ "kind": "secret", "name": name })
}

/// railyard's base config for a site, from the site document's JSON.
pub fn base(site: &Json) -> Json {
    let text = |pointer: &str| {
        json_pointer::get(site, pointer)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let has = |pointer: &str| json_pointer::get(site, pointer).is_some_and(Json::is_object);
    let mut config = Map::new();
    config.insert("apiVersion".into(), value!("v1"));
    config.insert("kind".into(), value!("Full"));
    config.insert("domain".into(), value!(text(ptr::DOMAIN)));
    config.insert("certificate".into(), ref_to(CERTIFICATE_SECRET));
    config.insert("sshGatewayHostKey".into(), ref_to(SSH_HOST_KEY_SECRET));
    let providers: Vec<Json> = json_pointer::get(site, ptr::AUTH_PROVIDERS)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("id").and_then(Json::as_str))
        .map(|id| ref_to(&auth_provider_secret(id)))
        .collect();
    if !providers.is_empty() {
        config.insert("authProviders".into(), Json::from(providers));
    }
    let database = if has(ptr::DATABASE_EXTERNAL) {
        let mut database =
            value!({ "inCluster": false, "external": { "certificate": ref_to(DATABASE_SECRET) } });
        if json_pointer::get(site, ptr::DATABASE_CA_CERT).is_some() {
            database["ssl"] = value!({ "caCert": ref_to(DATABASE_CA_SECRET) });
        }
        database
    } else if has(ptr::CLOUD_SQL) {
        value!({ "inCluster": false, "cloudSQL": { "instance": text(ptr::CLOUD_SQL_INSTANCE), "serviceAccount": ref_to(DATABASE_SECRET) } })
    } else {
        value!({ "inCluster": true })
    };
    config.insert("database".into(), database);
    let storage = if has(ptr::S3) {
        value!({ "inCluster": false, "s3": { "endpoint": text(ptr::S3_ENDPOINT), "bucket": text(ptr::S3_BUCKET), "credentials": ref_to(OBJECT_STORAGE_SECRET) } })
    } else if has(ptr::AZURE_STORAGE) {
        value!({ "inCluster": false, "azure": { "credentials": ref_to(OBJECT_STORAGE_SECRET) } })
    } else if has(ptr::CLOUD_STORAGE) {
        value!({ "inCluster": false, "cloudStorage": { "project": text(ptr::CLOUD_STORAGE_PROJECT), "serviceAccount": ref_to(OBJECT_STORAGE_SECRET) } })
    } else {
        value!({ "inCluster": true })
    };
    config.insert("objectStorage".into(), storage);
    let registry = if has(ptr::REGISTRY_EXTERNAL) {
        value!({ "inCluster": false, "external": { "url": text(ptr::REGISTRY_URL), "certificate": ref_to(REGISTRY_SECRET) } })
    } else {
        value!({ "inCluster": true })
    };
    config.insert("containerRegistry".into(), registry);
    config.insert(
        "workspace".into(),
        value!({ "runtime": { "containerdRuntimeDir": CONTAINERD_RUNTIME_DIR, "containerdSocket": CONTAINERD_SOCKET, "fsShiftMethod": "fuse" } }),
    );
    Json::Object(config)
}

/// `overlay` merged into `base`: mappings merge key by key, anything else replaces.
pub fn deep_merge(base: &mut Json, overlay: &Json) {
    match (base, overlay) {
        (Json::Object(base), Json::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, overlay) => *base = overlay.clone(),
    }
}

/// The merged config of a site, from the site document's JSON.
pub fn merged(site: &Json) -> Json {
    let mut config = base(site);
    if let Some(overrides) = json_pointer::get(site, PREFIX).filter(|o| o.is_object()) {
        deep_merge(&mut config, overrides);
    }
    config
}

fn validator() -> &'static (Json, jsonschema::Validator) {
    static VALIDATOR: OnceLock<(Json, jsonschema::Validator)> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Json =
            serde_json::from_str(SCHEMA_TEXT).expect("the installer config schema is JSON");
        let validator =
            jsonschema::draft202012::new(&schema).expect("the installer config schema is valid");
        (schema, validator)
    })
}

/// Every problem with the site's Gitpod config, at the site file's lines.
pub fn check(tree: &JsonTree) -> Vec<Diagnostic> {
    let Some(overrides) = json_pointer::get(&tree.value, PREFIX).and_then(Json::as_object) else {
        return Vec::new();
    };
    let mut diagnostics = Vec::new();
    // The rest of the config is checked without the keys railyard sets, so one reserved key
    // does not hide every other mistake in it.
    let mut site = tree.value.clone();
    for (pointer, why) in OWNED {
        let full = format!("{PREFIX}{pointer}");
        if json_pointer::get(&tree.value, &full).is_some() {
            remove(&mut site, &full);
            let field = pointer.rsplit('/').next().unwrap_or_default();
            diagnostics.push(
                tree.key_error(
                    &full,
                    format!("`{field}` in the Gitpod config is set by railyard"),
                )
                .expected("no such key in `spec.gitpod.config`")
                .hint(*why),
            );
        }
    }
    if overrides.is_empty() {
        return diagnostics;
    }
    let config = merged(&site);
    let (schema, validator) = validator();
    diagnostics.extend(schema::check_instance(
        tree, PREFIX, validator, schema, &config,
    ));
    fractional_integers(tree, schema, &config, PREFIX, &mut diagnostics);
    if json_pointer::get(&config, "/blockNewUsers/enabled") == Some(&Json::Bool(true)) {
        let passlist =
            json_pointer::get(&config, "/blockNewUsers/passlist").and_then(Json::as_array);
        match passlist {
            Some(list) if !list.is_empty() => {
                for (i, entry) in list.iter().enumerate() {
                    let pointer = format!("{PREFIX}/blockNewUsers/passlist/{i}");
                    if let Some(domain) = entry.as_str().filter(|d| Fqdn::parse(d).is_err()) {
                        diagnostics.push(tree.value_error(&pointer, format!("`{domain}` is not a domain name")).expected("an e-mail domain such as `example.com`").hint("new users whose e-mail is in these domains may sign up"));
                    }
                }
            }
            _ => diagnostics.push(
                tree.key_error(&format!("{PREFIX}/blockNewUsers"), "`blockNewUsers` is enabled with an empty `passlist`")
                    .expected("at least one e-mail domain in `passlist`")
                    .hint("with no domain allowed, nobody could ever sign up; add your organisation's domain"),
            ),
        }
    }
    diagnostics
}

/// `value` without what `pointer` (no `~` escapes) names.
fn remove(value: &mut Json, pointer: &str) {
    if let Some((parent, key)) = pointer.rsplit_once('/') {
        if let Some(object) = value.pointer_mut(parent).and_then(Json::as_object_mut) {
            object.remove(key);
        }
    }
}

/// Numbers where the schema asks for an integer that are not integers Go can read: JSON Schema
/// takes any whole number (`1e+23`, what YAML makes of an integer literal too long for 64
/// bits), the installer reads `int32`s and `int64`s, so such a value passed the schema and
/// failed in the cluster. Walks the schema's `properties`, `additionalProperties` and `items`.
fn fractional_integers(
    tree: &JsonTree,
    schema: &Json,
    value: &Json,
    pointer: &str,
    out: &mut Vec<Diagnostic>,
) {
    match value {
        Json::Number(n)
            if schema.get("type").and_then(Json::as_str) == Some("integer")
                && !(n.is_i64() || n.is_u64())
                // a fraction is the schema's own finding
                && n.as_f64().is_some_and(|f| f.fract() == 0.0) =>
        {
            out.push(
                tree.value_error(
                    pointer,
                    format!(
                        "`{}` is {n}, not an integer the installer can read",
                        tree.field_name(pointer)
                    ),
                )
                .expected("a whole number of at most 19 digits")
                .hint("write the number without a fraction or exponent"),
            );
        }
        Json::Object(map) => {
            for (key, child) in map {
                let sub = schema
                    .get("properties")
                    .and_then(|p| p.get(key))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    fractional_integers(tree, sub, child, &format!("{pointer}/{escaped}"), out);
                }
            }
        }
        Json::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, child) in items.iter().enumerate() {
                    fractional_integers(tree, sub, child, &format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::deep_merge;

    #[test]
    fn maps_merge_and_everything_else_replaces() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        deep_merge(
            &mut base,
            &json!({"a": {"c": [3], "e": true}, "d": {"f": 1}}),
        );
        assert_eq!(
            base,
            json!({"a": {"b": 1, "c": [3], "e": true}, "d": {"f": 1}})
        );
    }
}
