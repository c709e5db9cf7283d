#!/bin/bash
# End-to-end tests: a real OpenSSH sshd and ssh client, and a real sudo, log
# in and step up through the built pam_kakao.so with the pam.d-example files
# (paths substituted), app JWTs from kakao-pam mint and Kakao access tokens
# from the mock Kakao API, and relay logins approved on a headless Chromium
# through the real kakao-pam-relay (tests/e2e/relay_cases.sh). The cases (tests/e2e/ns.sh) run inside private
# mount and PID namespaces with test copies of /etc/pam.d, /etc/passwd,
# /etc/group, /etc/shadow and /etc/sudoers bound over the host's; this script
# checks before and after that the host's files are byte-identical and that
# nothing it started is left running.
#
# Usage: tests/e2e/run.sh, as root (make e2e; make check runs it too).
# Prints PASS:/FAIL: lines and "N passed, M failed". As another user it
# prints one "SKIPPED (needs root): ..." line and exits 0: nothing was tested.
# Environment: B=BUILD_DIR (default build), E2E_KEEP=1 keeps the temporary
# directory (logs, configs) for a look, E2E_LIMIT=S changes the 600 s limit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${B:-$top/build}" 2>/dev/null && pwd) || B=${B:-$top/build}
# Seconds for all the cases: they take about 100 (the relay cases, with a
# headless Chromium as the phone, about 10; the Debian package and README
# cases about 60); the rest is room for a busy machine.
LIMIT=${E2E_LIMIT:-600}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED (needs root): the sshd and sudo end-to-end tests need root for a private mount namespace and a real setuid sudo; run 'make e2e' or 'make check' as root (CI does)"
    exit 0
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

missing=""
for tool in /usr/sbin/sshd ssh ssh-keygen sshpass sudo visudo setpriv unshare timeout faketime \
    python3 openssl; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
for f in "$B/pam_kakao.so" "$B/kakao-pam" "$B/kakao-pam-relay" "$B/tests/e2e_qr_text" \
    /usr/bin/chromium; do
    [ -e "$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
    bad "end-to-end prerequisites (missing:$missing; tools/deps.sh check installs the packages, make builds)"
    summary
    exit 1
fi

# What must not change on the host: contents, and owner/mode/type of each entry.
snapshot() {
    local p
    for p in /etc/pam.d /etc/passwd /etc/group /etc/shadow /etc/sudoers /etc/sudoers.d /etc/ssh \
        /etc/ssl $deb_paths; do
        [ -e "$p" ] || { echo "absent $p"; continue; }
        find "$p" -print0 | sort -z | xargs -0 stat -c '%n %F %a %u:%g %s %N'
        find "$p" -type f -print0 | sort -z | xargs -0 sha256sum
    done
}

T=$(mktemp -d /tmp/pam_kakao_e2e.XXXXXX) || exit 1
chmod 0755 "$T"
# "PID COMMAND LINE" of each process whose command line names our temporary
# directory: the sshd listeners, the mock Kakao API, the syslog sink (procps
# may be missing on a minimal system, so no pgrep).
procs_in_tmp() {
    local d cmd
    for d in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
        case $cmd in *"$T"*) echo "${d#/proc/} $cmd" ;; esac
    done
}
kill_leftovers() {
    local pid rest
    procs_in_tmp | while read -r pid rest; do
        kill -KILL "$pid" 2>/dev/null
    done
}
cleanup() {
    kill_leftovers
    rm -rf "$T"
}
if [ -n "${E2E_KEEP:-}" ]; then
    echo "e2e: keeping $T"
    trap kill_leftovers EXIT
else
    trap cleanup EXIT
fi
trap 'exit 1' HUP INT TERM

# tests/e2e/deb_cases.sh installs the Debian package in the namespace: the
# places dpkg and pam-auth-update write must not change on the host either.
# It needs make deb's package (built here when missing).
deb_paths="/etc/security /etc/ld.so.cache /usr/share/pam-configs /var/lib/pam /var/lib/dpkg/status \
    /var/lib/dpkg/info/libpam-kakao.list $(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null |
        sed 's|.*|/lib/&/security|') /usr/bin/kakao-pam /usr/share/doc/libpam-kakao"
deb_version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
if [ ! -f "${DEB_DIR:-$top/build/deb}/libpam-kakao_${deb_version}_$(dpkg --print-architecture).deb" ]; then
    echo "e2e: building the Debian packages (make deb)"
    make -C "$top" --no-print-directory deb >"$T/make_deb.out" 2>&1 || tail -n 20 "$T/make_deb.out"
fi

snapshot >"$T/host.before" 2>&1

start=$(date +%s)
# --kill-child: if unshare is stopped (timeout), its child, PID 1 of the new
# PID namespace, is killed, and with it every process in the namespace.
timeout -k 5 "$LIMIT" unshare -m -p -f --kill-child --mount-proc --propagation private \
    bash "$top/tests/e2e/ns.sh" "$T" "$top" "$B" >"$T/ns.out" 2>&1
rc=$?
took=$(($(date +%s) - start))
while IFS= read -r line; do
    case $line in
    "PASS: "*) ok "${line#PASS: }" ;;
    "FAIL: "*) bad "${line#FAIL: }" ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$T/ns.out"
case $rc in
0) ;;
124 | 137) bad "the cases finished within $LIMIT s (stopped after $took s)" ;;
*) [ "$failed" -gt 0 ] || bad "tests/e2e/ns.sh exited with status $rc" ;;
esac
echo "e2e: the cases took $took s"

snapshot >"$T/host.after" 2>&1
if cmp -s "$T/host.before" "$T/host.after"; then
    ok "host /etc/pam.d, passwd, group, shadow, sudoers, sudoers.d, ssh, ssl, security, pam-configs, /var/lib/pam, dpkg status, PAM module directory unchanged"
else
    bad "host /etc/pam.d, passwd, group, shadow, sudoers, sudoers.d, ssh, ssl, security, pam-configs, /var/lib/pam, dpkg status, PAM module directory unchanged"
    diff "$T/host.before" "$T/host.after" | head -n 20 | sed 's/^/    /'
fi

left=$(procs_in_tmp)
if [ -z "$left" ]; then
    ok "no sshd, mock Kakao API or syslog sink left running"
else
    bad "no sshd, mock Kakao API or syslog sink left running"
    printf '%s\n' "$left" | sed 's/^/    /'
fi

summary
