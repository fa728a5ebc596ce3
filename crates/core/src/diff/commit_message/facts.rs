//! The facts of one render a commit subject names: component versions and the workers.

use serde_json::Value as Json;

use crate::diff::Files;
use crate::json_tree::JsonTree;
use crate::layout;
use crate::machines::Machines;
use crate::source::SourceFile;
use crate::yaml;

/// What a reader of `git log` most wants to know changed; `None` where the render has none.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Facts {
    k3s: Option<String>,
    flux: Option<String>,
    cert_manager: Option<String>,
    workers: Option<(u32, String)>,
    gitpod: Option<String>,
}

impl Facts {
    pub(super) fn read(site: &str, files: &Files) -> Facts {
        let objects = objects(files);
        let find = |kind: &str, test: &dyn Fn(&Json) -> bool, pointer: &str| {
            objects
                .iter()
                .filter(|o| o.get("kind").and_then(Json::as_str) == Some(kind) && test(o))
                .find_map(|o| o.pointer(pointer).and_then(Json::as_str).map(str::to_owned))
        };
        let named = |name: &'static str| {
            move |o: &Json| o.pointer("/metadata/name").and_then(Json::as_str) == Some(name)
        };
        let installer = |o: &Json| {
            o.pointer("/spec/template/metadata/labels/app.kubernetes.io~1name")
                .and_then(Json::as_str)
                == Some("gitpod-installer")
        };
        Facts {
            k3s: k3s(site, files),
            flux: find("HelmChart", &named("flux2"), "/spec/version"),
            cert_manager: find(
                "HelmRelease",
                &named("cert-manager"),
                "/spec/chart/spec/version",
            ),
            workers: machines(site, files).map(|m| (m.workers.count, m.workers.machine_type)),
            // the installer runs as the first init container; renders before it ran it as
            // the Job's only container
            gitpod: find(
                "Job",
                &installer,
                "/spec/template/spec/initContainers/0/image",
            )
            .or_else(|| find("Job", &installer, "/spec/template/spec/containers/0/image"))
            .map(|image| tag(&image).to_owned()),
        }
    }

    /// The changes from `self` to `new`, most telling first, in plain words.
    pub(super) fn changes(&self, new: &Facts) -> Vec<String> {
        let version = |name: &str, old: &Option<String>, new: &Option<String>| {
            (old != new).then(|| format!("{name} {}", arrow(old.as_deref(), new.as_deref())))
        };
        let mut items: Vec<String> = [
            version("k3s", &self.k3s, &new.k3s),
            version("Flux", &self.flux, &new.flux),
            version("cert-manager", &self.cert_manager, &new.cert_manager),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let (Some((old_count, old_type)), Some((new_count, new_type))) =
            (&self.workers, &new.workers)
        {
            if old_count != new_count {
                let noun = if *old_count == 1 { "worker" } else { "workers" };
                items.push(format!("{old_count} {noun} → {new_count}"));
            }
            if old_type != new_type {
                items.push(format!("worker type {old_type} → {new_type}"));
            }
        }
        items.extend(version("Gitpod installer", &self.gitpod, &new.gitpod));
        items
    }
}

/// `old → new`, without a build suffix both share (`v1.36.2 → v1.36.3` for `+k3s1` on both).
fn arrow(old: Option<&str>, new: Option<&str>) -> String {
    match (old, new) {
        (Some(old), Some(new)) => {
            let suffix = |v: &str| v.find('+').map_or("", |at| &v[at..]).to_owned();
            let shared = suffix(old);
            if !shared.is_empty() && shared == suffix(new) {
                let trim = |v: &str| v[..v.len() - shared.len()].to_owned();
                format!("{} → {}", trim(old), trim(new))
            } else {
                format!("{old} → {new}")
            }
        }
        (None, Some(new)) => format!("{new} added"),
        (Some(old), None) => format!("{old} removed"),
        (None, None) => String::new(),
    }
}

/// The tag of a container image reference (`2023.03.1` of `registry/gitpod/installer:2023.03.1`).
fn tag(image: &str) -> &str {
    let name = image.rsplit('/').next().unwrap_or(image);
    name.split_once(':').map_or(name, |(_, tag)| tag)
}

/// The k3s release the host files install (`INSTALL_K3S_VERSION=` in the servers' cloud-init).
fn k3s(site: &str, files: &Files) -> Option<String> {
    let hosts = format!("{}/", layout::hosts_dir(site));
    files
        .iter()
        .filter(|(path, _)| path.starts_with(&hosts))
        .find_map(|(_, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            let (_, rest) = text.split_once("INSTALL_K3S_VERSION=")?;
            // The install script's line quotes the value.
            let version: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\''))
                .collect();
            (!version.is_empty()).then_some(version)
        })
}

/// The site's `machines.yaml`, typed; `None` when it is missing or not what railyard writes.
fn machines(site: &str, files: &Files) -> Option<Machines> {
    documents(&layout::machines(site), files.get(&layout::machines(site))?)
        .into_iter()
        .next()
        .and_then(|value| serde_json::from_value(value).ok())
}

/// Every YAML document of every rendered YAML file, as JSON.
fn objects(files: &Files) -> Vec<Json> {
    files
        .iter()
        .filter(|(path, _)| path.ends_with(".yaml") || path.ends_with(".yml"))
        .flat_map(|(path, bytes)| documents(path, bytes))
        .collect()
}

fn documents(path: &str, bytes: &[u8]) -> Vec<Json> {
    let text = String::from_utf8_lossy(bytes);
    let (documents, diagnostics) = yaml::parse_stream(&SourceFile::new(path, text.as_ref()));
    if !diagnostics.is_empty() {
        return Vec::new();
    }
    documents
        .iter()
        .map(|document| JsonTree::new(path, document).value)
        .collect()
}
