//! The in-cluster stores' volumes: the installer Job's apply script, run as rendered over
//! installer-like output with the real `kubectl patch --local`, puts the database's, object
//! storage's and registry's claims on the site's CSI class when it enables a driver, and leaves
//! them as before (the registry on local-path, the others on the cluster default) when not.
//! `kubectl apply` and `rollout status` are stood in for by a script that records them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use railyard::core::compile::compile;
use railyard::core::json_tree::JsonTree;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;
use railyard::edge::load::load;
use serde_json::Value;

use crate::support::root;

/// The manifests Gitpod's installer writes for the stores (`--output-split-files` names each
/// file `<n>_<Kind>_<name>.yaml`), trimmed to the fields that matter here, plus one claim no
/// store owns.
const MANIFESTS: &[(&str, &str)] = &[
    (
        "001_PersistentVolumeClaim_registry.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: registry, namespace: gitpod}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}\n",
    ),
    (
        "002_PersistentVolumeClaim_minio.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: minio, namespace: gitpod}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 8Gi}}}\n",
    ),
    (
        "003_PersistentVolumeClaim_other.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: other, namespace: gitpod}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
    ),
    (
        "004_Deployment_registry.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: registry, namespace: gitpod}\nspec:\n  selector: {matchLabels: {app: registry}}\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}\n  template: {metadata: {labels: {app: registry}}, spec: {containers: [{name: registry, image: registry}]}}\n",
    ),
    (
        "005_Deployment_minio.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: minio, namespace: gitpod}\nspec:\n  selector: {matchLabels: {app: minio}}\n  strategy: {type: RollingUpdate}\n  template: {metadata: {labels: {app: minio}}, spec: {containers: [{name: minio, image: minio}]}}\n",
    ),
    (
        "006_StatefulSet_mysql.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: mysql, namespace: gitpod}\nspec:\n  serviceName: mysql\n  selector: {matchLabels: {app: mysql}}\n  template: {metadata: {labels: {app: mysql}}, spec: {containers: [{name: mysql, image: mysql}]}}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 8Gi}}}\n",
    ),
];

/// The apply container of the installer Job `case` renders: its script and environment.
fn apply_container(case: &str) -> (String, Vec<(String, String)>) {
    let site = root().join(format!("golden/ok/{case}/site.yaml"));
    let loaded = load(&site).expect("the case loads");
    let tree = compile(&loaded.inputs).tree.expect("the case renders");
    let path = "clusters/golden/gitpod/installer-job.yaml";
    let text = String::from_utf8(tree.files[path].clone()).expect("text");
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(path, &text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let job = nodes
        .iter()
        .map(|n| JsonTree::new(path, n).value)
        .find(|d| d["kind"] == "Job")
        .expect("a Job");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let script = container["args"][0].as_str().expect("a script").to_owned();
    let env = container["env"]
        .as_array()
        .expect("an environment")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (text("name"), text("value"))
        })
        .collect();
    (script, env)
}

/// Runs the case's apply script over [`MANIFESTS`]; the patched manifests by file name.
fn run_script(case: &str) -> Vec<(String, Value)> {
    let (script, env) = apply_container(case);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let manifests = dir.path().join("manifests");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&manifests).expect("manifests dir");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for (name, text) in MANIFESTS {
        std::fs::write(manifests.join(name), text).expect("a manifest");
    }
    let real = which("kubectl");
    let shim = bin.join("kubectl");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nif [ \"$1\" = patch ]; then exec '{}' \"$@\"; fi\necho \"$@\" >> '{}'\n",
            real.display(),
            dir.path().join("calls").display()
        ),
    )
    .expect("the kubectl stand-in");
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("mode");
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(&script).env_clear();
    command.env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    command.env("KUBECONFIG", dir.path().join("no-kubeconfig"));
    for (name, value) in env {
        command.env(name, value);
    }
    command.env("MANIFESTS", &manifests);
    let output = command.output().expect("the script runs");
    assert!(
        output.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = std::fs::read_to_string(dir.path().join("calls")).expect("kubectl was called");
    assert!(calls.contains("apply --server-side"), "{calls}");
    MANIFESTS
        .iter()
        .map(|(name, _)| (name.to_string(), read(&manifests.join(name))))
        .collect()
}

fn which(program: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{program}` is on PATH"))
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("a manifest");
    let name = path.display().to_string();
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(&name, &text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    JsonTree::new(&name, &nodes[0]).value
}

fn find<'a>(manifests: &'a [(String, Value)], name: &str) -> &'a Value {
    &manifests.iter().find(|(n, _)| n == name).expect(name).1
}

/// The storage classes of registry, MinIO, the database and the unowned claim, and the two
/// Deployments' update strategies.
fn classes(case: &str) -> (Vec<Value>, Vec<Value>) {
    let manifests = run_script(case);
    let classes = vec![
        find(&manifests, MANIFESTS[0].0)["spec"]["storageClassName"].clone(),
        find(&manifests, MANIFESTS[1].0)["spec"]["storageClassName"].clone(),
        find(&manifests, MANIFESTS[5].0)["spec"]["volumeClaimTemplates"][0]["spec"]
            ["storageClassName"]
            .clone(),
        find(&manifests, MANIFESTS[2].0)["spec"]["storageClassName"].clone(),
    ];
    let strategies = vec![
        find(&manifests, MANIFESTS[3].0)["spec"]["strategy"].clone(),
        find(&manifests, MANIFESTS[4].0)["spec"]["strategy"].clone(),
    ];
    (classes, strategies)
}

#[test]
fn without_a_csi_driver_only_the_registry_is_put_on_local_path() {
    let (classes, strategies) = classes("minimal");
    assert_eq!(
        classes,
        vec![
            Value::from("local-path"),
            Value::Null,
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(strategies[0]["type"], "RollingUpdate");
    assert_eq!(strategies[1]["type"], "RollingUpdate");
}

#[test]
fn each_csi_driver_holds_the_database_object_storage_and_registry() {
    for (case, class) in [
        ("feature-digitalocean-csi", "do-block-storage"),
        ("feature-scaleway-csi", "scw-bssd"),
        ("feature-hetzner-csi", "hcloud-volumes"),
        ("feature-azure-disk-csi", "managed-csi"),
    ] {
        let (classes, strategies) = classes(case);
        let class = Value::from(class);
        assert_eq!(
            classes,
            vec![class.clone(), class.clone(), class, Value::Null],
            "{case}"
        );
        for strategy in strategies {
            assert_eq!(
                strategy,
                serde_json::json!({ "type": "Recreate" }),
                "{case}"
            );
        }
    }
}
