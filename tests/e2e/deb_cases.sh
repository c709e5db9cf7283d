# shellcheck shell=bash disable=SC2154 # T, top, C, jwt_*, sshd_* ...: set by tests/e2e/ns.sh
# The Debian package installed and enabled as an administrator would
# (README "Installation"), sourced by tests/e2e/ns.sh after its own cases:
# its namespaces, test accounts, syslog sink, mock Kakao API and helpers
# (start_sshd, sshc, sudo_as, log_is, finish, ...) are in place.
#
# `dpkg -i libpam-kakao_*.deb` (built by make deb) into this mount namespace:
# /usr and /var are overlays whose upper layers live in $T (the package's
# files, the dpkg database, pam-auth-update's state in /var/lib/pam, man-db's
# cache), /etc/pam.d is ns.sh's copy and /etc/security a copy of our own, so
# nothing reaches the host (tests/e2e/run.sh compares snapshots). Then
# `pam-auth-update --enable kakao`, the generated common-auth shown and
# checked, and Debian's own /etc/pam.d/sshd and /etc/pam.d/sudo
# (pam.d-example/sshd-token-only and sudo with the pam_kakao line put back
# to "@include common-auth") through the installed module: token for mapped users, the
# password for everyone else and whenever the token is refused or the config
# is broken or missing; then --disable, an upgrade, and dpkg -r, each with
# common-auth checked. kakao-pam-relay goes into a root directory of its
# own with dpkg --root.

DEB_DIR=${DEB_DIR:-$top/build/deb}
deb_version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
pam_deb="$DEB_DIR/libpam-kakao_${deb_version}_$(dpkg --print-architecture).deb"
pamdir=/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security
D="$T/deb"
CAROL_PW='carol-e2e-password'
ROOT_PW='root-e2e-password'

# deb_setup: the overlays and copies; returns 1 (after a FAIL line) if any
# step fails, and the package cases are then skipped.
deb_setup() {
    [ -f "$pam_deb" ] || { bad "deb: $pam_deb exists (make deb builds it)"; return 1; }
    mkdir -p "$D" || return 1
    local d
    for d in usr var; do
        mkdir -p "$D/ovl/$d/up" "$D/ovl/$d/work" || return 1
        mount -t overlay "pam_kakao_e2e_$d" \
            -o "lowerdir=/$d,upperdir=$D/ovl/$d/up,workdir=$D/ovl/$d/work" "/$d" ||
            { bad "deb: overlay over /$d"; return 1; }
    done
    # man-db's dpkg trigger would rebuild its cache on every dpkg run here
    # (seconds each); its switch is in /var, private now.
    rm -f /var/lib/man-db/auto-update
    if ! { cp -a /etc/security "$T/etc/security" && mount --bind "$T/etc/security" /etc/security; }; then
        bad "deb: copy of /etc/security"
        return 1
    fi
    # Passwords for carol (no map line) and root; carol may use sudo. In
    # place: the copies are bind mounts, a new inode would not be seen.
    local carol_hash root_hash
    carol_hash=$(openssl passwd -6 "$CAROL_PW") && root_hash=$(openssl passwd -6 "$ROOT_PW") ||
        return 1
    sed -e "s|^carol:[^:]*:|carol:$carol_hash:|" -e "s|^root:[^:]*:|root:$root_hash:|" \
        "$T/etc/shadow" >"$D/shadow" && cat "$D/shadow" >"$T/etc/shadow" || return 1
    echo 'carol   ALL=(ALL:ALL) ALL' >>"$T/etc/sudoers"
    visudo -c -q -f /etc/sudoers || { bad "deb: visudo -c"; return 1; }
    # Debian's own sshd and sudo services: the token-only examples with the
    # pam_kakao line put back to "@include common-auth".
    rm -f "$T/etc/pam.d/sshd" "$T/etc/pam.d/sudo"
    sed 's|^auth .*pam_kakao\.so.*$|@include common-auth|' "$top/pam.d-example/sshd-token-only" \
        >"$T/etc/pam.d/sshd" &&
        sed 's|^auth .*pam_kakao\.so.*$|@include common-auth|' "$top/pam.d-example/sudo" \
            >"$T/etc/pam.d/sudo" && chmod 0644 "$T/etc/pam.d/sshd" "$T/etc/pam.d/sudo" || return 1
    grep -q '^[^#]*pam_kakao' /etc/pam.d/sshd /etc/pam.d/sudo && { bad "deb: stock sshd/sudo"; return 1; }
    cp /etc/pam.d/common-auth "$D/common-auth.before" || return 1
    return 0
}

