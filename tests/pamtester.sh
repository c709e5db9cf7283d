#!/bin/sh
# Real pamtester under pam_wrapper with the shipped pam.d-example files, paths
# substituted: accepted, refused (expired, other user) and unknown-user cases,
# each with its exact log line. Usage: pamtester.sh WORKDIR MODULE
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
W=$1
MOD=$2
E="$W/example"
rm -rf "$E"
mkdir -p "$E/services"
fail=0

sed "s|^user_map *=.*|user_map = $E/pam_kakao.users|; s|^jwt_key *=.*|jwt_key = $W/keys/hs256.key|" \
    "$top/pam.d-example/pam_kakao.conf" >"$E/pam_kakao.conf"
cp "$top/pam.d-example/pam_kakao.users" "$E/pam_kakao.users"
chmod 644 "$E/pam_kakao.conf" "$E/pam_kakao.users"
# nodelay: the refusals below must not each wait libpam's failure delay.
sed "s|pam_kakao\.so|$MOD nodelay|g; s|/etc/security/pam_kakao\.conf|$E/pam_kakao.conf|g" \
    "$top/pam.d-example/pamtester" >"$E/services/pamtester"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$E/services/other"

mint() { "$(dirname "$MOD")/kakao-pam" mint --key "$W/keys/hs256.key" --alg HS256 --kakao-id "$1" --ttl "$2" 2>/dev/null; }

# run NAME USER TOKEN WANT_RC WANT_LOG_GLOB
run() {
    # PK_PRELOAD, PK_SAN_ENV: see tests/run.sh (SANITIZE=1); pamtester itself
    # is not built with ASan, so its own leaks are not reported.
    # shellcheck disable=SC2086
    out=$(printf '%s\n' "$3" | env ${PK_SAN_ENV:+$PK_SAN_ENV ASAN_OPTIONS=detect_leaks=0} \
        LD_PRELOAD="${PK_PRELOAD:-libpam_wrapper.so}" PAM_WRAPPER=1 \
        PAM_WRAPPER_SERVICE_DIR="$E/services" PAM_WRAPPER_DEBUGLEVEL=2 \
        pamtester -v pamtester "$2" authenticate acct_mgmt 2>&1)
    rc=$?
    log=$(printf '%s\n' "$out" | sed -n 's/.*SYSLOG([0-9]*): //p')
    # shellcheck disable=SC2254
    case $log in $5) logok=1 ;; *) logok=0 ;; esac
    if [ "$rc" -ne "$4" ] || [ "$logok" -ne 1 ]; then
        echo "  pamtester $1: rc=$rc (want $4) log='$log' (want '$5')" >&2
        fail=1
    fi
}

good=$(mint 3095134389 300) || exit 1
old=$(mint 3095134389 -3600) || exit 1
bob=$(mint 1122334455 300) || exit 1
run accepted alice "$good" 0 "accepted jwt kakao_id=3095134389 user=alice"
run other-account alice "$bob" 1 "rejected jwt for user=alice: kakao_id not mapped to this user (kakao_id=1122334455)"
run expired alice "$old" 1 "rejected jwt for user=alice: expired (exp=[0-9]* now=[0-9]*)"
run unknown-user carol "$good" 1 "no user map entry for user=carol"

# Kakao access tokens against the mock Kakao API, when the runner started it.
if [ -n "${MOCK_PORT:-}" ]; then
    printf 'kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%s\nca_file = %s\n' \
        "$MOCK_PORT" "$MOCK_CA" >>"$E/pam_kakao.conf"
    run kakao-accepted alice mockValidAliceToken_0001 0 "accepted kakao kakao_id=3095134389 user=alice"
    run kakao-other-app alice mockOtherAppToken_00003 1 "rejected kakao for user=alice: token issued to another app (app_id=7654321 expected=1234567)"
    run kakao-expired alice mockExpiredToken_000004 1 "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 msg=\"this access token is already expired\")"
    run kakao-quota alice mockFault429_000000023 1 "kakao api unavailable for user=alice: HTTP 429 code=-10 (quota exceeded)*"
    run jwt-still-accepted alice "$good" 0 "accepted jwt kakao_id=3095134389 user=alice"
else
    echo "  pamtester: mock Kakao API not running, Kakao cases not run" >&2
    fail=1
fi
exit $fail
