#!/usr/bin/env bash
# The whole test suite, as CI runs it: install and build (scripts/setup.sh),
# run every test on the default OpenCL device, build clae without MPI and check
# that it says so and refuses mpirun, then build again under
# AddressSanitizer + UndefinedBehaviorSanitizer and run the unit tests there.
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

status=0
meson test -C build --print-errorlogs || status=1

# the same source without MPI, as on a machine without libopenmpi-dev: only clae and its check
[ -f build-nompi/build.ninja ] || meson setup build-nompi -Dmpi=disabled --buildtype=release >/dev/null
ninja -C build-nompi clae >/dev/null || status=1
meson test -C build-nompi --no-rebuild --suite nompi --print-errorlogs || status=1

if [ "${CLAE_SKIP_SANITIZERS:-0}" != 1 ]; then
  [ -f build-asan/build.ninja ] ||
    meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debug >/dev/null
  ninja -C build-asan >/dev/null || status=1
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --suite unit --print-errorlogs || status=1
  logs=(build/meson-logs/testlog.json build-nompi/meson-logs/testlog.json
        build-asan/meson-logs/testlog.json)
else
  logs=(build/meson-logs/testlog.json build-nompi/meson-logs/testlog.json)
fi

python3 tests/summarize.py "${logs[@]}" || status=1
exit $status
