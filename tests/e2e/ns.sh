#!/bin/bash
# The end-to-end cases, run by tests/e2e/run.sh inside private mount and PID
# namespaces (unshare -m -p -f --kill-child --mount-proc): nothing
# mounted here is visible outside, and every process started here dies with
# this script. Usage: ns.sh TMPDIR TOP BUILD. Prints PASS:/FAIL: lines.
#
# Inside the namespaces, over the host's paths: /dev (the same device nodes,
# plus our own /dev/log socket so pam_syslog lines are captured), /run (empty),
# /etc/pam.d, /etc/passwd, /etc/group, /etc/shadow, /etc/sudoers (test copies
# with users alice 4242, bob 4243 and carol 4244, who has no line in the user
# map; deploy, mapped in the example user map, is no account here), the
# login record files, and for the system-store cases /etc/ssl/certs (copies
# with and without the mock's test CA), and for the relay cases
# (tests/e2e/relay_cases.sh) /etc/hosts (relay.test is 127.0.0.1). sshd runs
# on 127.0.0.1 with its own config; the PAM service files are the
# pam.d-example files with only paths substituted.
set -u
T=$1
top=$2
B=$3
MOD="$B/pam_kakao.so"
KP="$B/kakao-pam"
E2E="$top/tests/e2e"
ALICE_ID=3095134389
BOB_ID=1122334455
ALICE_PW='alice-e2e-password'
LOG="$T/syslog.log"
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export LC_ALL=C
cd / || exit 1

failed=0
ok() { echo "PASS: $1"; }
bad() { failed=1; echo "FAIL: $1"; }
die() { bad "setup: $1"; exit 1; }

sink_pid=""
mock_pid=""
sshd_pids=""
relay_pids=""
# Stops what this script started; the PID namespace kills anything missed.
stop_all() {
    for pid in $relay_pids $sshd_pids $mock_pid $sink_pid; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $relay_pids $sshd_pids $mock_pid $sink_pid; do
        wait "$pid" 2>/dev/null
    done
    relay_pids="" sshd_pids="" mock_pid="" sink_pid=""
}
trap stop_all EXIT
trap 'exit 1' HUP INT TERM

