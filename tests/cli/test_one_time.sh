# One-time tokens (kakao-pam(1), pam_kakao.conf(5) ONE-TIME TOKENS): mint
# --jti and --one-time, verify leaving the store alone, the module refusing a
# second use (pamtester), check of the store settings and check --connect
# against a redis-server this file starts on a unix socket (no TCP port) and
# stops again.
echo "== kakao-pam: one-time tokens"
K=$CLI_KEYS
O="$CW/once"
mkdir -p "$O"
chmod 700 "$O"

cli_expect "mint --jti" 0 "*.*.*" "" "$KP" mint --key "$K/hs256.key" --alg HS256 \
    --kakao-id 3095134389 --jti 'order-17 "a"'
cli_claims=$(cli_jwt_part "$cli_out" 1)
case $cli_claims in
'{"kakao_id":3095134389,"iat":'*',"exp":'*',"jti":"order-17 \"a\""}') ok "cli mint --jti claims" ;;
*) bad "cli mint --jti claims ($cli_claims)" ;;
esac
cli_expect "mint --one-time" 0 "*.*.*" "" "$KP" mint --key "$K/hs256.key" --alg HS256 \
    --kakao-id 3095134389 --one-time
cli_tok=$cli_out
cli_jti=$(cli_jwt_part "$cli_tok" 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["jti"])')
case $cli_jti in
*[!A-Za-z0-9_-]*) bad "cli mint --one-time: jti is base64url ($cli_jti)" ;;
*) check "cli mint --one-time: jti is 22 base64url characters (128 bits)" test "${#cli_jti}" -eq 22 ;;
esac
cli_expect "mint --one-time again" 0 "*.*.*" "" "$KP" mint --key "$K/hs256.key" --alg HS256 \
    --kakao-id 3095134389 --one-time
cli_jti2=$(cli_jwt_part "$cli_out" 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["jti"])')
check "cli mint --one-time: a new jti each time" test "$cli_jti" != "$cli_jti2"
cli_expect "mint --jti with --one-time" 2 "" "kakao-pam mint: --jti and --one-time do not go together" \
    "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 1 --jti a --one-time
cli_expect "mint --jti empty" 2 "" "kakao-pam mint: --jti must be 1-128 printable ASCII characters" \
    "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 1 --jti ''
cli_expect "mint --jti of 129 bytes" 2 "" \
    "kakao-pam mint: --jti must be 1-128 printable ASCII characters" \
    "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 1 --jti "$(printf '%0129d' 0)"

# verify judges, the module uses up: verify twice, then the module once.
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\none_time = yes\ncache_dir = $O/cache\n"
for cli_i in 1 2; do
    cli_expect "verify one-time token ($cli_i): the store is not consulted" 0 \
        "accepted jwt kakao_id=3095134389 user=alice" \
        "kakao-pam verify: one_time = yes: the one-time store is not consulted; a token accepted here may already be used" \
        "$KP" verify --config "$CLI_CONF" --user alice "$cli_tok"
done
cli_pam_line "" alice "$cli_tok"
check "cli one-time token: the module accepts it once (pamtester)" \
    test "$cli_pam" = "accepted jwt kakao_id=3095134389 user=alice" -a "$cli_pam_rc" -eq 0
cli_mark=$(printf '\000%s' "$cli_jti" | openssl dgst -sha256 -r | cut -c1-8)
cli_pam_line "" alice "$cli_tok"
check "cli one-time token: the second use is refused (pamtester)" \
    test "$cli_pam" = "rejected jwt for user=alice: token already used (mark=$cli_mark)" -a "$cli_pam_rc" -ne 0
cli_expect "mint without --jti" 0 "*.*.*" "" "$KP" mint \
    --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389
cli_expect "verify: a token without jti" 1 \
    "rejected jwt for user=alice: no usable jti for one_time (no jti claim)" "*" \
    "$KP" verify --config "$CLI_CONF" --user alice "$cli_out"

# check: the store settings
cli_file "$O/pw" 600 "cli-redis-password\n"
cli_file "$O/pw-open" 644 "cli-redis-password\n"
cli_file "$O/pw-empty" 600 "\n"
# timeout = 30: the cases below are about what Redis answers (or a socket
# that is not there), so a Redis slow to answer on a loaded machine must not
# count as one that does not; a timeout costs nothing when the answer comes.
cli_file "$O/base.conf" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\none_time = yes\ncache_dir = $O/cache\ntimeout = 30\n"
cli_expect "check: a store URL with a host name" 1 \
    "*argument: bad value for \"store\": must be local, or redis:// host must be numeric (IPv4, or \[IPv6\]): names are not looked up*1 problem found" \
    "" "$KP" check --config "$O/base.conf" store=redis://redis.example:6379
cli_expect "check: redis_password_file readable by others" 1 \
    "*ok store unix:$O/redis.sock
