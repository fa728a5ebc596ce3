#!/usr/bin/env bash
# The overlay property test at nightly size: 100,000 random kustomizations (or as many as the
# first argument says) built by railyard and by kustomize's own engine (the krusty oracle,
# tests/krusty, built into .oracles/bin/krusty), from the fixed seed or the second argument.
# The CI run checks the first 1,000 of the same seed; this goes on from there.
#
#   bash tests/overlay_property_nightly.sh [CASES] [SEED]
#
# Needs Go to build the oracle when it is missing (as tests/run.sh builds it). A failure prints
# the reproduction line of each differing case; every case reproduces alone with
# RAILYARD_OVERLAY_PROPERTY_CASE=N (see tests/overlay_property.rs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cases="${1:-100000}"
seed="${2:-}"

if [[ ! -x .oracles/bin/krusty ]]; then
    mkdir -p .oracles/bin
    (cd tests/krusty && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go build -o "$root/.oracles/bin/krusty" .)
fi

export RAILYARD_REQUIRE_ORACLES=1
export RAILYARD_OVERLAY_PROPERTY_CASES="$cases"
if [[ -n "$seed" ]]; then
    export RAILYARD_OVERLAY_PROPERTY_SEED="$seed"
fi
exec cargo test --release --test integration overlay_property -- --nocapture
