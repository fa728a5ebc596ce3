#!/usr/bin/env bash
# Whole-process render time of the shipped example, measured with hyperfine on a release build.
# Target (foundation issue): median <= 20 ms on the 2-core reference machine.
# Usage: benches/render.sh [extra hyperfine args]; results are printed and written to
# target/bench/render.json.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -srm)"
# Each run renders into a fresh directory (the --prepare step empties it), so every file is
# written, as in a first render; a second variant re-renders over identical output.
hyperfine --warmup 5 --runs 100 --shell=none \
  --export-json target/bench/render.json \
  --prepare "rm -rf $out/fresh" \
  -n "render (fresh output)" "target/release/railyard render examples/hetzner-small/site.yaml --out $out/fresh" \
  -n "render (output unchanged)" "target/release/railyard render examples/hetzner-small/site.yaml --out $out/same" \
  -n "validate" "target/release/railyard validate examples/hetzner-small/site.yaml" \
  "$@"
