//! Flux's controllers, run out of cluster against the real API server as their developers run
//! them under envtest, and the test standing in for what has no binary here.
//!
//! There is no kubelet, no kube-controller-manager, no helm-controller and no network: no pod
//! ever runs, so no Deployment, DaemonSet, StatefulSet or Job reaches its ready state, no
//! HelmRelease is installed and no chart repository answers. Every layer Kustomization has
//! `wait: true` and each depends on the one before, so without a stand-in only the first layer
//! would ever apply. The stand-in marks those objects ready, through their status subresource,
//! as their controllers would, and only [`STAND_IN_DELAY`] after it first saw them: until then
//! the layer is applied but not Ready, which is when a layer depending on it must not apply.
//! source-controller is kept off the HelmRepositories the layers apply (they point at the
//! internet), so that it does not overwrite the stand-in's status.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::git_host::free_port;

/// How long an object waits for the stand-in to mark it ready.
pub(super) const STAND_IN_DELAY: Duration = Duration::from_secs(3);

/// The kinds the stand-in plays the controller of, as `kubectl get` names them.
const STOOD_IN: &str = "deployments.apps,daemonsets.apps,statefulsets.apps,jobs.batch,\
    helmreleases.helm.toolkit.fluxcd.io,helmrepositories.source.toolkit.fluxcd.io";

/// A process stopped when dropped, its output in a log file.
pub(super) struct Process {
    child: Child,
    pub(super) log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn spawn(command: &mut Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        Process { child, log }
    }

    /// The last lines of the log, for a failure message.
    pub(super) fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Starts source-controller and kustomize-controller against the API server of `kubeconfig`.
/// `layers` names the layer Kustomizations, whose HelmRepositories source-controller leaves
/// to the stand-in.
pub(super) fn start_controllers(
    binaries: (&Path, &Path),
    kubeconfig: &Path,
    dir: &Path,
    layers: &[String],
) -> Vec<Process> {
    let storage = free_port();
    std::fs::create_dir_all(dir.join("storage")).expect("storage dir");
    let common = |command: &mut Command| {
        command
            .env("KUBECONFIG", kubeconfig)
            .env("RUNTIME_NAMESPACE", "flux-system")
            .args([
                "--enable-leader-election=false",
                "--metrics-addr=127.0.0.1:0",
                "--health-addr=127.0.0.1:0",
                "--log-encoding=console",
            ]);
    };
    let mut source = Command::new(binaries.0);
    common(&mut source);
    source
        .arg(format!("--storage-path={}", dir.join("storage").display()))
        .arg(format!("--storage-addr=127.0.0.1:{storage}"))
        .arg(format!("--storage-adv-addr=127.0.0.1:{storage}"))
        .arg(format!(
            "--watch-label-selector=kustomize.toolkit.fluxcd.io/name notin ({})",
            layers.join(",")
        ));
    let mut kustomize = Command::new(binaries.1);
    common(&mut kustomize);
    // Dependencies are re-checked every 30 s by default; the stand-in makes them ready in
    // seconds, so the wait would be most of the test's time.
    kustomize.args(["--requeue-dependency=2s", "--no-remote-bases=true"]);
    vec![
        Process::spawn(&mut source, dir.join("source-controller.log")),
        Process::spawn(&mut kustomize, dir.join("kustomize-controller.log")),
    ]
}

/// What the observer saw: every list of the Kustomizations, in order, each one consistent
/// snapshot of the API server.
#[derive(Default)]
pub(super) struct Timeline {
    pub(super) snapshots: Vec<Vec<Value>>,
}

/// The stand-in and the observer, in one thread, until dropped.
pub(super) struct StandIn {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub(super) timeline: Arc<Mutex<Timeline>>,
    pub(super) refused: Arc<Mutex<Vec<String>>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl StandIn {
    pub(super) fn start(kubectl: &Path, kubeconfig: &Path) -> StandIn {
        let stop = Arc::new(AtomicBool::new(false));
        let timeline = Arc::new(Mutex::new(Timeline::default()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let kube = Kubectl {
            binary: kubectl.to_owned(),
            kubeconfig: kubeconfig.to_owned(),
        };
        let thread = {
            let (stop, timeline, refused) = (stop.clone(), timeline.clone(), refused.clone());
            std::thread::spawn(move || {
                let mut seen: BTreeMap<String, Instant> = BTreeMap::new();
                let mut done: BTreeSet<String> = BTreeSet::new();
                while !stop.load(Ordering::SeqCst) {
                    if let Some(items) = kube.list("kustomizations.kustomize.toolkit.fluxcd.io") {
                        timeline.lock().expect("timeline").snapshots.push(items);
                    }
                    for item in kube.list(STOOD_IN).unwrap_or_default() {
                        let key = key(&item);
                        let first = *seen.entry(key.clone()).or_insert_with(Instant::now);
                        if first.elapsed() < STAND_IN_DELAY || done.contains(&key) {
                            continue;
                        }
                        match kube.patch_status(&item, &ready_status(&item)) {
                            Ok(()) => {
                                done.insert(key);
                            }
                            Err(e) => refused.lock().expect("refused").push(e),
                        }
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            })
        };
        StandIn {
            stop,
            thread: Some(thread),
            timeline,
            refused,
        }
    }
}

/// `kind/namespace/name@generation`: a new generation is a new rollout, ready again later.
fn key(item: &Value) -> String {
    format!(
        "{}/{}/{}@{}",
        item["kind"].as_str().unwrap_or_default(),
        item["metadata"]["namespace"].as_str().unwrap_or_default(),
        item["metadata"]["name"].as_str().unwrap_or_default(),
        item["metadata"]["generation"].as_i64().unwrap_or_default()
    )
}

/// The status the object's own controller writes once it is done (the fields kstatus reads).
fn ready_status(item: &Value) -> Value {
    let generation = item["metadata"]["generation"].as_i64().unwrap_or(1);
    let replicas = item["spec"]["replicas"].as_i64().unwrap_or(1);
    let now = "2026-01-01T00:00:00Z";
    let condition = |kind: &str, reason: &str| {
        json!({"type": kind, "status": "True", "reason": reason,
               "message": "marked ready by the test's stand-in",
               "lastTransitionTime": now, "lastUpdateTime": now})
    };
    match item["kind"].as_str().unwrap_or_default() {
        "Deployment" => json!({
            "observedGeneration": generation, "replicas": replicas,
            "updatedReplicas": replicas, "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [condition("Available", "MinimumReplicasAvailable"),
                           condition("Progressing", "NewReplicaSetAvailable")]}),
        "StatefulSet" => json!({
            "observedGeneration": generation, "replicas": replicas,
            "readyReplicas": replicas, "currentReplicas": replicas,
            "updatedReplicas": replicas, "availableReplicas": replicas,
            "currentRevision": "stand-in", "updateRevision": "stand-in"}),
        "DaemonSet" => json!({
            "observedGeneration": generation, "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1, "updatedNumberScheduled": 1,
            "numberReady": 1, "numberAvailable": 1, "numberMisscheduled": 0}),
        "Job" => json!({
            "startTime": now, "completionTime": now, "succeeded": 1, "active": 0,
            "ready": 0, "terminating": 0,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                 "message": "marked complete by the test's stand-in",
                 "lastProbeTime": now, "lastTransitionTime": now},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                 "message": "marked complete by the test's stand-in",
                 "lastProbeTime": now, "lastTransitionTime": now}]}),
        // Flux's own kinds: a Ready condition for the generation.
        _ => json!({
            "observedGeneration": generation,
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                            "message": "marked ready by the test's stand-in",
                            "observedGeneration": generation, "lastTransitionTime": now}]}),
    }
}

