#!/bin/sh
# The whole test suite (make check): unit tests, PAM-level tests through
# pam_wrapper, real pamtester with the shipped example, exported symbols,
# the mock Kakao API self-test, and valgrind over the PAM-level tests.
# Ends with "N passed, M failed". VALGRIND=0 skips the valgrind pass.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-$top/build}
MOD="$B/pam_kakao.so"
PWDIR=/usr/lib/x86_64-linux-gnu/pam_wrapper
[ -d "$PWDIR" ] || PWDIR=$(dirname "$(find /usr/lib -name pam_set_items.so 2>/dev/null | head -n1)")
W=$(mktemp -d /tmp/pam_kakao_test.XXXXXX)
chmod 755 "$W"
mock_pid=""
# Stops the mock Kakao API (if running) and reaps it; returns its exit status.
stop_mock() {
    [ -n "$mock_pid" ] || return 0
    kill -TERM "$mock_pid" 2>/dev/null
    wait "$mock_pid" 2>/dev/null
    mock_rc=$?
    mock_pid=""
    return "$mock_rc"
}
trap 'stop_mock; rm -rf "$W"' EXIT
trap 'exit 1' HUP INT TERM
passed=0
failed=0
failures=""

ok() { passed=$((passed + 1)); echo "PASS: $1"; }
bad() { failed=$((failed + 1)); failures="$failures\n  $1"; echo "FAIL: $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

sh "$top/tests/keys/make_keys.sh" "$W/keys" || { echo "cannot make test keys" >&2; exit 1; }

# PAM services for the PAM-level tests; configs are written by the tests.
# nodelay everywhere but pk_delay: hundreds of refusals must not each wait
# for libpam's failure delay (about 2 s).
S="$W/services"
mkdir -p "$S"
svc() { name=$1; shift; printf '%s\n' "$@" >"$S/$name"; }
C="config=$W/cur.conf"
svc other "auth required pam_deny.so" "account required pam_deny.so"
svc pk "auth required $MOD nodelay $C" "account required $MOD nodelay $C"
svc pk_unknown_opt "auth required $MOD nodelay $C frobnicate"
svc pk_twice "auth required $MOD nodelay $C leeway=10 leeway=20"
svc pk_use_try "auth required $MOD nodelay $C use_first_pass try_first_pass"
svc pk_use_first "auth required $MOD nodelay $C use_first_pass"
svc pk_try_first "auth required $MOD nodelay $C try_first_pass"
svc pk_use_first_set "auth required $PWDIR/pam_set_items.so" "auth required $MOD nodelay $C use_first_pass"
svc pk_try_first_set "auth required $PWDIR/pam_set_items.so" "auth required $MOD nodelay $C try_first_pass"
svc pk_missing_conf "auth required $MOD nodelay config=$W/does-not-exist.conf"
svc pk_override "auth required $MOD nodelay $C leeway=0"
svc pk_acct_only "account required $MOD nodelay $C"
svc pk_delay "auth required $MOD $C"
svc pk_nodelay_twice "auth required $MOD nodelay $C nodelay"
svc pk_unmapped_arg "auth required $MOD nodelay $C prompt_unmapped=yes"

# The mock Kakao API's ports, CA and request log (set once the mock is up).
MOCK_PORT="" MOCK_ROGUE_PORT="" MOCK_HANG_PORT="" MOCK_CLOSED_PORT=""
# SANITIZE=1: a module built with gcc's ASan needs its runtime loaded first
# (before pam_wrapper) and pam_wrapper must not load it with RTLD_DEEPBIND.
PK_PRELOAD=libpam_wrapper.so
PK_SAN_ENV=""
if [ "${SANITIZE:-}" = 1 ]; then
    asan_rt=$(ldd "$MOD" 2>/dev/null | awk '/libasan/ { print $3 }')
    [ -n "$asan_rt" ] && PK_PRELOAD="$asan_rt $PK_PRELOAD"
    # PK_SANITIZE tells tests to skip what cannot run with an ASan module
    # (libfaketime and ASan hang or abort together).
    PK_SAN_ENV="PAM_WRAPPER_DISABLE_DEEPBIND=1 PK_SANITIZE=1"
fi
export PK_PRELOAD PK_SAN_ENV
pamenv() {
    env PK_TEST_DIR="$W" PK_TEST_KEYS="$W/keys" \
        PK_MOCK_PORT="$MOCK_PORT" PK_MOCK_ROGUE_PORT="$MOCK_ROGUE_PORT" \
        PK_MOCK_HANG_PORT="$MOCK_HANG_PORT" PK_MOCK_CLOSED_PORT="$MOCK_CLOSED_PORT" \
        PK_MOCK_CA="$W/certs/ca.pem" PK_MOCK_LOG="$W/requests.jsonl" \
        PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$S" \
        PAM_WRAPPER_DEBUGLEVEL=2 $PK_SAN_ENV LD_PRELOAD="$PK_PRELOAD" "$@"
}

# Starts the mock Kakao API (tests/mock/README.md) with all four listeners;
# it also stops by itself when this shell is gone or after 1200 s.
start_mock() {
    bash "$top/tests/mock/make_certs.sh" "$W/certs" || return 1
    python3 "$top/tests/mock/mock_kakao.py" \
        --cert "$W/certs/server.pem" --key "$W/certs/server.key" --port-file "$W/mock.port" \
        --rogue-cert "$W/certs/rogue.pem" --rogue-key "$W/certs/rogue.key" \
        --rogue-port-file "$W/mock.rogue.port" --hang-port-file "$W/mock.hang.port" \
        --closed-port-file "$W/mock.closed.port" --log "$W/requests.jsonl" \
        --lifetime 1200 --parent-pid $$ </dev/null >"$W/mock.out" 2>&1 &
    mock_pid=$!
    # Polls for the port file; 30 s only give up on a mock that never
    # starts (python3 can take seconds to start on a loaded machine).
    i=0
    while [ ! -s "$W/mock.port" ]; do
        if ! kill -0 "$mock_pid" 2>/dev/null || [ "$i" -ge 300 ]; then
            cat "$W/mock.out" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    MOCK_PORT=$(cat "$W/mock.port")
    MOCK_ROGUE_PORT=$(cat "$W/mock.rogue.port")
    MOCK_HANG_PORT=$(cat "$W/mock.hang.port")
    MOCK_CLOSED_PORT=$(cat "$W/mock.closed.port")
}

echo "== unit tests"
for t in "$B"/tests/test_*; do
    check "unit $(basename "$t")" env PK_MAKE_KEYS="$top/tests/keys/make_keys.sh" \
        PK_TEST_FIXTURES="$top/tests/fixtures" "$t"
done

echo "== mock Kakao API for the PAM-level tests"
check "mock Kakao API started" start_mock

echo "== PAM-level tests (libpamtest under pam_wrapper)"
for t in "$B"/tests/pam_*; do
    check "pam $(basename "$t")" pamenv "$t"
done

echo "== the README's package line"
# The line the README shows under its two commands is the list tools/deps.sh
# installs, so that a fresh machine set up from the README has everything.
readme_deps() {
    want="apt-get install -y $(sh "$top/tools/deps.sh" list)"
    got=$(grep -m1 '^apt-get install -y ' "$top/README.md")
    [ "$got" = "$want" ] || { printf 'README: %s\ndeps.sh: %s\n' "$got" "$want"; return 1; }
}
check "README's apt-get line is tools/deps.sh's list" readme_deps

echo "== exported symbols"
syms=$(nm -D --defined-only "$MOD" | awk '{print $3}' | sort | tr '\n' ' ')
check "only pam_sm_* exported ($syms)" test "$syms" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred "
# CLI-only code (CLI_ONLY_OBJ in the Makefile) is not linked into the module.
cli_only=$(nm --defined-only "$MOD" | awk '{print $3}' | grep -xE \
    'pk_(jwt_sign|jwt_sign_input|b64url_encode|ct_equal|check_open|user_map_scan|kinds_check|kind_summary|text_buf_put)' \
    | tr '\n' ' ')
check "no CLI-only function in the module (${cli_only:-none})" test -z "$cli_only"
# libcurl, libqrencode and hiredis are dlopen()ed by absolute path when needed
# (src/http.c, src/qr.c, src/redis.c): an app JWT login never loads them.
linked=$(readelf -d "$MOD" | awk '/NEEDED/ {print $5}' | grep -E 'libcurl|libqrencode|libhiredis' \
    | tr '\n' ' ')
check "libcurl, libqrencode and hiredis not linked into the module (${linked:-none})" test -z "$linked"

echo "== pamtester with pam.d-example/pamtester"
MOCK_PORT="${MOCK_PORT:-}" MOCK_CA="$W/certs/ca.pem" sh "$top/tests/pamtester.sh" "$W" "$MOD" && ok "pamtester example service" || bad "pamtester example service"

if [ -x "$top/tests/mock/selftest.sh" ] || [ -f "$top/tests/mock/selftest.sh" ]; then
    echo "== mock Kakao API self-test"
    check "mock selftest" sh -c 'bash "$1" >"$2" 2>&1 || { tail -n 20 "$2"; exit 1; }' sh \
        "$top/tests/mock/selftest.sh" "$W/mock.log"
fi

# @@ cli tests (kakao-pam) go here @@
if [ -n "$MOCK_PORT" ]; then
    . "$top/tests/cli/cli.sh"
else
    bad "cli tests (kakao-pam): the mock Kakao API is not running"
fi

# kakao-pam-relay's HTTP API against the real binary (tests/relay/test_api.py):
# every status path, the assertion checked with openssl, slow clients, SIGTERM.
echo "== relay: kakao-pam-relay API (tests/relay)"
relay_run() {
    out=$1
    shift
    "$@" >"$out" 2>&1
    rc=$?
    before=$failed
    while IFS= read -r line; do
        case $line in
        "PASS: "*) ok "${line#PASS: }" ;;
        "FAIL: "*) bad "${line#FAIL: }" ;;
        *) printf '%s\n' "$line" ;;
        esac
    done <"$out"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
        bad "relay: $(basename "$2") exited with status $rc"
    fi
}
RELAY_KAKAO_AUTH_URL=${MOCK_PORT:+https://127.0.0.1:$MOCK_PORT}
export RELAY_KAKAO_AUTH_URL RELAY_KAKAO_CA="${MOCK_PORT:+$W/certs/ca.pem}"
relay_run "$W/relay_api.out" python3 "$top/tests/relay/test_api.py" "$B/kakao-pam-relay" "$W/relay"
# The same API checks with the sessions in a real redis-server (a unix socket
# in the work directory, started and stopped by the test), and several
# relays on one Redis (tests/relay/test_fleet.py): a login across instances,
# racing redeems, an instance killed, Redis paused, restarted, with a password.
export RELAY_STORE_REDIS=1
relay_run "$W/relay_api_redis.out" python3 "$top/tests/relay/test_api.py" "$B/kakao-pam-relay" \
    "$W/relay_redis"
unset RELAY_STORE_REDIS
relay_run "$W/relay_fleet.out" python3 "$top/tests/relay/test_fleet.py" "$B/kakao-pam-relay" \
    "$W/relay_fleet"
# The relay approved by a real phone (tests/relay/test_phone.py): headless
# Chromium (tests/phone.py) opens the session URL, presses the button, goes
# through the mock Kakao's authorize and back, and the test reads the code
# from the page; a denial at Kakao; the link reopened. Three browser runs.
relay_run "$W/relay_phone.out" python3 "$top/tests/relay/test_phone.py" \
    "$B/kakao-pam-relay" "$W/relay_phone"
# kakao-pam enroll through the relay (tests/cli/test_enroll_relay.py): approved
# on the Chromium phone and by the helper, --qr, wrong code then right, not
# approved, expired (a 30-s session), relay down.
relay_run "$W/enroll_relay.out" python3 "$top/tests/cli/test_enroll_relay.py" "$B/kakao-pam" \
    "$B/kakao-pam-relay" "$W/enroll_relay"
if [ "${VALGRIND:-1}" = 1 ] && [ "${SANITIZE:-}" != 1 ]; then
    relay_run "$W/relay_vg.out" python3 "$top/tests/relay/test_api.py" "$B/kakao-pam-relay" \
        "$W/relay_vg" valgrind
fi

# The Debian packages (tests/deb/run.sh): make deb, lintian, the file lists.
# Before the end-to-end tests, which install them. As another user than
# root it prints one SKIPPED line.
echo "== Debian packages: make deb, lintian, dpkg-deb -c (tests/deb/run.sh)"
relay_run "$W/deb.out" bash "$top/tests/deb/run.sh"

# @@ end-to-end tests (sshd, sudo) go here @@
# Real sshd/ssh and sudo in private namespaces (tests/e2e/run.sh); as another
# user than root it prints one SKIPPED line, which counts neither way.
echo "== end-to-end: real sshd and sudo (tests/e2e/run.sh)"
if [ "${SANITIZE:-}" = 1 ]; then
    echo "SKIPPED (SANITIZE=1): sshd and sudo cannot load a module built with ASan; run make check or make e2e without SANITIZE"
else
    B="$B" bash "$top/tests/e2e/run.sh" >"$W/e2e.out" 2>&1
    e2e_rc=$?
    e2e_failed=$failed
    while IFS= read -r line; do
        case $line in
        "PASS: "*) ok "e2e ${line#PASS: }" ;;
        "FAIL: "*) bad "e2e ${line#FAIL: }" ;;
        *" passed, "*" failed") ;;
        *) printf '%s\n' "$line" ;;
        esac
    done <"$W/e2e.out"
    if [ "$e2e_rc" -ne 0 ] && [ "$failed" -eq "$e2e_failed" ]; then
        bad "e2e: tests/e2e/run.sh exited with status $e2e_rc"
    fi
