//! The cloud: provider × size, the provider's locations, and the `sizeData` overrides.

use serde_json::Value as Json;

use super::Rules;
use super::pointers::{IMAGE, LOCATION, MANAGER_TYPE, PROVIDER, SIZE, WORKER_TYPE, WORKERS};
use crate::defaults::{self, ProviderDefaults, SizeDefaults, size_name};
use crate::site::{Provider, Size};
use crate::suggest;

const LARGE_HINT: &str = "`large` (autoscaled workers) is not available for any provider yet; use `medium` with `sizeData.workers`";

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
                "size `large` is not supported by any provider yet",
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

    fn server_type(&mut self, table: &ProviderDefaults, size: &SizeDefaults, pointer: &str) {
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
                format!(
                    "an x86 {kind} with at least 4 vCPU such as `{}`",
                    size.worker_type
                ),
                hint,
            );
        }
    }

    fn workers(&mut self, size: &SizeDefaults) {
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
                "Hetzner spread placement groups and the seed's sizing bound this range",
            ),
            Some(_) => {}
        }
    }
}

fn supported() -> String {
    format!(
        "one of the supported combinations: {}",
        defaults::supported_combinations()
    )
}
