# Relative paths on kakao-pam's command line are taken from the working
# directory (--config, --key, --client-secret-file, --ca-file, config= and
# the path keys); paths inside a config file, and everything the module
# reads, must stay absolute.
echo "== kakao-pam: relative paths from the working directory"
R="$CW/rel"
mkdir -p "$R/sub"
cp "$CLI_KEYS/hs256.key" "$R/k"
chmod 600 "$R/k"
cli_file "$R/users" 644 "3095134389 alice\n"
cli_file "$R/x.conf" 644 "user_map = $R/users\njwt_key = $R/k\njwt_alg = HS256\n"
cli_file "$R/args.conf" 644 "jwt_alg = HS256\n"
cli_file "$R/rel.conf" 644 "user_map = ./users\njwt_key = $R/k\njwt_alg = HS256\n"
cli_cwd=$(pwd)
cd "$R" || exit 1

cli_expect "relative: mint --key ./k" 0 "*.*.*" "" "$KP" mint --key ./k --alg HS256 --kakao-id 3095134389
cli_tok=$cli_out
cli_expect "relative: verify --config ./x.conf" 0 "accepted jwt kakao_id=3095134389 user=alice" "" \
    "$KP" verify --config ./x.conf --user alice "$cli_tok"
cli_expect "relative: verify with config=, user_map=, jwt_key= relative" 0 \
    "accepted jwt kakao_id=3095134389 user=alice" "" \
    "$KP" verify config=args.conf user_map=./users jwt_key=k --user alice "$cli_tok"
cli_expect "relative: check --config ./x.conf" 0 "ok config $R/x.conf
ok accept jwt
ok user_map $R/users (1 entry)
ok jwt_key $R/k (HS256)
no problems found" "" "$KP" check --config ./x.conf
cli_expect "relative: check with relative path keys" 0 "ok config $R/args.conf
ok accept jwt
ok user_map $R/users (1 entry)
ok jwt_key $R/k (HS256)
no problems found" "" "$KP" check --config args.conf user_map=./users jwt_key=././k
cd "$R/sub" || exit 1
cli_expect "relative: check from a subdirectory with ../" 0 "ok config $R/sub/../x.conf
ok accept jwt
ok user_map $R/users (1 entry)
ok jwt_key $R/k (HS256)
no problems found" "" "$KP" check --config ../x.conf
cd "$R" || exit 1
cli_expect "relative: a missing relative file is named by its absolute path" 2 "" \
    "kakao-pam mint: key refused: $R/nokey: does not exist" \
    "$KP" mint --key nokey --alg HS256 --kakao-id 1
# Inside a config file a path stays as the module reads it: absolute only.
cli_expect "relative: a relative path inside the config file is still refused" 1 \
    "$R/rel.conf:1: bad value for \"user_map\": must be an absolute path
ok jwt_key $R/k (HS256)
1 problem found" "" "$KP" check --config ./rel.conf
cli_expect "relative: verify refuses it as the module does" 2 \
    "config error: $R/rel.conf:1: bad value for \"user_map\": must be an absolute path" "*" \
    "$KP" verify --config ./rel.conf --user alice "$cli_tok"
# The module keeps requiring absolute paths in its arguments.
cli_pam_line "user_map=./users" alice "$cli_tok"
check "cli relative: the module still refuses a relative user_map argument ($cli_pam)" \
    test "$cli_pam" = "config error: argument: bad value for \"user_map\": must be an absolute path" \
    -a "$cli_pam_rc" -ne 0

# The README's example, as written: the key made with its command, then mint.
cli_file "$R/kakao_id_users" 644 "3095134389 alice\n"
rm -f jwt.key
(umask 077; openssl rand -base64 48 > jwt.key)
cli_expect "relative: the README's mint example" 0 "*.*.*" "" \
    "$KP" mint --key jwt.key --alg HS256 --kakao-id 3095134389
cli_expect "relative: the README's token is accepted" 0 "accepted jwt kakao_id=3095134389 user=alice" "" \
    "$KP" verify config=args.conf user_map=kakao_id_users jwt_key=jwt.key --user alice "$cli_out"

# login: --client-secret-file and --ca-file relative to where it runs.
cp "$CLI_CA" "$R/ca.pem"
chmod 644 "$R/ca.pem"
cli_file "$R/secret" 600 "mockClientSecret_0002\n"
cli_login_start --client-id mockRestApiKey_secret_02 --client-secret-file ./secret --ca-file ca.pem \
    --timeout 30
cli_browse "$cli_url" >/dev/null
cli_login_end
cli_judge "relative: login with ./secret and ca.pem" 0 "mockValidAliceToken_0001" "*logged in*"
cli_file "$R/secret_open" 644 "mockClientSecret_0002\n"
cli_expect "relative: login names a refused relative secret file by its absolute path" 2 "" \
    "kakao-pam login: client secret file refused: $R/secret_open: key file readable by others (mode 0644)" \
    "$KP" login --client-id mockRestApiKey_secret_02 --client-secret-file secret_open \
    --redirect-uri http://localhost:1/callback
cd "$cli_cwd" || exit 1
