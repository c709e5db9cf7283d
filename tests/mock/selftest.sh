#!/bin/bash
# selftest.sh -- checks make_certs.sh and mock_kakao.py with curl.
# Last line of output: "N passed, M failed"; exit status non-zero on any failure.
# Needs: bash, openssl, curl, python3. Touches only a temporary directory.
set -u

here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
MOCK=$here/mock_kakao.py
pass=0
fail=0
pids=()

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1${2:+: $2}"; }
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mock_selftest.XXXXXX") || exit 1
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf -- "$tmp"
}
trap cleanup EXIT

for tool in openssl curl "$PY"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "selftest: $tool not found" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

# The waits below poll for a condition and return as soon as it holds; their
# bounds only say when to give up, so they are generous (a loaded 2-core
# machine can take seconds to start python3), never a timing requirement.
# wait_file FILE SECONDS
wait_file() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -le "$end" ]; do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# wait_gone PID SECONDS
wait_gone() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -le "$end" ]; do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}
# wait_zombie PID SECONDS: PID is dead but not reaped
wait_zombie() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -le "$end" ]; do
        [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    return 1
}
# wait_grep PATTERN FILE SECONDS: FILE has a line with PATTERN
wait_grep() {
    local end=$((SECONDS + $3))
    while [ "$SECONDS" -le "$end" ]; do
        grep -q -- "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# start_mock NAME [extra args...]: starts a mock with files under $tmp/NAME,
# sets MPID; returns non-zero if its port file did not appear within 30 s.
start_mock() {
    local d=$tmp/$1
    shift
    mkdir -p "$d"
    "$PY" "$MOCK" --cert "$certs/server.pem" --key "$certs/server.key" \
        --port-file "$d/port" --log "$d/requests.jsonl" "$@" 2>"$d/stderr" &
    MPID=$!
    pids+=("$MPID")
    wait_file "$d/port" 30
}

# ---------------------------------------------------------------- certificates
certs=$tmp/certs
check "make_certs.sh creates certs quietly" \
    bash -c '[ -z "$("$1" "$2" 2>&1)" ]' _ "$here/make_certs.sh" "$certs"
check "all cert files present" bash -c 'cd "$1" && ls ca.pem ca.key server.pem server.key rogue-ca.pem rogue.pem rogue.key >/dev/null' _ "$certs"
check "keys are 0600, certs 0644" bash -c '
    cd "$1" &&
    [ "$(stat -c %a ca.key server.key rogue.key | sort -u)" = 600 ] &&
    [ "$(stat -c %a ca.pem server.pem rogue-ca.pem rogue.pem | sort -u)" = 644 ]' _ "$certs"
before=$(cd "$certs" && md5sum -- * | md5sum)
"$here/make_certs.sh" "$certs" >"$tmp/mc2.out" 2>&1
rc=$?
after=$(cd "$certs" && md5sum -- * | md5sum)
check "make_certs.sh is idempotent and quiet" test "$rc" = 0 -a "$before" = "$after" -a ! -s "$tmp/mc2.out"
check "server cert verifies for localhost and 127.0.0.1" bash -c '
    openssl verify -CAfile "$1/ca.pem" -verify_hostname localhost "$1/server.pem" >/dev/null 2>&1 &&
    openssl verify -CAfile "$1/ca.pem" -verify_ip 127.0.0.1 "$1/server.pem" >/dev/null 2>&1' _ "$certs"
check "rogue cert does not verify against the test CA" bash -c '
    ! openssl verify -CAfile "$1/ca.pem" "$1/rogue.pem" >/dev/null 2>&1' _ "$certs"
check "server cert expires within 2 days" bash -c '
    openssl x509 -in "$1/server.pem" -noout -checkend 169200 >/dev/null &&
    ! openssl x509 -in "$1/server.pem" -noout -checkend 172900 >/dev/null' _ "$certs"
check "make_certs.sh fails on a bad directory" bash -c '! "$1" /proc/version/x 2>/dev/null' _ "$here/make_certs.sh"

# ---------------------------------------------------------------- main mock
d=$tmp/main
if start_mock main --rogue-cert "$certs/rogue.pem" --rogue-key "$certs/rogue.key" \
    --rogue-port-file "$d/rport" --hang-port-file "$d/hport" --closed-port-file "$d/cport" \
    --lifetime 120 --parent-pid $$; then
    ok "mock started, port file written"
else
    bad "mock started, port file written" "$(cat "$d/stderr" 2>/dev/null)"
    echo "$pass passed, $fail failed"
    exit 1
fi
main_pid=$MPID
port=$(cat "$d/port")
base=https://127.0.0.1:$port
check "all port files written" bash -c 'for f in port rport hport cport; do
    grep -qxE "[0-9]+" "$1/$f" || exit 1; done' _ "$d"
check "mock listens on 127.0.0.1 only" bash -c '
    ss -Hltn 2>/dev/null | grep -q ":$1\b" || exit 0  # no ss: skip
    ! ss -Hltn | grep ":$1\b" | grep -vq "127.0.0.1:$1"' _ "$port"

# get TOKEN PATH [curl args...]: sets CODE, BODY, RC, HDRS. Every request
# here is answered at once: 30 s only end one that never is (a loaded
# machine can take seconds over a TLS handshake with the Python mock).
get() {
    local tok=$1 path=$2
    shift 2
    local auth=()
    [ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
    BODY=$(curl -sS --cacert "$certs/ca.pem" --max-time 30 -D "$tmp/hdrs" -o - \
        -w '\n%{http_code}' "${auth[@]}" "$@" "$base$path" 2>"$tmp/curl.err")
    RC=$?
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
    HDRS=$(tr -d '\r' <"$tmp/hdrs" 2>/dev/null)
}
jq_py() { # JSON-TEXT PYTHON-EXPR-over-j: prints the value
    "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

get mockValidAliceToken_0001 /v1/user/access_token_info
check "alice token info: 200" test "$CODE" = 200
check "alice token info body" test "$BODY" = '{"id":3095134389,"expires_in":21599,"app_id":1234567}'
check "content type is application/json;charset=UTF-8" \
    grep -qix 'content-type: application/json;charset=UTF-8' <<<"$HDRS"
check "content length matches" grep -qx "Content-Length: ${#BODY}" <<<"$HDRS"
check "HTTP/1.1" grep -q '^HTTP/1.1 200' <<<"$HDRS"

get mockValidAliceToken_0001 /v2/user/me
check "alice user/me email verified" test \
    "$(jq_py "$BODY" 'j["id"], j["kakao_account"]["email"], j["kakao_account"]["is_email_verified"], j["kakao_account"]["is_email_valid"]')" \
    = "(3095134389, 'alice@example.com', True, True)"
get mockValidBobToken_000002 /v1/user/access_token_info
check "bob token info" test "$(jq_py "$BODY" 'j["id"], j["app_id"]')" = "(1122334455, 1234567)"
get mockOtherAppToken_00003 /v1/user/access_token_info
check "other-app token: app_id 7654321" test "$(jq_py "$BODY" 'j["app_id"]')" = 7654321
get mockNoEmailToken_000006 /v2/user/me
check "no-email user/me" test "$(jq_py "$BODY" '"email" in j["kakao_account"], j["kakao_account"]["email_needs_agreement"]')" = "(False, True)"

get mockUnknownToken_000005 /v1/user/access_token_info
check "unknown token: 401 -401" test "$CODE:$BODY" = '401:{"msg":"this access token does not exist","code":-401}'
get mockExpiredToken_000004 /v2/user/me
check "expired token (user/me): 401 already expired" test "$CODE:$BODY" = '401:{"msg":"this access token is already expired","code":-401}'
get notAFixtureToken_99999 /v1/user/access_token_info
check "token not in table: 401" test "$CODE" = 401
get "" /v1/user/access_token_info
check "no Authorization header: 401" test "$CODE:$BODY" = '401:{"msg":"this access token does not exist","code":-401}'
get "" /v1/user/access_token_info -H "Authorization: Basic bW9ja1ZhbGlkQWxpY2VUb2tlbl8wMDAx"
check "non-Bearer Authorization: 401" test "$CODE" = 401
get mockValidAliceToken_0001 /v1/nothing
check "unknown path: 404 JSON" test "$CODE:$BODY" = '404:{"msg":"not found","code":-1}'
get mockValidAliceToken_0001 /v1/user/access_token_info -X POST -d x=1
check "POST: 405" test "$CODE" = 405

get mockFault429_000000023 /v1/user/access_token_info
check "429 -10" test "$CODE:$(jq_py "$BODY" 'j["code"]')" = "429:-10"
get mockFault500_000000022 /v1/user/access_token_info
check "500 HTML" test "$CODE:${BODY:0:6}" = "500:<html>"
get mockFaultMaint9798_28 /v2/user/me
check "503 -9798" test "$CODE:$(jq_py "$BODY" 'j["code"]')" = "503:-9798"
get mockEmpty200_0000032 /v1/user/access_token_info
check "empty 200" test "$CODE:$BODY" = "200:"
get mockDupKeys_000000034 /v1/user/access_token_info
check "duplicate keys sent verbatim" test "$BODY" = '{"id":3095134389,"id":1122334455,"expires_in":100,"app_id":1234567}'
get mockHugeId_000000037 /v1/user/access_token_info
check "huge id sent verbatim" grep -q '"id":99999999999999999999,' <<<"$BODY"

size=$(curl -sS --cacert "$certs/ca.pem" --max-time 30 -o /dev/null -w '%{size_download}' \
    -H "Authorization: Bearer mockFaultHuge_00000025" "$base/v1/user/access_token_info" 2>/dev/null)
check "huge body is 20 MiB" test "$size" = 20971520
curl -sS --cacert "$certs/ca.pem" --max-time 30 --max-filesize 65536 -o /dev/null \
    -H "Authorization: Bearer mockFaultHuge_00000025" "$base/v1/user/access_token_info" 2>/dev/null
check "huge body: Content-Length announced (curl --max-filesize refuses)" test $? = 63

# redirect: must not be followed (curl without -L)
get mockFaultRedirect_0026 /v1/user/access_token_info
check "redirect: 302 with Location to the mock" test "$CODE" = 302 -a \
    "$(grep -i '^location:' <<<"$HDRS")" = "Location: https://127.0.0.1:$port/v1/user/access_token_info?redirected=1"

# timing faults: curl's exit status 28 says its own --max-time ended the
# request; the elapsed bound only catches a curl that hung past it (20 s:
# far above 2 s plus a slow start on a loaded machine).
t0=$SECONDS
curl -sS --cacert "$certs/ca.pem" --max-time 2 -o /dev/null \
    -H "Authorization: Bearer mockFaultHang_00000020" "$base/v1/user/access_token_info" 2>/dev/null
rc=$?
check "hang token: client times out (28)" test "$rc" = 28 -a $((SECONDS - t0)) -le 20
# 6 s: enough for the handshake and the first byte even when the machine is
# busy; at one byte a second the body stays far below its 200 bytes.
out=$(curl -sS --cacert "$certs/ca.pem" --max-time 6 \
    -H "Authorization: Bearer mockFaultDrip_00000021" "$base/v1/user/access_token_info" 2>/dev/null)
rc=$?
check "drip token: partial body then timeout" test "$rc" = 28 -a -n "$out" -a "${#out}" -lt 10
curl -sS --cacert "$certs/ca.pem" --max-time 2 -o /dev/null "https://127.0.0.1:$(cat "$d/hport")/" 2>/dev/null
check "hang port: even the TLS handshake times out (28)" test $? = 28
curl -sS --cacert "$certs/ca.pem" --max-time 2 -o /dev/null "https://127.0.0.1:$(cat "$d/cport")/" 2>/dev/null
check "closed port: connection refused (7)" test $? = 7

# rogue listener
rport=$(cat "$d/rport")
curl -sS --cacert "$certs/ca.pem" --max-time 30 -o /dev/null \
    -H "Authorization: Bearer mockValidAliceToken_0001" "https://127.0.0.1:$rport/v1/user/access_token_info" 2>/dev/null
check "rogue port refused by curl with the test CA (60)" test $? = 60
code=$(curl -sS --cacert "$certs/rogue-ca.pem" --max-time 30 -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer mockValidAliceToken_0001" "https://localhost:$rport/v1/user/access_token_info" 2>/dev/null)
check "rogue port serves the same app to its own CA" test "$code" = 200

# request log
log=$d/requests.jsonl
check "request log: every line JSON with the documented fields" "$PY" -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert set(r) >= {"method", "path", "query", "headers", "body_len", "peer"}, r
    assert isinstance(r["headers"], dict) and isinstance(r["body_len"], int)
    assert r["peer"].startswith("127.0.0.1:")
    n += 1
assert n >= 20, n
' "$log"
check "request log: alice call recorded with its Authorization header" "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["method"] == "GET" and r["path"] == "/v1/user/access_token_info" and r["query"] == ""
           and r["headers"].get("Authorization") == "Bearer mockValidAliceToken_0001"
           and r["listener"] == "main" for r in rs)
' "$log"
check "request log: tokens never in path or query" "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert "mock" not in (r["path"] + r["query"]), r
' "$log"
check "request log: redirect not followed (no redirected=1 request)" "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert sum(r["headers"].get("Authorization") == "Bearer mockFaultRedirect_0026" for r in rs) == 1
assert not any("redirected" in r["query"] for r in rs)
' "$log"
check "request log: POST body length recorded" "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["method"] == "POST" and r["body_len"] == 3 for r in rs)
' "$log"
check "request log: refused rogue handshake logged nothing" "$PY" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) ]
assert sum(r["listener"] == "rogue" for r in rs) == 1
' "$log"

# ---------------------------------------------------------------- OAuth for kakao-pam-relay
verifier=relaySelftestVerifier_0123456789abcdefghijk
challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
cb=https://relay.example.test/callback
# relay_authorize CLIENT [QUERY-TAIL]: GET /oauth/authorize; sets LOC (Location)
relay_authorize() {
    get "" "/oauth/authorize?response_type=code&client_id=$1&redirect_uri=https%3A%2F%2Frelay.example.test%2Fcallback&state=st4te&code_challenge=$challenge&code_challenge_method=S256${2-&nonce=n0nce&scope=openid}"
    LOC=$(sed -n 's/^Location: //Ip' <<<"$HDRS")
}
# relay_token CLIENT CODE [curl args...]: POST /oauth/token
relay_token() {
    local client=$1 c=$2
    shift 2
    get "" /oauth/token --data-urlencode grant_type=authorization_code \
        --data-urlencode "client_id=$client" --data-urlencode "redirect_uri=$cb" \
        --data-urlencode "code=$c" "$@"
}
relay_authorize mockRelayKey_alice_0101
check "relay authorize: 302 to the callback with code and state" \
    bash -c '[[ $1 = 302 && $2 == "https://relay.example.test/callback?code=mockCode_"*"&state=st4te" ]]' \
    _ "$CODE" "$LOC"
rcode=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$LOC")
relay_token mockRelayKey_alice_0101 "$rcode" --data-urlencode "code_verifier=$verifier"
check "relay token: 200" test "$CODE" = 200
idt=$(jq_py "$BODY" 'j["id_token"]')
check "relay ID token: RS256 by the fixture key; iss = the mock, aud, sub, nonce, times" \
    "$PY" - "$idt" "$base" "$here/../fixtures/id_token/kakao_test.pub.pem" <<'PY'
import base64, json, subprocess, sys, tempfile, time
tok, base, pub = sys.argv[1:4]
h, p, s = tok.split(".")
d = lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
hdr, c = json.loads(d(h)), json.loads(d(p))
assert hdr == {"kid": "3f96980381e451efad0d2ddd30e3d3", "typ": "JWT", "alg": "RS256"}, hdr
assert (c["iss"], c["aud"], c["sub"], c["nonce"]) == \
    (base, "mockRelayKey_alice_0101", "3095134389", "n0nce"), c
assert c["iat"] <= time.time() < c["exp"] and c["auth_time"] <= c["iat"], c
with tempfile.NamedTemporaryFile() as f:
    f.write(d(s))
    f.flush()
    subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", f.name],
                   input=(h + "." + p).encode(), check=True, capture_output=True)
