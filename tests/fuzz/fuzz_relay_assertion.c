/* The relay kind's assertion check (pk_relay_assertion_check) against a fixed
 * relay_key, relay_url, host and session id. Byte 0: bit 0 picks the input's
 * form, bit 1 leeway (0 or 60), bit 2 max_token_age (off or 600).
 *  - bit 0 clear: the rest is the assertion as the relay would send it
 *    (seeds: valid and near-valid assertions signed with the key below).
 *  - bit 0 set: header JSON, a newline, claims JSON, which the harness signs
 *    with the relay's key, so every input reaches the header and claim rules
 *    behind the signature (as tests/fuzz/fuzz_jwt.c does for app JWTs).
 *
 * Invariants: PK_OK only when an independent reading of the header and
 * claims says docs/DESIGN.md §4.5.1's relay rules hold (alg exactly ES256, typ
 * exactly kakao-pam-login+jwt, iss, aud, nonce, iat and exp within 300 s of
 * it and in force, auth_time within max_token_age, jti, kakao_id equal to
 * the accepted id); the returned outcome is the recorded one; kind relay;
 * details printable; the decision line's user= field cannot be forged. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "fuzz.h"
#include "fuzz_common_auth.h"
#include "jwt_sign.h"
#include "relay_kind.h"

#define ISSUER "https://relay.example"
#define HOST "host.example"
#define NONCE "fuzzSession_0123456789-abcdefghijklmnopqrstu"

/* A throwaway P-256 pair made for this harness only (the seeds in
 * corpus/relay_assertion are signed with it): test data, never a real key. */
static const char relay_priv[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+oEf2M4tPUox4v/l\n"
    "q8wOH+YKqrKZDM4G+HH9SSXjeU6hRANCAARkePMU/SGDHY8dJiABdhfbKeRZkct4\n"
    "D5QOANZQCZmaqY8GlCzGe74AcIZDlSjigZH6jS9xgXVyBNQcdg1ekFv2\n"
    "-----END PRIVATE KEY-----\n";
static const char relay_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                                "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZHjzFP0hgx2PHSYgAXYX2ynkWZHL\n"
                                "eA+UDgDWUAmZmqmPBpQsxnu+AHCGQ5Uo4oGR+o0vcYF1cgTUHHYNXpBb9g==\n"
                                "-----END PUBLIC KEY-----\n";

static struct evp_pkey_st *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char problem[256];

    (void)argc;
    (void)argv;
    if (pk_relay_key_parse(relay_pub, strlen(relay_pub), &key, problem, sizeof(problem)) !=
        PK_ST_OK) {
        fprintf(stderr, "relay_key: %s\n", problem);
        abort();
    }
    return 0;
}

/* Segment i (0: header, 1: claims) of an accepted assertion as JSON. */
static json_t *segment(const char *tok, int i)
{
    const char *start = tok, *end;
    unsigned char *raw = NULL;
    size_t raw_len;
    json_t *j;

    for (int k = 0; k < i; k++)
        start = strchr(start, '.') + 1;
    end = strchr(start, '.');
    PK_FUZZ_CHECK(end != NULL, "accepted a token with fewer than three segments");
    PK_FUZZ_CHECK(pk_b64url_decode(start, (size_t)(end - start), &raw, &raw_len) == PK_ST_OK,
                  "accepted a segment that is not base64url");
    j = json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    PK_FUZZ_CHECK(json_is_object(j), "accepted a segment that is not a JSON object");
    return j;
}

static long long integer(json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    PK_FUZZ_CHECK(json_is_integer(v), "accepted without an integer iat, exp or auth_time");
    return json_integer_value(v);
}

