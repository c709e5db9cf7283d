# shellcheck shell=bash disable=SC2154,SC2034 # variables shared with ns.sh
# The relay kind end to end (pam_kakao(8), "Approval on the phone (relay)";
# kakao-pam-relay(8)): sourced by tests/e2e/ns.sh inside its namespaces,
# after its own cases, with its variables and helpers (T, top, B, MOD, KP, C,
# E2E, LOG, ALICE_ID, BOB_ID, mock_port, failed, ok, bad, free_port,
# start_sshd and its sshd_port, sshd_log; relay_pids, which its stop_all
# stops).
#
# Three real kakao-pam-relay processes on 127.0.0.1 (HTTPS, a self-signed
# certificate for relay.test), each a client of the mock Kakao that approves
# differently (tests/mock/README.md): as alice, as bob (not mapped to alice),
# and as alice with a Kakao login an hour old. public_url names the port
# (https://relay.test:PORT), so the port is chosen first (a free one, read
# back) and the start-up line must confirm it; three tries, as for sshd.
# relay.test is 127.0.0.1 through a copy of /etc/hosts bound over the host's
# (for the module's libcurl) and a host-resolver rule (for Chromium).
# tests/e2e/relay_cases.py then drives the real ssh client and sudo on
# pseudo-terminals and one headless Chromium as the phone.
RELAY_BIN="$B/kakao-pam-relay"
RELAY_NAME=relay.test

# start_relay NAME CLIENT: a relay for the mock's relay client CLIENT. Sets
# relay_port.
start_relay() {
    local client=$2 dir="$T/relay_$1" pid i line
    mkdir -m 0700 "$dir" || return 1
    for _ in 1 2 3; do
        relay_port=$(free_port) || return 1
        cat >"$dir/relay.conf" <<RCONF
listen = 127.0.0.1:$relay_port
public_url = https://$RELAY_NAME:$relay_port
kakao_rest_api_key = $client
kakao_auth_url = https://127.0.0.1:$mock_port
ca_file = $T/certs/ca.pem
signing_key = $T/relay_keys/signing.key
tls_cert = $T/relay_keys/tls.pem
tls_key = $T/relay_keys/tls.key
RCONF
        chmod 0600 "$dir/relay.conf"
        : >"$dir/relay.log"
        "$RELAY_BIN" --config "$dir/relay.conf" </dev/null 2>>"$dir/relay.log" &
        pid=$!
        i=0
        while [ "$i" -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
            line=$(grep -m1 'listening on' "$dir/relay.log")
            if [ -n "$line" ]; then
                case $line in
                *"listening on 127.0.0.1:$relay_port (https)"*)
                    relay_pids="$relay_pids $pid"
                    return 0
                    ;;
                esac
                break
            fi
            sleep 0.1
            i=$((i + 1))
        done
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    return 1
}

# stop_relays: SIGTERM to each relay; false unless every one exited 0.
stop_relays() {
    local pid all=0
    for pid in $relay_pids; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $relay_pids; do
        wait "$pid" 2>/dev/null || all=1
    done
    relay_pids=""
    return $all
}

