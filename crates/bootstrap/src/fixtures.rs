//! Objects the unit tests of several modules build alike: a Flux object as its controller
//! reports it.

use serde_json::{Value as Json, json};

/// A Flux object of `kind` whose `Ready` condition is true, at `revision`, for `observed` of
/// its `generation`.
pub(crate) fn ready(
    kind: &str,
    name: &str,
    revision: &str,
    generation: i64,
    observed: i64,
) -> Json {
    json!({
        "kind": kind,
        "metadata": { "name": name, "namespace": "flux-system", "generation": generation },
        "status": {
            "observedGeneration": observed,
            "lastAppliedRevision": revision,
            "conditions": [{ "type": "Ready", "status": "True", "reason": "ReconciliationSucceeded" }],
        },
    })
}
