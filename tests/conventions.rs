//! Command-line conventions: shell completion scripts and the manual page.

use crate::support::{railyard, run, stderr, stdout};

/// Every subcommand, nested ones included, as `railyard --help` and `secrets --help` list them.
const SUBCOMMANDS: &[&str] = &[
    "init",
    "validate",
    "render",
    "diff",
    "commit",
    "schema",
    "overlay",
    "plan",
    "bootstrap",
    "status",
    "destroy",
    "secrets",
    "completions",
    "man",
];

const SECRETS_SUBCOMMANDS: &[&str] = &["init", "edit", "encrypt", "decrypt", "rotate", "check"];

#[test]
fn bash_completion_is_valid_bash_and_knows_every_subcommand() {
    let output = run(railyard().args(["completions", "bash"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let script = stdout(&output);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("railyard.bash");
    std::fs::write(&path, &script).expect("write");
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for name in SUBCOMMANDS {
        assert!(
            script.contains(&format!("railyard__subcmd__{name}")),
            "bash completion lacks `{name}`"
        );
    }
    for name in SECRETS_SUBCOMMANDS {
        assert!(
            script.contains(&format!("railyard__subcmd__secrets__subcmd__{name}")),
            "bash completion lacks `secrets {name}`"
        );
    }
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = run(railyard().args(["completions", shell]));
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).contains("railyard"), "{shell}");
    }
    let output = run(railyard().args(["completions", "tcsh"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_manual_page_is_roff_and_names_every_subcommand() {
    let output = run(railyard().arg("man"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(starts_with_th(&page), "{}", &page[..page.len().min(200)]);
    for name in SUBCOMMANDS {
        assert!(
            page.contains(&format!("railyard\\-{name}")),
            "the page lacks `{name}`"
        );
    }
    lint(&page);
}

#[test]
fn man_out_writes_a_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("man");
    let output = run(railyard().arg("man").arg("--out").arg(&out));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for name in SUBCOMMANDS {
        let page = std::fs::read_to_string(out.join(format!("railyard-{name}.1")))
            .unwrap_or_else(|e| panic!("`railyard-{name}.1`: {e}"));
        assert!(starts_with_th(&page), "railyard-{name}.1");
    }
    for name in SECRETS_SUBCOMMANDS {
        assert!(
            out.join(format!("railyard-secrets-{name}.1")).is_file(),
            "secrets {name}"
        );
    }
    assert!(out.join("railyard.1").is_file());
}

/// The page's first request is `.TH`, after only the string definitions clap_mangen puts first
/// (`.ie`/`.el`, which define the apostrophe).
fn starts_with_th(page: &str) -> bool {
    page.lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .is_some_and(|l| l.starts_with(".TH "))
}

/// `mandoc -T lint` on the page (an oracle: SKIPPED without it, a failure under
/// `RAILYARD_REQUIRE_ORACLES=1`); errors fail. Its warnings are left
/// alone: they are about clap_mangen's style (`.br` beside `.sp`, a version where a date goes).
fn lint(page: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("railyard.1");
    std::fs::write(&path, page).expect("write");
    let Some(mandoc) = crate::oracles::oracle("mandoc") else {
        return;
    };
    let output = std::process::Command::new(mandoc)
        .args(["-T", "lint", "-W", "error"])
        .arg(&path)
        .output()
        .expect("mandoc runs");
    assert!(
        output.status.success(),
        "mandoc -T lint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
