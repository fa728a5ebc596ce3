//! The labels railyard puts on what it creates, so that it can find them again.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::json_value::value;

/// The label naming the site an object or a cloud resource belongs to.
pub const SITE: &str = "railyard.dev/site";

/// The label naming what a cloud resource is for (`server`, `worker`, `ingress`, `api`, ...).
pub const ROLE: &str = "railyard.dev/role";

/// The `ROLE` value of a k3s server node, and of every other node (the k3s docs' "agent").
pub const SERVER_NODE: &str = "server";
pub const AGENT_NODE: &str = "agent";

/// A node's role label as k3s' `node-label` option takes it: `railyard.dev/role=server`.
pub fn node_role(role: &str) -> String {
    format!("{ROLE}={role}")
}

/// The label selector, as a Plan's `nodeSelector.matchLabels`, of the nodes with `role`.
pub fn node_role_match(role: &str) -> Json {
    value!({ ROLE: role })
}

/// The standard Kubernetes label naming the tool that manages an object.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// The labels on every Kubernetes object railyard renders or applies for `site`.
pub fn site(site: &str) -> Json {
    value!({ MANAGED_BY: "railyard", SITE: site })
}

/// The label selector for everything of `site`: `railyard.dev/site=<site>`.
pub fn site_selector(site: &str) -> String {
    format!("{SITE}={site}")
}

/// The labels of a site's cloud resource with a role.
pub fn resource(site: &str, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SITE.to_owned(), site.to_owned()),
        (ROLE.to_owned(), role.to_owned()),
    ])
}

/// The label naming a worker's pool (`large`).
pub const POOL: &str = "railyard.dev/pool";

/// The labels of a pool's servers, whoever creates them (bootstrap for a static pool,
/// cluster-autoscaler for an autoscaled one): the site's worker labels, so the site's firewall
/// (applied by the site's label) and the ingress load balancer (targeting the worker role)
/// cover them, plus the pool, by which `plan` tells an autoscaled pool's servers apart.
pub fn pool(site: &str, pool: &str) -> BTreeMap<String, String> {
    let mut labels = resource(site, WORKER_ROLE);
    labels.insert(POOL.to_owned(), pool.to_owned());
    labels
}

/// The role of workers' cloud resources (servers and their placement groups).
pub const WORKER_ROLE: &str = "worker";

/// The label selector for the resources of `site` with `role`.
pub fn role_selector(site: &str, role: &str) -> String {
    format!("{SITE}={site},{ROLE}={role}")
}

/// The site's labels as tags, for clouds whose tags are plain names of letters, digits, `:`,
/// `-` and `_` (DigitalOcean: `railyard.dev/site=demo` is not a valid tag; cloud-apis.md §3
/// Traps): `railyard-site:demo`, and the role within the site, `railyard-role:demo:server`, so
/// that a load balancer targeting a role's tag never reaches another site's machines. Sites
/// are DNS labels and roles words, which the pattern admits.
pub fn site_tag(site: &str) -> String {
    format!("railyard-site:{site}")
}

/// The tag of the resources of `site` with `role`.
pub fn role_tag(site: &str, role: &str) -> String {
    format!("railyard-role:{site}:{role}")
}

/// The tag of a pool's machines of `site` (pool names are DNS labels, which the pattern admits).
pub fn pool_tag(site: &str, pool: &str) -> String {
    format!("railyard-pool:{site}:{pool}")
}

/// A resource's labels (`resource`, `pool`) as tags: the site's, the role's, then the pool's.
pub fn tags(labels: &BTreeMap<String, String>) -> Vec<String> {
    let Some(site) = labels.get(SITE) else {
        return Vec::new();
    };
    let mut tags = vec![site_tag(site)];
    tags.extend(labels.get(ROLE).map(|role| role_tag(site, role)));
    tags.extend(labels.get(POOL).map(|pool| pool_tag(site, pool)));
    tags
}

/// The tag matching what a label selector of `site_selector` or `role_selector` matches:
/// the most specific (the role's, else the site's); `None` for any other selector.
pub fn selector_tag(selector: &str) -> Option<String> {
    let pairs: Vec<(&str, &str)> = selector
        .split(',')
        .map(|p| p.split_once('='))
        .collect::<Option<_>>()?;
    match pairs.as_slice() {
        [(SITE, site)] => Some(site_tag(site)),
        [(SITE, site), (ROLE, role)] => Some(role_tag(site, role)),
        _ => None,
    }
}

/// The characters Azure reserves in tag names (`<`, `>`, `%`, `&`, `\`, `?`, `/`;
/// cloud-apis.md §5 Traps), so `railyard.dev/site` cannot be an Azure tag name.
pub const AZURE_RESERVED: &[char] = &['<', '>', '%', '&', '\\', '?', '/'];

/// A label's name as an Azure tag name: railyard's `railyard.dev/` prefix becomes `railyard-`
/// (`railyard-site`, `railyard-role`, `railyard-pool`), the spelling DigitalOcean's tags use
/// too. Azure tags are name and value pairs, so the value stays the label's.
pub fn azure_tag_name(label: &str) -> String {
    label.replacen("railyard.dev/", "railyard-", 1)
}

