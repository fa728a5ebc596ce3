//! The fixed table of kinds the fake serves, and what an API path names.

/// One kind of object.
pub(super) struct Kind {
    /// Empty for the core group (`/api/v1`).
    pub(super) group: &'static str,
    pub(super) version: &'static str,
    pub(super) kind: &'static str,
    pub(super) plural: &'static str,
    pub(super) singular: &'static str,
    pub(super) namespaced: bool,
    pub(super) short_names: &'static [&'static str],
}

pub(super) const KINDS: &[Kind] = &[
    Kind {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        namespaced: false,
        short_names: &["ns"],
    },
    Kind {
        group: "",
        version: "v1",
        kind: "Node",
        plural: "nodes",
        singular: "node",
        namespaced: false,
        short_names: &["no"],
    },
    Kind {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        singular: "secret",
        namespaced: true,
        short_names: &[],
    },
    Kind {
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        kind: "GitRepository",
        plural: "gitrepositories",
        singular: "gitrepository",
        namespaced: true,
        short_names: &["gitrepo"],
    },
    Kind {
        group: "source.toolkit.fluxcd.io",
        version: "v1",
        kind: "HelmRepository",
        plural: "helmrepositories",
        singular: "helmrepository",
        namespaced: true,
        short_names: &["helmrepo"],
    },
    Kind {
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1",
        kind: "Kustomization",
        plural: "kustomizations",
        singular: "kustomization",
        namespaced: true,
        short_names: &["ks"],
    },
    Kind {
        group: "helm.toolkit.fluxcd.io",
        version: "v2",
        kind: "HelmRelease",
        plural: "helmreleases",
        singular: "helmrelease",
        namespaced: true,
        short_names: &["hr"],
    },
];

/// Indexes into `KINDS` of the kinds the simulated controllers use.
pub(super) const NAMESPACE: usize = 0;
pub(super) const GIT_REPOSITORY: usize = 3;
pub(super) const KUSTOMIZATION: usize = 5;
pub(super) const HELM_RELEASE: usize = 6;

impl Kind {
    pub(super) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Installed with Flux, not there before.
    pub(super) fn is_flux(&self) -> bool {
        self.group.ends_with(".toolkit.fluxcd.io")
    }

    /// CustomResourceDefinitions have a `generation`; the core kinds here have none.
    pub(super) fn has_generation(&self) -> bool {
        !self.group.is_empty()
    }

    /// The resource as Status messages name it: `secrets`,
    /// `gitrepositories.source.toolkit.fluxcd.io`.
    pub(super) fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// The index in `KINDS` of `apiVersion` and `kind`.
pub(super) fn by_type(api_version: &str, kind: &str) -> Option<usize> {
    KINDS
        .iter()
        .position(|k| k.api_version() == api_version && k.kind == kind)
}

/// Where an object lives; ordered as the real server lists (namespace, then name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    pub(super) kind: usize,
    /// Empty for cluster-scoped kinds.
    pub(super) namespace: String,
    pub(super) name: String,
}

impl Key {
    pub(super) fn new(kind: usize, namespace: &str, name: &str) -> Key {
        Key {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    pub(super) fn kind(&self) -> &'static Kind {
        &KINDS[self.kind]
    }
}

/// What a path names.
#[derive(Debug)]
pub(super) enum Route {
    Version,
    /// `/api`: the core API versions.
    Api,
    /// `/apis`: the API groups.
    Apis,
    /// `/api/v1` or `/apis/{group}/{version}`: the resources of a group version.
    Discovery {
        group: &'static str,
        version: &'static str,
    },
    /// A list of one kind, in one namespace or (None) across all namespaces.
    List {
        kind: usize,
        namespace: Option<String>,
    },
    Object(Key),
}

impl Route {
    /// The kind a list or object route names.
    pub(super) fn kind(&self) -> Option<&'static Kind> {
        match self {
            Route::List { kind, .. } => Some(&KINDS[*kind]),
            Route::Object(key) => Some(key.kind()),
            _ => None,
        }
    }
}

/// What `path` names, None for anything the fake does not serve.
pub(super) fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["api"] => Some(Route::Api),
        ["apis"] => Some(Route::Apis),
        ["api", version, rest @ ..] => resources("", version, rest),
        ["apis", group, version, rest @ ..] => resources(group, version, rest),
        _ => None,
    }
}

fn resources(group: &str, version: &str, rest: &[&str]) -> Option<Route> {
    let (group, version) = KINDS
        .iter()
        .find(|k| k.group == group && k.version == version)
        .map(|k| (k.group, k.version))?;
    let kind = |plural: &str, namespaced: bool| {
        KINDS.iter().position(|k| {
            k.group == group
                && k.version == version
                && k.plural == plural
                && k.namespaced == namespaced
        })
    };
    match rest {
        [] => Some(Route::Discovery { group, version }),
        ["namespaces", namespace, plural] => Some(Route::List {
            kind: kind(plural, true)?,
            namespace: Some((*namespace).to_owned()),
        }),
        ["namespaces", namespace, plural, name] => Some(Route::Object(Key::new(
            kind(plural, true)?,
            namespace,
            name,
        ))),
        [plural] => Some(Route::List {
            kind: kind(plural, true).or_else(|| kind(plural, false))?,
            namespace: None,
        }),
        [plural, name] => Some(Route::Object(Key::new(kind(plural, false)?, "", name))),
        _ => None,
    }
}
