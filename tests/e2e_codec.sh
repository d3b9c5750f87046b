#!/usr/bin/env bash
# End-to-end image codec through the CLI, on a small Fashion-MNIST conv codec
# with a quantize layer and the rate term: training reports the rate and a
# larger rate_lambda gives a smaller one; compress/decompress round-trip files
# and decode exactly what decoding the quantised code directly gives; rd
# measures clae against JPEG and WebP from real files; every bad input is one
# line naming the file and what is wrong, and nothing is written for it.
# Output is TAP. usage: e2e_codec.sh PATH/TO/clae SOURCE_ROOT
set -u
CLAE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
T=$(mktemp -d /tmp/clae-e2e-codec.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"

layer() { # layer SECTION TYPE [KEY = VALUE...]
    printf '[%s]\ntype = %s\n' "$1" "$2"; shift 2
    for kv in "$@"; do printf '%s\n' "$kv"; done
}
{
    printf '[model]\nname = tiny_codec\n[data]\ntrain_limit = 1500\ntest_limit = 100\n'
    printf '[train]\nepochs = 2\nbatch_size = 50\noptimizer = adam\nlr = 2e-3\n'
    printf 'rate_lambda = 0.001\n'
    printf 'seed = 1\n[report]\nlatent_map = false\nweights = false\nfeatures = false\n'
    layer encoder.c1 conv "channels = 8" "kernel = 3" "stride = 2" "padding = 1" "activation = relu"
    layer encoder.c2 conv "channels = 8" "kernel = 3" "stride = 2" "padding = 1" "activation = relu"
    layer latent.code conv "channels = 4" "kernel = 1"
    layer latent.q quantize "gain = 8"
    layer decoder.up1 upsample "scale = 2"
    layer decoder.c1 conv "channels = 8" "kernel = 3" "padding = 1" "activation = relu"
    layer decoder.up2 upsample "scale = 2"
    layer decoder.out conv "channels = 1" "kernel = 3" "padding = 1" "activation = sigmoid"
} > "$T/codec.ini"

# 1. training for rate
check "a codec trains with the rate term" "$CLAE" train "$T/codec.ini" --run "$T/r"
rate=$(field "$T/r/summary.json" rate_bpp)
head -1 "$T/r/metrics.csv" | grep -q "train_rate" \
    && awk -v r="$rate" 'BEGIN{exit !(r > 0 && r < 16)}' \
    && ok "the summary reports the test rate ($rate bpp) and metrics.csv its column" \
    || not_ok "rate reported" "rate $rate; $(head -1 "$T/r/metrics.csv")"
check "the same codec priced 30x higher" "$CLAE" train "$T/codec.ini" --run "$T/r2" \
    --set train.rate_lambda=0.3
rate2=$(field "$T/r2/summary.json" rate_bpp)
awk -v a="$rate" -v b="$rate2" 'BEGIN{exit !(b < a)}' \
    && ok "a larger rate_lambda gives a smaller rate ($rate2 < $rate bpp)" \
    || not_ok "rate_lambda lowers the rate" "$rate2 vs $rate"
expect_error "rate_lambda without a quantize layer" "train.rate_lambda prices integer codes" \
    "$CLAE" train "$SRC/configs/conv_fmnist.ini" --set train.rate_lambda=0.1 \
        --set data.train_limit=100

# 2. compress and decompress: the test split against decoding its quantised codes directly
check "encode the test split (integer codes)" "$CLAE" encode "$T/r" -o "$T/codes.npy"
check "decode them, a PNG each" "$CLAE" decode "$T/r" "$T/codes.npy" --each -o "$T/direct/d.png"
check "compress the test split" "$CLAE" compress "$T/r" --split test -o "$T/z"
[ "$(ls "$T/z"/*.clae | wc -l)" -eq 100 ] && [ -f "$T/r/checkpoint_codec_int.bin" ] \
    && ok "100 .clae files, and the codec table beside the checkpoint" \
        || not_ok "compressed files" "$(ls "$T/z" | head -3)"
check "decompress them" "$CLAE" decompress "$T/r" "$T"/z/test_0000[0-9].clae -o "$T/back"
same=0
for i in 0 1 2 3 4 5 6 7 8 9; do cmp -s "$T/back/test_0000$i.png" "$T/direct/d_00$i.png" \
    && same=$((same + 1)); done
[ "$same" -eq 10 ] && ok "the decompressed images equal decoding the quantised codes directly \
    (10 of 10)" \
    || not_ok "decompress equals direct decoding" "$same of 10 identical"
bytes=$(cat "$T"/z/*.clae | wc -c)
out=$("$CLAE" compress "$T/r" "$T/direct/d_000.png" "$T/direct/d_001.png" -o "$T/z2" 2>&1)
grep -q "wrote $T/z2/d_000.clae" <<<"$out" \
    && ok "compress PNG files: a .clae per file, named after it" \
    || not_ok "compress files" "$out"
printf '%s\n' "$out" | grep -q "bpp on average" && [ "$bytes" -gt 2000 ] \
    && ok "the split's files hold $bytes bytes in all" || not_ok "compressed sizes" "$bytes"

# 3. rate and distortion against JPEG and WebP
check "rd against JPEG and WebP" "$CLAE" rd "$T/r" "$T/r2" --jpeg --webp -o "$T/rd"
[ "$(grep -c '^clae,' "$T/rd/rd.csv")" -eq 2 ] && [ "$(grep -c '^jpeg,' "$T/rd/rd.csv")" -eq 19 ] \
    && [ "$(grep -c '^webp,' "$T/rd/rd.csv")" -eq 21 ] && grep -q "<polyline" "$T/rd/rd.svg" \
    && grep -q "dB</text>" "$T/rd/rd_grid.svg" && [ -s "$T/rd/rd_grid.png" ] \
    && ok "rd.csv holds 2 clae points, 19 JPEG and 21 WebP qualities; the curve and the \
        labelled grid" \
    || not_ok "rd outputs" "$(head -3 "$T/rd/rd.csv")"
# JPEG's bytes grow with its quality and its PSNR with them
awk -F, '$1 == "jpeg" { if (n && ($4 < b || $5 < p - 0.5)) bad = 1; b = $4; p = $5; n++ }
         END { exit bad || n != 19 }' "$T/rd/rd.csv" \
    && ok "JPEG's bpp and PSNR rise with its quality" || not_ok "JPEG curve" "$(grep jpeg \
        "$T/rd/rd.csv" | head -3)"
rd_bpp=$(awk -F, '$1 == "clae" && $2 == "\"tiny_codec\"" {print $4; exit}' "$T/rd/rd.csv")
awk -v r="$rd_bpp" -v b="$bytes" \
    'BEGIN{m = 8 * b / (100 * 784); exit !(r > 0.999 * m && r < 1.001 * m)}' \
    && ok "rd's bpp ($rd_bpp) is that of the compressed files" || not_ok "rd bpp" \
        "$rd_bpp vs $bytes bytes"
check "rd with uniform levels" "$CLAE" rd "$T/r" --levels 4,64 -o "$T/rd2"
[ "$(grep -c '^clae,' "$T/rd2/rd.csv")" -eq 2 ] && ok "two quantisations, two points" \
    || not_ok "rd levels"

# 4. bad input: one line naming the file, nothing written
cp "$T/z/test_00000.clae" "$T/good.clae"
size=$(wc -c < "$T/good.clae")
head -c $((size - 3)) "$T/good.clae" > "$T/cut.clae"
expect_error "a truncated .clae file" "cut.clae: truncated or corrupt .clae file" \
    "$CLAE" decompress "$T/r" "$T/cut.clae" -o "$T/none"
head -c 12 "$T/good.clae" > "$T/short.clae"
expect_error "a .clae file shorter than its header" "short.clae: truncated .clae file (12 bytes" \
    "$CLAE" decompress "$T/r" "$T/short.clae" -o "$T/none"
{ head -c 25 "$T/good.clae"; printf 'X'; tail -c +27 "$T/good.clae"; } > "$T/flip.clae"
expect_error "a corrupt .clae file" "flip.clae: truncated or corrupt" \
    "$CLAE" decompress "$T/r" "$T/flip.clae" -o "$T/none"
{ head -c 4 "$T/good.clae"; printf '\x07'; tail -c +6 "$T/good.clae"; } > "$T/v7.clae"
expect_error "a .clae file of another version" \
    "v7.clae: a .clae file of version 7; this clae reads version 2" \
    "$CLAE" decompress "$T/r" "$T/v7.clae" -o "$T/none"
expect_error "a PNG given as a .clae file" "d_000.png: not a .clae file" \
    "$CLAE" decompress "$T/r" "$T/direct/d_000.png" -o "$T/none"
check "compress one image with the other model" "$CLAE" compress "$T/r2" --split test \
    -o "$T/z_other"
expect_error "a file from another model" "made by another model or codec" \
    "$CLAE" decompress "$T/r" "$T/z_other/test_00000.clae" -o "$T/none"
[ ! -e "$T/none" ] && ok "nothing was written for the refused files" \
    || not_ok "refused files wrote" "$(ls "$T/none")"
check "an image at another size" "$CLAE" recon "$T/r" --n 4 -o "$T/grid.png"
expect_error "an image of another size without --resize" "but the model takes 28x28 (--resize" \
    "$CLAE" compress "$T/r" "$T/grid.png" -o "$T/none"
check "the same image with --resize" "$CLAE" compress "$T/r" "$T/grid.png" --resize -o "$T/z3"
[ -s "$T/z3/grid.clae" ] && ok "--resize compressed it" || not_ok "--resize"
expect_error "two images of one name" "would both be written as" \
    "$CLAE" compress "$T/r" "$T/direct/d_000.png" "$T/z2/../direct/d_000.png" -o "$T/none"
expect_error "--levels out of range" "--levels 1: expected a comma list of levels" \
    "$CLAE" compress "$T/r" --split test --levels 1
expect_error "compress without images" "no images given" "$CLAE" compress "$T/r"
echo "1..$n"
exit $((failed > 0))
