# kakao-pam check: every problem with its place, trust rules, key fit; exit
# 0 only when clean, 1 with problems, 2 when there is nothing to check.
echo "== kakao-pam check"
K=$CLI_KEYS
D="$CW/chk"
mkdir -p "$D"
cli_file "$D/users" 644 "3095134389 alice\n1122334455 bob\n# a comment\n\n3095134389 deploy # ok\n"
cli_file "$D/clean.conf" 644 "user_map = $D/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_expect "check: clean" 0 "ok config $D/clean.conf
ok accept jwt
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
no problems found" "" "$KP" check --config "$D/clean.conf"
# A config with problems still leads to the files it names (no "ok config").
cli_expect "check: KEY=VALUE arguments checked too" 1 "argument: bad value for \"leeway\": not a whole number in range
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
1 problem found" "" "$KP" check --config "$D/clean.conf" leeway=601
cli_expect "check: a key given twice as argument" 1 "argument: key \"leeway\" given twice
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
1 problem found" "" "$KP" check --config "$D/clean.conf" leeway=1 leeway=2
cli_file "$D/many.conf" 644 "# comment\nuser_map = $D/users\nfrob = 1\ntimeout = 99\nleeway\njwt_key = $K/hs256.key\njwt_alg = HS256\njwt_alg = RS256\nprompt = \"a\"b\"\n"
cli_expect "check: every config problem with PATH:LINE" 1 "argument: unknown key \"x\"
$D/many.conf:3: unknown key \"frob\"
$D/many.conf:4: bad value for \"timeout\": not a whole number in range
$D/many.conf:5: expected key = value
$D/many.conf:8: key \"jwt_alg\" given twice
$D/many.conf:9: bad value for \"prompt\": stray double quote
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
6 problems found" "" "$KP" check --config "$D/many.conf" x=1
cli_file "$D/cross.conf" 644 "user_map = $D/users\njwt_key = $K/hs256.key\naccept = kakao\n"
cli_expect "check: cross-key problems" 1 "config: jwt_key and jwt_alg must be given together
config: accept names kakao, which needs kakao_app_id
ok user_map $D/users (3 entries)
2 problems found" "" "$KP" check --config "$D/cross.conf"

# the user map: every malformed line, beyond the module's 10 logged lines
cli_file "$D/badmap" 644 "3095134389 alice\n"
cli_want=""
for cli_i in 2 3 4 5 6 7 8 9 10 11 12 13; do
    printf '0123 user%s\n' "$cli_i" >>"$D/badmap"
    cli_want="$cli_want$D/badmap:$cli_i: malformed line ignored: bad kakao_id
"
done
printf '1122334455 bob extra\n3095134389 b@d\n3095134389\n' >>"$D/badmap"
cli_want="$cli_want$D/badmap:14: malformed line ignored: more than two fields
$D/badmap:15: malformed line ignored: bad local user name
$D/badmap:16: malformed line ignored: missing local user"
cli_expect "check: all 15 malformed user-map lines" 1 "ok config $D/clean.conf
ok accept jwt
$cli_want
ok jwt_key $K/hs256.key (HS256)
15 problems found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/badmap"
cli_file "$D/emptymap" 644 "# nobody yet\n"
cli_expect "check: user map without entries" 1 "*
$D/emptymap: no valid entries: nobody can log in
*1 problem found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/emptymap"
cli_file "$D/openmap" 666 "3095134389 alice\n"
cli_expect "check: user map writable by others" 1 "*
$D/openmap: writable by group or others (mode 0666)
*1 problem found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/openmap"
cli_expect "check: user map missing" 1 "*
$D/nomap: does not exist
*1 problem found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/nomap"

# keys
cli_expect "check: HMAC key too short" 1 "*
$K/hs_short.key: HMAC secret of 20 bytes, at least 32 needed
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/hs_short.key"
cli_expect "check: key does not fit the alg" 1 "*
$K/ec256.pub.pem: RS256 needs an RSA key
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/ec256.pub.pem" jwt_alg=RS256
cli_expect "check: EC key on the wrong curve" 1 "*
$K/ec384.pub.pem: ES256 needs an EC key on curve prime256v1
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/ec384.pub.pem" jwt_alg=ES256
cli_expect "check: RSA key too small" 1 "*
$K/rsa1024.pub.pem: RSA key of 1024 bits, at least 2048 needed
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/rsa1024.pub.pem" jwt_alg=RS256
cli_expect "check: PEM key as HMAC secret" 1 "*
$K/rsa.pub.pem: a PEM key cannot be an HS256 secret
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/rsa.pub.pem"
cp "$K/hs256.key" "$D/open.key"
chmod 644 "$D/open.key"
cli_expect "check: key readable by others" 1 "*
$D/open.key: key file readable by others (mode 0644)
1 problem found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$D/open.key"
cli_expect "check: RS256 public key" 0 "*
ok jwt_key $K/rsa.pub.pem (RS256)
no problems found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$K/rsa.pub.pem" jwt_alg=RS256

