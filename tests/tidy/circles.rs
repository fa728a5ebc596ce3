//! Import circles between sibling modules: `a` → `b` when a file in `a`'s subtree names
//! `crate::<parent>::b` (directly, through a `use`, or as `super::b`), where `a` and `b` are
//! children of the same parent. A child naming its own parent, or a parent its child, is no
//! edge: only siblings can tangle.

use std::collections::{BTreeMap, BTreeSet};

use super::imports::Reference;

pub(crate) type Module = Vec<String>;

/// `from` names `to`; `evidence` is the first place that says so (`file:line: path`).
#[derive(Clone, Debug)]
pub(crate) struct Edge {
    pub(crate) from: Module,
    pub(crate) to: Module,
    pub(crate) evidence: String,
}

/// The sibling edges the references of one file make. `module` is the file's module,
/// `modules` every module of the crate (so `crate::core::Item` is not mistaken for one).
pub(crate) fn edges(
    file: &str,
    module: &[String],
    references: &[Reference],
    modules: &BTreeSet<Module>,
) -> Vec<Edge> {
    let mut found = Vec::new();
    for reference in references.iter().filter(|r| r.starts_with(&["crate"])) {
        let target = &reference.path[1..];
        let common = module
            .iter()
            .zip(target)
            .take_while(|(a, b)| a == b)
            .count();
        if common >= module.len() || common >= target.len() {
            continue;
        }
        let to = target[..=common].to_vec();
        if modules.contains(&to) {
            found.push(Edge {
                from: module[..=common].to_vec(),
                to,
                evidence: format!("{file}:{}: `{}`", reference.line, reference.text()),
            });
        }
    }
    found
}

/// Every strongly connected component of more than one module, each with its edges.
pub(crate) fn circles(edges: &[Edge]) -> Vec<(Vec<Module>, Vec<Edge>)> {
    let mut next: BTreeMap<&Module, BTreeSet<&Module>> = BTreeMap::new();
    for edge in edges {
        next.entry(&edge.from).or_default().insert(&edge.to);
    }
    let reach = |start: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(module) = stack.pop() {
            for to in next.get(&module).into_iter().flatten() {
                if seen.insert((*to).clone()) {
                    stack.push((*to).clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<Module, BTreeSet<Module>> =
        next.keys().map(|m| ((*m).clone(), reach(m))).collect();
    let mut components: BTreeSet<Vec<Module>> = BTreeSet::new();
    for (module, reaches) in &reachable {
        let component: Vec<Module> = reaches
            .iter()
            .filter(|other| reachable.get(*other).is_some_and(|r| r.contains(module)))
            .cloned()
            .collect();
        if component.len() > 1 {
            components.insert(component);
        }
    }
    components
        .into_iter()
        .map(|component| {
            let mut inside: BTreeMap<(Module, Module), Edge> = BTreeMap::new();
            for edge in edges {
                if component.contains(&edge.from) && component.contains(&edge.to) {
                    inside
                        .entry((edge.from.clone(), edge.to.clone()))
                        .or_insert_with(|| edge.clone());
                }
            }
            (component, inside.into_values().collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::imports::names;
    use super::*;

    fn module(path: &str) -> Module {
        path.split("::").map(str::to_owned).collect()
    }

    fn file_edges(file: &str, text: &str, modules: &BTreeSet<Module>) -> Vec<Edge> {
        let module = module(file);
        edges(file, &module, &names(text, &module).paths, modules)
    }

    #[test]
    fn a_circle_is_found_with_its_edges() {
        let modules: BTreeSet<Module> = [
            "core",
            "core::yaml",
            "core::emit",
            "core::tree",
            "core::yaml::node",
        ]
        .into_iter()
        .map(module)
        .collect();
        let mut all = file_edges(
            "core::yaml",
            "use crate::core::{emit, tree::Tree};",
            &modules,
        );
        all.extend(file_edges(
            "core::yaml::node",
            "fn f() { super::super::emit::document(); }",
            &modules,
        ));
        all.extend(file_edges(
            "core::emit",
            "use super::yaml::Node;\nuse crate::core::Item;",
            &modules,
        ));
        all.extend(file_edges("core::tree", "use crate::core;", &modules));
        let found = circles(&all);
        assert_eq!(found.len(), 1, "{found:?}");
        let (members, inside) = &found[0];
        assert_eq!(members, &[module("core::emit"), module("core::yaml")]);
        assert_eq!(inside.len(), 2);
        assert!(inside[1].evidence.contains("core::yaml:1"), "{inside:?}");
    }

    #[test]
    fn a_child_naming_its_parent_is_no_circle() {
        let modules: BTreeSet<Module> = ["core", "core::overlay", "core::overlay::patch"]
            .into_iter()
            .map(module)
            .collect();
        let mut all = file_edges(
            "core::overlay::patch",
            "use super::Files;\nuse crate::core::overlay;",
            &modules,
        );
        all.extend(file_edges(
            "core::overlay",
            "use self::patch::merge;",
            &modules,
        ));
        assert!(all.is_empty(), "{all:?}");
        assert!(circles(&all).is_empty());
    }
}
