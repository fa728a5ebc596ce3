//! SSH access: at least one public key, each a valid OpenSSH public key line.

use super::Rules;
use super::pointers::{SSH, SSH_KEY, SSH_KEY_FILE, SSH_KEY_FILES, SSH_KEYS, at};
use crate::load_problem::LoadedFiles;
use crate::source::SourceFile;
use crate::ssh_key;

impl Rules<'_> {
    pub(super) fn ssh(&mut self, files: &LoadedFiles) {
        let inline = self.len(SSH_KEYS);
        let from_files = self.len(SSH_KEY_FILES);
        if inline + from_files == 0 && self.value(SSH).is_some_and(serde_json::Value::is_object) {
            self.out.push(
                self.tree.key_error(SSH, "no SSH public key")
                    .expected("at least one key in `authorizedKeys` or `authorizedKeyFiles`")
                    .hint("add `authorizedKeys: [\"ssh-ed25519 AAAA... you@example.com\"]`; password login is off, so without a key nobody can log in"),
            );
        }
        for i in 0..inline {
            let pointer = at(SSH_KEY, i);
            if let Some(line) = self.str(&pointer) {
                if let Err(why) = ssh_key::parse(line) {
                    self.error(
                        &pointer,
                        format!("invalid SSH public key: {why}"),
                        "an OpenSSH public key line (ed25519, RSA of 2048 bits or more, or ECDSA)",
                        "paste the content of your `~/.ssh/id_ed25519.pub`, never a private key",
                    );
                }
            }
        }
        for i in 0..from_files {
            self.key_file(files, &at(SSH_KEY_FILE, i));
        }
    }

    /// One `authorizedKeyFiles` entry: a safe path to a readable file of public key lines.
    fn key_file(&mut self, files: &LoadedFiles, pointer: &str) {
        let Some(text) = self.str(pointer).map(str::to_owned) else {
            return;
        };
        let Some(path) = self.safe_path(pointer, &text) else {
            return;
        };
        match files.get(path.key()) {
            Some(Ok(file)) => self.key_lines(pointer, &text, file),
            Some(Err(why)) => self.error(
                pointer,
                format!("cannot read SSH key file `{text}`: {why}"),
                "a readable file, relative to the site file",
                "check the path",
            ),
            None => {}
        }
    }

    fn key_lines(&mut self, pointer: &str, path: &str, file: &SourceFile) {
        let lines: Vec<&str> = non_comment_lines(&file.text).collect();
        if lines.is_empty() {
            self.error(
                pointer,
                format!("SSH key file `{path}` holds no key"),
                "one OpenSSH public key per line",
                "point at a `.pub` file",
            );
        }
        for line in lines {
            if let Err(why) = ssh_key::parse(line) {
                self.error(
                    pointer,
                    format!("SSH key file `{path}` holds an invalid public key: {why}"),
                    "OpenSSH public key lines",
                    "point at a `.pub` file, never at a private key",
                );
            }
        }
    }
}

/// The key lines of an `authorized_keys`-style file: trimmed, without blanks and comments.
fn non_comment_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}
