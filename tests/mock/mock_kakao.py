#!/usr/bin/env python3
"""Mock of the Kakao REST API (kapi.kakao.com) for pam_kakao tests.

Python 3 standard library only. Listens on 127.0.0.1 only, on ephemeral ports,
and always stops by itself (--lifetime, --parent-pid, SIGTERM/SIGINT).
See tests/mock/README.md for usage, the fixture table and the request log.

To add a fixture: add a line to FIXTURES. To add an endpoint (JWKS, OAuth):
write a handler `def h(req) -> Resp | Fault` and add it to ROUTES.
"""

import argparse
import base64
import collections
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
import urllib.parse
from urllib.parse import urlsplit

JSON_CT = "application/json;charset=UTF-8"
HTML_CT = "text/html;charset=UTF-8"

OUR_APP_ID = 1234567
OTHER_APP_ID = 7654321
ALICE_ID = 3095134389
BOB_ID = 1122334455

# The module refuses any other token shape before it touches the network.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,512}")


# --------------------------------------------------------------------------
# Response descriptions


class Resp:
    """A fixed response: status, body bytes, content type, extra headers."""

    def __init__(self, status, body=b"", ctype=JSON_CT, headers=(), keep_alive=False):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.ctype = ctype
        self.headers = tuple(headers)
        self.keep_alive = keep_alive  # the connection stays open for another request


class Fault:
    """A misbehaving response, carried out by Handler.run_fault()."""

    def __init__(self, kind):
        self.kind = kind  # "hang", "drip", "huge", "redirect", "slow"


def js(obj, status=200):
    return Resp(status, json.dumps(obj, separators=(",", ":")))


def raw(text, status=200, ctype=JSON_CT):
    return Resp(status, text, ctype)


def kerr(status, code, msg):
    return js({"msg": msg, "code": code}, status)


def info(uid=ALICE_ID, expires_in=21599, app_id=OUR_APP_ID):
    return js({"id": uid, "expires_in": expires_in, "app_id": app_id})


def user(uid, nickname, email=None, valid=True, verified=True):
    """A /v2/user/me body. email=None: the user did not consent to email."""
    account = {
        "profile_nickname_needs_agreement": False,
        "profile_image_needs_agreement": False,
        "profile": {
            "nickname": nickname,
            "thumbnail_image_url": "https://img.example.invalid/%d_110x110.jpg" % uid,
            "profile_image_url": "https://img.example.invalid/%d_640x640.jpg" % uid,
            "is_default_image": True,
        },
        "has_email": True,
        "email_needs_agreement": email is None,
    }
    if email is not None:
        account.update(is_email_valid=valid, is_email_verified=verified, email=email)
    return js({
        "id": uid,
        "connected_at": "2023-10-13T02:07:02Z",
        "properties": {
            "nickname": nickname,
            "profile_image": "https://img.example.invalid/%d_640x640.jpg" % uid,
            "thumbnail_image": "https://img.example.invalid/%d_110x110.jpg" % uid,
        },
        "kakao_account": account,
    })


NOT_EXIST = kerr(401, -401, "this access token does not exist")
EXPIRED = kerr(401, -401, "this access token is already expired")
NOT_FOUND = kerr(404, -1, "not found")
HANG, DRIP, HUGE, REDIRECT = Fault("hang"), Fault("drip"), Fault("huge"), Fault("redirect")


class Fixture:
    """info: answer of /v1/user/access_token_info; me: answer of /v2/user/me
    (defaults to the same as info, which suits errors and faults)."""

    def __init__(self, note, info, me=None):
        self.note = note
        self.info = info
        self.me = me if me is not None else info


# --------------------------------------------------------------------------
# THE FIXTURE TABLE. Tests hard-code these token strings; keep them stable.

