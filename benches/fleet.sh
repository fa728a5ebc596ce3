#!/usr/bin/env bash
# A fleet of sites from benches/make-fleet.py, release build, timed with hyperfine:
#   - `render --all` into an empty output directory at 100, 500 and 1,000 sites (the growth
#     must be linear; three points in BENCHMARKS.md);
#   - `render --check --all` and `diff --all` at 1,000 sites against an up-to-date output (the
#     CI gate's common case).
# Targets: hostile-input issue, 1,000 sites render in <= 2 s wall with both cores and peak
# memory <= 300 MB; git-workflow issue, check and diff <= 3 s each.
# Usage: benches/fleet.sh [N...] (default 100 500 1000; the largest is used for check and diff);
# results in target/bench/fleet-render.json, target/bench/fleet.json, target/bench/peak.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
counts=("${@:-100 500 1000}")
read -r -a counts <<<"${counts[*]}"
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
bin="$PWD/target/release/railyard"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
# Each timed render starts from an empty output directory. The previous output is moved aside
# (one rename), not deleted: ext4 avoids reusing inodes deleted a moment ago, so deleting 30,000
# files just before a run makes the next run's file creation pay for it (seen here: 1.2 s
# becomes 3.9 s), which measures the benchmark, not railyard.
#
# ext4 skips inodes freed in the last 30 seconds when it allocates (fs/ext4/ialloc.c,
# `recently_deleted`), so a bench that follows a mass deletion (an earlier run's clean-up, the
# hostile bench) first waits that window out.
sync
sleep 35
mkdir -p "$work/trash"
cat > "$work/aside.sh" <<'SH'
#!/usr/bin/env bash
[[ -e $1 ]] && mv "$1" "$(mktemp -d -p "$2")/"
exit 0
SH
render_args=()
for count in "${counts[@]}"; do
  python3 benches/make-fleet.py "$count" "$work/fleet-$count"
  render_args+=(--prepare "bash $work/aside.sh $work/fleet-$count/rendered $work/trash"
    -n "render --all ($count sites, fresh output)"
    "$bin render --all $work/fleet-$count/sites --out $work/fleet-$count/rendered")
done
hyperfine --warmup 1 --runs 5 --shell=none --export-json target/bench/fleet-render.json "${render_args[@]}"
for count in "${counts[@]}"; do
  bash "$work/aside.sh" "$work/fleet-$count/rendered" "$work/trash"
  peak "render --all ($count sites, fresh output)" "$bin" render --all "$work/fleet-$count/sites" --out "$work/fleet-$count/rendered"
done
largest=${counts[-1]}
fleet="$work/fleet-$largest"
(cd "$fleet" && "$bin" render --all sites --out rendered 2>&1 | tail -1)
cd "$fleet"
hyperfine --warmup 1 --runs 10 --shell=none \
  --export-json "$OLDPWD/target/bench/fleet.json" \
  -n "render --check --all ($largest sites)" "$bin render --check --all sites --out rendered" \
  -n "diff --all ($largest sites)" "$bin diff --all sites --out rendered"
cd "$OLDPWD"
peak "render --check --all ($largest sites)" "$bin" render --check --all "$fleet/sites" --out "$fleet/rendered"
peak "diff --all ($largest sites)" "$bin" diff --all "$fleet/sites" --out "$fleet/rendered"
python3 - "${counts[@]}" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open("target/bench/fleet-render.json"))["results"]}
counts = [int(c) for c in sys.argv[1:]]
base = results[f"render --all ({counts[0]} sites, fresh output)"] / counts[0]
for count in counts:
    median = results[f"render --all ({count} sites, fresh output)"]
    print(f"render --all, {count} sites: median {median:.3f} s, {median / count * 1000:.2f} ms per site "
          f"({median / count / base:.2f}x the per-site time at {counts[0]})")
PY
