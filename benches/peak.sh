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

# The release binary as `cargo install` leaves it: a copy in a directory of its own, whose path
# is printed. Timing `target/release/railyard` itself measured up to 0.45 ms more per run here:
# the file the linker just wrote (a hard link into `target/release/deps`) starts slower than a
# copy of the same bytes, which is what users run (decision 0027).
installed() {
  local dir
  dir=$(mktemp -d)
  cp target/release/railyard "$dir/railyard"
  sync "$dir/railyard" 2>/dev/null || true
  echo "$dir/railyard"
}
