# kakao-pam login against the mock Kakao authorization server: curl plays
# the browser (always), then a real headless Chromium (when installed).
echo "== kakao-pam login (curl as the browser)"
PUB=mockRestApiKey_public_01
cli_file "$CW/kakao.conf" 644 "user_map = $CW/users\nkakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:$MOCK_PORT\nca_file = $CLI_CA\n"

# The token that login prints logs in through pamtester.
cli_pam_accepts() {
    cli_saved=$CLI_CONF
    CLI_CONF="$CW/kakao.conf"
    cli_pam_line "" "$1" "$2"
    CLI_CONF=$cli_saved
    check "cli login: the printed token logs in through pamtester ($cli_pam)" \
        test "$cli_pam" = "accepted kakao kakao_id=$3 user=$1" -a "$cli_pam_rc" -eq 0
}

cli_login_start --client-id "$PUB" --timeout 30
cli_page=$(cli_browse "$cli_url")
cli_login_end
cli_judge "login: success" 0 "mockValidAliceToken_0001" "*open this URL in a browser*
kakao-pam login: logged in; the access token expires in 21599 s"
case $cli_page in *"You may close this tab"*) ok "cli login: the browser is told to close the tab" ;;
*) bad "cli login: the browser is told to close the tab ($cli_page)" ;; esac
cli_pam_accepts alice "$cli_out" 3095134389
case $cli_url in
"https://127.0.0.1:$MOCK_PORT/oauth/authorize?response_type=code&client_id=$PUB&redirect_uri=http%3A%2F%2Flocalhost%3A$cli_lport%2Fcallback&state="*"&code_challenge="*"&code_challenge_method=S256")
    ok "cli login: authorize URL" ;;
*) bad "cli login: authorize URL ($cli_url)" ;;
esac
check "cli login: state has 43 base64url characters (256 bits)" \
    sh -c 'printf "%s" "$1" | grep -Eqx "[A-Za-z0-9_-]{43}"' sh "$cli_state"
check "cli login: the token is not on stderr" sh -c '! grep -q mockValid "$1"' sh "$CW/login.err"
# The mock's log: the code went to the token endpoint in a POST body, never a query.
check "cli login: token request is a POST with a form body and no query" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
posts = [r for r in recs if r["path"] == "/oauth/token"]
r = posts[-1]
sys.exit(0 if r["method"] == "POST" and r["query"] == "" and r["body_len"] > 0
         and r["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
         and "Authorization" not in r["headers"] else 1)' "$W/requests.jsonl"

cli_login_start --client-id mockRestApiKey_bob_00003 --id-token --scope account_email --timeout 30
cli_browse "$cli_url" >/dev/null
cli_login_end
cli_judge "login --id-token: access token and ID token" 0 "mockValidBobToken_000002
eyJ*.*.*" "*logged in*"
check "cli login --id-token: scope account_email,openid" \
    sh -c 'case $1 in *"&scope=account_email%2Copenid") exit 0 ;; esac; exit 1' sh "$cli_url"
cli_id_token=$(printf '%s\n' "$cli_out" | sed -n 2p)
case $(cli_jwt_part "$cli_id_token" 1) in
*'"iss": "https://kauth.kakao.com"'*'"sub": "1122334455"'*) ok "cli login --id-token: the ID token's claims" ;;
*) bad "cli login --id-token: the ID token's claims" ;;
esac
cli_pam_accepts bob "$(printf '%s\n' "$cli_out" | sed -n 1p)" 1122334455

# client secret, from a file only
cli_file "$CW/secret" 600 "mockClientSecret_0002\n"
cli_login_start --client-id mockRestApiKey_secret_02 --client-secret-file "$CW/secret" --timeout 30
cli_browse "$cli_url" >/dev/null
cli_login_end
cli_judge "login with --client-secret-file" 0 "mockValidAliceToken_0001" "*logged in*"
cli_login_start --client-id mockRestApiKey_secret_02 --timeout 30
cli_browse "$cli_url" >/dev/null
cli_login_end
cli_judge "login: client secret missing (KOE010)" 1 "" "*
kakao-pam login: token request refused (HTTP 401): invalid_client KOE010: \"Bad client credentials\""
cli_file "$CW/secret_open" 644 "mockClientSecret_0002\n"
cli_expect "login: client secret file readable by others" 2 "" \
    "kakao-pam login: client secret file refused: $CW/secret_open: key file readable by others (mode 0644)" \
    "$KP" login --client-id mockRestApiKey_secret_02 --client-secret-file "$CW/secret_open" \
    --redirect-uri http://localhost:1/callback

