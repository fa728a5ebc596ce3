//! The `images` transformer: every container image whose name matches an entry gets the
//! entry's new name, tag or digest.

use serde_json::Value as Json;

use super::super::kustomization::Kustomization;
use super::super::resource::Resource;
use crate::diagnostic::Diagnostic;

pub(in super::super) fn images(
    kustomization: &Kustomization,
    resources: &mut [Resource],
) -> Result<(), Vec<Diagnostic>> {
    let Some(Json::Array(items)) = kustomization.value("images") else {
        return Ok(());
    };
    for (i, item) in items.iter().enumerate() {
        let field = |key: &str| {
            item.get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let name = field("name");
        let pattern = super::super::regex(&format!(
            "^{name}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$"
        ))
        .map_err(|e| {
            vec![kustomization.error(
                &format!("/images/{i}/name"),
                format!("image name `{name}` is not usable: {e}"),
            )]
        })?;
        let change = ImageChange {
            new_name: field("newName"),
            new_tag: match item.get("newTag") {
                Some(Json::String(tag)) => tag.clone(),
                Some(Json::Number(n)) => n.to_string(),
                _ => String::new(),
            },
            digest: field("digest"),
            tag_suffix: field("tagSuffix"),
        };
        for resource in resources
            .iter_mut()
            .filter(|r| r.kind() != "CustomResourceDefinition")
        {
            walk_containers(&mut resource.object, &mut |image: &mut String| {
                if pattern.is_match(image) {
                    *image = change.apply(image);
                }
            });
        }
    }
    Ok(())
}

struct ImageChange {
    new_name: String,
    new_tag: String,
    digest: String,
    tag_suffix: String,
}

impl ImageChange {
    fn apply(&self, image: &str) -> String {
        let (mut name, mut tag, mut digest) = split_image(image);
        if !self.new_name.is_empty() {
            name = self.new_name.clone();
        }
        match (self.new_tag.is_empty(), self.digest.is_empty()) {
            (false, false) => (tag, digest) = (self.new_tag.clone(), self.digest.clone()),
            (false, true) => (tag, digest) = (self.new_tag.clone(), String::new()),
            (true, false) => (tag, digest) = (String::new(), self.digest.clone()),
            (true, true) if !self.tag_suffix.is_empty() => {
                (tag, digest) = (format!("{tag}{}", self.tag_suffix), String::new())
            }
            _ => {}
        }
        let mut out = name;
        if !tag.is_empty() {
            out = format!("{out}:{tag}");
        }
        if !digest.is_empty() {
            out = format!("{out}@{digest}");
        }
        out
    }
}

/// `[host[:port]/]path[:tag][@digest]` into name, tag and digest, as kustomize splits it.
fn split_image(image: &str) -> (String, String, String) {
    let slash = image.find('/').filter(|i| *i > 0).unwrap_or(0);
    let search = &image[slash..];
    let at = search.find('@').map(|i| i + slash);
    let colon = search.find(':').map(|i| i + slash);
    match (colon, at) {
        (None, None) => (image.to_owned(), String::new(), String::new()),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (
            image[..a].to_owned(),
            String::new(),
            image[a + 1..].to_owned(),
        ),
        (Some(c), Some(a)) => (
            image[..c].to_owned(),
            image[c + 1..a].to_owned(),
            image[a + 1..].to_owned(),
        ),
        (Some(c), None) => (
            image[..c].to_owned(),
            image[c + 1..].to_owned(),
            String::new(),
        ),
        (None, Some(_)) => unreachable!("handled above"),
    }
}

/// Every `image` of every item of any `containers` or `initContainers` list, at any depth.
fn walk_containers(node: &mut Json, f: &mut dyn FnMut(&mut String)) {
    match node {
        Json::Object(map) => {
            for (key, value) in map.iter_mut() {
                if (key == "containers" || key == "initContainers") && value.is_array() {
                    for container in value.as_array_mut().expect("checked") {
                        if let Some(Json::String(image)) = container.get_mut("image") {
                            f(image);
                        }
                    }
                } else {
                    walk_containers(value, f);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|i| walk_containers(i, f)),
        _ => {}
    }
}
