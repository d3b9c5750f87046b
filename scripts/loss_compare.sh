#!/usr/bin/env bash
# Per-step training losses of every config, to prove a refactor changed no
# number: record them with one build, check them with another.
#
#   scripts/loss_compare.sh record DIR [CLAE]   train each config, keep its steps.csv
#                                               and test metrics in DIR/NAME.*
#   scripts/loss_compare.sh check DIR [CLAE]    train again and compare bit for bit
#
# CLAE defaults to build/clae; CONFIGS (a space-separated list of INI files)
# limits the run, by default every configs/*.ini. Each run logs every step
# (train.log_every=1). Fashion-MNIST configs run 2 epochs on 7,112 training
# images (about 100 steps each: epoch boundaries, validation and checkpoints
# included); the CSV config 2 epochs; emoji configs their whole run.
# Exits non-zero when any config differs or fails.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
mode=$1 dir=$2 clae=${3:-build/clae}
case $mode in record|check) ;; *) usage ;; esac
[ -x "$clae" ] || { echo "loss_compare.sh: $clae is not an executable" >&2; exit 2; }
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

overrides() {
  case $(sed -n 's/^format *= *//p' "$1" | head -1) in
    emoji) echo "--set train.log_every=1" ;;
    csv) echo "--set train.log_every=1 --set train.epochs=2" ;;
    *) echo "--set train.log_every=1 --set train.epochs=2 --set data.train_limit=7112" \
         "--set data.test_limit=1000" ;;
  esac
}

# the test metrics of summary.json, a sorted "key value" line each (the key
# order of the JSON object is not part of the comparison, nor raw_bits_per_pixel,
# a constant of the architecture printed with 6 digits before the metrics table)
test_line() {
  python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["test"]
for k in sorted(t):
    if k not in ("bits_per_pixel", "raw_bits_per_pixel"): print(k, json.dumps(t[k]))' "$1"
}

failed=0 same=0
for cfg in ${CONFIGS:-configs/*.ini}; do
  name=$(basename "$cfg" .ini)
  run=$work/$name
  # shellcheck disable=SC2046
  if ! "$clae" train "$cfg" --run "$run" $(overrides "$cfg") >"$work/$name.log" 2>&1; then
    echo "$name: training failed:"; tail -3 "$work/$name.log"; failed=$((failed + 1)); continue
  fi
  steps=$(($(wc -l <"$run/steps.csv") - 1))
  if [ "$mode" = record ]; then
    cp "$run/steps.csv" "$dir/$name.steps.csv"
    test_line "$run/summary.json" >"$dir/$name.test.json"
    echo "$name: recorded $steps steps"
  elif ! cmp -s "$run/steps.csv" "$dir/$name.steps.csv"; then
    first=$(diff <(cut -d, -f1,3 "$dir/$name.steps.csv") <(cut -d, -f1,3 "$run/steps.csv") |
      sed -n 2p)
    echo "$name: DIFFERENT per-step losses (first: ${first:-lengths differ})"
    failed=$((failed + 1))
  elif ! test_line "$run/summary.json" | cmp -s - "$dir/$name.test.json"; then
    echo "$name: same $steps losses, DIFFERENT test metrics"; failed=$((failed + 1))
  else
    echo "$name: $steps per-step losses and the test metrics bit-identical"; same=$((same + 1))
  fi
done
[ "$mode" = check ] && echo "$same identical, $failed different or failed"
[ "$failed" -eq 0 ]
