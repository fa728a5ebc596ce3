#!/usr/bin/env bash
# Every hostile input (tests/hostile/: the generated cases and the hand-written ones) run once
# with the release binary under GNU time: wall time and peak resident memory per case, then the
# maximum and median, each checked against the issue's targets (under 1 s, under 200 MB).
# Exits 1 when a case misses a target or does not end in the error its `expect` file names.
#
#   bash benches/hostile.sh            # builds the release binary first
#   BIN=path/to/railyard bash benches/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TIME=/usr/bin/time
if ! "$TIME" -f '%e' true 2>/dev/null; then
  echo "GNU time is missing: apt-get install time" >&2
  exit 2
fi
if [[ -z "${BIN:-}" ]]; then
  cargo build --release --quiet
  BIN="$PWD/target/release/railyard"
fi
MAX_SECONDS=1
MAX_KB=$((200 * 1000))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/hostile/generate.py "$work/generated" >/dev/null
export SOPS_AGE_KEY_FILE="$PWD/examples/age.key" NO_COLOR=1
unset SOPS_AGE_KEY

results="$work/results"
: >"$results"
failures=0
shopt -s nullglob
for dir in "$work"/generated/*/ tests/hostile/cases/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  command=$(sed -n 's/^command: //p' "$dir/expect")
  want_exit=$(sed -n 's/^exit: //p' "$dir/expect")
  stdin=/dev/null
  [[ -f "$dir/stdin" ]] && stdin="$dir/stdin"
  # shellcheck disable=SC2086 # the command is words
  (cd "$dir" && "$TIME" -f '%e %M' -o "$work/time" timeout -s KILL 20 "$BIN" $command <"$stdin" >"$work/out" 2>"$work/err") && status=0 || status=$?
  # GNU time writes "Command exited with non-zero status N" before the figures
  read -r seconds kb < <(tail -n 1 "$work/time") || { seconds=99; kb=0; }
  verdict=ok
  if [[ "$status" != "$want_exit" ]]; then
    verdict="exit $status, expected $want_exit"
  elif ! grep -Eq '[^[:space:]]+:[0-9]+:[0-9]+' "$work/err"; then
    verdict="no file:line:column in the error"
  elif awk -v s="$seconds" -v m="$MAX_SECONDS" 'BEGIN { exit !(s >= m) }'; then
    verdict="${seconds} s"
  elif ((kb >= MAX_KB)); then
    verdict="${kb} KB"
  fi
  [[ "$verdict" == ok ]] || failures=$((failures + 1))
  printf '%s %s %s %s\n' "$seconds" "$kb" "$name" "$verdict" >>"$results"
done

printf '%-44s %8s %10s  %s\n' case seconds 'peak KB' verdict
sort -k1,1nr -k2,2nr "$results" | while read -r seconds kb name verdict; do
  printf '%-44s %8s %10s  %s\n' "$name" "$seconds" "$kb" "$verdict"
done
count=$(wc -l <"$results")
sort -n -k1,1 "$results" | awk -v n="$count" '
  { t[NR] = $1; if ($1 > tmax) tmax = $1; if ($2 > kmax) kmax = $2 }
  END {
    median = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
    printf "\n%d cases: wall time max %.2f s, median %.2f s; peak RSS max %.1f MB (targets: < 1 s, < 200 MB)\n", n, tmax, median, kmax / 1000
  }'
if ((failures > 0)); then
  echo "$failures case(s) missed a target or ended wrongly" >&2
  exit 1
fi