FIXTURES = {
    # valid tokens of our app (1234567)
    "mockValidAliceToken_0001": Fixture(
        "valid, id 3095134389, app 1234567; me: alice@example.com valid+verified",
        info(ALICE_ID), user(ALICE_ID, "Alice", "alice@example.com")),
    "mockValidBobToken_000002": Fixture(
        "valid, id 1122334455, app 1234567; me: bob@example.com valid+verified",
        info(BOB_ID), user(BOB_ID, "Bob", "bob@example.com")),
    "mockOtherAppToken_00003": Fixture(
        "valid but issued to another app: id 3095134389, app_id 7654321",
        info(ALICE_ID, app_id=OTHER_APP_ID), user(ALICE_ID, "Alice", "alice@example.com")),
    "mockExpiredToken_000004": Fixture(
        "401 -401 'this access token is already expired' (both endpoints)", EXPIRED),
    "mockUnknownToken_000005": Fixture(
        "401 -401 'this access token does not exist' (both endpoints)", NOT_EXIST),
    # email variants (token info is valid: id 3095134389, app 1234567)
    "mockNoEmailToken_000006": Fixture(
        "valid; me: no email field, email_needs_agreement true",
        info(ALICE_ID), user(ALICE_ID, "Alice", None)),
    "mockUnverifiedEmail_0007": Fixture(
        "valid; me: email present, is_email_valid true, is_email_verified false",
        info(ALICE_ID), user(ALICE_ID, "Alice", "alice@example.com", verified=False)),
    "mockInvalidEmail_000008": Fixture(
        "valid; me: email present, is_email_valid false, is_email_verified true",
        info(ALICE_ID), user(ALICE_ID, "Alice", "alice@example.com", valid=False)),
    # odd token-info bodies (HTTP 200)
    "mockZeroId_00000000009": Fixture("200, id 0", info(0)),
    "mockNegativeId_0000010": Fixture("200, id -5", info(-5)),
    "mockStringId_000000011": Fixture('200, id "3095134389" (a string)', info("3095134389")),
    "mockMissingAppId_00012": Fixture(
        "200, no app_id", js({"id": ALICE_ID, "expires_in": 21599})),
    "mockZeroExpiry_000013": Fixture("200, expires_in 0", info(expires_in=0)),
    "mockFloatId_0000000014": Fixture(
        "200, id 3095134389.0 (a float)",
        raw('{"id":3095134389.0,"expires_in":21599,"app_id":1234567}')),
    # faults
    "mockFaultHang_00000020": Fixture(
        "reads the request, never answers (until lifetime ends or client leaves)", HANG),
    "mockFaultDrip_00000021": Fixture(
        "200 headers with Content-Length 200, then the JSON body at 1 byte/s", DRIP),
    "mockFault500_000000022": Fixture(
        "500 with an HTML body",
        raw("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, HTML_CT)),
    "mockFault429_000000023": Fixture(
        "429 -10 'API limit has been exceeded.'", kerr(429, -10, "API limit has been exceeded.")),
    "mockFaultNotJson_000024": Fixture(
        "200, body '<html>not json</html>' (Content-Type still JSON)",
        raw("<html>not json</html>")),
    "mockFaultHuge_00000025": Fixture(
        "200, 20 MiB JSON-ish body streamed in chunks, Content-Length set", HUGE),
    "mockFaultRedirect_0026": Fixture(
        "302 Location: https://127.0.0.1:<port><same path>?redirected=1", REDIRECT),
    "mockFaultMaint7_000027": Fixture(
        "400 -7 'service maintenance'", kerr(400, -7, "service maintenance")),
    "mockFaultMaint9798_28": Fixture(
        "503 -9798 'service maintenance'", kerr(503, -9798, "service maintenance")),
    "mockForbidden_0000029": Fixture("403 -5 'no permission'", kerr(403, -5, "no permission")),
    "mockBadParam_00000030": Fixture("400 -2 'bad parameter'", kerr(400, -2, "bad parameter")),
    "mockNotLinked_00000031": Fixture(
        "400 -101 'user not linked'", kerr(400, -101, "user not linked")),
    "mockEmpty200_0000032": Fixture("200, empty body", raw("")),
    "mockArrayBody_000033": Fixture("200, body []", raw("[]")),
    "mockDupKeys_000000034": Fixture(
        "200, duplicated key: id 3095134389 then id 1122334455",
        raw('{"id":3095134389,"id":1122334455,"expires_in":100,"app_id":1234567}')),
    "mockNegExpiry_0000035": Fixture("200, expires_in -1", info(expires_in=-1)),
    "mockBoolId_00000000036": Fixture("200, id true", info(True)),
    "mockHugeId_000000037": Fixture(
        "200, id 99999999999999999999 (beyond int64)",
        raw('{"id":99999999999999999999,"expires_in":21599,"app_id":1234567}')),
    # a msg that tries to forge log fields: a quote, a backslash, a newline
    "mockForgedMsg_000000038": Fixture(
        "401 -401 msg 'x\" user=root\\ok<LF>accepted kakao kakao_id=1 user=root'",
        kerr(401, -401, 'x" user=root\\ok\naccepted kakao kakao_id=1 user=root')),
}

for _tok in FIXTURES:
    assert TOKEN_RE.fullmatch(_tok), "fixture token of a shape the module refuses: " + _tok


# --------------------------------------------------------------------------
# Routes


class Request:
    def __init__(self, method, path, query, headers, body, listener, port):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers  # email.message.Message (case-insensitive get)
        self.body = body
        self.listener = listener
        self.port = port


def bearer_token(req):
    """The token of a single 'Authorization: Bearer <token>' header, else None."""
    values = req.headers.get_all("Authorization") or []
    if len(values) != 1:
        return None
    parts = values[0].split(" ")
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


def token_endpoint(attr):
    def handler(req):
        tok = bearer_token(req)
        fixture = FIXTURES.get(tok) if tok is not None else None
        if fixture is None:
            return NOT_EXIST
        return getattr(fixture, attr)
    return handler


# --------------------------------------------------------------------------
# OAuth (kauth.kakao.com) for `kakao-pam login`: GET /oauth/authorize answers
# with the redirect a logged-in user's browser would get; POST /oauth/token
# exchanges the code, checking what Kakao checks (client, secret, code once,
# redirect_uri, PKCE S256). Errors have Kakao's shape:
# {"error", "error_description", "error_code": "KOE..."}.


class OAuthClient:
    """user: whose access token the code yields; secret: required client_secret;
    deny: authorize redirects with error=access_denied; token_answer: what the
    token endpoint answers instead (a Resp or a Fault), after the client checks.
    relay: a client of kakao-pam-relay: any absolute http(s) redirect_uri, scope
    must hold openid and a nonce is required; the ID token is really signed
    (RS256, the fixture key) with iss = the mock's own URL, aud = client_id and
    the nonce, except for what id_fault spoils: "nonce", "aud", "iss",
    "expired", "badsig", "kid" (a kid the JWKS does not have) or "old_login"
    (a valid token whose auth_time is an hour ago: a Kakao session that was
    not re-authenticated, for max_token_age)."""

    def __init__(self, note, user=ALICE_ID, secret=None, deny=False, token_answer=None,
                 relay=False, id_fault=None):
        self.note = note
        self.user = user
        self.secret = secret
        self.deny = deny
        self.token_answer = token_answer
        self.relay = relay
        self.id_fault = id_fault


OAUTH_CLIENTS = {
    "mockRestApiKey_public_01": OAuthClient("public client: alice's token"),
    "mockRestApiKey_secret_02": OAuthClient(
        "needs client_secret mockClientSecret_0002: alice's token",
        secret="mockClientSecret_0002"),
    "mockRestApiKey_bob_00003": OAuthClient("public client: bob's token", user=BOB_ID),
    "mockRestApiKey_denied_04": OAuthClient(
        "authorize redirects with error=access_denied", deny=True),
    "mockRestApiKey_5xx_00005": OAuthClient(
        "token endpoint answers 500 (HTML)",
        token_answer=raw("<html><body>500</body></html>", 500, HTML_CT)),
    "mockRestApiKey_hang_0006": OAuthClient("token endpoint never answers", token_answer=HANG),
    "mockRestApiKey_notjs_007": OAuthClient(
        "token endpoint answers 200 with a non-JSON body", token_answer=raw("<html>ok</html>")),
    # kakao-pam-relay's clients: real signatures, the nonce, and one spoilt thing each
    "mockRelayKey_alice_0101": OAuthClient(
        "relay: approves as alice (3095134389), signed ID token", relay=True),
    "mockRelayKey_bob_000102": OAuthClient(
        "relay: approves as bob (1122334455), signed ID token", user=BOB_ID, relay=True),
    "mockRelayKey_secret_103": OAuthClient(
        "relay: needs client_secret mockRelaySecret_0103; approves as alice",
        secret="mockRelaySecret_0103", relay=True),
    "mockRelayKey_deny_00104": OAuthClient(
        "relay: authorize redirects with error=access_denied", deny=True, relay=True),
    "mockRelayKey_nonce_0105": OAuthClient(
        "relay: ID token with another nonce", relay=True, id_fault="nonce"),
    "mockRelayKey_aud_000106": OAuthClient(
        "relay: ID token for another app (aud)", relay=True, id_fault="aud"),
    "mockRelayKey_iss_000107": OAuthClient(
        "relay: ID token with iss https://kauth.kakao.com, not the mock", relay=True,
        id_fault="iss"),
    "mockRelayKey_exp_000108": OAuthClient(
        "relay: ID token expired an hour ago", relay=True, id_fault="expired"),
    "mockRelayKey_sig_000109": OAuthClient(
        "relay: ID token with a broken signature", relay=True, id_fault="badsig"),
    "mockRelayKey_kid_000110": OAuthClient(
        "relay: ID token signed under a kid the JWKS lacks", relay=True, id_fault="kid"),
    "mockRelayKey_5xx_000111": OAuthClient(
        "relay: token endpoint answers 500 (HTML)", relay=True,
        token_answer=raw("<html><body>500</body></html>", 500, HTML_CT)),
    "mockRelayKey_slow_00112": OAuthClient(
        "relay: token endpoint answers 503 only after 10 s", relay=True,
        token_answer=Fault("slow")),
    "mockRelayKey_koe_000113": OAuthClient(
        "relay: token endpoint answers 400 invalid_grant KOE320 (a description "
        "holding mockSecretInDescription)", relay=True,
        token_answer=js({"error": "invalid_grant",
                         "error_description": "authorization code not found for code="
                                              "mockSecretInDescription",
                         "error_code": "KOE320"}, 400)),
    "mockRelayKey_old_000114": OAuthClient(
        "relay: approves as alice, but the Kakao login (auth_time) was an hour ago",
        relay=True, id_fault="old_login"),
}
OAUTH_ACCESS_TOKENS = {ALICE_ID: "mockValidAliceToken_0001", BOB_ID: "mockValidBobToken_000002"}
OAUTH_REDIRECT_RE = re.compile(r"http://(localhost|127\.0\.0\.1):[1-9][0-9]{0,4}/[^?#\s]*")
# A relay's {public_url}/callback: any absolute http(s) URL without query or fragment.
RELAY_REDIRECT_RE = re.compile(r"https?://[^/?#\s]+/[^?#\s]*")
RELAY_SLOW_SECONDS = 10
OAUTH_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
OAUTH_VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
OAUTH_CODES = {}  # code -> dict(client_id, redirect_uri, challenge, scope, user, used)
OAUTH_LOCK = threading.Lock()


def koe(status, error, description, code):
    return js({"error": error, "error_description": description, "error_code": code}, status)


def form_fields(text):
    """One value per name, or None when a name repeats or the text is malformed."""
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        return None
    fields = {}
    for name, value in pairs:
        if name in fields:
            return None
        fields[name] = value
    return fields


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def oauth_authorize(req):
    q = form_fields(req.query)
    if q is None:
        return koe(400, "invalid_request", "malformed or repeated parameter", "KOE002")
    client = OAUTH_CLIENTS.get(q.get("client_id", ""))
    if q.get("response_type") != "code":
        return koe(400, "unsupported_response_type", "response_type must be code", "KOE002")
    if client is None:
        return koe(401, "invalid_client", "unknown client_id", "KOE101")
    redirect_uri = q.get("redirect_uri", "")
    redirect_re = RELAY_REDIRECT_RE if client.relay else OAUTH_REDIRECT_RE
    if not redirect_re.fullmatch(redirect_uri):
        return koe(400, "invalid_request", "redirect_uri not registered", "KOE006")
    if client.relay and ("openid" not in re.split(r"[ ,]", q.get("scope", "")) or
                         not q.get("nonce")):
        return koe(400, "invalid_request", "relay clients need scope openid and a nonce",
                   "KOE205")
    if not q.get("state"):
        return koe(400, "invalid_request", "state is required by this mock", "KOE002")
    if q.get("code_challenge_method") != "S256" or \
            not OAUTH_CHALLENGE_RE.fullmatch(q.get("code_challenge", "")):
        return koe(400, "invalid_request", "PKCE S256 code_challenge required", "KOE002")
    sep = "&" if "?" in redirect_uri else "?"
    if client.deny:
        answer = {"error": "access_denied", "error_description": "User denied access",
                  "state": q["state"]}
    else:
        code = "mockCode_" + secrets.token_urlsafe(24)
        with OAUTH_LOCK:
            OAUTH_CODES[code] = {"client_id": q["client_id"], "redirect_uri": redirect_uri,
                                 "challenge": q["code_challenge"], "scope": q.get("scope", ""),
                                 "user": client.user, "used": False,
                                 "nonce": q.get("nonce"), "iss": mock_issuer(req)}
        answer = {"code": code, "state": q["state"]}
    location = redirect_uri + sep + urllib.parse.urlencode(answer, quote_via=urllib.parse.quote)
    return Resp(302, b"", HTML_CT, (("Location", location),))


def mock_id_token(client_id, user):
    """Kakao's ID token shape (RS256, kid); the signature is not a real one."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": "mockKid"}
    claims = {"iss": "https://kauth.kakao.com", "aud": client_id, "sub": str(user),
              "iat": now, "exp": now + 21600, "auth_time": now, "nickname": "Alice"}
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                     b64url(b"mock signature, not valid" * 10)])


FIXTURE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                           "id_token")
SIGNING_KEY = os.path.join(FIXTURE_DIR, "kakao_test.key")
SIGNING_KID = "3f96980381e451efad0d2ddd30e3d3"  # the kid of tests/fixtures/id_token/jwks.json


def mock_issuer(req):
    """The mock's own base URL as the client named it (Host), the iss of relay ID tokens."""
    host = req.headers.get("Host", "")
    if not re.fullmatch(r"(127\.0\.0\.1|localhost):[0-9]{1,5}", host):
        host = "127.0.0.1:%d" % req.port
    return "https://" + host


def signed_id_token(client_id, client, grant):
    """Kakao's ID token, RS256-signed with the fixture key (openssl), spoilt as
    client.id_fault says."""
    now = int(time.time())
    fault = client.id_fault
    header = {"kid": "mockUnknownKid_0110" if fault == "kid" else SIGNING_KID, "typ": "JWT",
              "alg": "RS256"}
    claims = {"aud": "mockSomeOtherAppKey_0199" if fault == "aud" else client_id,
              "sub": str(grant["user"]),
              "auth_time": now - 3600 if fault == "old_login" else now - 5,
              "iss": "https://kauth.kakao.com" if fault == "iss" else grant["iss"],
              "nickname": "Alice" if grant["user"] == ALICE_ID else "Bob",
              "exp": now - 3600 if fault == "expired" else now + 21600,
              "iat": now - 21600 - 3600 if fault == "expired" else now,
              "nonce": grant["nonce"] + "x" if fault == "nonce" else grant["nonce"]}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", SIGNING_KEY],
                         input=signing_input.encode(), capture_output=True, check=True,
                         timeout=30).stdout
    if fault == "badsig":
        sig = bytes([sig[0] ^ 1]) + sig[1:]
    return signing_input + "." + b64url(sig)


def oauth_token(req):
    ctype = req.headers.get("Content-Type", "")
    if not ctype.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return koe(400, "invalid_request", "form body required", "KOE002")
    try:
        f = form_fields(req.body.decode("utf-8"))
    except UnicodeDecodeError:
        f = None
    if f is None:
        return koe(400, "invalid_request", "malformed or repeated parameter", "KOE002")
    if f.get("grant_type") != "authorization_code":
        return koe(400, "unsupported_grant_type", "grant_type must be authorization_code",
                   "KOE002")
    client = OAUTH_CLIENTS.get(f.get("client_id", ""))
    if client is None:
        return koe(401, "invalid_client", "unknown client_id", "KOE101")
    if client.secret is not None and f.get("client_secret") != client.secret:
        return koe(401, "invalid_client", "Bad client credentials", "KOE010")
    if client.token_answer is not None:
        return client.token_answer
    with OAUTH_LOCK:
        grant = OAUTH_CODES.get(f.get("code", ""))
        first_use = grant is not None and not grant["used"]
        if grant is not None:
            grant["used"] = True
    if grant is None or not first_use:
        return koe(400, "invalid_grant", "authorization code not found or already used",
                   "KOE320")
    if grant["client_id"] != f["client_id"]:
        return koe(400, "invalid_grant", "code issued to another client", "KOE320")
    if grant["redirect_uri"] != f.get("redirect_uri"):
        return koe(400, "invalid_grant", "redirect_uri mismatched", "KOE303")
    verifier = f.get("code_verifier", "")
    if not OAUTH_VERIFIER_RE.fullmatch(verifier) or \
            b64url(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
        return koe(400, "invalid_grant", "code_verifier does not match code_challenge",
                   "KOE320")
    scope = grant["scope"] or "profile_nickname"
    answer = {"access_token": OAUTH_ACCESS_TOKENS[grant["user"]], "token_type": "bearer",
              "refresh_token": "mockRefreshToken_" + secrets.token_urlsafe(16),
              "expires_in": 21599, "scope": scope.replace(",", " "),
              "refresh_token_expires_in": 5183999}
    if client.relay:
        answer["id_token"] = signed_id_token(f["client_id"], client, grant)
        # Like Kakao, keep the connection: a client that keeps it shows up in
        # the request log with the same peer port on its next request.
        resp = js(answer)
        resp.keep_alive = True
        return resp
    if "openid" in re.split(r"[ ,]", scope):
        answer["id_token"] = mock_id_token(f["client_id"], grant["user"])
    return js(answer)


# --------------------------------------------------------------------------
# JWKS (kauth.kakao.com/.well-known/jwks.json) for ID tokens. Without a query:
# the checked-in test set tests/fixtures/id_token/jwks.json. With ?ch=NAME:
# what a test last stored for channel NAME with POST /mock/jwks?ch=NAME (the
# body, served as is with 200), or with POST /mock/jwks?ch=NAME&fault=F a
# fault: hang, 500 (HTML), notjson. Channels let one URL change its answer
# (rotated keys, outages) and keep tests apart; an unknown channel is 404.

JWKS_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                            "id_token", "jwks.json")
JWKS_CHANNEL_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
JWKS_FAULTS = {
    "hang": HANG,
    "500": raw("<html><body><h1>500 Internal Server Error</h1></body></html>", 500, HTML_CT),
    "notjson": raw("<html>not json</html>"),
}
JWKS_CHANNELS = {}  # name -> Resp | Fault
JWKS_LOCK = threading.Lock()


def jwks_get(req):
    q = form_fields(req.query)
    if q is None or set(q) - {"ch"}:
        return kerr(400, -2, "bad parameter")
    if "ch" not in q:
        try:
            with open(JWKS_FIXTURE, "rb") as f:
                return Resp(200, f.read())
        except OSError:
            return kerr(500, -1, "fixture missing")
    with JWKS_LOCK:
        answer = JWKS_CHANNELS.get(q["ch"])
    return answer if answer is not None else kerr(404, -1, "unknown jwks channel")


def jwks_set(req):
    q = form_fields(req.query)
    if q is None or not JWKS_CHANNEL_RE.fullmatch(q.get("ch", "")) or set(q) - {"ch", "fault"}:
        return kerr(400, -2, "bad parameter")
    if "fault" in q:
        answer = JWKS_FAULTS.get(q["fault"])
        if answer is None:
            return kerr(400, -2, "unknown fault")
    else:
        answer = Resp(200, req.body)
    with JWKS_LOCK:
        JWKS_CHANNELS[q["ch"]] = answer
    return js({"ch": q["ch"], "fault": q.get("fault", ""), "body_len": len(req.body)})


# path -> {method: handler(Request) -> Resp | Fault}. A known path with another
# method gets 405; an unknown path 404. Later: "/.well-known/jwks.json",
# "/oauth/authorize", "/oauth/token".
ROUTES = {
    "/v1/user/access_token_info": {"GET": token_endpoint("info")},
    "/v2/user/me": {"GET": token_endpoint("me")},
    "/oauth/authorize": {"GET": oauth_authorize},
    "/oauth/token": {"POST": oauth_token},
    "/.well-known/jwks.json": {"GET": jwks_get},
    "/mock/jwks": {"POST": jwks_set},
}


# --------------------------------------------------------------------------
# Server machinery

STOP = threading.Event()
MAX_REQUEST_BODY = 1 << 20
HUGE_SIZE = 20 * 1024 * 1024
DRIP_SIZE = 200


def drip_body():
    head = '{"id":%d,"expires_in":21599,"app_id":%d,"pad":"' % (ALICE_ID, OUR_APP_ID)
    return (head + "x" * (DRIP_SIZE - len(head) - 2) + '"}').encode()


class RequestLog:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8")

    def write(self, record):
        line = json.dumps(record, sort_keys=False) + "\n"
        with self.lock:
            if self.f is not None:
                self.f.write(line)
                self.f.flush()

    def close(self):
        with self.lock:
            if self.f is not None:
                self.f.close()
                self.f = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-kakao/1"
    sys_version = ""
    timeout = 30  # reading the request
    # TCP_NODELAY, as real servers set it: headers and body go out in two
    # writes, and on a kept connection Nagle's algorithm would hold the body
    # until the client's delayed ACK (about 40 ms per request).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # quiet
        pass

    def version_string(self):
        return self.server_version

    def handle(self):
        try:
            super().handle()
        except OSError:  # client went away, TLS error, timeout
            self.close_connection = True

    def _dispatch(self):
        self.close_connection = True
        split = urlsplit(self.path)
        body = b""
        length = self.headers.get("Content-Length")
        if length is not None:
            if not length.isdigit():
                self.send_error(400, "bad Content-Length")
                return
            body = self.rfile.read(min(int(length), MAX_REQUEST_BODY))
        headers = {}
        for name, value in self.headers.items():
            if name in headers:
                prev = headers[name]
                headers[name] = (prev if isinstance(prev, list) else [prev]) + [value]
            else:
                headers[name] = value
        req = Request(self.command, split.path, split.query, self.headers, body,
                      self.server.name, self.server.server_address[1])
        self.server.reqlog.write({
            "method": self.command,
            "path": split.path,
            "query": split.query,
            "headers": headers,
            "body_len": len(body),
            "peer": "%s:%d" % self.client_address[:2],
            "listener": self.server.name,
        })
        route = ROUTES.get(split.path)
        if route is None:
            resp = NOT_FOUND
        elif self.command not in route:
            resp = kerr(405, -1, "method not allowed")
            resp.headers = (("Allow", ", ".join(sorted(route))),)
        else:
            resp = route[self.command](req)
        if isinstance(resp, Fault):
            self.run_fault(resp, req)
        else:
            self.send(resp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _dispatch

    def send_head(self, status, ctype, length, headers=(), keep_alive=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "keep-alive" if keep_alive else "close")
        self.close_connection = not keep_alive
        self.end_headers()
        self.wfile.flush()

    def send(self, resp):
        self.send_head(resp.status, resp.ctype, len(resp.body), resp.headers, resp.keep_alive)
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)
            self.wfile.flush()

    def run_fault(self, fault, req):
        if fault.kind == "redirect":
            location = "https://127.0.0.1:%d%s?redirected=1" % (req.port, req.path)
            self.send(Resp(302, b"", JSON_CT, (("Location", location),)))
        elif fault.kind == "hang":
            self.hang()
        elif fault.kind == "slow":
            if not STOP.wait(RELAY_SLOW_SECONDS):
                self.send(kerr(503, -9798, "service maintenance"))
        elif fault.kind == "drip":
            body = drip_body()
            self.send_head(200, JSON_CT, len(body))
            for i in range(len(body)):
                if i and STOP.wait(1.0):
                    return
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
        elif fault.kind == "huge":
            head = b'{"id":%d,"expires_in":21599,"app_id":%d,"pad":"' % (ALICE_ID, OUR_APP_ID)
            tail = b'"}'
            self.send_head(200, JSON_CT, HUGE_SIZE)
            self.wfile.write(head)
            left = HUGE_SIZE - len(head) - len(tail)
            chunk = b"x" * 65536
            while left > 0 and not STOP.is_set():
                n = min(left, len(chunk))
                self.wfile.write(chunk[:n])
                left -= n
            if left == 0:
                self.wfile.write(tail)
                self.wfile.flush()
        else:
            raise ValueError("unknown fault " + fault.kind)

    def hang(self):
        """Say nothing until the lifetime ends or the client hangs up."""
        conn = self.connection
        conn.settimeout(0.5)
        while not STOP.is_set():
            try:
                data = conn.recv(1)
            except (socket.timeout, TimeoutError):
                continue
            except (OSError, ValueError):
                return
            if not data:
                return


class TLSServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, name, certfile, keyfile, reqlog):
        self.name = name
        self.reqlog = reqlog
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            self.ctx.load_cert_chain(certfile, keyfile)
        except (OSError, ssl.SSLError) as e:
            raise RuntimeError("cannot load %s / %s: %s" % (certfile, keyfile, e)) from None
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a
        # client that stalls in the handshake blocks nobody.
        try:
            request.settimeout(10)
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):  # quiet
        pass


