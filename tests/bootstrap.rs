//! `plan`, `bootstrap` and `destroy` against the fake Hetzner API (`fake_hetzner`): the real
//! binary, real HTTP, faults injected by the fake and by killing the process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::fake_hetzner::{FakeHetzner, Faults};
use crate::fake_kube::{FakeKube, KubeFaults};
use crate::ssh::{Sshd, sshd_binary};
use crate::support::{railyard, root, run, stderr, stdout};

mod azure;
mod digitalocean;
mod digitalocean_faults;
mod digitalocean_render;
mod faults;
mod findings;
mod large;
mod lifecycle;
mod pools;
mod scaleway;
mod secret_paths;
mod status;

const SITE_LABEL: &str = "railyard.dev/site";

/// The example site's resources, by kind and name, as bootstrap must leave them.
fn wanted(site: &str, servers: usize, workers: usize, api_lb: bool) -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let mut add = |kind: &str, name: String| {
        wanted.insert((kind.to_owned(), name));
    };
    add("ssh_key", format!("{site}-key-0"));
    add("network", format!("{site}-network"));
    add("firewall", format!("{site}-firewall"));
    add("placement_group", format!("{site}-servers"));
    for g in 0..workers.div_ceil(10) {
        add("placement_group", format!("{site}-workers-{g}"));
    }
    add("load_balancer", format!("{site}-ingress"));
    if api_lb {
        add("load_balancer", format!("{site}-api"));
    }
    for i in 0..servers {
        add("server", format!("{site}-server-{i}"));
    }
    for i in 0..workers {
        add("server", format!("{site}-worker-{i}"));
    }
    wanted
}

/// The cluster bootstrap reaches once the machines exist: a local sshd standing in for the
/// first server (it serves k3s' kubeconfig), and a fake Kubernetes API server behind it whose
/// simulated Flux applies the site's rendered Kustomizations.
pub(crate) struct TestCluster {
    sshd: Sshd,
    pub(crate) kube: FakeKube,
    known_hosts: PathBuf,
}

impl TestCluster {
    fn start(example: &str, faults: KubeFaults) -> TestCluster {
        let binary =
            sshd_binary().expect("sshd (Debian package openssh-server; tests/run.sh installs it)");
        let kube = FakeKube::start_in_background(faults);
        kube.set_children(flux_children(example));
        let sshd = Sshd::start(&binary, &kube.kubeconfig());
        let known_hosts = sshd.dir.path().join("git_known_hosts");
        std::fs::write(
            &known_hosts,
            "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
        )
        .expect("write");
        TestCluster {
            sshd,
            kube,
            known_hosts,
        }
    }

    /// Flux installs after two looks and each Kustomization needs two reconciles.
    pub(crate) fn quick(example: &str) -> TestCluster {
        TestCluster::start(
            example,
            KubeFaults {
                flux_installed_after: 2,
                ready_after: 2,
                ..KubeFaults::default()
            },
        )
    }

    /// The kubeconfig bootstrap wrote for `site`.
    fn kubeconfig(&self, site: &str) -> PathBuf {
        self.sshd
            .dir
            .path()
            .join(format!(".kube/railyard/{site}.yaml"))
    }
}

/// The Kustomizations the example renders beside its directories (Flux creates them from git).
fn flux_children(example: &str) -> Vec<Value> {
    let loaded = railyard::edge::load::load(&root().join(example)).expect("example loads");
    let tree = railyard::core::compile::compile(&loaded.inputs)
        .tree
        .expect("example compiles");
    railyard::bootstrap::cluster::rendered_kustomizations(&tree.site, &tree.files)
        .expect("rendered Kustomizations parse")
        .into_iter()
        .filter(|k| k["metadata"]["name"] != "flux-system")
        .collect()
}

