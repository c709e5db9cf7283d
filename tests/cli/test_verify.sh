# kakao-pam verify: the module's decision without PAM. Every case runs the
# same config, arguments, user and token through real pamtester (the module
# under pam_wrapper) and through verify, and the two lines must be equal.
echo "== kakao-pam verify agrees with the module (pamtester under pam_wrapper)"
K=$CLI_KEYS

# cli_agree NAME USER TOKEN WANT_RC WANT_LINE [ARGS]: ARGS (KEY=VALUE words)
# go on the PAM line and on verify's command line alike. The lines are
# compared with now=... and libcurl's "after N ms" masked (the two runs may straddle a
# second, and take different times to be refused).
cli_agree() {
    cli_pam_line "${6:-}" "$2" "$3"
    cli_pl=$(printf '%s' "$cli_pam" | sed -e 's/now=[0-9]*/now=T/g' -e 's/after [0-9]* ms/after N ms/g')
    printf '%s\n' "$3" >"$CW/tok"
    # shellcheck disable=SC2086
    "$KP" verify --config "$CLI_CONF" ${6:-} --user "$2" - <"$CW/tok" >"$CW/verify.out" 2>"$CW/verify.err"
    cli_vrc=$?
    cli_vl=$(sed -e 's/now=[0-9]*/now=T/g' -e 's/after [0-9]* ms/after N ms/g' "$CW/verify.out")
    cli_ok=1
    [ -n "$cli_pl" ] && [ "$cli_pl" = "$cli_vl" ] || cli_ok=0
    [ "$cli_vrc" -eq "$4" ] || cli_ok=0
    # pamtester: 0 only for PAM_SUCCESS
    if [ "$4" -eq 0 ]; then [ "$cli_pam_rc" -eq 0 ] || cli_ok=0; else [ "$cli_pam_rc" -ne 0 ] || cli_ok=0; fi
    # shellcheck disable=SC2254
    case $cli_vl in $5) ;; *) cli_ok=0 ;; esac
    if [ "$cli_ok" = 1 ]; then
        ok "cli verify = module: $1 ($cli_vl)"
    else
        bad "cli verify = module: $1"
        printf '  module: %s (pamtester rc %s)\n  verify: %s (rc %s, want %s)\n  want:   %s\n' \
            "$cli_pl" "$cli_pam_rc" "$cli_vl" "$cli_vrc" "$4" "$5"
        sed 's/^/  verify stderr: /' "$CW/verify.err"
    fi
}

cli_mint() { "$KP" mint --key "$K/hs256.key" --alg HS256 "$@" 2>/dev/null; }
now=$(date +%s)
H='{"alg":"HS256","typ":"JWT"}'
A=3095134389

# --- app JWTs, HS256
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
good=$(cli_mint --kakao-id $A)
cli_agree "jwt accepted" alice "$good" 0 "accepted jwt kakao_id=$A user=alice"
cli_agree "jwt, second account of one id" deploy "$good" 0 "accepted jwt kakao_id=$A user=deploy"
cli_agree "jwt of another account" bob "$good" 1 \
    "rejected jwt for user=bob: kakao_id not mapped to this user (kakao_id=$A)"
cli_agree "no user map entry" carol "$good" 1 "no user map entry for user=carol"
cli_agree "jwt expired" alice "$(cli_mint --kakao-id $A --ttl -3600)" 1 \
    "rejected jwt for user=alice: expired (exp=* now=T)"
recent=$(cli_forge "$H" "{\"kakao_id\":$A,\"exp\":$((now - 30))}")
cli_agree "jwt expired within leeway" alice "$recent" 0 "accepted jwt kakao_id=$A user=alice"
cli_agree "leeway=0 argument" alice "$recent" 1 "rejected jwt for user=alice: expired (exp=* now=T)" \
    "leeway=0"
cli_agree "nbf ahead" alice "$(cli_forge "$H" "{\"kakao_id\":$A,\"exp\":$((now + 300)),\"nbf\":$((now + 3600))}")" \
    1 "rejected jwt for user=alice: not yet valid (nbf=* now=T)"
cli_agree "iat ahead" alice "$(cli_forge "$H" "{\"kakao_id\":$A,\"exp\":$((now + 300)),\"iat\":$((now + 3600))}")" \
    1 "rejected jwt for user=alice: issued in the future*"