PY
relay_token mockRelayKey_alice_0101 "$rcode" --data-urlencode "code_verifier=$verifier"
check "relay token: a code works once (400 KOE320)" \
    test "$CODE:$(jq_py "$BODY" 'j["error_code"]')" = 400:KOE320
relay_authorize mockRelayKey_alice_0101
rcode=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$LOC")
relay_token mockRelayKey_alice_0101 "$rcode" --data-urlencode "code_verifier=${verifier}x"
check "relay token: a wrong code_verifier (400 KOE320)" \
    test "$CODE:$(jq_py "$BODY" 'j["error_code"]')" = 400:KOE320
relay_authorize mockRelayKey_alice_0101 "&scope=openid"
check "relay authorize: no nonce (400)" test "$CODE" = 400
relay_authorize mockRelayKey_alice_0101 "&nonce=n0nce&scope=profile_nickname"
check "relay authorize: no openid scope (400)" test "$CODE" = 400
relay_authorize mockRelayKey_deny_00104
check "relay authorize, denying client: error=access_denied and the state" \
    bash -c '[[ $1 = 302 && $2 == "https://relay.example.test/callback?error=access_denied&"*"&state=st4te" ]]' \
    _ "$CODE" "$LOC"
relay_authorize mockRelayKey_secret_103
rcode=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$LOC")
relay_token mockRelayKey_secret_103 "$rcode" --data-urlencode "code_verifier=$verifier"
check "relay token: client secret missing (401 KOE010)" \
    test "$CODE:$(jq_py "$BODY" 'j["error_code"]')" = 401:KOE010
