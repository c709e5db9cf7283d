#!/bin/sh
# Installs the Debian packages that `make demo`, `make bench` or `make check`
# need when run as root; otherwise prints the exact apt-get line and fails.
set -eu
what=${1:-check}
build="gcc make pkg-config libpam0g-dev libcurl4-openssl-dev libjansson-dev libjwt-dev libssl-dev openssl libmicrohttpd-dev libqrencode-dev libhiredis-dev"
demo="libpam-wrapper pamtester python3 chromium"
test="libcmocka-dev libpamtest0-dev valgrind faketime curl openssh-server openssh-client sshpass sudo debhelper dpkg-dev fakeroot lintian redis-server"
case "$what" in
  demo) want="$build $demo" ;;
  bench) want="$build $demo redis-server" ;;
  check) want="$build $demo $test" ;;
  list) echo $build $demo $test; exit 0 ;; # the README's line (tests/run.sh compares)
  *) echo "usage: $0 [demo|bench|check|list]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "missing packages; run as root:" >&2
  echo "  apt-get install -y$missing" >&2
  exit 1
fi
