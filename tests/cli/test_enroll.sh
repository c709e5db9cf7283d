# kakao-pam enroll: a token of an accepted kind, validated by the module's own
# code without the user map, becomes the user map line; the line it prints is
# one the module then accepts.
echo "== kakao-pam enroll"
K=$CLI_KEYS
A=3095134389
cli_mint() { "$KP" mint --key "$K/hs256.key" --alg HS256 "$@" 2>/dev/null; }
# The comment line carries the time: any UTC time stamp of that form.
STAMP='20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'
cli_enrolled() { printf '# kakao-pam enroll: %s token checked %s\n%s' "$1" "$STAMP" "$2"; }

# No user map at all: enroll never reads it.
cli_file "$CLI_CONF" 644 "user_map = $CW/no-such-users\njwt_key = $K/hs256.key\njwt_alg = HS256\n"
cli_mint --kakao-id $A >"$CW/enroll.tok"
CLI_STDIN="$CW/enroll.tok"
cli_expect "enroll jwt from stdin (-), --user" 0 "$(cli_enrolled jwt "$A alice")" '' \
    "$KP" enroll --config "$CLI_CONF" --user alice -
cli_expect "enroll jwt, stdin not a terminal, NAME = login name" 0 \
    "$(cli_enrolled jwt "$A $(id -un)")" '' "$KP" enroll --config "$CLI_CONF"
CLI_STDIN=""
cli_expect "enroll jwt, --token-file, a user with no map line" 0 \
    "$(cli_enrolled jwt "$A carol")" '' \
    "$KP" enroll --config "$CLI_CONF" --user carol --token-file "$CW/enroll.tok"
cli_expect "enroll jwt, --token-file through a pipe" 0 "$(cli_enrolled jwt "$A alice")" '' \
    sh -c '"$1" enroll --config "$2" --user alice --token-file /dev/stdin <"$3"' sh "$KP" \
    "$CLI_CONF" "$CW/enroll.tok"

# The line printed is the line the module reads: verify accepts with it.
"$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.tok" >"$CW/enroll.users" 2>/dev/null
chmod 644 "$CW/enroll.users"
CLI_STDIN="$CW/enroll.tok"
cli_expect "enroll's line opens the account (verify with it as the user map)" 0 \
    "accepted jwt kakao_id=$A user=alice" '' \
    "$KP" verify --config "$CLI_CONF" "user_map=$CW/enroll.users" --user alice -

# Refusals: the module's wording, on stderr; nothing on stdout.
cli_mint --kakao-id $A --ttl -3600 >"$CW/enroll.tok"
cli_expect "enroll expired jwt" 1 '' \
    'kakao-pam enroll: rejected jwt for user=alice: expired (exp=* now=*)' \
    "$KP" enroll --config "$CLI_CONF" --user alice
now=$(date +%s)
cli_forge '{"alg":"HS256","typ":"JWT"}' "{\"kakao_id\":$A,\"exp\":$((now - 30))}" >"$CW/enroll.tok"
cli_expect "enroll jwt expired within leeway" 0 "$(cli_enrolled jwt "$A alice")" '' \
    "$KP" enroll --config "$CLI_CONF" --user alice
cli_expect "enroll leeway=0 argument" 1 '' \
    'kakao-pam enroll: rejected jwt for user=alice: expired (exp=* now=*)' \
    "$KP" enroll --config "$CLI_CONF" leeway=0 --user alice
cli_forge '{"alg":"HS256","typ":"JWT"}' "{\"kakao_id\":$A,\"exp\":$((now + 300))}" \
    "$K/hs_short.key" >"$CW/enroll.tok"
cli_expect "enroll jwt of another key" 1 '' \
    'kakao-pam enroll: rejected jwt for user=alice: bad signature' \
    "$KP" enroll --config "$CLI_CONF" --user alice
printf 'abc\n' >"$CW/enroll.tok"
cli_expect "enroll malformed token" 1 '' \
    'kakao-pam enroll: rejected token for user=alice: malformed token (3 bytes, neither a JWT nor a Kakao access token)' \
    "$KP" enroll --config "$CLI_CONF" --user alice
CLI_STDIN=/dev/null
cli_expect "enroll empty stdin" 1 '' 'kakao-pam enroll: rejected token for user=alice: empty token' \
    "$KP" enroll --config "$CLI_CONF" --user alice
cli_expect "enroll kind not accepted" 1 '' \
    'kakao-pam enroll: rejected kakao for user=alice: token kind not accepted*' \
    sh -c 'printf "mockValidAliceToken_0001\n" | "$1" enroll --config "$2" --user alice' sh \
    "$KP" "$CLI_CONF"