# refusals from the browser side
cli_login_start --client-id mockRestApiKey_denied_04 --timeout 30
cli_page=$(cli_browse "$cli_url")
cli_login_end
cli_judge "login: user denies access" 1 "" "*
kakao-pam login: login refused: access_denied: \"User denied access\""
case $cli_page in *"Kakao login failed"*) ok "cli login: the browser is told the login failed" ;;
*) bad "cli login: the browser is told the login failed ($cli_page)" ;; esac

# Requests without this login's state come from anyone (another local
# program, a web page's <img src=http://localhost:PORT/callback?error=...>):
# each is answered 400 and ignored, and the login still completes.
cli_login_start --client-id "$PUB" --timeout 30
cli_stray() {
    curl -4 -sS --max-time 30 -o "$CW/stray.html" -w '%{http_code}' "http://127.0.0.1:$cli_lport/callback?$1"
}
cli_codes="$(cli_stray error=access_denied) $(cli_stray 'code=forged&state=wrong')"
cli_codes="$cli_codes $(cli_stray 'error=access_denied&state=wrong') $(cli_stray 'state=a&state=b')"
cli_codes="$cli_codes $(cli_stray "error=access_denied&state=${cli_state}x")"
cli_page=$(cli_browse "$cli_url")
cli_login_end
check "cli login: stray callbacks answered 400 ($cli_codes)" test "$cli_codes" = "400 400 400 400 400"
check "cli login: the stray page says it was ignored" grep -q "does not carry the state of the login in progress and was ignored" "$CW/stray.html"
cli_judge "login: stray callbacks ignored, the right one completes" 0 "mockValidAliceToken_0001" \
"kakao-pam login: open this URL in a browser to log in with Kakao:

  $cli_url

kakao-pam login: waiting up to 30 s for the redirect to http://localhost:$cli_lport/callback
kakao-pam login: ignored a redirect without state (error=access_denied): not from this login; still waiting
kakao-pam login: ignored a redirect with a wrong state: not from this login; still waiting
kakao-pam login: ignored a redirect with a wrong state (error=access_denied): not from this login; still waiting
kakao-pam login: ignored a malformed redirect (a parameter repeated or badly encoded); still waiting
kakao-pam login: ignored a redirect with a wrong state (error=access_denied): not from this login; still waiting
kakao-pam login: logged in; the access token expires in 21599 s"
case $cli_page in *"You may close this tab"*) ok "cli login: after stray callbacks the browser gets its page" ;;
*) bad "cli login: after stray callbacks the browser gets its page ($cli_page)" ;; esac
cli_pam_accepts alice "$cli_out" 3095134389

# What a stray request shows is escaped and bounded: ten notices, then one
# line saying the rest are ignored without notice.
cli_login_start --client-id "$PUB" --timeout 30
cli_stray 'error=%1b%5b31mred%0aline' >/dev/null
cli_i=0
while [ "$cli_i" -lt 12 ]; do
    cli_stray error=x >/dev/null
    cli_i=$((cli_i + 1))
done
cli_stray "state=$cli_state&error=access_denied" >/dev/null
cli_login_end
cli_want='*kakao-pam login: ignored a redirect without state (error=\\x1b[[]31mred\\x0aline): not from this login; still waiting'
cli_i=0
while [ "$cli_i" -lt 9 ]; do
    cli_want="$cli_want
kakao-pam login: ignored a redirect without state (error=x): not from this login; still waiting"
    cli_i=$((cli_i + 1))
done
cli_judge "login: stray notices escaped, at most ten" 1 "" "$cli_want
kakao-pam login: more requests without this login's state: ignored without notice
kakao-pam login: login refused: access_denied"
check "cli login: no escape byte from a stray request reaches the terminal" \
    sh -c '! grep -q "$(printf "\033")" "$1"' sh "$CW/login.err"

# The right state but neither code nor error: only this login's browser
# holds the state and Kakao redirects once, so waiting longer cannot bring a
# code: the login ends at once (status 1) instead of running into the timeout.
cli_login_start --client-id "$PUB" --timeout 30
cli_codes=$(cli_stray "state=$cli_state")
cli_login_end
check "cli login: right state without a code answered 400 ($cli_codes)" test "$cli_codes" = 400
cli_judge "login: right state without a code ends the login" 1 "" "*
kakao-pam login: the redirect carries no usable code: login aborted"

cli_login_start --client-id "$PUB" --timeout 30
curl -4 -sS --max-time 30 -o /dev/null \
    "http://127.0.0.1:$cli_lport/callback?error=access_denied&error_description=%1b%5b31mred%0aline&state=$cli_state"
