//! Where a Flux object stands, from its `Ready` and `Stalled` conditions for the current
//! generation (kstatus): what bootstrap waits for and `status` reports.

use serde_json::Value as Json;

/// Where a Flux object stands, from its `Ready` condition (kstatus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Not in the cluster (yet).
    Missing,
    /// Ready for its current generation; the revision it applied or fetched, if it says.
    Ready(Option<String>),
    /// Reconciling or not yet observed.
    Progressing(String),
    /// `Ready=False` or `Stalled`: why, in the controller's words.
    Failed(String),
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready(_))
    }
}

impl std::fmt::Display for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Readiness::Missing => f.write_str("missing"),
            Readiness::Ready(_) => f.write_str("ready"),
            Readiness::Progressing(why) => write!(f, "progressing: {why}"),
            Readiness::Failed(why) => write!(f, "not ready: {why}"),
        }
    }
}

/// The condition of `type` on an object.
pub(crate) fn condition<'a>(object: &'a Json, kind: &str) -> Option<&'a Json> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// An object's readiness: `Ready=True` counts only when it describes the current generation.
pub fn readiness(object: &Json) -> Readiness {
    let generation = object["metadata"]["generation"].as_i64();
    let observed = object["status"]["observedGeneration"].as_i64();
    let words = |c: &Json| {
        let reason = c["reason"].as_str().unwrap_or("unknown");
        match c["message"].as_str().filter(|m| !m.is_empty()) {
            Some(message) => format!("{reason}: {message}"),
            None => reason.to_owned(),
        }
    };
    if let Some(stalled) = condition(object, "Stalled").filter(|c| c["status"] == "True") {
        return Readiness::Failed(words(stalled));
    }
    let Some(ready) = condition(object, "Ready") else {
        return Readiness::Progressing("not yet reconciled".to_owned());
    };
    if generation.is_some() && observed.is_some() && generation != observed {
        // Flux leaves `status.observedGeneration` behind while a generation fails, but stamps
        // each condition with the generation it describes: a failure of this very generation
        // is shown in Flux's words instead of as an endless wait.
        if ready["observedGeneration"].as_i64() == generation && is_failure(ready) {
            return Readiness::Failed(words(ready));
        }
        return Readiness::Progressing(format!(
            "generation {} not yet observed",
            generation.unwrap_or_default()
        ));
    }
    match ready["status"].as_str() {
        Some("True") => Readiness::Ready(revision(object)),
        _ if is_failure(ready) => Readiness::Failed(words(ready)),
        _ => Readiness::Progressing(words(ready)),
    }
}

/// `Ready=False` for a reason other than waiting: progress or a dependency.
fn is_failure(ready: &Json) -> bool {
    ready["status"] == "False"
        && ready["reason"] != "Progressing"
        && ready["reason"] != "DependencyNotReady"
}

/// The revision an object applied (Kustomization), fetched (sources) or released (HelmRelease).
fn revision(object: &Json) -> Option<String> {
    let status = &object["status"];
    [
        &status["lastAppliedRevision"],
        &status["artifact"]["revision"],
        &status["history"][0]["chartVersion"],
        &status["lastAttemptedRevision"],
    ]
    .into_iter()
    .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
    .map(str::to_owned)
}

/// The commit in a Flux git revision: `main@sha1:<sha>` (Flux 2.x) or `main/<sha>` (older).
pub fn revision_commit(revision: &str) -> &str {
    revision
        .rsplit_once(':')
        .or_else(|| revision.rsplit_once('/'))
        .map_or(revision, |(_, sha)| sha)
}

/// The readiness of each expected Kustomization in a list of them.
pub fn kustomizations(expected: &[(String, String)], items: &[Json]) -> Vec<(String, Readiness)> {
    expected
        .iter()
        .map(|(namespace, name)| {
            let found = items.iter().find(|item| {
                item["metadata"]["name"] == name.as_str()
                    && item["metadata"]["namespace"] == namespace.as_str()
            });
            (name.clone(), found.map_or(Readiness::Missing, readiness))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::ready;
    use serde_json::json;

    #[test]
    fn readiness_reads_the_ready_condition_for_the_current_generation() {
        let failed = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "ReconciliationFailed", "message": "boom"}]}});
        let waiting = json!({"status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "DependencyNotReady", "message": "x"}]}});
        let stalled = json!({"status": {"conditions": [
            {"type": "Ready", "status": "Unknown", "reason": "Progressing"},
            {"type": "Stalled", "status": "True", "reason": "InvalidPath", "message": "no such path"}]}});
        // What kustomize-controller left when the API server refused an object of the first
        // generation (seen in the end-to-end test against real Flux).
        let refused = json!({"metadata": {"generation": 1}, "status": {"observedGeneration": -1, "conditions": [
            {"type": "Reconciling", "status": "True", "reason": "ProgressingWithRetry", "observedGeneration": 1},
            {"type": "Ready", "status": "False", "reason": "ReconciliationFailed",
             "message": "Plan/a dry-run failed", "observedGeneration": 1}]}});
        let stale = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "ReconciliationFailed",
             "message": "old", "observedGeneration": 1}]}});
        let cases = [
            (
                refused,
                Readiness::Failed("ReconciliationFailed: Plan/a dry-run failed".to_owned()),
            ),
            (
                stale,
                Readiness::Progressing("generation 2 not yet observed".to_owned()),
            ),
            (
                ready("Kustomization", "a", "main@sha1:abc", 2, 2),
                Readiness::Ready(Some("main@sha1:abc".to_owned())),
            ),
            (
                ready("Kustomization", "a", "main@sha1:abc", 3, 2),
                Readiness::Progressing("generation 3 not yet observed".to_owned()),
            ),
            (
                failed,
                Readiness::Failed("ReconciliationFailed: boom".to_owned()),
            ),
            (
                waiting,
                Readiness::Progressing("DependencyNotReady: x".to_owned()),
            ),
            (
                stalled,
                Readiness::Failed("InvalidPath: no such path".to_owned()),
            ),
            (
                json!({"metadata": {}}),
                Readiness::Progressing("not yet reconciled".to_owned()),
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(readiness(&object), expected, "{object}");
        }
    }

    #[test]
    fn revisions_name_their_commit() {
        for (revision, commit) in [
            ("main@sha1:abc", "abc"),
            ("main/abc", "abc"),
            ("abc", "abc"),
        ] {
            assert_eq!(revision_commit(revision), commit);
        }
    }
}
