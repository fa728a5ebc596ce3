//! A resource as the engine carries it: the object, and the names it has had.

use serde_json::Value as Json;

/// One Kubernetes object and what the engine knows of its history.
#[derive(Clone, Debug)]
pub struct Resource {
    pub object: Json,
    /// The file it came from, for messages.
    pub file: String,
    /// The name and namespace it was loaded or generated with.
    pub original: (String, Option<String>),
    /// Every (name, namespace) it had before its current one, oldest first.
    pub previous: Vec<(String, Option<String>)>,
    /// kustomize's previous ids (`PrevIds`, oldest first): the id it had each time a namespace,
    /// prefix, suffix or hash transform was about to change it. Name references look only at
    /// these, so an object no such transform touched is never a referral target.
    pub prev_ids: Vec<PrevId>,
    /// The non-empty name prefixes and suffixes applied to it, innermost first (kustomize's
    /// build annotations): they decide between several copies of one base.
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    /// JSON pointers of values written as nothing (`key:`), which the next strategic merge
    /// drops where it walks (see `patch::strategic`); empty once a patch has run.
    pub empty_nulls: Vec<String>,
    /// JSON pointers of the scalars written quoted or as blocks (see `overlay/scalars.rs`).
    pub styled: std::collections::BTreeSet<String>,
    /// A generated ConfigMap or Secret that gets a content hash appended to its name.
    pub needs_hash: bool,
    /// Places that share one label or annotation value (see `transform::add_pairs`).
    pub aliases: Vec<Alias>,
    /// Where its document starts in `file`, for messages (empty for generated objects).
    pub at: crate::source::Span,
    /// Its place among the objects it was loaded with (`build_onto` writes base objects back
    /// in their rendered order).
    pub position: usize,
}

/// One of kustomize's previous ids: name, namespace as it was written (empty for none), kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrevId {
    pub name: String,
    pub namespace: String,
    pub kind: String,
}

/// A label or annotation that one transform created at several places at once. kustomize
/// inserts one shared YAML node there, so a later transform that overwrites the value at one
/// place changes it at all of them; railyard does the same, for byte-identical output.
#[derive(Clone, Debug)]
pub struct Alias {
    pub field: &'static str,
    pub key: String,
    /// JSON pointers of the mappings holding the key.
    pub places: Vec<String>,
}

impl Alias {
    fn value_at(&self, object: &Json, place: &str) -> Option<Json> {
        super::pointer::get(object, place)
            .and_then(|m| m.get(&self.key))
            .cloned()
    }
}

impl Resource {
    pub fn new(object: Json, file: &str) -> Resource {
        let original = (
            text(&object, "/metadata/name"),
            opt(&object, "/metadata/namespace"),
        );
        Resource {
            object,
            file: file.to_owned(),
            original,
            previous: Vec::new(),
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            empty_nulls: Vec::new(),
            styled: std::collections::BTreeSet::new(),
            needs_hash: false,
            aliases: Vec::new(),
            at: crate::source::Span::default(),
            position: 0,
        }
    }

    pub fn api_version(&self) -> String {
        text(&self.object, "/apiVersion")
    }

    pub fn kind(&self) -> String {
        text(&self.object, "/kind")
    }

    pub fn name(&self) -> String {
        text(&self.object, "/metadata/name")
    }

    pub fn namespace(&self) -> Option<String> {
        opt(&self.object, "/metadata/namespace")
    }

    /// The kind, borrowed (empty when missing).
    pub fn kind_str(&self) -> &str {
        str_at(&self.object, "/kind").unwrap_or_default()
    }

    /// The API group, borrowed (`""` for the core group).
    pub fn group(&self) -> &str {
        let api_version = str_at(&self.object, "/apiVersion").unwrap_or_default();
        api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }

    /// Group, kind, namespace (empty for none) and name, borrowed: what makes an object unique.
    pub fn identity(&self) -> (&str, &str, &str, &str) {
        let api_version = str_at(&self.object, "/apiVersion").unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        (
            group,
            str_at(&self.object, "/kind").unwrap_or_default(),
            str_at(&self.object, "/metadata/namespace").unwrap_or_default(),
            str_at(&self.object, "/metadata/name").unwrap_or_default(),
        )
    }

    /// (group, version) of `apiVersion` (`apps/v1` → `apps`, `v1`; `v1` → ``, `v1`).
    pub fn group_version(&self) -> (String, String) {
        split_api_version(&self.api_version())
    }

    /// Records the current id as a previous one (kustomize's `StorePreviousId`).
    pub fn store_previous_id(&mut self) {
        self.prev_ids.push(PrevId {
            name: self.name(),
            namespace: self.namespace().unwrap_or_default(),
            kind: self.kind(),
        });
    }

    /// Renames, remembering the old name for name references.
    pub fn set_name(&mut self, name: &str) {
        let current = (self.name(), self.namespace());
        if current.0 != name {
            self.previous.push(current);
            set(
                &mut self.object,
                &["metadata", "name"],
                Json::String(name.to_owned()),
            );
        }
    }

    /// Moves to another namespace, remembering the old one.
    pub fn set_namespace(&mut self, namespace: &str) {
        let current = (self.name(), self.namespace());
        if current.1.as_deref() != Some(namespace) {
            self.previous.push(current);
            set(
                &mut self.object,
                &["metadata", "namespace"],
                Json::String(namespace.to_owned()),
            );
        }
    }

