#!/usr/bin/env bash
# End-to-end sweeps through the CLI: a small TPE sweep of mlp_fmnist with the
# median pruner runs, reports (ranked table, best.ini that trains again, SVGs),
# is not run again once finished, and resumes after SIGTERM without repeating a
# trial; two trials at a time with --devices; bad sweep files give one line.
# Output is TAP. usage: e2e_sweep.sh PATH/TO/clae SOURCE_ROOT
set -u
CLAE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
T=$(mktemp -d /tmp/clae-e2e-sweep.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"

sweep_file() { # sweep_file NAME TRIALS [EXTRA SETTINGS...]
    local name=$1 trials=$2; shift 2
    {
        printf '[sweep]\nconfig = %s/configs/mlp_fmnist.ini\nname = %s\nout_dir = %s/sweeps\n' "$SRC" "$name" "$T"
        printf 'trials = %s\nsampler = tpe\nstartup_trials = 3\npruner = median\npruner_startup = 2\n' "$trials"
        printf 'seed = 3\n'
        for extra in "$@"; do printf '%s\n' "$extra"; done
        printf 'train.lr = loguniform(1e-4, 3e-2)\nlatent.code.units = choice(8, 16, 32)\n'
        printf '[fixed]\ndata.train_limit = 640\ndata.test_limit = 200\ntrain.epochs = 3\n'
        printf 'report.latent_map = false\nreport.weights = false\n'
    } > "$T/$name.ini"
}

# 1. a sweep runs and reports
sweep_file small 6
check "a 6-trial sweep" "$CLAE" sweep "$T/small.ini"
D=$T/sweeps/small
[ "$(grep -c '"event": "start"' "$D/journal.jsonl")" -eq 6 ] && [ "$(grep -c '"event": "end"' "$D/journal.jsonl")" -eq 6 ] \
    && ok "the journal holds 6 starts and 6 ends" || not_ok "journal events" "$(cat "$D/journal.jsonl" | head -20)"
grep -q "^| 1 | " "$D/sweep.md" && grep -q "Importance" "$D/sweep.md" && ok "sweep.md ranks the trials" \
    || not_ok "sweep.md" "$(head -5 "$D/sweep.md")"
[ -s "$D/history.svg" ] && [ -s "$D/key_train.lr.svg" ] && [ -s "$D/key_latent.code.units.svg" ] \
    && ok "history.svg and a plot per key" || not_ok "sweep plots" "$(ls "$D")"
check "best.ini trains again" "$CLAE" train "$D/best.ini" --run "$T/best" --set train.epochs=1
for t in 0 1 2 3 4 5; do [ -s "$D/trial-00$t/config.ini" ] || not_ok "trial $t has its resolved config"; done
"$CLAE" sweep "$T/small.ini" > "$T/again.out" 2>&1
grep -q "6 of 6 trials done" "$T/again.out" && ! grep -q "starting" "$T/again.out" \
    && ok "a finished sweep is not run again" || not_ok "finished sweep" "$(head -3 "$T/again.out")"

# 2. killed after two trials, resumed: every trial once
sweep_file killed 5
"$CLAE" sweep "$T/killed.ini" > "$T/killed.out" 2>&1 &
pid=$!
K=$T/sweeps/killed
events() { grep -c "\"event\": \"$1\"" "$K/journal.jsonl" 2>/dev/null || true; }
for _ in $(seq 600); do # trial 2 has started: stop the sweep in the middle of it
    [ "$(events end)" -ge 2 ] 2>/dev/null && [ "$(events start)" -ge 3 ] 2>/dev/null && break
    sleep 0.1
done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] && grep -q "interrupted: clae sweep" "$T/killed.out" && ok "SIGTERM stops the sweep (exit 143)" \
    || not_ok "sweep SIGTERM" "rc=$rc" "$(tail -3 "$T/killed.out")"
ends=$(grep -c '"event": "end"' "$K/journal.jsonl")
check "the killed sweep resumes" "$CLAE" sweep "$T/killed.ini"
grep -q "$ends of 5 trials done before (resuming)" "$T/check.out" && ok "it resumes after $ends trials" \
    || not_ok "resume count" "$(head -2 "$T/check.out")"
starts=$(grep -o '"event": "start", "trial": [0-9]*' "$K/journal.jsonl" | sort | uniq -d | wc -l)
[ "$starts" -eq 0 ] && [ "$(grep -c '"event": "end"' "$K/journal.jsonl")" -eq 5 ] \
    && ok "no trial started twice, 5 ended once each" || not_ok "trials repeated" "$(grep -c end "$K/journal.jsonl")"

# 3. two at a time
sweep_file parallel 4
check "two trials at a time (--devices 0:0,0:0)" "$CLAE" sweep "$T/parallel.ini" --devices 0:0,0:0
[ "$(grep -c '"event": "end"' "$T/sweeps/parallel/journal.jsonl")" -eq 4 ] && ok "4 trials ended" \
    || not_ok "parallel trials"

# 4. the shipped sweep files check against their base configs
for f in "$SRC"/configs/sweeps/*.ini; do
    check "$(basename "$f") checks (--dry-run)" "$CLAE" sweep "$f" --dry-run
done

# 5. bad sweep files
printf '[sweep]\nconfig = %s/configs/mlp_fmnist.ini\ntrain.lr = loguniform(1, 1)\n' "$SRC" > "$T/bad1.ini"
expect_error "an empty range" "$T/bad1.ini:3: train.lr: an empty range" "$CLAE" sweep "$T/bad1.ini"
printf '[sweep]\nconfig = %s/configs/mlp_fmnist.ini\nencoder.nope.units = int(1, 4)\n' "$SRC" > "$T/bad2.ini"
expect_error "a key the base config lacks" "$T/bad2.ini:3: encoder.nope.units" "$CLAE" sweep "$T/bad2.ini"
printf '[sweep]\nconfig = %s/configs/mlp_fmnist.ini\ntrain.lr = normal(1, 2)\n' "$SRC" > "$T/bad3.ini"
expect_error "a bad distribution" "expected choice(a, b, ...), uniform" "$CLAE" sweep "$T/bad3.ini"
expect_error "a missing sweep file" "/nonexistent.ini" "$CLAE" sweep /nonexistent.ini
sweep_file nometric 3 "metric = val.nothing"
expect_error "a metric the runs do not report stops the sweep" "metric 'val.nothing' is not in clae train's epoch lines" \
    "$CLAE" sweep "$T/nometric.ini"

echo "1..$n"
exit $((failed > 0))
