#!/usr/bin/env bash
# Regenerates BENCHMARKS.md: every bench script in one run on this machine, then one report.
#   render.sh   render small and medium (100 workers), validate
#   instructions.sh  callgrind instruction counts of the single-site commands; compared by
#               compare.py with the committed BENCHMARKS.md: more than 10% over fails the run
#   overlay.sh  railyard overlay build vs kubectl kustomize, small and large
#   secrets.sh  railyard secrets vs sops 3.11, encrypt and decrypt
#   fleet.sh    render --all at 100, 1,000 and 10,000 sites; render --check --all and diff --all
#   bootstrap.sh  bootstrap of a medium site against the fake Hetzner API, 100 ms per request
#   hostile.sh  the hostile-input corpus: slowest case and largest peak memory (when present)
# Medians come from hyperfine; peak memory from one run of each command under GNU time.
# Usage: bash benches/all.sh   (about 10 minutes; needs hyperfine, GNU time, kubectl, sops)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.oracles/venv/bin:$PATH"
rm -f target/bench/*.json target/bench/peak.jsonl target/bench/instructions.json target/bench/hostile.txt target/bench/bootstrap.txt
mkdir -p target/bench
bash benches/render.sh
bash benches/instructions.sh target/release/railyard
bash benches/overlay.sh
bash benches/secrets.sh
bash benches/fleet.sh 100 1000 10000
# The bootstrap measurement builds the test suite in release (several minutes on 2 cores);
# RAILYARD_BENCH_SKIP_BOOTSTRAP=1 leaves it out of a quick regeneration.
if [[ -z ${RAILYARD_BENCH_SKIP_BOOTSTRAP:-} ]]; then
  bash benches/bootstrap.sh
fi
if [[ -f benches/hostile.sh ]]; then
  bash benches/hostile.sh | tee target/bench/hostile.txt
fi
# The committed figures, read before BENCHMARKS.md is rewritten; the new file is written even
# when a count regressed, so the regression can be read in it, and the run then fails.
committed=$(git show HEAD:BENCHMARKS.md 2>/dev/null || true)
python3 benches/report.py > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
printf '%s\n' "$committed" | python3 benches/compare.py
