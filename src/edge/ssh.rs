//! Reading a file from a new machine over SSH, with the system's OpenSSH client (the user's
//! agent, keys and `~/.ssh/config` apply), waiting until the machine is ready.
//!
//! Host keys are trusted on first use and remembered in railyard's own known-hosts file, so
//! machines that come and go do not clutter the user's.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot run `ssh` (is the OpenSSH client installed?)")]
    Spawn(#[source] std::io::Error),
    #[error("`{host}` did not answer over SSH within {waited:?}; last: {last}")]
    Timeout {
        host: String,
        waited: Duration,
        last: String,
    },
}

/// Where and how to reach a machine.
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    /// Tried in order on every attempt: cloud-init moves sshd from 22 to 2244 while booting.
    pub ports: Vec<u16>,
    pub user: String,
    /// An identity file, when the agent and `~/.ssh/config` are not enough.
    pub identity: Option<PathBuf>,
    pub known_hosts: PathBuf,
}

/// Runs `command` on the target, once; its standard output on success.
pub fn run(target: &Target, port: u16, command: &str) -> Result<Result<String, String>, SshError> {
    let mut ssh = Command::new("ssh");
    ssh.args(["-p", &port.to_string()])
        .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"])
        .args(["-o", "StrictHostKeyChecking=accept-new"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            target.known_hosts.display()
        ))
        .args(["-o", "LogLevel=ERROR"]);
    if let Some(identity) = &target.identity {
        ssh.arg("-i")
            .arg(identity)
            .args(["-o", "IdentitiesOnly=yes"]);
    }
    ssh.arg(format!("{}@{}", target.user, target.host))
        .arg(command);
    let output = ssh.output().map_err(SshError::Spawn)?;
    if output.status.success() {
        Ok(Ok(String::from_utf8_lossy(&output.stdout).into_owned()))
    } else {
        let why = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Ok(Err(if why.is_empty() {
            format!("ssh exited with {}", output.status)
        } else {
            why
        }))
    }
}

/// Runs `command` until it succeeds on one of the target's ports, every `every`, for at most
/// `within`.
pub fn wait_for(
    target: &Target,
    command: &str,
    every: Duration,
    within: Duration,
) -> Result<String, SshError> {
    let started = Instant::now();
    let mut last = String::from("no attempt");
    loop {
        for port in &target.ports {
            match run(target, *port, command)? {
                Ok(out) => return Ok(out),
                Err(why) => last = format!("port {port}: {why}"),
            }
        }
        if started.elapsed() + every > within {
            return Err(SshError::Timeout {
                host: target.host.clone(),
                waited: started.elapsed(),
                last,
            });
        }
        std::thread::sleep(every);
    }
}

/// The host keys `host` offers on `port`, as `known_hosts` lines (`ssh-keyscan`), for a git
/// host Flux will pull from.
pub fn keyscan(host: &str, port: u16) -> Result<String, SshError> {
    let output = Command::new("ssh-keyscan")
        .args(["-T", "10", "-p", &port.to_string(), host])
        .output()
        .map_err(SshError::Spawn)?;
    let lines: String = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    if lines.is_empty() {
        return Err(SshError::Timeout {
            host: format!("{host}:{port}"),
            waited: Duration::from_secs(10),
            last: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(lines)
}
