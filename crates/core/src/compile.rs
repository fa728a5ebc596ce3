//! The compiler: inputs as values in, a rendered tree and every diagnostic out.
//!
//! parse → schema check → semantic rules → resolve → generate → lock. Nothing here reads a
//! file, the clock or the environment; the edge hands in every byte it may look at.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diagnostic::{self, Diagnostic};
use crate::json_tree::JsonTree;
use crate::load_problem::LoadedFiles;
use crate::rules;
use crate::site::SiteFile;
use crate::source::{SourceFile, Span};
use crate::tree::{LOCK_VERSION, Lock, TOOL, Tree};
use crate::values::{RelativePath, path_key};
use crate::{generate, gitpod_config, model, schema, site_version, user_overlays, yaml};

/// Everything the compiler may read.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The site file, named by its file name (`site.yaml`).
    pub site: SourceFile,
    /// Files the site names (secrets file, SSH key files), keyed by normalised relative path.
    pub files: LoadedFiles,
}

#[derive(Clone, Debug)]
pub struct Output {
    /// The rendered tree, present when there is no error.
    pub tree: Option<Tree>,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// What a site names on disk, for the edge to load before compiling: the files (secrets
/// file, SSH key files) and the user overlay directories (`spec.overlays`), each by
/// normalised relative path. Unsafe paths are left out here and reported by `compile`. One
/// parse of the site file serves both lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub files: Vec<String>,
    pub overlay_dirs: Vec<String>,
}

pub fn named(site: &SourceFile) -> Named {
    let (documents, _) = yaml::parse_stream(site);
    let root = documents.first();
    let safe = |p: &str| RelativePath::parse(p).ok().map(|p| p.key().to_owned());
    Named {
        files: string_at(root, &["spec", "secrets", "file"])
            .into_iter()
            .chain(machine_file_at(root))
            .chain(strings_at(root, &["spec", "ssh", "authorizedKeyFiles"]))
            .filter_map(safe)
            .collect(),
        overlay_dirs: strings_at(root, &["spec", "overlays"])
            .into_iter()
            .filter_map(safe)
            .collect(),
    }
}

/// The site's `metadata.name`, read before compiling, when it is a valid name (so that it can
/// name its lock file): for the edge to find the lock of the site's last render.
pub fn site_name(site: &SourceFile) -> Option<String> {
    const NAME: &[&str] = &["metadata", "name"];
    // the parser's events up to the name, mostly; the whole tree when they cannot tell
    let name = yaml::peek::string_at(&site.text, NAME).or_else(|| {
        let (documents, _) = yaml::parse_stream(site);
        string_at(documents.first(), NAME).map(str::to_owned)
    });
    name.filter(|name| crate::values::DnsLabel::parse(name).is_ok())
}

/// The secrets file a site names, relative to its directory, when it names a safe one.
pub fn secrets_file(site: &SourceFile) -> Option<String> {
    let (documents, _) = yaml::parse_stream(site);
    string_at(documents.first(), &["spec", "secrets", "file"])
        .and_then(|p| RelativePath::parse(p).ok())
        .map(|p| p.key().to_owned())
}

/// The file bootstrap and `machine-data` fill user-data's secrets from, relative to the site's
/// directory, when it is a safe path: the machines' secrets file, or for a `v1alpha1` site
/// (one file for everything) its secrets file.
pub fn machine_secrets_file(site: &SourceFile) -> Option<String> {
    let (documents, _) = yaml::parse_stream(site);
    let root = documents.first();
    machine_file_at(root)
        .or_else(|| string_at(root, &["spec", "secrets", "file"]))
        .and_then(|p| RelativePath::parse(p).ok())
        .map(|p| p.key().to_owned())
}

/// Whether the site keeps the machines' secrets in their own file (see
/// [`crate::site_version::splits_secrets`]), read before compiling.
pub fn splits_secrets(site: &SourceFile) -> bool {
    let (documents, _) = yaml::parse_stream(site);
    crate::site_version::splits_secrets(string_at(documents.first(), &["apiVersion"]))
}