pub(crate) fn railyard_against(
    fake: &FakeHetzner,
    cluster: &TestCluster,
    args: &[&str],
) -> Command {
    let mut command = railyard();
    command
        .current_dir(root())
        .args(args)
        .env("HCLOUD_TOKEN", "test-token")
        .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
        .env("RAILYARD_RETRY_BASE_MS", "5")
        .env("RAILYARD_POLL_MS", "5")
        .env(
            "RAILYARD_SSH_REDIRECT",
            format!("127.0.0.1:{}", cluster.sshd.port),
        )
        .env("RAILYARD_KUBE_REDIRECT", cluster.kube.address())
        .env("HOME", cluster.sshd.dir.path());
    if args.first() != Some(&"status") {
        command.args(["--api-url", &fake.url()]);
    }
    if args.first() == Some(&"bootstrap") {
        command
            .arg("--ssh-key")
            .arg(&cluster.sshd.client_key)
            .arg("--git-known-hosts")
            .arg(&cluster.known_hosts)
            .args(["--wait", "20"]);
        if !args.contains(&"--flux-wait") {
            command.args(["--flux-wait", "30"]);
        }
    }
    command
}

/// The site's resources in the fake, as (kind, name); panics on a duplicate name.
fn site_resources(fake: &FakeHetzner, site: &str) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    for (kind, _id, name, labels) in fake.resources() {
        if labels.get(SITE_LABEL).map(String::as_str) == Some(site) {
            assert!(
                seen.insert((kind.clone(), name.clone())),
                "duplicate {kind} `{name}`"
            );
        }
    }
    seen
}

fn creating_posts(fake: &FakeHetzner) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && !r.path.contains("/actions/"))
        .count()
}

fn assert_ok(output: &Output) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

fn base64_text(value: &Value) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("a string"))
        .expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

/// The decrypted values of an example's two secrets files (the cluster's and the machines',
/// whose k3s tokens user-data carries) long enough to be recognised in a request.
fn example_secret_values(example: &str) -> Vec<String> {
    let mut secrets: Vec<String> = Vec::new();
    for file in ["secrets.sops.yaml", "machine-secrets.sops.yaml"] {
        let decrypted = run(railyard()
            .current_dir(root())
            .env("SOPS_AGE_KEY_FILE", root().join("examples/age.key"))
            .args(["secrets", "decrypt", &format!("{example}/{file}")]));
        secrets.extend(
            stdout(&decrypted)
                .lines()
                .skip_while(|l| !l.starts_with("stringData:"))
                .skip(1)
                .filter_map(|l| l.split_once(": ").map(|(_, v)| v.trim().to_owned()))
                .filter(|v| v.len() >= 16),
        );
    }
    assert!(secrets.len() >= 2, "{secrets:?}");
    secrets
}

/// What one faulty run did, for the schedule's overall check.
#[derive(Default, Clone, Copy)]
struct Hurt {
    killed: usize,
    in_cluster: usize,
    faulted: usize,
    incomplete: usize,
}

impl From<(usize, usize, usize, usize)> for Hurt {
    fn from((killed, in_cluster, faulted, incomplete): (usize, usize, usize, usize)) -> Hurt {
        Hurt {
            killed,
            in_cluster,
            faulted,
            incomplete,
        }
    }
}

/// Seeds 1 to 20 of `faulty_run`, `at_once` side by side (each seed has its own fake cloud,
/// cluster and home; the runs mostly wait on fakes, polls and kills, so a few at a time cut the
/// wall time), then the check that the schedule really hurt: kills mid-run, some in the
/// cluster phase, injected faults, first runs left unfinished.
fn twenty_seeded_runs(at_once: usize, faulty_run: impl Fn(u64) -> Hurt + Sync) {
    let next = std::sync::atomic::AtomicU64::new(1);
    let total = std::sync::Mutex::new(Hurt::default());
    std::thread::scope(|scope| {
        for _ in 0..at_once {
            scope.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if seed > 20 {
                        return;
                    }
                    let hurt = faulty_run(seed);
                    let mut total = total.lock().unwrap_or_else(|e| e.into_inner());
                    total.killed += hurt.killed;
                    total.in_cluster += hurt.in_cluster;
                    total.faulted += hurt.faulted;
                    total.incomplete += hurt.incomplete;
                }
            });
        }
    });
    let Hurt {
        killed,
        in_cluster,
        faulted,
        incomplete,
    } = total.into_inner().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "20 runs: {killed} killed ({in_cluster} of them in the cluster phase), {faulted} faulty answers, {incomplete} left unfinished"
    );
    assert!(
        killed >= 3 && in_cluster >= 1 && faulted >= 20 && incomplete >= 3,
        "{killed} {in_cluster} {faulted} {incomplete}"
    );
}
