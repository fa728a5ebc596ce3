#!/usr/bin/env bash
# A fleet of sites from benches/make-fleet.py, release build, timed with hyperfine:
#   - `render --all` into an empty output directory at 100, 1,000 and 10,000 sites, with the
#     peak memory of each (the growth must be linear and the memory flat; three points in
#     BENCHMARKS.md); counts over 1,000 take 3 runs and no warmup, the others 5 and 1;
#   - `render --check --all` and `diff --all` at 1,000 sites (the largest count when none is
#     1,000) against an up-to-date output (the CI gate's common case).
# Targets (performance issue): 1,000 sites render in <= 0.5 s and check in <= 0.25 s; 10,000
# render in <= 5 s with peak memory <= 100 MiB.
# The fresh renders are timed twice: on that ext4 filesystem and with the output in RAM
# (/dev/shm), which takes the disk out of the figure.
# Usage: benches/fleet.sh [N...] (default 100 1000 10000); results in
# target/bench/fleet-render.json, target/bench/fleet.json, target/bench/peak.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
counts=("${@:-100 1000 10000}")
read -r -a counts <<<"${counts[*]}"
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
bin=$(installed)
work=$(mktemp -d)
base="" shm=""
# Removes what the run made: the RAM directory, the loop mount, the work directory.
cleanup() {
  [[ -n $shm ]] && rm -rf "$shm"
  if [[ -n $base ]]; then
    umount "$base/fs"
    rm -rf "$base"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
# Each timed render starts from an empty output directory. The previous output is moved aside
# (one rename), not deleted, and the fleet is rendered on a new ext4 filesystem (a sparse
# loop-mounted image) when this runs as root: on an aged filesystem, ext4's allocator pays for
# mass deletions minutes later (recently freed inodes are skipped, and with online discard
# freed blocks stay busy), which showed here as 1.3 s becoming 4.4 s, almost all of it system
# time, when an earlier bench had just deleted 400,000 files. That measures the host's disk
# history, not railyard.
if [[ $(id -u) == 0 ]] && command -v mkfs.ext4 >/dev/null && truncate -s 20G "$work/fs.img" &&
  mkfs.ext4 -q -F -N 4000000 "$work/fs.img" && mkdir -p "$work/fs" &&
  mount -o loop "$work/fs.img" "$work/fs"; then
  base=$work
  work="$base/fs"
  echo "filesystem: a new ext4 filesystem (loop mount) for the fleet"
else
  echo "filesystem: the temporary directory's (not root, or no loop mount)"
fi
mkdir -p "$work/trash"
cat > "$work/aside.sh" <<'SH'
#!/usr/bin/env bash
[[ -e $1 ]] && mv "$1" "$(mktemp -d -p "$2")/"
exit 0
SH
small=() large=()
for count in "${counts[@]}"; do
  python3 benches/make-fleet.py "$count" "$work/fleet-$count"
  args=(--prepare "bash $work/aside.sh $work/fleet-$count/rendered $work/trash"
    -n "render --all ($count sites, fresh output)"
    "$bin render --all $work/fleet-$count/sites --out $work/fleet-$count/rendered")
  if ((count > 1000)); then large+=("${args[@]}"); else small+=("${args[@]}"); fi
done
# One export per run length, merged into fleet-render.json in the order of the counts.
parts=()
# timed LABEL RUNS: the commands gathered in `small` (one warmup, RUNS runs) and in `large`
# (3 runs, no warmup), each group exported to target/bench/LABEL-{small,large}.json, in `parts`.
timed() {
  local label=$1 runs=$2
  if ((${#small[@]})); then
    hyperfine --warmup 1 --runs "$runs" --shell=none --export-json "target/bench/$label-small.json" "${small[@]}"
    parts+=("target/bench/$label-small.json")
  fi
  if ((${#large[@]})); then
    hyperfine --runs 3 --shell=none --export-json "target/bench/$label-large.json" "${large[@]}"
    parts+=("target/bench/$label-large.json")
  fi
}
timed fleet-render 5
# The same renders with the output in RAM (/dev/shm, tmpfs): what railyard itself costs, with
# the disk's file creation (ext4's journal and allocator on a loop device) taken out.
shm=$(mktemp -d -p /dev/shm 2>/dev/null || true)
if [[ -n $shm ]]; then
  small=() large=()
  for count in "${counts[@]}"; do
    args=(--prepare "rm -rf $shm/rendered-$count"
      -n "render --all ($count sites, fresh output, tmpfs)"
      "$bin render --all $work/fleet-$count/sites --out $shm/rendered-$count")
    if ((count > 1000)); then large+=("${args[@]}"); else small+=("${args[@]}"); fi
  done
  timed fleet-shm 10
  rm -rf "$shm"/rendered-*
fi
python3 - "${parts[@]}" <<'PY'
import json, sys
results = [r for part in sys.argv[1:] for r in json.load(open(part))["results"]]
json.dump({"results": results}, open("target/bench/fleet-render.json", "w"), indent=2)
PY
rm -f "${parts[@]}"
for count in "${counts[@]}"; do
  bash "$work/aside.sh" "$work/fleet-$count/rendered" "$work/trash"
  peak "render --all ($count sites, fresh output)" "$bin" render --all "$work/fleet-$count/sites" --out "$work/fleet-$count/rendered"
  if [[ -n $shm ]]; then
    peak "render --all ($count sites, fresh output, tmpfs)" "$bin" render --all "$work/fleet-$count/sites" --out "$shm/rendered-$count"
    rm -rf "$shm/rendered-$count"
  fi
done
largest=${counts[-1]}
for count in "${counts[@]}"; do if ((count == 1000)); then largest=1000; fi; done
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
