#!/usr/bin/env bash
# Trains every config of the README's results table on the default device (or
# --device) and rewrites the table between the README's results markers from
# the runs' summary.json files; each run's reconstruction grid is copied to
# docs/results/NAME.png for the table to link.
#
#   scripts/results.sh [--device SPEC] [--runs DIR] [--no-train] [CONFIG_NAME...]
#
# --runs DIR   where the runs go (default runs/results; each run is DIR/NAME)
# --no-train   only tabulate runs that already exist in DIR
# Emoji configs need scripts/prepare_data.sh emoji --vendors google,twitter,facebook,apple;
# denoising_mnist needs scripts/prepare_data.sh mnist.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGS=(mlp_fmnist vanilla_fmnist multilayer_fmnist sparse_fmnist denoising_fmnist denoising_mnist vae_fmnist
         conv_vae_fmnist multitask_fmnist conv_fmnist convT_fmnist conv_emoji convT_emoji multitask_emoji
         compression_emoji compression_emoji_48x72)
runs=runs/results
train=1
device=()
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=(--device "$2"); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-train) train=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "results.sh: unknown option $1" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=("${CONFIGS[@]}")
[ -x build/clae ] || bash scripts/setup.sh
mkdir -p "$runs" docs/results

for name in "${names[@]}"; do
  [ -f "configs/$name.ini" ] || { echo "results.sh: no configs/$name.ini" >&2; exit 2; }
  if [ $train = 1 ]; then
    rm -rf "${runs:?}/$name"
    echo "== $name"
    build/clae train "configs/$name.ini" "${device[@]}" --run "$runs/$name" | grep -v " step " || true
  fi
  [ -f "$runs/$name/recon.png" ] && cp "$runs/$name/recon.png" "docs/results/$name.png"
done

python3 - "$runs" "${CONFIGS[@]}" <<'PY'
import json, os, re, sys
runs, configs = sys.argv[1], sys.argv[2:]
rows = ["| config | data (train/val/test) | parameters | epochs | test MSE | also | training | images/s | grid |",
        "|---|---|---|---|---|---|---|---|---|"]
for name in configs:
    path = os.path.join(runs, name, "summary.json")
    if not os.path.exists(path):
        continue
    s = json.load(open(path))
    t, d = s["test"], s["data"]
    also = []
    if "accuracy" in t: also.append("accuracy %.3f" % t["accuracy"])
    if "kl" in t: also.append("KL %.2f" % t["kl"])
    if "noisy_input_mse" in t: also.append("noisy input %.4f" % t["noisy_input_mse"])
    if "psnr_db" in t and name.startswith("compression"):
        raw = t.get("raw_bits_per_pixel", t.get("bits_per_pixel"))
        also.append("PSNR %.2f dB, SSIM %.3f, %.2g bpp uncoded" % (t["psnr_db"], t["ssim"], raw))
    if "code_zero_fraction" in t and name.startswith("sparse"):
        also.append("code mean %.3f, %.0f%% near 0" % (t["code_mean"], 100 * t["code_zero_fraction"]))
    grid = "docs/results/%s.png" % name
    rows.append("| `%s` | %d/%d/%d | %s | %d | %.4f | %s | %.0f s | %s | %s |" % (
        name, d["train"], d["val"], d["test"], format(s["parameters"], ","), s["epochs"], t["mse"],
        "; ".join(also) or "", s["timing"]["train_s"], format(round(s["timing"]["images_per_s"]), ","),
        "[png](%s)" % grid if os.path.exists(grid) else ""))
device = ""
for name in configs:
    path = os.path.join(runs, name, "summary.json")
    if os.path.exists(path):
        device = json.load(open(path))["device"]["name"]
        break
table = "\n".join(rows) + "\n\nMeasured on %s by `scripts/results.sh`.\n" % device
readme = open("README.md").read()
new, n = re.subn(r"(<!-- results -->\n).*?(<!-- /results -->)", lambda m: m.group(1) + table + m.group(2),
                 readme, flags=re.S)
if n != 1:
    sys.exit("results.sh: README.md has no <!-- results --> ... <!-- /results --> markers")
open("README.md", "w").write(new)
print(table)
PY
