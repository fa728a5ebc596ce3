//! Requests to answers: the 503 fault, routing, version and discovery, GET, LIST, watches
//! (`watch.rs` writes their events) and server-side apply; each request recorded with its
//! answer's status.

use serde_json::{Value, json};

use super::KubeRequest;
use super::kinds::{self, KINDS, Key, Route};
use super::state::{self, Refusal, State};
use super::watch::Watch;

/// The GitVersion the fake's k3s reports.
pub(super) const GIT_VERSION: &str = "v1.36.1+k3s1";

/// Discovery GETs that count towards `flux_installed_after`.
const FLUX_DISCOVERY: &[&str] = &[
    "/apis/source.toolkit.fluxcd.io/v1",
    "/apis/kustomize.toolkit.fluxcd.io/v1",
];

const APPLY: &str = "application/apply-patch+yaml";

/// One request, as the HTTP layer hands it over.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    /// Raw (percent-encoded), empty if none.
    pub(super) query: &'a str,
    pub(super) content_type: &'a str,
    pub(super) body: &'a [u8],
}

/// An answer: status and JSON body, or the watch whose events the body streams.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) watch: Option<Watch>,
}

fn ok(status: u16, body: Value) -> Result<Reply, Refusal> {
    Ok(Reply {
        status,
        body,
        watch: None,
    })
}

impl State {
    /// Answers (or injects a fault) and records the request.
    pub(super) fn serve(&mut self, request: &Request<'_>) -> Reply {
        self.served += 1;
        let every = self.faults.server_error_every;
        let answer = if every > 0 && self.served % every == 0 {
            Err(Refusal {
                details: Some(json!({"retryAfterSeconds": 1})),
                ..Refusal::new(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                )
            })
        } else {
            self.answer(request)
        };
        let reply = answer.unwrap_or_else(|refusal| Reply {
            status: refusal.code,
            body: refusal.body(),
            watch: None,
        });
        self.requests.push(KubeRequest {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            content_type: request.content_type.to_owned(),
            body: String::from_utf8_lossy(request.body).into_owned(),
            status: reply.status,
        });
        reply
    }

    fn answer(&mut self, request: &Request<'_>) -> Result<Reply, Refusal> {
        let route = kinds::route(request.path).ok_or_else(Refusal::no_resource)?;
        if !self.installed && is_flux(&route) {
            if request.method == "GET" && FLUX_DISCOVERY.contains(&request.path) {
                self.discovery_misses += 1;
                self.install_if_due();
            }
            return Err(Refusal::no_resource());
        }
        let get = request.method == "GET";
        match route {
            Route::Version if get => ok(200, version()),
            Route::Api if get => ok(
                200,
                json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
                    ],
                }),
            ),
            Route::Apis if get => ok(200, self.groups()),
            Route::Discovery { group, version } if get => ok(200, discovery(group, version)),
            Route::List { kind, namespace } if get => {
                refuse_selectors(request.query)?;
                let watch = Watch::asked(kind, namespace.as_deref(), |name| {
                    query_value(request.query, name)
                })?;
                self.step_if_watched(kind);
                match watch {
                    Some(watch) => Ok(Reply {
                        status: 200,
                        body: Value::Null,
                        watch: Some(watch),
                    }),
                    None => ok(200, self.list(kind, namespace.as_deref())),
                }
            }
            Route::Object(key) if get => {
                refuse_object_watch(request.query)?;
                refuse_selectors(request.query)?;
                self.step_if_watched(key.kind);
                let object = self.objects.get(&key).cloned();
                ok(200, object.ok_or_else(|| Refusal::not_found(&key))?)
            }
            Route::Object(key) if request.method == "PATCH" => self.apply(&key, request),
            _ => Err(Refusal::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )),
        }
    }

    /// A GET or LIST of a kind the simulated controllers own moves them one step.
    fn step_if_watched(&mut self, kind: usize) {
        if [
            kinds::GIT_REPOSITORY,
            kinds::KUSTOMIZATION,
            kinds::HELM_RELEASE,
        ]
        .contains(&kind)
        {
            self.step();
        }
    }

    fn list(&self, kind: usize, namespace: Option<&str>) -> Value {
        let meta = &KINDS[kind];
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|(key, _)| key.kind == kind && namespace.is_none_or(|n| key.namespace == n))
            .map(|(_, object)| {
                let mut item = object.clone();
                if meta.group.is_empty() {
                    // The real server leaves type information out of the items of built-in
                    // kinds; custom resources keep theirs.
                    if let Some(item) = item.as_object_mut() {
                        item.remove("apiVersion");
                        item.remove("kind");
                    }
                }
                item
            })
            .collect();
        json!({
            "apiVersion": meta.api_version(),
            "kind": format!("{}List", meta.kind),
            "metadata": {"resourceVersion": self.resource_version.to_string()},
            "items": items,
        })
    }

    /// `/apis`: the groups of the fake's kinds that are there (the Flux ones once installed).
    fn groups(&self) -> Value {
        let mut groups: Vec<Value> = Vec::new();
        for kind in KINDS.iter().filter(|k| !k.group.is_empty()) {
            if (kind.is_flux() && !self.installed) || groups.iter().any(|g| g["name"] == kind.group)
            {
                continue;
            }
            let version = json!({"groupVersion": kind.api_version(), "version": kind.version});
            groups.push(json!({
                "name": kind.group,
                "versions": [version],
                "preferredVersion": version,
            }));
        }
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// Server-side apply: the checks, in the real server's order, then `store`.
    fn apply(&mut self, key: &Key, request: &Request<'_>) -> Result<Reply, Refusal> {
        let kind = key.kind();
        let media = request
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != APPLY {
            let message = if media.ends_with("patch+json") {
                format!("the fake serves only server-side apply ({APPLY}), not {media}")
            } else {
                "the body of the request was in an unknown format - accepted media types \
                 include: application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml"
                    .to_owned()
            };
            return Err(Refusal::new(415, "UnsupportedMediaType", message));
        }
        if query_value(request.query, "fieldManager").is_none_or(|m| m.is_empty()) {
            return Err(Refusal {
                details: Some(json!({
                    "group": "meta.k8s.io",
                    "kind": "PatchOptions",
                    "causes": [{
                        "reason": "FieldValueRequired",
                        "message": "Required value: is required for apply patch",
                        "field": "fieldManager",
                    }],
                })),
                ..Refusal::new(
                    422,
                    "Invalid",
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: \
                     is required for apply patch",
                )
            });
        }
        if query_value(request.query, "dryRun").is_some() {
            return Err(Refusal::new(
                400,
                "BadRequest",
                "the fake does not serve dryRun",
            ));
        }
        let body: Value = serde_json::from_slice(request.body).map_err(|e| {
            Refusal::new(
                400,
                "BadRequest",
                format!("error decoding the apply body (the fake reads only its JSON form): {e}"),
            )
        })?;
        if !body.is_object() {
            return Err(Refusal::new(
                400,
                "BadRequest",
                "the apply body is not an object",
            ));
        }
        let bad = |message: String| Err(Refusal::new(400, "BadRequest", message));
        let api_version = body["apiVersion"].as_str().unwrap_or("");
        if api_version != kind.api_version() {
            return bad(format!(
                "the API version in the data ({api_version}) does not match the expected API \
                 version ({})",
                kind.api_version()
            ));
        }
        let kind_name = body["kind"].as_str().unwrap_or("");
        if kind_name != kind.kind {
            return bad(format!(
                "the kind in the data ({kind_name}) does not match the expected kind ({})",
                kind.kind
            ));
        }
        let name = body["metadata"]["name"].as_str().unwrap_or("");
        if name != key.name {
            return bad(format!(
                "the name of the object ({name}) does not match the name on the URL ({})",
                key.name
            ));
        }
        if kind.namespaced {
            let namespace = body["metadata"]["namespace"].as_str().unwrap_or("");
            if !namespace.is_empty() && namespace != key.namespace {
                return bad(
                    "the namespace of the provided object does not match the namespace \
                            sent on the request"
                        .to_owned(),
                );
            }
            if !self.namespace_exists(&key.namespace) {
                return Err(Refusal::not_found(&Key::new(
                    kinds::NAMESPACE,
                    "",
                    &key.namespace,
                )));
            }
        }
        let applied = state::normalize(key, &body)?;
        let (created, object) = self.store(key, &applied);
        // Applied through the API: the controllers own it from now on.
        self.added.remove(key);
        ok(if created { 201 } else { 200 }, object)
    }
}