# Usage: a token never from argv; the relay only where it is accepted (the
# relay itself: tests/cli/test_enroll_relay.py).
tok=$(cli_mint --kakao-id $A)
cli_expect "enroll token on the command line refused" 2 '' \
    'kakao-pam enroll: a token is not taken from the command line (other users can read it there); use --token-file FILE or stdin' \
    "$KP" enroll --config "$CLI_CONF" --user alice "$tok"
cli_expect "enroll --relay, relay not accepted" 2 '' \
    'kakao-pam enroll: --relay: the config does not accept relay (accept, relay_url, relay_key)' \
    "$KP" enroll --config "$CLI_CONF" --relay --qr
cli_expect "enroll --qr with a token file" 2 '' 'kakao-pam enroll: --qr goes with --relay' \
    "$KP" enroll --config "$CLI_CONF" --qr --token-file "$CW/enroll.tok"
cli_expect "enroll --qr without --relay" 2 '' 'kakao-pam enroll: --qr goes with --relay' \
    "$KP" enroll --config "$CLI_CONF" --qr
cli_expect "enroll --relay with a token" 2 '' 'kakao-pam enroll: --relay takes no token' \
    "$KP" enroll --config "$CLI_CONF" --relay -
cli_expect "enroll name with a comment sign" 2 '' \
    'kakao-pam enroll: cannot make a user map line for "a#b": bad local user name' \
    "$KP" enroll --config "$CLI_CONF" --user 'a#b'
cli_expect "enroll name with a space and an escape" 2 '' \
    'kakao-pam enroll: cannot make a user map line for "a\\x1b[2Jb c": more than two fields' \
    "$KP" enroll --config "$CLI_CONF" --user "$(printf 'a\033[2Jb c')"
cli_long=abcdefghijklmnopqrstuvwxyz0123456
cli_expect "enroll name of 33 bytes" 2 '' \
    "kakao-pam enroll: cannot make a user map line for \"$cli_long\": bad local user name" \
    "$KP" enroll --config "$CLI_CONF" --user "$cli_long"
cli_expect "enroll missing token file" 2 '' \
    "kakao-pam enroll: cannot open $CW/no-such.tok: No such file or directory" \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/no-such.tok"
# The token readers verify shares (pk_cli_read_token): a read error, a NUL
# byte, more than 16 KiB (refused here, not judged in part as verify does).
cli_expect "enroll token file that cannot be read" 2 '' \
    "kakao-pam enroll: cannot read the token: Is a directory" \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW"
printf 'abc\000defghijklmnopqrstuvwxyz\n' >"$CW/enroll.nul"
cli_expect "enroll token with a NUL byte" 1 '' \
    "kakao-pam enroll: the token contains a NUL byte" \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.nul"
head -c 16385 /dev/zero | tr '\0' a >"$CW/enroll.huge"
cli_expect "enroll token over 16 KiB" 1 '' \
    "kakao-pam enroll: token longer than 16384 bytes" \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.huge"
cli_expect "enroll missing config" 2 '' \
    "kakao-pam enroll: config error: $CW/no-such.conf: does not exist" \
    "$KP" enroll --config "$CW/no-such.conf" --user alice
cli_expect "enroll config key twice" 2 '' \
    'kakao-pam enroll: config error: argument: key "leeway" given twice' \
    "$KP" enroll --config "$CLI_CONF" leeway=0 leeway=1 --user alice
cli_expect "enroll unknown option" 2 '' '*unrecognized option*usage: kakao-pam enroll*' \
    "$KP" enroll --frobnicate
cli_expect "enroll --help" 0 'usage: kakao-pam enroll*' '' "$KP" enroll --help
cli_expect "kakao-pam --help lists enroll" 0 '*  enroll   check your token and print your line for the user map*' \
    '' "$KP" --help

# Kakao access tokens, checked online against the mock as the module does
# (timeout = 30: the mock answers at once; a slow handshake is no failure).
cli_file "$CLI_CONF" 644 "user_map = $CW/no-such-users\nkakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:$MOCK_PORT\nca_file = $CLI_CA\ntimeout = 30\n"
for cli_case in "mockValidAliceToken_0001 $A" "mockValidBobToken_000002 1122334455"; do
    printf '%s\n' "${cli_case% *}" >"$CW/enroll.tok"
    cli_expect "enroll kakao ${cli_case% *}" 0 "$(cli_enrolled kakao "${cli_case#* } alice")" '' \
        "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.tok"
done
printf 'mockOtherAppToken_00003\n' >"$CW/enroll.tok"
cli_expect "enroll kakao token of another app" 1 '' \
    'kakao-pam enroll: rejected kakao for user=alice: token issued to another app (app_id=7654321 expected=1234567)' \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.tok"
printf 'mockFault500_000000022\n' >"$CW/enroll.tok"
cli_expect "enroll kakao API down" 2 '' 'kakao-pam enroll: kakao api unavailable for user=alice: *' \
    "$KP" enroll --config "$CLI_CONF" --user alice --token-file "$CW/enroll.tok"
CLI_STDIN=""
