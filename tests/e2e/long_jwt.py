#!/usr/bin/env python3
"""Prints a valid HS256 app JWT longer than the OpenSSH client passes on.

usage: long_jwt.py KEYFILE KAKAO_ID

`kakao-pam mint` caps iss/aud, so this pads a "note" claim until
"header.payload." is 1000 or 1001 characters: the whole token is about 1044,
and the client's cut at 1023 lands inside the 43-character signature. The key file is the HMAC
secret as the module reads it (its bytes less one trailing newline).
"""

import base64
import hashlib
import hmac
import json
import sys
import time

PREFIX_LEN = 1000


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        key = f.read()
    if key.endswith(b"\n"):
        key = key[:-1]
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    for pad in range(1000):
        claims = {"kakao_id": int(sys.argv[2]), "iat": now, "exp": now + 300, "note": "x" * pad}
        payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = header + "." + payload
        if len(signing_input) + 1 >= PREFIX_LEN:
            break
    else:
        print("long_jwt.py: no padding gives the wanted length", file=sys.stderr)
        return 1
    sig = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    print(signing_input + "." + b64url(sig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
