#!/bin/sh
# make demo: real pamtester, under pam_wrapper, authenticating through the
# built pam_kakao.so against a throwaway config, app JWTs minted by
# kakao-pam, Kakao access tokens checked by a local mock Kakao API, and
# logins approved on the phone through a real kakao-pam-relay, the phone
# being headless Chromium (tests/demo_relay.py).
# No root, no network, nothing outside a temporary directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
MOD="$top/build/pam_kakao.so"
KP="$top/build/kakao-pam"
D=$(mktemp -d /tmp/pam_kakao_demo.XXXXXX)
mock_pid=""
cleanup() {
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$D"

echo "pam_kakao demo: working in $D (removed at the end)"
sh "$top/tests/keys/make_keys.sh" "$D/keys"
sh "$top/tests/mock/make_certs.sh" "$D/certs"
python3 "$top/tests/mock/mock_kakao.py" --cert "$D/certs/server.pem" --key "$D/certs/server.key" \
    --port-file "$D/port" --log "$D/requests.jsonl" --lifetime 300 --parent-pid $$ &
mock_pid=$!
i=0
while [ ! -s "$D/port" ]; do
    i=$((i + 1))
    # 30 s: python3 can take seconds to start on a loaded machine.
    [ "$i" -gt 300 ] && { echo "mock Kakao API did not start" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$D/port")

cat >"$D/pam_kakao.users" <<USERS
# kakao_id   local_user
3095134389   alice
1122334455   bob
USERS
cat >"$D/pam_kakao.conf" <<CONF
user_map = $D/pam_kakao.users
jwt_key = $D/keys/hs256.key
jwt_alg = HS256
jwt_issuer = https://api.example.com
kakao_app_id = 1234567
kakao_api_url = https://127.0.0.1:$port
ca_file = $D/certs/ca.pem
timeout = 3
CONF
chmod 644 "$D/pam_kakao.conf" "$D/pam_kakao.users"
mkdir "$D/services"
sed "s|pam_kakao\.so|$MOD|g; s|/etc/security/pam_kakao\.conf|$D/pam_kakao.conf|g" \
    "$top/pam.d-example/pamtester" >"$D/services/pamtester"
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$D/services/other"

mint() {
    "$KP" mint --key "$D/keys/hs256.key" --alg HS256 --iss https://api.example.com "$@" 2>/dev/null
}
jwt_alice=$(mint --kakao-id 3095134389)
jwt_bob=$(mint --kakao-id 1122334455)
jwt_old=$(mint --kakao-id 3095134389 --ttl -3600)
jwt_forged=$("$KP" mint --key "$D/keys/rsa.pem" --alg RS256 --kakao-id 3095134389 2>/dev/null)
jwt_tampered=$(printf '%s' "$jwt_bob" | cut -d. -f1-2).$(printf '%s' "$jwt_alice" | cut -d. -f3)

printf '\n%-3s %-34s %-6s %-22s %s\n' "#" "scenario" "user" "PAM result" "syslog line"
printf '%s\n' "--- ---------------------------------- ------ ---------------------- -----------"
n=0
row() {
    n=$((n + 1))
    out=$(printf '%s\n' "$3" | LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
        PAM_WRAPPER_SERVICE_DIR="$D/services" PAM_WRAPPER_DEBUGLEVEL=2 \
        pamtester -v pamtester "$2" authenticate 2>&1) && result="success" || result="refused"
    log=$(printf '%s\n' "$out" | sed -n 's/.*SYSLOG([0-9]*): //p' | tail -n 1)
    why=$(printf '%s\n' "$out" | sed -n 's/^pamtester: //p' | tail -n 1)
    [ "$result" = success ] && why="successfully authenticated"
    show "$1" "$2" "$why" "$log"
}
# show SCENARIO USER "pamtester: ..." LOG: one row of the table.
show() {
    why=$3
    case $why in
    "Authentication failure") why=PAM_AUTH_ERR ;;
    "Authentication service cannot retrieve"*) why=PAM_AUTHINFO_UNAVAIL ;;
    "User not known"*) why=PAM_USER_UNKNOWN ;;
    "Critical error"*) why=PAM_SERVICE_ERR ;;
    "successfully authenticated") why=PAM_SUCCESS ;;
    esac
    printf '%-3s %-34s %-6s %-22s %s\n' "$n" "$1" "$2" "$why" "$4"
}
row "app JWT (HS256), alice's id" alice "$jwt_alice"
row "app JWT of bob, used for alice" alice "$jwt_bob"
row "app JWT expired an hour ago" alice "$jwt_old"
row "JWT signed with another alg/key" alice "$jwt_forged"
row "bob's claims, alice's signature" bob "$jwt_tampered"
row "Kakao access token of alice" alice mockValidAliceToken_0001
row "Kakao token issued to another app" alice mockOtherAppToken_00003
row "Kakao token expired (-401)" alice mockExpiredToken_000004
row "Kakao API over quota (429, -10)" alice mockFault429_000000023
row "user with no map line (no prompt)" carol "$jwt_alice"
row "garbage" alice "hello"
kakao_calls=$(wc -l <"$D/requests.jsonl" | tr -d ' ')
# Approve on the phone: a real kakao-pam-relay, the headless Chromium phone
# opening the URL pamtester shows and logging in at the mock Kakao, and the
# code it reads off the page typed at the prompt (tests/demo_relay.py).
if [ -x /usr/bin/chromium ]; then
    PK_MOCK_PORT=$port PK_MOCK_CA="$D/certs/ca.pem" python3 "$top/tests/demo_relay.py" "$MOD" "$D" \
        >"$D/relay_rows" || { echo "the relay rows failed" >&2; exit 1; }
    while IFS="$(printf '\t')" read -r title user _ words log; do
        n=$((n + 1))
        show "$title" "$user" "$words" "$log"
    done <"$D/relay_rows"
else
    echo "(relay rows skipped: /usr/bin/chromium is not installed; sh tools/deps.sh demo installs it)"
fi
printf '\nThe mock Kakao API answered %s requests for the token rows (Kakao tokens only; JWTs are\nchecked offline); the relay rows went through its OAuth endpoints, as a phone does.\n' \
    "$kakao_calls"
echo "PAM_SUCCESS grants; every other result refuses, with its reason in syslog (authpriv)."
