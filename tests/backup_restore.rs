//! The database backup and the README's restore, for real: a private MariaDB server (Debian's
//! `mariadb-server`; no service, no network: a temporary data directory and a unix socket)
//! holds a small Gitpod-like schema; the dump script is taken from the CronJob the backup
//! golden site renders and run as written, the databases are dropped, the lines between the
//! README's `restore` markers run as written, and the rows are compared with those dumped.
//!
//! What the Pod's network and the S3 bucket do is stood in for: `DB_HOST=localhost` with a
//! `~/.my.cnf` naming the private socket (read after Debian's own, which names the system's),
//! and the dump is a local file: the upload and download (rclone) are not run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use railyard::core::compile::compile;
use railyard::core::json_tree::JsonTree;
use railyard::core::source::SourceFile;
use railyard::core::yaml::parse_stream;
use railyard::edge::load::load;

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

/// The dump script of the backup golden site's rendered CronJob: its first container's
/// `args[0]`, as the cluster would run it.
fn rendered_dump_script() -> String {
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
    let cron = nodes
        .iter()
        .map(|n| JsonTree::new(path, n).value)
        .find(|o| o["kind"] == "CronJob")
        .expect("a CronJob");
    let dump = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(dump["name"], "mysqldump", "{cron}");
    dump["args"][0].as_str().expect("a script").to_owned()
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
    let dumped = server.shell(&rendered_dump_script(), &[("BACKUP_DIR", &backup)]);
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