relay_authorize mockRelayKey_koe_000113
rcode=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$LOC")
relay_token mockRelayKey_koe_000113 "$rcode" --data-urlencode "code_verifier=$verifier"
check "relay token: KOE client (400 invalid_grant KOE320)" \
    test "$CODE:$(jq_py "$BODY" 'j["error"], j["error_code"]')" = "400:('invalid_grant', 'KOE320')"

# SIGTERM while a hanging request is held open: the mock logs a request
# before answering, so its log line says the request is open.
hangs_before=$(grep -c '"Bearer mockFaultHang_00000020"' "$d/requests.jsonl")
curl -sS --cacert "$certs/ca.pem" --max-time 120 -o /dev/null -H "X-Hold: sigterm" \
    -H "Authorization: Bearer mockFaultHang_00000020" "$base/v1/user/access_token_info" 2>/dev/null &
curl_pid=$!
pids+=("$curl_pid")
check "SIGTERM: the hanging request is open" wait_grep '"X-Hold": "sigterm"' "$d/requests.jsonl" 30
check "SIGTERM: one more hanging request logged" \
    test "$(grep -c '"Bearer mockFaultHang_00000020"' "$d/requests.jsonl")" = $((hangs_before + 1))
kill -TERM "$main_pid"
# The mock checks for a stop every 0.5 s and its lifetime is 120 s: 30 s
# tell a mock that ignores SIGTERM from a slow one.
check "SIGTERM: mock exits despite an open hanging request" wait_gone "$main_pid" 30
wait "$main_pid" 2>/dev/null
rc=$?
check "SIGTERM: exit status 0" test "$rc" = 0
check "mock wrote nothing to stderr" test ! -s "$d/stderr"
wait "$curl_pid" 2>/dev/null

