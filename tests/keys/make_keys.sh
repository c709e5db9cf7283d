#!/bin/sh
# Makes the test suite's keys in DIR with the openssl CLI: HMAC secrets as
# base64 text (the module strips one trailing newline), RSA and EC private
# keys (PEM) with their SPKI public keys. Keys already there are kept, so
# running it again is cheap; each file appears whole or not at all.
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1

command -v openssl >/dev/null 2>&1 || { echo "$0: openssl not found" >&2; exit 1; }

umask 077
mkdir -p -- "$dir"

tmp="$dir/.make_keys.$$"
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# NAME BYTES: BYTES random bytes as one line of base64.
secret() {
    [ -s "$dir/$1" ] && return 0
    openssl rand -base64 "$2" >"$tmp"
    mv -f -- "$tmp" "$dir/$1"
}

# NAME GENPKEY-ARGS...: NAME.pem (private) and NAME.pub.pem (SPKI).
pair() {
    name=$1
    shift
    if [ ! -s "$dir/$name.pem" ]; then
        openssl genpkey -quiet "$@" -out "$tmp"
        mv -f -- "$tmp" "$dir/$name.pem"
    fi
    if [ ! -s "$dir/$name.pub.pem" ]; then
        openssl pkey -in "$dir/$name.pem" -pubout -out "$tmp"
        mv -f -- "$tmp" "$dir/$name.pub.pem"
    fi
}

secret hs256.key 48   # 64 bytes of secret: enough for any HS*
secret hs_short.key 15 # 20 bytes of secret: below the 32-byte minimum

pair rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
pair rsa_other -algorithm RSA -pkeyopt rsa_keygen_bits:2048
pair rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
for curve in 256 384 521; do
    pair "ec$curve" -algorithm EC -pkeyopt "ec_paramgen_curve:P-$curve" \
        -pkeyopt ec_param_enc:named_curve
done

for f in hs256.key hs_short.key rsa rsa_other rsa1024 ec256 ec384 ec521; do
    case $f in
    *.key) chmod 600 -- "$dir/$f" ;;
    *) chmod 600 -- "$dir/$f.pem" "$dir/$f.pub.pem" ;;
    esac
done
