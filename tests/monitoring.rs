//! The monitoring feature: kube-prometheus-stack with Gitpod's scrape config and dashboards,
//! each piece checked against what else the render holds.

use serde_json::Value;

use railyard::core::json_tree::JsonTree;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;

use crate::support::root;

/// Every document of the monitoring feature's rendered file.
fn monitoring_documents() -> Vec<Value> {
    let loaded = railyard::edge::load::load(&root().join("golden/ok/feature-monitoring/site.yaml"))
        .expect("the case loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("the case renders");
    let path = format!("clusters/{}/infrastructure/monitoring.yaml", tree.site);
    let text = String::from_utf8(tree.files[&path].clone()).expect("UTF-8");
    let (nodes, problems) = parse_stream(&SourceFile::new(&path, text.as_str()));
    assert!(problems.is_empty(), "{problems:?}");
    nodes
        .iter()
        .map(|n| JsonTree::new(&path, n).value)
        .collect()
}

fn find<'a>(documents: &'a [Value], kind: &str, name: &str) -> &'a Value {
    documents
        .iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} `{name}`"))
}

#[test]
fn monitoring_is_kube_prometheus_stack_from_its_repository() {
    let documents = monitoring_documents();
    let release = find(&documents, "HelmRelease", "monitoring");
    let chart = &release["spec"]["chart"]["spec"];
    assert_eq!(chart["chart"], "kube-prometheus-stack");
    let version = chart["version"].as_str().expect("a pinned version");
    assert!(
        version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok()),
        "`{version}` is an exact version, not a range"
    );
    let source = &chart["sourceRef"];
    let repository = find(
        &documents,
        "HelmRepository",
        source["name"].as_str().expect("a name"),
    );
    assert_eq!(repository["metadata"]["namespace"], source["namespace"]);
    assert_eq!(
        repository["spec"]["url"],
        "https://prometheus-community.github.io/helm-charts"
    );
    assert!(
        !documents
            .iter()
            .any(|d| d.to_string().contains("gitpod-monitoring")),
        "the 2022 chart is gone"
    );
}

#[test]
fn gitpods_scrape_config_selects_what_the_render_holds() {
    let documents = monitoring_documents();
    let values = &find(&documents, "HelmRelease", "monitoring")["spec"]["values"]["prometheus"];
    let workspace = values["additionalPodMonitors"]
        .as_array()
        .expect("pod monitors")
        .iter()
        .find(|m| m["name"] == "workspace")
        .expect("the workspace PodMonitor");
    assert_eq!(workspace["namespaceSelector"]["matchNames"][0], "gitpod");
    assert_eq!(
        workspace["selector"]["matchLabels"]["component"],
        "workspace"
    );
    assert_eq!(workspace["podMetricsEndpoints"][0]["port"], "supervisor");

    // The ServiceMonitor must select the Service the render adds, by its labels and port.
    let monitor = values["additionalServiceMonitors"]
        .as_array()
        .expect("service monitors")
        .iter()
        .find(|m| m["name"] == "ws-manager")
        .expect("the ws-manager ServiceMonitor");
    let service = find(&documents, "Service", "monitoring-ws-manager");
    let namespace = &service["metadata"]["namespace"];
    assert_eq!(&monitor["namespaceSelector"]["matchNames"][0], namespace);
    for (key, value) in monitor["selector"]["matchLabels"]
        .as_object()
        .expect("labels")
    {
        assert_eq!(&service["metadata"]["labels"][key], value, "label `{key}`");
    }
    let port = monitor["endpoints"][0]["port"].as_str().expect("a port");
    assert!(
        service["spec"]["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == port && p["port"] == 9500),
        "the Service exposes `{port}` (9500)"
    );
}

#[test]
fn gitpods_dashboards_are_pinned_to_commits() {
    let documents = monitoring_documents();
    let grafana = &find(&documents, "HelmRelease", "monitoring")["spec"]["values"]["grafana"];
    let providers = grafana["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
        .as_array()
        .expect("providers");
    let dashboards = grafana["dashboards"].as_object().expect("dashboards");
    assert!(!dashboards.is_empty());
    for (provider, list) in dashboards {
        // Grafana's chart writes a provider's dashboards to this path only.
        let declared = providers
            .iter()
            .find(|p| p["name"] == provider.as_str())
            .unwrap_or_else(|| panic!("provider `{provider}` declared"));
        assert_eq!(
            declared["options"]["path"],
            format!("/var/lib/grafana/dashboards/{provider}")
        );
        for (name, dashboard) in list.as_object().expect("dashboards") {
            let url = dashboard["url"].as_str().expect("a url");
            let rest = url
                .strip_prefix("https://raw.githubusercontent.com/gitpod-io/gitpod/")
                .unwrap_or_else(|| panic!("`{name}` comes from gitpod-io/gitpod: {url}"));
            let (commit, path) = rest.split_once('/').expect("commit/path");
            assert!(
                commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "`{name}` is pinned to a commit, not `{commit}`"
            );
            assert!(
                path.starts_with("operations/observability/mixins/") && path.ends_with(".json"),
                "{path}"
            );
        }
    }
}
