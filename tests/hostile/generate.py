#!/usr/bin/env python3
"""Writes the generated half of railyard's hostile-input corpus into OUT (default
tests/hostile/generated/): alias bombs, deep nesting, huge files, long lines, many documents,
keys and list entries, overlays that loop or multiply, SOPS files that do the same, and broken
encodings. Deterministic: no randomness, the same bytes on every run.

Each case is a directory holding its input files and an `expect` file:

    command: validate site.yaml        (run from inside the case directory)
    exit: 1                            (1 for findings; 2 where the command reports an error)
    at: site.yaml                      (the location printed: FILE, FILE:LINE or FILE:LINE:COLUMN)
    message: nesting is too deep       (words the output must contain; repeatable)

`tests/hostile.rs` runs every case with a time and memory cap; `benches/hostile.sh` times them.
"""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MINIMAL = os.path.join(ROOT, "golden", "ok", "minimal")
MIB = 1 << 20

with open(os.path.join(MINIMAL, "site.yaml"), encoding="utf-8") as f:
    SITE = f.read()
with open(os.path.join(MINIMAL, "secrets.sops.yaml"), encoding="utf-8") as f:
    SECRETS = f.read()

CASES = []


def case(name, command, at, *messages, exit=1):
    """Registers a case; the decorated function returns {relative path: str or bytes}."""

    def register(make):
        CASES.append((name, command, exit, at, messages, make))
        return make

    return register


def site(replace_from=None, replace_to=None, extra=""):
    """The minimal valid site, with one substitution and text appended to `spec`."""
    text = SITE if replace_from is None else SITE.replace(replace_from, replace_to, 1)
    return text + extra


def with_secrets(files):
    files.setdefault("secrets.sops.yaml", SECRETS)
    return files


