#!/bin/bash
# make_certs.sh DIR -- test PKI for the mock Kakao API (tests/mock/README.md).
#
# Creates in DIR:
#   ca.pem, ca.key           test CA (the one tests trust via ca_file / --cacert)
#   server.pem, server.key   server cert signed by the test CA
#   rogue-ca.pem             a second, untrusted CA
#   rogue.pem, rogue.key     server cert with the same SANs, signed by the rogue CA
# Server certs: EC P-256, SAN DNS:localhost + IP:127.0.0.1, valid 2 days.
# Keys are 0600, certificates 0644.
#
# Idempotent: when a complete, consistent set exists whose server certs are
# valid for at least 6 more hours, nothing is touched. Otherwise the whole set
# is regenerated. Quiet on success; non-zero exit with a message on failure.
set -u

prog=make_certs.sh
die() { echo "$prog: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: $prog DIR" >&2; exit 2; }
dir=$1
command -v openssl >/dev/null 2>&1 || die "openssl not found"
mkdir -p -- "$dir" 2>/dev/null || die "cannot create $dir"
[ -d "$dir" ] && [ -w "$dir" ] || die "$dir is not a writable directory"

# Serialise concurrent runs on the same DIR (lock on the directory itself, so
# no lock file is left behind).
if command -v flock >/dev/null 2>&1; then
    exec 9<"$dir" || die "cannot open $dir"
    flock -w 60 9 || die "timed out waiting for the lock on $dir"
fi

FILES="ca.pem ca.key server.pem server.key rogue-ca.pem rogue.pem rogue.key"

same_key() { # cert key
    a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
    [ -n "$a" ] && [ "$a" = "$b" ]
}

is_fresh() {
    for f in $FILES; do [ -f "$dir/$f" ] || return 1; done
    openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1 || return 1
    openssl verify -CAfile "$dir/rogue-ca.pem" "$dir/rogue.pem" >/dev/null 2>&1 || return 1
    # The rogue cert must not chain to the trusted test CA.
    if openssl verify -CAfile "$dir/ca.pem" "$dir/rogue.pem" >/dev/null 2>&1; then return 1; fi
    openssl x509 -in "$dir/server.pem" -noout -checkend 21600 >/dev/null 2>&1 || return 1
    openssl x509 -in "$dir/rogue.pem" -noout -checkend 21600 >/dev/null 2>&1 || return 1
    same_key "$dir/server.pem" "$dir/server.key" || return 1
    same_key "$dir/rogue.pem" "$dir/rogue.key" || return 1
    same_key "$dir/ca.pem" "$dir/ca.key" || return 1
    return 0
}

fix_modes() {
    chmod 0600 "$dir/ca.key" "$dir/server.key" "$dir/rogue.key" &&
        chmod 0644 "$dir/ca.pem" "$dir/server.pem" "$dir/rogue-ca.pem" "$dir/rogue.pem"
}

if is_fresh; then
    fix_modes || die "cannot set file modes in $dir"
    exit 0
fi

umask 077
work=$(mktemp -d "$dir/.make_certs.XXXXXX") || die "cannot create a temporary directory in $dir"
trap 'rm -rf -- "$work"' EXIT
log=$work/openssl.log

cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_srv]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF

run() { # run openssl quietly, keep its output for the error message
    if ! openssl "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        die "openssl $1 failed"
    fi
}

newkey() { run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

newca() { # key cert CN
    newkey "$1"
    run req -new -x509 -config "$work/openssl.cnf" -key "$1" -subj "/CN=$3" \
        -days 30 -sha256 -extensions v3_ca -out "$2"
}

newserver() { # key cert cakey cacert
    newkey "$1"
    run req -new -config "$work/openssl.cnf" -key "$1" -subj "/CN=localhost" -out "$work/req.csr"
    serial=0x$(openssl rand -hex 16) || die "openssl rand failed"
    run x509 -req -in "$work/req.csr" -CA "$4" -CAkey "$3" -set_serial "$serial" \
        -days 2 -sha256 -extfile "$work/openssl.cnf" -extensions v3_srv -out "$2"
}

newca "$work/ca.key" "$work/ca.pem" "pam_kakao test CA"
newserver "$work/server.key" "$work/server.pem" "$work/ca.key" "$work/ca.pem"
newca "$work/rogue-ca.key" "$work/rogue-ca.pem" "pam_kakao rogue CA (untrusted)"
newserver "$work/rogue.key" "$work/rogue.pem" "$work/rogue-ca.key" "$work/rogue-ca.pem"

for f in $FILES; do
    mv -f -- "$work/$f" "$dir/$f" || die "cannot move $f into $dir"
done
fix_modes || die "cannot set file modes in $dir"
is_fresh || die "generated certificates do not verify"
exit 0
