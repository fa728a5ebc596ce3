//! The database backup and the README's restore, for real: a private MariaDB server (Debian's
//! `mariadb-server`; no service, no network: a temporary data directory and a unix socket)
//! holds a small Gitpod-like schema; the dump script is taken from the CronJob the backup
//! golden site renders and run as written, the databases are dropped, the lines between the
//! README's `restore` markers run as written, and the rows are compared with those dumped.
//!
//! What the Pod's network and the S3 bucket do is stood in for: `DB_HOST=localhost` with a
//! `~/.my.cnf` naming the private socket (read after Debian's own, which names the system's),
//! and the dump is restored from the local file the dump script wrote: the README's download
//! is not run. The rendered upload script runs on its own, with rclone's `local` backend and a
//! directory in place of the S3 bucket, for its copy and its retention.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use railyard::core::compile::compile;
use railyard::core::json_tree::JsonTree;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;
use railyard::edge::load::load;
use serde_json::Value;

use crate::support::root;

/// Rows in two databases, one named with a dash as Gitpod's sessions database is, with text
/// that a careless dump would mangle (quotes, newlines, non-ASCII, NULL).
const SCHEMA: &str = r#"
CREATE DATABASE gitpod;
CREATE TABLE gitpod.d_b_user (
  id CHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, creationDate VARCHAR(255) NOT NULL,
  blocked TINYINT NOT NULL DEFAULT 0, additionalData JSON NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gitpod.d_b_user VALUES
  ('0b6b3f3e-0000-4000-8000-000000000001', 'Zoë O''Brien', '2026-12-07T03:00:00.000Z', 0, '{"emailNotificationSettings": {"allowsChangelogMail": true}}'),
  ('0b6b3f3e-0000-4000-8000-000000000002', 'line\nbreak', '2026-12-07T03:00:01.000Z', 1, NULL);
CREATE TABLE gitpod.d_b_workspace (
  id CHAR(36) PRIMARY KEY, ownerId CHAR(36) NOT NULL, contextURL TEXT NOT NULL,
  config TEXT NOT NULL, deleted TINYINT NOT NULL DEFAULT 0,
  KEY ind_ownerId (ownerId)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO gitpod.d_b_workspace VALUES
  ('ws-1', '0b6b3f3e-0000-4000-8000-000000000001', 'https://github.com/example/repo', 'tasks:\n  - init: make', 0);
CREATE DATABASE `gitpod-sessions`;
CREATE TABLE `gitpod-sessions`.sessions (
  session_id VARCHAR(128) PRIMARY KEY, expires INT UNSIGNED NOT NULL, data MEDIUMTEXT
) ENGINE=InnoDB;
INSERT INTO `gitpod-sessions`.sessions VALUES ('s1', 1796000000, '{"cookie":{}}');
"#;

/// Everything the test reads back, in a fixed order.
const ROWS: &str = "SELECT * FROM gitpod.d_b_user ORDER BY id; \
    SELECT * FROM gitpod.d_b_workspace ORDER BY id; \
    SELECT * FROM `gitpod-sessions`.sessions ORDER BY session_id;";

/// A MariaDB server of the test's own, stopped when dropped.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `None` when Debian's MariaDB is not installed (reported as SKIPPED, or a failure when
    /// oracles are required).
    fn start() -> Option<Server> {
        let (Some(server), Some(install)) = (
            executable("mariadbd", &["/usr/sbin"]),
            executable("mariadb-install-db", &["/usr/bin"]),
        ) else {
            unavailable();
            return None;
        };
        executable("mysql", &[]).or_else(|| {
            unavailable();
            None
        })?;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        // As root, the server runs only with `--user=root`; as anyone else, as that user.
        let user = if is_root() { "root" } else { "" };
        let mut init = Command::new(install);
        init.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if !user.is_empty() {
            init.arg(format!("--user={user}"));
        }
        let output = init.output().expect("mariadb-install-db runs");
        assert!(
            output.status.success(),
            "mariadb-install-db: {}",
            text(&output)
        );
        let socket = dir.path().join("mysqld.sock");
        let mut command = Command::new(server);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                dir.path().join("error.log").display()
            ))
            .arg("--skip-networking");
        if !user.is_empty() {
            command.arg(format!("--user={user}"));
        }
        let child = command.spawn().expect("mariadbd starts");
        // What a client reads after Debian's /etc/mysql/my.cnf: this server's socket.
        std::fs::write(
            dir.path().join(".my.cnf"),
            format!("[client]\nsocket={}\n", socket.display()),
        )
        .expect("write");
        let server = Server { child, dir };
        server.wait_until_ready();
        Some(server)
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let output = self.sql("SELECT 1");
            if output.status.success() {
                return;
            }
            let log =
                std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "mariadbd not ready: {}\n{log}",
                text(&output)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A shell with the environment the CronJob's container and the README's reader have.
    fn shell(&self, script: &str, extra: &[(&str, &Path)]) -> Output {
        let mut command = Command::new("sh");
        command
            .args(["-c", script])
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("DB_HOST", "localhost")
            .env("DB_PASSWORD", "");
        for (name, value) in extra {
            command.env(name, value);
        }
        command.output().expect("sh runs")
    }

    fn sql(&self, statements: &str) -> Output {
        Command::new("mysql")
            .env("HOME", self.dir.path())
            .args([
                "--user=root",
                "--batch",
                "--skip-column-names",
                "-e",
                statements,
            ])
            .output()
            .expect("mysql runs")
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn executable(name: &str, dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn unavailable() {
    assert!(
        std::env::var_os("RAILYARD_REQUIRE_ORACLES").is_none(),
        "Debian's `mariadb-server` is required (RAILYARD_REQUIRE_ORACLES=1) but not installed; \
         `bash tests/run.sh` installs it as root"
    );
    eprintln!(
        "SKIPPED: mariadbd not found; the backup's dump and restore did not run. \
         Install Debian's `mariadb-server`, or run `bash tests/run.sh` as root."
    );
}

/// The CronJob the backup golden site renders.
fn rendered_cron_job() -> Value {
    let site = root().join("golden/ok/feature-database-backup/site.yaml");
    let loaded = load(&site).expect("the site loads");
    let tree = compile(&loaded.inputs).tree.expect("the site compiles");
    let (path, bytes) = tree
        .files
        .iter()
        .find(|(path, _)| path.ends_with("/gitpod/database-backup.yaml"))
        .expect("the backup is rendered");
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let (nodes, diagnostics) = parse_stream(&SourceFile::new(path, text));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    nodes
        .iter()
        .map(|n| JsonTree::new(path, n).value)
        .find(|o| o["kind"] == "CronJob")
        .expect("a CronJob")
}

/// The container of the rendered CronJob's Pod at `list[0]` (`initContainers`: the dump,
/// `containers`: the upload), checked by name.
fn rendered_container(list: &str, name: &str) -> Value {
    let cron = rendered_cron_job();
    let container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"][list][0].clone();
    assert_eq!(container["name"], name, "{cron}");
    container
}

/// A container's script, as the cluster would run it (`sh -c ARGS[0]`).
fn script(container: &Value) -> String {
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    container["args"][0].as_str().expect("a script").to_owned()
}

/// A container's plain environment values (not those from Secrets).
fn plain_env(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_owned(),
                e["value"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// The shell lines between the README's restore markers.
fn readme_restore_lines() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let start = readme
        .find("<!-- restore:begin")
        .expect("a restore:begin marker");
    let end = readme[start..]
        .find("<!-- restore:end -->")
        .expect("a restore:end marker");
    let block = &readme[start..start + end];
    let code = block.split("```sh\n").nth(1).expect("a sh block");
    code.split("```").next().expect("its end").to_owned()
}

#[test]
fn the_rendered_dump_restores_with_the_readme_lines() {
    let Some(server) = Server::start() else {
        return;
    };
    let loaded = server.sql(SCHEMA);
    assert!(loaded.status.success(), "schema: {}", text(&loaded));
    let before = server.sql(ROWS);
    assert!(before.status.success(), "{}", text(&before));
    assert!(text(&before).contains("Zoë O'Brien"), "{}", text(&before));

    let backup = server.dir.path().join("backup");
    std::fs::create_dir(&backup).expect("mkdir");
    let dump_container = rendered_container("initContainers", "mysqldump");
    let dumped = server.shell(&script(&dump_container), &[("BACKUP_DIR", &backup)]);
    assert!(dumped.status.success(), "dump: {}", text(&dumped));
    let dumps: Vec<PathBuf> = std::fs::read_dir(&backup)
        .expect("read")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(dumps.len(), 1, "one file, the compressed dump: {dumps:?}");
    let dump = &dumps[0];
    let name = dump
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(
        name.starts_with("gitpod-") && name.ends_with(".sql.gz"),
        "{name}"
    );

    let dropped = server.sql("DROP DATABASE gitpod; DROP DATABASE `gitpod-sessions`;");
    assert!(dropped.status.success(), "{}", text(&dropped));
    assert!(!server.sql(ROWS).status.success(), "the databases are gone");

    let restored = server.shell(&readme_restore_lines(), &[("DUMP", dump)]);
    assert!(restored.status.success(), "restore: {}", text(&restored));
    let after = server.sql(ROWS);
    assert!(after.status.success(), "{}", text(&after));
    assert_eq!(text(&after), text(&before));
    assert!(
        !server.dir.path().join("restore.cnf").exists(),
        "the README's option file is removed"
    );
}

/// The rendered upload against a local directory standing in for the bucket (rclone's `local`
/// backend instead of `s3`, everything else as rendered): the new dump is copied, a dump older
/// than the retention is deleted, a younger one and anything not a dump are kept.
#[test]
fn the_rendered_upload_copies_the_dump_and_keeps_the_retention() {
    let Some(rclone) = executable("rclone", &[]) else {
        assert!(
            std::env::var_os("RAILYARD_REQUIRE_ORACLES").is_none(),
            "`rclone` is required (RAILYARD_REQUIRE_ORACLES=1); `bash tests/run.sh` installs it"
        );
        eprintln!("SKIPPED: rclone not found; the backup's upload did not run (Debian `rclone`)");
        return;
    };
    let upload = rendered_container("containers", "upload");
    let env = plain_env(&upload);
    let keep_days: u64 = env["KEEP_DAYS"].parse().expect("a number of days");
    let destination = &env["BACKUP_DESTINATION"];
    let bucket_path = destination
        .strip_prefix("backup:")
        .expect("the remote `backup`");

    let dir = tempfile::tempdir().expect("tempdir");
    let scratch = dir.path().join("scratch");
    let bucket = dir.path().join(bucket_path);
    std::fs::create_dir_all(&scratch).expect("mkdir");
    std::fs::create_dir_all(&bucket).expect("mkdir");
    std::fs::write(scratch.join("gitpod-20261207-030000.sql.gz"), "new").expect("write");
    let day = Duration::from_secs(24 * 3600);
    let aged = |name: &str, age: Duration| {
        let file = std::fs::File::create(bucket.join(name)).expect("create");
        file.set_modified(std::time::SystemTime::now() - age)
            .expect("mtime");
    };
    aged(
        "gitpod-20261120-030000.sql.gz",
        day * (u32::try_from(keep_days).expect("days") + 1),
    );
    aged("gitpod-20261206-030000.sql.gz", day);
    aged("notes.txt", day * 30);

    let mut command = Command::new("sh");
    command
        .args(["-c", &script(&upload)])
        .current_dir(dir.path())
        .env("PATH", path_with(&rclone))
        .env("HOME", dir.path())
        .env("RCLONE_CONFIG", dir.path().join("rclone.conf"))
        .env("RCLONE_CONFIG_BACKUP_TYPE", "local");
    for (name, value) in &env {
        if !name.starts_with("RCLONE_CONFIG_") {
            command.env(name, value);
        }
    }
    command.env("BACKUP_DIR", &scratch);
    let output = command.output().expect("sh runs");
    assert!(output.status.success(), "upload: {}", text(&output));

    let mut kept: Vec<String> = std::fs::read_dir(&bucket)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "gitpod-20261206-030000.sql.gz",
            "gitpod-20261207-030000.sql.gz",
            "notes.txt"
        ]
    );
}

/// `PATH` with the directory of `tool` first.
fn path_with(tool: &Path) -> std::ffi::OsString {
    let dir = tool.parent().expect("a directory").to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).expect("a PATH")
}
