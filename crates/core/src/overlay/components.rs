//! `components:`: each entry a directory whose `kind: Component` kustomization runs on the
//! objects its parent has gathered so far (resources and generated objects), as kustomize v5's
//! `accumulateComponents` does, before the parent's own transformers.

use super::kustomization::{FILE_NAMES, Kustomization};
use super::resource::Resource;
use super::{Engine, join};
use crate::diagnostic::Diagnostic;

impl Engine<'_> {
    /// Runs the kustomization's components in order, each on everything gathered before it.
    pub(super) fn components(
        &mut self,
        kustomization: &Kustomization,
        mut resources: Vec<Resource>,
    ) -> Result<Vec<Resource>, Vec<Diagnostic>> {
        for (entry, pointer) in kustomization.strings("components") {
            let component = self.load_component(kustomization, &entry, &pointer)?;
            resources = self.accumulate(&component, resources)?;
        }
        Ok(resources)
    }

    /// The Component one `components` entry names, checked: a directory inside the root with
    /// a kustomization file of `kind: Component`.
    fn load_component(
        &mut self,
        kustomization: &Kustomization,
        entry: &str,
        pointer: &str,
    ) -> Result<Kustomization, Vec<Diagnostic>> {
        let at = || kustomization.error(pointer, "");
        let refuse = |message: String, expected: &str, hint: &str| {
            vec![Diagnostic { message, ..at() }.expected(expected).hint(hint)]
        };
        if super::remote::is_remote(entry) {
            return Err(refuse(
                format!("remote component `{entry}` is not supported"),
                "a directory path",
                "vendor the remote component into the repository",
            ));
        }
        let path = self
            .locate(&kustomization.dir, entry, false)
            .map_err(|why| {
                refuse(
                    why.to_string(),
                    "a path relative to the kustomization, inside the overlay root",
                    "copy the component into the overlay directory; railyard reads nothing outside it",
                )
            })?;
        if !self.files.is_dir(&path) {
            return Err(refuse(
                format!("component `{entry}` is not a directory"),
                "a directory holding a kustomization of `kind: Component`",
                "a component is a directory; list resource files under the component's `resources:`",
            ));
        }
        if !FILE_NAMES
            .iter()
            .any(|name| self.files.is_file(&join(&path, name)))
        {
            return Err(refuse(
                format!("directory `{entry}` holds no kustomization"),
                "a directory holding a kustomization of `kind: Component`",
                "add a kustomization.yaml with `kind: Component` to it",
            ));
        }
        self.check_can_enter(&path, Some(at()))?;
        self.kustomizations += 1;
        let component = self.load_kustomization(&path)?;
        if !component.is_component() {
            return Err(refuse(
                format!("`{entry}` is a Kustomization, not a Component"),
                "a kustomization of `kind: Component` (apiVersion `kustomize.config.k8s.io/v1alpha1`)",
                "list a Kustomization under `resources:`, or make it a Component",
            ));
        }
        Ok(component)
    }
}
