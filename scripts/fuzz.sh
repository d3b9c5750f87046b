#!/usr/bin/env bash
# libFuzzer over the .npy and checkpoint readers (tests/fuzz/): builds the
# harness with clang (-fsanitize=fuzzer,address,undefined; Debian's clang and
# libclang-rt-14-dev) and runs RUNS executions (default 100000) from the seed
# corpus tests/fuzz/corpus/. Prints libFuzzer's summary; exits non-zero on a
# crash, a leak, undefined behaviour or a refusal without its one-line message.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
out=build-fuzz
mkdir -p "$out/corpus"
cp tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -Iinclude tests/fuzz/fuzz_readers.c src/io/npy.c src/io/checkpoint.c \
  src/util/afile.c src/util/error.c -lz -o "$out/fuzz_readers"
"$out/fuzz_readers" -runs="$runs" -max_len=4096 -print_final_stats=1 "$out/corpus"
