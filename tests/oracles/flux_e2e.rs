//! Real Flux against the real API server, end to end: the shipped Hetzner examples rendered,
//! committed to a bare repository that a real `sshd` serves on loopback, and bootstrap's
//! cluster half run against kube-apiserver (`tests/kubeapi/`) so that it creates the `sops-age`
//! Secret, the deploy-key Secret with `known_hosts`, and the sync objects itself. Then Flux's
//! own source-controller and kustomize-controller (`tests/flux/`, built by `tests/run.sh` into
//! `.oracles/bin/`) do the rest, and the test checks what they did: the GitRepository is Ready
//! with railyard's deploy key and `known_hosts`; every rendered object of every layer is in the
//! API server and in its Kustomization's inventory; the secrets file decrypted in the cluster
//! with railyard's `sops-age` Secret holds the example's values, and so do the Secrets filled by
//! post-build substitution; the layers applied in `dependsOn` order. Last, `railyard status`
//! reads the same cluster: ready at the committed HEAD, "not the committed HEAD" after a new
//! commit, ready again once Flux caught up. [`cluster`] says what the test stands in for (no
//! pod runs here).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use railyard::app::cluster_half::{self, ClusterHalf};

use super::kube_api::{ApiServer, install_crds};
use super::oracle;
use crate::support::{railyard, root, snapshot};

/// What the layers must hold once applied.
mod checks;
/// The controllers, and the stand-in for the controllers that have no binary here.
mod cluster;
/// The git host: a bare repository behind a real sshd.
mod git_host;
/// `railyard status` against the same cluster, before and after a new commit.
mod status;

use cluster::{Kubectl, Process, StandIn, start_controllers};
use git_host::GitHost;

/// How long bootstrap's cluster half waits for Flux, as `--flux-wait` would say.
/// Generous: the whole run takes about 40 s on an idle machine.
const FLUX_WAIT: Duration = Duration::from_secs(420);

#[test]
fn flux_applies_the_hetzner_small_example() {
    end_to_end("hetzner-small");
}

#[test]
fn flux_applies_the_hetzner_medium_example() {
    end_to_end("hetzner-medium");
}

/// The tools this needs, or `None` after saying which is missing.
struct Tools {
    kubeapi: PathBuf,
    source_controller: PathBuf,
    kustomize_controller: PathBuf,
    kubectl: PathBuf,
    sops: PathBuf,
    sshd: PathBuf,
    go: PathBuf,
}

fn tools() -> Option<Tools> {
    Some(Tools {
        kubeapi: oracle("kubeapi")?,
        source_controller: oracle("source-controller")?,
        kustomize_controller: oracle("kustomize-controller")?,
        kubectl: oracle("kubectl")?,
        sops: oracle("sops")?,
        sshd: crate::ssh::sshd_binary()?,
        go: oracle("go")?,
    })
}

fn end_to_end(example: &str) {
    let Some(tools) = tools() else {
        return;
    };
    let started = Instant::now();
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    let server = ApiServer::start(&tools.kubeapi);
    install_crds(&server, &tools.kubectl);
    let kube = Kubectl {
        binary: tools.kubectl.clone(),
        kubeconfig: server.kubeconfig(),
    };
    install_controller_crds(&kube, &tools.go);

    let host = GitHost::start(&tools.sshd, &dir.join("git"));
    let (site, render) = render(example, &host.url(), dir);
    let head = git_host::push_render(&render, &dir.join("work"), &host.bare(), "railyard: render");
    let files = snapshot(&render);
    let layers = checks::layer_names(&render, &site);
    assert!(layers.len() >= 4, "only layers {layers:?} in the render");

    let controllers = start_controllers(
        (&tools.source_controller, &tools.kustomize_controller),
        &server.kubeconfig(),
        dir,
        &layers,
    );
    let stand_in = StandIn::start(&tools.kubectl, &server.kubeconfig());
    let returned = AtomicBool::new(false);
    let installed = std::thread::scope(|scope| {
        scope.spawn(|| add_deploy_key_when_printed(&kube, &host, &returned));
        let installed = cluster_half::install(
            &site,
            &files,
            &railyard_kubeconfig(&server),
            &ClusterHalf {
                age_key: Some(root().join("examples/age.key")),
                git_known_hosts: None,
                wait: FLUX_WAIT,
            },
        );
        returned.store(true, Ordering::SeqCst);
        installed
    });
    if let Err(error) = &installed {
        panic!(
            "bootstrap's cluster half failed: {error:#}\n{}",
            failure_report(&kube, &host, &controllers, &stand_in)
        );
    }
    let applied = started.elapsed();

    let context = checks::Context {
        kube: &kube,
        site: &site,
        render: &render,
        head: &head,
    };
    checks::git_repository_ready(&context, &host);
    let counts = checks::every_layer_applied(&context, &layers);
    checks::secrets_hold_the_example_values(
        &context,
        &tools.sops,
        &root().join("examples").join(example),
    );
    let snapshots = stand_in
        .timeline
        .lock()
        .expect("timeline")
        .snapshots
        .clone();
    checks::depends_on_order(&context, &snapshots);
    let kubeconfig = dir.join("kubeconfig.yaml");
    std::fs::write(&kubeconfig, railyard_kubeconfig(&server)).expect("kubeconfig");
    status::follows_the_committed_head(
        &status::Setup {
            kube: &kube,
            site_dir: &dir.join("site"),
            kubeconfig: &kubeconfig,
            render: &render,
            work: &dir.join("work"),
            bare: &host.bare(),
        },
        &site,
    );
    eprintln!(
        "{example}: Flux applied {counts} in {:.1} s; checked after {:.1} s",
        applied.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// What a failed run needs explained: Flux's own conditions first (bootstrap reports only the
/// Kustomizations' states), then the git host's and the controllers' logs and what the stand-in
/// could not write.
fn failure_report(
    kube: &Kubectl,
    host: &GitHost,
    controllers: &[Process],
    stand_in: &StandIn,
) -> String {
    // Flux's own word on each Kustomization first: bootstrap reports only their states.
    let mut text = String::from("Kustomizations:\n");
    for item in kube
        .list("kustomizations.kustomize.toolkit.fluxcd.io")
        .unwrap_or_default()
    {
        for condition in item["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            text.push_str(&format!(
                "  {} {}={} {}: {}\n",
                item["metadata"]["name"].as_str().unwrap_or("?"),
                condition["type"].as_str().unwrap_or("?"),
                condition["status"].as_str().unwrap_or("?"),
                condition["reason"].as_str().unwrap_or("?"),
                condition["message"].as_str().unwrap_or("?")
            ));
        }
    }
    text.push_str(&format!("sshd:\n{}\n", host.log()));
    for process in controllers {
        text.push_str(&format!("{}:\n{}\n", process.log.display(), process.tail()));
    }
    text.push_str(&format!(
        "stand-in refusals: {:?}\n",
        stand_in.refused.lock().expect("refused")
    ));
    text
}

