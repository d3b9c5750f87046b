#!/usr/bin/env bash
# Installs clae's Debian packages (as root, when any is missing) and builds it
# into build/. Safe to run again: it only does what is left to do.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential meson ninja-build pkg-config python3
  ocl-icd-opencl-dev opencl-c-headers clinfo pocl-opencl-icd
  libclblast-dev libpng-dev libinih-dev zlib1g-dev libcmocka-dev
  libjpeg62-turbo-dev libwebp-dev libopenmpi-dev openmpi-bin
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build