# ---------------------------------------------------------------- self-stopping
sleep 300 &
fake_parent=$!
pids+=("$fake_parent")
if start_mock parent --parent-pid "$fake_parent" --lifetime 120; then
    kill "$fake_parent"
    wait "$fake_parent" 2>/dev/null
    # polled every 0.5 s; --lifetime 120 would end it much later
    check "exits by itself when --parent-pid disappears" wait_gone "$MPID" 30
else
    bad "exits by itself when --parent-pid disappears" "did not start"
fi

# parent dead but not yet reaped (a zombie) counts as gone. The parent-to-be
# (head, reading a FIFO) lives until the mock is up, then is told to exit;
# its own parent is the long sleep (exec), which never reaps it.
mkfifo "$tmp/zombie.go"
bash -c 'head -c 1 "$2" >/dev/null & echo $! >"$1"; exec sleep 300' _ "$tmp/zombie.pid" \
    "$tmp/zombie.go" &
reaper=$!
pids+=("$reaper")
zombie=""
wait_file "$tmp/zombie.pid" 30 && zombie=$(cat "$tmp/zombie.pid")
if [ -n "$zombie" ] && start_mock zombie --parent-pid "$zombie" --lifetime 120; then
    timeout 30 bash -c 'echo >"$1"' _ "$tmp/zombie.go"
    check "zombie test really had a zombie" wait_zombie "$zombie" 30
    check "exits when --parent-pid is a zombie (dead, not reaped)" wait_gone "$MPID" 30