static void oracle(const char *tok, const struct pk_relay_expect *want, int64_t id)
{
    json_t *hdr = segment(tok, 0), *claims = segment(tok, 1), *v;
    long long iat = integer(claims, "iat"), exp = integer(claims, "exp"),
              auth_time = integer(claims, "auth_time"), now = (long long)want->now;

    v = json_object_get(hdr, "alg");
    PK_FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), "ES256") == 0,
                  "accepted an alg other than ES256");
    v = json_object_get(hdr, "typ");
    PK_FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), PK_RELAY_TYP) == 0,
                  "accepted a typ other than kakao-pam-login+jwt");
    PK_FUZZ_CHECK(json_object_get(hdr, "crit") == NULL, "accepted a crit header");
    v = json_object_get(claims, "iss");
    PK_FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), ISSUER) == 0,
                  "accepted another issuer");
    v = json_object_get(claims, "nonce");
    PK_FUZZ_CHECK(json_is_string(v) && json_string_length(v) == strlen(NONCE) &&
                      memcmp(json_string_value(v), NONCE, strlen(NONCE)) == 0,
                  "accepted another session's assertion");
    v = json_object_get(claims, "aud");
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        bool found = false;
        json_array_foreach(v, i, e) if (json_is_string(e) &&
                                        strcmp(json_string_value(e), HOST) == 0) found = true;
        PK_FUZZ_CHECK(found, "accepted an audience list without this host");
    } else {
        PK_FUZZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), HOST) == 0,
                      "accepted another host");
    }
    PK_FUZZ_CHECK(exp >= iat && exp - iat <= PK_RELAY_ASSERTION_MAX_TTL,
                  "accepted an assertion living longer than 300 s");
    PK_FUZZ_CHECK(now < exp + want->leeway, "accepted an expired assertion");
    PK_FUZZ_CHECK(want->max_token_age == 0 || auth_time >= now - want->max_token_age - want->leeway,
                  "accepted a Kakao login older than max_token_age");
    v = json_object_get(claims, "jti");
    PK_FUZZ_CHECK(json_is_string(v) && json_string_length(v) > 0, "accepted without a jti");
    v = json_object_get(claims, "kakao_id");
    PK_FUZZ_CHECK((json_is_integer(v) && json_integer_value(v) == id) ||
                      (json_is_string(v) && strtoll(json_string_value(v), NULL, 10) == id),
                  "accepted id differs from kakao_id");
    PK_FUZZ_CHECK(id > 0, "accepted a non-positive id");
    json_decref(hdr);
    json_decref(claims);
}

/* bit 0 set: "header\nclaims" signed here; NULL when libjwt refuses. */
static char *signed_input(const char *text)
{
    const char *nl = strchr(text, '\n');
    char *hdr, *tok, err[256];

    if (nl == NULL)
        return NULL;
    hdr = strndup(text, (size_t)(nl - text));
    if (hdr == NULL)
        return NULL;
    tok = pk_jwt_sign(hdr, nl + 1, PK_ALG_ES256, (const unsigned char *)relay_priv,
                      strlen(relay_priv), err, sizeof(err));
    free(hdr);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pk_relay_expect want = {ISSUER, HOST, NONCE, strlen(NONCE), PK_FUZZ_NOW, 0, 0};
    struct pk_result res;
    enum pk_outcome out;
    char *text, *tok, user[25];

    if (size == 0)
        return 0;
    want.leeway = (data[0] & 2) != 0 ? 60 : 0;
    want.max_token_age = (data[0] & 4) != 0 ? 600 : 0;
    text = strndup((const char *)data + 1, size - 1); /* up to a NUL, as PAM hands it */
    if (text == NULL)
        return 0;
    tok = (data[0] & 1) != 0 ? signed_input(text) : text;
    if (tok == NULL) {
        free(text);
        return 0;
    }
    memset(&res, 0, sizeof(res));
    out = pk_relay_assertion_check(&want, key, tok, &res);
    pk_fuzz_trace(out, res.detail);
    PK_FUZZ_CHECK(out == res.outcome, "returned outcome differs from the recorded one");
    PK_FUZZ_CHECK(res.kind == PK_KIND_RELAY, "kind not relay");
    PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "detail not printable");
    PK_FUZZ_CHECK(out == PK_OK || res.kakao_id == 0, "refused but an id is set");
    if (out == PK_OK)
        oracle(tok, &want, res.kakao_id);
    pk_fuzz_user(data, size, user);
    pk_fuzz_check_decision(&res, user);
    if (tok != text)
        free(tok);
    free(text);
    return 0;
}
