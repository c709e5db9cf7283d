#!/bin/sh
# make fuzz: runs each libFuzzer harness for SECONDS over its seed corpus
# (tests/fuzz/corpus/NAME, only read) and a work corpus (BUILD/corpus/NAME,
# where new inputs go), with tests/fuzz/NAME.dict when there is one, then
# prints one table. A crash, leak, timeout or broken invariant leaves its
# input in BUILD/artifacts/NAME/ and makes the exit status 1.
# Usage: run_fuzz.sh BUILD SECONDS NAME...
set -u
B=$1
secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0
table=""

# Longest input each harness gets: past every cap the code enforces.
max_len() {
    case $1 in
    token) echo 9000 ;;   # PK_TOKEN_MAX is 8192
    jwt) echo 4096 ;;
    # PK_JWKS_MAX (64 KiB) is one length test; 16 KiB hold 25 RSA 2048 keys
    jwks) echo 16384 ;;
    kakao_cache) echo 600 ;; # PK_KAKAO_ENTRY_MAX is 512
    *) echo 8192 ;;
    esac
}

# Value of "key: value" in libFuzzer's last status line.
field() { sed -n "s/.* $1: \([0-9a-zA-Z/]*\).*/\1/p" "$2" | tail -n 1; }
stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1; }

for name in "$@"; do
    bin="$B/fuzz_$name"
    work="$B/corpus/$name"
    art="$B/artifacts/$name"
    log="$B/logs/$name.log"
    mkdir -p "$work" "$art" "$B/logs"
    set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
        -print_final_stats=1 -artifact_prefix="$art/"
    [ -f "$top/tests/fuzz/$name.dict" ] && set -- "$@" -dict="$top/tests/fuzz/$name.dict"
    echo "== fuzz $name: ${secs} s (log: $log)"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" "$@" "$work" "$top/tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    runs=$(stat number_of_executed_units "$log")
    eps=$(stat average_exec_per_sec "$log")
    cov=$(field cov "$log")
    ft=$(field ft "$log")
    corp=$(field corp "$log")
    if [ "$rc" -eq 0 ]; then
        result=ok
    else
        status=1
        result="FAILED rc=$rc: $(ls "$art" | head -n 1)"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)' "$log" | head -n 5 >&2
    fi
    table="$table$(printf '%-10s %6s %10s %8s %6s %7s %10s  %s' "$name" "$secs" "${runs:-?}" \
        "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")
"
done

echo
printf '%-10s %6s %10s %8s %6s %7s %10s  %s\n' harness seconds runs exec/s cov ft corpus result
printf '%s' "$table"
exit $status
