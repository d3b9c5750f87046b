#!/usr/bin/env bash
# The image codec's rate-distortion curve: trains configs/codec_emoji.ini at
# four rates (code size, quantize gain and train.rate_lambda), then measures each
# against JPEG and WebP on the test split with clae rd (rd.csv, rd.svg,
# rd_grid.png/.svg, rd.json in OUT/rd). The runs take about 40, 30, 6 and 4
# minutes on 2 cores (EPYC Zen 5); runs already trained are not trained again.
# usage: scripts/codec_rd.sh [OUT] [extra clae train options...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/codec_rd}
shift || true
clae=${CLAE:-build/clae}
bash scripts/prepare_data.sh emoji --vendors google,twitter,facebook,apple >/dev/null
# name, code channels, gain, rate_lambda, epochs and more settings. The finest codes are at
# 16x16 (no stride in encoder.c3, no upsampling in decoder.up1_resize): 8 channels at gain 16
# and 12 at gain 8 (rate_lambda is too small here to set the rate, so the gain does: a
# coarser step for more channels). The middle and lowest rates have 16 channels at 8x8; a
# code of 32x8x8 bought 0.4 dB for 1.2 bpp more than the middle one, far below the 16x16
# codes, so it is no longer trained.
at16="encoder.c3.stride=1 decoder.up1_resize.scale=1"
rates=("fine 8 16 3e-5 20 $at16" "fine12 12 8 3e-5 15 $at16" "mid 16 16 3e-5 12"
       "low 16 4 3e-3 8")
runs=()
for r in "${rates[@]}"; do
  read -r name channels gain lambda epochs more <<<"$r"
  sets=()
  for kv in $more; do sets+=(--set "$kv"); done
  if [ ! -f "$out/$name/summary.json" ]; then
    "$clae" train configs/codec_emoji.ini --run "$out/$name" --set latent.code.channels="$channels" \
      --set latent.quantize.gain="$gain" --set train.rate_lambda="$lambda" \
      --set train.epochs="$epochs" --set model.name="codec_emoji_$name" "${sets[@]}" "$@"
  fi
  runs+=("$out/$name")
done
"$clae" rd "${runs[@]}" --jpeg --webp -o "$out/rd"
