//! The commit subject and body for renders that differ in versions, workers or nothing telling.

use super::{Files, commit_message};

fn machines(count: u32, machine_type: &str) -> String {
    format!(
        "apiVersion: railyard.dev/v1alpha1\nkind: Machines\nsite: demo-small\nprovider: hetzner\nlocation: nbg1\nsize: small\nimage: ubuntu-24.04\nnetwork:\n  cidr: 10.2.0.0/16\n  subnet: 10.2.0.0/24\napiAddress: 10.2.0.10\nsshKeys: []\nservers: []\nworkers:\n  count: {count}\n  type: {machine_type}\n  namePrefix: s-worker-\n  userData: cloud-init/worker.yaml\ningressLoadBalancer:\n  ports: [80]\n  targets: [workers]\n"
    )
}

fn render(k3s: &str, workers: u32, cert_manager: &str) -> Files {
    let mut files = Files::new();
    files.insert(
        "hosts/demo-small/cloud-init/server-0.yaml".to_owned(),
        format!("      INSTALL_K3S_VERSION=\"{k3s}\" INSTALL_K3S_EXEC=\"server\" sh \"$script\"\n")
            .into_bytes(),
    );
    files.insert(
        "hosts/demo-small/machines.yaml".to_owned(),
        machines(workers, "cpx42").into_bytes(),
    );
    files.insert(
        "clusters/demo-small/infrastructure/cert-manager.yaml".to_owned(),
        format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cert-manager\n  namespace: cert-manager\nspec:\n  chart:\n    spec:\n      chart: cert-manager\n      version: {cert_manager}\n").into_bytes(),
    );
    files.insert(
        ".railyard/demo-small.lock".to_owned(),
        format!("{k3s}{workers}").into_bytes(),
    );
    files
}

#[test]
fn a_first_render_says_so() {
    let message = commit_message(
        "demo-small",
        &Files::new(),
        &render("v1.36.2+k3s1", 2, "v1.21.1"),
    );
    assert_eq!(message.subject, "railyard: demo-small: first render");
    assert_eq!(
        message.body,
        "Files:\n  + clusters/demo-small/infrastructure/cert-manager.yaml\n  + hosts/demo-small/cloud-init/server-0.yaml\n  + hosts/demo-small/machines.yaml\n"
    );
}

#[test]
fn versions_and_workers_lead_the_subject_and_the_body_lists_everything() {
    let old = render("v1.36.2+k3s1", 2, "v1.21.1");
    let new = render("v1.36.3+k3s1", 3, "v1.21.1");
    let message = commit_message("demo-small", &old, &new);
    assert_eq!(
        message.subject,
        "railyard: demo-small: k3s v1.36.2 → v1.36.3, 2 workers → 3"
    );
    assert!(
        message
            .body
            .starts_with("- k3s v1.36.2 → v1.36.3\n- 2 workers → 3\n\n")
    );
    assert!(message.body.contains("Files:\n  ~ hosts/demo-small/cloud-init/server-0.yaml\n  ~ hosts/demo-small/machines.yaml\n"));
    assert!(
        !message.body.contains(".railyard/"),
        "the lock is bookkeeping"
    );
}

#[test]
fn a_long_list_is_cut_to_fit_the_subject() {
    let old = render("v1.36.2+k3s1", 1, "v1.21.1");
    let mut new = render("v1.37.10+k3s2", 12, "v1.22.0-beta.1");
    new.insert(
        "hosts/demo-small/machines.yaml".to_owned(),
        machines(12, "cpx52-dedicated").into_bytes(),
    );
    let message = commit_message("demo-small", &old, &new);
    assert!(message.subject.chars().count() <= 72, "{}", message.subject);
    assert!(message.subject.ends_with(", …"), "{}", message.subject);
    assert!(
        message
            .body
            .contains("- worker type cpx42 → cpx52-dedicated\n")
    );
}

#[test]
fn without_a_telling_change_the_subject_counts() {
    let old = render("v1.36.2+k3s1", 2, "v1.21.1");
    let mut new = old.clone();
    new.insert(
        "clusters/demo-small/infrastructure/cert-manager.yaml".to_owned(),
        b"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cert-manager\n  namespace: cert-manager\nspec:\n  interval: 2h\n  chart:\n    spec:\n      chart: cert-manager\n      version: v1.21.1\n".to_vec(),
    );
    let message = commit_message("demo-small", &old, &new);
    assert_eq!(
        message.subject,
        "railyard: demo-small: 1 object changed in 1 file"
    );
    assert!(
        message.body.contains("spec.interval added: 2h"),
        "{}",
        message.body
    );
}

/// The installer Job of an earlier render (the installer as its only container) and of today's
/// (the installer as its init containers, kubectl applying): the version reads from both.
#[test]
fn a_gitpod_upgrade_across_the_installer_job_layouts_is_named() {
    let job = |containers: &str, tag: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: gitpod-installer-x\nspec:\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: gitpod-installer\n    spec:\n      {containers}:\n      - name: installer\n        image: registry.example.com/gitpod/installer:{tag}\n      containers:\n      - name: apply\n        image: registry.k8s.io/kubectl:v1.36.2\n"
        )
    };
    let path = "clusters/demo-small/gitpod/installer-job.yaml".to_owned();
    let mut old = render("v1.36.2+k3s1", 2, "v1.21.1");
    // the earlier layout: one container, the installer
    old.insert(
        path.clone(),
        job("containers", "2023.03.1")
            .split("      containers:\n      - name: apply")
            .next()
            .expect("the first part")
            .as_bytes()
            .to_vec(),
    );
    let mut new = render("v1.36.2+k3s1", 2, "v1.21.1");
    new.insert(path, job("initContainers", "2023.04.2").into_bytes());
    let message = commit_message("demo-small", &old, &new);
    assert!(
        message
            .subject
            .contains("Gitpod installer 2023.03.1 → 2023.04.2"),
        "{}",
        message.subject
    );
}