def hang_listener_loop(sock):
    """Accept and hold connections, never sending a byte."""
    held = collections.deque()
    sock.settimeout(0.5)
    while not STOP.is_set():
        try:
            conn, _ = sock.accept()
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            if STOP.wait(0.1):
                break
            continue
        held.append(conn)
        while len(held) > 256:
            held.popleft().close()


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 2:][:1]
        if state in ("Z", "X"):  # dead, not yet reaped
            return False
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        pass
    return True


def start_thread(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def parse_args(argv):
    p = argparse.ArgumentParser(prog="mock_kakao.py", description="Mock Kakao REST API for tests")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--port-file")
    p.add_argument("--rogue-cert")
    p.add_argument("--rogue-key")
    p.add_argument("--rogue-port-file")
    p.add_argument("--hang-port-file")
    p.add_argument("--closed-port-file")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=900.0)
    p.add_argument("--parent-pid", type=int)
    p.add_argument("--list-fixtures", action="store_true",
                   help="print the fixture table (markdown) and exit")
    args = p.parse_args(argv)
    if args.list_fixtures:
        return args
    missing = [o for o in ("cert", "key", "port_file", "log") if getattr(args, o) is None]
    if missing:
        p.error("missing " + ", ".join("--" + o.replace("_", "-") for o in missing))
    rogue = [args.rogue_cert, args.rogue_key, args.rogue_port_file]
    if any(rogue) and not all(rogue):
        p.error("--rogue-cert, --rogue-key and --rogue-port-file go together")
    if not 0 < args.lifetime <= 86400:
        p.error("--lifetime must be in (0, 86400]")
    if args.parent_pid is not None and args.parent_pid <= 0:
        p.error("--parent-pid must be positive")
    return args