cli_agree "no exp" alice "$(cli_forge "$H" "{\"kakao_id\":$A}")" 1 "rejected jwt for user=alice: no exp claim"
C="{\"kakao_id\":$A,\"exp\":$((now + 300))}"
cli_agree "alg none" alice "$(cli_forge '{"alg":"none"}' "$C")" 1 "rejected jwt for user=alice: algorithm not allowed*"
cli_agree "alg RS256 header" alice "$(cli_forge '{"alg":"RS256","typ":"JWT"}' "$C")" 1 \
    "rejected jwt for user=alice: algorithm not allowed*"
cli_agree "alg hs256 lower case" alice "$(cli_forge '{"alg":"hs256"}' "$C")" 1 \
    "rejected jwt for user=alice: algorithm not allowed*"
cli_agree "crit header" alice "$(cli_forge '{"alg":"HS256","crit":["exp"]}' "$C")" 1 \
    "rejected jwt for user=alice: crit header not supported*"
cli_agree "typ JWS" alice "$(cli_forge '{"alg":"HS256","typ":"JWS"}' "$C")" 1 \
    "rejected jwt for user=alice: typ header not JWT*"
cli_agree "bad signature" alice "$(cli_forge "$H" "$C" "$K/hs_short.key")" 1 \
    "rejected jwt for user=alice: bad signature"
cli_agree "signature cut" alice "${good%??}" 1 \
    "rejected jwt for user=alice: signature length wrong, token probably cut off*"
for cli_id in 3095134389.0 -5 '"03095134389"' true 99999999999999999999; do
    cli_agree "kakao_id $cli_id" alice "$(cli_forge "$H" "{\"kakao_id\":$cli_id,\"exp\":$((now + 300))}")" \
        1 "rejected jwt for user=alice: *"
done
cli_agree "kakao_id string of digits" alice "$(cli_forge "$H" "{\"kakao_id\":\"$A\",\"exp\":$((now + 300))}")" \
    0 "accepted jwt kakao_id=$A user=alice"
cli_agree "no kakao_id" alice "$(cli_forge "$H" "{\"exp\":$((now + 300))}")" 1 \
    "rejected jwt for user=alice: bad id claim*"
cli_agree "duplicate claim" alice "$(cli_forge "$H" "{\"kakao_id\":1122334455,\"kakao_id\":$A,\"exp\":$((now + 300))}")" \
    1 "rejected jwt for user=alice: bad claims*"
cli_agree "jwt_issuer argument, iss missing" alice "$good" 1 \
    "rejected jwt for user=alice: wrong issuer (iss missing)" "jwt_issuer=https://issuer.example"
cli_agree "jwt_issuer argument, iss right" alice "$(cli_mint --kakao-id $A --iss https://issuer.example)" 0 \
    "accepted jwt kakao_id=$A user=alice" "jwt_issuer=https://issuer.example"
cli_agree "jwt_audience argument, aud array" alice \
    "$(cli_forge "$H" "{\"kakao_id\":$A,\"exp\":$((now + 300)),\"aud\":[\"web\",\"pam\"]}")" 0 \
    "accepted jwt kakao_id=$A user=alice" "jwt_audience=pam"
cli_agree "jwt_audience argument, aud other" alice "$(cli_mint --kakao-id $A --aud web)" 1 \
    "rejected jwt for user=alice: wrong audience*" "jwt_audience=pam"
cli_agree "max_token_age argument" alice \
    "$(cli_forge "$H" "{\"kakao_id\":$A,\"iat\":$((now - 3600)),\"exp\":$((now + 300))}")" 1 \
    "rejected jwt for user=alice: authentication too old*" "max_token_age=60"
cli_agree "jwt_id_claim argument" alice "$(cli_forge "$H" "{\"user_id\":$A,\"exp\":$((now + 300))}")" 0 \
    "accepted jwt kakao_id=$A user=alice" "jwt_id_claim=user_id"
cli_agree "malformed a.b" alice "a.b" 1 "rejected token for user=alice: malformed token*"
cli_agree "empty" alice "   " 1 "rejected token for user=alice: empty token"
cli_agree "control byte" alice "$(printf 'abc\001defghijklmnopqrstuv')" 1 \
    "rejected token for user=alice: token has bytes outside printable ASCII (byte 0x01 at offset 3)"
cli_agree "1023 bytes" alice "$(printf '%01023d' 0)" 1 \
    "rejected token for user=alice: *1023 bytes: probably cut off by the OpenSSH client*"
cli_agree "kakao token, jwt only" alice "abcdefghijklmnopqrstuvwxyz0123456789" 1 \
    "rejected kakao for user=alice: token kind not accepted*"

# --- RS256 and ES256
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/rsa.pub.pem\njwt_alg = RS256\n"
cli_agree "RS256 accepted" alice "$("$KP" mint --key "$K/rsa.pem" --alg RS256 --kakao-id $A)" 0 \
    "accepted jwt kakao_id=$A user=alice"