# Kakao: app id and the CA bundle
cli_file "$D/kakao.conf" 644 "user_map = $D/users\nkakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:$MOCK_PORT\nca_file = $CLI_CA\n"
cli_expect "check: kakao with the test CA" 0 "ok config $D/kakao.conf
ok accept kakao (kakao_app_id=1234567, https://127.0.0.1:$MOCK_PORT)
ok user_map $D/users (3 entries)
ok ca_file $CLI_CA (1 certificate)
no problems found" "" "$KP" check --config "$D/kakao.conf"
# Every accepted kind in the table's order; the CA bundle before the keys.
cli_expect "check: kakao and jwt together" 0 "ok config $D/kakao.conf
ok accept kakao,jwt (kakao_app_id=1234567, https://127.0.0.1:$MOCK_PORT)
ok user_map $D/users (3 entries)
ok ca_file $CLI_CA (1 certificate)
ok jwt_key $K/hs256.key (HS256)
no problems found" "" "$KP" check --config "$D/kakao.conf" "jwt_key=$K/hs256.key" jwt_alg=HS256
cli_file "$D/ca_open.pem" 646 "$(cat "$CLI_CA")\n"
cli_expect "check: ca_file writable by others" 1 "*
$D/ca_open.pem: writable by group or others (mode 0646)
1 problem found" "" "$KP" check --config "$D/kakao.conf" "ca_file=$D/ca_open.pem"
cli_file "$D/ca_empty.pem" 644 "not a certificate\n"
cli_expect "check: ca_file without certificates" 1 "*
$D/ca_empty.pem: no PEM certificate in the CA bundle
1 problem found" "" "$KP" check --config "$D/kakao.conf" "ca_file=$D/ca_empty.pem"

# JWKS file, read by the module's JWKS parser
cli_file "$D/jwks.json" 644 '{"keys": []}\n'
cli_expect "check: jwks_file without keys" 1 "*
$D/jwks.json: no usable key (RSA, at least 2048 bits)
1 problem found" "" "$KP" check --config "$D/kakao.conf" "jwks_file=$D/jwks.json"
cli_file "$D/jwks.json" 644 '{"keys": [1, 2'
cli_expect "check: jwks_file not JSON" 1 "*
$D/jwks.json: not valid JSON
1 problem found" "" "$KP" check --config "$D/kakao.conf" "jwks_file=$D/jwks.json"

# the config file itself
cli_file "$D/open.conf" 666 "user_map = $D/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_expect "check: config writable by others" 1 "$D/open.conf: writable by group or others (mode 0666)
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
1 problem found" "" "$KP" check --config "$D/open.conf"
cli_expect "check: config missing" 2 "" "kakao-pam check: $D/absent.conf: does not exist" \
    "$KP" check --config "$D/absent.conf"
cli_expect "check: config=PATH argument" 0 "ok config $D/clean.conf*no problems found" "" \
    "$KP" check "config=$D/clean.conf"
cli_expect "check: a word that is not KEY=VALUE" 2 "" \
    'kakao-pam check: "frob" is not KEY=VALUE*usage: kakao-pam check *' "$KP" check frob

# check grants nothing: a file that breaks a trust rule is still read for
# syntax, and a config with problems still leads to the files it names, so
# one run shows every problem.
echo "== kakao-pam check: every problem in one run"
cli_file "$D/open_bad.conf" 666 "user_map = $D/users\njwt_key = $K/hs256.key\njwt_alg = HS256\ntimeout = 99\n"
cli_expect "check: config writable by others, with a syntax error" 1 "$D/open_bad.conf: writable by group or others (mode 0666)
$D/open_bad.conf:4: bad value for \"timeout\": not a whole number in range
ok user_map $D/users (3 entries)
ok jwt_key $K/hs256.key (HS256)
2 problems found" "" "$KP" check --config "$D/open_bad.conf"
cli_file "$D/gwmap" 664 "3095134389 alice\n0123 bob\n"
cli_expect "check: user map writable by group, with a malformed line" 1 "ok config $D/clean.conf
ok accept jwt
$D/gwmap: writable by group or others (mode 0664)
$D/gwmap:2: malformed line ignored: bad kakao_id
ok jwt_key $K/hs256.key (HS256)
2 problems found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/gwmap"
cli_file "$D/brokenmap" 644 "3095134389 alice\n3095134389 b@d\n"
cli_file "$D/cfgmap.conf" 644 "user_map = $D/brokenmap\njwt_key = $K/hs256.key\njwt_alg = HS256\nfrob = 1\n"
cli_expect "check: a config error and a broken user map" 1 "$D/cfgmap.conf:4: unknown key \"frob\"
$D/brokenmap:2: malformed line ignored: bad local user name
ok jwt_key $K/hs256.key (HS256)
2 problems found" "" "$KP" check --config "$D/cfgmap.conf"
ln -sf "$D/brokenmap" "$D/linkmap"
cli_expect "check: user map through a symbolic link, with a malformed line" 1 "ok config $D/clean.conf
ok accept jwt
$D/linkmap: is a symbolic link (not followed)
$D/linkmap:2: malformed line ignored: bad local user name
ok jwt_key $K/hs256.key (HS256)
2 problems found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/linkmap"
cli_file "$D/open_short.key" 644 "$(cat "$K/hs_short.key")"
cli_expect "check: key readable by others and too short" 1 "*
$D/open_short.key: key file readable by others (mode 0644)
$D/open_short.key: HMAC secret of 20 bytes, at least 32 needed
2 problems found" "" "$KP" check --config "$D/clean.conf" "jwt_key=$D/open_short.key"
cli_file "$D/noalg.conf" 644 "user_map = $D/users\njwt_key = $D/open_short.key\n"
cli_expect "check: key without jwt_alg still judged as a file" 1 "config: jwt_key and jwt_alg must be given together
ok user_map $D/users (3 entries)
$D/open_short.key: key file readable by others (mode 0644)
2 problems found" "" "$KP" check --config "$D/noalg.conf"
cli_file "$D/ca_open_empty.pem" 646 "not a certificate\n"
cli_expect "check: ca_file writable by others and without certificates" 1 "*
$D/ca_open_empty.pem: writable by group or others (mode 0646)
$D/ca_open_empty.pem: no PEM certificate in the CA bundle
2 problems found" "" "$KP" check --config "$D/kakao.conf" "ca_file=$D/ca_open_empty.pem"
cli_file "$D/jwks_open.json" 666 '{"keys": [1, 2'
cli_expect "check: jwks_file writable by others and not JSON" 1 "*
$D/jwks_open.json: writable by group or others (mode 0666)
$D/jwks_open.json: not valid JSON
2 problems found" "" "$KP" check --config "$D/kakao.conf" "jwks_file=$D/jwks_open.json"
if [ "$(id -u)" = 0 ]; then
    cli_file "$D/nobodymap" 666 "0 alice\n"
    chown 65534 "$D/nobodymap"
    cli_expect "check: every trust rule a user map breaks, and its syntax" 1 "*
$D/nobodymap: owned by uid 65534, not root or uid 0; writable by group or others (mode 0666)
$D/nobodymap:1: malformed line ignored: bad kakao_id
$D/nobodymap: no valid entries: nobody can log in
*3 problems found" "" "$KP" check --config "$D/clean.conf" "user_map=$D/nobodymap"
fi
# A file whose path key has a bad value is unknown: check does not fall back
# to the default file instead.
cli_file "$D/relmap.conf" 644 "user_map = users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_expect "check: a bad user_map value is not replaced by the default" 1 "$D/relmap.conf:1: bad value for \"user_map\": must be an absolute path
ok jwt_key $K/hs256.key (HS256)
1 problem found" "" "$KP" check --config "$D/relmap.conf"
# The module itself stays strict about the same files.
cli_file "$CLI_CONF" 644 "user_map = $D/gwmap\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_pam_line "" alice "$("$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389)"
check "cli check: the module still refuses the group-writable user map ($cli_pam)" \
    test "$cli_pam" = "file refused: $D/gwmap: writable by group or others (mode 0664)" -a "$cli_pam_rc" -ne 0
cli_file "$CLI_CONF" 666 "user_map = $D/users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_pam_line "" alice "$("$KP" mint --key "$K/hs256.key" --alg HS256 --kakao-id 3095134389)"
check "cli check: the module still refuses a config writable by others ($cli_pam)" \
    test "$cli_pam" = "config error: $CLI_CONF: writable by group or others (mode 0666)" -a "$cli_pam_rc" -ne 0
chmod 644 "$CLI_CONF"

# the relay kind: relay_key is an EC P-256 public key under the config-file
# trust rules (world-readable is fine; writable by others is not)
cli_file "$D/relay.conf" 644 "user_map = $D/users\nrelay_url = https://relay.example\nrelay_key = $K/ec256.pub.pem\n"
cli_expect "check: relay kind, clean" 0 "ok config $D/relay.conf
ok accept relay (https://relay.example)
ok user_map $D/users (3 entries)
ok relay_key $K/ec256.pub.pem (EC P-256)
no problems found" "" "$KP" check --config "$D/relay.conf"
cli_expect "check: relay_key that is not EC P-256" 1 "*relay_key $K/ec384.pub.pem is not an EC P-256 public key
*1 problem found" "" "$KP" check --config "$D/relay.conf" "relay_key=$K/ec384.pub.pem"
cli_expect "check: relay_url with a trailing slash" 1 "argument: bad value for \"relay_url\": must be an https:// URL without a trailing slash
config: relay_url and relay_key must be given together
*2 problems found" "" "$KP" check --config "$D/relay.conf" "relay_url=https://relay.example/"
