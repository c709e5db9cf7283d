#!/bin/sh
# Part 5 of make bench (tests/bench/bench.sh runs it when the relay is built):
# kakao-pam-relay under load, against the mock Kakao that bench.sh started.
# Prints "relay NAME key=value ..." lines (tests/bench/relay_bench.c says what
# each is) for bench.sh's results; everything it starts, it stops.
#
#   B=build W=WORKDIR MOCK_PORT=N CA=ca.pem sh tests/bench/relay.sh
#
# RELAY (default $B/kakao-pam-relay) is the program, started as
# "$RELAY --config FILE" after "--check" accepted FILE. RELAY_CLIENTS (64) and
# RELAY_SECONDS (10) set the login run, RELAY_SESSIONS (10000) the memory
# probe, RELAY_CLIENT_ID the mock's relay client (mockRelayKey_alice_0101).
# RELAY_MHD_FLAGS are the daemon settings of the fixed-answer floor
# (mhd_fixed): keep them the relay's.
#
# With MOD (pam_kakao.so), S (pam_wrapper's service directory, with services
# pk_hs and pk_kakao), USERS (a user map with alice), HS_TOK and KAKAO_TOK set:
# the module's side too. A second relay serves HTTPS itself (the mock's
# server certificate; its public_url is where it listens, as the module's
# relay_url must be https://), and "relay_bench module" times RELAY_LOGINS
# (200) relay logins of alice through the module, the approval taken out,
# alternating with HS256 and Kakao-token logins.
set -eu
: "${B:?}" "${W:?}" "${MOCK_PORT:?}" "${CA:?}"
RELAY=${RELAY:-$B/kakao-pam-relay}
CLIENTS=${RELAY_CLIENTS:-64}
SECONDS_LOGIN=${RELAY_SECONDS:-10}
SESSIONS=${RELAY_SESSIONS:-10000}
# The relay's libmicrohttpd settings (relay/server.c, pk_relay_server_start):
# a thread per connection under one polling thread, at most 512 connections
# (PK_RELAY_MAX_CONNECTIONS), a 10 s connection timeout, 32 KiB of memory and a
# 512 KiB stack per connection. When the relay's choices change, change these.
MHD_FLAGS=${RELAY_MHD_FLAGS:-"--per-connection --limit 512 --timeout 10 \
    --memory 32768 --stack 524288"}
# The mock Kakao's relay client that approves as alice (tests/mock/README.md).
CLIENT_ID=${RELAY_CLIENT_ID:-mockRelayKey_alice_0101}
DRIVER="$B/tests/relay_bench"
FIXED="$B/tests/mhd_fixed"
PUBLIC=https://relay.bench.invalid
LOGINS_MODULE=${RELAY_LOGINS:-200}

for f in "$RELAY" "$DRIVER" "$FIXED"; do
    [ -x "$f" ] || { echo "relay bench: $f missing" >&2; exit 2; }