cli_agree "RS256 key used as HS256 secret (alg confusion)" alice "$(cli_forge "$H" "$C" "$K/rsa.pub.pem")" 1 \
    "rejected jwt for user=alice: algorithm not allowed*"
cli_agree "RS256 token of another key" alice "$("$KP" mint --key "$K/rsa_other.pem" --alg RS256 --kakao-id $A)" 1 \
    "rejected jwt for user=alice: bad signature"
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/ec256.pub.pem\njwt_alg = ES256\n"
cli_agree "ES256 accepted" alice "$("$KP" mint --key "$K/ec256.pem" --alg ES256 --kakao-id $A)" 0 \
    "accepted jwt kakao_id=$A user=alice"

# --- unusable config, files, keys
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\nfrob = 1\n"
cli_agree "unknown key in the file" alice "$good" 2 "config error: $CLI_CONF:4: unknown key \"frob\""
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_agree "argument given twice" alice "$good" 2 'config error: argument: key "leeway" given twice' \
    "leeway=1 leeway=2"
cli_agree "use_first_pass with try_first_pass" alice "$good" 2 \
    "config error: argument: use_first_pass and try_first_pass are exclusive" "use_first_pass try_first_pass"
cli_agree "debug twice" alice "$good" 2 'config error: argument: option "debug" given twice' "debug debug=yes"
cli_agree "debug" alice "$good" 0 "accepted jwt kakao_id=$A user=alice" "debug"
cli_agree "unknown argument" alice "$good" 2 'config error: argument: unknown key "frobnicate"' \
    "frobnicate=1"
cli_agree "bad argument value" alice "$good" 2 \
    'config error: argument: bad value for "timeout": not a whole number in range' "timeout=99"
cli_file "$CW/users_open" 664 "$A alice\n"
cli_agree "user map writable by group" alice "$good" 2 \
    "file refused: $CW/users_open: writable by group or others (mode 0664)" "user_map=$CW/users_open"
cli_agree "jwt_key too short" alice "$good" 2 \
    "file refused: jwt_key $K/hs_short.key: HMAC secret of 20 bytes, at least 32 needed" \
    "jwt_key=$K/hs_short.key"
cli_agree "jwt_key does not fit jwt_alg" alice "$good" 2 \
    "file refused: jwt_key $K/ec256.pub.pem: RS256 needs an RSA key" "jwt_key=$K/ec256.pub.pem jwt_alg=RS256"
cli_saved=$CLI_CONF
CLI_CONF="$CW/absent.conf"
cli_agree "config file missing" alice "$good" 2 "config error: $CW/absent.conf: does not exist"
ln -sf "$cli_saved" "$CW/link.conf"
CLI_CONF="$CW/link.conf"
cli_agree "config file a symlink" alice "$good" 2 \
    "config error: $CW/link.conf: is a symbolic link (not followed)"
CLI_CONF=$cli_saved

# --- Kakao access tokens against the mock Kakao API (timeout = 30: it answers
# at once, and a TLS handshake slowed by ASan or a loaded machine must not run
# out the timeout; the hanging case sets its own)
cli_file "$CLI_CONF" 644 "user_map = $CW/users\nkakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:$MOCK_PORT\nca_file = $CLI_CA\ntimeout = 30\n"
cli_agree "kakao accepted" alice mockValidAliceToken_0001 0 "accepted kakao kakao_id=$A user=alice"
cli_agree "kakao of another account" alice mockValidBobToken_000002 1 \
    "rejected kakao for user=alice: kakao_id not mapped to this user (kakao_id=1122334455)"
cli_agree "kakao other app" alice mockOtherAppToken_00003 1 \
    "rejected kakao for user=alice: token issued to another app (app_id=7654321 expected=1234567)"
cli_agree "kakao expired" alice mockExpiredToken_000004 1 \
    'rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 msg="this access token is already expired")'
cli_agree "kakao unknown" alice mockUnknownToken_000005 1 "rejected kakao for user=alice: invalid or expired token*"
cli_agree "kakao quota" alice mockFault429_000000023 2 \
    "kakao api unavailable for user=alice: HTTP 429 code=-10 (quota exceeded)*"