def ladder(width, depth, flow=True):
    """A billion-laughs document: each anchor repeats the previous one `width` times."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, depth + 1):
        items = ", ".join([f"*a{i - 1}"] * width)
        lines.append(f"a{i}: &a{i} [{items}]")
    return "\n".join(lines) + "\n"


def ladder_block(width, depth):
    lines = ["a0: &a0"] + ["  - lol"] * width
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i}")
        lines += [f"  - *a{i - 1}"] * width
    return "\n".join(lines) + "\n"


def ladder_map(width, depth):
    lines = ["a0: &a0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"]
    for i in range(1, depth + 1):
        items = ", ".join(f"k{j}: *a{i - 1}" for j in range(width))
        lines.append(f"a{i}: &a{i} {{{items}}}")
    return "\n".join(lines) + "\n"


def kustomization(text):
    return {"dir/kustomization.yaml": text}


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: app\n        image: nginx:1.25\n"
)

# --- alias bombs ------------------------------------------------------------------------------

for width, depth in [(2, 20), (3, 12), (5, 8), (10, 6), (10, 9), (100, 3), (1000, 2), (40, 4)]:

    @case(f"alias-bomb-flow-{width}x{depth}", "validate site.yaml", "site.yaml",
          "too many nodes", "at most 100000 nodes")
    def _(width=width, depth=depth):
        return with_secrets({"site.yaml": ladder(width, depth)})


for width, depth in [(10, 6), (4, 10)]:

    @case(f"alias-bomb-block-{width}x{depth}", "validate site.yaml", "site.yaml",
          "too many nodes")
    def _(width=width, depth=depth):
        return with_secrets({"site.yaml": ladder_block(width, depth)})


@case("alias-bomb-mappings", "validate site.yaml", "site.yaml", "too many nodes")
def _():
    return with_secrets({"site.yaml": ladder_map(10, 6)})


@case("alias-bomb-nested-anchors", "validate site.yaml", "site.yaml", "too many nodes")
def _():
    # every level anchored: each anchor keeps a copy of everything below it
    text = "".join(f"{' ' * i}l{i}: &n{i}\n" for i in range(60))
    text += " " * 60 + "v: [" + ", ".join(["x"] * 40000) + "]\n"
    return with_secrets({"site.yaml": text})


@case("alias-bomb-in-spec", "validate site.yaml", "site.yaml", "too many nodes")
def _():
    bomb = ladder(10, 6).replace("\n", "\n    ")
    return with_secrets({"site.yaml": site(extra="  x:\n    " + bomb)})


@case("alias-bomb-secrets-file", "validate site.yaml", "secrets.sops.yaml", "too many nodes")
def _():
    return {"site.yaml": site(), "secrets.sops.yaml": SECRETS + ladder(10, 6)}


@case("alias-bomb-kustomization", "overlay build dir", "dir/kustomization.yaml",
      "too many nodes")
def _():
    return kustomization("resources: []\n" + ladder(10, 6))


@case("alias-bomb-resource", "overlay build dir", "dir/bomb.yaml", "too many nodes")
def _():
    files = kustomization("resources:\n- bomb.yaml\n")
    files["dir/bomb.yaml"] = CONFIGMAP.format(name="c") + "".join(
        f"  {line}\n" for line in ladder(10, 6).splitlines())
    return files


@case("alias-bomb-sops", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml",
      "too many nodes", exit=2)
def _():
    return {"secrets.sops.yaml": ladder(10, 6) + SECRETS}


@case("alias-bomb-site-overlay", "validate site.yaml", "overlays/x/kustomization.yaml",
      "too many nodes")
def _():
    return with_secrets({
        "site.yaml": site(extra="  overlays:\n    - overlays/x\n"),
        "overlays/x/kustomization.yaml": "resources: []\n" + ladder(10, 6),
    })


# --- deep nesting ---------------------------------------------------------------------------------

# the document's root is level 0, so 65 brackets are the first too many
for depth in [66, 100, 1000, 100000]:

    @case(f"deep-flow-lists-{depth}", "validate site.yaml", "site.yaml", "nesting is too deep")
    def _(depth=depth):
        return {"site.yaml": "[" * depth + "]" * depth + "\n"}

    @case(f"deep-flow-maps-{depth}", "validate site.yaml", "site.yaml", "nesting is too deep")
    def _(depth=depth):
        return {"site.yaml": "{a: " * depth + "x" + "}" * depth + "\n"}

    @case(f"deep-block-lists-{depth}", "validate site.yaml", "site.yaml", "too deep")
    def _(depth=depth):
        return {"site.yaml": "- " * depth + "x\n"}


for depth in [66, 300, 1000]:

    @case(f"deep-block-maps-{depth}", "validate site.yaml", "site.yaml", "nesting is too deep")
    def _(depth=depth):
        return {"site.yaml": "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v\n"}


@case("deep-mixed", "validate site.yaml", "site.yaml", "nesting is too deep")
def _():
    return {"site.yaml": "a: " + "[{b: " * 40 + "x" + "}]" * 40 + "\n"}


@case("deep-in-spec", "validate site.yaml", "site.yaml", "nesting is too deep")
def _():
    return with_secrets({"site.yaml": site(extra="  x: " + "[" * 70 + "]" * 70 + "\n")})


@case("deep-resource", "overlay build dir", "dir/deep.yaml", "nesting is too deep")
def _():
    files = kustomization("resources:\n- deep.yaml\n")
    files["dir/deep.yaml"] = CONFIGMAP.format(name="c") + "  deep: " + "[" * 500 + "]" * 500 + "\n"
    return files


@case("deep-sops", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml",
      "nesting is too deep", exit=2)
def _():
    return {"secrets.sops.yaml": "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n" + SECRETS}


# --- huge files and scalars -------------------------------------------------------------------

@case("huge-site-2mib", "validate site.yaml", "site.yaml:1:1", "file is too large")
def _():
    return {"site.yaml": "a: " + "x" * (2 * MIB) + "\n"}


@case("huge-site-one-byte-over", "validate site.yaml", "site.yaml:1:1", "file is too large",
      "at most 1048576 bytes")
def _():
    text = "# padding\n" + "x: " + "y" * (MIB - 13) + "\n"
    assert len(text) == MIB + 1
    return {"site.yaml": text}


@case("huge-scalar-under-limit", "validate site.yaml", "site.yaml", "unknown field")
def _():
    # the largest scalar the size limit lets through is still only an ordinary error
    return with_secrets({"site.yaml": site(extra="  blob: " + "x" * (MIB - 2000) + "\n")})


@case("huge-secrets-file", "validate site.yaml", "site.yaml", "larger than 1048576 bytes")
def _():
    return {"site.yaml": site(), "secrets.sops.yaml": SECRETS + "#" * (2 * MIB) + "\n"}


@case("huge-ssh-key-file", "validate site.yaml", "site.yaml", "larger than 1048576 bytes")
def _():
    files = with_secrets({"site.yaml": site(
        "    authorizedKeys:",
        "    authorizedKeyFiles: [big.pub]\n    authorizedKeys:")})
    files["big.pub"] = "ssh-ed25519 " + "A" * (2 * MIB) + "\n"
    return files


@case("huge-kustomization", "overlay build dir", "dir/kustomization.yaml",
      "larger than 1048576 bytes")
def _():
    return kustomization("resources: []\n# " + "x" * (2 * MIB) + "\n")


@case("huge-resource", "overlay build dir", "dir/big.yaml", "larger than 1048576 bytes")
def _():
    files = kustomization("resources:\n- big.yaml\n")
    files["dir/big.yaml"] = CONFIGMAP.format(name="c") + "  big: " + "x" * (2 * MIB) + "\n"
    return files


@case("huge-generator-file", "overlay build dir", "dir/kustomization.yaml",
      "larger than 1048576 bytes")
def _():
    files = kustomization("configMapGenerator:\n- name: c\n  files:\n  - big.bin\n")
    files["dir/big.bin"] = b"\0" * (2 * MIB)
    return files


@case("huge-env-file", "overlay build dir", "dir/kustomization.yaml", "larger than 1048576 bytes")
def _():
    files = kustomization("configMapGenerator:\n- name: c\n  envs:\n  - big.env\n")
    files["dir/big.env"] = "".join(f"K{i}=v\n" for i in range(300000))
    return files


@case("huge-patch-file", "overlay build dir", "dir/kustomization.yaml", "larger than 1048576 bytes")
def _():
    files = kustomization("resources:\n- c.yaml\npatches:\n- path: big.yaml\n")
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    files["dir/big.yaml"] = CONFIGMAP.format(name="c") + "  big: " + "x" * (2 * MIB) + "\n"
    return files


@case("huge-sops", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml:1:1",
      "larger than 1048576 bytes", exit=2)
def _():
    return {"secrets.sops.yaml": SECRETS + "#" * (2 * MIB) + "\n"}


@case("huge-overlay-file", "validate site.yaml", "site.yaml", "larger than 1048576 bytes")
def _():
    return with_secrets({
        "site.yaml": site(extra="  overlays:\n    - overlays/x\n"),
        "overlays/x/kustomization.yaml": "resources: []\n#" + "x" * (2 * MIB) + "\n",
    })


@case("huge-overlay-total", "overlay build dir", "dir/r4.yaml", "more than 4194304 bytes")
def _():
    files = kustomization("resources:\n" + "".join(f"- r{i}.yaml\n" for i in range(6)))
    for i in range(6):
        files[f"dir/r{i}.yaml"] = CONFIGMAP.format(name=f"c{i}") + "  pad: " + "x" * 900000 + "\n"
    return files


@case("huge-overlay-base-reread", "overlay build dir", "dir", "more than 4194304 bytes")
def _():
    # the same 900 KB base under twelve prefixes: each build reads it again
    files = kustomization("resources:\n" + "".join(f"- p{i}\n" for i in range(12)))
    for i in range(12):
        files[f"dir/p{i}/kustomization.yaml"] = f"namePrefix: p{i}-\nresources:\n- ../base\n"
    files["dir/base/kustomization.yaml"] = "resources:\n- c.yaml\n"
    files["dir/base/c.yaml"] = CONFIGMAP.format(name="c") + "  pad: " + "x" * 900000 + "\n"
    return files


# --- long lines -----------------------------------------------------------------------------------

@case("long-line-unknown-field", "validate site.yaml", "site.yaml", "unknown field")
def _():
    return with_secrets({"site.yaml": site(extra="  blob: [" + ", ".join(["x"] * 30000) + "]\n")})


@case("long-line-syntax-error-at-end", "validate site.yaml", "site.yaml:2:1", "invalid YAML")
def _():
    return {"site.yaml": "a: [" + "x, " * 90000 + "\n"}


@case("long-line-many-errors", "validate site.yaml", "site.yaml:1:", "duplicate key",
      "too many problems")
def _():
    return {"site.yaml": "{" + ", ".join(["a: 1"] * 150000) + "}\n"}


@case("long-explicit-key", "validate site.yaml", "site.yaml", "key paths are too long")
def _():
    return {"site.yaml": "? " + "k" * 900000 + "\n: [" + ", ".join(["x"] * 30000) + "]\n"}


@case("long-site-name", "validate site.yaml", "site.yaml", "not a DNS label")
def _():
    return with_secrets({"site.yaml": site("name: golden", "name: " + "g" * 900000)})


@case("long-domain", "validate site.yaml", "site.yaml", "domain")
def _():
    return with_secrets({"site.yaml": site("domain: gitpod.example.com",
                                            "domain: " + "a." * 400000 + "com")})


@case("long-json6902-path", "overlay build dir", "dir/kustomization.yaml", "levels deep")
def _():
    files = kustomization(
        "resources:\n- c.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |\n"
        "    - op: add\n      path: " + "/a" * 200000 + "\n      value: 1\n")
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


# --- many documents ----------------------------------------------------------------------------

@case("many-documents-site", "validate site.yaml", "site.yaml:4:1", "more than one document")
def _():
    return {"site.yaml": "---\na: 1\n" * 10000}


@case("many-empty-documents-site", "validate site.yaml", "site.yaml", "more than one document")
def _():
    return {"site.yaml": SITE + "---\n" * 10000 + "a: 1\n"}


@case("many-documents-resource", "overlay build dir", "dir/r.yaml", "a resource without",
      "more problems")
def _():
    files = kustomization("resources:\n- r.yaml\n")
    files["dir/r.yaml"] = "---\na: 1\n" * 10000
    return files


@case("many-objects", "overlay build dir", "dir/kustomization.yaml", "too many objects")
def _():
    files = kustomization("resources:\n- a.yaml\n- b.yaml\n")
    for part in "ab":
        files[f"dir/{part}.yaml"] = "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {part}{i}\n"
            for i in range(6000))
    return files


@case("many-documents-sops", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml",
      "too many nodes", exit=2)
def _():
    return {"secrets.sops.yaml": SECRETS + "---\na: [1, 2, 3, 4]\n" * 30000}


# --- huge lists and numbers -----------------------------------------------------------------------

def sized(workers):
    return site("size: small", f"size: medium\n  sizeData:\n    workers: {workers}")


for name, value, words in [
    ("workers-100000", "100000", ["out of range", "3 to 97"]),
    ("workers-1e400", "1e400", ["workers"]),
    ("workers-huge-integer", "9" * 400000, ["workers"]),
    ("workers-negative", "-100000", ["workers"]),
    ("workers-hex", "0xffffffffffffffffff", ["workers"]),
]:

    @case(name, "validate site.yaml", "site.yaml", *words)
    def _(value=value):
        return with_secrets({"site.yaml": sized(value)})


@case("list-100000-entries", "validate site.yaml", "site.yaml", "too many nodes")
def _():
    return with_secrets({"site.yaml": site(
        "    authorizedKeys:", "    authorizedKeys:\n" + "      - x\n" * 100000 + "    x:")})


@case("list-30000-bad-keys", "validate site.yaml", "site.yaml", "invalid SSH public key",
      "more problems")
def _():
    return with_secrets({"site.yaml": site(
        "    authorizedKeys:", "    authorizedKeys:\n" + "      - ssh-ed25519 AAAA\n" * 30000 + "    x:")})


@case("list-30000-bad-cidrs", "validate site.yaml", "site.yaml", "CIDR", "more problems")
def _():
    return with_secrets({"site.yaml": site(extra="  firewall:\n    adminCidrs:\n"
                                            + "      - 300.0.0.0/99\n" * 30000)})


@case("list-30000-wrong-types", "validate site.yaml", "site.yaml", "more problems")
def _():
    return with_secrets({"site.yaml": site(
        "    authorizedKeys:", "    authorizedKeys:\n" + "      - 1\n" * 30000 + "    x:")})


@case("list-10000-overlays", "validate site.yaml", "site.yaml", "too many overlays")
def _():
    return with_secrets({"site.yaml": site(extra="  overlays:\n"
                                            + "".join(f"    - o{i}\n" for i in range(10000)))})


@case("list-10000-key-files", "validate site.yaml", "site.yaml", "more problems")
def _():
    keys = "".join(f"      - k{i}.pub\n" for i in range(10000))
    return with_secrets({"site.yaml": site(
        "    authorizedKeys:", "    authorizedKeyFiles:\n" + keys + "    authorizedKeys:")})


# --- many keys ---------------------------------------------------------------------------------

@case("keys-100000-distinct", "validate site.yaml", "site.yaml", "too many nodes")
def _():
    return {"site.yaml": "".join(f"k{i}: 1\n" for i in range(100000))}


@case("keys-40000-unknown", "validate site.yaml", "site.yaml", "unknown field", "more problems")
def _():
    return with_secrets({"site.yaml": site(extra="".join(f"  k{i}: 1\n" for i in range(40000)))})


@case("keys-200000-duplicates", "validate site.yaml", "site.yaml:2:1", "duplicate key",
      "too many problems")
def _():
    return {"site.yaml": "a: 1\n" * 200000}


@case("keys-duplicates-far-from-first", "validate site.yaml", "site.yaml", "duplicate key")
def _():
    return {"site.yaml": "# " + "x" * 500000 + "\na: 1\n" + "a: 2\n" * 100000}


@case("keys-gitpod-config", "validate site.yaml", "site.yaml", "gitpod")
def _():
    keys = "".join(f"      k{i}: 1\n" for i in range(30000))
    return with_secrets({"site.yaml": site(
        "  gitpod:\n", "  gitpod:\n    config:\n" + keys)})


@case("keys-long-paths", "validate site.yaml", "site.yaml", "key paths are too long")
def _():
    text = "".join(" " * i + f"k{i}" + "x" * 300 + ":\n" for i in range(60))
    return {"site.yaml": text + " " * 60 + "v: [" + ", ".join(["x"] * 90000) + "]\n"}


# --- overlays that loop, nest or multiply ---------------------------------------------------------

@case("overlay-diamond-40", "overlay build dir", "dir/d", "kustomizations")
def _():
    files = {}
    for i in range(40):
        files[f"dir/d{i}/kustomization.yaml"] = (
            f"resources:\n- ../d{i + 1}\n- ../d{i + 1}/\n" if i < 39 else "resources: []\n")
    files["dir/kustomization.yaml"] = "resources:\n- d0\n"
    return files


@case("overlay-chain-100", "overlay build dir", "dir/", "bases are nested too deeply")
def _():
    files = {"dir/kustomization.yaml": "resources:\n- c0\n"}
    for i in range(100):
        files[f"dir/c{i}/kustomization.yaml"] = (
            f"resources:\n- ../c{i + 1}\n" if i < 99 else "resources: []\n")
    return files


@case("overlay-fan-out-600", "overlay build dir", "dir/kustomization.yaml",
      "too many kustomizations")
def _():
    files = {"dir/kustomization.yaml": "resources:\n" + "".join(f"- b{i}\n" for i in range(600))}
    for i in range(600):
        files[f"dir/b{i}/kustomization.yaml"] = "resources: []\n"
    return files


@case("overlay-cycle-20", "overlay build dir", "dir/", "include each other")
def _():
    files = {"dir/kustomization.yaml": "resources:\n- c0\n"}
    for i in range(20):
        files[f"dir/c{i}/kustomization.yaml"] = f"resources:\n- ../c{(i + 1) % 20}\n"
    return files


@case("overlay-site-5000-files", "validate site.yaml", "site.yaml",
      "holds more than 1000 files and directories")
def _():
    files = with_secrets({
        "site.yaml": site(extra="  overlays:\n    - overlays/x\n"),
        "overlays/x/kustomization.yaml": "resources: []\n",
    })
    for i in range(5000):
        files[f"overlays/x/junk/f{i:04}.txt"] = "x\n"
    return files


@case("overlay-site-45000-missing-resources", "validate site.yaml",
      "overlays/x/kustomization.yaml", "does not exist", "more problems")
def _():
    files = with_secrets({
        "site.yaml": site(extra="  overlays:\n    - overlays/x\n"),
        "overlays/x/kustomization.yaml": "resources:\n"
        + "".join(f"- r{i}\n" for i in range(45000)),
    })
    for i in range(990):
        files[f"overlays/x/junk/f{i:03}.txt"] = "x\n"
    return files


@case("overlay-prefix-amplified", "overlay build dir", "dir/", "too long")
def _():
    # a 300-byte prefix at each of eight levels, over one object
    files = {"dir/kustomization.yaml": "resources:\n- l0\n"}
    for i in range(8):
        nxt = f"../l{i + 1}" if i < 7 else "c.yaml"
        files[f"dir/l{i}/kustomization.yaml"] = (
            "namePrefix: " + "p" * 300 + f"-\nresources:\n- {nxt}\n")
    files["dir/l7/c.yaml"] = CONFIGMAP.format(name="c")
    return files


@case("overlay-labels-amplified", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    files = kustomization("resources:\n- d.yaml\ncommonLabels:\n  big: \""
                          + "v" * 900000 + "\"\n")
    files["dir/d.yaml"] = "".join(
        "---\n" + DEPLOYMENT.format(name=f"d{i}") for i in range(200))
    return files


@case("overlay-json6902-copy-doubling", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    ops = "".join(f"    - op: copy\n      from: /data\n      path: /data/c{i}\n" for i in range(40))
    files = kustomization("resources:\n- c.yaml\npatches:\n- target:\n    kind: ConfigMap\n"
                          "  patch: |\n" + ops)
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


@case("overlay-json6902-deepening", "overlay build dir", "dir/kustomization.yaml",
      "levels deep")
def _():
    deep = "/a" * 60
    ops = "".join(f"    - op: copy\n      from: /data\n      path: /data{deep}/x{i}\n"
                  for i in range(40))
    # `add` needs an existing parent (as in kustomize), so the 60 levels come as one value
    nested = '{"a": ' * 59 + "{}" + "}" * 59
    files = kustomization("resources:\n- c.yaml\npatches:\n- target:\n    kind: ConfigMap\n"
                          "  patch: |\n    - op: add\n      path: /data/a\n      value: "
                          + nested + "\n" + ops)
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


@case("overlay-patches-times-objects", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    patch = "- target:\n    kind: ConfigMap\n  patch: |\n    data:\n      extra: \"1\"\n"
    files = kustomization("resources:\n- c.yaml\npatches:\n" + patch * 3000)
    files["dir/c.yaml"] = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(5000))
    return files


@case("overlay-merge-list-quadratic", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    # a keyed list merged into another: each patch entry is looked for among all the others
    head = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n"
            "  template:\n    spec:\n      containers:\n")
    files = kustomization("resources:\n- d.yaml\npatches:\n- path: p.yaml\n")
    files["dir/d.yaml"] = head + "".join(f"      - name: c{i}\n" for i in range(12000))
    files["dir/p.yaml"] = head + "".join(f"      - name: x{i}\n" for i in range(12000))
    return files


@case("overlay-regex-too-big", "overlay build dir", "dir/kustomization.yaml",
      "regular expression")
def _():
    files = kustomization("resources:\n- c.yaml\npatches:\n- target:\n    kind: ConfigMap\n"
                          "    name: \"(\\\\w{100}){100}\"\n  patch: |\n    data: {x: y}\n")
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


# A patch whose target matches nothing is skipped, as kustomize skips it; a last patch naming
# a missing object ends the build with a located error once the hostile part has run.
MISSING_OBJECT_PATCH = ("- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n"
                        "    metadata:\n      name: missing\n    data: {x: y}\n")


@case("overlay-many-regexes", "overlay build dir", "dir/kustomization.yaml",
      "matches no resource")
def _():
    patch = "- target:\n    name: \"[a-z]{1,50}x{1,50}\"\n  patch: |\n    data: {x: y}\n"
    files = kustomization("resources:\n- c.yaml\npatches:\n" + patch * 5000
                          + MISSING_OBJECT_PATCH)
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


@case("overlay-images-times-objects", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    images = "".join(f"- name: img{i}\n  newTag: v{i}\n" for i in range(3000))
    files = kustomization("resources:\n- d.yaml\nimages:\n" + images)
    files["dir/d.yaml"] = "".join("---\n" + DEPLOYMENT.format(name=f"d{i}") for i in range(3000))
    return files


@case("overlay-generator-50000-literals", "overlay build dir", "dir/kustomization.yaml",
      "twice")
def _():
    literals = "".join(f"  - k{i}=v\n" for i in range(50000))
    return kustomization("configMapGenerator:\n- name: c\n  literals:\n" + literals
                         + "  - k0=again\n")


@case("overlay-generators-times-objects", "overlay build dir", "dir/kustomization.yaml",
      "too many steps")
def _():
    gens = "".join(f"- name: g{i}\n  behavior: merge\n  literals: [a=b]\n" for i in range(9000))
    files = kustomization("resources:\n- c.yaml\nconfigMapGenerator:\n" + gens)
    files["dir/c.yaml"] = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g{i}\n" for i in range(5000))
    return files


@case("overlay-name-too-long", "overlay build dir", "dir/c.yaml", "too long")
def _():
    files = kustomization("resources:\n- c.yaml\n")
    files["dir/c.yaml"] = CONFIGMAP.format(name="n" * 500000)
    return files


@case("overlay-replicas-huge", "overlay build dir", "dir/kustomization.yaml", "integer `count`")
def _():
    files = kustomization("resources:\n- d.yaml\nreplicas:\n- name: d\n  count: 1e400\n")
    files["dir/d.yaml"] = DEPLOYMENT.format(name="d")
    return files


@case("overlay-label-selector-huge", "overlay build dir", "dir/kustomization.yaml",
      "matches no resource")
def _():
    selector = ",".join(f"k{i}=v" for i in range(50000))
    files = kustomization("resources:\n- c.yaml\npatches:\n- target:\n    labelSelector: \""
                          + selector + "\"\n  patch: |\n    data: {x: y}\n"
                          + MISSING_OBJECT_PATCH)
    files["dir/c.yaml"] = CONFIGMAP.format(name="c")
    return files


# --- SOPS files -----------------------------------------------------------------------------------

@case("sops-100000-comments", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml",
      "duplicate key", exit=2)
def _():
    body = "".join(f"    # c{i}\n    k{i}: v\n" for i in range(20000))
    return {"secrets.sops.yaml": "stringData:\n" + body + "stringData: {}\n" + SECRETS}


@case("sops-not-utf8", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml:3:",
      "not UTF-8", exit=2)
def _():
    return {"secrets.sops.yaml": b"apiVersion: v1\nkind: Secret\nstringData: {a: \xff\xfe}\n"}


@case("sops-nul-byte", "secrets decrypt secrets.sops.yaml", "secrets.sops.yaml:2:",
      "YAML", exit=2)
def _():
    return {"secrets.sops.yaml": "apiVersion: v1\nkind: Sec\0ret\n"}


@case("sops-stdin-too-large", "secrets decrypt -", "standard input:1:1",
      "larger than 1048576 bytes", exit=2)
def _():
    return {"stdin": "a: " + "x" * (2 * MIB) + "\n"}


# --- encodings ----------------------------------------------------------------------------------

for name, data, at in [
    ("utf8-invalid-first-byte", b"\xff" + SITE.encode(), "site.yaml:1:1"),
    ("utf8-invalid-line-5", SITE.encode().replace(b"spec:", b"sp\xc3\x28c:"), "site.yaml:5:3"),
    ("utf8-overlong", SITE.encode().replace(b"golden", b"gold\xc0\xafn"), "site.yaml:4:"),
    ("utf8-surrogate", SITE.encode().replace(b"golden", b"\xed\xa0\x80golden"), "site.yaml:4:"),
    ("utf8-truncated-at-end", SITE.encode() + b"\xe2\x82", "site.yaml:"),
    ("latin1", SITE.encode().replace(b"admin@", b"caf\xe9@"), "site.yaml:"),
    ("utf16", SITE.encode("utf-16"), "site.yaml:1:1"),
]:

    @case(name, "validate site.yaml", at, "not UTF-8 text")
    def _(data=data):
        return with_secrets({"site.yaml": data})


@case("nul-byte-in-value", "validate site.yaml", "site.yaml:4:", "invalid YAML")
def _():
    return with_secrets({"site.yaml": SITE.replace("golden", "gol\0den")})


@case("bom-in-the-middle", "validate site.yaml", "site.yaml", "YAML")
def _():
    return with_secrets({"site.yaml": SITE.replace("spec:", "\ufeffspec:")})


@case("crlf-with-error", "validate site.yaml", "site.yaml:4:9", "site name")
def _():
    return with_secrets({"site.yaml": SITE.replace("name: golden", "name: Golden!")
                         .replace("\n", "\r\n")})


@case("control-characters", "validate site.yaml", "site.yaml:4:9", "not a DNS label")
def _():
    return with_secrets({"site.yaml": SITE.replace("golden", "gol\x07den")})


@case("ssh-key-file-not-utf8", "validate site.yaml", "site.yaml", "not UTF-8 text")
def _():
    files = with_secrets({"site.yaml": site(
        "    authorizedKeys:",
        "    authorizedKeyFiles: [k.pub]\n    authorizedKeys:")})
    files["k.pub"] = b"ssh-ed25519 \xff\xfe\n"
    return files


@case("overlay-resource-not-utf8", "overlay build dir", "dir/r.yaml", "not UTF-8 text")
def _():
    files = kustomization("resources:\n- r.yaml\n")
    files["dir/r.yaml"] = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\n"
    return files


def write(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    for name, command, exit_status, at, messages, make in CASES:
        directory = os.path.join(out, name)
        for relative, content in make().items():
            path = os.path.join(directory, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(path, "wb") as f:
                f.write(data)
        lines = [f"command: {command}", f"exit: {exit_status}", f"at: {at}"]
        lines += [f"message: {m}" for m in messages]
        with open(os.path.join(directory, "expect"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return len(CASES)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "hostile", "generated")
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "case names repeat"
    print(f"{write(target)} cases in {target}")
