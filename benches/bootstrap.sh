#!/usr/bin/env bash
# Bootstrap of a medium site (3 servers, 10 workers) against the fake Hetzner API with 100 ms
# added to every request, whole process, actions polled on a 500 ms base (young ones every
# quarter base). Target (issue #20): cloud resources in place in at most 5 s, which only
# concurrency reaches: each resource's create and follow-ups run as one chain, the workers
# start once the fixed addresses are held (decision 0025). The same filter runs small
# Scaleway, DigitalOcean and Azure sites against their fakes with the same latency (actions
# take 1 s on the DigitalOcean fake); BENCHMARKS.md has figures for each.
# The fakes live in the test suite, so the measurement is a test that prints its figure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for run in 1 2 3; do
  cargo test --release --quiet --test integration bootstrap_with_latency_converges -- --nocapture 2>&1 |
    grep -E 'bootstrap (medium|scaleway small|digitalocean|azure small)' | sed -e "s/^\.*//" -e "s/^/run $run: /"
done | tee target/bench/bootstrap.txt
