# Peak memory of one whole-process run, for BENCHMARKS.md: `peak NAME COMMAND...` runs COMMAND
# once under GNU time and appends {"name", "max_rss_kib", "exit"} to target/bench/peak.jsonl.
# Sourced by the bench scripts; needs /usr/bin/time (Debian package `time`).
peak() {
  local name=$1
  shift
  [[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing (Debian package \`time\`)" >&2; return 2; }
  local stats
  stats=$(mktemp)
  local code=0
  /usr/bin/time -f '%M' -o "$stats" "$@" >/dev/null 2>&1 || code=$?
  mkdir -p "${BENCH_OUT:-target/bench}"
  printf '{"name": "%s", "max_rss_kib": %s, "exit": %s}\n' "$name" "$(tail -1 "$stats")" "$code" \
    >> "${BENCH_OUT:-target/bench}/peak.jsonl"
  rm -f "$stats"
}
