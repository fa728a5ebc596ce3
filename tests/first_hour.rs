//! A new user's first hour, driven through the binary: `init` from flags or from answers on a
//! real terminal, `secrets init` cooperating with the `.sops.yaml` that `init` wrote, a
//! scripted `$EDITOR` for `secrets edit`, then `validate`, `render`, `diff` and `commit`, with
//! no step fixed up by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{railyard, root, run, stderr, stdout};

/// The example recipient; `examples/age.key` is its identity.
const RECIPIENT: &str = "age12zqquyfsgvwja58tunhvysddn5ewwj02qnxqnvny3my2fsv6dq8sw684v8";

/// A temporary home with an SSH key pair and no age identity, so nothing of the machine's own
/// user leaks into a test.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".ssh")).expect("mkdir");
        // A real key's public half, as `ssh-keygen` writes it.
        std::fs::write(
            dir.path().join(".ssh/id_ed25519.pub"),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOifjjmm7VBLaCFoYt1z7qzrW2pvu72uf0a2aOL/8uy new@user\n",
        )
        .expect("write key");
        Home { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// `railyard` as this user runs it, in the home directory.
    fn railyard(&self) -> Command {
        let mut command = railyard();
        command
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE");
        command
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = run(self.railyard().args(args));
        assert_eq!(
            out.status.code(),
            Some(0),
            "railyard {args:?}\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }
}

/// The whole path on each provider `init` can target beside Hetzner, each with its default
/// DNS01 solver: a valid site and a commit, with only commands in between.
#[test]
fn a_new_user_reaches_a_commit_with_commands_only() {
    for (provider, location, token_key) in [
        ("digitalocean", "fra1", "digitalocean_token"),
        ("scaleway", "nl-ams-1", "cloudflare_api_token"),
    ] {
        let home = Home::new();
        home.ok(&[
            "init",
            "fleet/site",
            "--name",
            "acme",
            "--provider",
            provider,
            "--location",
            location,
            "--domain",
            "gitpod.acme.dev",
            "--git-url",
            "ssh://git@github.com/acme/fleet.git",
            "--age-recipient",
            RECIPIENT,
            "--yes",
        ]);
        let site = std::fs::read_to_string(home.path("fleet/site/site.yaml")).expect("site");
        assert!(!site.contains("REPLACE"), "{site}");
        assert!(
            site.contains("new@user"),
            "the user's own key is not in:\n{site}"
        );

        // `.sops.yaml` from init names the same recipient: secrets init keeps it.
        let secrets = home.ok(&["secrets", "init", "fleet/site"]);
        assert!(stdout(&secrets).contains("kept"), "{}", stdout(&secrets));

        let editor = write_editor(&home, token_key);
        let key = root().join("examples/age.key");
        let edited = run(home
            .railyard()
            .env("EDITOR", &editor)
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["secrets", "edit", "fleet/site/secrets.sops.yaml"]));
        assert_eq!(edited.status.code(), Some(0), "{}", stderr(&edited));

        home.ok(&["validate", "fleet/site/site.yaml"]);
        home.ok(&["render", "fleet/site/site.yaml", "--out", "fleet/rendered"]);
        home.ok(&["diff", "fleet/site/site.yaml", "--out", "fleet/rendered"]);
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .current_dir(home.path("fleet"))
                .args(args)
                .output()
                .expect("git");
            assert!(out.status.success(), "git {args:?}: {}", stderr_of(&out));
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["config", "user.email", "new@user.example"]);
        git(&["config", "user.name", "New User"]);
        home.ok(&["commit", "fleet/site/site.yaml", "--repo", "fleet"]);
        home.ok(&[
            "diff",
            "fleet/site/site.yaml",
            "--git",
            "HEAD",
            "--repo",
            "fleet",
        ]);
    }
}

/// A script that `secrets edit` runs as `$EDITOR`: it fills in the solver's token.
fn write_editor(home: &Home, key: &str) -> PathBuf {
    let path = home.path("editor.sh");
    std::fs::write(
        &path,
        format!("#!/bin/sh\nsed -i 's/{key}: \"\"/{key}: token-from-the-dns-provider/' \"$1\"\n"),
    )
    .expect("write editor");
    let mut permissions = std::fs::metadata(&path).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).expect("chmod");
    path
}

/// On a terminal, `init` asks for what the flags left out, shows each default, asks again after
/// a bad answer, and takes Enter as the default. `script` gives it a real pseudo-terminal.
#[test]
fn init_asks_on_a_terminal() {
    let home = Home::new();
    let answers = format!("scaleway\nnowhere\nnl-ams-1\ngitpod.acme.dev\n\n\n\n{RECIPIENT}\n");
    let command = format!("{} init asked", env!("CARGO_BIN_EXE_railyard"));
    let mut child = home_command(&home, "script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), answers.as_bytes())
        .expect("answers");
    let out = child.wait_with_output().expect("script ends");
    let transcript = stdout_of(&out);
    assert!(out.status.success(), "{transcript}{}", stderr_of(&out));
    for shown in [
        "cloud provider (hetzner, digitalocean, scaleway, azure) [hetzner]: ",
        "[fr-par-1]: `nowhere`: not a scaleway location",
        "[cloudflare]: ",
        &format!(
            "SSH public key file [{}]: ",
            home.path(".ssh/id_ed25519.pub").display()
        ),
    ] {
        assert!(
            transcript.contains(shown),
            "`{shown}` not in:\n{transcript}"
        );
    }
    let site = std::fs::read_to_string(home.path("asked/site.yaml")).expect("site");
    for written in [
        "provider: scaleway\n",
        "location: nl-ams-1\n",
        "domain: gitpod.acme.dev\n",
        "      cloudflare:\n",
        "new@user",
        RECIPIENT,
    ] {
        assert!(site.contains(written), "`{written}` not in:\n{site}");
    }
}

/// A flag's bad value is an error naming the flag, before anything is written; `secrets init`
/// refuses a `.sops.yaml` or a site that names other recipients than it would encrypt to.
#[test]
fn init_and_secrets_init_refuse_what_would_not_validate() {
    let home = Home::new();
    let wrong = run(home.railyard().args([
        "init",
        "wrong",
        "--provider",
        "digitalocean",
        "--location",
        "nbg1",
        "--yes",
    ]));
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("--location `nbg1`: not a digitalocean location"),
        "{}",
        stderr(&wrong)
    );
    assert!(!home.path("wrong").exists());

    home.ok(&["init", "site", "--age-recipient", RECIPIENT, "--yes"]);
    let other = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let refused = run(home
        .railyard()
        .args(["secrets", "init", "site", "--age", other]));
    assert_eq!(refused.status.code(), Some(2));
    let message = stderr(&refused);
    assert!(
        message.contains(".sops.yaml` encrypts to") && message.contains(other),
        "{message}"
    );
    assert!(!home.path("site/secrets.sops.yaml").exists());
}

fn home_command(home: &Home, program: impl AsRef<Path>) -> Command {
    let mut command = Command::new(program.as_ref());
    command
        .current_dir(home.path(""))
        .env("HOME", home.path(""))
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE");
    command
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
