#!/usr/bin/env bash
# A build without MPI (meson -Dmpi=disabled, as on a machine without
# libopenmpi-dev): clae says so, trains as one process, and refuses with one
# line to be one of N copies started by an MPI launcher (each would train alone
# and write the same run directory). Output is TAP.
# usage: no_mpi.sh PATH/TO/clae SOURCE_ROOT
set -u
CLAE=$1
SRC=$2
T=$(mktemp -d /tmp/clae-no-mpi.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
"$CLAE" devices > "$T/devices" 2>&1
grep -q "^MPI: not in this build" "$T/devices" && ok "clae devices: $(grep '^MPI' "$T/devices")" \
    || not_ok "clae devices says MPI is not built in" "$(tail -2 "$T/devices")"
check "trains as one process" "$CLAE" train "$SRC/configs/mlp_fmnist.ini" --run "$T/run" \
    --set data.train_limit=640 --set data.test_limit=100 --set train.epochs=1 \
    --set report.latent_map=false --set report.weights=false
grep -q '"built": false, "ranks": 1' "$T/run/summary.json" && ok "summary.json: no MPI, 1 rank" \
    || not_ok "summary.json mpi" "$(grep mpi "$T/run/summary.json")"
expect_error "started by a launcher" "built without MPI" env OMPI_COMM_WORLD_SIZE=2 \
    OMPI_COMM_WORLD_RANK=0 "$CLAE" train "$SRC/configs/mlp_fmnist.ini" --run "$T/job"
[ ! -e "$T/job" ] && ok "no run directory for it" || not_ok "no run directory"
expect_error "a sweep started by a launcher" "built without MPI" env PMIX_RANK=0 "$CLAE" sweep \
    "$SRC/configs/sweeps/mlp_fmnist.ini"
echo "1..$n"
exit $((failed > 0))
