# tests/phone.py, the headless-Chromium phone the browser tests drive:
# against tests/cli/phone_pages.py (two ports, pages under a strict CSP) it
# presses a form's button, follows a 303 chain across both ports, reports
# the final URL and text, takes a phone-sized screenshot, and gives up on a
# page that never loads, leaving no process and no profile behind.
echo "== tests/phone.py (headless Chromium over the DevTools pipe)"
if [ -x /usr/bin/chromium ]; then
    PH="$CW/phone"
    mkdir -p "$PH"
    # phone.py's scratch directory (TMPDIR), short: Chromium puts a socket in it.
    PH_TMP=$(mktemp -d /tmp/phone-test.XXXXXX)
    rm -f "$PH/ports" "$PH/pages.jsonl"
    python3 "$top/tests/cli/phone_pages.py" --port-file "$PH/ports" --log "$PH/pages.jsonl" \
        --parent-pid $$ --lifetime 600 </dev/null >"$PH/pages.out" 2>&1 &
    ph_srv=$!
    ph_i=0
    while [ ! -s "$PH/ports" ] && kill -0 "$ph_srv" 2>/dev/null && [ "$ph_i" -lt 300 ]; do
        sleep 0.1
        ph_i=$((ph_i + 1))
    done
    read -r ph_a _ ph_gone <"$PH/ports"

    # ph_run ARGS...: phone.py with its scratch directory under $PH_TMP;
    # sets ph_rc, ph_out, ph_err and ph_secs (wall time).
    ph_run() {
        ph_t0=$(date +%s%N)
        TMPDIR="$PH_TMP" python3 "$top/tests/phone.py" "$@" </dev/null >"$PH/out" 2>"$PH/err"
        ph_rc=$?
        ph_secs=$((($(date +%s%N) - ph_t0) / 1000000000))
        ph_out=$(cat "$PH/out")
        ph_err=$(cat "$PH/err")
    }
    # ph_clean NAME: no browser process and no profile left by the last run.
    # phone.py reaps the browser it SIGKILLed, not the rest of its process
    # group (zygote, renderers), which may still be on its way out when
    # phone.py has ended: up to 30 s for them to go (a zombie's command
    # line is empty), so that only a process that stays counts.
    ph_clean() {
        ph_i=0
        while :; do
            ph_left=$(grep -l "${PH_TMP}[/]" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
            [ "$ph_left" -eq 0 ] || [ "$ph_i" -ge 300 ] && break
            sleep 0.1
            ph_i=$((ph_i + 1))
        done
        check "phone: $1: no browser process left ($ph_left)" test "$ph_left" -eq 0
        check "phone: $1: the temporary profile is removed" \
            sh -c '[ -z "$(ls -A "$1")" ]' sh "$PH_TMP"
    }

    ph_run open "http://127.0.0.1:$ph_a/" --click '#approve' --wait-text 482913 \
        --screenshot "$PH/shot.png" --timeout 60
    check "phone: press the button, follow the redirects (rc=$ph_rc, $ph_err)" test "$ph_rc" -eq 0
    check "phone: the final URL, status and text ($ph_out)" python3 -c '
import json, sys
o = json.loads(sys.argv[1])
want = "Your code\n\n482913\n\nType this code only at the terminal where you started this login."
sys.exit(0 if o == {"url": "http://127.0.0.1:%s/done" % sys.argv[2], "status": 200,
                    "text": want} else 1)' "$ph_out" "$ph_a"
    check "phone: the requests: GET, the form POSTed, 303 across both ports" python3 -c '
import json, sys
got = [(r["method"], r["on"], r["path"], r["body"]) for r in map(json.loads, open(sys.argv[1]))]
sys.exit(0 if got == [("GET", "A", "/", ""), ("POST", "A", "/approve", "session=s123&answer=yes"),
                      ("GET", "B", "/hop", ""), ("GET", "A", "/done", "")] else 1)' \
        "$PH/pages.jsonl"
    check "phone: the screenshot is a 390x844 PNG" python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read(24)
sys.exit(0 if d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
         and struct.unpack(">II", d[16:24]) == (390, 844) else 1)' "$PH/shot.png"
    ph_clean "after a run"

    # The first page as it stands: its inline script blocked by the CSP.
    ph_run open "http://127.0.0.1:$ph_a/" --timeout 60
    check "phone: the page's own script is blocked by its CSP ($ph_out)" python3 -c '
import json, sys
o = json.loads(sys.argv[1])
want = "Approve the login?\n\nalice on host1, service sudo\n\nApprove Elsewhere"
sys.exit(0 if o["text"] == want and o["status"] == 200 else 1)' "$ph_out"

    ph_run open "http://127.0.0.1:$ph_a/" --click '#gone' --timeout 60
    ph_want="phone.py: navigation failed: http://127.0.0.1:$ph_gone/nobody could not be loaded"
    check "phone: redirected to a dead port: status 1 ($ph_rc: $ph_err)" test "$ph_rc" -eq 1 -a \
        "$ph_err" = "$ph_want"

    ph_run open "http://127.0.0.1:$ph_a/" --click '#nothing' --timeout 60
    check "phone: no such element: status 1 ($ph_rc: $ph_err)" test "$ph_rc" -eq 1 -a \
        "$ph_err" = "phone.py: no element matches #nothing on http://127.0.0.1:$ph_a/"

    # --timeout covers Chromium's start and the page's load too, which must
    # be over before it ends for this message: 20 s, for a loaded machine.
    ph_run open "http://127.0.0.1:$ph_a/" --wait-text "not there" --timeout 20
    ph_want="phone.py: timed out: the page never showed \"not there\" (http://127.0.0.1:$ph_a/)"
    check "phone: text never shown: status 1 ($ph_rc: $ph_err)" test "$ph_rc" -eq 1 -a \
        "$ph_err" = "$ph_want (after 20 s)"

    ph_dead=$(cli_free_port)
    ph_run open "http://127.0.0.1:$ph_dead/" --timeout 60
    ph_want="phone.py: navigation to http://127.0.0.1:$ph_dead/ failed: net::ERR_CONNECTION_REFUSED"
    check "phone: connection refused: status 1 ($ph_rc: $ph_err)" test "$ph_rc" -eq 1 -a \
        "$ph_err" = "$ph_want"

    # A page that never loads: the run ends by itself after --timeout. The
    # bound is wide (a loaded machine starts Chromium slowly); the page never
    # answers, so any end within it is phone.py's own timeout at work. The
    # timeout (20 s) covers Chromium's start, which must be over before it
    # ends for this message.
    ph_run open "http://127.0.0.1:$ph_a/never" --timeout 20
    ph_want="phone.py: timed out while waiting for the page at http://127.0.0.1:$ph_a/never"
    check "phone: a page that never loads: status 1 within 20 s + 40 ($ph_rc, $ph_secs s: $ph_err)" \
        test "$ph_rc" -eq 1 -a "$ph_secs" -le 60 -a "$ph_err" = "$ph_want (after 20 s)"
    ph_clean "after a timeout"

    # SIGTERM while a page loads: the browser and the profile go too.
    rm -f "$PH/pages.jsonl"
    TMPDIR="$PH_TMP" python3 "$top/tests/phone.py" open "http://127.0.0.1:$ph_a/never" \
        --timeout 120 </dev/null >/dev/null 2>"$PH/err" &
    ph_pid=$!
    ph_i=0
    while ! grep -q '"/never"' "$PH/pages.jsonl" 2>/dev/null && [ "$ph_i" -lt 600 ]; do
        sleep 0.1
        ph_i=$((ph_i + 1))
    done
    kill -TERM "$ph_pid"
    wait "$ph_pid"
    ph_rc=$?
    check "phone: SIGTERM ends it (status $ph_rc)" test "$ph_rc" -eq 143
    ph_clean "after SIGTERM"

    kill -TERM "$ph_srv" 2>/dev/null
    wait "$ph_srv"
    rm -rf "$PH_TMP"
else
    echo "SKIP: /usr/bin/chromium not installed (apt-get install chromium): phone.py not tested"
fi
