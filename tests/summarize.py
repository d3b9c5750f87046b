#!/usr/bin/env python3
"""Counts test cases in meson's testlog.json files and prints 'N passed, N failed'.

A cmocka binary counts its own cases ("[  PASSED  ] N test(s)."), a TAP script
its "ok"/"not ok" lines; a test that failed without saying how many (a crash,
a timeout) counts as one failure. Exits non-zero when anything failed.
"""
import json
import re
import sys

passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"cannot read {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        out = (t.get("stdout") or "") + "\n" + (t.get("stderr") or "")
        p = sum(int(n) for n in re.findall(r"^\[  PASSED  \] (\d+) test", out, re.M))
        f = sum(int(n) for n in re.findall(r"^\[  FAILED  \] (\d+) test", out, re.M))
        p += len(re.findall(r"^ok \d+", out, re.M))
        f += len(re.findall(r"^not ok \d+", out, re.M))
        if t.get("result") != "OK" and f == 0:
            f = 1
        if t.get("result") == "OK" and p == 0 and f == 0:
            p = 1
        passed += p
        failed += f
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