else
    bad "exits when --parent-pid is a zombie" "did not start"
fi
# head if it never got to exit (its parent, the sleep, still holds its pid)
[ -n "$zombie" ] && kill "$zombie" 2>/dev/null
kill "$reaper" 2>/dev/null
wait "$reaper" 2>/dev/null

# the lifetime counts from the mock's start; without it the mock would run
# until this script ends, so 30 s only tell a broken lifetime from a slow one
if start_mock lifetime --lifetime 1.5; then
    check "exits by itself after --lifetime" wait_gone "$MPID" 30
else
    bad "exits by itself after --lifetime" "did not start"
fi

mkdir -p "$tmp/bad"
"$PY" "$MOCK" --cert "$tmp/nonexistent.pem" --key "$certs/server.key" --port-file "$tmp/bad/port" \
    --log "$tmp/bad/log" --lifetime 5 2>"$tmp/bad/stderr"
rc=$?
check "startup failure: exit 2, one stderr line, no port file" \
    test "$rc" = 2 -a "$(wc -l <"$tmp/bad/stderr")" = 1 -a ! -e "$tmp/bad/port"

check "README lists every fixture token" bash -c '
    "$1" "$2" --list-fixtures | sed -n "s/^| \`\([^\`]*\)\`.*/\1/p" | while read -r t; do
        grep -q "$t" "$3" || { echo "missing in README: $t" >&2; exit 1; }
    done' _ "$PY" "$MOCK" "$here/README.md"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