/// A resource's labels (`resource`, `pool`, or the site's alone) as Azure tags.
pub fn azure_tags(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|(name, value)| (azure_tag_name(name), value.clone()))
        .collect()
}

/// The tags of everything of `site` on Azure: `railyard-site: <site>`.
pub fn azure_site_tags(site: &str) -> BTreeMap<String, String> {
    azure_tags(&BTreeMap::from([(SITE.to_owned(), site.to_owned())]))
}

/// The tag marking a resource group railyard created for a site (not one the user made and
/// named in the site): `destroy` deletes only such a group, and only once it is empty.
pub const AZURE_CREATED_GROUP: (&str, &str) = ("railyard-created", "resource-group");

/// The tag holding a VM's rendered user-data digest (`bootstrap::user_data`): Azure never
/// serves `customData` back, so this is how `plan` tells that the render has changed since.
pub const AZURE_USER_DATA_TAG: &str = "railyard-user-data";

/// The tags of a site's resource group railyard creates: the site's, and `AZURE_CREATED_GROUP`.
pub fn azure_group_tags(site: &str) -> BTreeMap<String, String> {
    let mut tags = azure_site_tags(site);
    let (name, value) = AZURE_CREATED_GROUP;
    tags.insert(name.to_owned(), value.to_owned());
    tags
}

/// Azure tags read back as labels: `railyard-site` is `railyard.dev/site` again; tags that
/// are no label of railyard's are left out.
pub fn azure_labels(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    [SITE, ROLE, POOL]
        .iter()
        .filter_map(|label| {
            tags.get(&azure_tag_name(label))
                .map(|v| ((*label).to_owned(), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_valid_digitalocean_tags() {
        let valid = |t: &str| {
            t.len() <= 255
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
        };
        let labels = resource("demo-1", "server");
        let tags = tags(&labels);
        assert_eq!(
            tags,
            ["railyard-site:demo-1", "railyard-role:demo-1:server"]
        );
        assert!(tags.iter().all(|t| valid(t)), "{tags:?}");
        let pooled = super::tags(&pool("demo-1", "gpu-2"));
        assert_eq!(
            pooled,
            [
                "railyard-site:demo-1",
                "railyard-role:demo-1:worker",
                "railyard-pool:demo-1:gpu-2"
            ]
        );
        assert!(pooled.iter().all(|t| valid(t)), "{pooled:?}");
        assert_eq!(site_tag("demo"), "railyard-site:demo");
        assert_eq!(
            selector_tag(&site_selector("demo")).as_deref(),
            Some("railyard-site:demo")
        );
        assert_eq!(
            selector_tag(&role_selector("demo", "worker")).as_deref(),
            Some("railyard-role:demo:worker")
        );
        assert_eq!(selector_tag("a=b"), None);
    }

    #[test]
    fn azure_tag_names_avoid_the_reserved_characters() {
        let tags = azure_tags(&pool("demo-1", "gpu-2"));
        assert_eq!(
            tags.keys().map(String::as_str).collect::<Vec<_>>(),
            ["railyard-pool", "railyard-role", "railyard-site"]
        );
        for name in tags.keys() {
            assert!(!name.contains(AZURE_RESERVED), "{name}");
            assert!(name.len() <= 512, "{name}");
        }
        assert!(SITE.contains(AZURE_RESERVED), "the label itself is refused");
        assert_eq!(tags["railyard-site"], "demo-1");
        assert_eq!(
            azure_site_tags("demo"),
            BTreeMap::from([("railyard-site".to_owned(), "demo".to_owned())])
        );
    }

    #[test]
    fn azure_tags_read_back_as_labels_and_mark_the_group() {
        let labels = resource("demo", "worker");
        let mut tags = azure_tags(&labels);
        tags.insert("owner".to_owned(), "ops".to_owned());
        tags.insert(AZURE_USER_DATA_TAG.to_owned(), "0123".to_owned());
        assert_eq!(azure_labels(&tags), labels, "other tags are no labels");
        let group = azure_group_tags("demo");
        assert_eq!(group["railyard-site"], "demo");
        assert_eq!(group[AZURE_CREATED_GROUP.0], AZURE_CREATED_GROUP.1);
        assert!(group.keys().all(|k| !k.contains(AZURE_RESERVED)));
    }

    #[test]
    fn site_labels() {
        assert_eq!(
            site("demo").to_string(),
            r#"{"app.kubernetes.io/managed-by":"railyard","railyard.dev/site":"demo"}"#
        );
        assert_eq!(site_selector("demo"), "railyard.dev/site=demo");
        assert_eq!(node_role(SERVER_NODE), "railyard.dev/role=server");
        assert_eq!(
            node_role_match(AGENT_NODE).to_string(),
            r#"{"railyard.dev/role":"agent"}"#
        );
        assert_eq!(
            role_selector("demo", "worker"),
            "railyard.dev/site=demo,railyard.dev/role=worker"
        );
    }
}
