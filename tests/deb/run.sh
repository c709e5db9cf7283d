#!/bin/bash
# The Debian packages (make deb, debian/): builds libpam-kakao and
# kakao-pam-relay from a clean copy of the tree, runs lintian on them (no
# error, no warning: each accepted tag has an override with its reason in
# debian/*.lintian-overrides), and compares each package's file list
# (dpkg-deb -c: mode and path) and its relations with what README
# "Installation" and debian/control promise. tests/e2e installs them.
#
# Usage: tests/deb/run.sh, as root (make check runs it). Prints PASS:/FAIL:
# lines and "N passed, M failed"; as another user one SKIPPED line, exit 0.
# Environment: DEB_DIR (default build/deb), where make deb puts the .debs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
DEB_DIR=${DEB_DIR:-$top/build/deb}
export LC_ALL=C

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIPPED (needs root): the Debian package tests build with dpkg-buildpackage and install into a private namespace; run 'make check' as root (CI does)"
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
for tool in dpkg-buildpackage dh fakeroot lintian dpkg-deb git; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    bad "Debian packaging tools present (missing:$missing; tools/deps.sh check installs them)"
    summary
    exit 1
fi

T=$(mktemp -d /tmp/pam_kakao_deb.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
pam_deb="$DEB_DIR/libpam-kakao_${version}_$arch.deb"
relay_deb="$DEB_DIR/kakao-pam-relay_${version}_$arch.deb"

if timeout 600 make -C "$top" --no-print-directory DEB_DIR="$DEB_DIR" deb >"$T/make.out" 2>&1 &&
    [ -f "$pam_deb" ] && [ -f "$relay_deb" ]; then
    ok "make deb: libpam-kakao and kakao-pam-relay $version ($arch) built by dpkg-buildpackage -us -uc -b"
else
    bad "make deb: libpam-kakao and kakao-pam-relay $version ($arch) built by dpkg-buildpackage -us -uc -b"
    tail -n 30 "$T/make.out" | sed 's/^/    /'
    summary
    exit 1
fi

# lintian: its exit status fails on errors and warnings (--fail-on), and
# every tag it prints (info and pedantic ones too) is shown.
if timeout 300 lintian --pedantic -I --fail-on error,warning "$DEB_DIR"/*.changes >"$T/lintian.out" 2>&1; then
    tags=$(grep -v '^running with root privileges' "$T/lintian.out")
    if [ -z "$tags" ]; then
        ok "lintian --pedantic -I: no tag at all (overrides: debian/*.lintian-overrides)"
    else
        ok "lintian: no error or warning (info and pedantic tags below)"
        printf '%s\n' "$tags" | sed 's/^/    /'
    fi
else
    bad "lintian: no error or warning"
    sed 's/^/    /' "$T/lintian.out" | head -n 40
fi

# contents DEB: "MODE PATH" for each entry, sorted.
contents() { dpkg-deb -c "$1" | awk '{ print $1, $6 }' | sort -k2; }
# same_list NAME WANT_FILE GOT_FILE
same_list() {
    if diff -u "$2" "$3" >"$T/diff.out"; then
        ok "$1"
    else
        bad "$1"
        sed 's/^/    /' "$T/diff.out" | head -n 40
    fi
}

sort -k2 >"$T/pam.want" <<LIST
drwxr-xr-x ./
drwxr-xr-x ./lib/
drwxr-xr-x ./lib/$multiarch/
drwxr-xr-x ./lib/$multiarch/security/
-rw-r--r-- ./lib/$multiarch/security/pam_kakao.so
drwxr-xr-x ./usr/
drwxr-xr-x ./usr/bin/
-rwxr-xr-x ./usr/bin/kakao-pam
drwxr-xr-x ./usr/share/
drwxr-xr-x ./usr/share/doc/
drwxr-xr-x ./usr/share/doc/libpam-kakao/
-rw-r--r-- ./usr/share/doc/libpam-kakao/changelog.gz
-rw-r--r-- ./usr/share/doc/libpam-kakao/copyright
drwxr-xr-x ./usr/share/doc/libpam-kakao/examples/
$(cd "$top/pam.d-example" && for f in *; do echo "-rw-r--r-- ./usr/share/doc/libpam-kakao/examples/$f"; done)
drwxr-xr-x ./usr/share/lintian/
drwxr-xr-x ./usr/share/lintian/overrides/
-rw-r--r-- ./usr/share/lintian/overrides/libpam-kakao
drwxr-xr-x ./usr/share/man/
drwxr-xr-x ./usr/share/man/man1/
-rw-r--r-- ./usr/share/man/man1/kakao-pam.1.gz
drwxr-xr-x ./usr/share/man/man5/
-rw-r--r-- ./usr/share/man/man5/pam_kakao.conf.5.gz
drwxr-xr-x ./usr/share/man/man8/
-rw-r--r-- ./usr/share/man/man8/pam_kakao.8.gz
drwxr-xr-x ./usr/share/pam-configs/
-rw-r--r-- ./usr/share/pam-configs/kakao
LIST
contents "$pam_deb" >"$T/pam.got"
same_list "dpkg-deb -c libpam-kakao: the module in /lib/$multiarch/security, kakao-pam, 3 man pages, the profile, the examples, nothing else" \
    "$T/pam.want" "$T/pam.got"

sort -k2 >"$T/relay.want" <<LIST
drwxr-xr-x ./
drwxr-xr-x ./etc/
drwxr-xr-x ./etc/kakao-pam/
-rw-r--r-- ./etc/kakao-pam/relay.conf.example
drwxr-xr-x ./lib/
drwxr-xr-x ./lib/systemd/
drwxr-xr-x ./lib/systemd/system/
-rw-r--r-- ./lib/systemd/system/kakao-pam-relay.service
drwxr-xr-x ./usr/
drwxr-xr-x ./usr/lib/
drwxr-xr-x ./usr/lib/sysusers.d/
-rw-r--r-- ./usr/lib/sysusers.d/kakao-pam-relay.conf
drwxr-xr-x ./usr/sbin/
-rwxr-xr-x ./usr/sbin/kakao-pam-relay
drwxr-xr-x ./usr/share/
drwxr-xr-x ./usr/share/doc/
drwxr-xr-x ./usr/share/doc/kakao-pam-relay/
-rw-r--r-- ./usr/share/doc/kakao-pam-relay/changelog.gz
-rw-r--r-- ./usr/share/doc/kakao-pam-relay/copyright
drwxr-xr-x ./usr/share/lintian/
drwxr-xr-x ./usr/share/lintian/overrides/
-rw-r--r-- ./usr/share/lintian/overrides/kakao-pam-relay
drwxr-xr-x ./usr/share/man/
drwxr-xr-x ./usr/share/man/man8/
-rw-r--r-- ./usr/share/man/man8/kakao-pam-relay.8.gz
LIST
contents "$relay_deb" >"$T/relay.got"
same_list "dpkg-deb -c kakao-pam-relay: daemon, man page, systemd unit, sysusers.d file, relay.conf.example, nothing else" \
    "$T/relay.want" "$T/relay.got"

# The shipped files are the tree's own.
{ dpkg-deb -x "$pam_deb" "$T/pam" && dpkg-deb -x "$relay_deb" "$T/relay"; } || bad "dpkg-deb -x"
problems=""
cmp -s "$T/pam/usr/share/pam-configs/kakao" "$top/debian/pam-configs/kakao" ||
    problems="$problems profile"
for f in "$top"/pam.d-example/*; do
    cmp -s "$f" "$T/pam/usr/share/doc/libpam-kakao/examples/$(basename "$f")" ||
        problems="$problems examples/$(basename "$f")"
done
cmp -s "$T/relay/lib/systemd/system/kakao-pam-relay.service" "$top/relay/kakao-pam-relay.service" ||
    problems="$problems unit"
cmp -s "$T/relay/usr/lib/sysusers.d/kakao-pam-relay.conf" "$top/relay/sysusers.conf" ||
    problems="$problems sysusers"
cmp -s "$T/relay/etc/kakao-pam/relay.conf.example" "$top/relay/relay.conf.example" ||
    problems="$problems relay.conf.example"
grep -qx 'ConditionPathExists=/etc/kakao-pam/relay.conf' \
    "$T/relay/lib/systemd/system/kakao-pam-relay.service" || problems="$problems ConditionPathExists"
grep -qx 'User=kakao-pam-relay' "$T/relay/lib/systemd/system/kakao-pam-relay.service" ||
    problems="$problems User="
if [ -z "$problems" ]; then
    ok "shipped profile, examples, unit (ConditionPathExists=/etc/kakao-pam/relay.conf), sysusers.d file and relay.conf.example are the tree's"
else
    bad "shipped profile, examples, unit, sysusers.d file and relay.conf.example are the tree's (differ:$problems)"
fi

# Exported symbols of the packaged module: pam_sm_* only.
syms=$(nm -D --defined-only "$T/pam/lib/$multiarch/security/pam_kakao.so" | awk '{ print $3 }' | sort | tr '\n' ' ')
if [ "$syms" = "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred " ]; then
    ok "packaged pam_kakao.so exports pam_sm_acct_mgmt, pam_sm_authenticate, pam_sm_setcred only"
else
    bad "packaged pam_kakao.so exports pam_sm_* only (got: $syms)"
fi

# field DEB NAME: one control field.
field() { dpkg-deb -f "$1" "$2"; }
# has_rel WHAT LIST ITEM: ITEM is one of the comma-separated relations.
rel_problems=""
has_rel() {
    case ", $2, " in *", $3, "*) ;; *) rel_problems="$rel_problems $1 lacks '$3';" ;; esac
}
pd=$(field "$pam_deb" Depends)
has_rel "libpam-kakao Depends" "$pd" libpam-runtime
has_rel "libpam-kakao Depends" "$pd" libcurl4
for lib in libjansson4 libjwt0 libssl3 libpam0g; do
    case $pd in *"$lib ("*) ;; *) rel_problems="$rel_problems libpam-kakao Depends lacks $lib (shlibs);" ;; esac
done
has_rel "libpam-kakao Recommends" "$(field "$pam_deb" Recommends)" libqrencode4
has_rel "libpam-kakao Recommends" "$(field "$pam_deb" Recommends)" libhiredis0.14
rd=$(field "$relay_deb" Depends)
has_rel "kakao-pam-relay Depends" "$rd" libcurl4
has_rel "kakao-pam-relay Depends" "$rd" "systemd | systemd-standalone-sysusers | systemd-sysusers"
case $rd in *"libmicrohttpd12 ("*) ;; *) rel_problems="$rel_problems kakao-pam-relay Depends lacks libmicrohttpd12 (shlibs);" ;; esac
has_rel "kakao-pam-relay Recommends" "$(field "$relay_deb" Recommends)" libhiredis0.14
if [ -z "$rel_problems" ]; then
    ok "relations: libcurl4 Depends (loaded by path, not linked), libqrencode4 and libhiredis0.14 Recommends, shlibs for the linked libraries"
else
    bad "relations:$rel_problems"
    echo "    libpam-kakao Depends: $pd"
    echo "    kakao-pam-relay Depends: $rd"
fi

# Maintainer scripts: the profile registered on configure, taken out on
# removal only (prerm "upgrade" keeps the administrator's choice).
dpkg-deb -e "$pam_deb" "$T/pam.ctl" || bad "dpkg-deb -e"
sprob=""
grep -q '^    pam-auth-update --package$' "$T/pam.ctl/postinst" || sprob="$sprob postinst;"
# shellcheck disable=SC2016 # the script's own text
grep -q '^if \[ "\$1" = "remove" \]; then$' "$T/pam.ctl/prerm" || sprob="$sprob prerm condition;"
grep -q '^    pam-auth-update --package --remove kakao$' "$T/pam.ctl/prerm" || sprob="$sprob prerm;"
if [ -z "$sprob" ]; then
    ok "maintainer scripts: postinst pam-auth-update --package; prerm --remove kakao on remove only"
else
    bad "maintainer scripts:$sprob"
fi

summary
