#!/usr/bin/env bash
# A fleet of 1,000 sites: `render --check --all` and `diff --all` against a rendered tree that is
# up to date (the CI gate's common case), timed with hyperfine on a release build.
# Target (git-workflow issue): <= 3 s each on the 2-core reference machine.
# Usage: benches/fleet.sh [N] ; results in target/bench/fleet.json.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
fleet=$(mktemp -d)
trap 'rm -rf "$fleet"' EXIT
python3 benches/make-fleet.py "$count" "$fleet"
bin="$PWD/target/release/railyard"
(cd "$fleet" && "$bin" render --all sites --out rendered 2>&1 | tail -1)
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); $count sites"
cd "$fleet"
hyperfine --warmup 1 --runs 10 --shell=none \
  --export-json "$OLDPWD/target/bench/fleet.json" \
  -n "render --check --all ($count sites)" "$bin render --check --all sites --out rendered" \
  -n "diff --all ($count sites)" "$bin diff --all sites --out rendered"
