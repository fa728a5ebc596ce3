#!/usr/bin/env bash
# Regenerates the kustomize differential corpus from the real kustomize (`kubectl kustomize`,
# kustomize v5.5.0):
#
#   cases/<name>/expected.yaml   exact stdout of `kubectl kustomize <build dir>` (must exit 0
#                                and print something, unless the case has a file `EMPTY`)
#   errors/<name>/kubectl.txt    line 1: the first line kubectl prints on stderr (normalized,
#                                see below), line 2: kubectl's exit status
#
# The build dir of a case is its directory, or <case>/<contents of BUILD> when a BUILD file
# exists (a relative path such as `overlays/prod`).
#
# Usage:
#   bash tests/kustomize/regenerate.sh            rewrite every expected file
#   bash tests/kustomize/regenerate.sh --check    rewrite nothing; exit 1 if any file differs
#   bash tests/kustomize/regenerate.sh [--check] NAME...   only the named cases or error cases
#
# Normalization of kubectl.txt line 1 (so the file does not change from run to run or from
# checkout to checkout): the klog header (`E1121 18:45:01.135273    2167 run.go:72] `) is
# dropped; the absolute path of the error case directory is written `$CASE`; Go pointer values
# (`0xc0005388f0`) are written `0xADDR`; when klog prints a multi-line value (`err=<` ... ` >`),
# the value's lines are joined to that first line, each after one space.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
want_version="v5.5.0"

check=0
names=()
for arg in "$@"; do
    case "$arg" in
        --check) check=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        -*)
            echo "regenerate.sh: unknown option $arg" >&2
            exit 2
            ;;
        *) names+=("$arg") ;;
    esac
done

if ! command -v kubectl >/dev/null 2>&1; then
    echo "regenerate.sh: kubectl is not on PATH (kustomize $want_version is needed)" >&2
    exit 2
fi
version="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')"
if [[ "$version" != "$want_version" ]]; then
    echo "regenerate.sh: kubectl bundles kustomize '${version:-unknown}', the corpus is for $want_version" >&2
    exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

failures=0
changed=0
count_cases=0
count_errors=0

build_dir() {
    local dir="$1"
    if [[ -f "$dir/BUILD" ]]; then
        local rel
        rel="$(tr -d '\n' <"$dir/BUILD")"
        printf '%s/%s' "$dir" "$rel"
    else
        printf '%s' "$dir"
    fi
}

# Writes $2 to $1, or in --check mode compares them; counts what changed.
settle() {
    local target="$1" fresh="$2" label="$3"
    if [[ -f "$target" ]] && cmp -s "$target" "$fresh"; then
        return
    fi
    changed=$((changed + 1))
    if ((check)); then
        echo "DIFFERS  $label"
        if [[ -f "$target" ]]; then
            diff -u "$target" "$fresh" | head -40 || true
        else
            echo "         (missing $(basename "$target"))"
        fi
    else
        cp "$fresh" "$target"
        echo "wrote    $label"
    fi
}

selected() {
    local name="$1"
    ((${#names[@]} == 0)) && return 0
    local n
    for n in "${names[@]}"; do
        [[ "$n" == "$name" ]] && return 0
    done
    return 1
}

normalize_stderr() {
    local case_dir="$1" file="$2"
    local first line
    first="$(sed -n '1p' "$file")"
    first="$(printf '%s' "$first" | sed -E 's/^[IWEF][0-9]{4} [0-9:.]+ +[0-9]+ [A-Za-z0-9_.-]+:[0-9]+\] //')"
    if [[ "$first" == *'err=<' ]]; then
        while IFS= read -r line; do
            [[ "$line" == ' >' ]] && break
            first="$first ${line#$'\t'}"
        done < <(sed -n '2,$p' "$file")
    fi
    first="${first//"$case_dir"/\$CASE}"
    printf '%s\n' "$first" | sed -E 's/0x[0-9a-f]{6,}/0xADDR/g'
}

for dir in "$here"/cases/*/; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    selected "$name" || continue
    count_cases=$((count_cases + 1))
    out="$tmp/out.yaml"
    err="$tmp/err.txt"
    status=0
    kubectl kustomize "$(build_dir "$dir")" >"$out" 2>"$err" || status=$?
    if ((status != 0)); then
        echo "FAILED   cases/$name: kubectl kustomize exited $status: $(head -c 400 "$err")" >&2
        failures=$((failures + 1))
        continue
    fi
    # printing nothing is a mistake in a case, except where the case says it is the point
    if [[ ! -s "$out" && ! -f "$dir/EMPTY" ]]; then
        echo "FAILED   cases/$name: kubectl kustomize printed nothing" >&2
        failures=$((failures + 1))
        continue
    fi
    settle "$dir/expected.yaml" "$out" "cases/$name/expected.yaml"
done

for dir in "$here"/errors/*/; do
    dir="${dir%/}"
    name="$(basename "$dir")"
    selected "$name" || continue
    count_errors=$((count_errors + 1))
    err="$tmp/err.txt"
    status=0
    kubectl kustomize "$(build_dir "$dir")" >/dev/null 2>"$err" || status=$?
    record="$tmp/kubectl.txt"
    {
        normalize_stderr "$dir" "$err"
        printf '%s\n' "$status"
    } >"$record"
    settle "$dir/kubectl.txt" "$record" "errors/$name/kubectl.txt"
    if [[ ! -f "$dir/expected.txt" ]]; then
        echo "FAILED   errors/$name: no expected.txt" >&2
        failures=$((failures + 1))
    fi
done

if ((${#names[@]} > 0 && count_cases + count_errors == 0)); then
    echo "regenerate.sh: no case is named ${names[*]}" >&2
    exit 2
fi

if ((check)); then
    echo "$count_cases cases, $count_errors error cases checked: $changed differ, $failures failed"
    ((changed == 0 && failures == 0))
else
    echo "$count_cases cases, $count_errors error cases: $changed written, $failures failed"
    ((failures == 0))
fi
