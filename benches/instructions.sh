#!/usr/bin/env bash
# Instruction counts of the single-site commands, under valgrind's callgrind: unlike wall clock
# they repeat on a noisy shared machine, so a regression shows (decision 0022). Each command runs
# once; the count is the whole process's, start-up included. Results go to
# target/bench/instructions.json as {"name": count}; names match benches/render.sh's.
# Usage: benches/instructions.sh [BINARY]   (default target/release/railyard, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is missing (Debian package \`valgrind\`)" >&2; exit 2; }
bin=${1:-}
if [[ -z $bin ]]; then
  cargo build --release --quiet
  bin=target/release/railyard
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p target/bench
results=target/bench/instructions.json
echo "{}" > "$results"

# count NAME COMMAND...: the instructions COMMAND executes, recorded under NAME.
count() {
  local name=$1
  shift
  local log="$out/callgrind.log"
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$@" >/dev/null 2>"$log" || true
  local refs
  refs=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -1)
  [[ -n $refs ]] || { echo "callgrind counted nothing for $name:" >&2; cat "$log" >&2; exit 2; }
  python3 - "$results" "$name" "$refs" <<'PY'
import json, sys
path, name, refs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = json.load(open(path))
data[name] = refs
json.dump(data, open(path, "w"), indent=2)
PY
  printf '%-45s %12s instructions\n' "$name" "$refs"
}

small=examples/hetzner-small/site.yaml
count "validate" "$bin" validate "$small"
count "render (fresh output)" "$bin" render "$small" --out "$out/fresh"
count "render (output unchanged)" "$bin" render "$small" --out "$out/fresh"
count "render --check (output unchanged)" "$bin" render --check "$small" --out "$out/fresh"
count "render medium, 97 workers (fresh output)" "$bin" render golden/ok/medium-97-workers/site.yaml --out "$out/medium"
count "--version" "$bin" --version
