#!/usr/bin/env bash
# Whole-process render time of the shipped example, measured with hyperfine on a release build.
# Targets on the 2-core reference machine: small example median <= 20 ms (foundation issue);
# medium with 97 workers median <= 30 ms (cluster-layer issue).
# Usage: benches/render.sh [extra hyperfine args]; results are printed and written to
# target/bench/render.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -srm)"
# hyperfine pairs the --prepare options with the commands in order. A "fresh output" run renders
# into an emptied directory, so every file is written as in a first render; "output unchanged"
# re-renders over identical output.
hyperfine --warmup 5 --runs 100 --shell=none \
  --export-json target/bench/render.json \
  --prepare "rm -rf $out/fresh" \
  -n "render (fresh output)" "target/release/railyard render examples/hetzner-small/site.yaml --out $out/fresh" \
  --prepare "rm -rf $out/fresh" \
  -n "render medium, 97 workers (fresh output)" "target/release/railyard render golden/ok/medium-97-workers/site.yaml --out $out/fresh" \
  --prepare "true" \
  -n "render (output unchanged)" "target/release/railyard render examples/hetzner-small/site.yaml --out $out/same" \
  --prepare "true" \
  -n "validate" "target/release/railyard validate examples/hetzner-small/site.yaml" \
  "$@"
rm -rf "$out/fresh"
peak "render (fresh output)" target/release/railyard render examples/hetzner-small/site.yaml --out "$out/fresh"
rm -rf "$out/fresh"
peak "render medium, 97 workers (fresh output)" target/release/railyard render golden/ok/medium-97-workers/site.yaml --out "$out/fresh"
peak "validate" target/release/railyard validate examples/hetzner-small/site.yaml
