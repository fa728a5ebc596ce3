//! The cloud: provider × size, the provider's locations, and the `sizeData` overrides.

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{
    AUTOSCALER_TOKEN, IMAGE, LOCATION, MANAGER_TYPE, POOLS, PROVIDER, SIZE, WORKER_TYPE, WORKERS,
};
use crate::defaults::{self, ProviderDefaults, SizeDefaults, size_name};
use crate::site::{Provider, Size};
use crate::suggest;

/// Why `large` is Hetzner's only: cluster-autoscaler's DigitalOcean and Scaleway providers drive
/// only their managed Kubernetes (DOKS, Kapsule) and Azure's needs VM scale sets (formats.md
/// "Day-2 components"), while railyard's machines are plain servers.
const LARGE_HINT: &str = "`large` (worker pools autoscaled by cluster-autoscaler) needs `provider: hetzner`: cluster-autoscaler's DigitalOcean and Scaleway providers drive only their managed Kubernetes and Azure's needs VM scale sets; elsewhere use a size listed";

impl Rules<'_> {
    /// Checks provider × size, location, and sizeData.
    pub(super) fn cloud(&mut self) {
        let size: Option<Size> = self
            .value(SIZE)
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let provider: Option<Provider> = self
            .value(PROVIDER)
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        if provider.is_none() && size == Some(Size::Large) {
            self.error(
                SIZE,
                "size `large` is supported on Hetzner only",
                supported(),
                LARGE_HINT,
            );
        }
        let Some(provider) = provider else {
            return;
        };
        let table = defaults::provider(provider);
        self.location(table);
        let Some(size) = size else {
            return;
        };
        match table.size(size) {
            Some(size_defaults) => self.size_data(table, size_defaults),
            None => self.error(
                SIZE,
                format!(
                    "size `{}` is not supported on {}",
                    size_name(size),
                    table.name
                ),
                supported(),
                if size == Size::Large {
                    LARGE_HINT.to_owned()
                } else {
                    format!("choose a size {} supports, or another provider", table.name)
                },
            ),
        }
    }

    fn location(&mut self, table: &ProviderDefaults) {
        let Some(location) = self.str(LOCATION) else {
            return;
        };
        if table.locations.contains(&location) {
            return;
        }
        // A location of another provider is a mix-up of providers, not a typo: a "did you
        // mean" towards a look-alike would send the user further astray.
        if let Some(owner) = defaults::location_owner(location) {
            self.error(
                LOCATION,
                format!(
                    "`{location}` is a {} location, not a {} one",
                    owner.name, table.name
                ),
                format!("one of {}", table.locations.join(", ")),
                format!(
                    "{} locations: {}; or set `provider: {}`",
                    table.name,
                    table.locations.join(", "),
                    owner.name
                ),
            );
            return;
        }
        let hint = suggest::hint(location, table.locations, || {
            format!(
                "valid {} locations: {}",
                table.name,
                table.locations.join(", ")
            )
        });
        self.error(
            LOCATION,
            format!("unknown {} location `{location}`", table.name),
            format!("one of {}", table.locations.join(", ")),
            hint,
        );
    }

    /// The `sizeData` overrides of a supported provider × size.
    fn size_data(&mut self, table: &ProviderDefaults, size: &SizeDefaults) {
        for pointer in [MANAGER_TYPE, WORKER_TYPE] {
            self.server_type(table, size, pointer);
        }
        if size.size == Size::Large {
            self.pools(table, size);
            for pointer in [WORKER_TYPE, WORKERS] {
                self.pools_instead(pointer);
            }
        } else if self.value(POOLS).is_some() && !bootstrapped(table.provider) {
            self.key_error(
                POOLS,
                format!("worker pools are not available on {}", table.name),
                format!("no `pools` on {}", table.name),
                "pools are created by `railyard bootstrap`, which provisions Hetzner, DigitalOcean and Scaleway",
            );
        } else {
            self.pools(table, size);
        }
        if size.size != Size::Large && self.value(AUTOSCALER_TOKEN).is_some() {
            self.key_error(
                AUTOSCALER_TOKEN,
                "`autoscalerToken` is for size `large` only",
                format!("no `autoscalerToken` for size `{}`", size_name(size.size)),
                "autoscaled pools, and the token their autoscaler uses, come with size `large` (Hetzner)",
            );
        }
        if let Some(image) = self.str(IMAGE) {
            if !table.images.contains(&image) {
                self.error(
                    IMAGE,
                    format!("image `{image}` is not supported on {}", table.name),
                    format!("one of {}", table.images.join(", ")),
                    "railyard's cloud-init is tested on these Ubuntu LTS images only",
                );
            }
        }
        self.workers(size);
    }

    /// `large` sizes its workers by pool; the medium-style keys would be silently ignored.
    fn pools_instead(&mut self, pointer: &str) {
        if self.value(pointer).is_some() {
            self.error(
                pointer,
                format!(
                    "size `large` has no `{}`: its workers are in `sizeData.pools`",
                    super::pointers::field(pointer)
                ),
                "a pool's `type` and `count` (or `min` and `max`)",
                "move the value into a pool",
            );
        }
    }

    fn server_type(&mut self, table: &ProviderDefaults, size: &SizeDefaults, pointer: &str) {
        if self.str(pointer).is_some() {
            self.known_server_type_like(table, pointer, size.worker_type);
        }
    }

    /// Reports the server type at `pointer` when the provider does not sell it.
    pub(super) fn known_server_type(&mut self, table: &ProviderDefaults, pointer: &str) {
        let example = table.sizes.first().map_or("", |s| s.worker_type);
        self.known_server_type_like(table, pointer, example);
    }

    fn known_server_type_like(&mut self, table: &ProviderDefaults, pointer: &str, example: &str) {
        let kind = "server type";
        let Some(value) = self.str(pointer) else {
            return;
        };
        if !table.server_types.contains(&value) {
            let hint = suggest::hint(value, table.server_types, || {
                format!(
                    "known {} types: {}",
                    table.name,
                    table.server_types.join(", ")
                )
            });
            self.error(
                pointer,
                format!("unknown {} {kind} `{value}`", table.name),
                format!("an x86 {kind} with at least 4 vCPU such as `{example}`"),
                hint,
            );
        }
    }

    fn workers(&mut self, size: &SizeDefaults) {
        if size.size == Size::Large {
            return;
        }
        let Some(workers) = self.value(WORKERS).and_then(Json::as_u64) else {
            return;
        };
        let name = size_name(size.size);
        match size.worker_range {
            None => self.error(
                WORKERS,
                format!("`{name}` has a fixed worker count"),
                format!("no `workers` (it is {})", size.workers),
                "use size `medium` for more workers",
            ),
            Some((min, max)) if workers < u64::from(min) || workers > u64::from(max) => self.error(
                WORKERS,
                format!("{workers} workers is out of range for `{name}`"),
                format!("{min} to {max}"),
                "the seed's sizing and Hetzner's 100 servers per network (the 3 managers among them) bound this range",
            ),
            Some(_) => {}
        }
    }
}

/// Whether `railyard bootstrap` creates this provider's machines (and so a static pool's).
/// Azure's sites are rendered for machines made by other means (README, provider × size).
fn bootstrapped(provider: Provider) -> bool {
    provider != Provider::Azure
}

fn supported() -> String {
    format!(
        "one of the supported combinations: {}",
        defaults::supported_combinations()
    )
}