# common_auth_lines: the rules of /etc/pam.d/common-auth, comments dropped,
# blanks squeezed to one space.
common_auth_lines() { grep -v -e '^#' -e '^$' /etc/pam.d/common-auth | tr -s ' \t' ' '; }
show_common_auth() { sed -e '/^#/d' -e '/^$/d' -e 's/^/    common-auth| /' /etc/pam.d/common-auth; }
same_common_auth() { # NAME
    if cmp -s /etc/pam.d/common-auth "$D/common-auth.before"; then
        ok "$1"
    else
        bad "$1"
        diff "$D/common-auth.before" /etc/pam.d/common-auth | sed 's/^/    /'
    fi
}

# The pam_kakao.conf of ns.sh (test user map and key, the mock Kakao API)
# as /etc/security/pam_kakao.conf, which the profile names.
conf_good() { install -m 0644 -o root "$C/pam_kakao.conf" /etc/security/pam_kakao.conf; }

# sshc_pw USER PASSWORD: the ssh client answering "Password:" prompts (pam_unix).
sshc_pw() { sshpass_prompt=Password sshpass_v=1 sshc "$1" "$2" "${KBD[@]}"; }
lacks() { # WHAT TEXT NEEDLE
    case $2 in *"$3"*) problem "$1: '$3' present" ;; esac
}

