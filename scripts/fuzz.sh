#!/usr/bin/env bash
# libFuzzer over every file reader clae has (tests/fuzz/readers.h: checkpoint,
# .npy, INI config with --set overrides, PNG, IDX, CSV table, a folder's labels
# CSV, rANS symbols, a graph's edge list, features and labels, .clae files and codec
# tables): builds the harness with clang (-fsanitize=fuzzer,address,undefined;
# Debian's clang and libclang-rt-14-dev) against the library's sources and runs
# RUNS executions per reader (default 100000) from the seed corpus
# tests/fuzz/corpus/ (one seed per reader; the first byte picks the reader).
# Prints libFuzzer's summary per reader; exits non-zero on a crash, a leak,
# undefined behaviour, a hang (-timeout) or a refusal without its one-line message.
# usage: scripts/fuzz.sh [RUNS] [READER...]   (readers: checkpoint npy ini png idx csv labels rans graph
#                                              clae codec)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
shift || true
readers=("$@")
[ ${#readers[@]} -gt 0 ] || readers=(checkpoint npy ini png idx csv labels rans graph clae codec)
out=build-fuzz
mkdir -p "$out"
python3 tools/embed_cl.py "$out/clae_kernels.h" include/clae/kinds.h cl/act.cl cl/elementwise.cl \
  cl/augment.cl cl/dense.cl cl/conv.cl cl/conv_direct.cl cl/gemm.cl cl/pool.cl cl/upsample.cl \
  cl/norm.cl cl/attention.cl cl/vae.cl cl/sparse.cl cl/loss.cl cl/graph.cl cl/optim.cl cl/rate.cl
if [ ! -x "$out/fuzz_readers" ] || [ -n "$(find src include tests/fuzz -newer "$out/fuzz_readers" -name '*.[ch]' | head -1)" ]; then
  clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DCL_TARGET_OPENCL_VERSION=120 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -I"$out" \
    tests/fuzz/fuzz_readers.c $(ls src/*/*.c src/train/terms/*.c | grep -v '^src/cli/') \
    -lOpenCL -lclblast -lpng -linih -lz -lm -lpthread -o "$out/fuzz_readers"
fi
status=0
for r in "${readers[@]}"; do
  corpus="$out/corpus-$r"
  mkdir -p "$corpus"
  cp "tests/fuzz/corpus/$r.seed" "$corpus/" 2>/dev/null || { echo "no seed for $r"; exit 2; }
  echo "== $r: $runs executions"
  CLAE_FUZZ_READER=$r "$out/fuzz_readers" -runs="$runs" -max_len=4096 -timeout=10 \
    -print_final_stats=1 "$corpus" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|Done)" \
    || status=1
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit $status