fi

# @@ hardening tests (fuzz smoke, allocation failures, concurrency) go here @@
# (The concurrency test is tests/pam/pam_threads.c, run with the PAM-level tests.)
echo "== hardening: fuzz corpora replayed through the harnesses (tests/fuzz)"
for name in token jwt config user_map kakao_api jwks kakao_cache relay_request relay_assertion \
    relay_client; do
    n=$(ls "$top/tests/fuzz/corpus/$name" | wc -l)
    check "fuzz corpus $name ($n inputs)" sh -c '"$1" "$2" >"$3" 2>&1 || { tail -n 20 "$3"; exit 1; }' \
        sh "$B/tests/fuzz_$name" "$top/tests/fuzz/corpus/$name" "$W/fuzz_$name.log"
done

echo "== hardening: allocation failures and wiped secrets (tests/alloc)"
# Prints the summary lines (allocations exercised per scenario), or the tail on failure.
hard_run() {
    log=$1
    shift
    pamenv "$@" >"$log" 2>&1
    rc=$?
    grep -E '^[a-z_0-9]+ +clean: |^alloc_(fail|wipe): |^(ok  |FAIL|OURS )' "$log"
    [ "$rc" -eq 0 ] || tail -n 30 "$log"
    return "$rc"
}
check "allocation failures: every Nth allocation fails along the JWT, Kakao and relay paths" \
    hard_run "$W/alloc_fail.log" "$B/tests/alloc_fail"
