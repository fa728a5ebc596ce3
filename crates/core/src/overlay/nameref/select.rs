//! Which object a name reference means: kustomize's sieve (api/filters/nameref `selectReferral`
//! and `filterMapCandidatesByNamespace`, api/resmap `SubsetThatCouldBeReferencedByResource`).
//! A candidate must have had the referred name among its previous ids, with the target's kind;
//! then namespace reachability, a RoleBinding's `roleRef.kind`, the referrer's namespace and,
//! between copies of one base, the prefixes and suffixes the two share decide. When that still
//! leaves several different objects, the reference is ambiguous and the build fails, as it does
//! in kustomize.

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;

use super::super::Error;
use super::super::error::AmbiguousReference;
use super::super::resource::{PrevId, Resource, is_cluster_scoped, split_api_version};

/// What one referring field refers to.
pub(super) struct Reference<'a> {
    /// The referring object, by index.
    pub(super) referrer: usize,
    pub(super) kind: &'a str,
    pub(super) group: Option<&'static str>,
    pub(super) version: Option<&'static str>,
    /// A `roleRef/name` field: its sibling `kind` and `apiGroup` narrow the candidates.
    pub(super) role_ref: bool,
}

/// The object a reference now points at: its current name and namespace (empty for none).
pub(super) struct Found {
    pub(super) name: String,
    pub(super) namespace: String,
}

/// Several different objects answer a reference (kustomize: "found multiple possible
/// referrals").
pub(super) struct Ambiguity {
    name: String,
    ids: Vec<String>,
}

impl Ambiguity {
    pub(super) fn into_error(self, referrer: &Resource, path: &str) -> Error {
        Error::AmbiguousReference(Box::new(AmbiguousReference {
            field: path.to_owned(),
            name: self.name,
            referrer: format!("{} `{}`", referrer.kind(), referrer.name()),
            candidates: self.ids.join("`, `"),
            file: referrer.file.clone(),
            at: referrer.at,
        }))
    }
}

/// One object as a possible referral target, in its final state.
struct Candidate {
    kind: String,
    group: String,
    version: String,
    name: String,
    /// As written; empty for none.
    namespace: String,
    /// `None` for a cluster-scoped kind; `default` for an object without a namespace.
    effective: Option<String>,
    /// The effective namespace of its original id.
    original: Option<String>,
    prev_ids: Vec<PrevId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

/// Every object of the build, indexed by the names in their previous ids.
pub(super) struct Candidates {
    all: Vec<Candidate>,
    by_prev_name: HashMap<String, Vec<usize>>,
    kinds: HashSet<String>,
}

/// Which objects a referrer can reach (kustomize's `SubsetThatCouldBeReferencedByResource`).
pub(super) struct Reach {
    /// `None` for a cluster-scoped referrer, which reaches everything.
    namespace: Option<String>,
    /// A RoleBinding also reaches the namespaces its ServiceAccount subjects name.
    subject_namespaces: HashSet<String>,
}

fn effective(kind: &str, namespace: &str) -> Option<String> {
    if is_cluster_scoped(kind) {
        None
    } else if namespace.is_empty() {
        Some("default".to_owned())
    } else {
        Some(namespace.to_owned())
    }
}

impl Candidates {
    pub(super) fn new(resources: &[Resource]) -> Candidates {
        let mut by_prev_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut kinds = HashSet::new();
        let all = resources
            .iter()
            .enumerate()
            .map(|(index, resource)| {
                for id in &resource.prev_ids {
                    let list = by_prev_name.entry(id.name.clone()).or_default();
                    if list.last() != Some(&index) {
                        list.push(index);
                    }
                    kinds.insert(id.kind.clone());
                }
                let kind = resource.kind();
                let (group, version) = split_api_version(&resource.api_version());
                let namespace = resource.namespace().unwrap_or_default();
                let original = match resource.prev_ids.first() {
                    Some(id) => effective(&kind, &id.namespace),
                    None => effective(&kind, &namespace),
                };
                Candidate {
                    effective: effective(&kind, &namespace),
                    original,
                    kind,
                    group,
                    version,
                    name: resource.name(),
                    namespace,
                    prev_ids: resource.prev_ids.clone(),
                    prefixes: resource.prefixes.clone(),
                    suffixes: resource.suffixes.clone(),
                }
            })
            .collect();
        Candidates {
            all,
            by_prev_name,
            kinds,
        }
    }

    /// Whether any object ever had `kind` in a previous id (else nothing refers to a rename).
    pub(super) fn has_kind(&self, kind: &str) -> bool {
        self.kinds.contains(kind)
    }

    fn reachable_from(&self, referrer: usize) -> Reach {
        let me = &self.all[referrer];
        Reach {
            namespace: me.effective.clone(),
            subject_namespaces: HashSet::new(),
        }
    }

    /// Like [`Candidates::reachable_from`], for a RoleBinding whose object is at hand.
    pub(super) fn reachable_from_binding(&self, referrer: usize, object: &Json) -> Reach {
        let mut reach = self.reachable_from(referrer);
        if self.all[referrer].kind == "RoleBinding"
            && let Some(Json::Array(subjects)) = object.get("subjects")
        {
            reach.subject_namespaces = subjects
                .iter()
                .filter(|s| s.get("kind").and_then(Json::as_str) == Some("ServiceAccount"))
                .filter_map(|s| s.get("namespace").and_then(Json::as_str))
                .map(str::to_owned)
                .collect();
        }
        reach
    }