done
mkdir -p "$W"
chmod 700 "$W"
relay_pid=""
fixed_pid=""
redis_pid=""
rrelay_pid=""
tls_pid=""
stop() { # stop PID: SIGTERM, then wait at most 10 s
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
# up PID LOG CMD...: polls CMD (10 s at most) until it succeeds; a process
# that exits first, or the time running out, prints LOG and fails the run.
up() {
    pid=$1 log=$2
    shift 2
    i=0
    until "$@" >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 100 ]; then
            cat "$log" >&2
            exit 2
        fi
        sleep 0.1
        i=$((i + 1))
    done
}
# healthy URL [CURL_OPTION...]: the relay at URL answers /healthz.
healthy() {
    url=$1
    shift
    curl -fsS -o /dev/null --max-time 1 "$@" "$url/healthz"
}
cleanup() {
    stop "$relay_pid"
    stop "$fixed_pid"
    stop "$rrelay_pid"
    stop "$redis_pid"
    stop "$tls_pid"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# A free loopback port for a relay (it is told one; the kernel picks it).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
BASE="http://127.0.0.1:$port"

(umask 077 && openssl ecparam -name prime256v1 -genkey -noout |
    openssl pkcs8 -topk8 -nocrypt -out "$W/signing.key")
# The limits are raised to the relay's maxima so that the load measures the
# relay, not its refusals: the create runs leave sessions pending, and every
# client names its own address in X-Forwarded-For (127.0.0.1 is a trusted
# proxy), since at these rates one address would pass rate_limit in seconds. The mock's relay client signs a real ID token;
# the relay fetches the mock's JWKS from kakao_auth_url, trusting ca_file.
cat >"$W/relay.conf" <<EOF
listen = 127.0.0.1:$port
public_url = $PUBLIC
kakao_rest_api_key = $CLIENT_ID
kakao_auth_url = https://127.0.0.1:$MOCK_PORT
ca_file = $CA
signing_key = $W/signing.key
session_ttl = 600
max_sessions = 1000000
rate_limit = 100000
trusted_proxies = 127.0.0.1
EOF
chmod 644 "$W/relay.conf"

if ! "$RELAY" --config "$W/relay.conf" --check >"$W/check.log" 2>&1; then
    echo "relay bench: the relay refuses its configuration:" >&2
    cat "$W/check.log" >&2
    exit 2
fi
"$RELAY" --config "$W/relay.conf" </dev/null >"$W/relay.log" 2>&1 &
relay_pid=$!
up "$relay_pid" "$W/relay.log" healthy "$BASE"

# Memory first, on a fresh relay: VmRSS before and after SESSIONS sessions.
"$DRIVER" memory "$BASE" "$relay_pid" "$SESSIONS"
"$DRIVER" login "$BASE" "$PUBLIC" "$CLIENTS" "$SECONDS_LOGIN" "$CA"
"$DRIVER" create create "$BASE" "$CLIENTS" 5

# The floor: the same request against libmicrohttpd answering a fixed 201.
rm -f "$W/fixed.port"
# shellcheck disable=SC2086
"$FIXED" $MHD_FLAGS "$W/fixed.port" </dev/null >"$W/fixed.log" 2>&1 &
fixed_pid=$!
up "$fixed_pid" "$W/fixed.log" test -s "$W/fixed.port"
"$DRIVER" create fixed "http://127.0.0.1:$(cat "$W/fixed.port")" "$CLIENTS" 5
stop "$fixed_pid"
fixed_pid=""

# The same complete logins with the sessions in Redis (store = unix:…, a
# redis-server of this run without persistence), and the Redis commands a
# login costs: INFO commandstats before and after, over the logins done.
if command -v redis-server >/dev/null 2>&1; then
    rm -f "$W/redis.sock"
    redis-server --port 0 --unixsocket "$W/redis.sock" --unixsocketperm 700 --save '' \
        --appendonly no --dir "$W" </dev/null >"$W/redis.log" 2>&1 &
    redis_pid=$!
    up "$redis_pid" "$W/redis.log" redis-cli -s "$W/redis.sock" ping
    rport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    sed -e "s/^listen = .*/listen = 127.0.0.1:$rport/" "$W/relay.conf" >"$W/relay_redis.conf"
    echo "store = unix:$W/redis.sock" >>"$W/relay_redis.conf"
    chmod 644 "$W/relay_redis.conf"
    "$RELAY" --config "$W/relay_redis.conf" </dev/null >"$W/relay_redis.log" 2>&1 &
    rrelay_pid=$!
    up "$rrelay_pid" "$W/relay_redis.log" healthy "http://127.0.0.1:$rport"
    # calls [eval]: the commands Redis ran (those inside scripts included), or
    # only the EVALs (the relay's round trips); INFO itself not counted.
    calls() { redis-cli -s "$W/redis.sock" info commandstats | awk -F'[:=,]' -v only="${1:-}" '
        /^cmdstat_/ && $1 != "cmdstat_info" && (only == "" || $1 == "cmdstat_" only) { n += $3 }
        END { print n + 0 }'; }
    c0=$(calls)
    e0=$(calls eval)
    "$DRIVER" login "http://127.0.0.1:$rport" "$PUBLIC" "$CLIENTS" "$SECONDS_LOGIN" "$CA" |
        sed 's/^relay login /relay login_redis /' >"$W/login_redis.out"
    c1=$(calls)
    e1=$(calls eval)
    cat "$W/login_redis.out"
    logins=$(awk '{ for (i = 3; i <= NF; i++) { split($i, a, "="); if (a[1] == "logins") print a[2] } }' \
        "$W/login_redis.out")
    keys=$(redis-cli -s "$W/redis.sock" dbsize)
    per() { awk -v c="$1" -v n="$logins" 'BEGIN { if (n > 0) printf "%.1f", c / n; else print "-" }'; }
    echo "relay redis commands=$((c1 - c0)) evals=$((e1 - e0)) logins=$logins" \
        "per_login=$(per $((c1 - c0))) evals_per_login=$(per $((e1 - e0))) keys_after=$keys"
    stop "$rrelay_pid"
    rrelay_pid=""
    stop "$redis_pid"
    redis_pid=""
fi

# SIGTERM: the relay must stop and exit 0 within its 5 s (10 s allowed here).
kill -TERM "$relay_pid"
t0=$(date +%s%N)
i=0
while kill -0 "$relay_pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
stop_ms=$((($(date +%s%N) - t0) / 1000000))
rc=0
if kill -0 "$relay_pid" 2>/dev/null; then
    kill -KILL "$relay_pid"
    rc=killed
fi
st=0
wait "$relay_pid" || st=$?
[ "$rc" = killed ] || rc=$st
relay_pid=""
echo "relay sigterm exit=$rc stop_ms=$stop_ms"

# The module's side, against a relay serving HTTPS itself.
if [ -n "${MOD:-}" ]; then
    : "${S:?}" "${USERS:?}" "${HS_TOK:?}" "${KAKAO_TOK:?}"
    tport=$(free_port)
    TLS_URL="https://127.0.0.1:$tport"
    CERTS=$(dirname "$CA")
    sed -e "s|^listen = .*|listen = 127.0.0.1:$tport|" -e "s|^public_url = .*|public_url = $TLS_URL|" \
        "$W/relay.conf" >"$W/relay_tls.conf"
    printf 'tls_cert = %s\ntls_key = %s\n' "$CERTS/server.pem" "$CERTS/server.key" \
        >>"$W/relay_tls.conf"
    chmod 644 "$W/relay_tls.conf"
    "$RELAY" --config "$W/relay_tls.conf" </dev/null >"$W/relay_tls.log" 2>&1 &
    tls_pid=$!
    up "$tls_pid" "$W/relay_tls.log" healthy "$TLS_URL" --cacert "$CA"
    printf 'user_map = %s\nrelay_url = %s\nrelay_key = %s\nca_file = %s\n' "$USERS" "$TLS_URL" \
        "$W/relay.pub.pem" "$CA" >"$W/module.conf"
    openssl pkey -in "$W/signing.key" -pubout -out "$W/relay.pub.pem"
    chmod 644 "$W/module.conf" "$W/relay.pub.pem"
    printf 'auth required %s config=%s\n' "$MOD" "$W/module.conf" >"$S/pk_relay_module"
    LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$S" \
        "$DRIVER" module "$LOGINS_MODULE" "$CA" "$TLS_URL" relay=pk_relay_module:alice \
        "hs256=pk_hs:alice:$HS_TOK" "kakao=pk_kakao:alice:$KAKAO_TOK"
    stop "$tls_pid"
    tls_pid=""
fi
