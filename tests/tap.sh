# TAP helpers of the end-to-end scripts (sourced; $T is the script's scratch folder):
# one "ok N - what" or "not ok N - what" (with "# detail" lines) per check.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@" >"$T/check.out" 2>&1; then ok "$what"; else not_ok "$what" "$(tail -5 "$T/check.out")"; fi
}
expect_error() { # expect_error DESCRIPTION FRAGMENT COMMAND...: one line on stderr, non-zero exit
    local what=$1 frag=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -qF -- "$frag" "$T/err"; then ok "$what"
    else not_ok "$what" "rc=$rc" "$(cat "$T/err")"; fi
}
field() { # field FILE KEY: a number from summary.json / eval output
    grep -o "\"$2\": [-0-9.e]*" "$1" | head -1 | awk '{print $2}'
}