    fn reaches(&self, reach: &Reach, index: usize) -> bool {
        let candidate = &self.all[index];
        match (&reach.namespace, &candidate.effective) {
            (None, _) | (_, None) => true,
            (Some(mine), Some(theirs)) => {
                mine == theirs || reach.subject_namespaces.contains(&candidate.namespace)
            }
        }
    }

    /// The object `name` refers to, if any. `mapping` is `None` for a plain name, else the
    /// `namespace` the referring mapping names (`Some(None)` when it names none).
    pub(super) fn select(
        &self,
        reference: &Reference<'_>,
        role_ref: Option<&(String, String)>,
        reach: &Reach,
        name: &str,
        mapping: Option<Option<&str>>,
        weighed: &mut usize,
    ) -> Result<Option<Found>, Ambiguity> {
        let Some(named) = self.by_prev_name.get(name) else {
            return Ok(None);
        };
        *weighed += named.len();
        let in_namespace = match mapping {
            Some(Some(namespace)) => Some(self.namespace_group(reach, namespace)),
            _ => None,
        };
        let referrer = &self.all[reference.referrer];
        let mut list: Vec<usize> = named
            .iter()
            .copied()
            .filter(|&i| self.reaches(reach, i))
            .filter(|i| in_namespace.as_ref().is_none_or(|group| group.contains(i)))
            .filter(|&i| {
                self.was_selected(i, Some(reference.kind), reference.group, reference.version)
            })
            .filter(|&i| {
                role_ref.is_none_or(|(group, kind)| {
                    let group = (!group.is_empty()).then_some(group.as_str());
                    let kind = (!kind.is_empty()).then_some(kind.as_str());
                    self.was_selected_by(i, kind, group)
                })
            })
            .filter(|&i| {
                let candidate = &self.all[i];
                match (&referrer.effective, &candidate.effective) {
                    (None, _) | (_, None) => true,
                    (Some(mine), Some(theirs)) => {
                        candidate.kind == "ServiceAccount" || mine == theirs
                    }
                }
            })
            .collect();
        if list.len() > 1 {
            list.retain(|&i| affixes_match(&self.all[i], referrer, true));
            if list.len() > 1 {
                list.retain(|&i| affixes_match(&self.all[i], referrer, false));
            }
        }
        let found = |i: usize| Found {
            name: self.all[i].name.clone(),
            namespace: self.all[i].namespace.clone(),
        };
        match list.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(found(*one))),
            [first, rest @ ..] => {
                let same = |&i: &usize| {
                    self.all[i].name == self.all[*first].name
                        && (mapping.is_none()
                            || self.all[i].namespace == self.all[*first].namespace)
                };
                if rest.iter().all(same) {
                    return Ok(Some(found(*first)));
                }
                Err(Ambiguity {
                    name: name.to_owned(),
                    ids: list.iter().map(|&i| self.id(i)).collect(),
                })
            }
        }
    }

    /// The objects a mapping's `namespace` picks: those originally in it, or when none was,
    /// those in it now (kustomize's `GroupedByOriginalNamespace`, then `...CurrentNamespace`).
    fn namespace_group(&self, reach: &Reach, namespace: &str) -> HashSet<usize> {
        let reachable = || (0..self.all.len()).filter(|&i| self.reaches(reach, i));
        let original: HashSet<usize> = reachable()
            .filter(|&i| self.all[i].original.as_deref() == Some(namespace))
            .collect();
        if !original.is_empty() {
            return original;
        }
        reachable()
            .filter(|&i| self.all[i].effective.as_deref() == Some(namespace))
            .collect()
    }

    /// Whether a previous id of object `i` is of `kind`, `group` and `version` (each `None`
    /// matching any).
    fn was_selected(
        &self,
        i: usize,
        kind: Option<&str>,
        group: Option<&str>,
        version: Option<&str>,
    ) -> bool {
        let candidate = &self.all[i];
        group.is_none_or(|g| candidate.group == g)
            && version.is_none_or(|v| candidate.version == v)
            && candidate
                .prev_ids
                .iter()
                .any(|id| kind.is_none_or(|k| id.kind == k))
    }

    fn was_selected_by(&self, i: usize, kind: Option<&str>, group: Option<&str>) -> bool {
        self.was_selected(i, kind, group, None)
    }

    fn id(&self, i: usize) -> String {
        let c = &self.all[i];
        if c.namespace.is_empty() {
            format!("{} {}", c.kind, c.name)
        } else {
            format!("{} {}/{}", c.kind, c.namespace, c.name)
        }
    }
}

/// kustomize's `PrefixesSuffixesEquals`: the shorter list of prefixes (and of suffixes) ends
/// the longer one; with `allow_empty`, an object with none matches any.
fn affixes_match(candidate: &Candidate, referrer: &Candidate, allow_empty: bool) -> bool {
    let side = |a: &[String], b: &[String]| {
        (allow_empty && (a.is_empty() || b.is_empty())) || same_ending(a, b)
    };
    side(&candidate.prefixes, &referrer.prefixes) && side(&candidate.suffixes, &referrer.suffixes)
}

/// kustomize's `SameEndingSubSlice`.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

/// A binding's `roleRef` group and kind, when it has all of `roleRef`, `apiGroup` and `kind`
/// (otherwise kustomize does not narrow by it).
pub(super) fn role_ref(object: &Json) -> Option<(String, String)> {
    let role_ref = object.get("roleRef")?;
    let text = |key: &str| {
        role_ref.get(key).map(|v| match v {
            Json::String(s) => s.clone(),
            _ => String::new(),
        })
    };
    Some((text("apiGroup")?, text("kind")?))
}