cli_login_end
cli_judge "login: error text escaped" 1 "" '*
kakao-pam login: login refused: access_denied: "\\x1b[[]31mred\\x0aline"'
check "cli login: no escape byte reaches the terminal" sh -c '! grep -q "$(printf "\033")" "$1"' sh "$CW/login.err"

cli_login_start --client-id "$PUB" --timeout 30
cli_codes=$(curl -4 -sS --max-time 30 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$cli_lport/favicon.ico")
cli_codes="$cli_codes $(curl -4 -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$cli_lport/callback")"
cli_codes="$cli_codes $(head -c 9000 /dev/zero | tr '\0' x | curl -4 -sS --max-time 30 -o /dev/null -w '%{http_code}' -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' x)" "http://127.0.0.1:$cli_lport/callback")"
cli_browse "$cli_url" >/dev/null
cli_login_end
check "cli login: other paths 404, POST 405, oversized request 431 ($cli_codes)" test "$cli_codes" = "404 405 431"
cli_judge "login: still succeeds after them" 0 "mockValidAliceToken_0001" "*logged in*"

# a replayed code: the first exchange (by someone else) uses it up
cli_login_start --client-id "$PUB" --timeout 30
cli_loc=$(curl -4 -sS --max-time 30 --cacert "$CLI_CA" -o /dev/null -w '%{redirect_url}' "$cli_url")
cli_code=$(printf '%s' "$cli_loc" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
curl -4 -sS --max-time 30 --cacert "$CLI_CA" -o /dev/null -d grant_type=authorization_code \
    -d "client_id=$PUB" -d "code=$cli_code" "https://127.0.0.1:$MOCK_PORT/oauth/token"
curl -4 -sS --max-time 30 -o /dev/null "$cli_loc"
cli_login_end
cli_judge "login: code already used (KOE320)" 1 "" "*
kakao-pam login: token request refused (HTTP 400): invalid_grant KOE320: \"authorization code not found or already used\""

# the token endpoint misbehaves
for cli_case in "mockRestApiKey_5xx_00005|token endpoint answered HTTP 500 without an OAuth error" \
    "mockRestApiKey_notjs_007|the token endpoint's answer is not a JSON object"; do
    cli_login_start --client-id "${cli_case%%|*}" --timeout 30
    cli_page=$(cli_browse "$cli_url")
    cli_login_end
    cli_judge "login: ${cli_case#*|}" 2 "" "*
kakao-pam login: ${cli_case#*|}"
    case $cli_page in *"Kakao login failed"*) ok "cli login: the browser is told the exchange failed" ;;
    *) bad "cli login: the browser is told the exchange failed ($cli_page)" ;; esac
done
# The login's time covers the browser's visit too (curl, TLS to the mock, the
# redirect): 10 s, so that a loaded machine still brings the callback in time
# and the time runs out at the token endpoint, as this case is about.
cli_login_start --client-id mockRestApiKey_hang_0006 --timeout 10
cli_browse "$cli_url" >/dev/null
cli_login_end
cli_judge "login: token endpoint hangs past the login's time" 2 "" "*
kakao-pam login: timed out: the token endpoint did not answer within the 10 s of the login"
cli_lport=$(cli_free_port)
cli_expect "login: token endpoint's certificate not trusted" 2 "" "*
kakao-pam login: token endpoint unavailable: *" sh -c '
    "$1" login --no-browser --client-id "$2" --redirect-uri "http://localhost:$3/callback" \
        --auth-url "https://127.0.0.1:$4/oauth/authorize" --token-url "https://127.0.0.1:$5/oauth/token" \
        --timeout 30 2>"$6" &
    pid=$!
    i=0; while ! grep -q authorize? "$6" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    url=$(sed -n "s/^  \(https:.*\)$/\1/p" "$6")
    curl -4 -sS --max-time 30 --cacert "$7" -L --max-redirs 1 -o /dev/null "$url"
    wait $pid; rc=$?; cat "$6" >&2; exit $rc' sh "$KP" "$PUB" "$cli_lport" "$MOCK_PORT" "$MOCK_ROGUE_PORT" \
    "$CW/tls.err" "$CLI_CA"

# nobody comes back
cli_login_start --client-id "$PUB" --timeout 1
cli_login_end
cli_judge "login: timeout" 2 "" "*
kakao-pam login: timed out: no redirect from the browser within 1 s"

# usage
L="$KP login --client-id $PUB"
cli_expect "login: --client-id missing" 2 "" \
    "kakao-pam login: --client-id and --redirect-uri are required*usage: kakao-pam login *" \
    "$KP" login --redirect-uri http://localhost:8080/callback
