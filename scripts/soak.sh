#!/usr/bin/env bash
# Memory soak: trains a small config for EPOCHS epochs (default 200) and samples
# the process's resident memory (VmRSS; on a CPU device the device buffers are
# host memory too) as the epochs pass. Prints epoch and RSS in MiB, then the
# growth from the 10th epoch to the last; exits 1 if it grew by more than 5%.
# usage: scripts/soak.sh [EPOCHS] [CLAE]
set -euo pipefail
epochs=${1:-200}
clae=${2:-build/clae}
cfg=$(dirname "$0")/../configs/mlp_fmnist.ini
T=$(mktemp -d /tmp/clae-soak.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$clae" train "$cfg" --run "$T/run" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs="$epochs" --set report.latent_map=false --set report.weights=false \
    > "$T/out" 2>&1 &
pid=$!
first="" last=""
while kill -0 $pid 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || true)
    done_epochs=$(( $( { wc -l < "$T/run/metrics.csv"; } 2>/dev/null || echo 1) - 1 ))
    if [ -n "$rss" ] && [ "$done_epochs" -ge 1 ]; then
        [ -z "$first" ] && [ "$done_epochs" -ge 10 ] && first=$rss && echo "epoch $done_epochs: $((rss / 1024)) MiB"
        [ $((done_epochs % 50)) -eq 0 ] && [ "$rss" != "$last" ] && echo "epoch $done_epochs: $((rss / 1024)) MiB"
        last=$rss
    fi
    sleep 0.2
done
wait $pid
echo "resident memory: $((first / 1024)) MiB at epoch 10, $((last / 1024)) MiB at the end of $epochs epochs"
awk -v a="$first" -v b="$last" 'BEGIN { printf "growth: %.1f%%\n", 100 * (b - a) / a; exit !(b <= 1.05 * a) }'
