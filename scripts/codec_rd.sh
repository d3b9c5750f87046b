#!/usr/bin/env bash
# The image codec's rate-distortion curve: trains configs/codec_emoji.ini at
# three rates (code channels, quantize gain and train.rate_lambda), then measures each
# against JPEG and WebP on the test split with clae rd (rd.csv, rd.svg,
# rd_grid.png/.svg, rd.json in OUT/rd). Each run takes about 15 minutes on
# 2 cores; runs already trained are not trained again.
# usage: scripts/codec_rd.sh [OUT] [extra clae train options...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/codec_rd}
shift || true
clae=${CLAE:-build/clae}
bash scripts/prepare_data.sh emoji --vendors google,twitter,facebook,apple >/dev/null
# name, code channels, gain, rate_lambda: the middle, high and low rates
rates=("mid 16 16 3e-5" "high 32 16 3e-5" "low 16 4 3e-3")
runs=()
for r in "${rates[@]}"; do
  read -r name channels gain lambda <<<"$r"
  if [ ! -f "$out/$name/summary.json" ]; then
    "$clae" train configs/codec_emoji.ini --run "$out/$name" --set latent.code.channels="$channels" \
      --set latent.quantize.gain="$gain" --set train.rate_lambda="$lambda" \
      --set model.name="codec_emoji_$name" "$@"
  fi
  runs+=("$out/$name")
done
"$clae" rd "${runs[@]}" --jpeg --webp -o "$out/rd"