for cli_u in https://localhost:8080/cb http://example.com:8080/cb http://localhost/cb \
    http://localhost:0/cb http://localhost:65536/cb http://localhost:8080 "http://localhost:8080/a b"; do
    cli_expect "login: redirect URI $cli_u refused" 2 "" \
        "kakao-pam login: --redirect-uri must be http://localhost:PORT/PATH *" $L --redirect-uri "$cli_u"
done
cli_expect "login: http token URL refused" 2 "" "kakao-pam login: --token-url must be an https:// URL" \
    $L --redirect-uri http://localhost:8080/cb --token-url http://127.0.0.1/oauth/token
cli_expect "login: --timeout 0 refused" 2 "" "kakao-pam login: --timeout must be 1 to 3600 seconds" \
    $L --redirect-uri http://localhost:8080/cb --timeout 0
cli_expect "login: no --client-secret on the command line" 2 "" \
    "kakao-pam login: a client secret is never taken from the command line: use --client-secret-file FILE" \
    $L --redirect-uri http://localhost:8080/cb --client-secret x
cli_expect "login: port in use" 2 "" "kakao-pam login: 127.0.0.1 port $MOCK_PORT is in use: cannot receive the redirect" \
    $L --no-browser --redirect-uri "http://localhost:$MOCK_PORT/cb" --timeout 5

# xdg-open: run with the URL, output kept off stdout; its failure or absence
# only means the URL must be opened by hand.
mkdir -p "$CW/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/xdg.args"\necho noise\nexit "${XDG_FAKE_RC:-0}"\n' "$CW" \
    >"$CW/bin/xdg-open"
chmod 755 "$CW/bin/xdg-open"
cli_lport=$(cli_free_port)
cli_expect "login: xdg-open fails" 2 "" "*xdg-open failed: open the URL above in a browser*timed out*" \
    env PATH="$CW/bin:$PATH" XDG_FAKE_RC=3 "$KP" login --client-id "$PUB" \
    --redirect-uri "http://localhost:$cli_lport/cb" --timeout 2
check "cli login: xdg-open got the authorize URL" sh -c \
    'test "$(cat "$1")" = "$(sed -n "s/^  \(https:.*\)$/\1/p" "$2")"' sh "$CW/xdg.args" "$CW/run.err"
cli_expect "login: no xdg-open" 2 "" "*xdg-open not found: open the URL above in a browser*timed out*" \
    env PATH=/nonexistent "$KP" login --client-id "$PUB" --redirect-uri "http://localhost:$cli_lport/cb" --timeout 1

echo "== kakao-pam login in a real browser (headless Chromium)"
if [ -x /usr/bin/chromium ]; then
    # xdg-open as a desktop would have it, opening the URL in Chromium.
    # --ignore-certificate-errors is for the browser and the mock's test
    # certificate only; kakao-pam's own TLS to the token endpoint verifies
    # against --ca-file.
    cli_profile=$(mktemp -d "$CW/chromium.XXXXXX")
    cat >"$CW/bin/xdg-open" <<XDG
#!/bin/sh
setsid timeout -k 5 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run \\
    --disable-background-networking --disable-component-update --disable-sync --disable-quic \\
    --user-data-dir="$cli_profile" --ignore-certificate-errors \\
    --host-resolver-rules="MAP localhost 127.0.0.1" --dump-dom "\$1" \\
    >"$CW/chromium.dom" 2>"$CW/chromium.log" </dev/null &
echo \$! >"$CW/chromium.pid"
XDG
    rm -f "$CW/chromium.pid" "$CW/chromium.dom"
    CLI_BROWSER=1
    cli_path=$PATH
    PATH="$CW/bin:$PATH"
    cli_login_start --client-id "$PUB" --timeout 60
    PATH=$cli_path
    CLI_BROWSER=0
    cli_login_end
    cli_judge "login in Chromium" 0 "mockValidAliceToken_0001" "*logged in*"
    cli_cpid=$(cat "$CW/chromium.pid" 2>/dev/null)
    cli_i=0
    while [ -n "$cli_cpid" ] && kill -0 "$cli_cpid" 2>/dev/null && [ "$cli_i" -lt 300 ]; do
        sleep 0.1
        cli_i=$((cli_i + 1))
    done
    [ -n "$cli_cpid" ] && kill -TERM -- "-$cli_cpid" 2>/dev/null
    check "cli login in Chromium: the page says the tab may be closed" \
        grep -q "You may close this tab" "$CW/chromium.dom"
    cli_pam_accepts alice "$cli_out" 3095134389
    rm -rf "$cli_profile"
else
    echo "SKIP: /usr/bin/chromium not installed (apt-get install chromium): browser login test not run"
fi
