//! No rendered user-data runs a downloaded script unchecked: every download goes to a file whose
//! sha256, taken from the defaults table, is checked before the file runs, and nothing is piped
//! from `curl` or `wget` into a shell.
//!
//! The check reads the rendered text (the user-data and the scripts it embeds) as lines: the
//! expected trees of every golden case and example are the renders, as the golden test proves.

use std::path::Path;

use railyard::core::defaults::{PINNED_SCRIPTS, PinnedScript};

use crate::support::{cases, root, snapshot};

/// Why a user-data text fails the rule, one entry a problem; empty when it passes.
fn problems(text: &str, pinned: &[&PinnedScript]) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (number, line) in lines.iter().enumerate() {
        let downloads = line.contains("curl ") || line.contains("wget ");
        if downloads && piped_into_shell(line) {
            found.push(format!(
                "line {}: a download piped into a shell: {line}",
                number + 1
            ));
        }
    }
    for (number, line) in lines.iter().enumerate() {
        if !fetched_here(&lines, number) {
            continue;
        }
        for url in urls(line) {
            let Some(script) = pinned.iter().find(|s| s.url == url) else {
                found.push(format!(
                    "line {}: `{url}` is not a pinned script of the defaults table",
                    number + 1
                ));
                continue;
            };
            found.extend(verified_before_run(&lines, number, script));
        }
    }
    found
}

/// Whether line `number` downloads what it names: a `curl` or `wget` line, or `name="…"`
/// whose `$name` a later `curl` or `wget` line uses. Other addresses (a chart repository in a
/// manifest) are data, not downloads.
fn fetched_here(lines: &[&str], number: usize) -> bool {
    let line = lines[number];
    let downloads = |l: &str| l.contains("curl ") || l.contains("wget ");
    if downloads(line) {
        return true;
    }
    let Some((name, _)) = line.trim().split_once("=\"https://") else {
        return false;
    };
    lines[number..]
        .iter()
        .any(|l| downloads(l) && l.contains(&format!("${name}")))
}

/// `… | sh`, `… | bash`, `… | sudo sh`: a pipe whose next command is a shell.
fn piped_into_shell(line: &str) -> bool {
    line.split('|').skip(1).any(|stage| {
        let words: Vec<&str> = stage
            .split_whitespace()
            .filter(|word| !word.contains('=') && *word != "sudo")
            .collect();
        matches!(
            words.first(),
            Some(&("sh" | "bash" | "dash" | "sh\"" | "bash\""))
        )
    })
}

/// The `https://` addresses a line names (quotes and brackets trimmed).
fn urls(line: &str) -> Vec<&str> {
    line.match_indices("https://")
        .map(|(start, _)| {
            let rest = &line[start..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ']' | ','))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// After the line naming `script`'s address: a `sha256sum -c` of its pinned sum, then (and only
/// then) a line running a shell on the downloaded file.
fn verified_before_run(lines: &[&str], from: usize, script: &PinnedScript) -> Vec<String> {
    let check = lines[from..]
        .iter()
        .position(|line| line.contains(script.sha256) && line.contains("sha256sum -c"))
        .map(|at| at + from);
    let run = lines[from..]
        .iter()
        .position(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| w[0] == "sh" && w[1].starts_with('"'))
        })
        .map(|at| at + from);
    match (check, run) {
        (Some(check), Some(run)) if check < run => Vec::new(),
        (None, _) => vec![format!(
            "line {}: `{}` is downloaded but never checked against sha256 `{}`",
            from + 1,
            script.url,
            script.sha256
        )],
        (Some(_), None) => vec![format!(
            "line {}: `{}` is checked but never run",
            from + 1,
            script.url
        )],
        (Some(_), Some(run)) => vec![format!(
            "line {}: `{}` runs before its sha256 is checked",
            run + 1,
            script.url
        )],
    }
}

/// Every stored rendered user-data file below `golden/`: `(path, text)`.
fn rendered_user_data() -> Vec<(String, String)> {
    let mut trees = Vec::new();
    for family in ["golden/ok", "golden/examples"] {
        for case in cases(&root().join(family)) {
            trees.push(case.join("expected"));
        }
    }
    let mut found = Vec::new();
    for tree in trees {
        for (path, bytes) in snapshot(&tree) {
            if path.starts_with("hosts/") && path.contains("/cloud-init/") {
                let name = Path::new(&tree).join(&path).display().to_string();
                found.push((name, String::from_utf8(bytes).expect("user-data is UTF-8")));
            }
        }
    }
    found
}

#[test]
fn every_rendered_download_is_checked_before_it_runs() {
    let files = rendered_user_data();
    assert!(
        files.len() >= 10,
        "found only {} user-data files",
        files.len()
    );
    for (name, text) in &files {
        let found = problems(text, PINNED_SCRIPTS);
        assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
        assert!(
            text.contains(PINNED_SCRIPTS[0].url),
            "{name} does not install k3s through the pinned script"
        );
    }
}

#[test]
fn the_pins_name_one_revision_and_a_sha256() {
    for script in PINNED_SCRIPTS {
        let commit = script.url.split('/').nth(5).unwrap_or("");
        assert!(
            commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "`{}` names no commit",
            script.url
        );
        assert!(
            script.sha256.len() == 64
                && script
                    .sha256
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "`{}` is not a lowercase sha256",
            script.sha256
        );
    }
}

#[test]
fn the_check_catches_unchecked_downloads() {
    let pinned = PinnedScript {
        url: "https://example.test/install.sh",
        sha256: "00",
    };
    let table: &[&PinnedScript] = &[&pinned];
    let piped = r#"  - [sh, -c, "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1 sh -"]"#;
    assert!(
        problems(piped, table).len() == 2,
        "{:?}",
        problems(piped, table)
    );
    let unchecked = "url=\"https://example.test/install.sh\"\ncurl -o \"$f\" \"$url\"\nsh \"$f\"\n";
    assert_eq!(problems(unchecked, table).len(), 1);
    let late = "url=\"https://example.test/install.sh\"\ncurl -o \"$f\" \"$url\"\nsh \"$f\"\necho \"00  $f\" | sha256sum -c -\n";
    assert_eq!(problems(late, table).len(), 1);
    let good = "url=\"https://example.test/install.sh\"\ncurl -o \"$f\" \"$url\"\necho \"00  $f\" | sha256sum -c -\nsh \"$f\"\n";
    assert!(problems(good, table).is_empty());
    let stray = "curl -o \"$f\" https://example.test/other.sh\n";
    assert_eq!(problems(stray, table).len(), 1);
}
