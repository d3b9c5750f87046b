#!/usr/bin/env bash
# End-to-end: clae trained through its CLI on a Fashion-MNIST subset.
#   loss falls; resume gives the same losses as an uninterrupted run; eval
#   reproduces the summary; bad input gives one line and a non-zero exit.
# Output is TAP (one "ok N - what" per check).
# usage: e2e.sh PATH/TO/clae SOURCE_ROOT
set -u
CLAE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: some checks run elsewhere
SRC=$2
CFG=$SRC/configs/mlp_fmnist.ini
T=$(mktemp -d /tmp/clae-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
SUBSET=(--set data.train_limit=6400 --set data.test_limit=1000)

# 1. a few hundred steps: the loss must fall by a clear margin
check "train 270 steps on a subset" "$CLAE" train "$CFG" --run "$T/a" "${SUBSET[@]}" --set train.epochs=3 \
    --set train.log_every=10
first=$(awk -F, 'NR==2{print $3}' "$T/a/steps.csv")
last=$(awk -F, 'END{print $3}' "$T/a/steps.csv")
if awk -v f="$first" -v l="$last" 'BEGIN{exit !(f > 0 && l < 0.8 * f)}'; then ok "loss fell from $first to $last"
else not_ok "loss fell by 20%" "first $first last $last"; fi
for f in config.ini metrics.csv steps.csv loss.svg recon.png checkpoint.bin best.bin summary.json; do
    [ -s "$T/a/$f" ] || not_ok "run directory holds $f"
done
[ "$(wc -l < "$T/a/metrics.csv")" -eq 4 ] && ok "metrics.csv has a header and 3 epochs" || not_ok "metrics.csv rows" "$(cat "$T/a/metrics.csv")"
grep -q "<polyline" "$T/a/loss.svg" && grep -q ">epoch<" "$T/a/loss.svg" && ok "loss.svg has curves and an epoch axis" \
    || not_ok "loss.svg content"
# recon.png: 8 columns of 28*3 px + 2 px gutters = 690 wide, 2 rows = 174 high
if [ "$(od -An -tu1 -j16 -N8 "$T/a/recon.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 178 0 0 0 174" ]; then
    ok "recon.png is 2 rows x 8 images"; else not_ok "recon.png size" "$(od -An -tu1 -j16 -N8 "$T/a/recon.png")"; fi
mse=$(field "$T/a/summary.json" mse)
# an untrained model sits near 0.2; 3 subset epochs reach about 0.058 on PoCL
awk -v m="$mse" 'BEGIN{exit !(m > 0 && m < 0.08)}' && ok "test mse $mse < 0.08 after 3 subset epochs" || not_ok "test mse" "$mse"

# 2. the resolved config trains again as it is
check "resolved config is a valid config" "$CLAE" train "$T/a/config.ini" --run "$T/again" --set train.epochs=1 \
    --set data.train_limit=640

# 3. eval recomputes the summary's test metrics from the checkpoint
check "eval RUN" "$CLAE" eval "$T/a"
emse=$(field "$T/a/eval.json" mse)
[ "$emse" = "$mse" ] && ok "eval mse $emse equals the summary's" || not_ok "eval mse equals summary" "$emse vs $mse"
# the model loads alone: no optimizer state is read, so another optimizer evaluates the same
check "eval RUN with another optimizer" "$CLAE" eval "$T/a" --set train.optimizer=sgd
emse2=$(field "$T/a/eval.json" mse)
[ "$emse2" = "$mse" ] && ok "eval loads the model without its optimizer ($emse2)" || not_ok "eval, sgd" "$emse2 vs $mse"
# a changed architecture in config.ini is refused by the first layer that differs
sed 's/^units = 32$/units = 31/' "$T/a/config.ini" > "$T/changed.ini"
if ! cmp -s "$T/a/config.ini" "$T/changed.ini"; then
    mkdir -p "$T/changed" && cp "$T/changed.ini" "$T/changed/config.ini" && cp "$T/a/checkpoint.bin" "$T/changed/"
    expect_error "a checkpoint of another architecture is refused, naming the layer" \
        "the checkpoint holds another model: line" "$CLAE" eval "$T/changed"
else
    not_ok "the e2e config has a 32-unit layer to change"
fi

# 3b. encode the test split to .npy + CSV, decode the codes back to a grid
check "encode RUN" "$CLAE" encode "$T/a"
hdr=$(head -c 128 "$T/a/encode/codes.npy" | tr -d '\000-\011\013-\037\200-\377')
size=$(wc -c < "$T/a/encode/codes.npy")
if printf '%s' "$hdr" | grep -qF "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 32), }" &&
    [ "$size" -eq $((128 + 1000 * 32 * 4)) ] && [ "$(wc -l < "$T/a/encode/codes.csv")" -eq 1001 ] &&
    sed -n 2p "$T/a/encode/codes.csv" | grep -qE '^0,test,0,,[0-9]$'; then
    ok "codes.npy holds (1000, 32) float32 after a 128-byte header; codes.csv a row each"
else not_ok "encode output" "$hdr" "$size" "$(head -2 "$T/a/encode/codes.csv")"; fi
check "decode RUN CODES.npy" "$CLAE" decode "$T/a" "$T/a/encode/codes.npy" -o "$T/decoded.png"
# 1000 codes: 125 rows of 8 images of 28*3 px with 2 px gutters: 690 x 10752
if [ "$(od -An -tu1 -j16 -N8 "$T/decoded.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 178 0 0 42 0" ]; then
    ok "decoded.png is 125 rows x 8 images"; else not_ok "decoded.png size" "$(od -An -tu1 -j16 -N8 "$T/decoded.png")"; fi
printf '\x93NUMPY\x01\x00\x76\x00%-117s\n' "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }" \
    > "$T/three.npy"
printf '\000\000\200\077\000\000\200\077\000\000\200\077' >> "$T/three.npy"
expect_error "decode refuses codes of another size" "three.npy: 3 values per code, but the model's code has 32" \
    "$CLAE" decode "$T/a" "$T/three.npy"
expect_error "encode names the splits it takes" "--split bogus: expected train, val, test or all" \
    "$CLAE" encode "$T/a" --split bogus

# 3c. latent maps: train's report wrote a t-SNE of the 1000 labelled test codes; the command
# maps again reproducibly, by PCA too; the coordinates agree between .npy and CSV
m=$T/a/latent-map
if [ "$(head -c 128 "$m/latent_map.npy" | grep -ac "'shape': (1000, 2)")" -eq 1 ] &&
    [ "$(wc -l < "$m/latent_map.csv")" -eq 1001 ] && grep -q '"method": "tsne-exact"' "$m/latent_map.json" &&
    grep -q ">Ankle boot</text>" "$m/latent_map.svg" && [ "$(grep -c "<circle" "$m/latent_map.svg")" -eq 1010 ]; then
    ok "train's report: a t-SNE map of the 1000 test codes with Fashion-MNIST's class names"
else not_ok "train's latent map" "$(ls "$m")" "$(cat "$m/latent_map.json")"; fi
trust=$(field "$m/latent_map.json" trustworthiness_k10)
awk -v t="$trust" 'BEGIN{exit !(t > 0.9 && t <= 1)}' && ok "the map's trustworthiness is $trust" \
    || not_ok "trustworthiness" "$trust"
[ -s "$T/a/weights/weights.csv" ] && [ ! -d "$T/a/features" ] && ok "report: weights, no feature maps for a dense net" \
    || not_ok "report of a dense net" "$(ls "$T/a")"
check "latent-map --n 300" "$CLAE" latent-map "$T/a" --n 300 -o "$T/lm1/map.png"
check "latent-map again" "$CLAE" latent-map "$T/a" --n 300 -o "$T/lm2/map.png"
cmp -s "$T/lm1/map.npy" "$T/lm2/map.npy" && ok "t-SNE is reproducible under the seed" || not_ok "t-SNE reproducible"
check "latent-map --seed 2" "$CLAE" latent-map "$T/a" --n 300 --seed 2 --method pca -o "$T/lm3/map.png"
grep -q '"method": "pca"' "$T/lm3/map.json" && grep -q '"points": 300' "$T/lm3/map.json" && ok "latent-map --method pca" \
    || not_ok "pca map" "$(cat "$T/lm3/map.json")"
if /usr/bin/python3 -c "import numpy" 2>/dev/null; then
    if /usr/bin/python3 - "$T/lm1" <<'PY'
import csv, sys
import numpy as np
xy = np.load(sys.argv[1] + "/map.npy")
rows = list(csv.DictReader(open(sys.argv[1] + "/map.csv")))
assert xy.shape == (300, 2) and xy.dtype == np.float32 and len(rows) == 300
assert all(abs(float(r["x"]) - a) < 1e-6 * max(1, abs(a)) and abs(float(r["y"]) - b) < 1e-6 * max(1, abs(b))
           for r, (a, b) in zip(rows, xy))
assert rows[0]["split"] == "test" and rows[0]["class"] in ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
PY
    then ok "numpy reads map.npy and it equals the CSV's x, y"; else not_ok "map.npy vs map.csv"; fi
fi
expect_error "latent-map names its methods" "--method umap: expected tsne or pca" "$CLAE" latent-map "$T/a" --method umap
expect_error "latent-map: a perplexity too large for the points" \
    "t-SNE perplexity 500: expected above 0 and below the 100 points" "$CLAE" latent-map "$T/a" --n 100 --perplexity 500
expect_error "latent-map: --n must be whole" "--n 2.5: expected a whole number" "$CLAE" latent-map "$T/a" --n 2.5

# 3d. anomaly detection: a run trained without Sneaker (7); the test split keeps it, and
# `anomaly` scores every test image and reports how well the score finds the held-out class
check "train without class 7" "$CLAE" train "$CFG" --run "$T/anom" --set data.train_limit=2000 \
    --set data.test_limit=500 --set train.epochs=1 --set data.exclude_classes=7 --set report.latent_map=false
"$CLAE" encode "$T/anom" --split all -o "$T/anom_codes/c.npy" > /dev/null 2>&1
if [ -s "$T/anom_codes/c.csv" ] && awk -F, 'NR > 1 && $2 != "test" && $5 == 7 {bad = 1} END {exit bad}' "$T/anom_codes/c.csv" &&
    awk -F, 'NR > 1 && $2 == "test" && $5 == 7 {n++} END {exit !(n > 0)}' "$T/anom_codes/c.csv"; then
    ok "no train or validation sample of the excluded class; the test split keeps it"
else not_ok "excluded class" "$(head -3 "$T/anom_codes/c.csv")"; fi
check "anomaly --score relative" "$CLAE" anomaly "$T/anom" --score relative
a=$T/anom/anomaly
pos=$(awk -F, 'NR > 1 && $5 == 1' "$a/scores.csv" | wc -l); seven=$(awk -F, 'NR > 1 && $4 == 7' "$a/scores.csv" | wc -l)
auc=$(field "$a/scores.json" roc_auc)
if [ "$(wc -l < "$a/scores.csv")" -eq 501 ] && [ "$pos" -eq "$seven" ] && [ "$pos" -gt 0 ] &&
    grep -q "<polyline" "$a/scores_roc.svg" && grep -q "(held out)" "$a/scores_hist.svg" &&
    awk -v x="$auc" 'BEGIN{exit !(x > 0 && x < 1)}'; then
    ok "anomaly: 500 scores, the $pos sevens marked, ROC (AUC $auc) and histograms"
else not_ok "anomaly outputs" "$(ls "$a")" "$(cat "$a/scores.json")"; fi
[ "$(od -An -tu1 -j16 -N8 "$a/scores_top.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 178 0 0 0 174" ] \
    && ok "anomaly: the 16 most anomalous images as 2 rows of 8" || not_ok "scores_top.png size"
check "anomaly --score latent" "$CLAE" anomaly "$T/anom" --score latent -o "$T/anom_latent/s.csv"
grep -q '"score": "latent"' "$T/anom_latent/s.json" && ok "anomaly: the code's Mahalanobis distance" \
    || not_ok "latent score" "$(cat "$T/anom_latent/s.json")"
expect_error "anomaly names its scores" "--score blur: expected mse, relative, bce, ssim or latent" \
    "$CLAE" anomaly "$T/anom" --score blur
"$CLAE" anomaly "$T/a" > "$T/anom_plain.out" 2>&1
grep -q "no classes were held out of training (data.train_classes), so there is no ROC" "$T/anom_plain.out" \
    && ok "anomaly on a run with every class: scores without a ROC, and why" || not_ok "anomaly plain" "$(tail -2 "$T/anom_plain.out")"
expect_error "train_classes and exclude_classes together" "set data.train_classes or data.exclude_classes, not both" \
    "$CLAE" train "$CFG" --set data.train_classes=1,2 --set data.exclude_classes=7

# 3b'. recon: the first 8 test images reproduce training's recon.png byte for byte; a PNG file
# is decoded and resized as the data would be
check "recon RUN --n 8" "$CLAE" recon "$T/a" --n 8
cmp -s "$T/a/recon/recon.png" "$T/a/recon.png" && ok "recon --n 8 reproduces training's recon.png" \
    || not_ok "recon vs recon.png"
[ "$(wc -l < "$T/a/recon/recon.csv")" -eq 9 ] && sed -n 2p "$T/a/recon/recon.csv" | grep -qE '^0,"test:0",[0-9.e-]+,[0-9.]+,[0-9.e-]+$' \
    && ok "recon.csv: MSE, PSNR and SSIM per image" || not_ok "recon.csv" "$(head -3 "$T/a/recon/recon.csv")"
check "recon of a PNG file" "$CLAE" recon "$T/a" "$T/a/recon.png" test:5 -o "$T/file_recon.png"
grep -q "^0,\"$T/a/recon.png\"," "$T/file_recon.csv" && ok "a PNG file is an image reference" \
    || not_ok "recon of a file" "$(cat "$T/file_recon.csv")"
cp "$T/a/config.ini" "$T/bad.png"
expect_error "an unreadable image file is named" "$T/bad.png" "$CLAE" recon "$T/a" "$T/bad.png"

# 3b''. weights: statistics and a histogram per layer, counts adding up to the parameters
check "weights RUN" "$CLAE" weights "$T/a"
counted=$(awk -F, 'NR > 1 {s += $3} END {print s}' "$T/a/weights/weights.csv")
params=$(grep -o '"parameters": [0-9]*' "$T/a/summary.json" | awk '{print $2}')
[ "$counted" = "$params" ] && [ "$(ls "$T/a/weights/"*.svg | wc -l)" -eq 6 ] && grep -q "<polyline" "$T/a/weights/encoder.fc1.svg" \
    && ok "weights.csv counts all $params parameters; one histogram per layer" || not_ok "weights" "$counted vs $params"

# 3c. interpolation and latent arithmetic on dataset indices
check "interp RUN A B" "$CLAE" interp "$T/a" test:0 test:1 --steps 4 -o "$T/interp.png"
# A, 4 steps, B: 6 images of 28*3 px with 2 px gutters = 518 x 88
[ "$(od -An -tu1 -j16 -N8 "$T/interp.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 6 0 0 0 88" ] \
    && ok "interp.png is one strip of A, 4 steps and B" || not_ok "interp.png size"
check "arith RUN with a target" "$CLAE" arith "$T/a" --input test:0 --baseline test:1 --featured test:2 \
    --alpha 0,1 --target test:3 -o "$T/arith.png"
in_mse=$(awk -F, '$1 == "input" {print $2}' "$T/arith.csv")
a0_mse=$(awk -F, '$1 == "0" {print $2}' "$T/arith.csv")
[ -n "$in_mse" ] && [ "$in_mse" = "$a0_mse" ] && ok "alpha 0 decodes to the decoded input ($in_mse)" \
    || not_ok "arith alpha 0" "$(cat "$T/arith.csv")"
expect_error "a name on data without names" "is not a file or an index, and the data has no names" \
    "$CLAE" interp "$T/a" "grinning face" test:0
expect_error "an index past the split" "'test:5000': the test split has 1000 samples (0 to 999)" \
    "$CLAE" interp "$T/a" test:5000 test:0

# 4. resume: 1 epoch + resume to 2 gives the same per-step losses as 2 epochs straight
SMALL=(--set data.train_limit=1280 --set data.test_limit=200 --set train.log_every=1)
check "uninterrupted 2 epochs" "$CLAE" train "$CFG" --run "$T/full" "${SMALL[@]}" --set train.epochs=2
check "1 epoch" "$CLAE" train "$CFG" --run "$T/part" "${SMALL[@]}" --set train.epochs=1
cp -r "$T/part" "$T/killed"
check "resume to 2 epochs" "$CLAE" train --resume "$T/part" --set train.epochs=2
if [ -s "$T/full/steps.csv" ] && cmp -s "$T/full/steps.csv" "$T/part/steps.csv"; then
    ok "resumed run has the same per-step losses as the uninterrupted one"
else not_ok "resume reproduces losses" "$(diff "$T/full/steps.csv" "$T/part/steps.csv" | head -4)"; fi
[ "$(sed -n 3p "$T/full/metrics.csv" | cut -d, -f1-6)" = "$(sed -n 3p "$T/part/metrics.csv" | cut -d, -f1-6)" ] \
    && ok "epoch 2 metrics equal after resume" || not_ok "epoch 2 metrics" "$(tail -1 "$T/full/metrics.csv")" "$(tail -1 "$T/part/metrics.csv")"

# a run killed with -9 after logging epoch 2 but before renaming its checkpoint: resume drops the
# logged rows past the checkpoint, removes the dead writer's temp file, and ends as if never killed
tail -n +$(( $(wc -l < "$T/killed/steps.csv") + 1 )) "$T/full/steps.csv" >> "$T/killed/steps.csv"
sed -n 3p "$T/full/metrics.csv" >> "$T/killed/metrics.csv"
head -c 1000 "$T/killed/checkpoint.bin" > "$T/killed/checkpoint.bin.tmp.999999999"
check "resume a killed run" "$CLAE" train --resume "$T/killed" --set train.epochs=2
if cmp -s "$T/full/steps.csv" "$T/killed/steps.csv" && [ "$(wc -l < "$T/killed/metrics.csv")" -eq 3 ] &&
    [ ! -e "$T/killed/checkpoint.bin.tmp.999999999" ]; then
    ok "resume after a kill: logs aligned to the checkpoint, the stale temp file removed"
else not_ok "resume after a kill" "$(diff "$T/full/steps.csv" "$T/killed/steps.csv" | head -3)" "$(ls "$T/killed")"; fi

# SIGTERM mid-epoch: the step finishes, a checkpoint is written there, the exit status is 143, and
# --resume ends with the same model as the uninterrupted run (test metrics equal; the steps after
# the interrupted epoch log the same losses)
SIG=(--set data.train_limit=3200 --set data.test_limit=200 --set train.log_every=1 --set train.epochs=2
     --set report.latent_map=false --set report.weights=false)
"$CLAE" train "$CFG" --run "$T/sfull" "${SIG[@]}" > /dev/null 2>&1
"$CLAE" train "$CFG" --run "$T/sint" "${SIG[@]}" > "$T/sint.out" 2>&1 &
pid=$!
for _ in $(seq 600); do [ "$(cat "$T/sint/steps.csv" 2>/dev/null | wc -l)" -ge 8 ] && break; sleep 0.05; done
kill -TERM $pid; wait $pid; src=$?
if [ $src -eq 143 ] && grep -q "interrupted (SIGTERM) at epoch 1" "$T/sint.out" && [ -s "$T/sint/checkpoint.bin" ]; then
    ok "SIGTERM: a checkpoint at the step and exit status 143"
else not_ok "SIGTERM" "rc=$src" "$(tail -3 "$T/sint.out")"; fi
check "resume the interrupted run" "$CLAE" train --resume "$T/sint"
if [ "$(field "$T/sint/summary.json" mse)" = "$(field "$T/sfull/summary.json" mse)" ] &&
    [ "$(grep -c ',2,' "$T/sint/steps.csv")" -eq 45 ] &&
    [ "$(grep ',2,' "$T/sint/steps.csv")" = "$(grep ',2,' "$T/sfull/steps.csv")" ]; then
    ok "the resumed run ends where the uninterrupted one does"
else not_ok "resume after SIGTERM" "$(field "$T/sint/summary.json" mse) vs $(field "$T/sfull/summary.json" mse)"; fi

# disk full (a small tmpfs, where this machine lets us mount one): a resumed run that cannot write
# stops with one line naming the file, and the checkpoint of the last epoch still loads
FULL=$T/full_fs
mkdir -p "$FULL"
if mount -t tmpfs -o size=2m tmpfs "$FULL" 2>/dev/null; then
    TINY=(--set encoder.fc1.units=16 --set encoder.fc2.units=8 --set latent.code.units=4 --set decoder.fc1.units=8
          --set decoder.fc2.units=16 --set data.train_limit=320 --set data.test_limit=64
          --set report.latent_map=false --set report.weights=false)
    "$CLAE" train "$CFG" --run "$FULL/run" "${TINY[@]}" --set train.epochs=1 > /dev/null 2>&1
    avail=$(df --output=avail -k "$FULL" | tail -1) # leave 48 KiB: the logs fit, a checkpoint not
    dd if=/dev/zero of="$FULL/filler" bs=1k count=$((avail - 48)) 2>/dev/null
    expect_error "disk full: one line naming the file" "checkpoint.bin: No space left on device" \
        "$CLAE" train --resume "$FULL/run" --set train.epochs=3
    rm -f "$FULL/filler"
    if "$CLAE" eval "$FULL/run" > "$T/full_eval.out" 2>&1 && grep -q "epoch 1" "$T/full_eval.out" &&
        [ -z "$(ls "$FULL/run" | grep '\.tmp\.')" ]; then
        ok "disk full: the last checkpoint loads and no temp file is left"
    else not_ok "disk full: checkpoint" "$(tail -2 "$T/full_eval.out")" "$(ls "$FULL/run")"; fi
    umount "$FULL"
else
    ok "disk full # SKIP cannot mount a tmpfs here"
fi

# --report -: stdout holds one JSON line per epoch and a last "done" line, nothing else
"$CLAE" train "$CFG" --run "$T/jl" --set data.train_limit=640 --set data.test_limit=64 --set train.epochs=2 \
    --set report.latent_map=false --set report.weights=false --report - > "$T/jl.out" 2> "$T/jl.err"
if [ "$(wc -l < "$T/jl.out")" -eq 3 ] && [ "$(grep -c '^{"event": "epoch", "epoch": [12], ' "$T/jl.out")" -eq 2 ] &&
    tail -1 "$T/jl.out" | grep -q '^{"event": "done", "epoch": 2, .*"test": {"images": 64' &&
    grep -q "run directory" "$T/jl.err"; then
    ok "train --report -: JSON lines on stdout, the rest on stderr"
else not_ok "train --report -" "$(head -c 300 "$T/jl.out")"; fi
if /usr/bin/python3 -c "import json" 2>/dev/null; then
    /usr/bin/python3 -c "import json, sys; [json.loads(l) for l in open(sys.argv[1])]" "$T/jl.out" \
        && ok "every --report line parses as JSON" || not_ok "--report lines parse"
fi

# the default device: among devices of one kind, the one with the most compute units
if "$CLAE" devices 2>/dev/null | grep -q "Portable Computing Language"; then
    POCL_DEVICES="pthread basic" "$CLAE" devices > "$T/devs.out" 2>&1
    if [ "$(grep -c '^[ *] [0-9]*:[0-9]* ' "$T/devs.out")" -eq 2 ] && grep -q '^\* .*pthread' "$T/devs.out"; then
        ok "PoCL's pthread device is the default over its one-thread basic device"
    else not_ok "default device among two CPUs" "$(grep ':[0-9] ' "$T/devs.out")"; fi
fi

# clae compare: one device runs twice (determinism); PoCL's two CPU devices agree step for step
CMP=(--steps 6 --set data.train_limit=640 --set data.test_limit=64)
check "compare on one device" "$CLAE" compare "$CFG" --devices 0:0 "${CMP[@]}" -o "$T/cmp1"
if [ "$(grep -c '"images_per_s"' "$T/cmp1/compare.json")" -eq 2 ] && grep -q '"repeat_of_one_device": true' "$T/cmp1/compare.json" &&
    grep -q "losses identical; parameters max abs 0, rel 0; outputs max abs 0" "$T/cmp1/compare.md" &&
    grep -q "<rect x=" "$T/cmp1/compare.svg" && [ "$(wc -l < "$T/cmp1/compare.csv")" -eq 3 ]; then
    ok "compare with one device: two runs, bit-identical"
else not_ok "compare one device" "$(cat "$T/cmp1/compare.md")"; fi
if "$CLAE" devices 2>/dev/null | grep -q "Portable Computing Language"; then
    POCL_DEVICES="pthread basic" "$CLAE" compare "$CFG" --devices all "${CMP[@]}" -o "$T/cmp2" > "$T/cmp2.out" 2>&1
    if [ $? -eq 0 ] && grep -q "basic" "$T/cmp2/compare.md" && grep -q "pthread" "$T/cmp2/compare.md" &&
        grep -q "losses identical" "$T/cmp2/compare.md"; then
        ok "compare pthread and basic: two rows, identical per-step losses"
    else not_ok "compare two devices" "$(tail -4 "$T/cmp2.out")"; fi
fi
"$CLAE" compare "$CFG" --devices 0:0,9:9 "${CMP[@]}" -o "$T/cmp3" > "$T/cmp3.out" 2>&1; crc=$?
[ $crc -eq 0 ] && grep -q "| 9:9 | .*failed: " "$T/cmp3/compare.md" && ok "a device that fails is a row; the others go on" \
    || not_ok "compare with a failing device" "rc=$crc" "$(tail -3 "$T/cmp3.out")"

# 4b. early stopping: with lr 0 nothing improves after epoch 1; patience 2 stops after epoch 3
"$CLAE" train "$CFG" --run "$T/stop" --set data.train_limit=320 --set data.test_limit=64 --set train.epochs=10 \
    --set train.lr=0 --set train.patience=2 > "$T/stop.out" 2>&1
grep -q "early stop after epoch 3" "$T/stop.out" && [ "$(wc -l < "$T/stop/metrics.csv")" -eq 4 ] \
    && ok "early stopping after patience epochs" || not_ok "early stopping" "$(tail -3 "$T/stop.out")"

# 4c. denoising: noisy input, loss against the clean one; the grid shows noisy, denoised, clean
check "denoising run" "$CLAE" train "$CFG" --run "$T/noise" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs=1 --set train.noise=gaussian --set train.noise_level=0.2
nmse=$(field "$T/noise/summary.json" noisy_input_mse)
awk -v m="$nmse" 'BEGIN{exit !(m > 0.035 && m < 0.045)}' && ok "the noisy input's mse is about sigma^2 ($nmse)" \
    || not_ok "noisy input mse" "$nmse"
[ "$(od -An -tu1 -j20 -N4 "$T/noise/recon.png" | tr -s ' ' | sed 's/^ //')" = "0 0 1 4" ] \
    && ok "the denoising grid has three rows (noisy, denoised, clean)" || not_ok "denoising grid height"
# clae denoise draws evaluation's corruption: the run's own noise on the first 8 test images is its recon.png
check "denoise RUN" "$CLAE" denoise "$T/noise"
cmp -s "$T/noise/denoise/denoise.png" "$T/noise/recon.png" && ok "denoise reproduces the run's recon.png" \
    || not_ok "denoise vs recon.png"
[ "$(wc -l < "$T/noise/denoise/denoise.csv")" -eq 9 ] && ok "denoise.csv: noisy and denoised MSE per image" \
    || not_ok "denoise.csv" "$(cat "$T/noise/denoise/denoise.csv")"
expect_error "an unknown noise" "--noise blur:2: expected gaussian:SIGMA, salt_pepper:P or mask:P" \
    "$CLAE" denoise "$T/noise" --noise blur:2

# 4d. VAE: KL reported apart, samples decoded from the prior (2 rows of 8)
check "vae run" "$CLAE" train "$SRC/configs/vae_fmnist.ini" --run "$T/vae" --set data.train_limit=640 \
    --set data.test_limit=64 --set train.epochs=1
kl=$(field "$T/vae/summary.json" kl)
awk -v k="$kl" 'BEGIN{exit !(k > 0)}' && ok "the vae summary reports KL ($kl)" || not_ok "vae KL" "$kl"
[ "$(od -An -tu1 -j16 -N8 "$T/vae/samples.png" | tr -s ' ' | sed 's/^ //')" = "0 0 2 178 0 0 0 174" ] \
    && ok "samples.png holds 2 x 8 samples" || not_ok "samples.png size"
# clae sample: the same prior draws as training's samples.png (seed, temperature 1), and its codes decode
# to the same picture
check "sample RUN" "$CLAE" sample "$T/vae" --n 16
cmp -s "$T/vae/sample/samples.png" "$T/vae/samples.png" && ok "clae sample --n 16 draws what training drew" \
    || not_ok "sample vs samples.png"
check "encode --logvar" "$CLAE" encode "$T/vae" --logvar -o "$T/vae_codes/z.npy"
[ "$(head -c 128 "$T/vae_codes/z_logvar.npy" | grep -ac "'shape': (64, 32)")" -eq 1 ] &&
    ! cmp -s "$T/vae_codes/z.npy" "$T/vae_codes/z_logvar.npy" && ok "encode --logvar writes a VAE's log-variances" \
    || not_ok "encode --logvar" "$(ls "$T/vae_codes")"
expect_error "encode --logvar on a plain autoencoder" "is not a VAE (its model has no vae layer)" \
    "$CLAE" encode "$T/a" --logvar
check "decode the sampled codes" "$CLAE" decode "$T/vae" "$T/vae/sample/samples_z.npy" -o "$T/vae_dec.png" --each
[ "$(ls "$T"/vae_dec_*.png | wc -l)" -eq 16 ] && ok "decode --each writes a PNG per code" || not_ok "decode --each"
cmp -s "$T/vae/sample/samples.png" "$T/vae_dec.png" && ok "decode(sampled codes) is the sample grid" \
    || not_ok "decode of samples_z.npy"
expect_error "sample refuses a plain autoencoder" "a plain autoencoder's codes have no prior" \
    "$CLAE" sample "$T/a"
"$CLAE" info "$T/vae" > "$T/info.out" 2>&1
grep -q "^latent.z *vae .*<- code" "$T/info.out" && grep -q "^total: 4 layers, 667248 parameters" "$T/info.out" \
    && ok "info lists the layers with the code marked" || not_ok "info" "$(cat "$T/info.out")"

# 5. the convolutional configs train through the CLI (a few steps each)
for cfg in conv_fmnist convT_fmnist; do
    check "$cfg trains a few steps" "$CLAE" train "$SRC/configs/$cfg.ini" --run "$T/$cfg" \
        --set data.train_limit=320 --set data.test_limit=64 --set train.epochs=1
    grep -q '"mse"' "$T/$cfg/summary.json" && ok "$cfg wrote its summary" || not_ok "$cfg summary"
done
# feature maps: one grid per convolution of the net (train's report wrote them too)
convs=$(grep -cE '^type = conv(_transpose)?$' "$T/conv_fmnist/config.ini")
[ "$(ls "$T/conv_fmnist/features/"*.png | wc -l)" -eq "$convs" ] && [ -s "$T/conv_fmnist/latent-map/latent_map.png" ] \
    && ok "train's report: feature maps of a conv net and its latent map" || not_ok "conv report" "$(ls "$T/conv_fmnist")"
check "a run with [report] switched off" "$CLAE" train "$SRC/configs/conv_fmnist.ini" --run "$T/quiet" \
    --set data.train_limit=64 --set data.test_limit=64 --set train.epochs=1 --set report.latent_map=false \
    --set report.weights=false --set report.features=false
[ ! -d "$T/quiet/latent-map" ] && [ ! -d "$T/quiet/weights" ] && [ ! -d "$T/quiet/features" ] \
    && ok "no report pictures when [report] asks for none" || not_ok "report off" "$(ls "$T/quiet")"
check "features RUN" "$CLAE" features "$T/conv_fmnist" test:2
[ "$(ls "$T/conv_fmnist/features/"*.png | wc -l)" -eq "$convs" ] && ok "features wrote a grid for each of $convs convolutions" \
    || not_ok "features" "$(ls "$T/conv_fmnist/features/")"
expect_error "features on a net without convolutions" "the model has no conv or conv_transpose layer" \
    "$CLAE" features "$T/a"

# 6. other data formats through the CLI: a folder of PNGs (copies of recon.png) and a CSV table
mkdir -p "$T/pngs"
for i in $(seq 1 12); do cp "$T/a/recon.png" "$T/pngs/img$i.png"; done
DENSE16=(--set encoder.fc1.units=32 --set encoder.fc2.units=16 --set latent.code.units=8 --set decoder.fc1.units=16
         --set decoder.fc2.units=32 --set decoder.out.units=192 --set train.epochs=2)
check "train on a folder of PNGs with augmentation" "$CLAE" train "$CFG" --run "$T/folder" "${DENSE16[@]}" \
    --set data.format=folder --set data.path="$T/pngs" --set data.image=3x8x8 --set augment.copies=3 \
    --set augment.hflip=0.5 --set augment.rotate=15
[ "$(grep -c '^train,' "$T/folder/split.csv")" -gt 0 ] && [ "$(grep -c '^test,' "$T/folder/split.csv")" -gt 0 ] \
    && ok "split.csv lists the samples of each split" || not_ok "split.csv" "$(head -3 "$T/folder/split.csv")"
printf 'file,label\n' > "$T/labels.csv"; for i in $(seq 1 11); do echo "img$i.png,$((i % 2))" >> "$T/labels.csv"; done
out=$("$CLAE" train "$CFG" --run "$T/labelled" "${DENSE16[@]}" --set train.epochs=1 --set data.format=folder \
      --set data.path="$T/pngs" --set data.labels="$T/labels.csv" --set data.image=3x8x8 2>&1)
echo "$out" | grep -q "data: label 0 for 1 image not listed in $T/labels.csv" \
    && grep -q '"unlisted_files": 1' "$T/labelled/summary.json" \
    && ok "a labels CSV that leaves out img12.png: said, and counted in the summary" || not_ok "unlisted" "$out"
grep -q '"train": 21' "$T/folder/summary.json" && ok "augment.copies = 3 triples the training split (7 x 3)" \
    || not_ok "copies" "$(grep data "$T/folder/summary.json")"
# augment.redraw: fresh variants every epoch, still reproducible across a resume
AUG=(--set data.format=folder --set data.path="$T/pngs" --set data.image=3x8x8 --set augment.copies=3
     --set augment.hflip=0.5 --set augment.rotate=15 --set augment.redraw=true)
check "redraw: 2 epochs" "$CLAE" train "$CFG" --run "$T/rd2" "${DENSE16[@]}" "${AUG[@]}"
check "redraw: 1 epoch" "$CLAE" train "$CFG" --run "$T/rd1" "${DENSE16[@]}" "${AUG[@]}" --set train.epochs=1
check "redraw: resume to 2 epochs" "$CLAE" train --resume "$T/rd1" --set train.epochs=2
if cmp -s <(cut -d, -f3 "$T/rd2/steps.csv") <(cut -d, -f3 "$T/rd1/steps.csv"); then
    ok "redraw: a resumed run sees the same variants as an uninterrupted one"
else not_ok "redraw resume" "$(paste -d' ' "$T/rd2/steps.csv" "$T/rd1/steps.csv" | tail -3)"; fi
e2_fixed=$(awk -F, 'NR==3{print $3}' "$T/folder/metrics.csv"); e2_redraw=$(awk -F, 'NR==3{print $3}' "$T/rd2/metrics.csv")
[ -n "$e2_fixed" ] && [ "$e2_fixed" != "$e2_redraw" ] && ok "redraw changes what epoch 2 trains on" \
    || not_ok "redraw changes the variants" "fixed $e2_fixed redraw $e2_redraw"
awk 'BEGIN { srand(1); print "label,p0,p1,p2,p3"; for (r = 0; r < 40; r++) { printf "%d", r % 3;
     for (i = 0; i < 4; i++) printf ",%d", int(rand() * 256); print "" } }' > "$T/table.csv"
check "train on a CSV table" "$CLAE" train "$CFG" --run "$T/csv" --set data.format=csv --set data.path="$T/table.csv" \
    --set data.image=1x2x2 --set data.stratify=true --set encoder.fc1.units=3 --set encoder.fc2.units=3 \
    --set latent.code.units=2 --set decoder.fc1.units=3 --set decoder.fc2.units=3 --set decoder.out.units=4
expect_error "a split with no samples names the key" "data.split = 1,0,0 of 40 images gives 40 train, 0 validation and 0 test" \
    "$CLAE" train "$CFG" --run "$T/nosplit" --set data.format=csv --set data.path="$T/table.csv" --set data.image=1x2x2 \
    --set data.split=1,0,0 --set decoder.out.units=4
[ ! -d "$T/nosplit" ] && ok "an empty split leaves no run directory" || not_ok "no run directory for an empty split"
expect_error "an empty validation split of an IDX file names val_fraction" "data.val_fraction = 0 of 640 training images" \
    "$CLAE" train "$CFG" --set data.train_limit=640 --set data.val_fraction=0
printf '1,2,3\n' > "$T/short.csv"
expect_error "CSV rows of the wrong width name file:line" "short.csv:1: expected 5 columns" \
    "$CLAE" train "$CFG" --set data.format=csv --set data.path="$T/short.csv" --set data.image=1x2x2 \
    --set decoder.out.units=4
expect_error "emoji without prepared data says how to prepare it" "scripts/prepare_data.sh emoji --vendors google" \
    "$CLAE" train "$SRC/configs/convT_emoji.ini" --set data.path="$T/nowhere"

# 6b. the variants of configs/: multitask, sparse, convolutional VAE, compression
MT=(--set data.train_limit=3200 --set data.test_limit=500 --set train.epochs=2 --set train.log_every=10)
check "multitask_fmnist trains" "$CLAE" train "$SRC/configs/multitask_fmnist.ini" --run "$T/mt" "${MT[@]}"
acc=$(field "$T/mt/summary.json" accuracy)
awk -v a="$acc" 'BEGIN{exit !(a > 0.5)}' && ok "the classifier head learns (test accuracy $acc, chance 0.1)" \
    || not_ok "multitask accuracy" "$acc"
grep -q '"confusion": \[\[' "$T/mt/summary.json" && [ -s "$T/mt/accuracy.svg" ] \
    && ok "the summary has a confusion matrix and the run an accuracy plot" || not_ok "confusion matrix, accuracy.svg"
# lambda = 0 must give exactly the plain autoencoder: same per-step losses without the head
awk '/^\[classifier\./{skip=1} /^\[/{if ($0 !~ /^\[classifier\./) skip=0} !skip' \
    "$SRC/configs/multitask_fmnist.ini" | grep -v '^lambda' > "$T/plain.ini"
check "the same autoencoder without the head" "$CLAE" train "$T/plain.ini" --run "$T/plain" "${MT[@]}"
check "multitask with lambda = 0" "$CLAE" train "$SRC/configs/multitask_fmnist.ini" --run "$T/mt0" "${MT[@]}" \
    --set train.lambda=0
if [ -s "$T/plain/steps.csv" ] && cmp -s "$T/plain/steps.csv" "$T/mt0/steps.csv"; then
    ok "lambda = 0 reproduces the plain autoencoder's losses exactly"
else not_ok "lambda = 0 reproduces the plain autoencoder" "$(diff "$T/plain/steps.csv" "$T/mt0/steps.csv" | head -4)"; fi
check "sparse_fmnist trains" "$CLAE" train "$SRC/configs/sparse_fmnist.ini" --run "$T/sparse" "${MT[@]}" \
    --set train.latent_l1=1e-3
check "the same net without the penalty" "$CLAE" train "$SRC/configs/sparse_fmnist.ini" --run "$T/dense" "${MT[@]}" \
    --set train.latent_l1=0
zs=$(field "$T/sparse/summary.json" code_zero_fraction); zd=$(field "$T/dense/summary.json" code_zero_fraction)
ms=$(field "$T/sparse/summary.json" code_mean); md=$(field "$T/dense/summary.json" code_mean)
awk -v a="$ms" -v b="$md" -v za="$zs" -v zb="$zd" 'BEGIN{exit !(a < 0.7 * b && za > zb)}' \
    && ok "the L1 penalty makes the code sparser (mean $ms vs $md, near zero $zs vs $zd)" \
    || not_ok "sparse code" "mean $ms vs $md, zero $zs vs $zd"
check "sparse with the KL penalty on a sigmoid code" "$CLAE" train "$SRC/configs/sparse_fmnist.ini" --run "$T/kl" \
    "${MT[@]}" --set train.latent_l1=0 --set train.latent_kl=0.5 --set train.latent_rho=0.05 \
    --set latent.code.activation=sigmoid
mk=$(field "$T/kl/summary.json" code_mean)
awk -v a="$mk" 'BEGIN{exit !(a > 0 && a < 0.15)}' && ok "the KL penalty pulls the mean activation toward rho ($mk)" \
    || not_ok "KL sparsity" "$mk"
check "conv_vae_fmnist trains" "$CLAE" train "$SRC/configs/conv_vae_fmnist.ini" --run "$T/cvae" \
    --set data.train_limit=640 --set data.test_limit=64 --set train.epochs=1
[ -s "$T/cvae/samples.png" ] && awk -v k="$(field "$T/cvae/summary.json" kl)" 'BEGIN{exit !(k > 0)}' \
    && ok "the conv VAE reports KL and writes samples" || not_ok "conv VAE KL, samples"
check "the compression net at a non-square size (3x16x24, folder data)" "$CLAE" train \
    "$SRC/configs/compression_emoji_48x72.ini" --run "$T/comp" --set data.format=folder --set data.path="$T/pngs" \
    --set data.image=3x16x24 --set train.epochs=2 --set train.batch_size=4
psnr=$(field "$T/comp/summary.json" psnr_db); ssim=$(field "$T/comp/summary.json" ssim)
bpp=$(field "$T/comp/summary.json" raw_bits_per_pixel)
awk -v p="$psnr" -v s="$ssim" -v b="$bpp" 'BEGIN{exit !(p > 0 && s > -1 && s <= 1 && b == 2)}' \
    && ok "the compression summary has PSNR $psnr dB, SSIM $ssim, $bpp bits per pixel" \
    || not_ok "compression metrics" "psnr $psnr ssim $ssim bpp $bpp"

# 7. bad input: one line on stderr, non-zero exit, no partial run
# a diverging run stops at the interval where the loss went non-finite, naming where, and writes
# no checkpoint of the broken epoch (SGD, summed loss, a linear output and lr 1 blow up at once)
expect_error "a diverging run stops with where it went non-finite" \
    "epoch 1: the training loss became NaN between steps 1 and 9; the first non-finite values are in [" \
    "$CLAE" train "$SRC/configs/multilayer_fmnist.ini" --run "$T/nan" --set train.optimizer=sgd --set train.reduction=sum \
    --set decoder.out.activation=none --set train.lr=1 --set data.train_limit=640 --set data.test_limit=64 \
    --set train.log_every=10
[ ! -e "$T/nan/checkpoint.bin" ] && ok "no checkpoint of the diverged epoch" || not_ok "diverged run wrote a checkpoint"
# a layer too large for 32-bit offsets is refused by name before anything is sized from it
expect_error "a dense layer of 5,478,275 units" "[decoder.fc2] its weights would hold 2.805e+09 values: at most 2147483647 per tensor" \
    "$CLAE" train "$CFG" --set decoder.fc1.units=5478275 --set data.train_limit=64
printf '[train]\nlr = fast\n[encoder.a]\ntype = dense\nunits = 4\n' > "$T/bad.ini"
expect_error "bad value names file:line and what is expected" "bad.ini:2: [train] lr = fast: expected a number" \
    "$CLAE" train "$T/bad.ini"
expect_error "unknown key via --set" "--set train.lrr=1: unknown key 'lrr' in [train]" \
    "$CLAE" train "$CFG" --set train.lrr=1
expect_error "decoder that does not return to the input size" \
    "[decoder.out] outputs 100x1x1 (100 values) but the input is 1x28x28" \
    "$CLAE" train "$CFG" --set decoder.out.units=100 --run "$T/shape"
expect_error "resume past the last epoch is refused" "already has 2 of 2 epochs" "$CLAE" train --resume "$T/part"
[ ! -e "$T/shape" ] && ok "a failed config leaves no run directory" || not_ok "no partial run directory"
cat > "$T/res.ini" <<'INI'
[encoder.a]
type = conv
channels = 4
kernel = 3
padding = 1

[encoder.b]
type = conv
channels = 4
kernel = 3
stride = 2
padding = 1

[encoder.skip]
type = residual
from = encoder.a

[decoder.out]
type = dense
units = 784
INI
expect_error "residual between mismatched shapes names both layers and shapes" \
    "res.ini:14: [encoder.skip] adds [encoder.a] (4x28x28) to its input from [encoder.b] (4x14x14): shapes differ" \
    "$CLAE" train "$T/res.ini"
expect_error "a classifier head needs labels" "a classifier head needs labels" \
    "$CLAE" train "$SRC/configs/multitask_fmnist.ini" --set data.train_labels= --run "$T/nolabels"
expect_error "a classifier head with too few outputs" "[classifier.out] outputs 3 classes but the data has label" \
    "$CLAE" train "$SRC/configs/multitask_fmnist.ini" --set classifier.out.units=3 --run "$T/fewclasses"
printf '[encoder.a]\ntype = dense\nunits = 4\n[classifier.c]\ntype = dense\nunits = 2\n[decoder.out]\ntype = dense\nunits = 784\n' > "$T/order.ini"
expect_error "the classifier head goes last" "order.ini:7: [decoder.out] comes after a [classifier.NAME] section" \
    "$CLAE" train "$T/order.ini"
expect_error "the KL sparsity penalty needs a sigmoid code" "train.latent_kl needs a code in (0, 1)" \
    "$CLAE" train "$SRC/configs/sparse_fmnist.ini" --set train.latent_kl=0.1
# speed: bench writes its table as JSON; tune stores choices that later runs apply
check "bench a workload and a GEMM shape" "$CLAE" bench mlp_fmnist,64x784x512 --steps 2 --json "$T/bench.json"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); w=d["workloads"][0]; g=d["gemm"]
assert w["name"]=="mlp_fmnist" and w["images_per_s"]>0 and 0<w["fraction_of_peak"] and w["gflop_per_step"]>0.3
assert [x["shape"] for x in g]==["peak 1024^3","64x784x512"] and all(x["gflops"]>0 for x in g)
# the FMA peak bounds what SGEMM reaches (with room for a noisy machine), workloads share it
assert d["fma_peak_gflops"]>0 and g[0]["gflops"]<1.5*d["fma_peak_gflops"], d
assert 0<w["fraction_of_fma_peak"]<1.5' "$T/bench.json"
then ok "bench JSON holds the workload and the shapes"; else not_ok "bench JSON" "$(head -c 600 "$T/bench.json")"; fi
(cd "$T" && CLAE_CACHE_DIR="$T/cache" "$CLAE" tune mlp_fmnist --seconds 10) > "$T/tune.out" 2>&1 # finds the config in the source tree
tuned=$(ls "$T"/cache/tuning/*.ini 2>/dev/null | head -1)
if [ -n "$tuned" ] && grep -q "^NT 64x512x784 = " "$tuned" && grep -q "^fallback = " "$tuned"; then
    ok "tune stores a choice per shape of mlp_fmnist"; else not_ok "tune file" "$(tail -3 "$T/tune.out")"; fi
CLAE_CACHE_DIR="$T/cache" "$CLAE" train "$CFG" --run "$T/tuned" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs=1 > "$T/tuned.out" 2>&1
grep -q "^GEMM: tuned (" "$T/tuned.out" && grep -q "^test:" "$T/tuned.out" && ok "a later run applies the tuning and says so" \
    || not_ok "a later run applies the tuning" "$(head -3 "$T/tuned.out")"
# tuning without asking: the first run on an untuned device times the config's shapes within
# train.autotune seconds and stores them as clae tune does; the next run applies them
AUTO=(--set data.train_limit=640 --set data.test_limit=64 --set train.epochs=1)
env -u CLAE_NO_AUTOTUNE CLAE_CACHE_DIR="$T/autocache" "$CLAE" train "$CFG" --run "$T/auto1" \
    --set train.autotune=3 "${AUTO[@]}" > "$T/auto1.out" 2>&1
autofile=$(ls "$T"/autocache/tuning/*.ini 2>/dev/null | head -1)
if grep -q "^autotune: .* shapes in " "$T/auto1.out" && grep -q "^GEMM: autotuned (" "$T/auto1.out" &&
    [ -n "$autofile" ] && grep -qE "^N[NT] 64x" "$autofile" && grep -q "^test:" "$T/auto1.out"
then ok "the first run on an untuned device tunes its shapes and trains"
else not_ok "autotune" "$(head -5 "$T/auto1.out")"; fi
env -u CLAE_NO_AUTOTUNE CLAE_CACHE_DIR="$T/autocache" "$CLAE" train "$CFG" --run "$T/auto2" \
    --set train.autotune=3 "${AUTO[@]}" > "$T/auto2.out" 2>&1
grep -q "^GEMM: tuned (" "$T/auto2.out" && ! grep -q "^autotune:" "$T/auto2.out" &&
    ok "the next run applies the stored tuning without tuning again" ||
    not_ok "after autotune" "$(head -3 "$T/auto2.out")"
for skip in "--no-autotune" "--set train.autotune=0"; do
    # shellcheck disable=SC2086
    env -u CLAE_NO_AUTOTUNE CLAE_CACHE_DIR="$T/noauto-cache" "$CLAE" train "$CFG" --run "$T/noauto" \
        $skip "${AUTO[@]}" > "$T/noauto.out" 2>&1
    if ! grep -q "^autotune:" "$T/noauto.out" && grep -q "^GEMM: defaults" "$T/noauto.out" &&
        ! ls "$T"/noauto-cache/tuning/*.ini > /dev/null 2>&1
    then ok "$skip skips the autotune"; else not_ok "$skip" "$(head -3 "$T/noauto.out")"; fi
    rm -rf "$T/noauto" "$T/noauto-cache"
done
[ -n "$tuned" ] && sed -i 's/^fallback = .*/fallback = own:5x5x5/' "$tuned"
CLAE_CACHE_DIR="$T/cache" "$CLAE" train "$CFG" --run "$T/stale" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs=1 > "$T/stale.out" 2> "$T/stale.err"
grep -q "ignoring the tuning in .*own:5x5x5 is not an engine" "$T/stale.err" && grep -q "^GEMM: defaults" "$T/stale.out" \
    && ok "a broken tuning file is ignored with a warning" || not_ok "broken tuning file" "$(cat "$T/stale.err")"
CLAE_GEMM=clblast "$CLAE" train "$CFG" --run "$T/clblast" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs=1 > "$T/clblast.out" 2>&1
CLAE_GEMM=own "$CLAE" train "$CFG" --run "$T/own" --set data.train_limit=640 --set data.test_limit=64 \
    --set train.epochs=1 > "$T/own.out" 2>&1
if awk -v a="$(field "$T/clblast/summary.json" mse)" -v b="$(field "$T/own/summary.json" mse)" \
    'BEGIN{d=a-b; if(d<0)d=-d; exit !(a>0 && d<1e-4*a)}'; then ok "CLBlast and the own GEMM train to the same test mse"
else not_ok "CLBlast and own GEMM agree" "$(field "$T/clblast/summary.json" mse) vs $(field "$T/own/summary.json" mse)"; fi
"$CLAE" train "$CFG" --run "$T/prof" --set data.train_limit=640 --set data.test_limit=64 --set train.epochs=1 \
    --profile > "$T/prof.out" 2>&1
grep -q "^profile (device time per step):" "$T/prof.out" && grep -q "adam_step\|adamw_step" "$T/prof.out" \
    && ok "train --profile prints device time per kernel per step" || not_ok "train --profile" "$(tail -5 "$T/prof.out")"
expect_error "CLAE_GEMM must name an engine" "CLAE_GEMM=cublas: expected 'clblast', 'own'" \
    env CLAE_GEMM=cublas "$CLAE" bench 64x64x64
expect_error "bench names a missing config" "bench: 'no_such_net': no config configs/no_such_net.ini here" \
    "$CLAE" bench no_such_net
expect_error "bench --json into a missing folder fails before measuring" "bench: --json /nonexistent/b.json: cannot write into /nonexistent" \
    "$CLAE" bench 64x64x64 --json /nonexistent/b.json
expect_error "bench --steps must be positive" "--steps '0': expected a positive number" "$CLAE" bench --steps 0
expect_error "unknown device" "--device=quantum matches no device" "$CLAE" devices --device quantum
"$CLAE" devices --peak > "$T/peak.out" 2>&1
if grep -qE "^ +FMA peak [0-9.]+ GFLOP/s \(float(1|4|8|16);" "$T/peak.out" &&
    ! grep -q "FMA peak 0.0 " "$T/peak.out"; then ok "devices --peak measures the FMA peak"
else not_ok "devices --peak" "$(tail -3 "$T/peak.out")"; fi
expect_error "missing data file" "/nonexistent/x.gz: cannot open" "$CLAE" train "$CFG" --set data.train_images=/nonexistent/x.gz
head -c 1000 "$T/a/checkpoint.bin" > "$T/a/cut.bin" && mv "$T/a/cut.bin" "$T/a/checkpoint.bin"
expect_error "truncated checkpoint" "truncated checkpoint" "$CLAE" eval "$T/a"
mkdir -p "$T/empty-vendors"
OCL_ICD_VENDORS="$T/empty-vendors" expect_error "no OpenCL platform names the package" "apt-get install pocl-opencl-icd" \
    "$CLAE" devices

echo "1..$n"
exit $((failed > 0))