check "secrets (token, signature, HMAC key, response bodies) wiped before free" \
    hard_run "$W/alloc_wipe.log" "$B/tests/alloc_wipe"

# valgrind cannot run sanitized binaries; SANITIZE=1 runs use ASan/UBSan instead.
if [ "${SANITIZE:-}" = 1 ]; then VALGRIND=0; fi
if [ "${VALGRIND:-1}" = 1 ]; then
    echo "== valgrind (PAM-level tests)"
    # valgrind runs the module ~20x slower: upper time bounds get 10 s of slack
    # (PK_TEST_TIME_SLACK); lower bounds and the module's timeouts stay as they are.
    for t in "$B"/tests/pam_*; do
        check "valgrind $(basename "$t")" pamenv PAM_WRAPPER_DISABLE_DEEPBIND=1 PK_TEST_TIME_SLACK=10 \
            valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --track-fds=no "$t"
    done
fi

if [ -n "$mock_pid" ]; then
    echo "== mock Kakao API shutdown"
    pid=$mock_pid
    check "mock Kakao API stopped cleanly" stop_mock
    check "mock Kakao API gone" sh -c '! kill -0 "$1" 2>/dev/null' sh "$pid"
fi

if [ "$failed" -ne 0 ]; then
    printf "failures:%b\n" "$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
