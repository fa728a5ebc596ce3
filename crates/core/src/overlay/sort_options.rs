//! `sortOptions` of the top kustomization: kustomize's legacy order (with its own first and
//! last kinds, if given) or `fifo`, the order the objects were gathered in. Checked as
//! kustomize v5.5.0's `SortOrderTransformer` checks it (`plugin/builtin/sortordertransformer`).

use serde_json::Value as Json;

use super::kustomization::Kustomization;
use super::resource::Resource;
use crate::diagnostic::Diagnostic;

/// The output order the top kustomization asks for.
#[derive(Clone, Debug)]
pub(super) enum SortOrder {
    /// Kinds ranked by these lists (`orderFirst`, `orderLast`), then by group, version, kind,
    /// namespace and name.
    Legacy {
        first: Vec<String>,
        last: Vec<String>,
    },
    /// As gathered: resources in the order listed, generated objects after them.
    Fifo,
}

impl SortOrder {
    /// Puts `resources` in this order.
    pub(super) fn sort(&self, resources: &mut [Resource]) {
        match self {
            SortOrder::Fifo => {}
            SortOrder::Legacy { first, last } => {
                super::order::legacy_with(first, last, resources);
            }
        }
    }

    /// kustomize's default: the legacy order with its built-in lists.
    pub(super) fn default_legacy() -> SortOrder {
        SortOrder::Legacy {
            first: super::order::FIRST
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            last: super::order::LAST.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    /// The order `kustomization` asks for, or why it is refused; without `sortOptions`, the
    /// default.
    pub(super) fn read(kustomization: &Kustomization) -> Result<SortOrder, Vec<Diagnostic>> {
        let options = match kustomization.value("sortOptions") {
            None | Some(Json::Null) => return Ok(SortOrder::default_legacy()),
            Some(Json::Object(options)) => options,
            Some(_) => {
                return Err(vec![
                    kustomization
                        .error("/sortOptions", "`sortOptions` is not a mapping")
                        .expected("`order: legacy` or `order: fifo`")
                        .hint("write `sortOptions: {order: fifo}`"),
                ]);
            }
        };
        let legacy = options.get("legacySortOptions").filter(|v| !v.is_null());
        match options.get("order").and_then(Json::as_str) {
            Some("fifo") if legacy.is_some() => Err(vec![kustomization
                .tree
                .key_error(
                    "/sortOptions/legacySortOptions",
                    "`sortOptions.legacySortOptions` is set but the order is `fifo`, not `legacy`",
                )
                .expected("`legacySortOptions` only with `order: legacy`")
                .hint("remove `legacySortOptions`, or write `order: legacy`")]),
            Some("fifo") => Ok(SortOrder::Fifo),
            Some("legacy") => match legacy {
                None => Ok(SortOrder::default_legacy()),
                Some(lists) => Ok(SortOrder::Legacy {
                    first: kinds(kustomization, lists, "orderFirst")?,
                    last: kinds(kustomization, lists, "orderLast")?,
                }),
            },
            _ => Err(vec![
                kustomization
                    .error(
                        if options.contains_key("order") {
                            "/sortOptions/order"
                        } else {
                            "/sortOptions"
                        },
                        "`sortOptions.order` must be one of `fifo`, `legacy`",
                    )
                    .expected("`fifo` or `legacy`")
                    .hint("write `order: legacy` for kustomize's usual order"),
            ]),
        }
    }
}

/// The kinds listed at `legacySortOptions.<key>` (none when left out, as kustomize reads it).
fn kinds(
    kustomization: &Kustomization,
    lists: &Json,
    key: &str,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    let pointer = format!("/sortOptions/legacySortOptions/{key}");
    let refuse = |pointer: &str| {
        vec![
            kustomization
                .error(pointer, format!("`{key}` is not a list of kinds"))
                .expected("a list of kinds, such as `[Namespace, Deployment]`")
                .hint("write each kind as a plain word"),
        ]
    };
    if !lists.is_object() {
        return Err(refuse("/sortOptions/legacySortOptions"));
    }
    match lists.get(key) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| refuse(&format!("{pointer}/{i}")))
            })
            .collect(),
        Some(_) => Err(refuse(&pointer)),
    }
}
