#!/usr/bin/env bash
# Whole-process render time of the shipped example, measured with hyperfine on a release build.
# Targets on the 2-core reference machine (performance issue): validate <= 2.5 ms, render of
# fresh output <= 3 ms, render with nothing to do <= 2.5 ms; medium with 97 workers <= 30 ms.
# Usage: benches/render.sh [extra hyperfine args]; results are printed and written to
# target/bench/render.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
cargo build --release --quiet
out=$(mktemp -d)
# Fresh output goes to a RAM filesystem when there is one: on this machine's aged ext4 disk,
# creating the directories and files of one site alone takes several milliseconds under load
# (mkdir and openat, seen with `strace -c`), which measures the disk rather than railyard; the
# disk's figure is its own row.
ram=$out
if [[ -d /dev/shm && -w /dev/shm ]]; then
  ram=$(mktemp -d -p /dev/shm)
fi
trap 'rm -rf "$out" "$ram"' EXIT
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -srm)"
# The process floor beside railyard: a Rust hello-world, built here with the same compiler.
printf 'fn main() { println!("hello"); }\n' > "$out/hello.rs"
rustc -O -o target/bench/hello "$out/hello.rs"
bin=$(installed)
small=examples/hetzner-small/site.yaml
"$bin" render "$small" --out "$ram/same" >/dev/null 2>&1
# hyperfine pairs the --prepare options with the commands in order. A "fresh output" run renders
# into an emptied directory, so every file is written as in a first render; "output unchanged"
# re-renders over identical output (nothing to do: the lock and the files' hashes match).
hyperfine -N --warmup 10 --runs 200 \
  --export-json target/bench/render.json \
  --prepare "rm -rf $ram/fresh" \
  -n "render (fresh output)" "$bin render $small --out $ram/fresh" \
  --prepare "rm -rf $out/fresh" \
  -n "render (fresh output, disk)" "$bin render $small --out $out/fresh" \
  --prepare "rm -rf $ram/fresh" \
  -n "render medium, 97 workers (fresh output)" "$bin render golden/ok/medium-97-workers/site.yaml --out $ram/fresh" \
  --prepare "true" \
  -n "render (output unchanged)" "$bin render $small --out $ram/same" \
  --prepare "true" \
  -n "validate" "$bin validate $small" \
  --prepare "true" \
  --command-name=--version "$bin --version" \
  --prepare "true" \
  -n "hello world (the process floor)" "target/bench/hello" \
  "$@"
rm -rf "$ram/fresh"
peak "render (fresh output)" "$bin" render "$small" --out "$ram/fresh"
rm -rf "$ram/fresh"
peak "render medium, 97 workers (fresh output)" "$bin" render golden/ok/medium-97-workers/site.yaml --out "$ram/fresh"
peak "validate" "$bin" validate "$small"