/// kubectl against one API server.
#[derive(Clone)]
pub(super) struct Kubectl {
    pub(super) binary: PathBuf,
    pub(super) kubeconfig: PathBuf,
}

impl Kubectl {
    pub(super) fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.env("KUBECONFIG", &self.kubeconfig);
        command
    }

    /// Every object of the comma-separated `kinds` in every namespace, or `None` if the list
    /// failed (the API server may still be settling).
    pub(super) fn list(&self, kinds: &str) -> Option<Vec<Value>> {
        let out = self
            .command()
            .args(["get", kinds, "--all-namespaces", "-o", "json"])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let list: Value = serde_json::from_slice(&out.stdout).ok()?;
        list["items"].as_array().cloned()
    }

    /// One object as JSON, or `None` if it does not exist.
    pub(super) fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let out = self
            .command()
            .args(["get", kind, name, "-n", namespace, "-o", "json"])
            .output()
            .expect("kubectl runs");
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).expect("JSON"))
    }

    fn patch_status(&self, item: &Value, status: &Value) -> Result<(), String> {
        let api_version = item["apiVersion"].as_str().unwrap_or_default();
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let kind = item["kind"].as_str().unwrap_or_default().to_lowercase();
        let resource = if group.is_empty() {
            kind
        } else {
            format!("{kind}.{group}")
        };
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        let mut command = self.command();
        command.args([
            "patch",
            &resource,
            name,
            "--subresource=status",
            "--type=merge",
        ]);
        if let Some(namespace) = item["metadata"]["namespace"].as_str() {
            command.args(["-n", namespace]);
        }
        let out = command
            .arg("-p")
            .arg(json!({ "status": status }).to_string())
            .output()
            .expect("kubectl runs");
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{resource} `{name}`: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}
