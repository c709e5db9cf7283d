# kakao-pam under valgrind: no memory errors, no leaks, on the main paths.
# Skipped with VALGRIND=0 and for sanitized builds (run.sh sets VALGRIND=0
# only later, so look at SANITIZE too).
if [ "${VALGRIND:-1}" = 1 ] && [ "${SANITIZE:-}" != 1 ]; then
    echo "== kakao-pam under valgrind"
    cli_vg() {
        valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect "$@"
    }
    K=$CLI_KEYS
    # timeout = 30: under valgrind the TLS handshake with the mock takes
    # seconds, which must not run out the default 5 s.
    cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\nkakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:$MOCK_PORT\nca_file = $CLI_CA\ntimeout = 30\n"
    cli_expect "valgrind: mint" 0 "*.*.*" "" cli_vg "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389
    cli_expect "valgrind: verify jwt" 0 "accepted jwt kakao_id=3095134389 user=alice" "" \
        cli_vg "$KP" verify --config "$CLI_CONF" --user alice "$cli_out"
    cli_expect "valgrind: verify kakao" 0 "accepted kakao kakao_id=3095134389 user=alice" "" \
        cli_vg "$KP" verify --config "$CLI_CONF" --user alice mockValidAliceToken_0001
    cli_expect "valgrind: verify refused" 1 "rejected token for user=alice: malformed token*" "" \
        cli_vg "$KP" verify --config "$CLI_CONF" --user alice a.b
    "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389 >"$CW/vg.tok" 2>/dev/null
    CLI_STDIN="$CW/vg.tok"
    cli_expect "valgrind: enroll jwt" 0 "# kakao-pam enroll: jwt token checked *
3095134389 alice" "" cli_vg "$KP" enroll --config "$CLI_CONF" --user alice -
    CLI_STDIN=""
    printf 'mockValidBobToken_000002\n' >"$CW/vg.tok"
    cli_expect "valgrind: enroll kakao" 0 "# kakao-pam enroll: kakao token checked *
1122334455 alice" "" cli_vg "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/vg.tok"
    printf 'a.b\n' >"$CW/vg.tok"
    cli_expect "valgrind: enroll refused" 1 "" "kakao-pam enroll: rejected token for user=alice: *" \
        cli_vg "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/vg.tok"
    cli_expect "valgrind: check" 1 "*problems found" "" \
        cli_vg "$KP" check --config "$CLI_CONF" "user_map=$CW/chk/badmap" "jwks_file=$CW/chk/jwks.json"
    cli_lport=$(cli_free_port)
    rm -f "$CW/login.err"
    cli_vg "$KP" login --no-browser --client-id mockRestApiKey_public_01 --id-token \
        --redirect-uri "http://localhost:$cli_lport/callback" \
        --auth-url "https://127.0.0.1:$MOCK_PORT/oauth/authorize" \
        --token-url "https://127.0.0.1:$MOCK_PORT/oauth/token" --ca-file "$CLI_CA" --timeout 60 \
        </dev/null >"$CW/login.out" 2>"$CW/login.err" &
    cli_lpid=$!
    cli_i=0
    while ! grep -q 'authorize?' "$CW/login.err" 2>/dev/null && [ "$cli_i" -lt 300 ]; do
        sleep 0.1
        cli_i=$((cli_i + 1))
    done
    curl -4 -sS --max-time 30 -o /dev/null "http://127.0.0.1:$cli_lport/favicon.ico"
    cli_browse "$(sed -n 's/^  \(https:.*\)$/\1/p' "$CW/login.err")" >/dev/null
    cli_login_end
    cli_judge "valgrind: login" 0 "mockValidAliceToken_0001
eyJ*" "*logged in*"
fi
