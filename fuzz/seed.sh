#!/usr/bin/env bash
# Regenerates the committed seed corpora in fuzz/corpus/<target>/ from the project's own cases:
#
#   site     golden/ok/*/site.yaml, golden/err/*/site.yaml, examples/*/site.yaml
#   sops     every *.sops.yaml under examples/, golden/ and tests/, one per distinct content
#   overlay  tests/kustomize/cases/* and tests/kustomize/errors/*, each case's input files
#            joined into one input in the format of `railyard::fuzzing::overlay`:
#            a line `=== PATH` before each file (expected outputs left out)
#
#   bash fuzz/seed.sh
#
# Seeds are named `seed-*`; fuzz/.gitignore keeps every other corpus file out of git.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$root/fuzz/corpus"
cd "$root"

for target in site sops overlay; do
    mkdir -p "$corpus/$target"
    find "$corpus/$target" -maxdepth 1 -type f -name 'seed-*' -delete
done

# `golden/ok/minimal/site.yaml` -> `golden-ok-minimal`.
slug() {
    local path="${1%/*}"
    printf '%s' "${path//\//-}"
}

for site in golden/ok/*/site.yaml golden/err/*/site.yaml examples/*/site.yaml; do
    cp "$site" "$corpus/site/seed-$(slug "$site").yaml"
done

declare -A seen=()
while IFS= read -r file; do
    sum="$(sha256sum "$file" | cut -c1-64)"
    if [[ -z "${seen[$sum]:-}" ]]; then
        seen[$sum]=1
        name="${file%.sops.yaml}"
        cp "$file" "$corpus/sops/seed-${name//\//-}.sops.yaml"
    fi
done < <(find examples golden tests -type f -name '*.sops.yaml' | LC_ALL=C sort)

# One case as one input. A file without a final newline would swallow the next `===` line,
# so those go last (and if there are several, all but the last get a newline).
overlay_input() {
    local case="$1" file
    local -a complete=() open=()
    while IFS= read -r file; do
        case "$file" in
        expected.yaml | expected.txt | kubectl.txt) continue ;;
        esac
        if [[ -s "$case/$file" && "$(tail -c1 "$case/$file" | od -An -tx1 | tr -d ' ')" != "0a" ]]; then
            open+=("$file")
        else
            complete+=("$file")
        fi
    done < <(cd "$case" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
    for file in "${complete[@]}"; do
        printf '=== %s\n' "$file"
        cat "$case/$file"
    done
    local last=$((${#open[@]} - 1)) i
    for i in "${!open[@]}"; do
        printf '=== %s\n' "${open[$i]}"
        cat "$case/${open[$i]}"
        if ((i < last)); then
            printf '\n'
        fi
    done
}

for case in tests/kustomize/cases/* tests/kustomize/errors/*; do
    overlay_input "$case" >"$corpus/overlay/seed-$(slug "$case/x")"
done

for target in site sops overlay; do
    printf '%s: %s seeds\n' "$target" "$(find "$corpus/$target" -maxdepth 1 -name 'seed-*' | wc -l)"
done
