# shellcheck shell=bash disable=SC2154 # T, top, D, ALICE_ID, ...: set by tests/e2e/ns.sh, deb_cases.sh
# README's own install-and-configure commands, run as written, sourced by
# tests/e2e/ns.sh after deb_cases.sh (which leaves /usr and /var overlays
# and a private /etc/security in place, and the package removed again).
#
# The fenced blocks right after a "<!-- readme-test: NAME -->" line in
# README.md, in their order, make one bash script, run with -e from the top
# of the tree as root. Two things differ from a terminal, both outside the
# README's text: `sudo` is a function that runs its command (we are root
# already, and sudo's env_reset would drop the next setting), and
# APT_CONFIG names a file with APT::Get::Upgrade "false", so the README's
# apt-get line installs what is missing (nothing, on a machine that runs
# make check) and never upgrades the host's packages inside the namespace.
# Then: the files it made, the generated common-auth, its verify line, and
# a real sudo by alice with the TOKEN it minted.

readme_script="$D/readme.sh"
{
    echo 'set -e'
    # shellcheck disable=SC2016 # for the generated script
    echo 'sudo() { "$@"; }'
    awk '/^<!-- readme-test: [a-z-]* -->$/ { want = 1; next }
        want && /^```/ { if (inside) { inside = 0; want = 0 } else inside = 1; next }
        inside { print }' "$top/README.md"
    printf '%s\n' "printf '%s\\n' \"\$TOKEN\" >'$D/readme.token'"
} >"$readme_script"
printf 'APT::Get::Upgrade "false";\n' >"$D/apt.conf"
blocks=$(grep -c '^<!-- readme-test: [a-z-]* -->$' "$top/README.md")
rm -f /etc/security/pam_kakao.conf /etc/security/pam_kakao.users /etc/security/pam_kakao.jwt.key

mark_logs
out=$(cd "$top" && APT_CONFIG="$D/apt.conf" DEBIAN_FRONTEND=noninteractive \
    timeout 600 bash "$readme_script" </dev/null 2>"$D/readme.err")
rc=$?
err=$(tail -n 20 "$D/readme.err")
rc_is "README's commands" $rc 0
[ "$blocks" -eq 3 ] || problem "README has $blocks readme-test blocks, want 3 (install, configure, enable)"
has "stdout (kakao-pam verify)" "$out" "accepted jwt kakao_id=$ALICE_ID user=alice"
[ "$(dpkg-query -W -f='${Status}' libpam-kakao 2>/dev/null)" = "install ok installed" ] ||
    problem "libpam-kakao not installed by the README's apt line"
for f in conf:644 users:644 jwt.key:600; do
    st=$(stat -c '%a %U' "/etc/security/pam_kakao.${f%:*}" 2>&1)
    [ "$st" = "${f#*:} root" ] || problem "/etc/security/pam_kakao.${f%:*}: $st, want ${f#*:} root"
done
grep -q '^auth	\[success=2 default=ignore\]	pam_kakao.so config=/etc/security/pam_kakao.conf$' \
    /etc/pam.d/common-auth || problem "common-auth has no pam_kakao line"
finish "README: the marked install, configure and enable blocks run as written (make deb, apt install, key, map, config, kakao-pam check, pam-auth-update, mint, verify)"

token=$(cat "$D/readme.token" 2>/dev/null)
sudo_as 4242 "$token" -S id -u
rc_is sudo $rc 0
out_is 0
has "stderr (the module's prompt)" "$err" "Kakao token: "
log_is "pam_kakao(sudo:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
finish "README: alice's sudo with the TOKEN the README minted, through the enabled profile"

sudo_as 4244 "$CAROL_PW" -S id -u
rc_is sudo $rc 0
out_is 0
log_is "pam_kakao(sudo:auth): no user map entry for user=carol"
finish "README: a user without a map line still uses the password"