if deb_setup; then
    # ------------------------------------------------------------ install
    mark_logs
    out=$(dpkg -i "$pam_deb" 2>&1)
    rc=$?
    err=""
    rc_is "dpkg -i" $rc 0
    [ "$(dpkg-query -W -f='${Status}' libpam-kakao 2>/dev/null)" = "install ok installed" ] ||
        problem "dpkg-query: libpam-kakao not installed"
    for f in "$pamdir/pam_kakao.so" /usr/bin/kakao-pam /usr/share/pam-configs/kakao \
        /usr/share/doc/libpam-kakao/examples/sshd_config; do
        [ -f "$f" ] || problem "$f missing"
    done
    cmp -s /etc/pam.d/common-auth "$D/common-auth.before" ||
        problem "common-auth changed by the install (the profile has Default: no)"
    finish "deb: dpkg -i libpam-kakao: installed in $pamdir, postinst leaves common-auth as it was (Default: no)"

    # -------------------------------------------------------------- enable
    out=$(pam-auth-update --enable kakao 2>&1)
    rc=$?
    rc_is "pam-auth-update --enable kakao" $rc 0
    echo "    pam-auth-update --enable kakao; the generated /etc/pam.d/common-auth:"
    show_common_auth
    # The profile first (Priority 320 > pam_unix's 256): a successful token
    # jumps over pam_unix and pam_deny (success=2) to pam_permit; anything else (refused,
    # no map line, config broken or missing) is ignored, and pam_unix asks for
    # the password exactly as before.
    want=$(printf '%s\n' \
        'auth [success=2 default=ignore] pam_kakao.so config=/etc/security/pam_kakao.conf' \
        "$(grep -v -e '^#' -e '^$' "$D/common-auth.before" | tr -s ' \t' ' ' |
            sed 's/^auth \[success=1 default=ignore\] pam_unix.so nullok$/& try_first_pass/')")
    got=$(common_auth_lines)
    [ "$got" = "$want" ] || problem "common-auth: want [$want], got [$got]"
    grep -qx kakao /var/lib/pam/seen || problem "/var/lib/pam/seen lacks kakao"
    finish "deb: pam-auth-update --enable kakao: pam_kakao before pam_unix, [success=N default=ignore]"

    conf_good
    # sshd: the shipped drop-in as README "With sshd" installs it; root may
    # log in with its password here (Debian's default is keys only).
    printf 'PermitRootLogin yes\nInclude %s\n' /usr/share/doc/libpam-kakao/examples/sshd_config \
        >"$D/sshd_config"
    if start_sshd deb "$D/sshd_config"; then
        ok "deb: sshd started with the installed examples/sshd_config (port $sshd_port)"
    else
        bad "deb: sshd started with the installed examples/sshd_config"
        tail -n 20 "$sshd_log" | sed 's/^/    /'
    fi

    sshc alice "$jwt_alice" "${KBD[@]}"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID=$ALICE_ID"
    log_is "pam_kakao(sshd:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
    sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
    finish "deb sshd: mapped user logs in with an app JWT alone (installed module, generated common-auth)"

    sshc_pw carol "$CAROL_PW"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is "pam_kakao(sshd:auth): no user map entry for user=carol"
    sshd_logged "Accepted keyboard-interactive/pam for carol from 127.0.0.1 port * ssh2"
    finish "deb sshd: user without a map line is not asked for a token and logs in with the password"

    sshc_pw root "$ROOT_PW"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is "pam_kakao(sshd:auth): no user map entry for user=root"
    sshd_logged "Accepted keyboard-interactive/pam for root from 127.0.0.1 port * ssh2"
    finish "deb sshd: root logs in with its password"

    # A broken config: the module refuses before any prompt, pam_unix asks.
    printf 'user_map = /etc/security/pam_kakao.users\ntimout = 5\n' >/etc/security/pam_kakao.conf
    # sshc_pw answers "Password:" only: a token prompt would not be answered.
    sshc_pw alice "$jwt_alice"
    rc_not ssh $rc 0
    out_is ""
    has stderr "$err" "Permission denied"
    log_is "pam_kakao(sshd:auth): config error: /etc/security/pam_kakao.conf:2: unknown key \"timout\""
    finish "deb sshd, broken config: no token prompt, a valid token at the password prompt refused"

    sshc_pw alice "$ALICE_PW"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is "pam_kakao(sshd:auth): config error: /etc/security/pam_kakao.conf:2: unknown key \"timout\""
    sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
    finish "deb sshd, broken config: the password still works"

    # ---------------------------------------------------------------- sudo
    conf_good
    jwt_fresh=$(mint --kakao-id "$ALICE_ID") || problem "kakao-pam mint"
    sudo_as 4242 "$jwt_fresh" -S id -u
    rc_is sudo $rc 0
    out_is 0
    has "stderr (the module's prompt)" "$err" "Kakao token: "
    lacks "stderr (no password prompt)" "$err" "password for alice"
    log_is "pam_kakao(sudo:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
    finish "deb sudo: mapped user with a token alone"

    sudo_as 4242 "$jwt_expired"$'\n'"$ALICE_PW" -S id -u
    rc_is sudo $rc 0
    out_is 0
    has "stderr (the module's prompt)" "$err" "Kakao token: "
    has "stderr (then pam_unix's)" "$err" "[sudo] password for alice: "
    log_is "pam_kakao(sudo:auth): rejected jwt for user=alice: expired (exp=[0-9]* now=[0-9]*)"
    finish "deb sudo: refused token falls back to the password"

    sudo_as 4242 "$jwt_expired"$'\n'"not-the-password" -S id -u
    rc_not sudo $rc 0
    out_is ""
    log_is "pam_kakao(sudo:auth): rejected jwt for user=alice: expired (exp=[0-9]* now=[0-9]*)"
    finish "deb sudo: refused token and wrong password refused"

    sudo_as 4244 "$CAROL_PW" -S id -u
    rc_is sudo $rc 0
    out_is 0
    lacks "stderr (no token prompt)" "$err" "Kakao token"
    has "stderr (pam_unix's prompt)" "$err" "[sudo] password for carol: "
    log_is "pam_kakao(sudo:auth): no user map entry for user=carol"
    finish "deb sudo: user without a map line asked for the password only"

    rm -f /etc/security/pam_kakao.conf
    sudo_as 4242 "$jwt_fresh" -S id -u
    rc_not sudo $rc 0
    out_is ""
    lacks "stderr (no token prompt)" "$err" "Kakao token"
    log_is "pam_kakao(sudo:auth): config error: /etc/security/pam_kakao.conf: does not exist"
    finish "deb sudo, config missing: a valid token typed at the password prompt is refused"

    sudo_as 4242 "$ALICE_PW" -S id -u
    rc_is sudo $rc 0
    out_is 0
    log_is "pam_kakao(sudo:auth): config error: /etc/security/pam_kakao.conf: does not exist"
    finish "deb sudo, config missing: the password still works"

    # ----------------------------------------- disable, upgrade, remove
    out=$(pam-auth-update --disable kakao 2>&1) || bad "deb: pam-auth-update --disable kakao: $out"
    same_common_auth "deb: pam-auth-update --disable kakao: common-auth back as it was"

    pam-auth-update --enable kakao >/dev/null 2>&1 || bad "deb: pam-auth-update --enable kakao again"
    enabled=$(common_auth_lines)
    out=$(dpkg -i "$pam_deb" 2>&1) || bad "deb: dpkg -i again (upgrade): $out"
    if [ "$(common_auth_lines)" = "$enabled" ]; then
        ok "deb: reinstall/upgrade (prerm upgrade) keeps the profile enabled"
    else
        bad "deb: reinstall/upgrade (prerm upgrade) keeps the profile enabled"
        show_common_auth
    fi

    out=$(dpkg -r libpam-kakao 2>&1)
    rc=$?
    rc_is "dpkg -r" $rc 0
    for f in "$pamdir/pam_kakao.so" /usr/bin/kakao-pam /usr/share/pam-configs/kakao; do
        [ ! -e "$f" ] || problem "$f left after dpkg -r"
    done
    cmp -s /etc/pam.d/common-auth "$D/common-auth.before" || problem "common-auth differs"
    finish "deb: dpkg -r libpam-kakao: prerm takes the profile out, common-auth back as it was"
    show_common_auth

    sudo_as 4242 "$ALICE_PW" -S id -u
    rc_is sudo $rc 0
    out_is 0
    log_is
    finish "deb sudo after removal: the password, and no pam_kakao line logged"

    # ------------------- the make install route: the shipped safe examples
    # pam.d-example/sshd (token or password) and pam.d-example/sshd_config
    # as shipped (no AuthenticationMethods for anyone), the built module.
    rm -f "$T/etc/pam.d/sshd"
    subst "$top/pam.d-example/sshd" >"$T/etc/pam.d/sshd" && chmod 0644 "$T/etc/pam.d/sshd"
    ssh-keygen -q -t ed25519 -N '' -C carol-e2e -f "$T/carol_id" || problem "ssh-keygen"
    install -d -m 0700 -o 4244 -g 4244 "$T/home/carol/.ssh"
    install -m 0600 -o 4244 -g 4244 "$T/carol_id.pub" "$T/home/carol/.ssh/authorized_keys"
    printf 'PermitRootLogin yes\nInclude %s\n' "$top/pam.d-example/sshd_config" >"$D/sshd_safe"
    if start_sshd safe "$D/sshd_safe"; then
        ok "examples: sshd started with pam.d-example/sshd_config as shipped (port $sshd_port)"
    else
        bad "examples: sshd started with pam.d-example/sshd_config as shipped"
        tail -n 20 "$sshd_log" | sed 's/^/    /'
    fi
    out="" err=""
    for who in alice carol root; do
        eff=$(/usr/sbin/sshd -T -C "user=$who,host=localhost,addr=127.0.0.1" -f "$T/sshd_safe.conf" 2>&1)
        has "sshd -T -C user=$who" "$eff" "authenticationmethods any"
        has "sshd -T -C user=$who" "$eff" "kbdinteractiveauthentication yes"
        has "sshd -T -C user=$who" "$eff" "pubkeyauthentication yes"
    done
    finish "examples: sshd -T: no AuthenticationMethods for anyone, keys and keyboard-interactive on"

    sshc alice "$jwt_alice" "${KBD[@]}"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID=$ALICE_ID"
    log_is "pam_kakao(sshd:auth): accepted jwt kakao_id=$ALICE_ID user=alice"
    sshd_logged "Accepted keyboard-interactive/pam for alice from 127.0.0.1 port * ssh2"
    finish "examples sshd: mapped user logs in with an app JWT"

    sshc carol "" -i "$T/carol_id" -o IdentitiesOnly=yes -o PreferredAuthentications=publickey
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is
    sshd_logged "Accepted publickey for carol from 127.0.0.1 port * ssh2: ED25519 SHA256:*"
    finish "examples sshd: key-only admin logs in with the key, never asked for a token"

    sshc_pw root "$ROOT_PW"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is "pam_kakao(sshd:auth): no user map entry for user=root"
    sshd_logged "Accepted keyboard-interactive/pam for root from 127.0.0.1 port * ssh2"
    finish "examples sshd: root logs in with its password"

    sshc_pw carol "$CAROL_PW"
    rc_is ssh $rc 0
    out_is "OK"$'\n'"KAKAO_ID="
    log_is "pam_kakao(sshd:auth): no user map entry for user=carol"
    finish "examples sshd: user without a map line logs in with the password"

    # ------------------------------------------------------ kakao-pam-relay
    # Into a root directory of its own (dpkg --root, maintainer scripts run
    # here with DPKG_ROOT set, which systemd-sysusers and deb-systemd-helper
    # honour); the empty /run of this namespace has no systemd to start it.
    relay_deb="$DEB_DIR/kakao-pam-relay_${deb_version}_$(dpkg --print-architecture).deb"
    R="$D/relayroot"
    if ! { mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc" &&
        : >"$R/var/lib/dpkg/status"; }; then
        problem "mkdir $R"
    fi
    out=$(dpkg --root="$R" --force-script-chrootless --force-depends -i "$relay_deb" 2>&1)
    rc=$?
    err=""
    rc_is "dpkg --root -i kakao-pam-relay" $rc 0
    [ -x "$R/usr/sbin/kakao-pam-relay" ] || problem "no $R/usr/sbin/kakao-pam-relay"
    grep -qx '/etc/kakao-pam/relay.conf.example [0-9a-f]*' <(dpkg-query --root="$R" -W \
        -f='${Conffiles}\n' kakao-pam-relay | sed 's/^ //') || problem "relay.conf.example not a conffile"
    [ ! -e "$R/etc/kakao-pam/relay.conf" ] || problem "relay.conf made by the package"
    user=$(grep '^kakao-pam-relay:' "$R/etc/passwd")
    case $user in
    "kakao-pam-relay:x:"[0-9]*":"[0-9]*":pam_kakao login relay (kakao-pam-relay):/nonexistent:/usr/sbin/nologin") ;;
    *) problem "system user: '$user'" ;;
    esac
    uid=$(printf '%s' "$user" | cut -d: -f3)
    [ "${uid:-1000}" -lt 1000 ] || problem "uid '$uid' is not a system uid"
    [ -L "$R/etc/systemd/system/multi-user.target.wants/kakao-pam-relay.service" ] ||
        problem "unit not enabled (no multi-user.target.wants link)"
    finish "deb: dpkg --root -i kakao-pam-relay: daemon, conffile relay.conf.example (no relay.conf), system user kakao-pam-relay (uid $uid, nologin), unit enabled"

    # README "Installation" and "Configuration", run as written.
    . "$E2E/readme_cases.sh"
fi