cli_agree "kakao 500" alice mockFault500_000000022 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao not JSON" alice mockFaultNotJson_000024 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao maintenance" alice mockFaultMaint9798_28 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao redirect not followed" alice mockFaultRedirect_0026 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao id 0" alice mockZeroId_00000000009 1 "rejected kakao for user=alice: *"
cli_agree "kakao id a string" alice mockStringId_000000011 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao no app_id" alice mockMissingAppId_00012 2 "kakao api unavailable for user=alice: *"
cli_agree "kakao hangs: timeout=1 argument" alice mockFaultHang_00000020 2 \
    "kakao api unavailable for user=alice: timeout after 1 s" "timeout=1"
cli_agree "require_email=verified, unverified" alice mockUnverifiedEmail_0007 1 \
    "rejected kakao for user=alice: email not valid and verified*" "require_email=verified"
cli_agree "require_email=yes, no email" alice mockNoEmailToken_000006 1 \
    "rejected kakao for user=alice: account has no email*" "require_email=yes"
cli_agree "untrusted server certificate" alice mockValidAliceToken_0001 2 \
    "kakao api unavailable for user=alice: *" "kakao_api_url=https://127.0.0.1:$MOCK_ROGUE_PORT"
cli_agree "connection refused" alice mockValidAliceToken_0001 2 \
    "kakao api unavailable for user=alice: *" "kakao_api_url=https://127.0.0.1:$MOCK_CLOSED_PORT"
cli_agree "jwt while only kakao is configured" alice "$good" 1 \
    "rejected jwt for user=alice: token kind not accepted*"

echo "== kakao-pam verify: input and usage"
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_expect "verify token as an argument" 0 "accepted jwt kakao_id=$A user=alice" "" \
    "$KP" verify --config "$CLI_CONF" --user alice "$good"
printf '%s\n' "$good" >"$CW/tok"
CLI_STDIN="$CW/tok"
cli_expect "verify reads stdin without a token" 0 "accepted jwt kakao_id=$A user=alice" "" \
    "$KP" verify --config "$CLI_CONF" --user alice
unset CLI_STDIN
cli_expect "verify -- -TOKEN" 1 "rejected kakao for user=alice: token kind not accepted*" "" \
    "$KP" verify --config "$CLI_CONF" --user alice -- -bcdefghijklmnopqrstuvwxyz
head -c 20000 /dev/zero | tr '\0' a >"$CW/huge"
CLI_STDIN="$CW/huge"
cli_expect "verify: stdin over 16 KiB" 1 "rejected token for user=alice: token too long (over 8192 bytes)" \
    "kakao-pam verify: input longer than 16384 bytes; judging the first 16384" \
    "$KP" verify --config "$CLI_CONF" --user alice -
printf 'abc\000defghijklmnopqrstuvwxyz\n' >"$CW/nul"
CLI_STDIN="$CW/nul"
cli_expect "verify: NUL byte" 1 "" "kakao-pam verify: the token contains a NUL byte" \
    "$KP" verify --config "$CLI_CONF" --user alice -
unset CLI_STDIN
cli_expect "verify: hint for a cut token" 1 "*1023 bytes: probably cut off by the OpenSSH client*" \
    "kakao-pam verify: hint: The token is 1023 bytes: the OpenSSH client probably cut it off." \
    "$KP" verify --config "$CLI_CONF" --user alice "$(printf '%01023d' 0)"
cli_expect "verify without --user" 2 "" "kakao-pam verify: --user USER is required*usage: kakao-pam verify *" \
    "$KP" verify --config "$CLI_CONF" "$good"
cli_expect "verify with two tokens" 2 "" "kakao-pam verify: more than one token given" \
    "$KP" verify --config "$CLI_CONF" --user alice "$good" "$good"
cli_file "$CW/users_bad" 644 "$A alice\nnot a line\n"
cli_expect "verify: malformed map lines on stderr" 0 "accepted jwt kakao_id=$A user=alice" \
    "kakao-pam verify: warning: $CW/users_bad:2: malformed line ignored: more than two fields" \
    "$KP" verify --config "$CLI_CONF" "user_map=$CW/users_bad" --user alice "$good"

# With relay accepted a 6-digit answer is a relay code, as in the module; a
# code means something only within the login that showed it.
cli_expect "verify: a relay code is not for verify" 2 "" \
    "kakao-pam verify: a 6-digit relay code is redeemed only within the login that showed it; verify takes a token" \
    "$KP" verify --config "$CLI_CONF" "relay_url=https://relay.example" \
    "relay_key=$K/ec256.pub.pem" --user alice "481 205"
cli_expect "verify: a token still goes to its kind with relay accepted" 0 \
    "accepted jwt kakao_id=$A user=alice" "" \
    "$KP" verify --config "$CLI_CONF" "relay_url=https://relay.example" \
    "relay_key=$K/ec256.pub.pem" --user alice "$good"
