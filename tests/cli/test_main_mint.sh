# kakao-pam itself, and mint: exit codes, messages, tokens the module takes.
echo "== kakao-pam: commands, help, mint"
cli_expect "no command" 2 "" "usage: kakao-pam COMMAND*" "$KP"
cli_expect "--help" 0 "usage: kakao-pam COMMAND*login*verify*check*mint*" "" "$KP" --help
cli_expect "unknown command" 2 "" 'kakao-pam: unknown command "frob"*usage: kakao-pam COMMAND*' \
    "$KP" frob
for cli_c in login verify check mint; do
    cli_expect "$cli_c --help" 0 "usage: kakao-pam $cli_c *" "" "$KP" "$cli_c" --help
    cli_expect "$cli_c bad option" 2 "" "*unrecognized option*usage: kakao-pam $cli_c *" \
        "$KP" "$cli_c" --frobnicate
done

K=$CLI_KEYS
cli_expect "mint HS256" 0 "*.*.*" "" "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389
cli_tok=$cli_out
cli_file "$CLI_CONF" 644 "user_map = $CW/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_expect "mint HS256: verify accepts" 0 "accepted jwt kakao_id=3095134389 user=alice" "" \
    "$KP" verify --config "$CLI_CONF" --user alice "$cli_tok"
cli_pam_line "" alice "$cli_tok"
check "cli mint HS256: the module accepts (pamtester)" \
    test "$cli_pam" = "accepted jwt kakao_id=3095134389 user=alice" -a "$cli_pam_rc" -eq 0
cli_expect "mint with --iss, --aud, --ttl" 0 "*.*.*" "" "$KP" mint --key "$K/hs256.key" --alg HS256 \
    --kakao-id 3095134389 --iss https://example.com --aud pam --ttl 120
check "cli mint header" test "$(cli_jwt_part "$cli_out" 0)" = '{"alg":"HS256","typ":"JWT"}'
cli_claims=$(cli_jwt_part "$cli_out" 1)
case $cli_claims in
'{"kakao_id":3095134389,"iat":'*',"exp":'*',"iss":"https://example.com","aud":"pam"}')
    ok "cli mint claims ($cli_claims)" ;;
*) bad "cli mint claims ($cli_claims)" ;;
esac
check "cli mint exp = iat + ttl" test "$(printf '%s' "$cli_claims" |
    python3 -c 'import json, sys; c = json.load(sys.stdin); print(c["exp"] - c["iat"])')" = 120
for cli_a in RS256 ES256 ES384 ES512; do
    case $cli_a in RS*) cli_k=rsa ;; ES256) cli_k=ec256 ;; ES384) cli_k=ec384 ;; *) cli_k=ec521 ;; esac
    cli_expect "mint $cli_a" 0 "*.*.*" "" "$KP" mint --key "$K/$cli_k.pem" --alg "$cli_a" --kakao-id 1122334455
    cli_tok=$cli_out
    cli_file "$CW/mint.conf" 644 "user_map = $CW/users\njwt_key = $K/$cli_k.pub.pem\njwt_alg = $cli_a\n"
    cli_expect "mint $cli_a: verify accepts" 0 "accepted jwt kakao_id=1122334455 user=bob" "" \
        "$KP" verify --config "$CW/mint.conf" --user bob "$cli_tok"
done
cli_expect "mint refuses a weak HMAC key" 2 "" \
    "kakao-pam mint: $K/hs_short.key: HMAC secret of 20 bytes, at least 32 needed" \
    "$KP" mint --key "$K/hs_short.key" --alg HS256 --kakao-id 1
cli_expect "mint refuses RSA 1024" 2 "" "kakao-pam mint: $K/rsa1024.pem: RSA key shorter than 2048 bits" \
    "$KP" mint --key "$K/rsa1024.pem" --alg RS256 --kakao-id 1
cp "$K/hs256.key" "$CW/open.key"
chmod 644 "$CW/open.key"
cli_expect "mint refuses a key readable by others" 2 "" \
    "kakao-pam mint: key refused: $CW/open.key: key file readable by others (mode 0644)" \
    "$KP" mint --key "$CW/open.key" --alg HS256 --kakao-id 1
cli_expect "mint unknown alg" 2 "" "kakao-pam mint: --alg must be one of HS256 *" \
    "$KP" mint --key "$K/hs256.key" --alg none --kakao-id 1
cli_expect "mint bad kakao id" 2 "" "kakao-pam mint: --kakao-id must be 1-19 decimal digits *" \
    "$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 0123
cli_expect "mint missing option" 2 "" "usage: kakao-pam mint *" "$KP" mint --alg HS256 --kakao-id 1
cli_long=$(printf '%0250d' 0 | tr 0 i)
cli_expect "mint warns: too long for sudo" 0 "*.*.*" \
    "kakao-pam mint: warning: token is * bytes: sudo refuses answers of 512 bytes or more" \
    "$KP" mint --key "$K/rsa.pem" --alg RS256 --kakao-id 1 --iss "$cli_long"
cli_expect "mint warns: too long for sudo and OpenSSH" 0 "*.*.*" \
    "kakao-pam mint: warning: token is * bytes: sudo refuses*
kakao-pam mint: warning: token is * bytes: the OpenSSH client cuts answers at 1023 bytes" \
    "$KP" mint --key "$K/rsa.pem" --alg RS256 --kakao-id 1 --iss "$cli_long" --aud "$cli_long"
