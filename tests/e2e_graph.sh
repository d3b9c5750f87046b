#!/usr/bin/env bash
# End-to-end graph autoencoders through the CLI: GAE and VGAE train on Cora
# (tests/data/cora) and beat chance by a clear margin in a few epochs; the run
# directory holds what the guide says; resume continues with the same losses;
# encode and latent-map give node codes; negative sampling trains without the
# N x N matrix; bad edge lists and configs give one line and a non-zero exit.
# Output is TAP. usage: e2e_graph.sh PATH/TO/clae SOURCE_ROOT
set -u
CLAE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$2
T=$(mktemp -d /tmp/clae-e2e-graph.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
CORA=(--set data.path="$SRC/tests/data/cora/cora.cites")

# 1. GAE on Cora: 60 epochs reach a test AUC far above chance (0.5; 200 epochs give ~0.85)
check "gae_cora trains 60 epochs" "$CLAE" train "$SRC/configs/gae_cora.ini" --run "$T/gae" "${CORA[@]}" \
    --set train.epochs=60
auc=$(field "$T/gae/summary.json" auc)
ap=$(field "$T/gae/summary.json" ap)
awk -v a="$auc" -v p="$ap" 'BEGIN{exit !(a > 0.75 && p > 0.75)}' && ok "test AUC $auc and AP $ap > 0.75" \
    || not_ok "gae test AUC/AP" "$auc $ap"
grep -q "data: graph of 2708 nodes and 5278 edges (5429 lines: 0 self-loops and 151 duplicates" "$T/check.out" \
    && ok "Cora reads as 2,708 nodes and 5,278 edges" || not_ok "Cora counts" "$(grep data: "$T/check.out")"
for f in config.ini metrics.csv loss.svg auc.svg checkpoint.bin best.bin summary.json split.csv; do
    [ -s "$T/gae/$f" ] || not_ok "run directory holds $f"
done
[ "$(wc -l < "$T/gae/metrics.csv")" -eq 61 ] && ok "metrics.csv has 60 epochs" || not_ok "metrics.csv rows"
head -1 "$T/gae/metrics.csv" | grep -q ",val_auc,val_ap$" && ok "metrics.csv has val_auc and val_ap" \
    || not_ok "metrics.csv columns" "$(head -1 "$T/gae/metrics.csv")"
# split.csv: every edge once (train + val + test positives = 5,278), as many non-edges as held-out edges
counts=$(awk -F, 'NR>1{c[$1","$4]++} END{printf "%d %d %d %d %d", c["train,1"], c["val,1"], c["val,0"], c["test,1"], c["test,0"]}' "$T/gae/split.csv")
[ "$counts" = "4488 263 263 527 527" ] && ok "split.csv: 4488 train, 263 + 263 val, 527 + 527 test" \
    || not_ok "split.csv counts" "$counts"

# 2. resume: 30 + 30 epochs give the same test AUC as 60 at once (one full-batch step an epoch)
"$CLAE" train "$SRC/configs/gae_cora.ini" --run "$T/half" "${CORA[@]}" --set train.epochs=30 >/dev/null 2>&1
check "resume a graph run" "$CLAE" train --resume "$T/half" --set train.epochs=60
auc2=$(field "$T/half/summary.json" auc)
[ "$auc2" = "$auc" ] && ok "resumed AUC $auc2 equals the uninterrupted run's" || not_ok "resume AUC" "$auc2 vs $auc"
l1=$(awk -F, 'NR==61{print $3}' "$T/gae/metrics.csv"); l2=$(awk -F, 'NR==61{print $3}' "$T/half/metrics.csv")
[ "$l1" = "$l2" ] && ok "epoch 60's loss is the same ($l1)" || not_ok "resumed loss" "$l1 vs $l2"

# 3. encode and latent-map
check "encode a graph run" "$CLAE" encode "$T/gae"
hdr=$(head -c 128 "$T/gae/encode/codes.npy" | tr -d '\000-\011\013-\037\200-\377')
printf '%s' "$hdr" | grep -qF "'shape': (2708, 16)" && [ "$(wc -l < "$T/gae/encode/codes.csv")" -eq 2709 ] \
    && ok "codes.npy holds 2708 node codes of 16" || not_ok "codes.npy" "$hdr"
check "latent-map of a graph run" "$CLAE" latent-map "$T/gae"
[ -s "$T/gae/latent-map/latent_map.png" ] && [ "$(wc -l < "$T/gae/latent-map/latent_map.csv")" -eq 2709 ] \
    && ok "latent map of 2708 nodes" || not_ok "latent map files"

# 4. VGAE, and negative sampling on a labelled graph with features
# 80 epochs: test AUC 0.83 on the EPYC (40 give only 0.70: the KL holds the codes back early)
check "vgae_cora trains 80 epochs" "$CLAE" train "$SRC/configs/vgae_cora.ini" --run "$T/vgae" "${CORA[@]}" \
    --set train.epochs=80
vauc=$(field "$T/vgae/summary.json" auc)
awk -v a="$vauc" 'BEGIN{exit !(a > 0.75)}' && ok "vgae test AUC $vauc > 0.75" || not_ok "vgae AUC" "$vauc"
grep -q '"kl": ' "$T/vgae/summary.json" || grep -q "train_kl" "$T/vgae/metrics.csv" && ok "vgae logs its KL" \
    || not_ok "vgae KL"
# two communities of 30 nodes (dense inside, sparse between), features = the community plus noise
awk 'BEGIN{srand(3); for(i=0;i<60;i++) for(j=i+1;j<60;j++){same=int(i/30)==int(j/30);
    if(rand() < (same ? 0.3 : 0.02)) print "v" i, "v" j}}' > "$T/sbm.txt"
