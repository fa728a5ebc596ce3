//! The two system-upgrade-controller Plans that move every node to `spec.versions.k3s`, as
//! the k3s docs ("Automated upgrades") lay them out: servers first, cordoned, one at a time;
//! then agents, each waiting for the server Plan (`prepare`) and drained.
//!
//! Nodes are selected by railyard's own role label, which the rendered k3s configs set
//! (`labels::node_role`), so the Plans and the nodes cannot disagree. The same version is the
//! one every user-data installs, so a machine created after an upgrade joins at it.

use serde_json::Value as Json;

use crate::defaults::{DAY2, DRAIN_TIMEOUT};
use crate::generate::common_labels;
use crate::generate::system::{UPGRADE_NAMESPACE, UPGRADE_SERVICE_ACCOUNT};
use crate::json_value::value;
use crate::labels;
use crate::model::Site;

/// The file in the infrastructure layer that holds the Plans.
pub const FILE: &str = "k3s-upgrade.yaml";
/// The Plans' names; the agent Plan's `prepare` step names the server Plan.
pub const SERVER_PLAN: &str = "k3s-server";
pub const AGENT_PLAN: &str = "k3s-agent";
/// The upgrade Job's deadline: the drain's timeout plus time to replace k3s and restart.
const JOB_DEADLINE_SECONDS: u32 = 5400;

/// Both Plans, servers first.
pub fn plans(site: &Site) -> Vec<Json> {
    vec![server_plan(site), agent_plan(site)]
}

fn plan(site: &Site, name: &str, role: &str, spec: Json) -> Json {
    let mut full = value!({
        "concurrency": 1,
        "nodeSelector": { "matchLabels": labels::node_role_match(role) },
        "serviceAccountName": UPGRADE_SERVICE_ACCOUNT,
        "upgrade": { "image": DAY2.k3s_upgrade_image },
        "version": &site.versions.k3s,
        "window": window(site),
    });
    if let (Some(full), Some(extra)) = (full.as_object_mut(), spec.as_object()) {
        full.extend(extra.clone());
    }
    value!({
        "apiVersion": "upgrade.cattle.io/v1",
        "kind": "Plan",
        "metadata": { "name": name, "namespace": UPGRADE_NAMESPACE, "labels": common_labels(site) },
        "spec": full,
    })
}

/// Servers are cordoned, not drained (the k3s docs' server Plan), and the Job tolerates the
/// dedicated servers' `CriticalAddonsOnly` taint.
fn server_plan(site: &Site) -> Json {
    plan(
        site,
        SERVER_PLAN,
        labels::SERVER_NODE,
        value!({
            "cordon": true,
            "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }],
        }),
    )
}

/// Agents wait for every server (`prepare: [prepare, <server plan>]`) and are drained with the
/// same patience as kured's reboots: workspace pods get their own grace period, and a drain
/// that outlasts `DRAIN_TIMEOUT` fails the Job, which retries, instead of being forced.
fn agent_plan(site: &Site) -> Json {
    plan(
        site,
        AGENT_PLAN,
        labels::AGENT_NODE,
        value!({
            "jobActiveDeadlineSecs": JOB_DEADLINE_SECONDS,
            "prepare": { "image": DAY2.k3s_upgrade_image, "args": ["prepare", SERVER_PLAN] },
            "drain": {
                "timeout": DRAIN_TIMEOUT,
                "deleteEmptydirData": true,
                "ignoreDaemonSets": true,
                "force": true,
            },
        }),
    )
}

/// The site's maintenance window in the Plan CRD's `window` shape.
fn window(site: &Site) -> Json {
    let window = &site.maintenance;
    value!({
        "days": &window.days,
        "startTime": &window.start,
        "endTime": &window.end,
        "timeZone": &window.time_zone,
    })
}