# Waits up to 30 s for file $1 to be non-empty while process $2 lives (a
# bound that only trips when $2 never gets there, even on a loaded machine).
wait_file() {
    local i=0
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || return 1
        [ "$i" -ge 300 ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# ---------------------------------------------------------------- namespace
# A private /dev: the host's device nodes bound one by one, and /dev/log our
# syslog sink (the host may have no /dev/log, or one we must not write to).
mkdir -p "$T/dev" || die "mkdir $T/dev"
mount -t tmpfs -o mode=0755,nosuid pam_kakao_e2e_dev "$T/dev" || die "tmpfs for /dev"
for n in null zero full random urandom tty; do
    [ -e "/dev/$n" ] || continue
    { touch "$T/dev/$n" && mount --bind "/dev/$n" "$T/dev/$n"; } || die "bind /dev/$n"
done
# Pseudo-terminals (sshpass runs ssh on one) from a devpts instance of our own.
mkdir "$T/dev/pts" "$T/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 pam_kakao_e2e_pts "$T/dev/pts" ||
    die "devpts for /dev/pts"
ln -s pts/ptmx "$T/dev/ptmx"
mount --rbind /dev/shm "$T/dev/shm" || die "bind /dev/shm"
ln -s /proc/self/fd "$T/dev/fd"
ln -s /proc/self/fd/0 "$T/dev/stdin"
ln -s /proc/self/fd/1 "$T/dev/stdout"
ln -s /proc/self/fd/2 "$T/dev/stderr"
: >"$LOG"
python3 "$E2E/syslog_sink.py" --socket "$T/dev/log" --out "$LOG" --parent-pid $$ --lifetime 600 \
    </dev/null >"$T/sink.out" 2>&1 &
sink_pid=$!
i=0
while [ ! -S "$T/dev/log" ]; do
    { kill -0 "$sink_pid" 2>/dev/null && [ "$i" -lt 300 ]; } ||
        die "syslog sink did not start: $(cat "$T/sink.out")"
    sleep 0.1
    i=$((i + 1))
done
mount --rbind "$T/dev" /dev || die "mount the private /dev"

# An empty /run: sudo's timestamps (/run/sudo), sshd's privilege separation
# directory, no nscd or systemd sockets of the host.
mount -t tmpfs -o mode=0755,nosuid pam_kakao_e2e_run /run || die "tmpfs for /run"
mkdir -m 0755 /run/sshd

# Login records: sshd notes failed logins in /var/log/btmp.
for f in /var/log/btmp /var/log/wtmp /var/log/lastlog /var/log/faillog; do
    [ -f "$f" ] || continue
    rec="$T/records/$(basename "$f")"
    { mkdir -p "$T/records" && install -m 0600 /dev/null "$rec" && mount --bind "$rec" "$f"; } ||
        die "bind $f"
done

# Test copies of the account and PAM files, bound over the host's.
mkdir -p "$T/etc" "$T/home"
cp -a /etc/pam.d "$T/etc/pam.d" || die "copy /etc/pam.d"
for f in passwd group shadow; do
    grep -v -e '^alice:' -e '^bob:' -e '^carol:' -e '^deploy:' "/etc/$f" >"$T/etc/$f"
    { chown --reference="/etc/$f" "$T/etc/$f" && chmod --reference="/etc/$f" "$T/etc/$f"; } ||
        die "copy /etc/$f"
done
pwhash=$(openssl passwd -6 "$ALICE_PW") || die "openssl passwd"
for u in alice:4242 bob:4243 carol:4244; do
    name=${u%:*} id=${u#*:}
    echo "$name:x:$id:$id:pam_kakao e2e:$T/home/$name:/bin/sh" >>"$T/etc/passwd"
    echo "$name:x:$id:" >>"$T/etc/group"
    mkdir -m 0755 "$T/home/$name" && chown "$id:$id" "$T/home/$name"
done
{
    echo "alice:$pwhash:19000:0:99999:7:::"
    echo "bob:*:19000:0:99999:7:::"
    echo "carol:*:19000:0:99999:7:::"
} >>"$T/etc/shadow"
# Only this file: no @includedir of the host's /etc/sudoers.d.
cat >"$T/etc/sudoers" <<'SUDOERS'
# Test copy of /etc/sudoers (tests/e2e/ns.sh).
Defaults env_reset
Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# As README "With sudo" says: no cached credentials, every sudo asks.
Defaults timestamp_timeout=0
# Test harness only: one attempt per case, no lecture file written.
Defaults passwd_tries=1
Defaults lecture=never
root    ALL=(ALL:ALL) ALL
alice   ALL=(ALL:ALL) ALL
bob     ALL=(ALL:ALL) ALL
SUDOERS
chown root:root "$T/etc/sudoers" && chmod 0440 "$T/etc/sudoers"
visudo -c -q -f "$T/etc/sudoers" || die "visudo -c on the test sudoers"
for f in pam.d passwd group shadow sudoers; do
    mount --bind "$T/etc/$f" "/etc/$f" || die "bind /etc/$f"
done
[ "$(getent passwd 4242 | cut -d: -f1)" = alice ] || die "uid 4242 is not alice in the namespace"

# ------------------------------------------------------------ pam_kakao files
C="$T/conf"
mkdir -m 0755 "$C"
sh "$top/tests/keys/make_keys.sh" "$T/keys" || die "test keys"
bash "$top/tests/mock/make_certs.sh" "$T/certs" || die "mock certificates"
python3 "$top/tests/mock/mock_kakao.py" --cert "$T/certs/server.pem" --key "$T/certs/server.key" \
    --port-file "$T/mock.port" --log "$T/requests.jsonl" --lifetime 600 --parent-pid $$ \
    </dev/null >"$T/mock.out" 2>&1 &
mock_pid=$!
wait_file "$T/mock.port" "$mock_pid" || die "mock Kakao API did not start: $(cat "$T/mock.out")"
mock_port=$(cat "$T/mock.port")

# The shipped examples, paths substituted (as tests/pamtester.sh does).
sed "s|^user_map *=.*|user_map = $C/pam_kakao.users|; s|^jwt_key *=.*|jwt_key = $T/keys/hs256.key|" \
    "$top/pam.d-example/pam_kakao.conf" >"$C/pam_kakao.conf"
printf 'kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%s\nca_file = %s\n' \
    "$mock_port" "$T/certs/ca.pem" >>"$C/pam_kakao.conf"
cp "$top/pam.d-example/pam_kakao.users" "$C/pam_kakao.users"
chmod 0644 "$C/pam_kakao.conf" "$C/pam_kakao.users"
subst() { sed "s|pam_kakao\.so|$MOD|g; s|/etc/security/pam_kakao\.conf|$C/pam_kakao.conf|g" "$1"; }
# Written to the copy (bound over /etc/pam.d), never through /etc, and never
# through a symlink the host may have there.
rm -f "$T/etc/pam.d/sshd" "$T/etc/pam.d/sudo"
subst "$top/pam.d-example/sshd-token-only" >"$T/etc/pam.d/sshd"
subst "$top/pam.d-example/sudo" >"$T/etc/pam.d/sudo"
chmod 0644 "$T/etc/pam.d/sshd" "$T/etc/pam.d/sudo"

mint() { "$KP" mint --key "$T/keys/hs256.key" --alg HS256 "$@" 2>/dev/null; }
jwt_alice=$(mint --kakao-id $ALICE_ID) || die "kakao-pam mint"
jwt_bob=$(mint --kakao-id $BOB_ID) || die "kakao-pam mint"
jwt_expired=$(mint --kakao-id $ALICE_ID --ttl -3600) || die "kakao-pam mint"
jwt_long=$(python3 "$E2E/long_jwt.py" "$T/keys/hs256.key" $ALICE_ID) || die "long_jwt.py"
kakao_alice=mockValidAliceToken_0001

# ------------------------------------------------------------- log checking
# Each case notes where the logs end before it runs, then compares the
# pam_kakao lines logged since with what it expects (glob patterns).
log_mark=0
sshd_mark=0
sshd_log=/dev/null
mark_logs() {
    log_mark=$(wc -l <"$LOG")
    sshd_mark=$(wc -l <"$sshd_log")
}
# The messages since the mark that pam_kakao logged ("<PRI>Mmm dd hh:mm:ss
# TAG: pam_kakao(SERVICE:TYPE): ..."), from "pam_kakao(" on.
pk_lines() {
    tail -n "+$((log_mark + 1))" "$LOG" |
        sed -n 's/^<[0-9]*>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* [^ ]*: \(pam_kakao(.*\)$/\1/p'
}
# sshd -e ends its lines with \r\n.
sshd_lines() { tail -n "+$((sshd_mark + 1))" "$sshd_log" | tr -d '\r'; }

problems=""
problem() { problems="$problems$1"$'\n'; }
# log_is PATTERN...: exactly these pam_kakao lines (in order) since the mark.
log_is() {
    local lines n i=0 flush="pk-e2e-flush-$$-$RANDOM$RANDOM"
    # The client has finished, so every line is queued in the sink's socket
    # already, ahead of this marker: once the sink has written the marker, it
    # has written them all (up to 30 s for a busy machine, then a failure).
    logger -u "$T/dev/log" -- "$flush" 2>/dev/null
    while ! grep -qF -- "$flush" "$LOG"; do
        [ "$i" -ge 300 ] && { problem "syslog sink: marker not written within 30 s"; break; }
        sleep 0.1
        i=$((i + 1))
    done
    lines=$(pk_lines)
    n=$(printf '%s' "$lines" | grep -c '^')
    local want
    want=$(printf '%s\n' "$@")
    [ "$#" -eq 0 ] && want=""
    if [ "$n" -ne "$#" ]; then
        problem "pam_kakao log: want $# line(s) [$want], got [$lines]"
        return
    fi
    local k=1 line
    for pat in "$@"; do
        line=$(printf '%s\n' "$lines" | sed -n "${k}p")
        # shellcheck disable=SC2053
        [[ $line == $pat ]] || problem "pam_kakao log line $k: want '$pat', got '$line'"
        k=$((k + 1))
    done
}
# sshd_logged PATTERN: a line of sshd's own log (-e) since the mark matches.
sshd_logged() {
    local i=0 line
    while :; do
        while IFS= read -r line; do
            # shellcheck disable=SC2053
            [[ $line == $1 ]] && return 0
        done < <(sshd_lines)
        [ "$i" -ge 200 ] && break # 20 s: only a missing line waits this long
        sleep 0.1
        i=$((i + 1))
    done
    problem "sshd log: no line like '$1'"
}
has() { # WHAT TEXT NEEDLE
    case $2 in *"$3"*) ;; *) problem "$1: '$3' missing" ;; esac
}
out_is() { [ "$out" = "$1" ] || problem "stdout: want '$1'"; }
rc_is() { [ "$2" -eq "$3" ] || problem "$1: exit status $2, want $3"; }
rc_not() { [ "$2" -ne "$3" ] || problem "$1: exit status $2, want another"; }
# finish NAME: one PASS/FAIL line for the case, with what went wrong.
finish() {
    if [ -z "$problems" ]; then
        ok "$1"
    else
        bad "$1"
        printf '%s' "$problems" | sed 's/^/    /'
        printf '%s\n' "$out" | head -n 20 | sed 's/^/    stdout| /'
        printf '%s\n' "$err" | head -n 20 | sed 's/^/    stderr| /'
        tail -n "+$((log_mark + 1))" "$LOG" | head -n 20 | sed 's/^/    syslog| /'
        [ "$sshd_log" = /dev/null ] || sshd_lines | head -n 20 | sed 's/^/    sshd| /'
    fi
    problems=""
}

# ----------------------------------------------------------------------- sshd
ssh-keygen -q -t ed25519 -N '' -C pam_kakao-e2e-host -f "$T/ssh_host_ed25519_key" || die "ssh-keygen"
ssh-keygen -q -t ed25519 -N '' -C alice-e2e -f "$T/alice_id" || die "ssh-keygen"
install -d -m 0700 -o 4242 -g 4242 "$T/home/alice/.ssh"
install -m 0600 -o 4242 -g 4242 "$T/alice_id.pub" "$T/home/alice/.ssh/authorized_keys"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_sshd NAME SNIPPET: a real sshd on a free loopback port. Its config is
# the snippet (a copy of pam.d-example/sshd_config) included first, as
# Debian's sshd_config does with sshd_config.d, then Debian's default lines
# that the snippet must win over, then the test's own settings.
# Sets sshd_port and sshd_log.
start_sshd() {
    local name=$1 snippet=$2 cfg="$T/sshd_$1.conf" pidf="$T/sshd_$1.pid" pid
    sshd_log="$T/sshd_$name.log"
    # Another program may take the free port first: three tries.
    for _ in 1 2 3; do
        sshd_port=$(free_port) || return 1
        cat >"$cfg" <<CFG
Include $snippet
# Debian 12's sshd_config lines (the snippet comes first and wins).
KbdInteractiveAuthentication no
UsePAM yes
PrintMotd no
# Test harness: loopback only, its own host key and pid file.
ListenAddress 127.0.0.1
Port $sshd_port
HostKey $T/ssh_host_ed25519_key
PidFile $pidf
PermitRootLogin no
UseDNS no
LogLevel VERBOSE
CFG
        /usr/sbin/sshd -t -f "$cfg" 2>>"$sshd_log" || return 1
        rm -f "$pidf"
        /usr/sbin/sshd -D -e -f "$cfg" </dev/null 2>>"$sshd_log" &
        pid=$!
        if wait_file "$pidf" "$pid"; then
            sshd_pids="$sshd_pids $pid"
            return 0
        fi
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    return 1
}

# sshc USER TOKEN [ssh options]: the real ssh client through sshpass, which
# answers the "Kakao token" prompt; runs a command that shows KAKAO_ID.
# Sets out, err, rc. With sshpass_v=1, sshpass says on stderr when it saw
# the prompt; sshpass_prompt=TEXT answers that prompt instead.
sshc() {
    local user=$1 token=$2
    shift 2
    mark_logs
    # shellcheck disable=SC2016 # $KAKAO_ID is for the remote shell
    out=$(SSHPASS=$token timeout 30 sshpass ${sshpass_v:+-v} -e -P "${sshpass_prompt:-Kakao token}" \
        ssh -F /dev/null -p "$sshd_port" -o StrictHostKeyChecking=no \
        -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null \
        -o ConnectTimeout=10 -o NumberOfPasswordPrompts=1 "$@" \
        "$user@127.0.0.1" 'echo OK; echo KAKAO_ID=$KAKAO_ID' 2>"$T/ssh.err")
    rc=$?
    err=$(cat "$T/ssh.err")
}
KBD=(-o PreferredAuthentications=keyboard-interactive)

# The strict variants of pam.d-example/sshd_config: its Match block for the
# test's users, with one AuthenticationMethods line or the other.
# strict_snippet METHODS: the example with "Match User ..." and that line on.
strict_snippet() {
    sed -e 's/^#Match User alice,bob$/Match User alice,bob,carol,deploy/' \
        -e "s/^#\(    AuthenticationMethods $1\)\$/\1/" "$top/pam.d-example/sshd_config"
}
strict_snippet keyboard-interactive >"$T/sshd_config.kbd"
strict_snippet publickey,keyboard-interactive >"$T/sshd_config.pubkey"
for f in "$T/sshd_config.kbd" "$T/sshd_config.pubkey"; do
    [ "$(grep -c '^[^#]' "$f")" -eq 4 ] || die "no Match block in pam.d-example/sshd_config ($f)"
done

if start_sshd kbd "$T/sshd_config.kbd"; then
    ok "sshd started with pam.d-example/sshd_config, Match block on (port $sshd_port)"
else
    bad "sshd started with pam.d-example/sshd_config, Match block on"
    tail -n 20 "$sshd_log" | sed 's/^/    /'
fi
eff=$(/usr/sbin/sshd -T -C user=alice,host=localhost,addr=127.0.0.1 -f "$T/sshd_kbd.conf" 2>&1)
out="" err=""
has "sshd -T" "$eff" "usepam yes"
has "sshd -T" "$eff" "kbdinteractiveauthentication yes"
has "sshd -T" "$eff" "authenticationmethods keyboard-interactive"
finish "sshd -T -C user=alice: the snippet wins over Debian's KbdInteractiveAuthentication no"

sshc alice "$jwt_alice" "${KBD[@]}"
rc_is ssh $rc 0
out_is "OK"$'\n'"KAKAO_ID=$ALICE_ID"
log_is "pam_kakao(sshd:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
finish "sshd: app JWT accepted, session has KAKAO_ID"

sshc alice "$kakao_alice" "${KBD[@]}"
rc_is ssh $rc 0
out_is "OK"$'\n'"KAKAO_ID=$ALICE_ID"
log_is "pam_kakao(sshd:auth): accepted kakao kakao_id=$ALICE_ID user=alice"
sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
finish "sshd: Kakao access token (mock Kakao API) accepted"

sshc alice "$jwt_expired" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has stderr "$err" "Permission denied (keyboard-interactive)"
log_is "pam_kakao(sshd:auth): rejected jwt for user=alice: expired (exp=[0-9]* now=[0-9]*)"
sshd_logged "Failed keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
finish "sshd: expired app JWT refused"

sshc alice "$jwt_bob" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has stderr "$err" "Permission denied (keyboard-interactive)"
log_is "pam_kakao(sshd:auth): rejected jwt for user=alice: kakao_id not mapped to this user (kakao_id=$BOB_ID)"
finish "sshd: bob's app JWT refused for alice"

sshc bob "$kakao_alice" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
log_is "pam_kakao(sshd:auth): rejected kakao for user=bob: kakao_id not mapped to this user (kakao_id=$ALICE_ID)"
finish "sshd: alice's Kakao access token refused for bob"

# prompt_unmapped=yes in the example: carol is asked like anyone, and refused.
sshpass_v=1 sshc carol "$jwt_alice" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has stderr "$err" "Permission denied (keyboard-interactive)"
has "stderr (sshpass saw the prompt)" "$err" "SSHPASS: detected prompt. Sending password."
log_is "pam_kakao(sshd:auth): no user map entry for user=carol"
finish "sshd: user with no map line asked for a token (prompt_unmapped=yes), then refused"

# deploy has a map line but no account: sshd asks, then hands PAM its own
# "\b\n\r\177INCORRECT" instead of the answer.
sshpass_v=1 sshc deploy "$jwt_alice" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has stderr "$err" "Permission denied (keyboard-interactive)"
has "stderr (sshpass saw the prompt)" "$err" "SSHPASS: detected prompt. Sending password."
log_is "pam_kakao(sshd:auth): rejected token for user=deploy: sshd refused the user (invalid or not allowed; sent its INCORRECT password)"
sshd_logged "Invalid user deploy from 127.0.0.1 port *"
finish "sshd: mapped name without an account, sshd's INCORRECT answer named as such"

sshc alice "$jwt_long" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has "stderr (PAM_ERROR_MSG)" "$err" "The token's signature has the wrong length: it was probably cut off by the client."
log_is "pam_kakao(sshd:auth): rejected jwt for user=alice: signature length wrong, token probably cut off ([0-9]* bytes, expected 32; 1023 bytes: probably cut off by the OpenSSH client)"
finish "sshd: ${#jwt_long}-byte app JWT cut at 1023 by the client, hint shown and logged"

if start_sshd pubkey "$T/sshd_config.pubkey"; then
    ok "sshd started with the publickey,keyboard-interactive variant (port $sshd_port)"
else
    bad "sshd started with the publickey,keyboard-interactive variant"
    tail -n 20 "$sshd_log" | sed 's/^/    /'
fi

sshc alice "$jwt_alice" -i "$T/alice_id" -o IdentitiesOnly=yes \
    -o PreferredAuthentications=publickey,keyboard-interactive
rc_is ssh $rc 0
out_is "OK"$'\n'"KAKAO_ID=$ALICE_ID"
log_is "pam_kakao(sshd:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
sshd_logged "Partial publickey for alice from 127.0.0.1 port * ssh2: ED25519 SHA256:*"
sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
finish "sshd publickey,keyboard-interactive: key and app JWT accepted"

sshc alice "$jwt_alice" "${KBD[@]}"
rc_not ssh $rc 0
out_is ""
has stderr "$err" "Permission denied (publickey)"
log_is
finish "sshd publickey,keyboard-interactive: token without the key refused, never asked"

sshc alice "$jwt_expired" -i "$T/alice_id" -o IdentitiesOnly=yes \
    -o PreferredAuthentications=publickey,keyboard-interactive
rc_not ssh $rc 0
out_is ""
log_is "pam_kakao(sshd:auth): rejected jwt for user=alice: expired (exp=[0-9]* now=[0-9]*)"
sshd_logged "Partial publickey for alice from 127.0.0.1 port * ssh2: ED25519 SHA256:*"
finish "sshd publickey,keyboard-interactive: key and expired app JWT refused"

# ----------------------------------------------------------------------- sudo
sshd_log=/dev/null
# sudo_as UID INPUT [sudo args]: the real setuid sudo run by the test user,
# answers read from stdin (-S), one line each. Sets out, err, rc.
sudo_as() {
    local uid=$1 input=$2
    shift 2
    mark_logs
    out=$(printf '%s\n' "$input" | timeout 30 setpriv --reuid="$uid" --regid="$uid" --clear-groups \
        sudo "$@" 2>"$T/sudo.err")
    rc=$?
    err=$(cat "$T/sudo.err")
}

jwt_fresh=$(mint --kakao-id $ALICE_ID --ttl 300) || die "kakao-pam mint"
sudo_as 4242 "$jwt_fresh" -S id -u
rc_is sudo $rc 0
out_is 0
has "stderr (the module's prompt)" "$err" "Kakao token: "
log_is "pam_kakao(sudo:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
finish "sudo: step-up with a fresh app JWT accepted"

sudo_as 4242 "" -n id -u
rc_not sudo $rc 0
has stderr "$err" "a password is required"
log_is
finish "sudo: nothing cached after a step-up (timestamp_timeout=0), sudo -n refused"

sudo_as 4242 "$kakao_alice" -S id -u
rc_is sudo $rc 0
out_is 0
log_is "pam_kakao(sudo:auth): accepted kakao kakao_id=$ALICE_ID user=alice"
finish "sudo: step-up with a Kakao access token accepted"

# Minted an hour ago, still valid for another hour: too old for max_token_age=300.
jwt_stale=$(faketime -f -1h "$KP" mint --key "$T/keys/hs256.key" --alg HS256 \
    --kakao-id $ALICE_ID --ttl 7200 2>/dev/null) || die "faketime kakao-pam mint"
sudo_as 4242 "$jwt_stale" -S id -u
rc_not sudo $rc 0
out_is ""
log_is "pam_kakao(sudo:auth): rejected jwt for user=alice: authentication too old (iat=[0-9]* now=[0-9]* max_token_age=300)"
finish "sudo: stale app JWT (iat an hour ago) refused by max_token_age=300"

jwt_rs=$("$KP" mint --key "$T/keys/rsa.pem" --alg RS256 --kakao-id $ALICE_ID \
    --iss https://login.example.com/kakao/callback 2>/dev/null) || die "kakao-pam mint RS256"
[ "${#jwt_rs}" -ge 512 ] || die "RS256 token only ${#jwt_rs} bytes"
sudo_as 4242 "$jwt_rs" -S id -u
rc_not sudo $rc 0
out_is ""
has stderr "$err" "sudo: PAM authentication error: Conversation error"
# The first line is libpam's own (pam_prompt), the second the module's verdict.
log_is "pam_kakao(sudo:auth): conversation failed" \
    "pam_kakao(sudo:auth): conversation failed for user=alice: Conversation error (note: sudo refuses answers of 512 bytes or more)"
finish "sudo: ${#jwt_rs}-byte RS256 app JWT refused by sudo itself, hint logged"

# README: "add accept=jwt to the line to allow fresh app JWTs only".
rm -f "$T/etc/pam.d/sudo"
subst "$top/pam.d-example/sudo" | sed 's/^auth .*max_token_age=300$/& accept=jwt/' >"$T/etc/pam.d/sudo"
grep -q 'max_token_age=300 accept=jwt$' "$T/etc/pam.d/sudo" || die "no pam_kakao line with max_token_age=300 in pam.d-example/sudo"
sudo_as 4242 "$kakao_alice" -S id -u
rc_not sudo $rc 0
out_is ""
log_is "pam_kakao(sudo:auth): rejected kakao for user=alice: token kind not accepted (kakao is not in accept)"
finish "sudo with accept=jwt added: Kakao access token refused"

# Token and password: the example's commented "@include common-auth" enabled.
rm -f "$T/etc/pam.d/sudo"
subst "$top/pam.d-example/sudo" | sed 's/^#\(@include common-auth\)$/\1/' >"$T/etc/pam.d/sudo"
grep -q '^@include common-auth$' "$T/etc/pam.d/sudo" || die "no '#@include common-auth' line in pam.d-example/sudo"

jwt_fresh=$(mint --kakao-id $ALICE_ID --ttl 300) || die "kakao-pam mint"
sudo_as 4242 "$jwt_fresh"$'\n'"$ALICE_PW" -S id -u
rc_is sudo $rc 0
out_is 0
has "stderr (the module's prompt)" "$err" "Kakao token: "
has "stderr (sudo's password prompt)" "$err" "[sudo] password for alice: "
log_is "pam_kakao(sudo:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
finish "sudo token and password: fresh app JWT and password accepted"

sudo_as 4242 "$jwt_fresh"$'\n'"not-the-password" -S id -u
rc_not sudo $rc 0
out_is ""
log_is "pam_kakao(sudo:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
finish "sudo token and password: right token, wrong password refused"

sudo_as 4242 "$jwt_stale"$'\n'"$ALICE_PW" -S id -u
rc_not sudo $rc 0
out_is ""
log_is "pam_kakao(sudo:auth): rejected jwt for user=alice: authentication too old (iat=[0-9]* now=[0-9]* max_token_age=300)"
finish "sudo token and password: stale token, right password refused"

# ------------------------------------------------------------------------- su
# util-linux su is setuid root and keeps the caller's environment. libcurl
# would open the file SSLKEYLOGFILE names on its first TLS use, as root: the
# module must refuse before any network call (SECURITY.md, "The caller's
# environment"). bob runs su to alice, answering alice's Kakao access token.
# su_service CONFIG: the test su service, a Kakao access token, nothing else.
su_service() {
    rm -f "$T/etc/pam.d/su"
    cat >"$T/etc/pam.d/su" <<SU
# Test su service (tests/e2e/ns.sh): a Kakao access token, nothing else.
auth     required  $MOD config=$1 accept=kakao
account  required  $MOD config=$1
session  required  pam_permit.so
SU
    chmod 0644 "$T/etc/pam.d/su"
}
su_service "$C/pam_kakao.conf"
# Only root can create files here: a key log that appears was made by su.
mkdir -m 0755 "$T/keylog"
# su_as UID INPUT [env assignments]: the real setuid su, run by the test
# user with the given environment, to alice; runs id -u. Sets out, err, rc
# and mock_before (requests the mock had logged before).
su_as() {
    local uid=$1 input=$2
    shift 2
    mark_logs
    mock_before=$(wc -l <"$T/requests.jsonl")
    out=$(printf '%s\n' "$input" | env "$@" timeout 30 setpriv --reuid="$uid" --regid="$uid" \
        --clear-groups /usr/bin/su alice -c 'id -u' 2>"$T/su.err")
    rc=$?
    err=$(cat "$T/su.err")
}
mock_requests_since() { tail -n "+$((mock_before + 1))" "$T/requests.jsonl" | grep -c '^'; }
# su_accepted NAME: bob's su to alice with alice's Kakao access token, asked
# of the mock once and accepted.
su_accepted() {
    su_as 4243 "$kakao_alice"
    rc_is su $rc 0
    out_is 4242
    log_is "pam_kakao(su:auth): accepted kakao kakao_id=$ALICE_ID user=alice"
    n=$(mock_requests_since)
    [ "$n" -eq 1 ] || problem "the mock Kakao API got $n request(s), want 1"
    finish "$1"
}

[ -u /usr/bin/su ] || die "/usr/bin/su is not setuid"
su_as 4243 "$kakao_alice" SSLKEYLOGFILE="$T/keylog/keys.log"
rc_not su $rc 0
out_is ""
log_is "pam_kakao(su:auth): kakao api unavailable for user=alice: unsafe environment: SSLKEYLOGFILE is set in a setuid process"
[ ! -e "$T/keylog/keys.log" ] || problem "the key log file was created: $(ls -l "$T/keylog/keys.log")"
n=$(mock_requests_since)
[ "$n" -eq 0 ] || problem "the mock Kakao API got $n request(s)"
finish "su with SSLKEYLOGFILE: refused before any network call, no key log written"

su_accepted "su without SSLKEYLOGFILE: the same Kakao access token asked of the mock and accepted"

# ------------------------------------------------------- the system store
# Without ca_file the module trusts the system store through its hashed
# directory, /etc/ssl/certs (never the bundle file in it), and nothing in the
# environment moves it. Two private copies of that directory, bound over it
# in turn: one with the mock's test CA installed as update-ca-certificates
# would (a hashed link made by openssl rehash) and without the bundle file
# ca-certificates.crt (libcurl's default, which would be read whole and
# refused as missing: the module must not need it), one as the host has it.
[ -d /etc/ssl/certs ] || die "no /etc/ssl/certs"
grep -v '^ca_file *=' "$C/pam_kakao.conf" >"$C/system_store.conf"
chmod 0644 "$C/system_store.conf"
grep -q 'ca_file' "$C/system_store.conf" && die "ca_file left in system_store.conf"
su_service "$C/system_store.conf"
cp -a /etc/ssl/certs "$T/ssl_certs_with_ca" || die "copy /etc/ssl/certs"
cp -a /etc/ssl/certs "$T/ssl_certs_without_ca" || die "copy /etc/ssl/certs"
cp "$T/certs/ca.pem" "$T/ssl_certs_with_ca/pam_kakao_e2e_ca.pem" || die "install the test CA"
rm -f "$T/ssl_certs_with_ca/ca-certificates.crt"
openssl rehash "$T/ssl_certs_with_ca" >/dev/null 2>&1
ca_hash=$(openssl x509 -hash -noout -in "$T/certs/ca.pem") || die "openssl x509 -hash"
[ -L "$T/ssl_certs_with_ca/$ca_hash.0" ] || die "openssl rehash made no $ca_hash.0 link"
! grep -qF "$(sed -n 2p "$T/certs/ca.pem")" /etc/ssl/certs/ca-certificates.crt ||
    die "the host's bundle holds the test CA"
# The refusal curl reports for an issuer found nowhere.
no_issuer='TLS: "SSL certificate problem: unable to get local issuer certificate"'

mount --bind "$T/ssl_certs_with_ca" /etc/ssl/certs || die "bind /etc/ssl/certs (with the test CA)"
su_accepted "system store without ca_file: test CA in /etc/ssl/certs (hashed link, no bundle file), Kakao access token accepted"
umount /etc/ssl/certs || die "umount /etc/ssl/certs"

mount --bind "$T/ssl_certs_without_ca" /etc/ssl/certs || die "bind /etc/ssl/certs (without)"
su_as 4243 "$kakao_alice"
rc_not su $rc 0
out_is ""
log_is "pam_kakao(su:auth): kakao api unavailable for user=alice: $no_issuer"
finish "system store without ca_file: unknown CA refused (kakao api unavailable, TLS)"

# Not setuid (OpenSSL's secure_getenv would hide them from su anyway): the
# variables that name other CA locations to OpenSSL, pointing at the test CA.
mark_logs
out=$(SSL_CERT_DIR="$T/ssl_certs_with_ca" SSL_CERT_FILE="$T/certs/ca.pem" \
    CURL_CA_BUNDLE="$T/certs/ca.pem" timeout 30 "$KP" verify --config "$C/system_store.conf" \
    --user alice "$kakao_alice" 2>"$T/verify.err")
rc=$?
err=$(cat "$T/verify.err")
rc_is "kakao-pam verify" $rc 2
out_is "kakao api unavailable for user=alice: $no_issuer"
finish "system store without ca_file: SSL_CERT_DIR, SSL_CERT_FILE, CURL_CA_BUNDLE do not add the test CA"
umount /etc/ssl/certs || die "umount /etc/ssl/certs"

# ------------------------------------------------------------- the relay kind
# shellcheck source=tests/e2e/relay_cases.sh
. "$E2E/relay_cases.sh"
# The Debian package, installed and enabled in this namespace (last: it
# puts overlays over /usr and /var).
. "$E2E/deb_cases.sh"

# ------------------------------------------------------------------- shutdown
pids="$sshd_pids $mock_pid $sink_pid"
stop_all
left=""
for pid in $pids; do
    kill -0 "$pid" 2>/dev/null && left="$left $pid"
done
if [ -z "$left" ] && [ ! -e "$T/sshd_kbd.pid" ] && [ ! -e "$T/sshd_pubkey.pid" ]; then
    ok "sshd, mock Kakao API and syslog sink stopped"
else
    bad "sshd, mock Kakao API and syslog sink stopped (left:$left)"
fi
exit $failed