awk 'BEGIN{srand(4); print "node,a,b"; for(i=0;i<60;i++) printf "v%d,%.3f,%.3f\n", i, int(i/30)+rand()*0.5, rand()}' > "$T/feat.csv"
awk 'BEGIN{print "node,community"; for(i=0;i<60;i++) printf "v%d,c%d\n", i, int(i/30)}' > "$T/lab.csv"
check "negative sampling with features and labels" "$CLAE" train "$SRC/configs/gae_cora.ini" --run "$T/neg" \
    --set data.path="$T/sbm.txt" --set data.features="$T/feat.csv" --set data.labels="$T/lab.csv" \
    --set train.negatives=2 --set train.epochs=100
grep -q "loss over sampled non-edges" "$T/check.out" && grep -q "2 features per node, 2 labels" "$T/check.out" \
    && ok "the run says what it read" || not_ok "negatives run output" "$(grep -E 'data:|edges:' "$T/check.out")"
nauc=$(field "$T/neg/summary.json" auc)
awk -v a="$nauc" 'BEGIN{exit !(a > 0.75)}' && ok "two communities: test AUC $nauc > 0.75" || not_ok "sbm AUC" "$nauc"
[ -s "$T/neg/latent-map/latent_map.svg" ] && grep -q "c1" "$T/neg/latent-map/latent_map.svg" \
    && ok "a labelled graph's run maps its codes with the class names" || not_ok "sbm latent map"

# 5. bad input: one line, file:line and what is expected
printf 'a b\nc\n' > "$T/bad.txt"
expect_error "an edge line with one id" "$T/bad.txt:2: expected two node ids" \
    "$CLAE" train "$SRC/configs/gae_cora.ini" --set data.path="$T/bad.txt"
printf 'a a\n' > "$T/loops.txt"
expect_error "only self-loops" "no edges (1 lines, 1 self-loops)" \
    "$CLAE" train "$SRC/configs/gae_cora.ini" --set data.path="$T/loops.txt"
printf 'a b\nb c\n' > "$T/tiny.txt"
expect_error "too few edges to split" "cannot be split" \
    "$CLAE" train "$SRC/configs/gae_cora.ini" --set data.path="$T/tiny.txt"
printf 'v0,1\n' > "$T/feat_short.csv"
expect_error "a node without features" "has no features row" "$CLAE" train "$SRC/configs/gae_cora.ini" \
    --set data.path="$T/sbm.txt" --set data.features="$T/feat_short.csv"
expect_error "no edge list" "/nonexistent/e.txt" \
    "$CLAE" train "$SRC/configs/gae_cora.ini" --set data.path=/nonexistent/e.txt
sed 's/^type = inner_product/type = dense\nunits = 3/' "$SRC/configs/gae_cora.ini" > "$T/dec.ini"
expect_error "a graph decoder must be inner_product" "a graph autoencoder's decoder is one" \
    "$CLAE" train "$T/dec.ini"
sed 's/^format = graph/format = idx/' "$SRC/configs/gae_cora.ini" > "$T/nograph.ini"
expect_error "gcn needs a graph" "is a graph layer: it needs data.format = graph" "$CLAE" train "$T/nograph.ini"
expect_error "an image command on a graph config" "data.format = graph: a graph trains with clae train" \
    "$CLAE" compare "$SRC/configs/gae_cora.ini"
expect_error "a graph run refuses image commands" "data.format = graph" "$CLAE" recon "$T/gae"

echo "1..$n"
exit $((failed > 0))
