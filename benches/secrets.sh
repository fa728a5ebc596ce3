#!/usr/bin/env bash
# Encrypt and decrypt of a 20-key Secret: railyard against sops 3.11, side by side in one
# hyperfine run, whole process each. Target (secrets issue): railyard >= 10x faster.
# Needs `sops` on PATH (tests/run.sh installs it into .oracles/venv). Results in
# target/bench/secrets.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
export PATH="$PWD/.oracles/venv/bin:$PATH"
for tool in hyperfine sops age-keygen; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (see tests/run.sh)" >&2; exit 2; }
done
cargo build --release --quiet
bin=$(installed)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SOPS_AGE_KEY_FILE="$PWD/examples/age.key"
recipient=$(age-keygen -y "$SOPS_AGE_KEY_FILE")
{
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: bench\n  namespace: flux-system\nstringData:\n'
  for i in $(seq -w 1 20); do printf '  key_%s: value-%s-%s\n' "$i" "$i" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"; done
} > "$work/plain.yaml"
printf 'creation_rules:\n  - age: %s\n    encrypted_regex: ^(data|stringData)$\n' "$recipient" > "$work/.sops.yaml"
"$bin" secrets encrypt "$work/plain.yaml" > "$work/railyard.sops.yaml"
sops encrypt --input-type yaml --output-type yaml --age "$recipient" --encrypted-regex '^(data|stringData)$' "$work/plain.yaml" > "$work/sops.sops.yaml"
mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
hyperfine --warmup 5 --runs 50 --shell=none --export-json target/bench/secrets.json \
  -n "railyard encrypt" "$bin secrets encrypt $work/plain.yaml" \
  -n "sops encrypt" "sops encrypt --input-type yaml --output-type yaml --age $recipient --encrypted-regex ^(data|stringData)\$ $work/plain.yaml" \
  -n "railyard decrypt" "$bin secrets decrypt $work/sops.sops.yaml" \
  -n "sops decrypt" "sops decrypt --input-type yaml --output-type yaml $work/sops.sops.yaml"
python3 - <<'PY'
import json
results = {r["command"]: r["median"] for r in json.load(open("target/bench/secrets.json"))["results"]}
for op in ("encrypt", "decrypt"):
    ours, theirs = results[f"railyard {op}"], results[f"sops {op}"]
    print(f"{op}: railyard {ours * 1000:.1f} ms, sops {theirs * 1000:.1f} ms (medians): {theirs / ours:.1f}x")
PY
peak "railyard encrypt" "$bin" secrets encrypt "$work/plain.yaml"
peak "sops encrypt" sops encrypt --input-type yaml --output-type yaml --age "$recipient" --encrypted-regex '^(data|stringData)$' "$work/plain.yaml"
peak "railyard decrypt" "$bin" secrets decrypt "$work/sops.sops.yaml"
peak "sops decrypt" sops decrypt --input-type yaml --output-type yaml "$work/sops.sops.yaml"
