#!/usr/bin/env bash
# Data-parallel scaling here: mlp_fmnist and conv_fmnist trained for one epoch
# of a subset as 1 process and under mpirun -np 2 (the same global batch), with
# images/s, images/s per rank, the efficiency (2 ranks' images/s over 1 rank's:
# on one machine both share the same cores, so 1.0 is the ideal), the step
# time and what the reduction costs in it; then `clae bench allreduce` with the
# ring model's projection for each model's gradient on 8 to 64 GPUs. Prints a
# Markdown report. usage: bench/mpi_scaling.sh [BUILD_DIR] [TRAIN_IMAGES]
set -euo pipefail
BUILD=${1:-build}
IMAGES=${2:-19200}
CLAE=$(cd "$BUILD" && pwd)/clae
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/clae-mpi-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export CLAE_NO_AUTOTUNE=1 # the same GEMM choices in both runs
SET=(--set data.train_limit=$((IMAGES * 10 / 9)) --set data.test_limit=500 --set train.epochs=1
     --set report.latent_map=false --set report.weights=false)

num() { grep -o "\"$2\": [-0-9.e]*" "$1" | head -1 | awk '{print $2}'; }

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo
echo "| config | ranks | images/s | per rank | efficiency | step ms | reduce ms | waiting for the device ms | exposed allreduce ms | test MSE |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for cfg in mlp_fmnist conv_fmnist; do
    base=
    for ranks in 1 2; do
        run=$T/$cfg-$ranks
        if [ "$ranks" -eq 1 ]; then
            "$CLAE" train "$SRC/configs/$cfg.ini" --run "$run" "${SET[@]}" > "$run.log" 2>&1
        else
            mpirun -np "$ranks" "$CLAE" train "$SRC/configs/$cfg.ini" --run "$run" "${SET[@]}" > "$run.log" 2>&1
        fi
        S=$run/summary.json
        ips=$(num "$S" images_per_s)
        [ -z "$base" ] && base=$ips
        steps=$(num "$S" steps)
        train_s=$(num "$S" train_s)
        awk -v c="$cfg" -v r="$ranks" -v ips="$ips" -v base="$base" -v steps="$steps" -v ts="$train_s" \
            -v red="$(num "$S" reduce_s_per_step)" -v dev="$(num "$S" device_wait_s_per_step)" \
            -v expo="$(num "$S" exposed_allreduce_s_per_step)" -v mse="$(num "$S" mse)" 'BEGIN {
            printf "| %s | %d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.6f |\n", c, r, ips,
                ips / r, ips / base, ts / (steps - 1) * 1e3, red * 1e3, dev * 1e3, expo * 1e3, mse }'
    done
    grep -o '"parameters": [0-9]*' "$T/$cfg-1/summary.json" | awk '{print $2}' > "$T/$cfg.params"
done
echo
for cfg in mlp_fmnist conv_fmnist; do
    p=$(cat "$T/$cfg.params")
    echo "$cfg: $p parameters"
    echo '```'
    mpirun -np 2 "$CLAE" bench allreduce --n "$p" | { [ "$cfg" = mlp_fmnist ] && cat || sed -n '/^ring/,$p'; }
    echo '```'
done
