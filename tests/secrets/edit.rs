//! `secrets edit` keeps the user's work: text it cannot encrypt goes back to the editor with
//! the error on top; only an unchanged copy or an explicit abort ends without writing.

use std::path::{Path, PathBuf};

use super::{example_key, example_secrets, sops_json};
use crate::oracles::oracle;
use crate::support::{railyard, run, stderr};

/// A scripted editor: round N (counted in a file beside it) runs `rounds[N - 1]` on the copy,
/// `$1`; a round with nothing scripted exits 9, which ends the edit as an abort.
fn scripted_editor(dir: &Path, rounds: &[&str]) -> PathBuf {
    let mut script = String::from(
        "#!/bin/sh\nset -e\ncount=\"$(dirname \"$0\")/rounds\"\nn=$(cat \"$count\" 2>/dev/null || echo 0)\nn=$((n + 1))\necho \"$n\" > \"$count\"\ncase \"$n\" in\n",
    );
    for (index, round) in rounds.iter().enumerate() {
        script.push_str(&format!("{}) {round} ;;\n", index + 1));
    }
    script.push_str("*) exit 9 ;;\nesac\n");
    let path = dir.join("editor.sh");
    std::fs::write(&path, script).expect("write the editor");
    path
}

/// Runs `secrets edit` on `file` with `editor`, temporary files under `tmp`; the output and
/// how many rounds the editor ran.
fn edit(file: &Path, editor: &Path, tmp: &Path) -> (std::process::Output, usize) {
    std::fs::create_dir_all(tmp).expect("mkdir");
    let output = run(railyard()
        .env("SOPS_AGE_KEY_FILE", example_key())
        .env("EDITOR", format!("sh {}", editor.display()))
        .env("TMPDIR", tmp)
        .env_remove("VISUAL")
        .args(["secrets", "edit"])
        .arg(file));
    let rounds = std::fs::read_to_string(editor.with_file_name("rounds"))
        .map_or(0, |n| n.trim().parse().expect("a count"));
    let left: Vec<_> = std::fs::read_dir(tmp).expect("tmp").collect();
    assert!(
        left.is_empty(),
        "the private copy was left behind: {left:?}"
    );
    (output, rounds)
}

const BREAK: &str = "sed -i 's/example-cloudflare-token-not-real/bad: value/' \"$1\"";

#[test]
fn invalid_yaml_reopens_the_editor_with_the_error_at_its_line() {
    let (dir, file) = example_secrets();
    // Round 2: the error is on top, names the line the user's text is on, and that text is
    // still there; then the fix.
    let check_and_fix = "head -n 1 \"$1\" | grep -q '^# railyard: line [0-9]*, column 30: .*mapping values' \
        && line=$(head -n 1 \"$1\" | sed 's/^# railyard: line \\([0-9]*\\),.*/\\1/') \
        && sed -n \"${line}p\" \"$1\" | grep -q '^    cloudflare_api_token: bad: value$' \
        && sed -i 's/bad: value/fixed-token/' \"$1\"";
    let editor = scripted_editor(dir.path(), &[BREAK, check_and_fix]);
    let (output, rounds) = edit(&file, &editor, &dir.path().join("tmp"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(rounds, 2);
    assert!(
        stderr(&output).contains("line 11, column 30"),
        "{}",
        stderr(&output)
    );
    let after = std::fs::read_to_string(&file).expect("read");
    assert!(
        !after.contains("# railyard:"),
        "the comment block was kept:\n{after}"
    );
    if let Some(sops) = oracle("sops") {
        let json = sops_json(&sops, &example_key(), &file);
        assert_eq!(json[0]["stringData"]["cloudflare_api_token"], "fixed-token");
    }
}

#[test]
fn an_abort_writes_nothing() {
    let aborts = [
        ("the editor fails", vec![BREAK, "exit 1"]),
        ("the copy is emptied", vec![BREAK, ": > \"$1\""]),
        ("the reopened copy is left as it was", vec![BREAK, "true"]),
        ("the editor fails at once", vec!["exit 3"]),
    ];
    for (label, rounds) in aborts {
        let (dir, file) = example_secrets();
        let before = std::fs::read(&file).expect("read");
        let editor = scripted_editor(dir.path(), &rounds);
        let (output, ran) = edit(&file, &editor, &dir.path().join("tmp"));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{label}: {}",
            stderr(&output)
        );
        assert_eq!(ran, rounds.len(), "{label}");
        assert!(
            stderr(&output).contains("nothing was written"),
            "{label}: {}",
            stderr(&output)
        );
        assert_eq!(std::fs::read(&file).expect("read"), before, "{label}");
    }
}

#[test]
fn an_unchanged_copy_writes_nothing() {
    let (dir, file) = example_secrets();
    let before = std::fs::read(&file).expect("read");
    let editor = scripted_editor(dir.path(), &["true"]);
    let (output, rounds) = edit(&file, &editor, &dir.path().join("tmp"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(rounds, 1);
    assert!(crate::support::stdout(&output).contains("no change"));
    assert_eq!(std::fs::read(&file).expect("read"), before);
}

#[test]
fn text_that_is_not_utf8_reopens_the_editor_too() {
    let (dir, file) = example_secrets();
    let check_and_fix = "head -n 1 \"$1\" | grep -q '^# railyard: line 11, column 28: not UTF-8 text$' \
        && sed -i 's/x\\xffy/utf8-again/' \"$1\"";
    let editor = scripted_editor(
        dir.path(),
        &[
            "sed -i 's/example-cloudflare-token-not-real/x\\xffy/' \"$1\"",
            check_and_fix,
        ],
    );
    let (output, rounds) = edit(&file, &editor, &dir.path().join("tmp"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(rounds, 2);
    if let Some(sops) = oracle("sops") {
        let json = sops_json(&sops, &example_key(), &file);
        assert_eq!(json[0]["stringData"]["cloudflare_api_token"], "utf8-again");
    }
}
