#!/usr/bin/env bash
# Builds the fuzz targets and runs each one in turn for SECONDS (default 60) on a copy of its
# committed seed corpus, so the repository stays clean. Fails on any crash, timeout or
# out-of-memory; the input that did it is kept in fuzz/artifacts/<target>/. Prints each
# target's executions per second and final corpus size at the end.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]     targets: site sops overlay (default: all)
#   bash fuzz/run.sh --build-only [TARGET...]  build them and stop (tests/run.sh, beside its build)
#
# Needs cargo-fuzz, which it installs from crates.io when missing (`cargo install --locked`).
# Toolchain: nightly when rustup has it; otherwise the default (stable) toolchain with
# RUSTC_BOOTSTRAP=1, which lets stable rustc take the -Z flags cargo-fuzz passes, so a machine
# without nightly, and without the network to fetch it, can still fuzz. RAILYARD_FUZZ_TOOLCHAIN
# names another toolchain (e.g. `stable`, to try that path where nightly is installed).
# One fuzzing process at a time: libFuzzer runs single-process here (no -jobs/-fork).
set -euo pipefail

build_only=
if [[ "${1:-}" == --build-only ]]; then
    build_only=1
    shift
    set -- 60 "$@"
fi
seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
    echo "usage: bash fuzz/run.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(site sops overlay)
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# `cargo "${toolchain[@]}" fuzz ...`: `+nightly`, `+NAME`, or nothing (the default toolchain).
toolchain=()
if [[ -n "${RAILYARD_FUZZ_TOOLCHAIN:-}" ]]; then
    toolchain=("+$RAILYARD_FUZZ_TOOLCHAIN")
elif cargo +nightly --version >/dev/null 2>&1; then
    toolchain=(+nightly)
fi
if [[ "${toolchain[*]}" != +nightly ]]; then
    export RUSTC_BOOTSTRAP=1
    echo "fuzz/run.sh: building with $(cargo "${toolchain[@]}" --version) and RUSTC_BOOTSTRAP=1" >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: cargo-fuzz is missing; installing it from crates.io" >&2
    cargo install cargo-fuzz --locked
fi

# RAILYARD_FUZZ_QUICK=1 (tests/run.sh sets it): an unoptimised build without AddressSanitizer,
# which compiles in a fraction of the time; the code is all safe Rust, and a panic, hang or
# runaway allocation is caught either way. Long runs keep the default, optimised ASan build.
# Line tables only, as cargo-fuzz asks for its release builds: enough for a panic's backtrace,
# and much less for the linker to write into each target.
build_flags=()
if [[ -n "${RAILYARD_FUZZ_QUICK:-}" ]]; then
    build_flags=(--dev --sanitizer none)
    export CARGO_PROFILE_DEV_DEBUG=line-tables-only
fi

started=$SECONDS
for target in "${targets[@]}"; do
    cargo "${toolchain[@]}" fuzz build "${build_flags[@]}" "$target"
done
if [[ -n "$build_only" ]]; then
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/railyard-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failed=0
summary=()
for target in "${targets[@]}"; do
    mkdir -p "$work/$target" "fuzz/artifacts/$target"
    cp -R "fuzz/corpus/$target/." "$work/$target/"
    log="$work/$target.log"
    echo "fuzz/run.sh: fuzzing \`$target\` for ${seconds}s"
    status=0
    cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$target" "$work/$target" -- \
        -max_total_time="$seconds" \
        -max_len=65536 \
        -rss_limit_mb=2048 \
        -timeout=30 \
        -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target/" \
        >"$log" 2>&1 || status=$?
    # `#123 DONE cov: 4567 ft: 8901 corp: 234/56Kb lim: 65536 exec/s: 78 rss: 90Mb`
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE[[:space:]]' "$log" | tail -n1 || true)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)"
    rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)"
    corpus="$(sed -n 's/.* corp: \([0-9]*\/[^ ]*\).*/\1/p' <<<"$done_line")"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
    if ((status != 0)) || [[ -z "$done_line" ]]; then
        failed=1
        echo "fuzz/run.sh: \`$target\` FAILED (exit status $status); the end of its log:" >&2
        tail -n 60 "$log" >&2
        grep -E 'Test unit written to|artifact_prefix' "$log" >&2 || true
        summary+=("$(printf '%-8s FAILED   exit status %s; inputs in fuzz/artifacts/%s/' "$target" "$status" "$target")")
    else
        summary+=("$(printf '%-8s ok       %s execs, %s exec/s, corpus %s (inputs/bytes), cov %s, peak RSS %s MB' \
            "$target" "${execs:-?}" "${rate:-?}" "${corpus:-?}" "${cov:-?}" "${rss:-?}")")
    fi
done

echo
echo "fuzz/run.sh: ${seconds}s per target, $((SECONDS - started))s in all"
printf '%s\n' "${summary[@]}"
exit "$failed"