/// Paths Flux brings: its discovery and its kinds.
fn is_flux(route: &Route) -> bool {
    match route {
        Route::Discovery { group, .. } => group.ends_with(".toolkit.fluxcd.io"),
        _ => route.kind().is_some_and(|k| k.is_flux()),
    }
}

/// A watch of one object by its path (deprecated in the API; clients watch a collection with
/// a field selector) is not modelled: refused rather than ignored.
fn refuse_object_watch(query: &str) -> Result<(), Refusal> {
    if query_value(query, "watch").is_some_and(|w| w == "true" || w == "1") {
        return Err(Refusal::new(
            405,
            "MethodNotAllowed",
            "the fake does not serve watches of one object",
        ));
    }
    Ok(())
}

/// Selectors are not modelled: refused rather than ignored.
fn refuse_selectors(query: &str) -> Result<(), Refusal> {
    for selector in ["labelSelector", "fieldSelector"] {
        if query_value(query, selector).is_some_and(|s| !s.is_empty()) {
            return Err(Refusal::new(
                400,
                "BadRequest",
                format!("the fake does not evaluate a {selector}"),
            ));
        }
    }
    Ok(())
}

/// The decoded value of the first `name` parameter in a raw query.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key) == name).then(|| decode(value))
    })
}

/// Percent-decoding, `+` as a space.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        i += 1;
        if byte == b'+' {
            out.push(b' ');
        } else if byte == b'%' && i + 1 < bytes.len() {
            match (hex(bytes[i]), hex(bytes[i + 1])) {
                (Some(high), Some(low)) => {
                    out.extend(u8::try_from(high * 16 + low).ok());
                    i += 2;
                }
                _ => out.push(byte),
            }
        } else {
            out.push(byte);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn version() -> Value {
    json!({
        "major": "1",
        "minor": "36",
        "gitVersion": GIT_VERSION,
        "gitCommit": "6b3b2e0d9b6c1f0e4a2d8c7b5a39f1e0d2c4b6a8",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.25.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// The `APIResourceList` of a group version: its kinds, and the status subresources.
fn discovery(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for kind in KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
    {
        let mut resource = json!({
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        });
        if !kind.short_names.is_empty() {
            resource["shortNames"] = json!(kind.short_names);
        }
        resources.push(resource);
        if kind.kind != "Secret" {
            resources.push(json!({
                "name": format!("{}/status", kind.plural),
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}
