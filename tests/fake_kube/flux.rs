//! The simulated Flux controllers. One step (on every GET or LIST of kustomizations,
//! gitrepositories or helmreleases): source-controller gives every GitRepository an artifact
//! at the current commit, then kustomize-controller moves every Kustomization on: waiting for
//! its source and its `dependsOn`, `Progressing` for `ready_after` steps, then Ready (or
//! failed, for the `failing` one). The root `flux-system/flux-system` applies the children
//! when it turns Ready. Readiness of dependencies is read as it was when the step began.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::kinds::{self, Key};
use super::state::{self, State};

/// The commit the source-controller fetches until `set_revision`.
pub(super) const DEFAULT_REVISION: &str = "4f3c2b1a09e8d7c6b5a4f3e2d1c0b9a887766554";

pub(super) struct Controllers {
    /// The commit every GitRepository's artifact is at.
    pub(super) revision: String,
    /// What the root Kustomization applies when it turns Ready.
    pub(super) children: Vec<Value>,
    /// Per Kustomization: what it reconciles (generation, source revision) and how many
    /// steps it has been `Progressing` towards it.
    trackers: BTreeMap<Key, (u64, String, u32)>,
    steps: u64,
}

impl Controllers {
    pub(super) fn new() -> Controllers {
        Controllers {
            revision: DEFAULT_REVISION.to_owned(),
            children: Vec::new(),
            trackers: BTreeMap::new(),
            steps: 0,
        }
    }
}

impl State {
    /// One reconcile step of both controllers.
    pub(super) fn step(&mut self) {
        self.flux.steps += 1;
        let now = timestamp(self.flux.steps);
        self.reconcile_git_repositories(&now);
        self.reconcile_kustomizations(&now);
    }