$O/pw-open: key file readable by others (mode 0644)
1 problem found" "" "$KP" check --config "$O/base.conf" "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw-open"
cli_expect "check: an empty Redis password" 1 "*$O/pw-empty: empty password
1 problem found" "" "$KP" check --config "$O/base.conf" "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw-empty"
cli_expect "check: redis_password_file with store = local" 1 \
    "config: redis_password_file is set, but store is not a Redis server*" "" \
    "$KP" check --config "$O/base.conf" "redis_password_file=$O/pw"
cli_expect "check: the store, clean" 0 "*ok store unix:$O/redis.sock
ok redis_password_file $O/pw
no problems found" "" "$KP" check --config "$O/base.conf" "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw"
cli_expect "check --connect: local store" 0 "*ok store local
ok store local answers
no problems found" "" "$KP" check --config "$O/base.conf" --connect
cli_expect "check --connect: Redis not running" 2 "*ok redis_password_file $O/pw
store unix:$O/redis.sock does not answer: redis unix:$O/redis.sock: connect: No such file or directory" \
    "" "$KP" check --config "$O/base.conf" --connect "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw"

# A real redis-server on a unix socket of this test (no TCP), stopped below.
redis-server --port 0 --unixsocket "$O/redis.sock" --unixsocketperm 700 --dir "$O" \
    --save '' --appendonly no --daemonize no --requirepass cli-redis-password \
    --logfile "$O/redis.log" </dev/null >/dev/null 2>&1 &
cli_redis=$!
# Up to 30 s for Redis to answer PING: the socket file appears at bind(),
# a moment before the server listens and long before it serves.
cli_redis_up() {
    [ "$(REDISCLI_AUTH=cli-redis-password redis-cli -s "$O/redis.sock" ping 2>/dev/null)" = PONG ]
}
cli_i=0
while ! cli_redis_up && [ "$cli_i" -lt 300 ] && kill -0 "$cli_redis" 2>/dev/null; do
    sleep 0.1
    cli_i=$((cli_i + 1))
done
check "cli redis-server started (unix socket)" cli_redis_up
cli_expect "check --connect: Redis answers" 0 "*ok store unix:$O/redis.sock answers
no problems found" "" "$KP" check --config "$O/base.conf" --connect "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw"
cli_file "$O/pw-wrong" 600 "not-the-password\n"
cli_expect "check --connect: wrong Redis password" 2 \
    "*store unix:$O/redis.sock does not answer: redis unix:$O/redis.sock refused AUTH: \"WRONGPASS invalid username-password pair or user is disabled.\"" \
    "" "$KP" check --config "$O/base.conf" --connect "store=unix:$O/redis.sock" \
    "redis_password_file=$O/pw-wrong"
# Through the module: a one-time token once per fleet.
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\none_time = yes\ncache_dir = $O/cache\nstore = unix:$O/redis.sock\nredis_password_file = $O/pw\n"
"$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389 --one-time >"$O/tok"
cli_pam_line "" alice "$(cat "$O/tok")"
check "cli one-time token through Redis: accepted once" \
    test "$cli_pam" = "accepted jwt kakao_id=3095134389 user=alice" -a "$cli_pam_rc" -eq 0
cli_pam_line "" alice "$(cat "$O/tok")"
case $cli_pam in
"rejected jwt for user=alice: token already used (mark="*")") ok "cli one-time token through Redis: refused the second time" ;;
*) bad "cli one-time token through Redis: refused the second time ($cli_pam)" ;;
esac
# --connect asks the relay too: GET {relay_url}/healthz within timeout.
cli_file "$O/relay.conf" 644 "user_map = $CW/users\nrelay_key = $K/ec256.pub.pem\nca_file = $CLI_CA\ntimeout = 30\n"
cli_expect "check --connect: relay not listening" 2 \
    "*relay https://127.0.0.1:$MOCK_CLOSED_PORT does not answer: connect: *" "" \
    "$KP" check --config "$O/relay.conf" --connect "relay_url=https://127.0.0.1:$MOCK_CLOSED_PORT"
cli_expect "check --connect: relay answering 404" 2 \
    "*relay https://127.0.0.1:$MOCK_PORT does not answer: HTTP 404 from /healthz" "" \
    "$KP" check --config "$O/relay.conf" --connect "relay_url=https://127.0.0.1:$MOCK_PORT"
cli_expect "check without --connect: relay not asked" 0 "*no problems found" "" \
    "$KP" check --config "$O/relay.conf" "relay_url=https://127.0.0.1:$MOCK_CLOSED_PORT"
kill "$cli_redis" 2>/dev/null
wait "$cli_redis" 2>/dev/null
check "cli redis-server stopped" sh -c '! kill -0 "$1" 2>/dev/null' sh "$cli_redis"