/// The CRDs of the controllers that run, from their own modules (`config/crd/bases`), over the
/// newer Flux CRDs in `../shared/crds/`: the controllers watch every kind of their release
/// (Buckets and ExternalArtifacts too) and stop when one is missing. Then Flux's namespace.
fn install_controller_crds(kube: &Kubectl, go: &Path) {
    for controller in ["source-controller", "kustomize-controller"] {
        let out = std::process::Command::new(go)
            .current_dir(root().join("tests/flux").join(controller))
            .env("GOFLAGS", "-mod=readonly")
            .env("GOTOOLCHAIN", "local")
            .args(["list", "-m", "-f", "{{.Dir}}"])
            .arg(format!("github.com/fluxcd/{controller}"))
            .output()
            .expect("go runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let module = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let applied = kube
            .command()
            .args(["apply", "--server-side", "--force-conflicts", "-f"])
            .arg(module.join("config/crd/bases"))
            .output()
            .expect("kubectl runs");
        assert!(
            applied.status.success(),
            "{}",
            String::from_utf8_lossy(&applied.stderr)
        );
    }
    // k3s creates Flux's namespace when it installs the rendered flux2 HelmChart.
    let made = kube
        .command()
        .args(["create", "namespace", "flux-system"])
        .output()
        .expect("kubectl runs");
    assert!(made.status.success(), "{made:?}");
    let established = kube
        .command()
        .args([
            "wait",
            "--for",
            "condition=established",
            "crd",
            "--all",
            "--timeout=120s",
        ])
        .output()
        .expect("kubectl runs");
    assert!(
        established.status.success(),
        "{}",
        String::from_utf8_lossy(&established.stderr)
    );
}

/// Renders a copy of the example whose `spec.git.url` is the loopback repository: the site's
/// name and the render's root.
fn render(example: &str, url: &str, dir: &Path) -> (String, PathBuf) {
    let site_dir = dir.join("site");
    crate::support::copy_inputs(&root().join("examples").join(example), &site_dir);
    let site_file = site_dir.join("site.yaml");
    let text = std::fs::read_to_string(&site_file).expect("site.yaml");
    let original = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("url: "))
        .expect("the example names a git URL")
        .to_owned();
    std::fs::write(&site_file, text.replace(&original, url)).expect("site.yaml");
    let out = dir.join("render");
    let rendered = railyard()
        .current_dir(&site_dir)
        .args(["render", "site.yaml", "--out"])
        .arg(&out)
        .output()
        .expect("railyard runs");
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let site = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: "))
        .expect("the example has a name")
        .to_owned();
    (site, out)
}

/// What a user does when bootstrap prints the deploy key: adds it to the git host, then asks
/// Flux to fetch again rather than wait for its retry (`flux reconcile source git`).
fn add_deploy_key_when_printed(kube: &Kubectl, host: &GitHost, returned: &AtomicBool) {
    let secret = loop {
        if let Some(secret) = kube.get("secret", "flux-system", railyard::core::layout::GIT_SECRET)
        {
            break secret;
        }
        if returned.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let public = checks::secret_value(&secret, "identity.pub");
    host.add_deploy_key(&public);
    let _ = kube
        .command()
        .args([
            "annotate",
            "--overwrite",
            "-n",
            "flux-system",
            "gitrepository.source.toolkit.fluxcd.io/flux-system",
        ])
        .arg(format!(
            "reconcile.fluxcd.io/requestedAt={}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ))
        .output();
}

/// The kubeconfig bootstrap would write: the API server's address, its certificate authority
/// (the self-signed one kube-apiserver made in its certificate directory) and the token.
fn railyard_kubeconfig(server: &ApiServer) -> String {
    use base64::Engine as _;
    let written = std::fs::read_to_string(server.kubeconfig()).expect("kubeconfig");
    let field = |name: &str| {
        written
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(str::to_owned))
            .unwrap_or_else(|| panic!("kubeapi's kubeconfig has no `{name}`"))
    };
    let authority = std::fs::read(server.dir().join("certs/apiserver.crt")).expect("certificate");
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: admin\n  user:\n    token: {}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: admin\ncurrent-context: test\n",
        field("server: "),
        base64::engine::general_purpose::STANDARD.encode(authority),
        field("token: ")
    )
}
