#!/usr/bin/env bash
# OpenCL fault injection (tests/fault/cl_fault.c, LD_PRELOAD): a small training
# run is made once to count its OpenCL calls, then run again with each of the
# first 80 calls (device open, kernel build, allocations, uploads), and every
# 23rd after, failing. Each must end with exit status 1 and one "clae: ..."
# line on stderr, or survive it (a kernel cache that fails to load is rebuilt;
# the report's latent map is skipped with a warning) with a complete run: no
# crash, no hang, no partial file passed off as complete.
# FAULT_FIRST (80) and FAULT_STEP (23) change the calls tried (FAULT_STEP=1: every
# one). With a clae built under AddressSanitizer, its runtime is preloaded first and
# leaks count as failures (LeakSanitizer's exit status).
# Output is TAP. usage: fault_inject.sh PATH/TO/clae PATH/TO/libcl_fault.so SOURCE_ROOT
set -u
CLAE=$1 LIB=$2 SRC=$3
T=$(mktemp -d /tmp/clae-fault.XXXXXX)
PRELOAD=$LIB
if ldd "$CLAE" 2>/dev/null | grep -q libasan; then
    PRELOAD=$(ldd "$CLAE" | awk '/libasan/ {print $3}'):$LIB
    export ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$SRC/tests/lsan.supp:print_suppressions=0"
fi
trap 'rm -rf "$T"' EXIT
ARGS=(train "$SRC/configs/mlp_fmnist.ini" --set data.train_limit=320 --set data.test_limit=64
      --set train.epochs=2 --set encoder.fc1.units=32 --set encoder.fc2.units=16 --set latent.code.units=8
      --set decoder.fc1.units=16 --set decoder.fc2.units=32 --set train.log_every=2)
CLAE_FAULT_COUNT="$T/count" LD_PRELOAD="$PRELOAD" "$CLAE" "${ARGS[@]}" --run "$T/clean" > /dev/null 2>&1 \
    || { echo "not ok 1 - the run without faults"; echo "1..1"; exit 1; }
total=$(cat "$T/count")
first=${FAULT_FIRST:-80} step=${FAULT_STEP:-23}
points=$(seq 1 "$first"; seq $((first + 1)) "$step" "$total")
n=0 failed=0
for at in $points; do
    [ "$at" -le "$total" ] || continue
    n=$((n + 1))
    CLAE_FAULT_AT=$at LD_PRELOAD="$PRELOAD" timeout 120 "$CLAE" "${ARGS[@]}" --run "$T/r$at" > "$T/out" 2> "$T/err"
    rc=$?
    lines=$(grep -c . "$T/err")
    if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q '^clae: ' "$T/err"; then :
    elif [ $rc -eq 0 ] && [ -s "$T/r$at/summary.json" ] && [ "$lines" -le 1 ]; then
        echo "ok $n - OpenCL call $at of $total failing: survived${lines:+ }$(cut -c1-120 "$T/err")"; continue
    else
        failed=$((failed + 1))
        echo "not ok $n - OpenCL call $at of $total failing: rc=$rc, $lines stderr lines"
        sed 's/^/# /' "$T/err" | head -5
        continue
    fi
    # what the run directory holds is complete: a checkpoint there loads (eval), or there is none
    if [ -e "$T/r$at/checkpoint.bin" ] && ! "$CLAE" eval "$T/r$at" > /dev/null 2>&1; then
        failed=$((failed + 1)); echo "not ok $n - call $at: the checkpoint left behind does not load"; continue
    fi
    echo "ok $n - OpenCL call $at of $total failing: $(cut -c1-150 "$T/err")"
done
echo "1..$n"
[ $failed -eq 0 ]