/// The machines' secrets file a site names or implies; none for a `v1alpha1` site.
fn machine_file_at(root: Option<&yaml::Node>) -> Option<&str> {
    if !crate::site_version::splits_secrets(string_at(root, &["apiVersion"])) {
        return None;
    }
    Some(
        string_at(root, &["spec", "secrets", "machineFile"])
            .unwrap_or(crate::defaults::MACHINE_SECRETS_FILE),
    )
}

/// The node at `path` below `root`. Read from the YAML nodes directly: the edge asks before
/// compiling, and a whole JSON tree of a large hostile file is not worth building for two fields.
fn node_at<'a>(root: Option<&'a yaml::Node>, path: &[&str]) -> Option<&'a yaml::Node> {
    path.iter().try_fold(root?, |node, key| node.get(key))
}

/// The string at `path`, when there is one.
fn string_at<'a>(root: Option<&'a yaml::Node>, path: &[&str]) -> Option<&'a str> {
    node_at(root, path).and_then(yaml::Node::as_str)
}

/// The strings of the list at `path`.
fn strings_at<'a>(root: Option<&'a yaml::Node>, path: &[&str]) -> Vec<&'a str> {
    match node_at(root, path).map(|n| &n.value) {
        Some(yaml::Value::Seq(items)) => items.iter().filter_map(yaml::Node::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Validates a site and, when it is valid, renders it.
pub fn compile(inputs: &Inputs) -> Output {
    let (tree, mut diagnostics) = render(inputs);
    let tree = if diagnostic::has_errors(&diagnostics) {
        None
    } else {
        tree
    };
    diagnostic::sort(&mut diagnostics);
    diagnostic::cap(&mut diagnostics);
    Output { tree, diagnostics }
}

/// A site that passed every check, ready to generate.
struct Checked {
    json: JsonTree,
    secrets: Option<crate::secrets_file::SecretsInfo>,
}

/// Parses and checks a site without generating anything: the checked site when no error stops
/// rendering, and every diagnostic either way.
fn check(inputs: &Inputs) -> (Option<Checked>, Vec<Diagnostic>) {
    let site = &inputs.site;
    // After duplicate keys alone the tree is whole, so the checks below still run and report
    // the file's other mistakes in the same run.
    let (documents, mut diagnostics, whole) = yaml::parse_stream_recovering(site);
    if !whole {
        return (None, diagnostics);
    }
    if let Err(mut more) = only_document(site, &documents) {
        diagnostics.append(&mut more);
        return (None, diagnostics);
    }
    // the parsed document is not needed again: its texts move into the JSON
    let root = documents
        .into_iter()
        .next()
        .expect("only_document found one");
    let json = JsonTree::from_node(&site.name, root);
    let skipped = yaml::skipped_keys(&site.text, &diagnostics);
    diagnostics.extend(schema::check(&json).into_iter().filter(|d| {
        !skipped
            .iter()
            .any(|key| d.message == format!("missing required field `{key}`"))
    }));
    diagnostics.extend(site_version::check(&json));
    let layout = match json
        .str_at(rules::pointers::API_VERSION)
        .and_then(site_version::FormatVersion::parse)
    {
        Some(site_version::FormatVersion::V1alpha1) => rules::SecretsLayout::OneFile,
        Some(_) => rules::SecretsLayout::Split,
        None => rules::SecretsLayout::Unknown,
    };
    let (secrets, rule_diagnostics) = rules::check(&json, &inputs.files, layout);
    diagnostics.extend(rule_diagnostics);
    diagnostics.extend(gitpod_config::check(&json));
    if diagnostic::has_errors(&diagnostics) {
        return (None, diagnostics);
    }
    (Some(Checked { json, secrets }), diagnostics)
}

/// Checks a site and tells whether `lock` (the one found in the output directory) records a
/// render of exactly these inputs by this version of railyard, the site's name included. Then
/// rendering again would produce the outputs the lock records, so the edge may skip generation
/// once it has seen that every output still has its recorded hash. The diagnostics are those
/// `compile` would report (warnings included), sorted and capped.
pub fn check_current(inputs: &Inputs, lock: &Lock) -> (Vec<Diagnostic>, bool) {
    let (checked, mut diagnostics) = check(inputs);
    let current = checked.is_some_and(|c| {
        c.json.str_at(rules::pointers::NAME) == Some(lock.site.as_str())
            && lock.lock_version == LOCK_VERSION
            && lock.tool == TOOL
            && lock.inputs == Lock::digests(&input_bytes(inputs))
    });
    diagnostic::sort(&mut diagnostics);
    diagnostic::cap(&mut diagnostics);
    (diagnostics, current)
}

/// Every input the lock records, by name: the site file and each file loaded for it.
fn input_bytes(inputs: &Inputs) -> BTreeMap<String, Vec<u8>> {
    let mut bytes = BTreeMap::new();
    bytes.insert(
        inputs.site.name.clone(),
        inputs.site.text.clone().into_bytes(),
    );
    for (name, file) in &inputs.files {
        if let Ok(file) = file {
            bytes.insert(name.clone(), file.text.clone().into_bytes());
        }
    }
    bytes
}

/// A checked site resolved into the model, ready to generate.
struct Resolved<'a> {
    site: model::Site,
    overlays: Vec<String>,
    secrets_text: &'a str,
}

/// Checks a site and resolves it: the model when checking found no error that stops
/// rendering, and every diagnostic either way.
fn resolve(inputs: &Inputs) -> (Option<Resolved<'_>>, Vec<Diagnostic>) {
    let site = &inputs.site;
    let (checked, mut diagnostics) = check(inputs);
    let Some(Checked { json, secrets }) = checked else {
        return (None, diagnostics);
    };
    // deserialised from the tree itself: no copy of the site's JSON
    let site_file = match SiteFile::deserialize(&json.value) {
        Ok(site_file) => site_file,
        Err(error) => {
            diagnostics.push(Diagnostic::error(&site.name, Span::default(), "", format!("the site does not match railyard's model: {error}")).hint("this is a railyard bug: the schema admitted a site the model cannot hold; please report it"));
            return (None, diagnostics);
        }
    };
    let (Some(secrets), Some(secrets_file)) = (secrets, secrets_source(inputs, &site_file)) else {
        return (None, diagnostics);
    };
    let ssh_keys = ssh_keys(inputs, &site_file);
    let gitpod = gitpod_config::merged(&json.value);
    let overlays = site_file.spec.overlays.clone();
    let resolved = Resolved {
        site: model::resolve(site_file, &secrets, ssh_keys, gitpod),
        overlays,
        secrets_text: &secrets_file.text,
    };
    (Some(resolved), diagnostics)
}

/// Checks a site and renders it: every diagnostic, and the tree when checking found no error
/// that stops rendering. `compile` drops the tree whenever there is an error.
fn render(inputs: &Inputs) -> (Option<Tree>, Vec<Diagnostic>) {
    let (resolved, mut diagnostics) = resolve(inputs);
    let Some(Resolved {
        site,
        overlays,
        secrets_text,
    }) = resolved
    else {
        return (None, diagnostics);
    };
    let mut files = generate::generate(&site, secrets_text);
    if !apply_overlays(&site, &overlays, inputs, &mut files, &mut diagnostics) {
        return (None, diagnostics);
    }
    // after the overlays: the installer Job's name digests the Job they leave (the generator
    // named the Job it wrote)
    if !overlays.is_empty() {
        generate::gitpod::name_job(site.name.as_str(), &mut files);
    }
    let lock = Lock::new(&site.name, &input_bytes(inputs), &files);
    (
        Some(Tree {
            site: site.name.to_string(),
            files,
            lock,
        }),
        diagnostics,
    )
}

/// What `validate` reports: every diagnostic `compile` reports for the same inputs, and when
/// the site is valid, its machines' files.
#[derive(Clone, Debug)]
pub struct Validated {
    pub diagnostics: Vec<Diagnostic>,
    pub hosts: Option<HostFiles>,
}

/// The files below `hosts/<site>/` of a valid site, as `compile` renders them, and the
/// machines its `machines.yaml` holds (as values: nothing reads the file back).
#[derive(Clone, Debug)]
pub struct HostFiles {
    pub site: String,
    pub files: BTreeMap<String, Vec<u8>>,
    pub machines: crate::machines::Machines,
}

/// Checks a site as `compile` does, generating only what a diagnostic or the machines' files
/// can come from: the cluster's files only when user overlays apply to them (their findings
/// are diagnostics), never the installer Job's digest or the lock (decision 0022).
pub fn validate(inputs: &Inputs) -> Validated {
    let (resolved, mut diagnostics) = resolve(inputs);
    let mut hosts = resolved.and_then(|resolved| {
        let site = &resolved.site;
        let mut files = if resolved.overlays.is_empty() {
            generate::hosts(site)
        } else {
            let mut files = generate::generate(site, resolved.secrets_text);
            if !apply_overlays(
                site,
                &resolved.overlays,
                inputs,
                &mut files,
                &mut diagnostics,
            ) {
                return None;
            }
            files
        };
        let dir = format!("{}/", generate::hosts_dir(site));
        files.retain(|path, _| path.starts_with(&dir));
        Some(HostFiles {
            site: site.name.to_string(),
            files,
            machines: generate::machines::machines(site),
        })
    });
    if diagnostic::has_errors(&diagnostics) {
        hosts = None;
    }
    diagnostic::sort(&mut diagnostics);
    diagnostic::cap(&mut diagnostics);
    Validated { diagnostics, hosts }
}

/// `spec.overlays` on the rendered `files`. What they report joins `diagnostics`: warnings
/// (patch targets that match nothing) let the render go on; errors stop it (`false`).
fn apply_overlays(
    resolved: &model::Site,
    overlays: &[String],
    inputs: &Inputs,
    files: &mut BTreeMap<String, Vec<u8>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let cluster_dir = generate::cluster_dir(resolved);
    match user_overlays::apply(&cluster_dir, overlays, &inputs.files, files) {
        Ok(mut warnings) => {
            diagnostics.append(&mut warnings);
            true
        }
        Err(mut problems) => {
            diagnostics.append(&mut problems);
            false
        }
    }
}

/// The site file's one document; an empty file or a second document is an error (a `Vec`, as
/// every diagnostic list is, which keeps the `Err` small).
fn only_document<'a>(
    site: &SourceFile,
    documents: &'a [yaml::Node],
) -> Result<&'a yaml::Node, Vec<Diagnostic>> {
    let diagnostic = match documents {
        [root] => return Ok(root),
        [] => Diagnostic::error(&site.name, Span::default(), "", "the site file is empty")
            .expected("a `kind: Site` document")
            .hint("start from `railyard init`, which writes a commented site file"),
        [_, second, ..] => Diagnostic::error(
            &site.name,
            Span::new(second.span.start, second.span.start),
            "",
            "the site file holds more than one document",
        )
        .expected("exactly one `kind: Site` document")
        .hint("keep one site per file; remove the extra `---` and what follows"),
    };
    Err(vec![diagnostic])
}

fn secrets_source<'a>(inputs: &'a Inputs, site: &SiteFile) -> Option<&'a SourceFile> {
    inputs
        .files
        .get(&path_key(&site.spec.secrets.file))?
        .as_ref()
        .ok()
}

fn ssh_keys(inputs: &Inputs, site: &SiteFile) -> Vec<String> {
    let mut keys = site.spec.ssh.authorized_keys.clone();
    for path in &site.spec.ssh.authorized_key_files {
        if let Some(Ok(file)) = inputs.files.get(&path_key(path)) {
            keys.extend(
                file.text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
    }
    keys
}
