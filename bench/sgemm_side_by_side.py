#!/usr/bin/python3
"""SGEMM 1024^3: clae bench's engine against OpenBLAS (numpy), in one run.

Times numpy's float32 matmul (OpenBLAS; best of --repeat runs of at least 0.5 s
each, all cores), then `clae bench 1024x1024x1024` --repeat times (its best),
and prints both GFLOP/s and their ratio. OPENBLAS_CORETYPE (e.g. Haswell) picks
OpenBLAS's kernels as POCL_LLVM_CPU_NAME picks PoCL's, for measuring the AVX2
path on an AVX-512 machine. Optional: needs python3-numpy and
libopenblas0-pthread; clae never needs them.

usage: /usr/bin/python3 bench/sgemm_side_by_side.py [--clae build/clae] [--repeat 3] [--json OUT]
"""
import argparse
import json
import re
import subprocess
import time

import numpy as np


def numpy_gflops(n, repeat):
    a = np.random.default_rng(1).random((n, n), dtype=np.float32)
    b = np.random.default_rng(2).random((n, n), dtype=np.float32)
    a @ b  # warm-up: threads started, pages touched
    best = 0.0
    for _ in range(repeat):
        reps, t0 = 0, time.perf_counter()
        while reps < 3 or time.perf_counter() - t0 < 0.5:
            a @ b
            reps += 1
        best = max(best, 2.0 * n**3 * reps / (time.perf_counter() - t0) * 1e-9)
    return best


def clae_gflops(clae, n, repeat):
    best, engine = 0.0, "?"
    for _ in range(repeat):
        out = subprocess.run([clae, "bench", "%dx%dx%d" % (n, n, n)], check=True,
                             capture_output=True, text=True).stdout
        m = re.search(r"^sgemm %dx%dx%d\s+(\S+)\s+([0-9.]+) GFLOP/s" % (n, n, n), out, re.M)
        if not m:
            raise SystemExit("no SGEMM line in clae bench's output:\n" + out)
        if float(m.group(2)) > best:
            best, engine = float(m.group(2)), m.group(1)
    return best, engine


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clae", default="build/clae")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", default=None)
    a = p.parse_args()
    n = 1024
    blas = numpy_gflops(n, a.repeat)
    own, engine = clae_gflops(a.clae, n, a.repeat)
    print("SGEMM %d^3: OpenBLAS (numpy) %.1f GFLOP/s, clae %s %.1f GFLOP/s, ratio %.2fx"
          % (n, blas, engine, own, own / blas))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"n": n, "openblas_gflops": blas, "clae_gflops": own, "clae_engine": engine,
                       "ratio": own / blas}, f, indent=2)


if __name__ == "__main__":
    main()
