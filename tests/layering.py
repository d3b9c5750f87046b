#!/usr/bin/env python3
"""The include order of src/ and include/ against the one README.md documents.

README.md holds one line "Layers, lowest first: A < B < C, D < ...": a module
may include the headers of its own module and of lower ones, never of a
module on its level or above. Each public header belongs to one module
(HEADER_MODULE below; a new header must be added there). A .c file may not
declare another file's clae_ function by hand: it includes the header.
Prints one line per offence (file:line, the include, why) and exits 1 on any.
Usage: layering.py SOURCE_ROOT
"""
import os
import re
import sys

HEADER_MODULE = {
    "job": "job", "error": "util", "hash": "util", "rng": "util", "clock": "util", "afile": "util", "parallel": "util",
    "runtime": "runtime",
    "tensor": "tensor",
    "ops": "ops", "gemm": "ops", "kinds": "ops",
    "nn": "nn",
    "optim": "optim",
    "data": "data", "image": "data", "graph": "data",
    "io": "io", "rans": "io", "codec": "io", "ref_codecs": "io", "embed": "embed",
    "config": "config",
    "metrics": "train", "objective": "train", "quality": "train", "model_file": "train", "train": "train", "roc": "train", "graph_train": "train", "sweep": "sweep",
}


def read_levels(readme):
    for line in open(readme, encoding="utf-8"):
        m = re.search(r"Layers, lowest first: (.*)", line)
        if m:
            levels = {}
            for rank, group in enumerate(m.group(1).strip(" .`").split("<")):
                for name in group.split(","):
                    levels[name.strip(" `")] = rank
            return levels
    sys.exit("layering.py: README.md has no 'Layers, lowest first:' line")


def module_of(root, path):
    """The module of a file: src/MODULE/..., or the header's for include/clae/NAME.h."""
    rel = os.path.relpath(path, root).split(os.sep)
    if rel[0] == "src":
        return rel[1]
    return HEADER_MODULE.get(os.path.splitext(rel[-1])[0])


def sources(root):
    for top in ("src", "include"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


PROTOTYPE = re.compile(r"^(?:const\s+)?\w+\s*\**\s*(clae_\w+)\s*\([^;{]*\)\s*;")


def check(root):
    levels = read_levels(os.path.join(root, "README.md"))
    bad = []
    for path in sources(root):
        rel = os.path.relpath(path, root)
        mod = module_of(root, path)
        if mod is None:
            bad.append(f"{rel}: a public header no module owns: add it to HEADER_MODULE in tests/layering.py")
            continue
        if mod not in levels:
            bad.append(f"{rel}: module '{mod}' is not in README.md's 'Layers, lowest first' line")
            continue
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            m = re.match(r'\s*#\s*include\s+"clae/(\w+)\.h"', line)
            if m:
                dep = HEADER_MODULE.get(m.group(1))
                if dep is None:
                    bad.append(f"{rel}:{n}: includes clae/{m.group(1)}.h, which no module owns")
                elif dep != mod and levels[dep] >= levels[mod]:
                    bad.append(f"{rel}:{n}: {mod} includes clae/{m.group(1)}.h of {dep}, "
                               f"{'on its level' if levels[dep] == levels[mod] else 'above it'}")
            if path.endswith(".c") and PROTOTYPE.match(line) and not line.startswith("static"):
                bad.append(f"{rel}:{n}: declares {PROTOTYPE.match(line).group(1)} by hand: include its header")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = check(root)
    for b in bad:
        print(b)
    print(f"layering: {len(bad)} offence{'s' if len(bad) != 1 else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