    fn owned(&self, kind: usize) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|k| k.kind == kind && !self.added.contains(k))
            .cloned()
            .collect()
    }

    fn reconcile_git_repositories(&mut self, now: &str) {
        for key in self.owned(kinds::GIT_REPOSITORY) {
            let object = &self.objects[&key];
            let generation = generation(object);
            let branch = object["spec"]["ref"]["branch"].as_str().unwrap_or("master");
            let sha = &self.flux.revision;
            let revision = format!("{branch}@sha1:{sha}");
            let previous = &object["status"]["artifact"];
            let updated = if previous["revision"] == json!(revision) {
                previous["lastUpdateTime"].as_str().unwrap_or(now)
            } else {
                now
            };
            let path = format!("gitrepository/{}/{}/{sha}.tar.gz", key.namespace, key.name);
            let status = json!({
                "artifact": {
                    "path": path,
                    "url": format!("http://source-controller.flux-system.svc.cluster.local./{path}"),
                    "revision": revision,
                    "lastUpdateTime": updated,
                },
                "conditions": [condition(
                    object,
                    ("Ready", "True", "Succeeded"),
                    &format!("stored artifact for revision '{revision}'"),
                    generation,
                    now,
                )],
                "observedGeneration": generation,
            });
            self.set_status(&key, status);
        }
    }

    fn reconcile_kustomizations(&mut self, now: &str) {
        let ready: BTreeSet<(String, String)> = self
            .objects
            .iter()
            .filter(|(key, object)| key.kind == kinds::KUSTOMIZATION && is_ready(object))
            .map(|(key, _)| (key.namespace.clone(), key.name.clone()))
            .collect();
        for key in self.owned(kinds::KUSTOMIZATION) {
            let object = self.objects[&key].clone();
            let generation = generation(&object);
            let mut status = object
                .get("status")
                .filter(|s| s.is_object())
                .cloned()
                .unwrap_or_else(|| json!({}));
            let revision = match self.source_revision(&key, &object) {
                Ok(revision) => revision,
                Err(message) => {
                    let ready = ("Ready", "False", "ArtifactFailed");
                    status["conditions"] =
                        json!([condition(&object, ready, &message, generation, now)]);
                    self.set_status(&key, status);
                    continue;
                }
            };
            if is_ready(&object)
                && status["observedGeneration"] == json!(generation)
                && status["lastAppliedRevision"] == json!(revision)
            {
                continue;
            }
            let tracker =
                self.flux
                    .trackers
                    .entry(key.clone())
                    .or_insert((generation, revision.clone(), 0));
            if (tracker.0, tracker.1.as_str()) != (generation, revision.as_str()) {
                *tracker = (generation, revision.clone(), 0);
            }
            let namespace = &key.namespace;
            let waiting_for = object["spec"]["dependsOn"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let name = d["name"].as_str().unwrap_or("").to_owned();
                    let namespace = d["namespace"].as_str().unwrap_or(namespace).to_owned();
                    (namespace, name)
                })
                .find(|dependency| !ready.contains(dependency));
            let failing = self
                .faults
                .failing
                .as_ref()
                .filter(|(name, _)| *name == key.name);
            let mut turned_ready = false;
            if let Some((namespace, name)) = waiting_for {
                let message = format!("dependency '{namespace}/{name}' is not ready");
                let ready = ("Ready", "False", "DependencyNotReady");
                status["conditions"] =
                    json!([condition(&object, ready, &message, generation, now)]);
            } else if tracker.2 < self.faults.ready_after {
                tracker.2 += 1;
                status["conditions"] = progressing(&object, generation, now);
            } else if let Some((_, message)) = failing {
                let ready = ("Ready", "False", "ReconciliationFailed");
                status["conditions"] = json!([condition(&object, ready, message, generation, now)]);
                status["lastAttemptedRevision"] = json!(revision);
                status["observedGeneration"] = json!(generation);
            } else {
                let message = format!("Applied revision: {revision}");
                let ready = ("Ready", "True", "ReconciliationSucceeded");
                status["conditions"] =
                    json!([condition(&object, ready, &message, generation, now)]);
                status["lastAppliedRevision"] = json!(revision);
                status["lastAttemptedRevision"] = json!(revision);
                status["observedGeneration"] = json!(generation);
                turned_ready = true;
            }
            self.set_status(&key, status);
            if turned_ready && key.namespace == "flux-system" && key.name == "flux-system" {
                self.apply_children(now);
            }
        }
    }

    /// The artifact revision of a Kustomization's `sourceRef`, or why there is none.
    fn source_revision(&self, key: &Key, object: &Value) -> Result<String, String> {
        let source = &object["spec"]["sourceRef"];
        let kind = source["kind"].as_str().unwrap_or("");
        let name = source["name"].as_str().unwrap_or("");
        let namespace = source["namespace"].as_str().unwrap_or(&key.namespace);
        let missing = format!("Source '{kind}/{namespace}/{name}' not found");
        if kind != "GitRepository" {
            return Err(missing);
        }
        let repository = self
            .objects
            .get(&Key::new(kinds::GIT_REPOSITORY, namespace, name))
            .ok_or(missing)?;
        repository["status"]["artifact"]["revision"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "Source artifact not found, retrying in 30s".to_owned())
    }

    /// What the root Kustomization applies: the children, as the controllers' own objects;
    /// new Kustomizations start `Progressing`.
    fn apply_children(&mut self, now: &str) {
        for child in self.flux.children.clone() {
            let key = state::key_of(&child, "flux-system").expect("checked by set_children");
            let Ok(applied) = state::normalize(&key, &child) else {
                continue;
            };
            let (created, object) = self.store(&key, &applied);
            self.added.remove(&key);
            if created && key.kind == kinds::KUSTOMIZATION {
                let conditions = progressing(&object, generation(&object), now);
                self.set_status(&key, json!({"conditions": conditions}));
            }
        }
    }
}

fn generation(object: &Value) -> u64 {
    object["metadata"]["generation"].as_u64().unwrap_or(0)
}

/// Whether the object has a condition Ready=True.
pub(super) fn is_ready(object: &Value) -> bool {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Reconciling=True and Ready=Unknown, both `Progressing`, as Flux shows a reconciliation
/// under way.
fn progressing(object: &Value, generation: u64, now: &str) -> Value {
    let message = "Reconciliation in progress";
    json!([
        condition(
            object,
            ("Reconciling", "True", "Progressing"),
            message,
            generation,
            now
        ),
        condition(
            object,
            ("Ready", "Unknown", "Progressing"),
            message,
            generation,
            now
        ),
    ])
}

/// A condition shaped like Flux's; its lastTransitionTime stays what it was while its status
/// does not change.
fn condition(
    object: &Value,
    (kind, status, reason): (&str, &str, &str),
    message: &str,
    generation: u64,
    now: &str,
) -> Value {
    let since = object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == kind && c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or(now);
    json!({
        "type": kind,
        "status": status,
        "observedGeneration": generation,
        "lastTransitionTime": since,
        "reason": reason,
        "message": message,
    })
}

/// `CREATED` plus one second per step (within January 2025).
fn timestamp(step: u64) -> String {
    let day = (1 + step / 86_400).min(31);
    let second = step % 86_400;
    format!(
        "2025-01-{day:02}T{:02}:{:02}:{:02}Z",
        second / 3600,
        second / 60 % 60,
        second % 60
    )
}
