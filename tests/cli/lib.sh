# Helpers for the kakao-pam tests; sourced by tests/cli/cli.sh inside
# tests/run.sh (which provides ok/bad/check, $W, $B, $MOD and the mock).
# POSIX sh. Every name here starts with cli_ / CLI_ so nothing of run.sh is
# overwritten.

# cli_run CMD...: runs CMD with stdin from $CLI_STDIN (a file) or /dev/null;
# sets cli_rc, cli_out, cli_err.
cli_run() {
    "$@" <"${CLI_STDIN:-/dev/null}" >"$CW/run.out" 2>"$CW/run.err"
    cli_rc=$?
    cli_out=$(cat "$CW/run.out")
    cli_err=$(cat "$CW/run.err")
}

# cli_judge NAME WANT_RC WANT_OUT WANT_ERR: compares the last cli_run; the
# wants are shell patterns ('*' for anything).
cli_judge() {
    cli_ok=1
    [ "$cli_rc" -eq "$2" ] || cli_ok=0
    # shellcheck disable=SC2254
    case $cli_out in $3) ;; *) cli_ok=0 ;; esac
    # shellcheck disable=SC2254
    case $cli_err in $4) ;; *) cli_ok=0 ;; esac
    if [ "$cli_ok" = 1 ]; then
        ok "cli $1"
    else
        bad "cli $1"
        printf '  rc=%s (want %s)\n  stdout: %s\n  want:   %s\n  stderr: %s\n  want:   %s\n' \
            "$cli_rc" "$2" "$cli_out" "$3" "$cli_err" "$4"
    fi
}

# cli_expect NAME WANT_RC WANT_OUT WANT_ERR CMD...
cli_expect() {
    cli_n=$1 cli_wr=$2 cli_wo=$3 cli_we=$4
    shift 4
    cli_run "$@"
    cli_judge "$cli_n" "$cli_wr" "$cli_wo" "$cli_we"
}

cli_b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# cli_forge HEADER PAYLOAD [KEYFILE]: a JWT with these exact JSON texts,
# HS256-MACed with the key file's text (one trailing newline dropped, as
# the module reads it).
cli_forge() {
    cli_h=$(printf '%s' "$1" | cli_b64url)
    cli_p=$(printf '%s' "$2" | cli_b64url)
    cli_s=$(printf '%s.%s' "$cli_h" "$cli_p" |
        openssl dgst -sha256 -mac HMAC -macopt "key:$(cat "${3:-$CLI_KEYS/hs256.key}")" -binary |
        cli_b64url)
    printf '%s.%s.%s' "$cli_h" "$cli_p" "$cli_s"
}

# cli_jwt_part TOKEN N: segment N (0 header, 1 claims) decoded.
cli_jwt_part() {
    printf '%s' "$1" | python3 -c 'import base64, sys
s = sys.stdin.read().split(".")[int(sys.argv[1])]
print(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())' "$2"
}

# cli_file PATH MODE TEXT: writes TEXT (printf %b) with MODE.
cli_file() {
    rm -f "$1"
    printf '%b' "$3" >"$1"
    chmod "$2" "$1"
}

# cli_pam_line SERVICE_ARGS USER TOKEN: one pamtester run under pam_wrapper
# (config $CLI_CONF); sets cli_pam_rc and cli_pam (the module's decision line).
cli_pam_line() {
    # shellcheck disable=SC2086
    printf 'auth required %s nodelay config=%s %s\n' "$MOD" "$CLI_CONF" "$1" >"$CW/services/clipk"
    printf '%s\n' "$3" | LD_PRELOAD="$CLI_PRELOAD" PAM_WRAPPER=1 \
        PAM_WRAPPER_SERVICE_DIR="$CW/services" PAM_WRAPPER_DEBUGLEVEL=2 \
        ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" \
        pamtester -v clipk "$2" authenticate >"$CW/pam.out" 2>&1
    cli_pam_rc=$?
    cli_pam=$(sed -n 's/.*SYSLOG([0-9]*): //p' "$CW/pam.out" | tail -n 1)
}

# A sanitized module needs the ASan runtime first in an unsanitized pamtester.
CLI_PRELOAD=libpam_wrapper.so
if [ "${SANITIZE:-}" = 1 ]; then
    CLI_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) libpam_wrapper.so"
fi

# cli_free_port: a TCP port on 127.0.0.1 that nobody listens on just now.
cli_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cli_login_start ARGS...: starts `kakao-pam login` in the background against
# the mock (its own port on 127.0.0.1, --no-browser unless CLI_BROWSER=1) and
# waits for the authorize URL; sets cli_lpid, cli_lport, cli_url.
cli_login_start() {
    cli_lport=$(cli_free_port)
    if [ "${CLI_BROWSER:-0}" = 1 ]; then cli_nb=""; else cli_nb="--no-browser"; fi
    # Not the last run's URL: the background job may not have opened it yet.
    rm -f "$CW/login.out" "$CW/login.err"
    # shellcheck disable=SC2086
    "$KP" login $cli_nb --redirect-uri "http://localhost:$cli_lport/callback" \
        --auth-url "https://127.0.0.1:$MOCK_PORT/oauth/authorize" \
        --token-url "https://127.0.0.1:$MOCK_PORT/oauth/token" --ca-file "$CLI_CA" "$@" \
        </dev/null >"$CW/login.out" 2>"$CW/login.err" &
    cli_lpid=$!
    cli_i=0
    # Waits for the URL (up to 30 s: a generous bound, not a timing check).
    while ! grep -q 'authorize?' "$CW/login.err" 2>/dev/null; do
        if ! kill -0 "$cli_lpid" 2>/dev/null || [ "$cli_i" -ge 300 ]; then
            break
        fi
        sleep 0.1
        cli_i=$((cli_i + 1))
    done
    cli_url=$(sed -n 's/^  \(https:.*\)$/\1/p' "$CW/login.err")
    cli_state=$(printf '%s' "$cli_url" | sed -n 's/.*[?&]state=\([^&]*\).*/\1/p')
}

# cli_login_end: waits for the login started last; sets cli_rc/out/err.
cli_login_end() {
    wait "$cli_lpid"
    cli_rc=$?
    cli_out=$(cat "$CW/login.out")
    cli_err=$(cat "$CW/login.err")
}

# cli_browse URL: what a browser does with the authorize URL: follow the
# mock's redirect to the loopback callback. Prints the final page. IPv4
# only: "localhost" might reach some other program listening on ::1. 30 s:
# past the longest login (15 s) that holds the callback until its time ends.
cli_browse() {
    curl -4 -sS --max-time 30 --cacert "$CLI_CA" -L --max-redirs 1 "$1"
}