relay_setup() {
    local k="$T/relay_keys" conf
    mkdir -m 0700 "$k" || return 1
    openssl ecparam -name prime256v1 -genkey -noout -out "$k/signing.key" 2>/dev/null &&
        chmod 0600 "$k/signing.key" &&
        openssl ec -in "$k/signing.key" -pubout -out "$C/relay_key.pem" 2>/dev/null &&
        chmod 0644 "$C/relay_key.pem" || return 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=$RELAY_NAME" -addext "subjectAltName=DNS:$RELAY_NAME" \
        -keyout "$k/tls.key" -out "$k/tls.pem" 2>/dev/null && chmod 0600 "$k/tls.key" || return 1
    # The module trusts the mock's CA (Kakao API) and the relay's certificate.
    cat "$T/certs/ca.pem" "$k/tls.pem" >"$C/relay_ca.pem" && chmod 0644 "$C/relay_ca.pem" ||
        return 1
    { grep -v "$RELAY_NAME" /etc/hosts && echo "127.0.0.1 $RELAY_NAME"; } >"$T/etc/hosts" &&
        mount --bind "$T/etc/hosts" /etc/hosts || return 1
    [ "$(getent hosts "$RELAY_NAME" | cut -d' ' -f1)" = 127.0.0.1 ] || return 1
    start_relay alice mockRelayKey_alice_0101 && relay_alice=$relay_port || return 1
    start_relay bob mockRelayKey_bob_000102 && relay_bob=$relay_port || return 1
    start_relay old mockRelayKey_old_000114 && relay_old=$relay_port || return 1
    # relay_conf NAME PORT ACCEPT [more lines]: $C/NAME.conf, the e2e
    # pam_kakao.conf with the relay on PORT and the CA bundle.
    relay_conf() {
        conf="$C/$1.conf"
        {
            grep -v '^ca_file *=' "$C/pam_kakao.conf"
            printf 'ca_file = %s\naccept = %s\n' "$C/relay_ca.pem" "$3"
            printf 'relay_url = https://%s:%s\nrelay_key = %s\n' "$RELAY_NAME" "$2" \
                "$C/relay_key.pem"
            if [ $# -gt 3 ]; then printf '%s\n' "${@:4}"; fi
        } >"$conf" && chmod 0644 "$conf"
    }
    relay_conf relay_only "$relay_alice" relay &&
        relay_conf relay_jwt "$relay_alice" relay,jwt &&
        relay_conf relay_qr "$relay_alice" relay 'relay_qr = yes' &&
        relay_conf relay_bob "$relay_bob" relay &&
        relay_conf relay_old "$relay_old" relay
}

relay_ready=0
if relay_setup; then
    relay_ready=1
    ok "relay: three kakao-pam-relay (HTTPS, public_url https://$RELAY_NAME:PORT) started for the mock Kakao"
else
    bad "relay: three kakao-pam-relay (HTTPS, public_url https://$RELAY_NAME:PORT) started for the mock Kakao"
    tail -n 5 "$T"/relay_*/relay.log 2>/dev/null | sed 's/^/    /'
fi
if [ "$relay_ready" = 1 ] && start_sshd relay "$T/sshd_config.kbd"; then
    relay_start=$(date +%s)
    # The phone's Chromium keeps its profile here (phone.py: a short TMPDIR),
    # so run.sh would see a browser left running.
    mkdir -m 0700 "$T/ph"
    TMPDIR="$T/ph" RELAY_E2E_SERVICE_DIR="$T/etc/pam.d" RELAY_E2E_MOD="$MOD" RELAY_E2E_CONF="$C" \
        RELAY_E2E_SSHD_PORT="$sshd_port" RELAY_E2E_SSHD_LOG="$sshd_log" \
        RELAY_E2E_SYSLOG="$LOG" RELAY_E2E_SOCKET="$T/dev/log" RELAY_E2E_MOCK_LOG="$T/requests.jsonl" \
        RELAY_E2E_RELAY_LOG="$T/relay_alice/relay.log" \
        RELAY_E2E_QR="$B/tests/e2e_qr_text" RELAY_E2E_KP="$KP" RELAY_E2E_KEY="$T/keys/hs256.key" \
        RELAY_E2E_ALICE_ID=$ALICE_ID RELAY_E2E_BOB_ID=$BOB_ID RELAY_E2E_NAME=$RELAY_NAME \
        RELAY_E2E_EXAMPLES="$top/pam.d-example" RELAY_E2E_OUT="$T/relay_transcripts" \
        timeout -k 5 240 python3 "$E2E/relay_cases.py" </dev/null
    rc=$?
    # 1: its FAIL lines say what failed.
    case $rc in
    0) ;;
    1) failed=1 ;;
    *) bad "relay: tests/e2e/relay_cases.py exited with status $rc" ;;
    esac
    echo "e2e: the relay cases took $(($(date +%s) - relay_start)) s"
    if [ -z "$(ls -A "$T/ph")" ]; then
        ok "relay: the phone's Chromium gone, its profile removed"
    else
        bad "relay: the phone's Chromium gone, its profile removed ($(ls -A "$T/ph"))"
    fi
elif [ "$relay_ready" = 1 ]; then
    bad "relay: sshd started for the relay cases"
fi
if [ -n "$relay_pids" ]; then
    if stop_relays; then
        ok "relay: the relays exited 0 on SIGTERM"
    else
        bad "relay: the relays exited 0 on SIGTERM"
        tail -n 3 "$T"/relay_*/relay.log | sed 's/^/    /'
    fi
fi