    /// The values every alias group holds at each of its places, to compare after a change.
    pub fn alias_values(&self) -> Vec<Vec<Option<Json>>> {
        self.aliases
            .iter()
            .map(|a| {
                a.places
                    .iter()
                    .map(|p| a.value_at(&self.object, p))
                    .collect()
            })
            .collect()
    }

    /// kustomize writes into the shared value node, so changing the value at one place of an
    /// alias group changes it everywhere the group still holds the old value (`before`, from
    /// [`Resource::alias_values`]).
    ///
    /// With `walk_order` (a strategic merge), when several places changed, the one kyaml's merge
    /// writes last wins: it walks every mapping's keys in sorted order and writes into the
    /// shared node at each. Otherwise the first changed place in the group's order wins.
    pub fn spread_alias_changes(&mut self, before: &[Vec<Option<Json>>], walk_order: bool) {
        for (alias, old_values) in self.aliases.iter().zip(before) {
            let now: Vec<Option<Json>> = alias
                .places
                .iter()
                .map(|p| alias.value_at(&self.object, p))
                .collect();
            let mut changed_places = alias
                .places
                .iter()
                .zip(now.iter().zip(old_values))
                .filter(|(_, (n, o))| n != o && n.as_ref().is_some_and(Json::is_string));
            let winner = if walk_order {
                changed_places.max_by(|(a, _), (b, _)| a.split('/').cmp(b.split('/')))
            } else {
                changed_places.next()
            };
            let Some(changed) = winner.and_then(|(_, (n, _))| n.clone()) else {
                continue;
            };
            for (place, (n, o)) in alias.places.iter().zip(now.iter().zip(old_values)) {
                if n.is_some() && (n == o || walk_order) {
                    if let Some(Json::Object(map)) =
                        super::pointer::get_mut(&mut self.object, place)
                    {
                        map.insert(alias.key.clone(), changed.clone());
                    }
                }
            }
        }
    }

    /// Whether the resource is, or once was, `name` (in `namespace` when given).
    pub fn answers_to(&self, name: &str, namespace: Option<&str>) -> bool {
        let matches = |(n, ns): &(String, Option<String>)| {
            n == name
                && namespace
                    .is_none_or(|wanted| ns.as_deref().unwrap_or("") == wanted || ns.is_none())
        };
        matches(&(self.name(), self.namespace()))
            || matches(&self.original)
            || self.previous.iter().any(matches)
    }
}

pub(super) fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group.to_owned(), version.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

fn text(object: &Json, pointer: &str) -> String {
    str_at(object, pointer).unwrap_or_default().to_owned()
}

fn opt(object: &Json, pointer: &str) -> Option<String> {
    str_at(object, pointer).map(str::to_owned)
}

/// The string at a plain pointer (`/metadata/name`: no `~` escapes, no list indices), found
/// without the allocations `Json::pointer` makes for each segment: the engine asks for names
/// and kinds of every object for every patch, so this is its innermost loop.
pub(super) fn str_at<'a>(object: &'a Json, pointer: &str) -> Option<&'a str> {
    super::pointer::segments_of(pointer)
        .skip(1)
        .try_fold(object, super::pointer::child)
        .and_then(Json::as_str)
}

/// Sets `path` in `object`, creating mappings on the way.
pub(super) fn set(object: &mut Json, path: &[&str], value: Json) {
    let mut node = object;
    for key in &path[..path.len() - 1] {
        if !node.get(*key).is_some_and(Json::is_object) {
            node[*key] = Json::Object(serde_json::Map::new());
        }
        node = node.get_mut(*key).expect("just made");
    }
    node[path[path.len() - 1]] = value;
}

/// Kinds the Kubernetes API serves without a namespace (kustomize's built-in schema knows
/// these; any other kind, custom resources included, counts as namespaced, as for kustomize).
pub(super) fn is_cluster_scoped(kind: &str) -> bool {
    cluster_scoped_group(kind).is_some()
}

/// Whether this object is one of those kinds in its built-in API group: kustomize looks the
/// schema up by group, version and kind, so a custom `example.com/v1` `Namespace` is namespaced.
pub(super) fn is_cluster_scoped_object(resource: &Resource) -> bool {
    cluster_scoped_group(resource.kind_str()) == Some(resource.group())
}

/// The API group that serves a cluster-scoped kind (`""` is the core group).
fn cluster_scoped_group(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ComponentStatus" | "Namespace" | "Node" | "PersistentVolume" => "",
        "APIService" => "apiregistration.k8s.io",
        "CertificateSigningRequest" => "certificates.k8s.io",
        "ClusterRole" | "ClusterRoleBinding" => "rbac.authorization.k8s.io",
        "CSIDriver" | "CSINode" | "StorageClass" | "VolumeAttachment" => "storage.k8s.io",
        "CustomResourceDefinition" => "apiextensions.k8s.io",
        "FlowSchema" | "PriorityLevelConfiguration" => "flowcontrol.apiserver.k8s.io",
        "IngressClass" => "networking.k8s.io",
        "MutatingWebhookConfiguration"
        | "ValidatingAdmissionPolicy"
        | "ValidatingAdmissionPolicyBinding"
        | "ValidatingWebhookConfiguration" => "admissionregistration.k8s.io",
        "PodSecurityPolicy" => "policy",
        "PriorityClass" => "scheduling.k8s.io",
        "RuntimeClass" => "node.k8s.io",
        "SelfSubjectAccessReview" | "SelfSubjectRulesReview" | "SubjectAccessReview" => {
            "authorization.k8s.io"
        }
        "TokenReview" => "authentication.k8s.io",
        _ => return None,
    })
}
