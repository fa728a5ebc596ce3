#!/usr/bin/env python3
"""Fails when an instruction count in target/bench/instructions.json is more than 10% above the
figure BENCHMARKS.md (as committed, read from stdin) records for the same command.

Usage: git show HEAD:BENCHMARKS.md | python3 benches/compare.py
Counts repeat on a noisy machine where medians do not, so they are what a regression is judged
by (decision 0022). A command the committed file does not list is new, not a regression."""
import json
import pathlib
import sys

LIMIT = 1.10


def committed(text):
    """{command: instructions} from the `## Instructions` table of a BENCHMARKS.md."""
    counts, inside = {}, False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Instructions"
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if inside and len(cells) >= 2 and cells[1].replace(",", "").isdigit():
            counts[cells[0].strip("`")] = int(cells[1].replace(",", ""))
    return counts


def main():
    before = committed(sys.stdin.read())
    now = json.loads(pathlib.Path("target/bench/instructions.json").read_text())
    worse = []
    for name, count in sorted(now.items()):
        old = before.get(name)
        if old is None:
            print(f"{name}: {count:,} (new)")
            continue
        ratio = count / old
        print(f"{name}: {count:,} against {old:,} committed ({ratio - 1:+.1%})")
        if ratio > LIMIT:
            worse.append(f"{name}: {count:,} instructions, {ratio - 1:+.1%} against {old:,}")
    if worse:
        print("instruction counts regressed by more than 10%:", *worse, sep="\n  ", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