def list_fixtures():
    print("| token | behaviour |")
    print("|---|---|")
    for tok, fx in FIXTURES.items():
        print("| `%s` | %s |" % (tok, fx.note))


def main(argv):
    args = parse_args(argv)
    if args.list_fixtures:
        try:
            list_fixtures()
            sys.stdout.flush()
        except BrokenPipeError:
            os._exit(0)
        return 0
    deadline = time.monotonic() + args.lifetime
    keep = []  # sockets that must stay open
    try:
        if args.parent_pid is not None and not pid_alive(args.parent_pid):
            raise RuntimeError("parent pid %d does not exist" % args.parent_pid)
        reqlog = RequestLog(args.log)
        main_srv = TLSServer("main", args.cert, args.key, reqlog)
        servers = [main_srv]
        port_files = []
        if args.rogue_cert:
            rogue_srv = TLSServer("rogue", args.rogue_cert, args.rogue_key, reqlog)
            servers.append(rogue_srv)
            port_files.append((args.rogue_port_file, rogue_srv.server_address[1]))
        if args.hang_port_file:
            hs = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            hs.bind(("127.0.0.1", 0))
            hs.listen(128)
            keep.append(hs)
            port_files.append((args.hang_port_file, hs.getsockname()[1]))
            start_thread(hang_listener_loop, hs)
        if args.closed_port_file:
            # Bound but never listening: connections are refused, and no other
            # process can take the port while the mock runs.
            cs = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            cs.bind(("127.0.0.1", 0))
            keep.append(cs)
            port_files.append((args.closed_port_file, cs.getsockname()[1]))
        for srv in servers:
            start_thread(srv.serve_forever, 0.25)
        # Auxiliary port files first: once the main one exists, all do.
        for path, port in port_files:
            write_port_file(path, port)
        write_port_file(args.port_file, main_srv.server_address[1])
    except Exception as e:  # startup failure: one line, exit 2
        print("mock_kakao.py: startup failed: %s" % e, file=sys.stderr)
        sys.stderr.flush()
        os._exit(2)

    def on_signal(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    while not STOP.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        STOP.wait(min(0.5, remaining))
        if args.parent_pid is not None and not pid_alive(args.parent_pid):
            break
    STOP.set()
    reqlog.close()
    # Handler threads are daemons; leave without waiting for any of them.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
