#!/usr/bin/env bash
# clae on a freshly started Linux machine with an NVIDIA GPU and its driver but none of
# clae's packages (the device tool's GPU machine), in two steps:
#
#   scripts/gpu_check.sh --prepare [--with-pocl]
#                                         here: the runtime packages as .deb files
#                                         (apt-get download) and the built binaries
#                                         (build/clae, build/test_*) into .gpu/ (git-ignored;
#                                         PoCL for a CPU row in compare adds ~60 MB, over the
#                                         device tool's 64 MiB with the tree: off by default)
#   scripts/gpu_check.sh OUT              there, with .gpu/ carried: unpacks the .debs
#                                         (dpkg -x, ldconfig), registers NVIDIA's OpenCL ICD
#                                         (libnvidia-opencl.so.1) when /etc/OpenCL/vendors has
#                                         none, then clinfo, clae devices, the unit tests on
#                                         the GPU, clae bench of the reference workloads,
#                                         clae compare GPU against CPU (when PoCL came along)
#                                         and gae_cora on the GPU; logs and JSON into OUT.
#
# The second step ends within 8 minutes (each part has its own time limit) and writes
# OUT/summary.txt with one line per part: what ran, its exit status and seconds.
set -uo pipefail
cd "$(dirname "$0")/.."
G=.gpu

prepare() {
  grep -qxF "/$G/" .git/info/exclude 2>/dev/null || echo "/$G/" >> .git/info/exclude
  mkdir -p "$G/debs" "$G/bin"
  [ -x build/clae ] || { echo "gpu_check.sh: build first (bash scripts/setup.sh)" >&2; exit 1; }
  cp build/clae build/test_runtime build/test_gemm build/test_gradcheck build/test_loss_optim \
     build/test_graph build/test_fixtures "$G/bin/"
  cp tests/fixtures/torch_layers.txt "$G/bin/"
  (cd "$G/debs" && apt-get download -q ocl-icd-libopencl1 libclblast1 libpng16-16 libinih1 clinfo \
     libcmocka0 zlib1g 2>&1 | tail -2)
  [ "${1:-}" = --with-pocl ] || { du -sh "$G"; return; }
  (cd "$G/debs" && apt-get download -q pocl-opencl-icd libpocl2 libpocl2-common libllvm14 \
     libclang-cpp14 libhwloc15 libxml2 libicu72 libz3-4 libedit2 libbsd0 libmd0 libtinfo6 \
     libffi8 2>&1 | tail -2) || true
  du -sh "$G"
}

# part NAME SECONDS COMMAND...: runs it with a time limit, output to OUT/NAME.log
part() {
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  printf '%-22s exit %3d  %4d s  %s\n' "$name" "$rc" $((SECONDS - t0)) "$*" | tee -a "$OUT/summary.txt"
}

register_nvidia() {
  mkdir -p /etc/OpenCL/vendors
  ls /etc/OpenCL/vendors/*nvidia* >/dev/null 2>&1 && return
  local lib
  lib=$(find /usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib -name 'libnvidia-opencl.so.1' \
        2>/dev/null | head -1)
  if [ -n "$lib" ]; then echo "$lib" > /etc/OpenCL/vendors/nvidia.icd; echo "registered $lib"
  else echo "no libnvidia-opencl.so.1 found"; fi
}

check() {
  OUT=$1
  mkdir -p "$OUT"
  : > "$OUT/summary.txt"
  for f in "$G"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  register_nvidia > "$OUT/icd.log" 2>&1
  cat "$OUT/icd.log" >> "$OUT/summary.txt"
  export CLAE_CACHE_DIR=/tmp/clae-cache
  part clinfo 30 clinfo -l
  part devices 60 "$G/bin/clae" devices
  export CLAE_TEST_DEVICE=gpu
  for t in runtime gemm loss_optim graph gradcheck; do part "test_$t" 120 "$G/bin/test_$t"; done
  part test_fixtures 60 "$G/bin/test_fixtures" "$G/bin/torch_layers.txt"
  unset CLAE_TEST_DEVICE
  part bench 150 "$G/bin/clae" bench --device gpu --json "$OUT/bench_gpu.json"
  part compare 90 "$G/bin/clae" compare configs/mlp_fmnist.ini --devices all --steps 50 -o "$OUT/compare"
  cp "$OUT/compare/compare.md" "$OUT/compare.md" 2>/dev/null
  part gae_cora 60 "$G/bin/clae" train configs/gae_cora.ini --device gpu --run /tmp/gae_gpu \
    --set data.path=tests/data/cora/cora.cites
  cp /tmp/gae_gpu/summary.json "$OUT/gae_cora_summary.json" 2>/dev/null
  echo "done: $OUT/summary.txt"
}

case ${1:-} in
  --prepare) prepare "${2:-}" ;;
  ""|-h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  *) check "$1" ;;
esac
